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

    /// Runs one processing task on a `--fetch-data` worker agent (a thread) joined
    /// to a real endpoint over ipc; returns its result and the worker's folder.
    private func runShipped(_ spec: ProcessingInstanceSpec, in home: TemporaryHome) throws -> (TaskResult?, URL) {
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
        let key = TaskKey(taskId: "e/s/algo-1", attempt: 1)
        try endpoint.submit(key, .processing(spec: spec, outputStaging: home.url.appendingPathComponent("staging/e/s/algo-1").path))
        var result: TaskResult?
        for _ in 0..<1000 where result == nil {
            for case let .finished(finished) in try endpoint.poll(timeout: 0.02) where finished.key == key { result = finished.result }
        }
        return (result, work)
    }

    private func spec(_ files: [ProcessingInstanceSpec.InputFile], command: String = "true", outputs: [ProcessingInstanceSpec.Output] = []) -> ProcessingInstanceSpec {
        ProcessingInstanceSpec(
            jobName: "j", host: 1, hostCount: 1, instanceType: "ml.m5.large", command: ["/bin/sh", "-c", command], environment: [:],
            inputs: [.init(name: "in", localPath: "/opt/ml/processing/input/in", files: files)],
            outputs: outputs, maxRuntimeSeconds: 60, jobConfigJSON: "{}"
        )
    }

    @Test func aFetchTheCoordinatorRefusesInterruptsTheTask() throws {
        let home = try TemporaryHome()
        // The input lies outside the object store: the coordinator must not serve it.
        let (result, work) = try runShipped(spec([.init(source: "/etc/hostname", relativePath: "hostname")]), in: home)
        guard case let .interrupted(reason)? = result else {
            Issue.record("expected an interrupted task, got \(String(describing: result))")
            return
        }
        #expect(reason.contains("on worker far"))
        #expect(reason.contains("/etc/hostname is not in the object store"))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("transfers").path)) ?? []
        #expect(left.isEmpty)
    }

    /// Many files are asked for as one stream (several at once, across file
    /// boundaries): every size around the chunk size arrives whole and in place,
    /// including files that changed size after the task was planned.
    @Test func filesOfEverySizeArriveWholeWhenAskedForAsOneStream() throws {
        let home = try TemporaryHome()
        let folder = home.url.appendingPathComponent("objects/b/in")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let chunk = TransferLimits.chunkBytes
        var sizes: [(name: String, actual: Int, planned: Int)] = (0..<40).map { ("f\(100 + $0)", $0 * 37, $0 * 37) }
        sizes += [("g1", 2 * chunk, 2 * chunk), ("g2", 2 * chunk + 5, 2 * chunk + 5), ("g3", 3 * chunk - 1, 3 * chunk - 1)]
        // Planned smaller or larger than the file turned out to be.
        sizes += [("h1", 3 * chunk + 11, chunk), ("h2", 7, 2 * chunk), ("h3", chunk + 3, 0)]
        var files: [ProcessingInstanceSpec.InputFile] = []
        var expected = Data()
        for (index, entry) in sizes.enumerated() {
            let bytes = Data((0..<entry.actual).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ index) })
            let path = folder.appendingPathComponent(entry.name).path
            try bytes.write(to: URL(fileURLWithPath: path))
            files.append(.init(source: path, relativePath: entry.name, size: entry.planned))
            expected += bytes
        }
        let (result, _) = try runShipped(spec(
            files, command: "cd /opt/ml/processing/input/in && LC_ALL=C cat $(LC_ALL=C ls) > /opt/ml/processing/output/all",
            outputs: [.init(name: "out", localPath: "/opt/ml/processing/output")]
        ), in: home)
        guard case let .processing(outcome)? = result, let output = outcome.outputs.first else {
            Issue.record("expected a finished processing task, got \(String(describing: result))")
            return
        }
        #expect(outcome.status == .completed)
        #expect(FileManager.default.contents(atPath: output.stagedAt + "/all") == expected)
    }
}
