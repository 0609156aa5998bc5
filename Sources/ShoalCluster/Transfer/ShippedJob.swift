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

    let fetcher: Fetcher
    private var localPaths: [(input: Int, file: Int, local: String)] = []
    private(set) var transferId = ""

    // Putting: one file at a time, at most a window of unacknowledged chunks.
    private var uploads: [(local: String, destination: String)] = []
    private var upload = 0
    private var reader: FileHandle?
    private var sent = 0
    private var acked = 0
    private var sentLast = false
    private var putCRC = CRC32C()
    private var offset = 0
    private(set) var bytesPut = 0

    private let recycled: RecycledFiles?

    init(key: TaskKey, spec: ProcessingInstanceSpec, remoteStaging: String, folder: URL, cache: InputCache?, recycled: RecycledFiles?) {
        self.key = key
        self.spec = spec
        self.remoteStaging = remoteStaging
        self.folder = folder
        var files: [Fetcher.File] = []
        for (i, input) in spec.inputs.enumerated() {
            for (j, file) in input.files.enumerated() {
                let local = folder.appendingPathComponent("in/\(i)/\(j)").path
                localPaths.append((i, j, local))
                files.append(.init(source: file.source, local: local, size: file.size, version: file.version))
            }
        }
        fetcher = Fetcher(files: files, cache: cache, recycled: recycled)
        self.recycled = recycled
    }

    /// When the first request for the inputs went out.
    private(set) var fetchStarted = Date()
    /// How long the inputs took to arrive, once they have.
    private(set) var fetchSeconds: Double = 0

    /// The first messages to send; none when there is nothing to fetch.
    func startFetching() throws -> [WireMessage] {
        fetchStarted = Date()
        return try fetcher.start()
    }

    func take(_ header: ChunkHeader, _ data: DataFrame) throws -> [WireMessage] {
        lastProgress = Date()
        let next = try fetcher.take(header, data)
        if fetcher.done { fetchSeconds = lastProgress.timeIntervalSince(fetchStarted) }
        return next
    }

    /// The spec with every input pointing at its fetched copy.
    var localSpec: ProcessingInstanceSpec {
        var local = spec
        for (i, j, path) in localPaths { local.inputs[i].files[j].source = path }
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

    /// Sends the outputs again from the first file (the coordinator that was
    /// taking them is gone); nothing when the job is not sending its outputs.
    func restartPutting() throws -> [WireMessage] {
        guard case let .putting(outcome) = phase else { return [] }
        try? reader?.close()
        reader = nil
        uploads.removeAll()
        lastProgress = Date()
        return try startPutting(outcome)
    }

    var putDone: Bool { upload >= uploads.count }

    private func openUpload() throws -> [WireMessage] {
        guard upload < uploads.count else { return [] }
        reader = FileHandle(forReadingAtPath: uploads[upload].local)
        guard reader != nil else { throw TransferFailed(description: "output \(uploads[upload].local) cannot be read") }
        transferId = UUID().uuidString
        sent = 0
        acked = 0
        sentLast = false
        putCRC = CRC32C()
        offset = 0
        return try fillWindow()
    }

    private func fillWindow() throws -> [WireMessage] {
        var messages: [WireMessage] = []
        while !sentLast && sent - acked < TransferLimits.window {
            let data = try reader.map { try DataFrame.read(from: $0) } ?? []
            let chunkCRC = data.crc32c
            putCRC.add(chunk: chunkCRC)
            bytesPut += data.count
            var header = PutHeader(transfer: transferId, destination: uploads[upload].destination, offset: offset, crc32: chunkCRC)
            offset += data.count
            if data.count < TransferLimits.chunkBytes {
                header.objectSize = offset
                header.objectCRC32 = putCRC.value
                sentLast = true
            }
            sent += 1
            messages.append(.put(header, data))
        }
        return messages
    }

    /// Takes an acknowledgement; returns the next chunks to send.
    func take(_ ack: PutAck) throws -> [WireMessage] {
        lastProgress = Date()
        if let error = ack.error { throw TransferFailed(description: "putting an output failed: \(error)") }
        acked += 1
        if sentLast && acked == sent {
            try reader?.close()
            upload += 1
            return try openUpload()
        }
        return try fillWindow()
    }

    /// Kills a running job and removes every local copy, the inputs to be
    /// written over by later fetches where they can.
    func stop() {
        if case let .running(running, _) = phase {
            running.kill()
            _ = running.poll()
        }
        fetcher.close()
        try? reader?.close()
        if let recycled { for (_, _, local) in localPaths { recycled.keep(local) } }
        try? FileManager.default.removeItem(at: folder)
    }

    /// The outcome as the coordinator sees it: outputs in its staging folder.
    func remoteOutcome(_ outcome: InstanceOutcome) -> InstanceOutcome {
        var remote = outcome
        remote.outputs = outcome.outputs.map { .init(name: $0.name, stagedAt: remoteStaging + "/" + $0.name, files: $0.files, bytes: $0.bytes) }
        return remote
    }
}

extension ShippedJob {
    var fetched: Bool { fetcher.done }
    var bytesFetched: Int { fetcher.bytesFetched }
    var bytesFromCache: Int { fetcher.bytesFromCache }
}
