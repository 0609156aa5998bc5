import Foundation
import ShoalCluster
import ShoalRuntime
import ShoalTestSupport
import Testing
import ZeroMQ

/// A real coordinator endpoint and a real `--fetch-data` worker agent over ipc:
/// a transfer that fails ends the task as interrupted (to be run again), with
/// the reason, and leaves no copies on the worker.
struct ShippedDataFailureTests {
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    @Test func aFetchTheCoordinatorRefusesInterruptsTheTask() throws {
        let home = try TemporaryHome()
        let address = "ipc://" + home.url.appendingPathComponent("c.sock").path
        let endpoint = try CoordinatorEndpoint(bind: address, context: try Context(), diagnostics: { _ in })
        endpoint.transfers = TransferServer(servedRoots: [home.url.appendingPathComponent("objects")], stagingRoot: home.url.appendingPathComponent("staging"))
        let work = home.url.appendingPathComponent("worker")
        let stop = Flag()
        let done = Flag()
        let worker = Thread {
            var configuration = WorkerAgent.Configuration(endpoint: address, workerId: "far", slots: 1, workFolder: work, version: "test")
            configuration.fetchData = true
            _ = try? WorkerAgent(configuration).run(shouldStop: { stop.isSet })
            done.set()
        }
        worker.start()
        defer {
            stop.set()
            while !done.isSet { usleep(10_000) }
        }
        var joined = false
        for _ in 0..<250 where !joined {
            joined = try endpoint.poll(timeout: 0.02).contains { if case .workerJoined = $0 { true } else { false } }
        }
        #expect(joined)

        // The input lies outside the object store: the coordinator must not serve it.
        let spec = ProcessingInstanceSpec(
            jobName: "j", host: 1, hostCount: 1, instanceType: "ml.m5.large", command: ["/bin/true"], environment: [:],
            inputs: [.init(name: "in", localPath: "/opt/ml/processing/input/in", files: [.init(source: "/etc/hostname", relativePath: "hostname")])],
            outputs: [], maxRuntimeSeconds: 60, jobConfigJSON: "{}"
        )
        let key = TaskKey(taskId: "e/s/algo-1", attempt: 1)
        try endpoint.submit(key, .processing(spec: spec, outputStaging: home.url.appendingPathComponent("staging/e/s/algo-1").path))
        var result: TaskResult?
        for _ in 0..<500 where result == nil {
            for case let .finished(finished) in try endpoint.poll(timeout: 0.02) where finished.key == key { result = finished.result }
        }
        guard case let .interrupted(reason)? = result else {
            Issue.record("expected an interrupted task, got \(String(describing: result))")
            return
        }
        #expect(reason.contains("on worker far"))
        #expect(reason.contains("/etc/hostname is not in the object store"))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("transfers").path)) ?? []
        #expect(left.isEmpty)
    }
}
