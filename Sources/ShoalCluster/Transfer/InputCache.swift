import Foundation

/// Inputs a `--fetch-data` worker has fetched, kept up to a total size so that
/// later instances reading the same object (a replicated input, the code of
/// every instance, the next step's input) get a hard link instead of a second
/// trip over the wire. An entry is known by the coordinator's path, size and
/// version of the object (a rewrite through the store changes the version), and
/// is checked before each reuse: a copy written to since (by a job running
/// without the sandbox's overlay, say: its input is a hard link to the entry)
/// has another size or modification time, and the entry is dropped then.
/// The cache lives as long as the worker process: it starts empty.
final class InputCache {
    private struct Entry {
        let path: String
        let size: Int
        let modified: Modified
        var used: UInt64
    }

    private struct Modified: Equatable {
        let seconds: Int
        let nanoseconds: Int
    }

    let folder: URL
    let limitBytes: Int
    private var entries: [String: Entry] = [:]
    private var totalBytes = 0
    private var clock: UInt64 = 0
    private var next = 0

    init(folder: URL, limitBytes: Int) throws {
        self.folder = folder
        self.limitBytes = limitBytes
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// Links the kept copy of `file` to its local path; false when there is none
    /// (or it no longer matches), and the file has to be fetched.
    func link(_ file: Fetcher.File) -> Bool {
        guard let key = Self.key(file), let entry = entries[key] else { return false }
        guard let now = Self.status(entry.path), now.size == entry.size, now.modified == entry.modified else {
            drop(key)
            return false
        }
        guard Foundation.link(entry.path, file.local) == 0 else { return false }
        clock += 1
        entries[key]?.used = clock
        return true
    }

    /// Keeps a copy of a file just fetched and checked, evicting the least
    /// recently used entries to stay under the limit.
    func keep(_ file: Fetcher.File) {
        guard let key = Self.key(file), entries[key] == nil, let size = file.size, size <= limitBytes else { return }
        while totalBytes + size > limitBytes, let oldest = entries.min(by: { $0.value.used < $1.value.used }) { drop(oldest.key) }
        next += 1
        let path = folder.appendingPathComponent("\(next)").path
        guard Foundation.link(file.local, path) == 0, let status = Self.status(path), status.size == size else {
            unlink(path)
            return
        }
        clock += 1
        entries[key] = Entry(path: path, size: size, modified: status.modified, used: clock)
        totalBytes += size
    }

    private func drop(_ key: String) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        unlink(entry.path)
        totalBytes -= entry.size
    }

    private static func key(_ file: Fetcher.File) -> String? {
        guard let size = file.size, let version = file.version else { return nil }
        return "\(file.source)\u{0}\(size)\u{0}\(version)"
    }

    private static func status(_ path: String) -> (size: Int, modified: Modified)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (Int(info.st_size), Modified(seconds: Int(info.st_mtim.tv_sec), nanoseconds: Int(info.st_mtim.tv_nsec)))
    }
}
