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

/// Writes to standard output and error without trapping: Foundation's
/// `FileHandle.write(_:)` traps on any error, so a daemon whose stderr is a
/// file on a full disk, or a closed pipe, would die of a log line. Here the
/// line is lost instead.
public enum StandardStreams {
    public static func error(_ text: String) { write(Data(text.utf8), to: STDERR_FILENO) }
    public static func output(_ text: String) { write(Data(text.utf8), to: STDOUT_FILENO) }
    public static func output(_ data: Data) { write(data, to: STDOUT_FILENO) }

    private static func write(_ data: Data, to descriptor: Int32) {
        _ = data.withUnsafeBytes { writeAll($0, to: descriptor) }
    }
}
