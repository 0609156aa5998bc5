import Foundation
import ShoalRuntime

/// A processing instance on a worker that cannot read the coordinator's files:
/// its inputs are fetched chunk by chunk (within credit, each chunk and each
/// whole object checksummed) before it starts, and its outputs are put back the
/// same way before it is reported finished. Memory stays bounded: one chunk
/// per message and at most a window of chunks in flight per file.
final class ShippedJob {
    enum Phase {
        case fetching
        case running(RunningJob, LogFollower)
        case putting(InstanceOutcome)
    }

    let key: TaskKey
    let spec: ProcessingInstanceSpec
    /// Where the coordinator wants the outputs (its staging folder).
    let remoteStaging: String
    let folder: URL
    var phase: Phase = .fetching
    var lastProgress = Date()
    static let stallSeconds: TimeInterval = 30

    // Fetching: one file at a time, the window ahead.
    private var files: [(input: Int, file: Int, local: String)] = []
    private var current = 0
    private var handle: FileHandle?
    private var offset = 0
    private var crc = CRC32()
    private var received = 0
    private(set) var transferId = UUID().uuidString

    // Putting: one file at a time, at most a window of unacknowledged chunks.
    private var uploads: [(local: String, destination: String)] = []
    private var upload = 0
    private var reader: FileHandle?
    private var sent = 0
    private var acked = 0
    private var sentLast = false
    private var putCRC = CRC32()
    private(set) var bytesFetched = 0
    private(set) var bytesPut = 0

    init(key: TaskKey, spec: ProcessingInstanceSpec, remoteStaging: String, folder: URL) {
        self.key = key
        self.spec = spec
        self.remoteStaging = remoteStaging
        self.folder = folder
        for (i, input) in spec.inputs.enumerated() {
            for (j, _) in input.files.enumerated() { files.append((i, j, folder.appendingPathComponent("in/\(i)/\(j)").path)) }
        }
    }

    struct Failed: Error, CustomStringConvertible { let description: String }

    /// The first message to send; nil when there is nothing to fetch.
    func startFetching() throws -> WireMessage? {
        guard current < files.count else { return nil }
        let local = files[current].local
        try FileManager.default.createDirectory(atPath: (local as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: local, contents: nil)
        handle = FileHandle(forWritingAtPath: local)
        offset = 0
        crc = CRC32()
        received = 0
        transferId = UUID().uuidString
        let source = spec.inputs[files[current].input].files[files[current].file].source
        return .fetch(FetchRequest(transfer: transferId, path: source, offset: 0, credit: TransferLimits.window))
    }

    var fetched: Bool { current >= files.count }

    /// Takes a chunk; returns the next request, if one is due.
    func take(_ header: ChunkHeader, _ bytes: [UInt8]) throws -> WireMessage? {
        lastProgress = Date()
        if let error = header.error { throw Failed(description: "fetching an input failed: \(error)") }
        guard header.offset == offset, CRC32.of(bytes) == header.crc32 else { throw Failed(description: "an input chunk arrived out of order or damaged") }
        try handle?.write(contentsOf: bytes)
        bytes.withUnsafeBytes { crc.update($0) }
        offset += bytes.count
        bytesFetched += bytes.count
        received += 1
        if let size = header.objectSize {
            try handle?.close()
            guard size == offset, header.objectCRC32 == crc.value else { throw Failed(description: "an input arrived damaged (size or checksum)") }
            current += 1
            return try startFetching()
        }
        guard received == TransferLimits.window else { return nil }
        received = 0
        let source = spec.inputs[files[current].input].files[files[current].file].source
        return .fetch(FetchRequest(transfer: transferId, path: source, offset: offset, credit: TransferLimits.window))
    }

    /// The spec with every input pointing at its fetched copy.
    var localSpec: ProcessingInstanceSpec {
        var local = spec
        for (i, j, path) in files { local.inputs[i].files[j].source = path }
        return local
    }

    /// Begins putting the outputs of a completed run; returns the messages to send.
    func startPutting(_ outcome: InstanceOutcome) throws -> [WireMessage] {
        phase = .putting(outcome)
        for output in outcome.outputs {
            for file in output.files {
                uploads.append((output.stagedAt + "/" + file, remoteStaging + "/" + output.name + "/" + file))
            }
        }
        upload = 0
        return try openUpload()
    }

    var putDone: Bool { upload >= uploads.count }

    private func openUpload() throws -> [WireMessage] {
        guard upload < uploads.count else { return [] }
        reader = FileHandle(forReadingAtPath: uploads[upload].local)
        guard reader != nil else { throw Failed(description: "output \(uploads[upload].local) cannot be read") }
        transferId = UUID().uuidString
        sent = 0
        acked = 0
        sentLast = false
        putCRC = CRC32()
        offset = 0
        return try fillWindow()
    }

    private func fillWindow() throws -> [WireMessage] {
        var messages: [WireMessage] = []
        while !sentLast && sent - acked < TransferLimits.window {
            let bytes = [UInt8]((try reader?.read(upToCount: TransferLimits.chunkBytes)) ?? Data())
            bytes.withUnsafeBytes { putCRC.update($0) }
            bytesPut += bytes.count
            var header = PutHeader(transfer: transferId, destination: uploads[upload].destination, offset: offset, crc32: CRC32.of(bytes))
            offset += bytes.count
            if bytes.count < TransferLimits.chunkBytes {
                header.objectSize = offset
                header.objectCRC32 = putCRC.value
                sentLast = true
            }
            sent += 1
            messages.append(.put(header, bytes))
        }
        return messages
    }

    /// Takes an acknowledgement; returns the next chunks to send.
    func take(_ ack: PutAck) throws -> [WireMessage] {
        lastProgress = Date()
        if let error = ack.error { throw Failed(description: "putting an output failed: \(error)") }
        acked += 1
        if sentLast && acked == sent {
            try reader?.close()
            upload += 1
            return try openUpload()
        }
        return try fillWindow()
    }

    /// Kills a running job and removes every local copy.
    func stop() {
        if case let .running(running, _) = phase {
            running.kill()
            _ = running.poll()
        }
        try? handle?.close()
        try? reader?.close()
        try? FileManager.default.removeItem(at: folder)
    }

    /// The outcome as the coordinator sees it: outputs in its staging folder.
    func remoteOutcome(_ outcome: InstanceOutcome) -> InstanceOutcome {
        var remote = outcome
        remote.outputs = outcome.outputs.map { .init(name: $0.name, stagedAt: remoteStaging + "/" + $0.name, files: $0.files, bytes: $0.bytes) }
        return remote
    }
}
