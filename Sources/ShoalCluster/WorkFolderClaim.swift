import Foundation

/// A worker's hold on its work folder: an exclusive lock for its lifetime.
/// Whoever takes it removes what a crashed predecessor left there (job
/// sandboxes, transfers, per-task logs, function sandboxes; the input cache and recycled files
/// stay, they are meant to outlive a restart). A second worker given the same
/// folder is refused: it would otherwise delete a live worker's jobs.
public final class WorkFolderClaim {
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    private let descriptor: Int32
    private static let lockName = ".worker-lock"

    /// Whether a live worker holds `folder` now (a folder never claimed is free).
    public static func isHeld(_ folder: URL) -> Bool {
        let descriptor = open(folder.appendingPathComponent(lockName).path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        // Taking the lock here and dropping it at once: held means another process has it.
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(descriptor, LOCK_UN)
        return false
    }

    init(_ folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(Self.lockName).path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Refused(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw Refused(description: "the work folder \(folder.path) is in use by another worker; give each worker a --work-dir of its own")
        }
        self.descriptor = descriptor
        for leftover in ["jobs", "transfers", "logs", "functions-run"] { try? FileManager.default.removeItem(at: folder.appendingPathComponent(leftover)) }
    }

    deinit { close(descriptor) }
}
