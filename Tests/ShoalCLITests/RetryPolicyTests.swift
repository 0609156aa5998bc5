import Foundation
import ShoalDefinition
import ShoalStore
import ShoalTestSupport
import Testing

/// RetryPolicies end to end through `shoal run` with real workers, killed
/// (SIGKILL) as a crash would: a lost instance is SageMaker.CAPACITY_ERROR.
@Suite(.serialized) struct RetryPolicyTests {
    let home: TemporaryHome
    /// The job's `sleep` argument: unique, so the test finds the job's process.
    let mark = "1.\(1000 + Int.random(in: 0..<9000))\(getpid() % 100)"

    init() throws { home = try TemporaryHome() }

    func definition(_ command: String, policies: [RetryPolicy]) throws -> String {
        let step = Step.processing("Work", arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh", entrypoint: ["/bin/sh", "-c", .string(command)],
            roleArn: "arn:aws:iam::1:role/R"
        ), retryPolicies: policies)
        return try home.file("pipeline.json", PipelineDefinition { step }.jsonText())
    }

    /// Kills the worker running the job once its `sleep` shows; returns when it did.
    func killBusyWorker(of run: Process, until deadline: Date) -> Bool {
        while Date() < deadline && run.isRunning {
            let sleeping = ProcessTable.running(commandLine: ["sleep", mark])
            let busy = ProcessTable.children(of: run.processIdentifier).filter { !ProcessTable.children(of: $0).isEmpty }
            if !sleeping.isEmpty, busy.count == 1 {
                kill(busy[0], SIGKILL)
                while Date() < deadline && !ProcessTable.running(commandLine: ["sleep", mark]).isEmpty { usleep(10_000) }
                return true
            }
            usleep(10_000)
        }
        return false
    }

    func steps(_ id: String) throws -> [String: Any] {
        try #require((try home.json(["steps", id]) as? [[String: Any]])?.first)
    }

    func attempts(_ id: String) throws -> [InstanceRecord] {
        try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id)
    }

    @Test func aLostWorkerIsRetriedThreeTimesWithGrowingIntervals() throws {
        let path = try definition("sleep \(mark)", policies: [RetryPolicy(exceptionTypes: ["SageMaker.CAPACITY_ERROR"], intervalSeconds: 1, backoffRate: 2, maxAttempts: 3)])
        let log = home.url.appendingPathComponent("run-stderr.txt")
        let run = try home.start(["run", path, "--workers", "2"], standardError: log)
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(60)
        var waiting: String?
        for kill in 1...3 {
            #expect(killBusyWorker(of: run, until: deadline), "attempt \(kill) was never seen running")
            if kill == 1 {
                // While it waits, the step says so.
                while waiting == nil && Date() < deadline {
                    waiting = try? steps(try home.latestExecutionId())["retryNote"] as? String
                    usleep(20_000)
                }
            }
        }
        while run.isRunning && Date() < deadline { usleep(50_000) }
        let stderr = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(!run.isRunning && run.terminationStatus == 0, "\(stderr)")
        #expect(waiting?.hasPrefix("algo-1: attempt 1 failed (SageMaker.CAPACITY_ERROR); attempt 2 starts at ") == true, "\(waiting ?? "nothing")")
        #expect(waiting?.hasSuffix("in 1.0 s, under the SageMaker.CAPACITY_ERROR policy (retry 1 of 3)") == true, "\(waiting ?? "nothing")")
        let id = try home.latestExecutionId()
        let records = try attempts(id)
        #expect(records.map(\.status) == [.lost, .lost, .lost, .completed])
        // Each retry waited its interval: 1, 2 and 4 seconds after the loss was seen.
        for (index, interval) in [1.0, 2.0, 4.0].enumerated() where records.count == 4 {
            let gap = (records[index + 1].startedAt ?? .distantPast).timeIntervalSince(records[index].endedAt ?? .distantFuture)
            #expect(gap >= interval - 0.05, "attempt \(index + 2) started \(gap) s after attempt \(index + 1) ended")
        }
        let step = try steps(id)
        #expect(step["attempts"] as? Int == 4)
        #expect(step["retryNote"] == nil, "the note goes once no retry waits")
    }

    @Test func anAlgorithmErrorIsNotRetried() throws {
        let path = try definition("exit 3", policies: [
            RetryPolicy(exceptionTypes: ["SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT"], maxAttempts: 5),
        ])
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        #expect(outcome.status == 1)
        let step = try steps(try home.latestExecutionId())
        #expect(step["attempts"] as? Int == 1)
        #expect(step["failureReason"] as? String == "AlgorithmError: exit code 3")
    }

    /// A loss the policies do not allow more retries for fails the step saying so.
    @Test func aLossPastMaxAttemptsFailsTheStepNamingThePolicy() throws {
        let path = try definition("sleep \(mark)", policies: [RetryPolicy(exceptionTypes: ["SageMaker.CAPACITY_ERROR"], intervalSeconds: 1, maxAttempts: 1)])
        let run = try home.start(["run", path, "--workers", "2"])
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(40)
        #expect(killBusyWorker(of: run, until: deadline))
        #expect(killBusyWorker(of: run, until: deadline))
        while run.isRunning && Date() < deadline { usleep(50_000) }
        #expect(run.terminationStatus == 1)
        let step = try steps(try home.latestExecutionId())
        #expect(step["attempts"] as? Int == 2)
        #expect((step["failureReason"] as? String)?.hasSuffix("(SageMaker.CAPACITY_ERROR: no retry left under the step's RetryPolicies)") == true, "\(step)")
    }

    /// `shoal stop` during a policy's wait ends the step at once; no attempt starts.
    @Test func aStopDuringTheWaitCancelsTheRetry() throws {
        let path = try definition("sleep \(mark)", policies: [RetryPolicy(exceptionTypes: ["SageMaker.CAPACITY_ERROR"], intervalSeconds: 60, maxAttempts: 3)])
        let run = try home.start(["run", path, "--workers", "2"])
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(30)
        #expect(killBusyWorker(of: run, until: deadline))
        let id = try home.latestExecutionId()
        while (try? steps(id)["retryNote"] as? String) == nil && Date() < deadline { usleep(20_000) }
        #expect(try home.shoal(["stop", id]).status == 0)
        while run.isRunning && Date() < deadline { usleep(50_000) }
        #expect(!run.isRunning, "the run still waited for its retry")
        let step = try steps(id)
        #expect(step["status"] as? String == "Stopped")
        #expect(step["attempts"] as? Int == 1)
        #expect(step["retryNote"] as? String == "a retry was waiting; the step was stopped")
    }
}
