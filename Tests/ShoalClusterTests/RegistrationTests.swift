import Foundation
import ShoalCluster
import Testing
import ZeroMQ

/// Lines a coordinator endpoint logs, gathered from its diagnostics closure.
final class DiagnosticLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

/// D6: a real coordinator endpoint on loopback, sent registrations out of
/// bounds by a real DEALER: each is refused, named, and never becomes a worker.
@Suite struct RegistrationTests {
    @Test func registrationsOutOfBoundsAreRefusedAndAValidOneJoins() throws {
        let lines = DiagnosticLines()
        let context = try Context()
        let endpoint = try CoordinatorEndpoint(bind: "tcp://127.0.0.1:*", context: context, diagnostics: { lines.append($0) })
        let peer = try context.socket(.dealer)
        defer { peer.close() }
        try peer.setOption(.linger, 0)
        try peer.setRoutingId(Array("forger".utf8))
        try peer.connect(endpoint.endpoint)
        let bad: [(Register, String)] = [
            (Register(workerId: "w", host: "h", pid: 1, slots: 0, version: "1"), "worker w: 0 slots; a worker has 1 to 1024"),
            (Register(workerId: "w", host: "h", pid: 1, slots: 1_000_000, version: "1"), "worker w: 1000000 slots; a worker has 1 to 1024"),
            (Register(workerId: String(repeating: "x", count: 1 << 20), host: "h", pid: 1, slots: 1, version: "1"),
             "a worker id must be 1 to 128 bytes without control characters"),
            (Register(workerId: "w", host: "h\n", pid: 1, slots: 1, version: "1"), "worker w: a host name must be 1 to 128 bytes without control characters"),
            (Register(workerId: "w", host: "h", pid: 1, slots: 1, version: "1", labels: Dictionary(uniqueKeysWithValues: (0..<33).map { ("k\($0)", ["v"]) })),
             "worker w: 33 label keys; at most 32"),
            (Register(workerId: "w", host: "h", pid: 1, slots: 1, version: "1", labels: ["zone": []]),
             "worker w: label 'zone' needs 1 to 16 values of 1 to 128 bytes"),
        ]
        for (hello, _) in bad { try peer.send(messages: WireCodec.encode(.register(hello))) }
        try peer.send(messages: WireCodec.encode(.register(Register(workerId: "good", host: "h", pid: 1, slots: 4, version: "1"))))
        var joined: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while joined.isEmpty && Date() < deadline {
            for case let .workerJoined(id, _, slots) in try endpoint.poll(timeout: 0.05) { joined.append("\(id)/\(slots)") }
        }
        #expect(joined == ["good/4"])
        #expect(endpoint.registry.workers.values.map(\.id) == ["good"])
        #expect(lines.all == bad.map { "refused the registration from forger: \($0.1)" })

        // Registrations a cut-off worker queued arrive together: one join, not five.
        // A last registration under a new name marks the end: a peer's messages arrive in order.
        for _ in 0..<5 { try peer.send(messages: WireCodec.encode(.register(Register(workerId: "good", host: "h", pid: 1, slots: 4, version: "1")))) }
        try peer.send(messages: WireCodec.encode(.register(Register(workerId: "renamed", host: "h", pid: 1, slots: 4, version: "1"))))
        var later: [String] = []
        while !later.contains("renamed") && Date() < deadline.addingTimeInterval(10) {
            for case let .workerJoined(id, _, _) in try endpoint.poll(timeout: 0.05) { later.append(id) }
        }
        #expect(later == ["renamed"], "the worker had already joined as good")
    }
}

/// D6: a worker id cannot be taken over. With CURVE it belongs to the key that
/// first registered it; without keys, to the live connection holding it.
@Suite struct WorkerIdentityTests {
    /// Registers `id` from a new DEALER (routing id `connection`) and returns
    /// the ids that joined and were lost, until one joins or a line is logged (5 s at most).
    static func register(
        _ id: String, from connection: String, on endpoint: CoordinatorEndpoint, context: Context, keys: (server: String, client: CurveKeyPair)? = nil,
        lines: DiagnosticLines, sockets: inout [Socket]
    ) throws -> (joined: [String], lost: [String]) {
        let peer = try context.socket(.dealer)
        sockets.append(peer)
        try peer.setOption(.linger, 0)
        try peer.setRoutingId(Array(connection.utf8))
        if let keys { try peer.makeCurveClient(serverKey: keys.server, keys: keys.client) }
        try peer.connect(endpoint.endpoint)
        try peer.send(messages: WireCodec.encode(.register(Register(workerId: id, host: "h", pid: 1, slots: 1, version: "1"))))
        var (joined, lost): ([String], [String]) = ([], [])
        let before = lines.all.count
        let deadline = Date().addingTimeInterval(5)
        while joined.isEmpty && lines.all.count == before && Date() < deadline {
            for event in try endpoint.poll(timeout: 0.05) {
                if case let .workerJoined(id, _, _) = event { joined.append(id) }
                if case let .workerLost(id, _, _) = event { lost.append(id) }
            }
        }
        return (joined, lost)
    }

    @Test func withoutKeysALiveWorkersIdIsRefusedToAnotherConnection() throws {
        let lines = DiagnosticLines()
        let context = try Context()
        let endpoint = try CoordinatorEndpoint(bind: "tcp://127.0.0.1:*", context: context, diagnostics: { lines.append($0) })
        var sockets: [Socket] = []
        defer { for socket in sockets { socket.close() } }
        #expect(try Self.register("w", from: "real", on: endpoint, context: context, lines: lines, sockets: &sockets).joined == ["w"])
        #expect(try Self.register("w", from: "forger", on: endpoint, context: context, lines: lines, sockets: &sockets).joined == [])
        #expect(lines.all == ["refused the registration from forger: worker id 'w' is held by a live worker on another connection"])
        #expect(endpoint.registry.workers.values.map { String(decoding: $0.identity, as: UTF8.self) } == ["real"])
    }

    @Test func withCurveAWorkerIdBelongsToTheKeyThatRegisteredIt() throws {
        let lines = DiagnosticLines()
        let context = try Context()
        let server = try CurveKeyPair.generate()
        let (first, second) = (try CurveKeyPair.generate(), try CurveKeyPair.generate())
        let endpoint = try CoordinatorEndpoint(
            bind: "tcp://127.0.0.1:*", context: context, security: .init(keys: server, allowedKeys: [first.publicKey, second.publicKey]),
            diagnostics: { lines.append($0) }
        )
        var sockets: [Socket] = []
        defer { for socket in sockets { socket.close() } }
        #expect(try Self.register("w", from: "one", on: endpoint, context: context, keys: (server.publicKey, first), lines: lines, sockets: &sockets).joined == ["w"])
        // Another allowed key may not take the id.
        #expect(try Self.register("w", from: "two", on: endpoint, context: context, keys: (server.publicKey, second), lines: lines, sockets: &sockets).joined == [])
        #expect(lines.all == ["refused the registration from two: worker id 'w' belongs to another key; this connection's key is \(second.publicKey)"])
        // The same key on a new connection is the worker come back: it joins, and the old connection is lost.
        let again = try Self.register("w", from: "again", on: endpoint, context: context, keys: (server.publicKey, first), lines: lines, sockets: &sockets)
        #expect(again.joined == ["w"])
        #expect(again.lost == ["w"], "the old connection is lost at once")
        #expect(endpoint.registry.workers.values.map { String(decoding: $0.identity, as: UTF8.self) } == ["again"])
    }
}
