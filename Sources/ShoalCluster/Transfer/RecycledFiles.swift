import CShoalSystem
import Foundation

/// The fetched inputs of finished tasks and the copies the input cache gives
/// up, kept to be written over by later fetches instead of deleted, the way databases recycle their log segments:
/// writing into a file's pages and blocks costs a third of filling a new file
/// (on ext4 here: 15 against 6 GB/s, with the inode, block and page-cache
/// allocations it spares, and the deletion). Only files with no other link are
/// taken in (a kept input-cache copy is never written over), only up to a total
/// size and count, oldest given up first; a file taken out is cut to the size
/// it is about to receive, so no byte of an earlier task is left in it.
/// A worker starting on the same folder takes over the files it finds there.
final class RecycledFiles {
    let folder: URL
    let limitBytes: Int
    let limitFiles: Int
    private var files: [(path: String, size: Int)] = []
    private(set) var totalBytes = 0
    private var next = 0

    /// Below this, a new file costs about what a recycled one does.
    static let smallestKept = TransferLimits.chunkBytes

    init(folder: URL, limitBytes: Int = 1 << 30, limitFiles: Int = 1024) throws {
        self.folder = folder
        self.limitBytes = limitBytes
        self.limitFiles = limitFiles
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
            let path = folder.appendingPathComponent(name).path
            var info = stat()
            if let number = Int(name), lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1,
               admit(Int(info.st_size)) {
                files.append((path, Int(info.st_size)))
                totalBytes += Int(info.st_size)
                next = max(next, number)
            } else {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    /// Whether a file this size may be kept, making room for it if so.
    private func admit(_ size: Int) -> Bool {
        guard size >= Self.smallestKept, size <= limitBytes else { return false }
        while !files.isEmpty && (totalBytes + size > limitBytes || files.count >= limitFiles) { drop(at: 0) }
        return true
    }

    /// Takes in a file the worker is done with; false when it is not kept (then
    /// the caller deletes it with the rest of its folder).
    @discardableResult
    func keep(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1 else { return false }
        guard admit(Int(info.st_size)) else { return false }
        next += 1
        let kept = folder.appendingPathComponent("\(next)").path
        guard rename(path, kept) == 0 else { return false }
        files.append((kept, Int(info.st_size)))
        totalBytes += Int(info.st_size)
        return true
    }

    /// Moves a kept file to `path`, cut to `size` bytes, and opens it for
    /// writing from its start; nil when none is kept. The closest in size wins:
    /// the smallest that is large enough, else the largest.
    func take(to path: String, size: Int) -> FileHandle? {
        guard size >= Self.smallestKept, !files.isEmpty else { return nil }
        let index = files.indices.filter { files[$0].size >= size }.min { files[$0].size < files[$1].size }
            ?? files.indices.max { files[$0].size < files[$1].size }!
        let file = files.remove(at: index)
        totalBytes -= file.size
        guard rename(file.path, path) == 0 else {
            unlink(file.path)
            return nil
        }
        guard let handle = FileHandle(forWritingAtPath: path), ftruncate(handle.fileDescriptor, off_t(min(size, file.size))) == 0 else {
            unlink(path)
            return nil
        }
        return handle
    }

    /// Gives every kept file up (the disk is full).
    func drain() {
        while !files.isEmpty { drop(at: 0) }
    }

    private func drop(at index: Int) {
        let file = files.remove(at: index)
        unlink(file.path)
        totalBytes -= file.size
    }
}
