import CShoalSystem
import Foundation

/// The coordinator's side of data over the wire: serves object chunks to
/// workers on other hosts, within the credit they grant, and writes the output
/// chunks they send into its staging folder. Only paths under `servedRoots`
/// (the object store, registered function code) are served and only paths
/// under `stagingRoot` are written.
public final class TransferServer {
    private let servedRoots: [String]
    private let stagingRoot: String
    /// Objects being served, with their size when the transfer began.
    private var reads: [String: (file: TransferFile, size: Int)] = [:]
    private var writes: [String: TransferFile] = [:]
    /// Bytes of objects sent to workers so far.
    public private(set) var bytesServed = 0
    /// Files kept open at once; the transfers beyond wait with theirs closed.
    private let maxOpenFiles: Int
    /// Transfers kept at once; the one idle longest goes first.
    private let maxTransfers: Int

    /// The version of a served file as the plans name it; without it no fetch resumes.
    private let objectVersion: (([FileAttributeKey: Any]) -> String)?

    public init(
        servedRoots: [URL], stagingRoot: URL, objectVersion: (([FileAttributeKey: Any]) -> String)? = nil,
        maxOpenFiles: Int = TransferLimits.maxOpenFiles, maxTransfers: Int = TransferLimits.maxTransfers
    ) {
        self.servedRoots = servedRoots.map { $0.standardizedFileURL.path + "/" }
        self.stagingRoot = stagingRoot.standardizedFileURL.path + "/"
        self.objectVersion = objectVersion
        self.maxOpenFiles = maxOpenFiles
        self.maxTransfers = maxTransfers
        shoal_reuse_chunk_memory()
    }

    /// Answers a fetch with at most `credit` chunks, read sequentially, each
    /// handed to `emit` as soon as it is read (so it is on its way while the
    /// next is read); a failure is a single chunk with an error.
    public func serve(_ request: FetchRequest, emit: (ChunkHeader, DataFrame) -> Void) {
        func failure(_ reason: String) {
            reads[request.transfer] = nil
            emit(ChunkHeader(transfer: request.transfer, offset: request.offset, crc32: 0, error: reason), [])
        }
        let path = URL(fileURLWithPath: request.path).standardizedFileURL.path
        guard servedRoots.contains(where: { path.hasPrefix($0) }) else { return failure("\(request.path) is not in the object store or function code") }
        if reads[request.transfer] == nil {
            guard request.offset == 0 || request.resumeCRC != nil else { return failure("the transfer is unknown; start it at offset 0") }
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = attributes[.size] as? Int,
                  let handle = FileHandle(forReadingAtPath: path)
            else { return failure("\(request.path) cannot be read") }
            if request.offset > 0 {
                guard let objectVersion else { return failure("this coordinator does not resume transfers; start it at offset 0") }
                guard request.offset % TransferLimits.chunkBytes == 0, request.offset <= size, let version = request.version,
                      objectVersion(attributes) == version, (try? handle.seek(toOffset: UInt64(request.offset))) != nil
                else { return failure("\(request.path) cannot be resumed at \(request.offset): it changed since; start it at offset 0") }
            }
            makeRoom(opening: true)
            guard let file = TransferFile(path: path, handle: handle, writing: false, offset: request.offset, crc: CRC32C(value: request.resumeCRC ?? 0))
            else { return failure("\(request.path) cannot be read") }
            reads[request.transfer] = (file, size)
        }
        let (read, size) = reads[request.transfer]!
        guard request.offset == read.offset else { return failure("expected offset \(read.offset), got \(request.offset)") }
        read.used = Date()
        let handle: FileHandle
        do {
            if !read.isOpen { makeRoom(opening: false) }
            handle = try read.open()
        } catch {
            return failure("\(error)")
        }
        for _ in 0..<max(1, min(request.credit, 2 * TransferLimits.window)) {
            let data: DataFrame
            do { data = try DataFrame.read(from: handle) } catch { return failure("\(request.path): \(error)") }
            let chunkCRC = data.crc32c
            read.crc.add(chunk: chunkCRC)
            var header = ChunkHeader(transfer: request.transfer, offset: read.offset, crc32: chunkCRC)
            read.offset += data.count
            bytesServed += data.count
            let last = read.offset >= size || data.count == 0
            if last {
                header.objectSize = read.offset
                header.objectCRC32 = read.crc.value
            }
            if last { reads[request.transfer] = nil }
            emit(header, data)
            if last { break }
        }
    }

    /// Writes one output chunk, checking its CRC, and the whole file's on the last one.
    public func receive(_ header: PutHeader, _ data: DataFrame) -> PutAck {
        func failure(_ reason: String) -> PutAck {
            writes[header.transfer] = nil
            return PutAck(transfer: header.transfer, offset: header.offset, error: reason)
        }
        let path = URL(fileURLWithPath: header.destination).standardizedFileURL.path
        guard path.hasPrefix(stagingRoot) else { return failure("\(header.destination) is not in the staging folder") }
        guard data.crc32c == header.crc32 else { return failure("chunk at \(header.offset) of \(header.destination) failed its checksum") }
        if writes[header.transfer] == nil {
            guard header.offset == 0 else { return failure("the transfer is unknown; start it at offset 0") }
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                return failure("\(header.destination) cannot be written")
            }
            makeRoom(opening: true)
            guard let file = TransferFile(path: path, handle: handle, writing: true) else { return failure("\(header.destination) cannot be written") }
            writes[header.transfer] = file
        }
        let write = writes[header.transfer]!
        guard header.offset == write.offset else { return failure("expected offset \(write.offset), got \(header.offset)") }
        write.used = Date()
        do {
            if !write.isOpen { makeRoom(opening: false) }
            try data.write(to: try write.open())
        } catch {
            return failure("\(header.destination): \(error)")
        }
        write.crc.add(chunk: header.crc32)
        write.offset += data.count
        if let size = header.objectSize {
            let crc = write.crc.value
            writes[header.transfer] = nil
            guard size == write.offset, crc == header.objectCRC32 else {
                try? FileManager.default.removeItem(atPath: path)
                return PutAck(transfer: header.transfer, offset: header.offset, error: "\(header.destination) arrived damaged (size or checksum)")
            }
        }
        return PutAck(transfer: header.transfer, offset: header.offset)
    }

    /// Before a file is opened: closes the file of the transfer idle longest when
    /// as many are open as allowed and, for a new transfer (`opening`), drops
    /// the transfer idle longest when as many are kept as allowed.
    private func makeRoom(opening: Bool) {
        let open = (reads.values.map(\.file) + writes.values).filter(\.isOpen)
        if open.count >= maxOpenFiles { open.min { $0.used < $1.used }?.close() }
        if opening, reads.count + writes.count >= maxTransfers {
            let oldestRead = reads.min { $0.value.file.used < $1.value.file.used }
            let oldestWrite = writes.min { $0.value.used < $1.value.used }
            if let read = oldestRead, oldestWrite.map({ read.value.file.used < $0.value.used }) ?? true {
                reads[read.key] = nil
            } else if let write = oldestWrite {
                writes[write.key] = nil
            }
        }
    }
}
