import Foundation
import ShoalRuntime
import ZeroMQ

/// The bytes of one transfer chunk, kept in the libzmq message they arrive in
/// or leave in: a chunk goes from file to socket and from socket to file
/// without a copy of its own in between.
public struct DataFrame: Sendable, Equatable, ExpressibleByArrayLiteral {
    let message: Message
    /// The CRC, when it was taken while the bytes were read in.
    private let readCRC: UInt32?

    init(message: Message, crc: UInt32? = nil) {
        self.message = message
        readCRC = crc
    }

    public init(_ bytes: [UInt8]) {
        message = Message(bytes)
        readCRC = nil
    }

    public init(arrayLiteral elements: UInt8...) { self.init(elements) }

    public var count: Int { message.count }
    public var bytes: [UInt8] { message.bytes }

    public var crc32c: UInt32 {
        if let readCRC { return readCRC }
        var crc = CRC32C()
        message.withUnsafeBytes { crc.update($0) }
        return crc.value
    }

    /// Chunks are read, checksummed and written in pieces this size, so the
    /// checksum reads bytes the copy just brought into the CPU's cache (a whole
    /// 1 MiB chunk is larger than a core's L2 cache).
    static let pieceBytes = 256 * 1024

    public static func == (lhs: DataFrame, rhs: DataFrame) -> Bool {
        lhs.message.withUnsafeBytes { left in rhs.message.withUnsafeBytes { right in left.elementsEqual(right) } }
    }

    /// Up to `limit` bytes from the file's current position, read straight into
    /// the frame and checksummed as they come; fewer only at the end of the file.
    static func read(from handle: FileHandle, limit: Int = TransferLimits.chunkBytes) throws -> DataFrame {
        let message = Message(size: limit)
        var failure: Int32 = 0
        var crc = CRC32C()
        let count = message.withUnsafeMutableBytes { buffer in
            var count = 0
            while count < limit {
                let got = Foundation.read(handle.fileDescriptor, buffer.baseAddress! + count, min(pieceBytes, limit - count))
                if got < 0 && errno == EINTR { continue }
                if got < 0 { failure = errno }
                if got <= 0 { break }
                crc.update(UnsafeRawBufferPointer(rebasing: buffer[count..<(count + got)]))
                count += got
            }
            return count
        }
        if failure != 0 { throw TransferFailed(description: "read: \(String(cString: strerror(failure)))") }
        if count == limit { return DataFrame(message: message, crc: crc.value) }
        // Only a file's last chunk is short: a message cannot shrink, so this one is copied.
        return message.withUnsafeBytes { DataFrame(message: Message($0.prefix(count)), crc: crc.value) }
    }

    /// Writes the bytes at the file's current position.
    func write(to handle: FileHandle) throws {
        try message.withUnsafeBytes { try Self.write($0, to: handle.fileDescriptor) }
    }

    /// Writes the bytes piece by piece, checksumming each piece just before it
    /// is written; returns the CRC of the whole. The caller compares it and, on
    /// a mismatch, must discard the file (the bytes are in it by then).
    func writeChecksummed(to handle: FileHandle) throws -> UInt32 {
        var crc = CRC32C()
        try message.withUnsafeBytes { buffer in
            var start = 0
            while start < buffer.count {
                let piece = UnsafeRawBufferPointer(rebasing: buffer[start..<min(buffer.count, start + Self.pieceBytes)])
                crc.update(piece)
                try Self.write(piece, to: handle.fileDescriptor)
                start += piece.count
            }
        }
        return crc.value
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) throws {
        let failure = writeAll(bytes, to: descriptor)
        if failure != 0 { throw TransferFailed(description: "write: \(String(cString: strerror(failure)))") }
    }
}
