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

/// D2: a job that fills the disk the home lives on. The run ends Failed with a
/// sentence naming the full filesystem, what it staged is gone, and the
/// database is intact. Only an unsandboxed job can: a sandboxed one fills its
/// volume, which leaves the disk a reserve.
@Suite(.serialized) struct FullDiskTests {
    /// A job that fills the disk and succeeds (its output is the filler): the
    /// records cannot be written; a job that fills it and fails: its reason says why.
    @Test(.enabled(if: getuid() == 0, "mounting a small filesystem needs root"), arguments: [
        // The pause lets the instance's start be recorded before the disk is full.
        ("sleep 0.5; dd if=/dev/zero of=/opt/ml/processing/out/fill bs=64k 2>/dev/null; exit 0", "the execution's records could not be written"),
        // Either the job's end or a record written while the disk is full says so first.
        ("sleep 0.5; dd if=/dev/zero of=/opt/ml/processing/out/fill bs=64k 2>/dev/null; echo filled", "was full when it ended|the execution's records could not be written"),
    ])
    func aJobFillingTheHomesDiskFailsTheExecutionAndLeavesTheStoreIntact(command: String, saying: String) throws {
        try fill(command: command, saying: saying, worker: ["--unsandboxed"])
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small filesystem needs root"))
    func aSandboxedJobFillsItsVolumeNotTheDisk() throws {
        try fill(command: "dd if=/dev/zero of=/opt/ml/processing/out/fill bs=64k", saying: "VolumeSizeInGB cut to the space free on the worker's disk) was full", worker: [])
    }

    private func fill(command: String, saying: String, worker: [String]) throws {
        let home = try TemporaryHome()
        let mount = try ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=24m", "tmpfs", home.url.path])
        try #require(mount.status == 0, "\(mount.stderr)")
        defer { _ = try? ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/umount"), ["-l", home.url.path]) }
        try Data(TemporaryHome.testImageMap.utf8).write(to: home.url.appendingPathComponent("images.json"))
        let definition = PipelineDefinition {
            Step.processing("Fill", arguments: ProcessingArguments(
                instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh",
                entrypoint: ["/bin/sh", "-c", .string(command)], roleArn: "r",
                outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/out", localPath: "/opt/ml/processing/out"))]
            ))
        }
        let run = try home.shoal(["run", try home.file("p.json", definition.jsonText()), "--workers", "1"] + worker, timeout: 60)
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        #expect(saying.split(separator: "|").contains { (run.stdout + run.stderr).contains($0) }, "\(run.stdout)\n\(run.stderr)")
        #expect((run.stdout + run.stderr).contains(" full"), "\(run.stdout)\n\(run.stderr)")
        let execution = try #require(try home.json(["executions", "list"]) as? [[String: Any]]).first
        #expect(execution?["status"] as? String == "Failed")
        let staged = (FileManager.default.enumerator(atPath: home.url.appendingPathComponent("staging").path)?.allObjects as? [String]) ?? []
        #expect(!staged.contains { $0.hasSuffix("fill") }, "what the job staged is removed: \(staged)")
        let check = try ShoalProcess.run(
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('pragma integrity_check').fetchone()[0])",
             home.url.appendingPathComponent("shoal.sqlite").path]
        )
        #expect(check.stdout == "ok\n", "\(check.stdout)\(check.stderr)")
    }
}
