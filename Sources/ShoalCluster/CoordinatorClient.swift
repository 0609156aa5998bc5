import Foundation
import ZeroMQ

/// A client of a coordinator's API socket: one request at a time, each reply
/// awaited for at most `timeout` seconds.
public final class CoordinatorClient {
    private let context: Context
    private let socket: Socket
    public let endpoint: String
    public let timeout: TimeInterval

    public struct Unreachable: Error, CustomStringConvertible {
        public let endpoint: String
        public let seconds: TimeInterval
        public var description: String { "the coordinator at \(endpoint) did not answer within \(Int(seconds)) s" }
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    public init(endpoint: String, curve: (serverKey: String, keys: CurveKeyPair)? = nil, timeout: TimeInterval = 10) throws {
        self.endpoint = endpoint
        self.timeout = timeout
        context = try Context()
        socket = try Self.socket(in: context, endpoint: endpoint, curve: curve)
    }

    /// A DEALER connected to the API socket at `endpoint`.
    static func socket(in context: Context, endpoint: String, curve: (serverKey: String, keys: CurveKeyPair)?) throws -> Socket {
        let socket = try context.socket(.dealer)
        try socket.setOption(.linger, 0)
        try socket.setMaxMessageSize(Int64(WireCodec.maxPayloadBytes + 4096))
        if let curve { try socket.makeCurveClient(serverKey: curve.serverKey, keys: curve.keys) }
        try socket.connect(endpoint)
        return socket
    }

    /// A reply's frames read; a `failure` reply is thrown as `Refused`.
    static func reply(_ frames: [[UInt8]]) throws -> ApiMessage {
        let reply = try ApiCodec.decode(frames)
        if case let .failure(reason) = reply { throw Refused(description: reason) }
        return reply
    }

    /// Sends a request and returns the reply (waiting `timeout`, else the
    /// client's); a `failure` reply is thrown as `Refused`.
    public func request(_ message: ApiMessage, timeout: TimeInterval? = nil) throws -> ApiMessage {
        _ = try socket.send(ApiCodec.encode(message))
        var poller = Poller()
        poller.add(socket)
        let timeout = timeout ?? self.timeout
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let ready = try poller.poll(timeoutMilliseconds: 100)
            guard ready[0].contains(.readable), let frames = try socket.receive(dontWait: true, maxFrames: 8) else { continue }
            return try Self.reply(frames)
        }
        throw Unreachable(endpoint: endpoint, seconds: timeout)
    }
}
