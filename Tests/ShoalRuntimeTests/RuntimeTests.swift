import Foundation
import ShoalRuntime
import ShoalTestSupport
import Testing

@Suite struct ShardAssignmentTests {
    @Test func dealsItemsRoundRobinWithSharesDifferingByAtMostOne() {
        let shares = ShardAssignment.deal(Array(0..<10), among: 4)
        #expect(shares == [[0, 4, 8], [1, 5, 9], [2, 6], [3, 7]])
        #expect(ShardAssignment.deal(["only"], among: 2) == [["only"], []])
    }
}

/// Runs real subprocesses in real sandboxes.
@Suite(.serialized) struct JobRunnerTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-runtime-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func spec(_ script: String, inputs: [ProcessingInstanceSpec.Input] = [], maxRuntime: Int = 60) -> ProcessingInstanceSpec {
        ProcessingInstanceSpec(
            jobName: "job", host: 2, hostCount: 3, instanceType: "ml.m5.large", command: ["/bin/sh", "-c", script],
            environment: ["GREETING": "hello"], inputs: inputs,
            outputs: [.init(name: "out", localPath: "/opt/ml/processing/out")], maxRuntimeSeconds: maxRuntime,
            jobConfigJSON: #"{"ProcessingJobName": "job"}"#
        )
    }

    func run(_ spec: ProcessingInstanceSpec, mode: SandboxMode = .detected) throws -> (InstanceOutcome, String) {
        let log = folder.appendingPathComponent("log-\(UUID().uuidString.prefix(6)).txt").path
        let job = try RunningJob(
            spec: spec, workFolder: folder.appendingPathComponent("work"), logFile: log,
            outputStaging: folder.appendingPathComponent("staged-\(UUID().uuidString.prefix(6))"), mode: mode, termGraceSeconds: 1
        )
        return try job.finish(within: 30)
    }

    @Test func jobSeesContractLayoutAndItsOutputIsStaged() throws {
        let source = folder.appendingPathComponent("data.csv")
        try Data("a,b\n1,2\n".utf8).write(to: source)
        let input = ProcessingInstanceSpec.Input(
            name: "data", localPath: "/opt/ml/processing/input",
            files: [.init(source: source.path, relativePath: "sub/data.csv")]
        )
        let script = """
            cat /opt/ml/config/resourceconfig.json > /opt/ml/processing/out/resource.json
            wc -l < /opt/ml/processing/input/sub/data.csv > /opt/ml/processing/out/lines.txt
            echo "$GREETING" > /opt/ml/processing/out/greeting.txt
            """
        let (outcome, _) = try run(spec(script, inputs: [input]))
        #expect(outcome.status == .completed)
        let staged = try #require(outcome.outputs.first)
        #expect(staged.files == ["greeting.txt", "lines.txt", "resource.json"])
        let resource = try String(contentsOfFile: staged.stagedAt + "/resource.json", encoding: .utf8)
        #expect(resource.contains("\"current_host\":\"algo-2\""))
        #expect(resource.contains("\"hosts\":[\"algo-1\",\"algo-2\",\"algo-3\"]"))
        #expect(try String(contentsOfFile: staged.stagedAt + "/lines.txt", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "2")
    }

    @Test func whatIsNotARegularFileInAnOutputIsLeftOutAndTheLogSaysSo() throws {
        let (outcome, log) = try run(spec("""
            echo kept > /opt/ml/processing/out/real.txt
            ln -s real.txt /opt/ml/processing/out/link
            mkdir -p /opt/ml/processing/out/sub && ln -s /etc/hostname /opt/ml/processing/out/sub/elsewhere
            """))
        #expect(outcome.status == .completed)
        #expect(outcome.outputs.first?.files == ["real.txt"])
        #expect(log.contains("shoal: output 'out': 2 entries that are not regular files were left out (outputs hold regular files; not symbolic links, sockets or devices): link, sub/elsewhere"), "\(log)")
    }

    @Test func unsandboxedPathsAreRewrittenWithAWarning() throws {
        let (outcome, log) = try run(spec("echo \"$GREETING\" > /opt/ml/processing/out/greeting.txt; cat /opt/ml/config/resourceconfig.json > /dev/null"), mode: .unsandboxed)
        #expect(outcome.status == .completed)
        #expect(outcome.outputs.first?.files == ["greeting.txt"])
        #expect(log.contains("shoal: warning: this worker runs jobs UNSANDBOXED (--unsandboxed)"))
    }

    @Test func isolationThatCannotBeHadFailsClosed() throws {
        var isolated = spec("touch /opt/ml/processing/out/ran")
        isolated.networkIsolation = true
        let error = #expect(throws: JobSandbox.StagingFailed.self) { try run(isolated, mode: .unsandboxed) }
        #expect(error?.description.contains("the job was not started") == true)
    }

    /// Where the sandbox cannot be built, no job runs: the reason names what is
    /// missing and the explicit way out.
    @Test func aSandboxThatCannotBeBuiltFailsClosed() throws {
        let marker = folder.appendingPathComponent("ran").path
        let error = #expect(throws: JobSandbox.StagingFailed.self) {
            try run(spec("touch \(marker)"), mode: .unavailable(reason: "no user 'nobody-here' for jobs to run as"))
        }
        #expect(error?.description == "no user 'nobody-here' for jobs to run as; the job was not started (a worker started with --unsandboxed runs jobs without the sandbox)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        let missing = SandboxMode.detect(jobUser: "no-such-user-\(getpid())")
        #expect(missing.refusal?.contains("--unsandboxed") == true)
        if geteuid() == 0 { #expect(missing.refusal?.contains("there is no user 'no-such-user-") == true, "\(missing)") }
    }

    @Test func nonZeroExitFailsWithTheContainersMessage() throws {
        let (outcome, _) = try run(spec("echo 'bad input row 7' > /opt/ml/output/message; exit 3"))
        #expect(outcome.status == .failed)
        #expect(outcome.exitCode == 3)
        #expect(outcome.failureReason == "AlgorithmError: exit code 3: bad input row 7")
        #expect(outcome.outputs.isEmpty)
    }

    @Test func withoutMessageTheLogTailIsTheReason() throws {
        let (outcome, log) = try run(spec("echo first; echo 'Traceback: boom' >&2; exit 1"))
        #expect(outcome.failureReason?.hasPrefix("AlgorithmError: exit code 1: ") == true)
        #expect(outcome.failureReason?.contains("Traceback: boom") == true)
        #expect(log.contains("first"))
    }

    @Test func killedBySignalSaysWhich() throws {
        let (outcome, _) = try run(spec("kill -9 $$"))
        #expect(outcome.failureReason?.hasPrefix("AlgorithmError: killed by signal 9 (SIGKILL)") == true)
    }

    @Test func maxRuntimeStopsTheJobAndItsChildren() throws {
        // Found from the host by a marker in their command line: the job's own
        // folders are gone with it, and in its sandbox it can write nowhere else.
        let marker = "\(30 + Int.random(in: 0..<1000)).\(getpid())"
        let log = folder.appendingPathComponent("runtime.log").path
        let job = try RunningJob(
            spec: spec("sh -c 'exec sleep \(marker)' & sleep \(marker)", maxRuntime: 1), workFolder: folder.appendingPathComponent("work"),
            logFile: log, outputStaging: folder.appendingPathComponent("staged-runtime"), termGraceSeconds: 1
        )
        var sleepers: [Int32] = []
        var outcome: InstanceOutcome?
        let deadline = Date().addingTimeInterval(30)
        while outcome == nil && Date() < deadline {
            if sleepers.count < 2 { sleepers = ProcessTable.running(commandLine: ["sleep", marker]) }
            outcome = job.poll()
            usleep(5_000)
        }
        #expect(outcome?.failureReason == "MaxRuntimeInSeconds (1) exceeded; the job was stopped")
        #expect(sleepers.count == 2, "the job's two sleeps were never seen running")
        let gone = Date().addingTimeInterval(5)
        while Date() < gone && !ProcessTable.running(commandLine: ["sleep", marker]).isEmpty { usleep(10_000) }
        #expect(ProcessTable.running(commandLine: ["sleep", marker]).isEmpty, "a sleep of the job outlived it")
    }

    /// D3: a descendant that left the job's process group and session (setsid
    /// and a double fork) ends with the job, in the job's own PID namespace.
    @Test(.enabled(if: geteuid() == 0, "a PID namespace needs root"))
    func aDetachedDescendantEndsWithTheJob() throws {
        let (outcome, _) = try run(spec("""
            readlink /proc/self/ns/pid > /opt/ml/processing/out/namespace
            setsid sh -c 'sleep 60 & exit 0' < /dev/null > /dev/null 2>&1
            ps -e -o pid= | wc -l > /opt/ml/processing/out/processes
            """))
        #expect(outcome.status == .completed)
        let staged = try #require(outcome.outputs.first?.stagedAt)
        let namespace = try String(contentsOfFile: staged + "/namespace", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(namespace != ProcessTable.ownPIDNamespace)
        // Its /proc shows its own processes only: the init, the shell, the detached sleep, ps.
        let processes = Int(try String(contentsOfFile: staged + "/processes", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect((1...6).contains(processes), "the job saw \(processes) processes")
        #expect(ProcessTable.waitUntilEmpty(pidNamespace: namespace), "the detached sleep outlived the job in \(namespace)")
    }

    /// Unsandboxed (no root), the helper stands in for the PID namespace: a
    /// detached descendant still ends with the job.
    @Test func unsandboxedADetachedDescendantEndsWithTheJob() throws {
        let marker = "\(40 + Int.random(in: 0..<1000)).\(getpid())"
        let (outcome, _) = try run(spec("setsid sh -c 'sleep \(marker) & exit 0' < /dev/null > /dev/null 2>&1; sleep 0.2"), mode: .unsandboxed)
        #expect(outcome.status == .completed)
        #expect(ProcessTable.running(commandLine: ["sleep", marker]).isEmpty, "the detached sleep outlived the job")
    }

    /// ... and when its parent, the worker, dies: every descendant is killed with it.
    @Test func unsandboxedEveryDescendantEndsWithTheWorker() throws {
        let helper = try #require(SandboxMode.helperForTests)
        let marker = "\(40 + Int.random(in: 0..<1000)).\(getpid())"
        // A stand-in worker: starts the helper, then dies by SIGKILL.
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: "/bin/sh")
        worker.arguments = ["-c", "\(helper) --unsandboxed -- sh -c \"setsid sh -c 'sleep \(marker) & exit 0'; sleep \(marker)\" & sleep 0.3; kill -9 $$"]
        try worker.run()
        // Foundation sees the exit only once every descendant let go of its descriptors: bounded.
        let deadline = Date().addingTimeInterval(5)
        while worker.isRunning && Date() < deadline { usleep(10_000) }
        #expect(!worker.isRunning, "a descendant of the job still holds the stand-in worker's descriptors")
        while Date() < deadline && !ProcessTable.running(commandLine: ["sleep", marker]).isEmpty { usleep(10_000) }
        #expect(ProcessTable.running(commandLine: ["sleep", marker]).isEmpty, "a descendant of the job outlived its worker")
    }

    @Test func missingExecutableIsAClearFailure() throws {
        var bad = spec("true")
        bad.command = ["/nonexistent/script.py"]
        // In a mount namespace the shell wrapper reports it; without one, posix_spawn does.
        do {
            let (outcome, _) = try run(bad)
            #expect(outcome.status == .failed)
            #expect(outcome.exitCode == 127)
            #expect(outcome.failureReason?.contains("cannot run /nonexistent/script.py") == true)
        } catch let error as ChildProcess.SpawnFailed {
            #expect(error.description.contains("/nonexistent/script.py"))
        }
    }
}

@Suite(.serialized) struct FunctionProcessTests {
    func start(_ code: String, handler: String = "fn.handler") throws -> (FunctionProcess, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-fn-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(code.utf8).write(to: folder.appendingPathComponent("fn.py"))
        let log = folder.appendingPathComponent("fn.log").path
        return (try FunctionProcess(codeFolder: folder.path, handler: handler, logFile: log), log)
    }

    func next(_ process: FunctionProcess) -> FunctionProcess.Reply? {
        for _ in 0..<2000 {
            if let reply = process.readReply() { return reply }
            usleep(5_000)
        }
        return nil
    }

    @Test func handlerLoadsOnceAndServesManyEvents() throws {
        let (process, log) = try start("""
            import os
            loads = 0
            loads += 1
            def handler(event, context):
                print("handling", event["n"])
                return {"n": event["n"] * 2, "pid": os.getpid(), "loads": loads}
            """)
        #expect(next(process) == .ready)
        var pids = Set<Int>()
        for n in 1...3 {
            try process.invoke(event: Data("{\"n\": \(n)}".utf8))
            guard case let .result(data)? = next(process) else { Issue.record("no result"); return }
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Int])
            #expect(object["n"] == n * 2)
            #expect(object["loads"] == 1)
            pids.insert(object["pid"]!)
        }
        #expect(pids.count == 1, "one warm process served every event")
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("handling 3"))
    }

    @Test func exceptionBecomesTheFailureAndTracebackGoesToTheLog() throws {
        let (process, log) = try start("def handler(event, context):\n    raise ValueError('no rows for ' + event['d'])\n")
        #expect(next(process) == .ready)
        try process.invoke(event: Data(#"{"d": "abalone"}"#.utf8))
        #expect(next(process) == .failed(message: "ValueError: no rows for abalone"))
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("Traceback"))
    }

    /// Python writes 10**400 as an integer JSON readers cannot hold: the failure says so.
    @Test func aNumberTooLargeForJSONIsNamedAsSuch() throws {
        let (process, _) = try start("def handler(event, context):\n    return {'big': 10**400}\n")
        #expect(next(process) == .ready)
        try process.invoke(event: Data("{}".utf8))
        guard case let .failed(message)? = next(process) else { Issue.record("expected a failure"); return }
        #expect(message.hasPrefix("the handler returned a result holding a number too large for JSON readers"), "\(message)")
    }

    @Test func missingHandlerFailsToLoad() throws {
        let (process, _) = try start("x = 1\n", handler: "fn.nope")
        guard case let .loadFailed(message)? = next(process) else { Issue.record("expected a load failure"); return }
        #expect(message.contains("cannot load handler fn.nope"))
    }
}

/// Which input folders a job gets under an overlay: all, except where an
/// output folder and an input folder nest (outputs must land in the sandbox).
@Suite struct SandboxOverlayTests {
    @Test func inputFoldersAreOverlaidUnlessTheyNestWithAnOutput() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-overlay-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = ProcessingInstanceSpec(
            jobName: "job", host: 1, hostCount: 1, instanceType: "ml.m5.large", command: ["/bin/true"], environment: [:],
            inputs: [
                .init(name: "data", localPath: "/opt/ml/processing/input/data", files: []),
                .init(name: "code", localPath: "/opt/ml/processing/input/data/code", files: []),
                .init(name: "holds-output", localPath: "/opt/ml/processing/mixed", files: []),
                .init(name: "in-output", localPath: "/opt/ml/processing/out/ref", files: []),
            ],
            outputs: [.init(name: "out", localPath: "/opt/ml/processing/out"), .init(name: "m", localPath: "/opt/ml/processing/mixed/result")],
            maxRuntimeSeconds: 60, jobConfigJSON: "{}"
        )
        let sandbox = try JobSandbox.create(for: spec, in: folder)
        defer { sandbox.remove() }
        let arguments = try sandbox.overlayArguments(for: spec)
        let targets = stride(from: 0, to: arguments.count, by: 5).map { arguments[$0 + 1] }
        // Parents before the inputs nested in them, so the nested overlay goes on top.
        #expect(targets == ["/opt/ml/processing/input/data", "/opt/ml/processing/input/data/code"])
        #expect(arguments.enumerated().allSatisfy { $0.offset % 5 != 0 || $0.element == "--overlay" })
        // Upper and work folders exist, beside the sandbox rather than in it.
        #expect(FileManager.default.fileExists(atPath: arguments[3]))
        #expect(!arguments[3].hasPrefix(sandbox.root.path + "/"))
        sandbox.remove()
        #expect(!FileManager.default.fileExists(atPath: arguments[3]))
    }
}
