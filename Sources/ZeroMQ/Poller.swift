import CZeroMQ

/// Which readiness a poll asks for or reports.
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public static let readable = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    public static let writable = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
    public static let error = PollEvents(rawValue: Int16(ZMQ_POLLERR))
}

/// Waits on several sockets (and plain file descriptors, such as an eventfd that
/// wakes a loop) with `zmq_poll`. Blocking: run it on a thread of its own.
public struct Poller {
    public enum Item {
        case socket(Socket, PollEvents)
        case fileDescriptor(Int32, PollEvents)
    }

    public private(set) var items: [Item] = []

    public init() {}

    /// Adds an item and returns its index in the result of `poll`.
    @discardableResult
    public mutating func add(_ socket: Socket, _ events: PollEvents = .readable) -> Int {
        items.append(.socket(socket, events))
        return items.count - 1
    }

    @discardableResult
    public mutating func add(fileDescriptor: Int32, _ events: PollEvents = .readable) -> Int {
        items.append(.fileDescriptor(fileDescriptor, events))
        return items.count - 1
    }

    /// Waits at most `timeoutMilliseconds` (-1: without limit) and returns the
    /// events each item is ready for, in the order added. An interrupted wait
    /// returns with nothing ready.
    public func poll(timeoutMilliseconds: Int) throws -> [PollEvents] {
        var raw = try items.map { item -> zmq_pollitem_t in
            switch item {
            case let .socket(socket, events):
                return zmq_pollitem_t(socket: try socket.open("zmq_poll"), fd: -1, events: events.rawValue, revents: 0)
            case let .fileDescriptor(fd, events):
                return zmq_pollitem_t(socket: nil, fd: fd, events: events.rawValue, revents: 0)
            }
        }
        let rc = zmq_poll(&raw, Int32(raw.count), timeoutMilliseconds)
        if rc < 0 {
            let error = ZMQError.last("zmq_poll")
            if error.isInterrupted { return Array(repeating: [], count: raw.count) }
            throw error
        }
        return raw.map { PollEvents(rawValue: $0.revents) }
    }
}
