import Foundation

/// Chunk reads and writes straight between a file descriptor and the array a
/// message carries: no intermediate `Data`, so each byte is copied once.
enum ChunkIO {
    /// Up to `limit` bytes from the file's current position; fewer only at its end.
    static func read(_ handle: FileHandle, limit: Int = TransferLimits.chunkBytes) throws -> [UInt8] {
        let descriptor = handle.fileDescriptor
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: limit) { buffer, count in
            count = 0
            while count < limit {
                let got = Foundation.read(descriptor, buffer.baseAddress! + count, limit - count)
                if got < 0 && errno == EINTR { continue }
                if got < 0 { failure = errno }
                if got <= 0 { break }
                count += got
            }
        }
        if failure != 0 { throw TransferFailed(description: "read: \(String(cString: strerror(failure)))") }
        return bytes
    }

    static func write(_ bytes: [UInt8], to handle: FileHandle) throws {
        let descriptor = handle.fileDescriptor
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let wrote = Foundation.write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                if wrote < 0 && errno == EINTR { continue }
                if wrote <= 0 { throw TransferFailed(description: "write: \(String(cString: strerror(errno)))") }
                done += wrote
            }
        }
    }
}
