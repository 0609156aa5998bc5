import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalStore
import ShoalTestSupport
import Testing
import ZeroMQ

/// Claims the README makes that no test held: what is recorded for a real job,
/// what a partly failed step commits, the attempt limit, following a log, and
/// a worker leaving a silent coordinator.
@Suite(.serialized) struct AccountingTests {
    static func attempts(_ home: TemporaryHome) throws -> [InstanceRecord] {
        try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: try home.latestExecutionId())
    }

    /// `shoal cost` is built on these: CPU seconds and peak memory from wait4,
    /// bytes in (the inputs) and out (the outputs), the instance type.
    @Test func aRealJobsUsageIsRecordedWithItsAttempt() throws {
        let scenario = try Scenario(script: """
            import time
            ballast = b'x' * (64 << 20)
            start = time.process_time()
            while time.process_time() - start < 0.3:
                pass
            open('/opt/ml/processing/out/result.bin', 'wb').write(b'r' * 1000)
            """)
        let outcome = try scenario.run()
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let attempt = try #require(try Self.attempts(scenario.home).first)
        let script = try Data(contentsOf: scenario.home.url.appendingPathComponent("objects/b/code/job.py"))
        #expect(attempt.status == .completed)
        #expect(attempt.instanceType == "ml.m5.large")
        #expect((attempt.cpuSeconds ?? 0) >= 0.3, "cpu \(String(describing: attempt.cpuSeconds))")
        #expect((attempt.peakRSSBytes ?? 0) >= 64 << 20, "peak \(String(describing: attempt.peakRSSBytes))")
        #expect((attempt.wallSeconds ?? 0) >= (attempt.cpuSeconds ?? 0) * 0.9)
        #expect(attempt.bytesIn == script.count)
        #expect(attempt.bytesOut == 1000)
    }

    @Test func aStepWithOneFailedInstanceCommitsNoOutputOfAny() throws {
        // algo-2 fails only once algo-1 has finished its output, so algo-1 surely completes.
        let done = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-algo-1-done-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: done) }
        let scenario = try Scenario(script: """
            import json, os, sys, time
            host = json.load(open('/opt/ml/config/resourceconfig.json'))['current_host']
            open('/opt/ml/processing/out/' + host + '.txt', 'w').write(host)
            if host == 'algo-1':
                open(os.environ['DONE'], 'w').close()
                sys.exit(0)
            deadline = time.time() + 20
            while not os.path.exists(os.environ['DONE']) and time.time() < deadline:
                time.sleep(0.01)
            sys.exit(1)
            """, instances: 2, environment: ["DONE": .string(done)])
        let outcome = try scenario.run()
        #expect(outcome.status == 1)
        // algo-1 usually reports first (Completed); if algo-2's failure reaches the
        // coordinator first, algo-1 is stopped with its step. Either way nothing is committed.
        let statuses = try Self.attempts(scenario.home).map(\.status)
        #expect(statuses.count == 2 && statuses.contains(.failed) && (statuses.contains(.completed) || statuses.contains(.stopped)), "\(statuses)")
        #expect(try scenario.objects(under: "s3://b/out").isEmpty, "algo-1 succeeded, but its output is not committed alone")
    }

    @Test func anInstanceLostWithItsWorkerThreeTimesFailsTheStep() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-attempts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let scenario = try Scenario(script: """
            import os, time
            with open(os.environ['MARKER'], 'a') as f:
                f.write('attempt\\n')
            time.sleep(60)
            """, environment: ["MARKER": .string(marker)])
        let log = scenario.home.url.appendingPathComponent("run-stderr.txt")
        // Unsandboxed: the job counts its attempts in a file of the test's.
        let run = try scenario.home.start(["run", scenario.definitionPath, "--workers", "2", "--unsandboxed"], standardError: log)
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(60)
        for attempt in 1...3 {
            let lines = { ((try? String(contentsOfFile: marker, encoding: .utf8)) ?? "").split(separator: "\n").count }
            while lines() < attempt && Date() < deadline && run.isRunning { usleep(20_000) }
            #expect(lines() == attempt, "attempt \(attempt) started")
            for worker in ProcessTable.children(of: run.processIdentifier) where !ProcessTable.children(of: worker).isEmpty {
                kill(worker, SIGKILL)
            }
        }
        while run.isRunning && Date() < deadline { usleep(50_000) }
        #expect(!run.isRunning, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        #expect(run.terminationStatus == 1)
        let reason = try scenario.steps().first?["failureReason"] as? String ?? ""
        #expect(reason.hasPrefix("algo-1 was lost with its worker 3 times"), "\(reason)")
        #expect(try Self.attempts(scenario.home).map(\.status) == [.lost, .lost, .lost])
    }

    @Test func logsFollowPrintsTheLogAsItGrowsAndEndsWithTheStep() throws {
        let scenario = try Scenario(script: """
            import sys, time
            for i in range(10):
                print('line', i, flush=True)
                time.sleep(0.1)
            """)
        let run = try scenario.home.start(["run", scenario.definitionPath, "--workers", "1"])
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        var id: String?
        for _ in 0..<200 where id == nil {
            usleep(20_000)
            if let candidate = try? scenario.home.latestExecutionId(), (try? scenario.steps().first?["status"] as? String) == "Executing" { id = candidate }
        }
        let execution = try #require(id)
        let follow = try scenario.home.shoal(["logs", execution, "Work", "--follow"], timeout: 30)
        #expect(follow.status == 0, "\(follow.stderr)")
        #expect(follow.stdout == (0..<10).map { "line \($0)\n" }.joined(), "\(follow.stdout)")
        #expect(try scenario.steps().first?["status"] as? String == "Succeeded", "--follow returned once the step ended")
    }

    @Test func aWorkerWithoutReconnectLeavesWhenItsCoordinatorGoesSilent() throws {
        let home = try TemporaryHome()
        var coordinator: CoordinatorEndpoint? = try CoordinatorEndpoint(bind: "tcp://127.0.0.1:*", context: try Context())
        let log = home.url.appendingPathComponent("worker.log")
        let worker = try home.start(
            ["worker", "--connect", coordinator!.endpoint, "--id", "once", "--work-dir", home.url.appendingPathComponent("work").path], standardError: log
        )
        defer { if worker.isRunning { worker.terminate(); worker.waitUntilExit() } }
        var joined = false
        let deadline = Date().addingTimeInterval(10)
        while !joined && Date() < deadline {
            joined = try coordinator!.poll(timeout: 0.05).contains { if case .workerJoined = $0 { true } else { false } }
        }
        #expect(joined)
        let address = coordinator!.endpoint
        coordinator = nil
        while worker.isRunning && Date() < deadline.addingTimeInterval(10) { usleep(50_000) }
        #expect(!worker.isRunning, "the worker left within its liveness window")
        #expect(worker.terminationStatus == 3)
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("shoal worker once: the coordinator at \(address) went silent; leaving"), "\(text)")
    }
}
