import CZeroMQ

/// A libzmq socket. Use it from one thread at a time (libzmq sockets may move
/// between threads, but are not safe to share). Closed exactly once: by `close()`
/// or, failing that, when it is released.
public final class Socket: @unchecked Sendable {
    /// Keeps the context alive for as long as the socket is open.
    public let context: Context
    public let type: SocketType
    private var handle: UnsafeMutableRawPointer?

    init(context: Context, type: SocketType) throws {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError.last("zmq_socket(\(type))")
        }
        self.context = context
        self.type = type
        self.handle = handle
        // libzmq's default linger is forever, which would make a context wait on an
        // unreachable peer without bound; a second is enough to flush on loopback.
        try setOption(.linger, 1000)
    }

    deinit { close() }

    public var isClosed: Bool { handle == nil }

    public func close() {
        guard let handle else { return }
        self.handle = nil
        zmq_close(handle)
    }

    func open(_ operation: String) throws -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(operation: operation, code: ENOTSOCK) }
        return handle
    }

    /// The libzmq handle, for `zmq_poll`.
    var rawHandle: UnsafeMutableRawPointer? { handle }

    // MARK: Endpoints

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(try open("zmq_bind"), endpoint) == 0 else { throw ZMQError.last("zmq_bind(\(endpoint))") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(try open("zmq_connect"), endpoint) == 0 else { throw ZMQError.last("zmq_connect(\(endpoint))") }
    }

    public func unbind(_ endpoint: String) throws {
        guard zmq_unbind(try open("zmq_unbind"), endpoint) == 0 else { throw ZMQError.last("zmq_unbind(\(endpoint))") }
    }

    public func disconnect(_ endpoint: String) throws {
        guard zmq_disconnect(try open("zmq_disconnect"), endpoint) == 0 else { throw ZMQError.last("zmq_disconnect(\(endpoint))") }
    }

    /// The endpoint last bound, with the real port after binding `tcp://127.0.0.1:*`.
    public var lastEndpoint: String {
        get throws { String(decoding: try bytesOption(ZMQ_LAST_ENDPOINT, name: "ZMQ_LAST_ENDPOINT", capacity: 1024).prefix { $0 != 0 }, as: UTF8.self) }
    }

    // MARK: Options

    public func setOption(_ option: IntOption, _ value: Int32) throws {
        var value = value
        guard zmq_setsockopt(try open("zmq_setsockopt"), option.rawValue, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(\(option.name))")
        }
    }

    public func option(_ option: IntOption) throws -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(try open("zmq_getsockopt"), option.rawValue, &value, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt(\(option.name))")
        }
        return value
    }

    /// Peers sending a larger message are disconnected by libzmq; -1 means no limit.
    public func setMaxMessageSize(_ bytes: Int64) throws {
        var value = bytes
        guard zmq_setsockopt(try open("zmq_setsockopt"), ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(ZMQ_MAXMSGSIZE)")
        }
    }

    public func maxMessageSize() throws -> Int64 {
        var value: Int64 = 0
        var size = MemoryLayout<Int64>.size
        guard zmq_getsockopt(try open("zmq_getsockopt"), ZMQ_MAXMSGSIZE, &value, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt(ZMQ_MAXMSGSIZE)")
        }
        return value
    }

    /// The identity a ROUTER peer sees for this socket (1 to 255 bytes); set before connecting.
    public func setRoutingId(_ id: [UInt8]) throws {
        try setBytes(ZMQ_ROUTING_ID, id, name: "ZMQ_ROUTING_ID")
    }

    public func routingId() throws -> [UInt8] {
        try bytesOption(ZMQ_ROUTING_ID, name: "ZMQ_ROUTING_ID", capacity: 256)
    }

    public func subscribe(_ prefix: [UInt8] = []) throws {
        try setBytes(ZMQ_SUBSCRIBE, prefix, name: "ZMQ_SUBSCRIBE")
    }

    public func unsubscribe(_ prefix: [UInt8] = []) throws {
        try setBytes(ZMQ_UNSUBSCRIBE, prefix, name: "ZMQ_UNSUBSCRIBE")
    }

    /// Makes this socket a CURVE server with its long-term secret key (Z85, 40 characters).
    /// A ZAP handler must already run on the context: without one libzmq admits any client.
    public func makeCurveServer(secretKey: String) throws {
        try setOption(ZMQ_CURVE_SERVER, 1, name: "ZMQ_CURVE_SERVER")
        try setZ85Key(ZMQ_CURVE_SECRETKEY, secretKey, name: "ZMQ_CURVE_SECRETKEY")
    }

    /// Makes this socket a CURVE client that trusts `serverKey` and authenticates with `keys`.
    public func makeCurveClient(serverKey: String, keys: CurveKeyPair) throws {
        try setZ85Key(ZMQ_CURVE_SERVERKEY, serverKey, name: "ZMQ_CURVE_SERVERKEY")
        try setZ85Key(ZMQ_CURVE_PUBLICKEY, keys.publicKey, name: "ZMQ_CURVE_PUBLICKEY")
        try setZ85Key(ZMQ_CURVE_SECRETKEY, keys.secretKey, name: "ZMQ_CURVE_SECRETKEY")
    }

    /// The ZAP domain this socket's connections are authenticated under.
    public func setZapDomain(_ domain: String) throws {
        try setBytes(ZMQ_ZAP_DOMAIN, Array(domain.utf8), name: "ZMQ_ZAP_DOMAIN")
    }

    private func setOption(_ raw: Int32, _ value: Int32, name: String) throws {
        var value = value
        guard zmq_setsockopt(try open("zmq_setsockopt"), raw, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(\(name))")
        }
    }

    private func setZ85Key(_ raw: Int32, _ key: String, name: String) throws {
        guard CurveKeyPair.isValidKey(key) else { throw ZMQError(operation: "zmq_setsockopt(\(name))", code: EINVAL) }
        // A 41-byte buffer (40 Z85 characters and NUL) tells libzmq the key is Z85 text.
        try setBytes(raw, Array(key.utf8) + [0], name: name)
    }

    private func setBytes(_ raw: Int32, _ bytes: [UInt8], name: String) throws {
        let handle = try open("zmq_setsockopt")
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, raw, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last("zmq_setsockopt(\(name))") }
    }

    private func bytesOption(_ raw: Int32, name: String, capacity: Int) throws -> [UInt8] {
        let handle = try open("zmq_getsockopt")
        var buffer = [UInt8](repeating: 0, count: capacity)
        var size = capacity
        let rc = buffer.withUnsafeMutableBytes { zmq_getsockopt(handle, raw, $0.baseAddress, &size) }
        guard rc == 0 else { throw ZMQError.last("zmq_getsockopt(\(name))") }
        return Array(buffer.prefix(size))
    }

    // MARK: Sending

    /// Sends the frames as one multipart message, copying each into libzmq.
    /// Returns false when `dontWait` is set and the message could not be queued.
    @discardableResult
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws -> Bool {
        let handle = try open("zmq_send")
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                if rc >= 0 { break }
                let error = ZMQError.last("zmq_send")
                if error.isInterrupted { continue }
                // libzmq queues a multipart message whole once its first frame is in.
                if error.isWouldBlock && index == 0 { return false }
                throw error
            }
        }
        return true
    }

    /// Sends the messages as one multipart message without copying their bytes;
    /// libzmq takes their content, leaving them empty.
    @discardableResult
    public func send(messages: [Message], dontWait: Bool = false) throws -> Bool {
        let handle = try open("zmq_msg_send")
        for (index, message) in messages.enumerated() {
            var flags: Int32 = index < messages.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            while zmq_msg_send(message.pointer, handle, flags) < 0 {
                let error = ZMQError.last("zmq_msg_send")
                if error.isInterrupted { continue }
                if error.isWouldBlock && index == 0 { return false }
                throw error
            }
        }
        return true
    }

    // MARK: Receiving

    /// Receives one whole multipart message without copying frames. Returns nil when
    /// `dontWait` is set (or a receive timeout passes) and nothing is waiting. A
    /// message of more than `maxFrames` frames is read to its end and refused.
    public func receiveMessages(dontWait: Bool = false, maxFrames: Int = 1024) throws -> [Message]? {
        let handle = try open("zmq_msg_recv")
        var frames: [Message] = []
        var tooMany = false
        repeat {
            let message = Message()
            while zmq_msg_recv(message.pointer, handle, dontWait && frames.isEmpty ? ZMQ_DONTWAIT : 0) < 0 {
                let error = ZMQError.last("zmq_msg_recv")
                if error.isInterrupted { continue }
                if error.isWouldBlock && frames.isEmpty { return nil }
                throw error
            }
            message.hasMore = zmq_msg_more(message.pointer) != 0
            if frames.count < maxFrames { frames.append(message) } else { tooMany = true; frames[frames.count - 1] = message }
        } while frames.last?.hasMore == true
        if tooMany { throw TooManyFrames(limit: maxFrames, firstFrame: frames[0].bytes) }
        return frames
    }

    /// Receives one whole multipart message as copied byte arrays.
    public func receive(dontWait: Bool = false, maxFrames: Int = 1024) throws -> [[UInt8]]? {
        try receiveMessages(dontWait: dontWait, maxFrames: maxFrames).map { $0.map(\.bytes) }
    }
}

/// A multipart message had more frames than the receiver accepts; it was
/// discarded whole, and the socket is ready for the next message. This is the
/// sender's error, not the socket's: receivers log it and go on.
public struct TooManyFrames: Error, Equatable, CustomStringConvertible {
    public let limit: Int
    /// The discarded message's first frame: on a ROUTER, the sender's routing id.
    public let firstFrame: [UInt8]
    public init(limit: Int, firstFrame: [UInt8] = []) {
        self.limit = limit
        self.firstFrame = firstFrame
    }
    public var description: String { "a multipart message had more than \(limit) frames and was discarded" }
}
