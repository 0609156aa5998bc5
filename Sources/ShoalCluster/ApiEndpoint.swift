import Foundation
import ShoalRuntime
import ZeroMQ

/// The coordinator's client API socket (a ROUTER). It has a context — and so a
/// ZAP handler and allow-list — of its own, apart from the workers'.
public final class ApiEndpoint {
    public let endpoint: String
    private let context: Context
    let socket: Socket
    private let authenticator: ZapAuthenticator?
    private let diagnostics: @Sendable (String) -> Void

    public init(
        bind endpoint: String, security: CoordinatorEndpoint.Security? = nil,
        diagnostics: @escaping @Sendable (String) -> Void = { StandardStreams.error("shoal: " + $0 + "\n") }
    ) throws {
        context = try Context()
        self.diagnostics = diagnostics
        if let security {
            authenticator = try ZapAuthenticator(context: context, allowedKeys: security.allowedKeys) { decision in
                if !decision.allowed { diagnostics("refused an API client from \(decision.address) with key \(decision.publicKey.isEmpty ? "(none)" : decision.publicKey)") }
            }
        } else {
            authenticator = nil
        }
        socket = try context.socket(.router)
        try socket.setOption(.linger, 0)
        try socket.setMaxMessageSize(Int64(WireCodec.maxPayloadBytes + 4096))
        if let security {
            try socket.setZapDomain("shoal-api")
            try socket.makeCurveServer(secretKey: security.keys.secretKey)
        }
        try socket.bind(endpoint)
        self.endpoint = endpoint.hasSuffix(":*") ? try socket.lastEndpoint : endpoint
    }

    deinit { authenticator?.stop() }

    /// Requests waiting now (bounded), each with the client's routing id.
    public func receive() throws -> [(client: [UInt8], message: ApiMessage)] {
        var requests: [(client: [UInt8], message: ApiMessage)] = []
        for _ in 0..<256 {
            let frames: [[UInt8]]
            do {
                guard let received = try socket.receive(dontWait: true, maxFrames: 8) else { break }
                frames = received
            } catch let refused as TooManyFrames {
                diagnostics("dropped an API request from \(peerName(refused.firstFrame)): \(refused)")
                reply(.failure("malformed request: \(refused)"), to: refused.firstFrame)
                continue
            }
            guard let client = frames.first else { continue }
            do {
                requests.append((client, try ApiCodec.decode(Array(frames.dropFirst()))))
            } catch {
                diagnostics("dropped an API request from \(peerName(client)): \(error)")
                reply(.failure("malformed request: \(error)"), to: client)
            }
        }
        return requests
    }

    public func reply(_ message: ApiMessage, to client: [UInt8]) {
        do {
            _ = try socket.send([client] + ApiCodec.encode(message), dontWait: true)
        } catch {
            diagnostics("cannot answer an API client: \(error)")
        }
    }
}
