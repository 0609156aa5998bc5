import CZeroMQ

/// A failed libzmq call: the operation that failed and libzmq's own text for `errno`.
public struct ZMQError: Error, Equatable, CustomStringConvertible, Sendable {
    public let operation: String
    public let code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// Reads `zmq_errno()` right after a failing call.
    static func last(_ operation: String) -> ZMQError {
        ZMQError(operation: operation, code: zmq_errno())
    }

    public var message: String { String(cString: zmq_strerror(code)) }
    public var description: String { "\(operation): \(message)" }

    /// The call would have blocked (non-blocking mode or a send/receive timeout).
    public var isWouldBlock: Bool { code == EAGAIN }
    /// The context was shut down under the call.
    public var isContextTerminated: Bool { code == ETERM }
    /// A signal interrupted the call; retrying is safe.
    public var isInterrupted: Bool { code == EINTR }
}
