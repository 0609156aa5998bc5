import Foundation

/// Inputs a `--fetch-data` worker has fetched, kept up to a total size so that
/// later instances reading the same object (a replicated input, the code of
/// every instance, the next step's input) get a hard link instead of a second
/// trip over the wire. An entry is known by the coordinator's path, size and
/// version of the object (a rewrite through the store changes the version), and
/// is checked before each reuse: a copy written to since (by a job running
/// without the sandbox's overlay, say: its input is a hard link to the entry)
/// has another size or modification time, and the entry is dropped then.
/// The first part of a file whose fetch was interrupted is kept the same way,
/// with the object CRC of its chunks, for the next attempt to go on from.
/// A worker that stops cleanly (SIGTERM, a restart for an upgrade) writes an
/// index, and the next worker on the same folder starts with the entries that
/// still match it; after a crash the cache starts empty.
final class InputCache {
    private struct Entry: Codable {
        var path: String
        let size: Int
        let modified: Modified
        var used: UInt64
        /// Set for the first part of a file: the object CRC of its chunks.
        var partCRC: UInt32? = nil
    }

    private struct Modified: Equatable, Codable {
        let seconds: Int
        let nanoseconds: Int
    }

    let folder: URL
    let limitBytes: Int
    let limitFiles: Int
    /// Where a copy given up goes, to be written over by a later fetch.
    private let recycled: RecycledFiles?
    private var entries: [String: Entry] = [:]
    private var totalBytes = 0
    private var clock: UInt64 = 0
    private var next = 0
    private var index: URL { folder.appendingPathComponent("index.json") }
    /// Every entry takes a line of the index: this bounds it (to tens of MiB).
    private static let maxIndexBytes = 64 << 20

    init(folder: URL, limitBytes: Int, limitFiles: Int = 100_000, recycled: RecycledFiles? = nil) throws {
        self.folder = folder
        self.limitBytes = limitBytes
        self.limitFiles = limitFiles
        self.recycled = recycled
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        restore()
    }

    /// Takes back the entries a clean stop wrote down that still match their
    /// files (within today's limits, most recently used first); every other
    /// file in the folder goes. The index is removed once read: a worker that
    /// crashes later leaves none, and its successor starts empty.
    private func restore() {
        var saved: [String: Entry] = [:]
        if let handle = FileHandle(forReadingAtPath: index.path) {
            if let data = try? handle.read(upToCount: Self.maxIndexBytes + 1), data.count <= Self.maxIndexBytes,
               let decoded = try? JSONDecoder().decode([String: Entry].self, from: data) {
                saved = decoded
            }
            try? handle.close()
        }
        unlink(index.path)
        var adopted: Set<String> = []
        for (key, entry) in saved.sorted(by: { $0.value.used > $1.value.used }) {
            let path = folder.appendingPathComponent((entry.path as NSString).lastPathComponent).path
            guard entries.count < limitFiles, totalBytes + entry.size <= limitBytes,
                  let now = Self.status(path), now.size == entry.size, now.modified == entry.modified else { continue }
            var kept = entry
            kept.path = path
            entries[key] = kept
            totalBytes += entry.size
            clock = max(clock, entry.used)
            next = max(next, Int((path as NSString).lastPathComponent) ?? 0)
            adopted.insert((path as NSString).lastPathComponent)
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where !adopted.contains(name) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// Writes the index for the next worker on this folder (atomically: a
    /// half-written index is never read).
    func save() {
        guard !entries.isEmpty, let data = try? JSONEncoder().encode(entries), data.count <= Self.maxIndexBytes else { return }
        let temporary = folder.appendingPathComponent("index.json.partial")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else { return }
        rename(temporary.path, index.path)
    }

    /// Links the kept copy of `file` to its local path; false when there is none
    /// (or it no longer matches), and the file has to be fetched.
    func link(_ file: Fetcher.File) -> Bool {
        guard let key = Self.key(file), let entry = entries[key], entry.partCRC == nil else { return false }
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
        guard let key = Self.key(file), let size = file.size else { return }
        if let entry = entries[key] {
            guard entry.partCRC != nil else { return }
            drop(key)
        }
        add(key, linking: file.local, size: size, partCRC: nil)
    }

    /// Keeps the first `size` bytes of a file an interrupted fetch left (whole
    /// chunks, `crc` their object CRC), unless the whole file is kept already.
    func keepPart(of file: Fetcher.File, size: Int, crc: UInt32) {
        guard let key = Self.key(file), size > 0, size % TransferLimits.chunkBytes == 0 else { return }
        if let entry = entries[key] {
            guard entry.partCRC != nil, entry.size < size else { return }
            drop(key)
        }
        add(key, linking: file.local, size: size, partCRC: crc)
    }

    /// Links `local` (of `size` bytes) into the cache under `key`, evicting the
    /// least recently used entries to stay under the limits.
    private func add(_ key: String, linking local: String, size: Int, partCRC: UInt32?) {
        guard size <= limitBytes else { return }
        while totalBytes + size > limitBytes || entries.count >= limitFiles, let oldest = entries.min(by: { $0.value.used < $1.value.used }) { drop(oldest.key) }
        next += 1
        let path = folder.appendingPathComponent("\(next)").path
        guard Foundation.link(local, path) == 0, let status = Self.status(path), status.size == size else {
            unlink(path)
            return
        }
        clock += 1
        entries[key] = Entry(path: path, size: size, modified: status.modified, used: clock, partCRC: partCRC)
        totalBytes += size
    }

    /// Moves the kept first part of `file` to its local path, for the fetch to
    /// go on from; returns its size and object CRC, or nil when there is none.
    /// The part leaves the cache: it is about to be written to.
    func takePart(of file: Fetcher.File) -> (size: Int, crc: UInt32)? {
        guard let key = Self.key(file), let entry = entries[key], let crc = entry.partCRC else { return nil }
        entries[key] = nil
        totalBytes -= entry.size
        guard let now = Self.status(entry.path), now.size == entry.size, now.modified == entry.modified,
              rename(entry.path, file.local) == 0 else {
            unlink(entry.path)
            return nil
        }
        return (entry.size, crc)
    }

    private func drop(_ key: String) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        if recycled?.keep(entry.path) != true { unlink(entry.path) }
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
