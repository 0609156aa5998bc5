import CZeroMQ
import Foundation

/// What libzmq reports about a socket's connections (`zmq_socket_monitor`),
/// read without waiting from a PAIR socket. Shoal watches handshakes: a CURVE
/// server that refuses a client's key says so only through these.
public final class SocketMonitor {
    public enum Event: Sendable, Equatable {
        case handshakeSucceeded(endpoint: String)
        /// The server refused the credentials (a ZAP status code: 400 for a key not allowed).
        case handshakeFailedAuth(endpoint: String, status: Int)
        case handshakeFailedProtocol(endpoint: String, code: Int)
        case other(event: Int, value: Int, endpoint: String)
    }

    private let socket: Socket

    /// Starts watching `watched`'s handshakes; `context` must be the one `watched` belongs to.
    public init(watching watched: Socket, context: Context) throws {
        let address = "inproc://shoal-monitor-\(UUID().uuidString)"
        let events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
        guard zmq_socket_monitor(try watched.open("zmq_socket_monitor"), address, events) == 0 else { throw ZMQError.last("zmq_socket_monitor") }
        socket = try context.socket(.pair)
        try socket.setOption(.linger, 0)
        try socket.connect(address)
    }

    /// The next event reported, or nil when none is waiting.
    public func next() throws -> Event? {
        while let frames = try socket.receive(dontWait: true, maxFrames: 2) {
            guard frames.count == 2, frames[0].count >= 6 else { continue }
            let event = Int(UInt16(frames[0][0]) | UInt16(frames[0][1]) << 8)
            let value = Int(UInt32(frames[0][2]) | UInt32(frames[0][3]) << 8 | UInt32(frames[0][4]) << 16 | UInt32(frames[0][5]) << 24)
            let endpoint = String(decoding: frames[1], as: UTF8.self)
            switch Int32(event) {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return .handshakeSucceeded(endpoint: endpoint)
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return .handshakeFailedAuth(endpoint: endpoint, status: value)
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: return .handshakeFailedProtocol(endpoint: endpoint, code: value)
            default: return .other(event: event, value: value, endpoint: endpoint)
            }
        }
        return nil
    }

    deinit { socket.close() }
}
