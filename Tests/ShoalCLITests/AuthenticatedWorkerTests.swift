import Foundation
import ShoalCluster
import ShoalTestSupport
import Testing
import ZeroMQ

/// Real `shoal worker` processes connecting over TCP to a CURVE coordinator endpoint.
@Suite(.serialized) struct AuthenticatedWorkerTests {
    @Test func onlyWorkersOnTheAllowListRegister() throws {
        let home = try TemporaryHome()
        let keys = home.url.appendingPathComponent("keys").path
        for name in ["coordinator", "trusted", "stranger"] {
            #expect(try home.shoal(["keys", "generate", name, "--dir", keys]).status == 0)
        }
        let secret = try String(contentsOfFile: keys + "/coordinator.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let trusted = try String(contentsOfFile: keys + "/trusted.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try home.shoal(["keys", "generate", "trusted", "--dir", keys]).stderr.contains("exists; add --force"))

        let refusals = Refusals()
        let context = try Context()
        let endpoint = try CoordinatorEndpoint(
            bind: "tcp://127.0.0.1:*", context: context,
            security: .init(keys: try CurveKeyPair.derive(secretKey: secret), allowedKeys: [trusted]),
            diagnostics: { refusals.add($0) }
        )
        func worker(_ name: String) throws -> Process {
            try home.start([
                "worker", "--connect", endpoint.endpoint, "--id", name, "--work-dir", home.url.appendingPathComponent("work-\(name)").path,
                "--server-key", keys + "/coordinator.pub", "--key", keys + "/\(name).key",
            ], standardError: home.url.appendingPathComponent("\(name).log"))
        }
        let workers = [try worker("trusted"), try worker("stranger")]
        defer { for process in workers where process.isRunning { process.terminate(); process.waitUntilExit() } }
        var joined: [String] = []
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && (joined.isEmpty || refusals.all.isEmpty) {
            for event in try endpoint.poll(timeout: 0.05) {
                if case let .workerJoined(id, _, _) = event { joined.append(id) }
            }
        }
        #expect(joined == ["trusted"])
        #expect(refusals.all.contains { $0.contains("refused a connection") && !$0.contains(trusted) })
        // The stranger hears why, and leaves (it has no --reconnect to wait for its key to be allowed).
        let stranger = workers[1]
        while stranger.isRunning && Date() < deadline.addingTimeInterval(10) { _ = try endpoint.poll(timeout: 0.05) }
        #expect(!stranger.isRunning)
        #expect(stranger.terminationStatus == 3)
        let said = (try? String(contentsOf: home.url.appendingPathComponent("stranger.log"), encoding: .utf8)) ?? ""
        #expect(said.contains("shoal worker stranger: the coordinator at \(endpoint.endpoint) refused this worker's key (CURVE, status 400); its public key must be in the coordinator's --allow folder; leaving"), "\(said)")
        endpoint.shutdownWorkers()
        _ = try endpoint.poll(timeout: 0.1)
    }
}

final class Refusals: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

@Suite(.serialized) struct ReconnectingWorkerTests {
    /// Polls `endpoint` until a worker registers, at most `seconds`.
    func waitForJoin(_ endpoint: CoordinatorEndpoint, seconds: Double) throws -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            for event in try endpoint.poll(timeout: 0.05) {
                if case let .workerJoined(id, _, _) = event { return id }
            }
        }
        return nil
    }

    @Test func aWorkerRegistersAgainWhenItsCoordinatorComesBack() throws {
        let home = try TemporaryHome()
        var first: CoordinatorEndpoint? = try CoordinatorEndpoint(bind: "tcp://127.0.0.1:*", context: try Context())
        let address = first!.endpoint
        let log = home.url.appendingPathComponent("worker.log")
        let worker = try home.start(
            ["worker", "--connect", address, "--id", "steady", "--reconnect", "--work-dir", home.url.appendingPathComponent("work").path], standardError: log
        )
        defer { if worker.isRunning { worker.terminate(); worker.waitUntilExit() } }
        #expect(try waitForJoin(first!, seconds: 5) == "steady")
        first = nil // the coordinator goes away
        // The worker notices the silence (after its liveness window) and stays to register again.
        let deadline = Date().addingTimeInterval(15)
        var text = ""
        while Date() < deadline && !text.contains("went silent; registering again") {
            usleep(50_000)
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        #expect(text.contains("shoal worker steady: the coordinator at \(address) went silent; registering again"), "\(text)")
        #expect(worker.isRunning, "a --reconnect worker outlives its coordinator")
        let second = try CoordinatorEndpoint(bind: address, context: try Context())
        #expect(try waitForJoin(second, seconds: 10) == "steady")
        second.shutdownWorkers()
        _ = try second.poll(timeout: 0.2)
        for _ in 0..<50 where worker.isRunning { usleep(100_000) }
        #expect(!worker.isRunning, "shutdown still ends it")
    }
}
