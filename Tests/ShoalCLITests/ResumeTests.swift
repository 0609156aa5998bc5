import Foundation
import ShoalDefinition
import ShoalStore
import ShoalTestSupport
import Testing

/// `shoal run` killed outright, then `shoal executions resume`: what ended
/// stays ended, what ran runs again, and the execution finishes.
@Suite(.serialized) struct ResumeTests {
    /// First: writes a report (a property file) at once. Check: a condition on it.
    /// Second: sleeps (found by its length), then writes its output.
    func definition(mark: String) -> PipelineDefinition {
        let report = PropertyFile(name: "Report", outputName: "report", filePath: "report.json")
        let first = Step.processing("First", arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh",
            entrypoint: ["/bin/sh", "-c", "echo '{\"rows\": 7}' > /opt/ml/processing/report/report.json"], roleArn: "r",
            outputs: [ProcessingOutput(outputName: "report", s3Output: S3Output(s3Uri: "s3://b/report", localPath: "/opt/ml/processing/report"))]
        ), propertyFiles: [report])
        let second = Step.processing("Second", arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh",
            entrypoint: ["/bin/sh", "-c", .string("sleep \(mark) && echo done > /opt/ml/processing/out/done.txt")], roleArn: "r",
            outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/out", localPath: "/opt/ml/processing/out"))]
        ))
        return PipelineDefinition {
            first
            Step.condition("Check", [.greaterThan(first.jsonGet(report, path: "rows"), 5)]) { second }
        }
    }

    @Test func aKilledRunIsResumedWithoutRedoingWhatEnded() throws {
        let home = try TemporaryHome()
        let mark = "2.\(1000 + Int.random(in: 0..<9000))"
        let path = try home.file("p.json", definition(mark: mark).jsonText())
        let run = try home.start(["run", path, "--workers", "1"])
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(30)
        while ProcessTable.running(commandLine: ["sleep", mark]).isEmpty && Date() < deadline && run.isRunning { usleep(20_000) }
        #expect(!ProcessTable.running(commandLine: ["sleep", mark]).isEmpty, "the second step never started")
        let id = try home.latestExecutionId()

        let early = try home.shoal(["executions", "resume", id, "--workers", "1"])
        #expect(early.status != 0)
        #expect(early.stderr.contains("is not orphaned: its owner is running"), "\(early.stderr)")

        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        let listed = try home.shoal(["executions", "list"])
        #expect(listed.stdout.contains("its process is gone: shoal executions resume \(id)"), "\(listed.stdout)")

        let resumed = try home.shoal(["executions", "resume", id, "--workers", "1"], timeout: 60)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let execution = try #require(try home.json(["executions", "describe", id]) as? [String: Any])
        #expect(execution["status"] as? String == "Succeeded")
        let steps = try home.latestSteps()
        #expect(steps.map { $0["status"] as? String } == ["Succeeded", "Succeeded", "Succeeded"], "\(steps)")
        let attempts = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id)
        // The first step ran once; the second's attempt left running was lost, and a second attempt completed.
        #expect(attempts.filter { $0.stepName == "First" }.map(\.status) == [.completed])
        #expect(attempts.filter { $0.stepName == "Second" }.map { "\($0.attempt) \($0.status)" } == ["1 Lost", "2 Completed"])
        #expect(try String(contentsOf: home.url.appendingPathComponent("objects/b/out/done.txt"), encoding: .utf8) == "done\n")

        let again = try home.shoal(["executions", "resume", id])
        #expect(again.status != 0)
        #expect(again.stderr.contains("is Succeeded; only one left Executing by a process that died can be resumed"), "\(again.stderr)")
    }

    /// A step of three instances killed with two of them completed: resumed,
    /// it commits what those two staged and runs only the third again; a
    /// completed instance whose staged file is gone (as after a crash in the
    /// middle of the step's commit) runs again too.
    @Test func aResumedStepKeepsItsCompletedInstances() throws {
        let home = try TemporaryHome()
        let mark = "3.\(1000 + Int.random(in: 0..<9000))"
        let step = Step.processing("Shards", arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 3, imageUri: "sh",
            entrypoint: ["/bin/sh", "-c", .string(
                "h=$(grep -o 'algo-[0-9]*' /opt/ml/config/resourceconfig.json | head -n 1); "
                    + "if [ $h = algo-3 ]; then sleep \(mark); fi; echo $h > /opt/ml/processing/out/$h.txt"
            )], roleArn: "r",
            outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/shards", localPath: "/opt/ml/processing/out"))]
        ))
        let path = try home.file("p.json", PipelineDefinition { step }.jsonText())
        let run = try home.start(["run", path, "--workers", "3"])
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let id = try waitForAttempts(in: home, completed: 2, of: "Shards", while: run)
        #expect(!ProcessTable.running(commandLine: ["sleep", mark]).isEmpty, "algo-3 is not running")
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        let staged = home.url.appendingPathComponent("staging/\(id)/Shards/algo-2-attempt-1/out/algo-2.txt")
        #expect(FileManager.default.fileExists(atPath: staged.path), "algo-2 staged nothing where it was expected")
        try FileManager.default.removeItem(at: staged)

        let resumed = try home.shoal(["executions", "resume", id, "--workers", "3"], timeout: 60)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let attempts = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id)
        let lines = attempts.sorted { ($0.instance, $0.attempt) < ($1.instance, $1.attempt) }.map { "algo-\($0.instance) \($0.attempt) \($0.status)" }
        #expect(lines == ["algo-1 1 Completed", "algo-2 1 Completed", "algo-2 2 Completed", "algo-3 1 Lost", "algo-3 2 Completed"], "\(lines)")
        for host in 1...3 {
            let text = try String(contentsOf: home.url.appendingPathComponent("objects/b/shards/algo-\(host).txt"), encoding: .utf8)
            #expect(text == "algo-\(host)\n")
        }
        #expect(!FileManager.default.fileExists(atPath: home.url.appendingPathComponent("staging/\(id)").path), "the staged outputs were left behind")
    }

    /// A fan-out of function items killed with two batches answered and one
    /// running: resumed, it keeps the recorded replies and sends again only
    /// the items that had none.
    @Test func aResumedFunctionFanOutKeepsTheRepliesItHad() throws {
        let home = try TemporaryHome()
        // Items from 4 on sleep in the first run; the code the resumed run reads does not.
        let sleepy = "import time\ndef handler(event, context):\n    if event['index'] >= 4:\n        time.sleep(60)\n    return {'twice': event['index'] * 2}\n"
        let quick = "def handler(event, context):\n    return {'twice': event['index'] * 2}\n"
        #expect(try home.shoal(["functions", "create", "--name", "fn", "--script", try home.file("fn.py", sleepy), "--handler", "fn.handler"]).status == 0)
        // 8 items at concurrency 1 go in batches of 2, one batch at a time.
        let map = Step.map(
            "Each", items: .array((0..<8).map { .string("item-\($0)") }),
            work: ("Function", ["FunctionArn": "fn", "OutputParameters": [["OutputName": "twice", "OutputType": "Integer"]]]),
            extra: ["MaxConcurrency": 1, "ResultsS3Uri": "s3://b/results.json"]
        )
        let path = try home.file("p.json", PipelineDefinition { map }.jsonText())
        let run = try home.start(["run", path, "--workers", "1"])
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let id = try waitForAttempts(in: home, completed: 2, of: "Each", while: run)
        // The third batch is under way (recorded, its handler asleep) when the run dies.
        let store = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? store.instances(executionId: id))?.contains(where: { $0.instance == 3 && $0.status == .inProgress }) != true {
            usleep(20_000)
        }
        usleep(200_000)
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        #expect(try home.shoal(["functions", "create", "--name", "fn", "--script", try home.file("fn.py", quick), "--handler", "fn.handler"]).status == 0)

        let resumed = try home.shoal(["executions", "resume", id, "--workers", "1"], timeout: 60)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let attempts = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id)
        let lines = attempts.sorted { ($0.instance, $0.attempt) < ($1.instance, $1.attempt) }.map { "batch-\($0.instance) \($0.attempt) \($0.status)" }
        #expect(lines == ["batch-1 1 Completed", "batch-2 1 Completed", "batch-3 1 Lost", "batch-3 2 Completed", "batch-4 2 Completed"], "\(lines)")
        #expect(attempts.allSatisfy { $0.outcome == nil }, "the kept replies outlived their step")
        let gathered = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: home.url.appendingPathComponent("objects/b/results.json"))) as? [String: Any])
        let results = try #require(gathered["results"] as? [[String: Any]])
        #expect(results.map { $0["index"] as? Int } == Array(0..<8))
        #expect(results.map { ($0["outputs"] as? [String: Int])?["twice"] } == (0..<8).map { $0 * 2 })
        #expect(gathered["succeeded"] as? Int == 8)
    }

    /// The id of the newest execution once `count` attempts of `step` completed.
    private func waitForAttempts(in home: TemporaryHome, completed count: Int, of step: String, while run: Process) throws -> String {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && run.isRunning {
            if let id = try? home.latestExecutionId(),
               let attempts = try? MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id),
               attempts.filter({ $0.stepName == step && $0.status == .completed }).count >= count {
                return id
            }
            usleep(20_000)
        }
        throw TemporaryHome.Unexpected(description: "\(count) attempts of \(step) did not complete within 30 s")
    }

    /// A coordinator killed outright and started again on the same home and
    /// address resumes what it ran; the client following the execution waits
    /// for it and sees it end. A worker holding its jobs (the default) hands
    /// the running instance to the new coordinator: the same process runs on
    /// and its attempt completes. One that does not (`--hold-jobs 0`) stops
    /// it; the new coordinator waits its window for it, then runs it again.
    @Test(arguments: [true, false]) func aRestartedCoordinatorCarriesOnWhatItRan(holding: Bool) throws {
        let home = try TemporaryHome()
        let mark = "4.\(1000 + Int.random(in: 0..<9000))"
        let bind = "tcp://127.0.0.1:\(try LoopbackListener().port)"
        let api = "tcp://127.0.0.1:\(try LoopbackListener().port)"
        let log = home.url.appendingPathComponent("coordinator.log")
        var coordinator = try home.start(["coordinator", "--bind", bind, "--api", api, "--insecure"], standardError: log)
        defer { if coordinator.isRunning { coordinator.terminate(); coordinator.waitUntilExit() } }
        let workerLog = home.url.appendingPathComponent("worker.log")
        let worker = try home.start(
            ["worker", "--connect", bind, "--id", "w", "--slots", "2", "--reconnect", "--work-dir", home.url.appendingPathComponent("work").path]
                + (holding ? [] : ["--hold-jobs", "0"]),
            standardError: workerLog
        )
        defer { worker.terminate(); worker.waitUntilExit() }
        let clientLog = home.url.appendingPathComponent("client.log")
        let client = try home.start(["run", try home.file("p.json", definition(mark: mark).jsonText()), "--coordinator", api], standardError: clientLog)
        defer { if client.isRunning { client.terminate(); client.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(30)
        while ProcessTable.running(commandLine: ["sleep", mark]).isEmpty && Date() < deadline && client.isRunning { usleep(20_000) }
        let sleeper = ProcessTable.running(commandLine: ["sleep", mark])
        #expect(!sleeper.isEmpty, "the second step never started")
        let id = try home.latestExecutionId()

        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()
        coordinator = try home.start(
            ["coordinator", "--bind", bind, "--api", api, "--insecure"] + (holding ? [] : ["--reattach-seconds", "2"]), standardError: log
        )
        if holding {
            usleep(1_500_000)
            #expect(ProcessTable.running(commandLine: ["sleep", mark]) == sleeper, "the job's process did not run on across the restart")
        }
        while client.isRunning && Date() < deadline.addingTimeInterval(30) { usleep(50_000) }
        let said = (try? String(contentsOf: clientLog, encoding: .utf8)) ?? ""
        #expect(!client.isRunning && client.terminationStatus == 0, "\(said)")
        #expect(((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("execution \(id) of p resumed"))
        let workerSaid = (try? String(contentsOf: workerLog, encoding: .utf8)) ?? ""
        let execution = try #require(try home.json(["executions", "describe", id]) as? [String: Any])
        #expect(execution["status"] as? String == "Succeeded")
        let attempts = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id)
        #expect(attempts.filter { $0.stepName == "First" }.count == 1, "the step that had ended ran again")
        let second = attempts.filter { $0.stepName == "Second" }
        #expect(try String(contentsOf: home.url.appendingPathComponent("objects/b/out/done.txt"), encoding: .utf8) == "done\n")
        if holding {
            #expect(workerSaid.contains("connected to the coordinator anew; registering again, holding 1 jobs"), "\(workerSaid)")
            #expect(second.map { "\($0.attempt) \($0.status)" } == ["1 Completed"], "\(second)")
            let jobLog = try home.shoal(["logs", id, "Second"]).stdout
            #expect(jobLog.contains("the coordinator restarted while this instance ran; its worker reported it and it ran on"), "\(jobLog)")
        } else {
            // The worker saw the new connection and registered at once, its job of the dead coordinator stopped.
            #expect(workerSaid.contains("connected to the coordinator anew; registering again; its running tasks were stopped"), "\(workerSaid)")
            #expect(second.map { "\($0.attempt) \($0.status)" } == ["1 Lost", "2 Completed"], "\(second)")
            #expect(second.first?.failureReason?.contains("no worker reported it still running within 2 s") == true, "\(second)")
        }
    }

    /// A fan-out killed with children ended and children running, then resumed:
    /// the ended children are taken back as they ended (not run again), the
    /// running ones are carried on under the same execution ids, and the
    /// gathered results hold each item once.
    @Test func aResumedFanOutTakesBackItsChildren() throws {
        let home = try TemporaryHome()
        let mark = "600.\(1000 + Int.random(in: 0..<9000))"
        // Items 0 and 1 end at once; items 2 and 3 sleep while the flag object says so, as it does until the kill.
        #expect(try home.shoal(["cp", try home.file("sleep.txt", "sleep\n"), "s3://b/flag/mode.txt"]).status == 0)
        let child = PipelineDefinition {
            Parameter(name: "Item", type: .string)
            Parameter(name: "ItemIndex", type: .integer, defaultValue: 0)
            Step.processing("Work", arguments: ProcessingArguments(
                instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh",
                entrypoint: ["/bin/sh", "-c", .join(on: "", values: [
                    .string("if [ "), .parameter("ItemIndex"), .string(" -ge 2 ] && grep -q sleep /opt/ml/processing/flag/mode.txt; then sleep \(mark); fi; echo "),
                    .parameter("Item"), .string(" > /opt/ml/processing/out/item.txt"),
                ])],
                roleArn: "r",
                inputs: [ProcessingInput(inputName: "flag", s3Input: S3Input(s3Uri: "s3://b/flag/mode.txt", localPath: "/opt/ml/processing/flag"))],
                outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(
                    s3Uri: .join(on: "/", values: [.string("s3://b/items"), .parameter("Item")]), localPath: "/opt/ml/processing/out"
                ))]
            ))
        }
        let arguments: ShoalDefinition.Expression = [
            "Items": ["a", "b", "c", "d"], "MaxConcurrency": 4,
            "Definition": ShoalDefinition.Expression(literal: child.json),
            "Outputs": [["Name": "job", "Property": "Steps.Work.ProcessingJobName"]],
            "ResultsS3Uri": "s3://b/results.json",
        ]
        let path = try home.file("parent.json", PipelineDefinition(steps: [Step(name: "Each", type: .shoalMap, arguments: .other(arguments))]).jsonText())
        // A worker (of one slot) per child: the sleepers must not hold the slots items 0 and 1 wait for.
        let run = try home.start(["run", path, "--workers", "4"])
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let store = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path)
        func children(_ parent: String) throws -> [ExecutionRecord] { try store.executions(parent: parent).sorted { ($0.parentItem ?? -1) < ($1.parentItem ?? -1) } }
        let deadline = Date().addingTimeInterval(120)
        var parent = ""
        while Date() < deadline && run.isRunning {
            if parent.isEmpty, let root = try store.executions(limit: 10).first(where: { $0.parentExecutionId == nil }) { parent = root.id }
            if !parent.isEmpty, ProcessTable.running(commandLine: ["sleep", mark]).count == 2,
               try children(parent).filter({ $0.status == .succeeded }).count == 2 { break }
            usleep(20_000)
        }
        let before = try children(parent)
        let asleep = ProcessTable.running(commandLine: ["sleep", mark]).count
        #expect(before.map(\.status) == [.succeeded, .succeeded, .executing, .executing],
                "\(before.map(\.status)), \(asleep) asleep, run \(run.isRunning ? "running" : "ended"), \(Int(deadline.timeIntervalSinceNow)) s left")
        #expect(before.map(\.parentItem) == [0, 1, 2, 3])
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        // The new attempts stage the flag afresh: they do not sleep.
        #expect(try home.shoal(["cp", try home.file("go.txt", "go\n"), "s3://b/flag/mode.txt"]).status == 0)

        let resumed = try home.shoal(["executions", "resume", parent, "--workers", "2"], timeout: 120)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(try store.execution(id: parent)?.status == .succeeded)
        let after = try children(parent)
        // The same four children, no fifth: none of them started again as a new execution.
        #expect(after.map(\.id) == before.map(\.id))
        #expect(after.allSatisfy { $0.status == .succeeded }, "\(after.map(\.status))")
        for (index, record) in after.enumerated() {
            let attempts = try store.instances(executionId: record.id).map { "\($0.attempt) \($0.status)" }
            #expect(attempts == (index < 2 ? ["1 Completed"] : ["1 Lost", "2 Completed"]), "item \(index): \(attempts)")
        }
        let gathered = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: home.url.appendingPathComponent("objects/b/results.json"))) as? [String: Any])
        let results = try #require(gathered["results"] as? [[String: Any]])
        #expect(results.map { $0["executionId"] as? String } == before.map(\.id))
        #expect(results.allSatisfy { ($0["outputs"] as? [String: Any])?["job"] is String }, "\(results)")
        #expect(gathered["succeeded"] as? Int == 4)
        for item in ["a", "b", "c", "d"] {
            #expect(try String(contentsOf: home.url.appendingPathComponent("objects/b/items/\(item)/item.txt"), encoding: .utf8) == item + "\n")
        }
    }
}
