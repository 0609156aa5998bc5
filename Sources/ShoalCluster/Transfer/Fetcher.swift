import Foundation

/// Fetches files from the coordinator one at a time, with two windows of
/// chunks asked for ahead (the next is asked for as each window arrives, so
/// the connection never idles for a round trip); each chunk and each whole file
/// is checked before the next file starts, and memory stays at one chunk.
final class Fetcher {
    private let files: [(source: String, local: String)]
    private var current = 0
    private var handle: FileHandle?
    private var offset = 0
    private var crc = CRC32C()
    private var received = 0
    private var requested = 0
    private(set) var transferId = UUID().uuidString
    private(set) var bytesFetched = 0

    init(files: [(source: String, local: String)]) {
        self.files = files
    }

    var done: Bool { current >= files.count }

    /// The request for the next file; nil when every file is here.
    func start() throws -> WireMessage? {
        guard current < files.count else { return nil }
        let local = files[current].local
        try FileManager.default.createDirectory(atPath: (local as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: local, contents: nil), let opened = FileHandle(forWritingAtPath: local) else {
            throw TransferFailed(description: "cannot write \(local)")
        }
        handle = opened
        offset = 0
        crc = CRC32C()
        received = 0
        requested = 2 * TransferLimits.window
        transferId = UUID().uuidString
        return .fetch(FetchRequest(transfer: transferId, path: files[current].source, offset: 0, credit: requested))
    }

    /// Takes a chunk; returns the next request, if one is due.
    func take(_ header: ChunkHeader, _ data: DataFrame) throws -> WireMessage? {
        let source = files[current].source
        if let error = header.error { throw TransferFailed(description: "fetching \(source) failed: \(error)") }
        guard header.offset == offset, data.crc32c == header.crc32 else {
            throw TransferFailed(description: "a chunk of \(source) arrived out of order or damaged at offset \(header.offset)")
        }
        if let handle { try data.write(to: handle) }
        crc.add(chunk: header.crc32)
        offset += data.count
        bytesFetched += data.count
        received += 1
        if let size = header.objectSize {
            try handle?.close()
            handle = nil
            guard size == offset, header.objectCRC32 == crc.value else {
                throw TransferFailed(description: "\(source) arrived damaged (size or checksum of the whole file)")
            }
            current += 1
            return try start()
        }
        guard received == TransferLimits.window else { return nil }
        received = 0
        // Every chunk but the last is whole, so this is where the coordinator's read stands.
        let ahead = requested * TransferLimits.chunkBytes
        requested += TransferLimits.window
        return .fetch(FetchRequest(transfer: transferId, path: source, offset: ahead, credit: TransferLimits.window))
    }

    func close() {
        try? handle?.close()
        handle = nil
    }
}
