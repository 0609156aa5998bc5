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

    /// A coordinator killed outright and started again on the same home and
    /// address resumes what it ran; the client following the execution waits
    /// for it and sees it end.
    @Test func aRestartedCoordinatorCarriesOnWhatItRan() throws {
        let home = try TemporaryHome()
        let mark = "2.\(1000 + Int.random(in: 0..<9000))"
        let bind = "tcp://127.0.0.1:\(try LoopbackListener().port)"
        let api = "tcp://127.0.0.1:\(try LoopbackListener().port)"
        let log = home.url.appendingPathComponent("coordinator.log")
        var coordinator = try home.start(["coordinator", "--bind", bind, "--api", api, "--insecure"], standardError: log)
        defer { if coordinator.isRunning { coordinator.terminate(); coordinator.waitUntilExit() } }
        let workerLog = home.url.appendingPathComponent("worker.log")
        let worker = try home.start(
            ["worker", "--connect", bind, "--id", "w", "--slots", "2", "--reconnect", "--work-dir", home.url.appendingPathComponent("work").path],
            standardError: workerLog
        )
        defer { worker.terminate(); worker.waitUntilExit() }
        let clientLog = home.url.appendingPathComponent("client.log")
        let client = try home.start(["run", try home.file("p.json", definition(mark: mark).jsonText()), "--coordinator", api], standardError: clientLog)
        defer { if client.isRunning { client.terminate(); client.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(30)
        while ProcessTable.running(commandLine: ["sleep", mark]).isEmpty && Date() < deadline && client.isRunning { usleep(20_000) }
        #expect(!ProcessTable.running(commandLine: ["sleep", mark]).isEmpty, "the second step never started")
        let id = try home.latestExecutionId()

        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()
        coordinator = try home.start(["coordinator", "--bind", bind, "--api", api, "--insecure"], standardError: log)
        while client.isRunning && Date() < deadline.addingTimeInterval(30) { usleep(50_000) }
        let said = (try? String(contentsOf: clientLog, encoding: .utf8)) ?? ""
        #expect(!client.isRunning && client.terminationStatus == 0, "\(said)")
        #expect(((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("execution \(id) of p resumed"))
        // The worker saw the new connection and registered at once, its job of the dead coordinator stopped.
        #expect(((try? String(contentsOf: workerLog, encoding: .utf8)) ?? "").contains("connected to the coordinator anew; its running tasks were stopped"))
        let execution = try #require(try home.json(["executions", "describe", id]) as? [String: Any])
        #expect(execution["status"] as? String == "Succeeded")
        let attempts = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id)
        #expect(attempts.filter { $0.stepName == "First" }.count == 1, "the step that had ended ran again")
        #expect(attempts.filter { $0.stepName == "Second" }.map(\.status).last == .completed, "\(attempts)")
    }
}
