import CZeroMQ
import Foundation

/// One frame, owning a `zmq_msg_t`. Receiving into a `Message` and sending one
/// never copies its bytes, which matters for the large data frames of transfers.
public final class Message: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<zmq_msg_t>
    /// Set after a receive: more frames of the same multipart message follow.
    public internal(set) var hasMore = false

    /// An empty frame, or one to receive into.
    public init() {
        pointer = .allocate(capacity: 1)
        zmq_msg_init(pointer)
    }

    /// A frame holding a copy of `bytes`.
    public convenience init(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        self.init(size: array.count)
        array.withUnsafeBytes { source in
            if let base = source.baseAddress { zmq_msg_data(pointer).copyMemory(from: base, byteCount: source.count) }
        }
    }

    /// A frame holding a copy of `string`'s UTF-8 bytes.
    public convenience init(string: String) {
        self.init(Array(string.utf8))
    }

    /// A frame of `size` uninitialised bytes, to be filled through `withUnsafeMutableBytes`.
    public init(size: Int) {
        pointer = .allocate(capacity: 1)
        zmq_msg_init_size(pointer, size)
    }

    /// A frame that takes ownership of `buffer` without copying it; `deallocate`
    /// runs (possibly on a libzmq I/O thread) once libzmq is done with the bytes.
    public init(owning buffer: UnsafeMutableRawBufferPointer, deallocate: @escaping @Sendable (UnsafeMutableRawBufferPointer) -> Void) {
        pointer = .allocate(capacity: 1)
        let box = Unmanaged.passRetained(BufferRelease(buffer: buffer, release: deallocate)).toOpaque()
        let rc = zmq_msg_init_data(pointer, buffer.baseAddress, buffer.count, releaseBufferRelease, box)
        if rc != 0 {
            Unmanaged<BufferRelease>.fromOpaque(box).release()
            zmq_msg_init(pointer)
        }
    }

    deinit {
        zmq_msg_close(pointer)
        pointer.deallocate()
    }

    public var count: Int { zmq_msg_size(pointer) }

    /// A property of a received frame (`zmq_msg_gets`): "User-Id" is what the
    /// ZAP handler admitted the sender as, "Peer-Address" where it connected from.
    public func property(_ name: String) -> String? {
        guard let value = zmq_msg_gets(pointer, name) else { return nil }
        return String(cString: value)
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: zmq_msg_data(pointer), count: count))
    }

    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: zmq_msg_data(pointer), count: count))
    }

    /// A copy of the frame's bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
    /// A copy of the frame's bytes as `Data`.
    public var data: Data { withUnsafeBytes { Data($0) } }
    /// The frame decoded as UTF-8 (invalid sequences are replaced).
    public var string: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
}

final class BufferRelease {
    let buffer: UnsafeMutableRawBufferPointer
    let release: @Sendable (UnsafeMutableRawBufferPointer) -> Void
    init(buffer: UnsafeMutableRawBufferPointer, release: @escaping @Sendable (UnsafeMutableRawBufferPointer) -> Void) {
        self.buffer = buffer
        self.release = release
    }
}

private let releaseBufferRelease: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { _, hint in
    guard let hint else { return }
    let box = Unmanaged<BufferRelease>.fromOpaque(hint).takeRetainedValue()
    box.release(box.buffer)
}
