import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

/// A job's log on the coordinator's disk: capped, and a full disk fails the
/// step with a sentence instead of crashing `shoal run`.
@Suite(.serialized) struct JobLogTests {
    /// One instance printing `bytes` bytes of `yes` output.
    static func chatty(bytes: Int) throws -> String {
        PipelineDefinition {
            Step.processing("Chatty", arguments: ProcessingArguments(
                instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh",
                entrypoint: ["/bin/sh", "-c", .string("yes 'a line of a chatty job' | head -c \(bytes)")], roleArn: "r"
            ))
        }.jsonText()
    }

    @Test func aLogPastItsCapIsCutWithALineSayingSo() throws {
        let home = try TemporaryHome()
        let run = try home.shoal(["run", try home.file("p.json", try Self.chatty(bytes: 3 << 20)), "--workers", "1", "--max-log-mib", "1"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let id = try home.latestExecutionId()
        let log = home.url.appendingPathComponent("logs/\(id)/Chatty/algo-1-attempt-1.log")
        let data = try Data(contentsOf: log)
        let marker = "\nshoal: this log reached its cap of 1 MiB (--max-log-mib); the rest of the job's output was dropped\n"
        #expect(data.count == (1 << 20) + marker.utf8.count)
        #expect(String(decoding: data.suffix(marker.utf8.count), as: UTF8.self) == marker)
        #expect(String(decoding: data.prefix(24), as: UTF8.self) == "a line of a chatty job\na")
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small filesystem needs root"))
    func aFullDiskUnderTheLogsFailsTheStepNamingIt() throws {
        let home = try TemporaryHome()
        let logs = home.url.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let mount = try ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=2m", "tmpfs", logs.path])
        try #require(mount.status == 0, "\(mount.stderr)")
        defer { _ = try? ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/umount"), ["-l", logs.path]) }

        let run = try home.shoal(["run", try home.file("p.json", try Self.chatty(bytes: 16 << 20)), "--workers", "1"])
        // Exit status 1, not a signal: the run ended and said why.
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        let steps = try home.latestSteps()
        #expect(steps.first?["status"] as? String == "Failed")
        let reason = steps.first?["failureReason"] as? String ?? ""
        #expect(reason.hasPrefix("algo-1: the filesystem holding \(logs.path)/"), "\(reason)")
        #expect(reason.contains("is full: no space left to write the log"), "\(reason)")
        let executions = try home.json(["executions", "list"]) as? [[String: Any]]
        #expect(executions?.first?["status"] as? String == "Failed")
    }
}
