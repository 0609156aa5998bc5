import Foundation
import ShoalTestSupport
import Testing
import ZeroMQ

/// A real `shoal coordinator` on loopback, hit by peers that send what no
/// Shoal process sends: it drops their messages, names them, and goes on.
@Suite(.serialized) struct HostilePeerTests {
    @Test func aMessageWithTooManyFramesOnEitherPortDoesNotStopTheCoordinator() throws {
        let home = try TemporaryHome()
        let bind = "tcp://127.0.0.1:\(try LoopbackListener().port)"
        let api = "tcp://127.0.0.1:\(try LoopbackListener().port)"
        let log = home.url.appendingPathComponent("coordinator.log")
        let coordinator = try home.start(["coordinator", "--bind", bind, "--api", api, "--insecure"], standardError: log)
        defer { if coordinator.isRunning { coordinator.terminate() }; coordinator.waitUntilExit() }
        let client = ["--coordinator", api]
        #expect(try Self.waitForAnswer(home, client, coordinator), "the coordinator answers before the test")

        let context = try Context()
        // Kept open until the coordinator has read them: closing drops what is not yet sent.
        var peers: [Socket] = []
        defer { for peer in peers { peer.close() } }
        for (endpoint, identity) in [(bind, "hostile-worker-port"), (api, "hostile-api-port")] {
            let peer = try context.socket(.dealer)
            peers.append(peer)
            try peer.setOption(.linger, 0)
            try peer.setRoutingId(Array(identity.utf8))
            try peer.connect(endpoint)
            try peer.send(Array(repeating: Array("x".utf8), count: 9))
        }
        // Both messages reach the coordinator; it logs each with the sender's id.
        let deadline = Date().addingTimeInterval(10)
        var text = ""
        while Date() < deadline && !(text.contains("hostile-worker-port") && text.contains("hostile-api-port")) {
            usleep(50_000)
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        #expect(text.contains("dropped a message from hostile-worker-port: a multipart message had more than 8 frames"), "\(text)")
        #expect(text.contains("dropped an API request from hostile-api-port: a multipart message had more than 8 frames"), "\(text)")
        #expect(coordinator.isRunning, "\(text)")
        #expect(try Self.waitForAnswer(home, client, coordinator), "the coordinator still answers its clients")
    }

    /// Whether `cluster status` answers within 10 s while the coordinator lives.
    static func waitForAnswer(_ home: TemporaryHome, _ client: [String], _ coordinator: Process) throws -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && coordinator.isRunning {
            if try home.shoal(["cluster", "status"] + client, timeout: 10).status == 0 { return true }
            usleep(100_000)
        }
        return false
    }
}
