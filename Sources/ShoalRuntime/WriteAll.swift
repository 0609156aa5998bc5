import Foundation

/// Writes every byte to `descriptor`, going on after short writes and
/// interruptions; returns 0, or the `errno` of the write that failed.
public func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Int32 {
    var done = 0
    while done < bytes.count {
        let wrote = Foundation.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
        if wrote < 0 && errno == EINTR { continue }
        if wrote <= 0 { return wrote < 0 ? errno : EIO }
        done += wrote
    }
    return 0
}
