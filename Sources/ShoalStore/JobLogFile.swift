import Foundation

/// Appends a job's output to its log file in the home, up to a cap: a job that
/// prints without end must not fill the coordinator's disk. Past the cap one
/// line says the rest was dropped. Written with plain `write(2)` because
/// Foundation's `FileHandle.write(_:)` traps on any error (ENOSPC included).
public enum JobLogFile {
    public static let defaultCapBytes = 100 << 20

    /// The log could not be written; names the file and, for a full disk, says so.
    public struct WriteFailed: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let code: Int32

        public var description: String {
            if code == ENOSPC || code == EDQUOT {
                return "the filesystem holding \((path as NSString).deletingLastPathComponent) is full: no space left to write the log \(path)"
            }
            return "cannot write the log \(path): \(String(cString: strerror(code)))"
        }
    }

    /// Appends `text`, or as much of it as the cap leaves room for. Returns
    /// false when something was dropped because the log reached `capBytes`.
    @discardableResult
    public static func append(_ text: String, to file: URL, capBytes: Int = defaultCapBytes) throws(WriteFailed) -> Bool {
        let path = file.path
        do {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            throw WriteFailed(path: path, code: underlying.flatMap { $0.domain == NSPOSIXErrorDomain ? Int32($0.code) : nil } ?? EIO)
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WriteFailed(path: path, code: errno) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw WriteFailed(path: path, code: errno) }
        let size = Int(info.st_size)
        var bytes = Array(text.utf8)
        var dropped = false
        if size + bytes.count > capBytes {
            // A log already past its cap carries the line; one exactly at it does not yet.
            if size > capBytes { return bytes.isEmpty }
            bytes = Array(bytes.prefix(capBytes - size))
            bytes += Array("\nshoal: this log reached its cap of \(capBytes >> 20 > 0 ? "\(capBytes >> 20) MiB" : "\(capBytes) bytes") (--max-log-mib); the rest of the job's output was dropped\n".utf8)
            dropped = true
        }
        var done = 0
        while done < bytes.count {
            let wrote = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, $0.count - done) }
            if wrote < 0 && errno == EINTR { continue }
            if wrote <= 0 { throw WriteFailed(path: path, code: wrote < 0 ? errno : EIO) }
            done += wrote
        }
        return !dropped
    }
}
