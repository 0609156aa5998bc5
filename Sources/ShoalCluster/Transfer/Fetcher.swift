import Foundation

/// Fetches files from the coordinator one at a time, asking for a window of
/// chunks at once; each chunk and each whole file is checked before the next
/// file starts, so memory stays at one chunk whatever the file's size.
final class Fetcher {
    private let files: [(source: String, local: String)]
    private var current = 0
    private var handle: FileHandle?
    private var offset = 0
    private var crc = CRC32()
    private var received = 0
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
            throw ShippedJob.Failed(description: "cannot write \(local)")
        }
        handle = opened
        offset = 0
        crc = CRC32()
        received = 0
        transferId = UUID().uuidString
        return .fetch(FetchRequest(transfer: transferId, path: files[current].source, offset: 0, credit: TransferLimits.window))
    }

    /// Takes a chunk; returns the next request, if one is due.
    func take(_ header: ChunkHeader, _ bytes: [UInt8]) throws -> WireMessage? {
        let source = files[current].source
        if let error = header.error { throw ShippedJob.Failed(description: "fetching \(source) failed: \(error)") }
        guard header.offset == offset, CRC32.of(bytes) == header.crc32 else {
            throw ShippedJob.Failed(description: "a chunk of \(source) arrived out of order or damaged at offset \(header.offset)")
        }
        try handle?.write(contentsOf: bytes)
        bytes.withUnsafeBytes { crc.update($0) }
        offset += bytes.count
        bytesFetched += bytes.count
        received += 1
        if let size = header.objectSize {
            try handle?.close()
            handle = nil
            guard size == offset, header.objectCRC32 == crc.value else {
                throw ShippedJob.Failed(description: "\(source) arrived damaged (size or checksum of the whole file)")
            }
            current += 1
            return try start()
        }
        guard received == TransferLimits.window else { return nil }
        received = 0
        return .fetch(FetchRequest(transfer: transferId, path: source, offset: offset, credit: TransferLimits.window))
    }

    func close() {
        try? handle?.close()
        handle = nil
    }
}
