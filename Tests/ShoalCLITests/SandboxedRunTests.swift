import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

/// `shoal run` as root: its jobs in the sandbox, held to their instance type's
/// limits, and failing closed where the sandbox cannot be built.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the sandbox needs root"))
struct SandboxedRunTests {
    func definition(_ script: String, instanceType: String = "ml.m5.large") -> PipelineDefinition {
        PipelineDefinition {
            Step.processing("Job", arguments: ProcessingArguments(
                instanceType: .string(instanceType), instanceCount: 1, imageUri: "sh", entrypoint: ["/bin/sh", "-c", .string(script)], roleArn: "r",
                outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/out", localPath: "/opt/ml/processing/out"))]
            ))
        }
    }

    /// The home's database and the run's own folders are not there for a job.
    @Test func aJobCannotReachTheHomeItRunsFrom() throws {
        let home = try TemporaryHome()
        let database = home.url.appendingPathComponent("shoal.sqlite").path
        let script = """
            if cat \(database) > /dev/null; then echo read > /opt/ml/processing/out/reached; fi
            if ls \(home.url.path)/work > /dev/null; then echo listed >> /opt/ml/processing/out/reached; fi
            id -un > /opt/ml/processing/out/user
            """
        let outcome = try home.shoal(["run", try home.file("p.json", definition(script).jsonText()), "--workers", "1"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let out = home.url.appendingPathComponent("objects/b/out")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("reached").path))
        #expect(try String(contentsOf: out.appendingPathComponent("user"), encoding: .utf8) == "shoal-job\n")
        let log = try home.shoal(["logs", try home.latestExecutionId(), "Job"])
        #expect(log.stdout.contains("No such file or directory"), "\(log.stdout)\(log.stderr)")
    }

    /// The home's instance-limits.json overrides the table: here, a memory
    /// limit the job goes past, which its failure reason names.
    @Test func theHomesInstanceLimitsHoldTheJob() throws {
        let home = try TemporaryHome()
        try Data(#"{"ml.m5.large": {"MemoryMiB": 96}}"#.utf8).write(to: home.url.appendingPathComponent("instance-limits.json"))
        let script = "python3 -c 'x = bytearray(512 << 20)'"
        let outcome = try home.shoal(["run", try home.file("p.json", definition(script).jsonText()), "--workers", "1"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("AlgorithmError: the job went past its memory limit of 96 MiB and was killed"), "\(outcome.stderr)")

        try Data(#"{"ml.m5.large": {"MemoryMiB": "lots"}}"#.utf8).write(to: home.url.appendingPathComponent("instance-limits.json"))
        let refused = try home.shoal(["run", try home.file("p.json", definition("true").jsonText()), "--workers", "1"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("instance-limits.json: $['ml.m5.large'].MemoryMiB must be a whole number from 16 to 16777216, not \"lots\""), "\(refused.stderr)")
    }

    /// A worker that cannot build the sandbox (here: no such job user) fails its
    /// steps, saying what is missing and how to run unsandboxed instead.
    @Test func withoutItsJobUserAStepFailsClosed() throws {
        let home = try TemporaryHome()
        let marker = home.url.appendingPathComponent("ran").path
        let outcome = try home.shoal([
            "run", try home.file("p.json", definition("touch \(marker)").jsonText()), "--workers", "1", "--job-user", "no-such-user",
        ])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("there is no user 'no-such-user' for jobs to run as"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("--unsandboxed"))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// A worker that is not root builds the rootless sandbox (a user namespace
    /// where its user is root): cluster status says so, and its job still sees
    /// nothing of the host but its root, here a file any user of the host may read.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "runs a worker as nobody with setpriv"))
    func aWorkerWithoutRootRunsItsJobsInTheRootlessSandbox() throws {
        let home = try TemporaryHome()
        let bind = "tcp://127.0.0.1:\(try LoopbackListener().port)"
        let api = "tcp://127.0.0.1:\(try LoopbackListener().port)"
        let coordinator = try home.start(["coordinator", "--bind", bind, "--api", api, "--insecure"])
        defer { coordinator.terminate(); coordinator.waitUntilExit() }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-nobody-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        chown(work.path, 65534, 65534)
        let readable = home.url.appendingPathComponent("readable-by-anyone.txt")
        try Data("host file\n".utf8).write(to: readable)
        chmod(readable.path, 0o644)
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        // --fetch-data: the home is root's; this worker, like one on another host, gets its data over the wire.
        worker.arguments = ["--reuid", "65534", "--regid", "65534", "--clear-groups", ShoalProcess.executable.path,
                            "worker", "--connect", bind, "--id", "nobody", "--reconnect", "--fetch-data", "--work-dir", work.path]
        worker.environment = ["PATH": "/usr/bin:/bin", "TMPDIR": work.path]
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        try worker.run()
        defer { worker.terminate(); worker.waitUntilExit() }
        var workers: [[String: Any]] = []
        for _ in 0..<50 where workers.isEmpty {
            usleep(100_000)
            workers = (try? home.json(["cluster", "status", "--coordinator", api]) as? [[String: Any]]) ?? []
        }
        #expect((workers.first?["sandbox"] as? String)?.hasPrefix("sandboxed, rootless (jobs run as uid 65534") == true, "\(workers)")
        let script = """
            if cat \(readable.path); then echo read > /opt/ml/processing/out/reached; fi
            id -u > /opt/ml/processing/out/uid
            grep -c . /proc/self/uid_map > /opt/ml/processing/out/maps
            """
        let outcome = try home.shoal(["run", try home.file("p.json", definition(script).jsonText()), "--coordinator", api])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let out = home.url.appendingPathComponent("objects/b/out")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("reached").path))
        #expect(try String(contentsOf: out.appendingPathComponent("uid"), encoding: .utf8) == "0\n")
        #expect(try String(contentsOf: out.appendingPathComponent("maps"), encoding: .utf8) == "1\n")
    }
}
