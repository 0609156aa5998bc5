import CShoalSystem
import Foundation

/// Fetches files from the coordinator as one stream of chunks: at most two
/// windows of chunks asked for and not yet received, asked for a window or more
/// at a time and, when the files' sizes are known, across file boundaries, so
/// the connection does not idle between files. Each chunk and each whole file
/// is checked as it arrives; the chunks asked for wait in the socket, within
/// that credit, so memory stays bounded.
final class Fetcher {
    struct File {
        var source: String
        var local: String
        /// The size the file had when the task was planned, a hint: the file is
        /// taken as it is when fetched. When unknown, nothing after the file is
        /// asked for before it has ended.
        var size: Int?
        /// The coordinator's version of the object, for the input cache.
        var version: String? = nil
    }

    private final class Active {
        let file: File
        var transfer = UUID().uuidString
        let handle: FileHandle
        /// Written over a recycled file, which may be longer than what arrives.
        let recycled: Bool
        var size: Int?
        var offset = 0
        var crc = CRC32C()
        var requested = 0
        var received = 0
        /// Going on from the first part an interrupted fetch left: where it
        /// ended, and its object CRC until the first request has carried it.
        var resumedAt: Int?
        var resumeCRC: UInt32?

        init(file: File, handle: FileHandle, recycled: Bool) {
            self.file = file
            self.handle = handle
            self.recycled = recycled
            size = file.size
        }

        func goOn(from part: (size: Int, crc: UInt32)) {
            offset = part.size
            crc = CRC32C(value: part.crc)
            requested = part.size / TransferLimits.chunkBytes
            received = requested
            resumedAt = part.size
            resumeCRC = part.crc
        }

        /// Back to the first byte, as a new transfer (what the old one still
        /// brings is ignored).
        func restart() throws {
            guard ftruncate(handle.fileDescriptor, 0) == 0 else { throw TransferFailed(description: "cannot empty \(file.local)") }
            try handle.seek(toOffset: 0)
            transfer = UUID().uuidString
            (offset, crc, requested, received, resumedAt, resumeCRC) = (0, CRC32C(), 0, 0, nil, nil)
            size = file.size
        }

        /// Chunks the file takes, when its size is known (an empty file still sends one).
        var expected: Int? { size.map { max(1, ($0 + TransferLimits.chunkBytes - 1) / TransferLimits.chunkBytes) } }
        var fullyRequested: Bool { expected.map { requested >= $0 } ?? false }
    }

    private static let credit = 2 * TransferLimits.window
    private let files: [File]
    private let cache: InputCache?
    private let recycled: RecycledFiles?
    private var opened = 0
    private var finished = 0
    /// Files asked for and not yet whole, oldest first.
    private var active: [Active] = []
    private(set) var bytesFetched = 0
    private(set) var bytesFromCache = 0

    init(files: [File], cache: InputCache? = nil, recycled: RecycledFiles? = nil) {
        self.files = files
        self.cache = cache
        self.recycled = recycled
    }

    var done: Bool { finished == files.count }

    func owns(_ transfer: String) -> Bool { active.contains { $0.transfer == transfer } }

    /// The first requests; none when there is nothing to fetch.
    func start() throws -> [WireMessage] { try requestMore() }

    /// Takes a chunk; returns the requests now due.
    func take(_ header: ChunkHeader, _ data: DataFrame) throws -> [WireMessage] {
        guard let index = active.firstIndex(where: { $0.transfer == header.transfer }) else { return [] }
        let file = active[index]
        let source = file.file.source
        if let error = header.error {
            // The coordinator would not go on from the part kept (the object changed): the whole file, then.
            if let resumedAt = file.resumedAt, file.offset == resumedAt {
                try file.restart()
                bytesFromCache -= resumedAt
                return try requestMore()
            }
            throw TransferFailed(description: "fetching \(source) failed: \(error)")
        }
        guard header.offset == file.offset else {
            throw TransferFailed(description: "a chunk of \(source) arrived out of order at offset \(header.offset)")
        }
        // Checked as it is written (a damaged chunk fails the fetch, and the job's copies are discarded).
        guard try data.writeChecksummed(to: file.handle) == header.crc32 else {
            throw TransferFailed(description: "a chunk of \(source) arrived damaged at offset \(header.offset)")
        }
        file.crc.add(chunk: header.crc32)
        file.offset += data.count
        file.received += 1
        bytesFetched += data.count
        if let size = header.objectSize {
            if file.recycled, ftruncate(file.handle.fileDescriptor, off_t(file.offset)) != 0 {
                throw TransferFailed(description: "cannot cut \(file.file.local) to \(file.offset) bytes")
            }
            try file.handle.close()
            active.remove(at: index)
            guard size == file.offset, header.objectCRC32 == file.crc.value else {
                throw TransferFailed(description: "\(source) arrived damaged (size or checksum of the whole file)")
            }
            // Shorter than planned: the coordinator ended the transfer, the credit left over lapses with it.
            finished += 1
            if size == file.file.size { cache?.keep(file.file) }
        } else if let expected = file.expected, file.received >= expected {
            // Longer than planned: the rest is asked for as for a file of unknown size.
            file.size = nil
        }
        return try requestMore()
    }

    /// Asks for more while there is credit: a window or more at a time, the
    /// rest of the files already begun first, then the next files.
    private func requestMore() throws -> [WireMessage] {
        var budget = Self.credit - active.reduce(0) { $0 + $1.requested - $1.received }
        guard budget >= TransferLimits.window || budget == Self.credit else { return [] }
        var requests: [WireMessage] = []
        while budget > 0 {
            let target: Active
            if let begun = active.first(where: { !$0.fullyRequested }) {
                target = begun
            } else if opened < files.count {
                opened += 1
                if try fromCache(files[opened - 1]) { continue }
                target = try open(files[opened - 1])
            } else {
                break
            }
            let credit = target.expected.map { min(budget, $0 - target.requested) } ?? budget
            requests.append(.fetch(FetchRequest(
                transfer: target.transfer, path: target.file.source, offset: target.requested * TransferLimits.chunkBytes, credit: credit,
                resumeCRC: target.resumeCRC, version: target.resumeCRC == nil ? nil : target.file.version
            )))
            target.resumeCRC = nil
            target.requested += credit
            budget -= credit
        }
        return requests
    }

    /// Links a kept copy into place instead of fetching the file.
    private func fromCache(_ file: File) throws -> Bool {
        guard let cache else { return false }
        try makeFolder(for: file)
        guard cache.link(file) else { return false }
        finished += 1
        bytesFromCache += file.size ?? 0
        return true
    }

    private func open(_ file: File) throws -> Active {
        try makeFolder(for: file)
        let handle: FileHandle
        var written = false
        var part: (size: Int, crc: UInt32)?
        if let kept = cache?.takePart(of: file), let opened = FileHandle(forWritingAtPath: file.local) {
            try opened.seek(toOffset: UInt64(kept.size))
            (handle, part) = (opened, kept)
        } else if let size = file.size, let taken = recycled?.take(to: file.local, size: size) {
            (handle, written) = (taken, true)
        } else if FileManager.default.createFile(atPath: file.local, contents: nil), let created = FileHandle(forWritingAtPath: file.local) {
            handle = created
        } else {
            throw TransferFailed(description: "cannot write \(file.local)")
        }
        // Reserving the planned size up front spares the file system a per-page
        // reservation as chunks land, and says at once when the disk is too full
        // (after giving up the recycled files, which hold disk space for nothing then).
        if let size = file.size, size > 0, !Self.preallocate(handle, size) {
            recycled?.drain()
            if !Self.preallocate(handle, size) {
                try? handle.close()
                throw TransferFailed(description: "no room for \(file.local) (\(size) bytes) on the worker's disk")
            }
        }
        let opened = Active(file: file, handle: handle, recycled: written)
        if let part {
            opened.goOn(from: part)
            bytesFromCache += part.size
        }
        active.append(opened)
        return opened
    }

    /// False only when the disk is full (a file system without preallocation is fine).
    private static func preallocate(_ handle: FileHandle, _ size: Int) -> Bool {
        shoal_preallocate(handle.fileDescriptor, off_t(size)) == 0 || errno != ENOSPC
    }

    private func makeFolder(for file: File) throws {
        try FileManager.default.createDirectory(atPath: (file.local as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    }

    /// Stops: what arrived of each file begun is kept in the cache (whole
    /// chunks, cut there) for a later attempt to go on from.
    func close() {
        for file in active {
            if let cache, file.offset > 0, ftruncate(file.handle.fileDescriptor, off_t(file.offset)) == 0 {
                cache.keepPart(of: file.file, size: file.offset, crc: file.crc.value)
            }
            try? file.handle.close()
        }
        active.removeAll()
    }
}
