import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

/// What a killed `shoal run` or worker leaves behind is removed by the next
/// start: the run's socket folder in /tmp, the worker's job sandboxes and
/// transfers. What belongs to a live process is left alone.
@Suite(.serialized) struct LeftoverTests {
    /// A folder named as a run's socket folder, owned by `pid`.
    static func socketFolder(ownedBy pid: Int32) throws -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let folder = "/tmp/shoal-" + String((0..<6).map { _ in letters.randomElement()! })
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try Data("\(pid)\n".utf8).write(to: URL(fileURLWithPath: folder + "/owner"))
        _ = FileManager.default.createFile(atPath: folder + "/coordinator.sock", contents: nil)
        return folder
    }

    @Test func theNextRunRemovesWhatDeadRunsAndWorkersLeft() throws {
        let home = try TemporaryHome()
        // A process that has ended: its pid names no one now.
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let dead = try Self.socketFolder(ownedBy: ended.processIdentifier)
        let live = try Self.socketFolder(ownedBy: getpid())
        defer { try? FileManager.default.removeItem(atPath: live); try? FileManager.default.removeItem(atPath: dead) }
        let work = home.url.appendingPathComponent("work/local-1")
        for leftover in ["jobs/j-algo-1-0badf00d/output", "transfers/e_s_algo-1_1", "logs"] {
            try FileManager.default.createDirectory(at: work.appendingPathComponent(leftover), withIntermediateDirectories: true)
        }
        let definition = PipelineDefinition { Step.fail("Done", message: "") }
        let run = try home.shoal(["run", try home.file("p.json", definition.jsonText()), "--workers", "1"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dead), "the dead run's socket folder is gone")
        #expect(FileManager.default.fileExists(atPath: live), "a live process's folder stays")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("jobs/j-algo-1-0badf00d").path))
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("transfers/e_s_algo-1_1").path))
    }

    /// Two runs on one home at once: the second's workers take folders the
    /// first's do not hold, and both succeed.
    @Test func twoRunsOnOneHomeAtOnceBothSucceed() throws {
        let home = try TemporaryHome()
        let release = home.url.appendingPathComponent("release").path
        let waiting = PipelineDefinition {
            Step.processing("Wait", arguments: ProcessingArguments(
                instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh",
                entrypoint: ["/bin/sh", "-c", .string("for i in $(seq 400); do [ -e \(release) ] && exit 0; sleep 0.05; done; exit 1")], roleArn: "r"
            ))
        }
        // Unsandboxed: the test releases the job through a file of its own.
        let first = try home.start(["run", try home.file("wait.json", waiting.jsonText()), "--workers", "1", "--unsandboxed"])
        defer { if first.isRunning { first.terminate(); first.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(20)
        while (try? home.latestSteps().first?["status"] as? String) != "Executing" && Date() < deadline { usleep(50_000) }
        let quick = PipelineDefinition { Step.processing("Quick", arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh", entrypoint: ["/bin/true"], roleArn: "r"
        )) }
        let second = try home.shoal(["run", try home.file("quick.json", quick.jsonText()), "--workers", "1"], timeout: 60)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(FileManager.default.fileExists(atPath: home.url.appendingPathComponent("work/local-1.2").path), "the second run's worker took a folder of its own")
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
    }

    @Test func aSecondWorkerOnTheSameWorkFolderIsRefused() throws {
        let home = try TemporaryHome()
        let work = home.url.appendingPathComponent("shared-work").path
        let listener = try LoopbackListener()
        let address = "tcp://127.0.0.1:\(listener.port)"
        let first = try home.start(["worker", "--connect", address, "--id", "first", "--reconnect", "--work-dir", work])
        defer { first.terminate(); first.waitUntilExit() }
        // Wait (bounded) until the first holds the folder's lock: this process cannot take it then.
        let deadline = Date().addingTimeInterval(10)
        var held = false
        while !held && Date() < deadline {
            let descriptor = open(work + "/.worker-lock", O_RDWR | O_CLOEXEC)
            if descriptor >= 0 {
                held = flock(descriptor, LOCK_EX | LOCK_NB) != 0
                close(descriptor)
            }
            if !held { usleep(20_000) }
        }
        #expect(held)
        let second = try home.shoal(["worker", "--connect", address, "--id", "second", "--work-dir", work], timeout: 20)
        #expect(second.status != 0)
        #expect(second.stderr.contains("the work folder \(work) is in use by another worker; give each worker a --work-dir of its own"), "\(second.stderr)")
        #expect(first.isRunning)
    }
}
