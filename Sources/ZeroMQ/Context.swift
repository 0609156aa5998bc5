import CZeroMQ

/// A libzmq context. Sockets keep their context alive, so it is terminated only
/// after the last socket made from it has been closed.
public final class Context: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init(ioThreads: Int32 = 1) throws {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
        if ioThreads != 1 {
            guard zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads) == 0 else {
                let error = ZMQError.last("zmq_ctx_set(ZMQ_IO_THREADS)")
                zmq_ctx_term(handle)
                throw error
            }
        }
    }

    /// Makes blocking calls on every socket of this context fail with ETERM, so
    /// threads parked in `receive` or `poll` wake up and can close their sockets.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    public func socket(_ type: SocketType) throws -> Socket {
        try Socket(context: self, type: type)
    }

    deinit {
        // Every socket holds a strong reference to its context, so none is open here
        // and zmq_ctx_term cannot block on one.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}
