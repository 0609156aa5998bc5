import Foundation
import ZeroMQ

/// The bytes of one transfer chunk, kept in the libzmq message they arrive in
/// or leave in: a chunk goes from file to socket and from socket to file
/// without a copy of its own in between.
public struct DataFrame: Sendable, Equatable, ExpressibleByArrayLiteral {
    let message: Message

    init(message: Message) { self.message = message }

    public init(_ bytes: [UInt8]) { message = Message(bytes) }

    public init(arrayLiteral elements: UInt8...) { self.init(elements) }

    public var count: Int { message.count }
    public var bytes: [UInt8] { message.bytes }

    public var crc32c: UInt32 {
        var crc = CRC32C()
        message.withUnsafeBytes { crc.update($0) }
        return crc.value
    }

    public static func == (lhs: DataFrame, rhs: DataFrame) -> Bool {
        lhs.message.withUnsafeBytes { left in rhs.message.withUnsafeBytes { right in left.elementsEqual(right) } }
    }

    /// Up to `limit` bytes from the file's current position, read straight into
    /// the frame; fewer only at the end of the file.
    static func read(from handle: FileHandle, limit: Int = TransferLimits.chunkBytes) throws -> DataFrame {
        let message = Message(size: limit)
        var failure: Int32 = 0
        let count = message.withUnsafeMutableBytes { buffer in
            var count = 0
            while count < limit {
                let got = Foundation.read(handle.fileDescriptor, buffer.baseAddress! + count, limit - count)
                if got < 0 && errno == EINTR { continue }
                if got < 0 { failure = errno }
                if got <= 0 { break }
                count += got
            }
            return count
        }
        if failure != 0 { throw TransferFailed(description: "read: \(String(cString: strerror(failure)))") }
        if count == limit { return DataFrame(message: message) }
        // Only a file's last chunk is short: a message cannot shrink, so this one is copied.
        return message.withUnsafeBytes { DataFrame(Array($0.prefix(count))) }
    }

    func write(to handle: FileHandle) throws {
        try message.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let wrote = Foundation.write(handle.fileDescriptor, buffer.baseAddress! + done, buffer.count - done)
                if wrote < 0 && errno == EINTR { continue }
                if wrote <= 0 { throw TransferFailed(description: "write: \(String(cString: strerror(errno)))") }
                done += wrote
            }
        }
    }
}
