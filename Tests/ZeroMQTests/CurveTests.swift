import Testing
import ZeroMQ

@Suite struct CurveTests {
    @Test func generatedKeysAreValidZ85AndDeriveTheirPublicKey() throws {
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.count == 40 && pair.secretKey.count == 40)
        #expect(CurveKeyPair.isValidKey(pair.publicKey))
        #expect(try CurveKeyPair.derive(secretKey: pair.secretKey) == pair)
        #expect(try CurveKeyPair.generate() != pair)
        #expect(!CurveKeyPair.isValidKey("too short"))
    }

    @Test func clientThatKnowsServerKeyTalksEncrypted() throws {
        let context = try Context()
        let serverKeys = try CurveKeyPair.generate()
        let router = try context.socket(.router)
        try router.makeCurveServer(secretKey: serverKeys.secretKey)
        let endpoint = try Transport.tcp.bind(router)
        let dealer = try context.socket(.dealer)
        try dealer.makeCurveClient(serverKey: serverKeys.publicKey, keys: try CurveKeyPair.generate())
        try dealer.connect(endpoint)
        try dealer.send([bytes("secret hello")])
        let frames = try #require(try receive(router))
        #expect(frames.last == bytes("secret hello"))
    }

    @Test func clientWithWrongServerKeyNeverGetsThrough() throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.makeCurveServer(secretKey: try CurveKeyPair.generate().secretKey)
        let endpoint = try Transport.tcp.bind(router)
        let dealer = try context.socket(.dealer)
        try dealer.setOption(.linger, 0)
        try dealer.makeCurveClient(serverKey: try CurveKeyPair.generate().publicKey, keys: try CurveKeyPair.generate())
        try dealer.connect(endpoint)
        try dealer.send([bytes("should not arrive")])
        #expect(try receive(router, within: 500) == nil)
    }

    @Test func plainClientIsRefusedByCurveServer() throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.makeCurveServer(secretKey: try CurveKeyPair.generate().secretKey)
        let endpoint = try Transport.tcp.bind(router)
        let dealer = try context.socket(.dealer)
        try dealer.setOption(.linger, 0)
        try dealer.connect(endpoint)
        try dealer.send([bytes("plain")])
        #expect(try receive(router, within: 500) == nil)
    }

    @Test func zapAdmitsOnlyAllowListedClientKeys() throws {
        let context = try Context()
        let allowedKeys = try CurveKeyPair.generate()
        let strangerKeys = try CurveKeyPair.generate()
        let decisions = DecisionLog()
        let zap = try ZapAuthenticator(context: context, allowedKeys: [allowedKeys.publicKey]) { decisions.add($0) }
        defer { zap.stop() }
        let serverKeys = try CurveKeyPair.generate()
        let router = try context.socket(.router)
        try router.setZapDomain("shoal")
        try router.makeCurveServer(secretKey: serverKeys.secretKey)
        let endpoint = try Transport.tcp.bind(router)

        let stranger = try context.socket(.dealer)
        try stranger.setOption(.linger, 0)
        try stranger.makeCurveClient(serverKey: serverKeys.publicKey, keys: strangerKeys)
        try stranger.connect(endpoint)
        try stranger.send([bytes("from a stranger")])
        #expect(try receive(router, within: 500) == nil, "no data from a refused key")

        let member = try context.socket(.dealer)
        try member.makeCurveClient(serverKey: serverKeys.publicKey, keys: allowedKeys)
        try member.connect(endpoint)
        try member.send([bytes("from a member")])
        #expect(try receive(router)?.last == bytes("from a member"))
        #expect(decisions.all.contains { $0.publicKey == strangerKeys.publicKey && !$0.allowed })
        #expect(decisions.all.contains { $0.publicKey == allowedKeys.publicKey && $0.allowed })
    }

    @Test func invalidKeyTextIsRejectedBeforeLibzmq() throws {
        let context = try Context()
        let socket = try context.socket(.dealer)
        #expect(throws: ZMQError.self) { try socket.makeCurveServer(secretKey: "not a key") }
    }
}

final class DecisionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var decisions: [ZapAuthenticator.Decision] = []
    func add(_ decision: ZapAuthenticator.Decision) { lock.withLock { decisions.append(decision) } }
    var all: [ZapAuthenticator.Decision] { lock.withLock { decisions } }
}

import Foundation
