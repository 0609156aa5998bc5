import CShoalSystem
import Foundation
import ShoalRuntime
import ZeroMQ

/// A worker process's loop: registers with the coordinator, runs the tasks it
/// is given in its slots, streams their logs and results back, and leaves when
/// told to or when the coordinator has been silent for the liveness window.
public final class WorkerAgent {
    public struct Configuration: Sendable {
        public var endpoint: String
        public var workerId: String
        public var slots: Int
        public var workFolder: URL
        public var version: String
        public var labels: [String: [String]] = [:]
        /// CURVE: the coordinator's public key and this worker's key pair.
        public var curve: (serverKey: String, keys: CurveKeyPair)?
        /// A cluster worker outlives its coordinator: it stops its jobs, then asks
        /// to register again, backing off up to `maxBackoff`. A local worker exits.
        public var reconnect = false
        /// The worker cannot read the coordinator's files: inputs and outputs
        /// travel over the coordinator connection instead of a shared filesystem.
        public var fetchData = false
        /// With `fetchData`: how many bytes of fetched inputs to keep for later
        /// instances (0: none).
        public var inputCacheBytes = 2 << 30
        /// With `fetchData`: how many bytes of finished tasks' input files to
        /// keep to be written over by later fetches (0: none).
        public var recycledBytes = 1 << 30
        public var maxBackoff: TimeInterval = 30
        public var heartbeatInterval: TimeInterval = 0.5
        public var liveness: TimeInterval = 3

        public init(endpoint: String, workerId: String, slots: Int, workFolder: URL, version: String) {
            self.endpoint = endpoint
            self.workerId = workerId
            self.slots = slots
            self.workFolder = workFolder
            self.version = version
        }
    }

    public enum Ending: Sendable, Equatable {
        case shutdown
        case coordinatorLost
    }

    private let configuration: Configuration
    private let context: Context
    private let claim: WorkFolderClaim
    private let socket: Socket
    private var jobs: [TaskKey: (job: RunningJob, log: LogFollower)] = [:]
    private var functions: [String: FunctionSlot] = [:]
    /// Warm processes of a function's earlier code (or handler) that still have
    /// invocations to finish; each goes once it is idle.
    private var retiring: [FunctionSlot] = []
    private var allFunctionSlots: [FunctionSlot] { Array(functions.values) + retiring }
    private var shipped: [TaskKey: ShippedJob] = [:]
    private let inputCache: InputCache?
    private let recycledFiles: RecycledFiles?
    /// Function code being fetched, by the local folder it goes to.
    private var codeFetches: [String: CodeFetch] = [:]
    private var lastHeard = Date()
    private var lastSent = Date.distantPast
    private var liveness: TimeInterval

    public init(_ configuration: Configuration) throws {
        self.configuration = configuration
        liveness = configuration.liveness
        claim = try WorkFolderClaim(configuration.workFolder)
        if configuration.fetchData { shoal_reuse_chunk_memory() }
        let cacheFolder = configuration.workFolder.appendingPathComponent("input-cache")
        let recycledFolder = configuration.workFolder.appendingPathComponent("recycled")
        // Turned off, what an earlier worker kept there goes.
        if !configuration.fetchData || configuration.inputCacheBytes == 0 { try? FileManager.default.removeItem(at: cacheFolder) }
        if !configuration.fetchData || configuration.recycledBytes == 0 { try? FileManager.default.removeItem(at: recycledFolder) }
        recycledFiles = configuration.fetchData && configuration.recycledBytes > 0
            ? try RecycledFiles(folder: recycledFolder, limitBytes: configuration.recycledBytes) : nil
        inputCache = configuration.fetchData && configuration.inputCacheBytes > 0
            ? try InputCache(folder: cacheFolder, limitBytes: configuration.inputCacheBytes, recycled: recycledFiles) : nil
        context = try Context()
        socket = try context.socket(.dealer)
        try socket.setRoutingId(Array("\(configuration.workerId)".utf8.prefix(200)))
        try socket.setOption(.linger, 1000)
        try socket.setMaxMessageSize(Int64(WireCodec.maxPayloadBytes + 4096))
        if let curve = configuration.curve { try socket.makeCurveClient(serverKey: curve.serverKey, keys: curve.keys) }
        try FileManager.default.createDirectory(at: configuration.workFolder, withIntermediateDirectories: true)
        try socket.connect(configuration.endpoint)
    }

    /// Runs until shutdown, `shouldStop`, or (without `reconnect`) the loss of
    /// the coordinator; every job still running is killed on the way out.
    public func run(shouldStop: () -> Bool = { false }) throws -> Ending {
        defer {
            stopAllWork()
            inputCache?.save()
        }
        register()
        lastHeard = Date()
        var connected = true
        var backoff = 0.5
        var nextAttempt = Date.distantFuture
        while true {
            var poller = Poller()
            poller.add(socket)
            for slot in allFunctionSlots where slot.current != nil || !slot.ready { poller.add(fileDescriptor: slot.process.outputDescriptor) }
            for entry in jobs.values { if let descriptor = entry.job.exitDescriptor { poller.add(fileDescriptor: descriptor) } }
            for job in shipped.values { if case let .running(running, _) = job.phase, let descriptor = running.exitDescriptor { poller.add(fileDescriptor: descriptor) } }
            _ = try poller.poll(timeoutMilliseconds: 20)
            if shouldStop() { return .shutdown }
            let now = Date()
            while let frames = try receiveFromCoordinator() {
                lastHeard = now
                if !connected {
                    connected = true
                    backoff = 0.5
                    FileHandle.standardError.write(Data("shoal worker \(configuration.workerId): the coordinator at \(configuration.endpoint) answers again\n".utf8))
                }
                let message: WireMessage
                do {
                    message = try WireCodec.decode(frames)
                } catch {
                    FileHandle.standardError.write(Data("shoal worker: dropped a message: \(error)\n".utf8))
                    continue
                }
                switch message {
                case let .welcome(welcome): liveness = Double(welcome.livenessMilliseconds) / 1000
                case let .assign(assignment): start(assignment)
                case let .cancel(key): cancel(key)
                case .shutdown: return .shutdown
                case let .chunk(header, data): takeChunk(header, data)
                case let .putAck(ack): takeAck(ack)
                case .heartbeat, .register, .log, .finished, .fetch, .put: break
                }
            }
            advanceJobs()
            advanceShipped(now: now)
            advanceFunctions(now: now)
            if connected && now.timeIntervalSince(lastHeard) > liveness {
                // Its jobs were given to other workers by now: stop them, commit nothing.
                stopAllWork()
                guard configuration.reconnect else { return .coordinatorLost }
                connected = false
                nextAttempt = now
                FileHandle.standardError.write(Data("shoal worker \(configuration.workerId): the coordinator at \(configuration.endpoint) went silent; registering again\n".utf8))
            }
            if !connected {
                if now >= nextAttempt {
                    // libzmq reconnects the socket itself; a new registration makes the coordinator count us again.
                    register()
                    nextAttempt = now.addingTimeInterval(backoff * Double.random(in: 0.8...1.2))
                    backoff = min(backoff * 2, configuration.maxBackoff)
                }
            } else if now.timeIntervalSince(lastSent) >= configuration.heartbeatInterval {
                send(.heartbeat)
            }
        }
    }

    /// The next waiting message; one with too many frames is logged and skipped,
    /// so a misbehaving peer cannot end the worker.
    private func receiveFromCoordinator() throws -> [Message]? {
        while true {
            do {
                return try socket.receiveMessages(dontWait: true, maxFrames: 8)
            } catch let refused as TooManyFrames {
                FileHandle.standardError.write(Data("shoal worker \(configuration.workerId): dropped a message: \(refused)\n".utf8))
            }
        }
    }

    private func register() {
        send(.register(Register(
            workerId: configuration.workerId, host: ProcessInfo.processInfo.hostName, pid: getpid(),
            slots: configuration.slots, version: configuration.version, labels: configuration.labels
        )))
    }

    private func stopAllWork() {
        for (_, entry) in jobs {
            entry.job.kill()
            _ = entry.job.poll()
        }
        jobs.removeAll()
        for (_, job) in shipped { job.stop() }
        shipped.removeAll()
        for fetch in codeFetches.values { fetch.discard() }
        codeFetches.removeAll()
        for slot in allFunctionSlots { slot.process.terminate() }
        functions.removeAll()
        retiring.removeAll()
    }

    private func send(_ message: WireMessage) {
        lastSent = Date()
        do {
            _ = try socket.send(messages: WireCodec.encode(message), dontWait: true)
        } catch {
            FileHandle.standardError.write(Data("shoal worker: cannot send '\(message.kind)': \(error)\n".utf8))
        }
    }

    private func finish(_ key: TaskKey, _ result: TaskResult) {
        send(.finished(TaskFinished(key: key, result: result)))
    }

    /// One flat folder: the file goes with its task, and no folder per
    /// execution and step is left behind on a long-running worker.
    private func logFile(for key: TaskKey) -> String {
        configuration.workFolder.appendingPathComponent("logs/\(Self.flatName(key)).log").path
    }

    /// A task attempt's name as one path component (its id holds slashes).
    private static func flatName(_ key: TaskKey) -> String {
        key.taskId.replacingOccurrences(of: "/", with: "--") + "-\(key.attempt)"
    }

    private func start(_ assignment: Assignment) {
        let key = assignment.key
        switch assignment.task {
        case let .processing(spec, outputStaging) where configuration.fetchData:
            let job = ShippedJob(
                key: key, spec: spec, remoteStaging: outputStaging,
                folder: configuration.workFolder.appendingPathComponent("transfers/\(Self.flatName(key))"),
                cache: inputCache, recycled: recycledFiles
            )
            shipped[key] = job
            do {
                let requests = try job.startFetching()
                if requests.isEmpty { try launch(job) } else { requests.forEach(send) }
            } catch {
                fail(job, "\(error)")
            }
        case let .processing(spec, outputStaging):
            let log = logFile(for: key)
            do {
                let job = try RunningJob(
                    spec: spec, workFolder: configuration.workFolder.appendingPathComponent("jobs"), logFile: log,
                    outputStaging: URL(fileURLWithPath: outputStaging)
                )
                jobs[key] = (job, LogFollower(path: log, key: key, ownsFile: true))
            } catch {
                finish(key, .rejected(reason: "\(error)"))
            }
        case var .lambda(invocation) where configuration.fetchData && invocation.codeFiles != nil:
            let version = invocation.codeVersion ?? "0"
            let local = configuration.workFolder.appendingPathComponent("functions/\(invocation.functionName)/\(version)").path
            guard FileManager.default.fileExists(atPath: local) else { return fetchCode(assignment, into: local) }
            invocation.codeFiles = nil
            invocation.codePath = local
            start(Assignment(key: key, task: .lambda(invocation)))
        case let .lambda(invocation):
            let slot: FunctionSlot
            if let existing = functions[invocation.functionName], existing.process.isRunning, existing.process.handler == invocation.handler,
               existing.process.codeFolder == invocation.codePath {
                slot = existing
            } else {
                let log = configuration.workFolder.appendingPathComponent("logs/function-\(invocation.functionName).log").path
                do {
                    slot = FunctionSlot(process: try FunctionProcess(codeFolder: invocation.codePath, handler: invocation.handler, logFile: log), log: log)
                } catch {
                    let reply = LambdaReply(result: nil, error: "cannot start the function's Python process: \(error)")
                    finish(key, .lambda(replies: Array(repeating: reply, count: invocation.events.count), seconds: 0))
                    return
                }
                // Another version's process keeps serving what it was given (dropping it would lose those invocations).
                if let existing = functions[invocation.functionName], existing.current != nil || !existing.waiting.isEmpty { retiring.append(existing) }
                functions[invocation.functionName] = slot
            }
            slot.waiting.append((key, invocation))
        }
    }

    private func cancel(_ key: TaskKey) {
        shipped.removeValue(forKey: key)?.stop()
        for fetch in codeFetches.values { fetch.waiting.removeAll { $0.key == key } }
        if let entry = jobs.removeValue(forKey: key) {
            entry.job.kill()
            _ = entry.job.poll()
        }
        for slot in allFunctionSlots {
            slot.waiting.removeAll { $0.key == key }
            if slot.current?.key == key {
                // A running handler cannot be interrupted; restart the process instead.
                slot.process.terminate()
                slot.current = nil
            }
        }
    }

    private func sendLog(_ log: LogFollower, final: Bool = false) {
        for chunk in log.read(final: final) { send(.log(chunk)) }
    }

    private func advanceJobs() {
        for (key, entry) in jobs {
            sendLog(entry.log)
            guard let outcome = entry.job.poll() else { continue }
            sendLog(entry.log, final: true)
            jobs[key] = nil
            finish(key, .processing(outcome))
        }
    }

    private func launch(_ job: ShippedJob) throws {
        let log = logFile(for: job.key)
        let running = try RunningJob(
            spec: job.localSpec, workFolder: configuration.workFolder.appendingPathComponent("jobs"), logFile: log,
            outputStaging: job.folder.appendingPathComponent("out")
        )
        job.phase = .running(running, LogFollower(path: log, key: job.key, ownsFile: true))
        job.lastProgress = Date()
    }

    /// A shipped instance that could not move its data is interrupted, so the coordinator runs it again.
    private func fail(_ job: ShippedJob, _ reason: String) {
        job.stop()
        shipped[job.key] = nil
        finish(job.key, .interrupted(reason: "on worker \(configuration.workerId): \(reason)"))
    }

    private func takeChunk(_ header: ChunkHeader, _ data: DataFrame) {
        if let (local, fetch) = codeFetches.first(where: { $0.value.fetcher.owns(header.transfer) }) {
            return takeCodeChunk(fetch, into: local, header, data)
        }
        guard let job = shipped.values.first(where: { $0.fetcher.owns(header.transfer) }), case .fetching = job.phase else { return }
        do {
            try job.take(header, data).forEach(send)
            if job.fetched { try launch(job) }
        } catch {
            fail(job, "\(error)")
        }
    }

    private func takeAck(_ ack: PutAck) {
        guard let job = shipped.values.first(where: { $0.transferId == ack.transfer }), case .putting = job.phase else { return }
        do {
            for message in try job.take(ack) { send(message) }
        } catch {
            fail(job, "\(error)")
        }
    }

    /// Fetches a function's code once into a folder named by its registration; the invocations wait for it.
    private func fetchCode(_ assignment: Assignment, into local: String) {
        guard case let .lambda(invocation) = assignment.task else { return }
        if let fetch = codeFetches[local] { return fetch.waiting.append(assignment) }
        let partial = local + ".partial-\(UUID().uuidString.prefix(8))"
        let files = (invocation.codeFiles ?? []).map { Fetcher.File(source: invocation.codePath + "/" + $0, local: partial + "/" + $0, size: nil) }
        let fetch = CodeFetch(fetcher: Fetcher(files: files), partial: partial, first: assignment)
        codeFetches[local] = fetch
        do {
            try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
            let requests = try fetch.fetcher.start()
            if requests.isEmpty { try codeArrived(fetch, into: local) } else { requests.forEach(send) }
        } catch {
            failCode(fetch, into: local, "\(error)")
        }
    }

    private func takeCodeChunk(_ fetch: CodeFetch, into local: String, _ header: ChunkHeader, _ data: DataFrame) {
        fetch.lastProgress = Date()
        do {
            try fetch.fetcher.take(header, data).forEach(send)
            if fetch.fetcher.done { try codeArrived(fetch, into: local) }
        } catch {
            failCode(fetch, into: local, "\(error)")
        }
    }

    private func codeArrived(_ fetch: CodeFetch, into local: String) throws {
        // A rename, so no invocation ever sees half the code.
        guard rename(fetch.partial, local) == 0 else { throw TransferFailed(description: "cannot move the function code to \(local): \(String(cString: strerror(errno)))") }
        codeFetches[local] = nil
        pruneVersions(besides: local)
        for assignment in fetch.waiting { start(assignment) }
    }

    /// Removes the function's other fetched versions, so re-registering a
    /// function does not pile up copies: all but one still fetching or still
    /// loaded in a warm process (an invocation of a removed version fetches it again).
    private func pruneVersions(besides local: String) {
        let folder = (local as NSString).deletingLastPathComponent
        let inUse = Set(allFunctionSlots.map(\.process.codeFolder)).union(codeFetches.keys).union(codeFetches.values.map(\.partial))
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            let path = folder + "/" + entry
            if path != local && !inUse.contains(path) { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    private func failCode(_ fetch: CodeFetch, into local: String, _ reason: String) {
        fetch.discard()
        codeFetches[local] = nil
        for assignment in fetch.waiting {
            guard case let .lambda(invocation) = assignment.task else { continue }
            let reply = LambdaReply(result: nil, error: "cannot fetch the function's code: \(reason)")
            finish(assignment.key, .lambda(replies: Array(repeating: reply, count: invocation.events.count), seconds: 0))
        }
    }

    private func advanceShipped(now: Date) {
        for (local, fetch) in codeFetches where now.timeIntervalSince(fetch.lastProgress) > ShippedJob.stallSeconds {
            failCode(fetch, into: local, "fetching stalled for \(Int(ShippedJob.stallSeconds)) s")
        }
        for (key, job) in shipped {
            switch job.phase {
            case .fetching:
                if now.timeIntervalSince(job.lastProgress) > ShippedJob.stallSeconds { fail(job, "fetching its inputs stalled for \(Int(ShippedJob.stallSeconds)) s") }
            case let .running(running, log):
                sendLog(log)
                guard let outcome = running.poll() else { continue }
                sendLog(log, final: true)
                do {
                    for message in try job.startPutting(outcome) { send(message) }
                } catch {
                    fail(job, "\(error)")
                }
            case let .putting(outcome):
                if job.putDone {
                    FileHandle.standardError.write(Data("shoal worker \(configuration.workerId): task \(key.taskId) moved \(job.bytesFetched) bytes in and \(job.bytesPut) bytes out over the wire (inputs in \(String(format: "%.3f", job.fetchSeconds)) s from \(String(format: "%.3f", job.fetchStarted.timeIntervalSince1970)); \(job.bytesFromCache) bytes from its input cache)\n".utf8))
                    // Reported before the copies are removed: deleting them is not the coordinator's wait.
                    finish(key, .processing(job.remoteOutcome(outcome)))
                    shipped[key] = nil
                    job.stop()
                } else if now.timeIntervalSince(job.lastProgress) > ShippedJob.stallSeconds {
                    fail(job, "putting its outputs stalled for \(Int(ShippedJob.stallSeconds)) s")
                }
            }
        }
    }

    private func advanceFunctions(now: Date) {
        // `advance` may start invocations anew, which can add slots to both collections.
        for (name, slot) in functions where !advance(slot, now: now) && functions[name] === slot { functions[name] = nil }
        let old = retiring
        retiring.removeAll()
        let busy = old.filter { advance($0, now: now) && ($0.current != nil || !$0.waiting.isEmpty) }
        retiring = busy + retiring
    }

    /// Serves a function process's replies and next events; false when the process is to go.
    private func advance(_ slot: FunctionSlot, now: Date) -> Bool {
        if !slot.ready {
            switch slot.process.readReply() {
            case .ready?: slot.ready = true
            case let .loadFailed(message)?, let .failed(message)?:
                for (key, invocation) in slot.waiting { finishFunction(slot, key, Array(repeating: LambdaReply(result: nil, error: message), count: invocation.events.count), seconds: 0) }
                slot.waiting.removeAll()
                slot.process.terminate()
                return false
            default:
                return true
            }
        }
        if let batch = slot.current {
            // Replies come one per event; the next event goes out as soon as one arrives.
            while batch.replies.count < batch.invocation.events.count, let reply = slot.process.readReply() {
                switch reply {
                case .ready: continue
                case let .result(data): batch.replies.append(LambdaReply(result: String(decoding: data, as: UTF8.self), error: nil))
                case let .failed(message), let .loadFailed(message): batch.replies.append(LambdaReply(result: nil, error: message))
                }
                if batch.replies.count < batch.invocation.events.count { send(batch.invocation.events[batch.replies.count], to: slot, batch: batch, now: now) }
            }
            if batch.replies.count == batch.invocation.events.count {
                slot.current = nil
                finishFunction(slot, batch.key, batch.replies, seconds: now.timeIntervalSince(batch.started))
            } else if now.timeIntervalSince(batch.eventStarted) > Double(batch.invocation.timeoutSeconds) {
                // A handler cannot be interrupted: the process goes, and a new one serves what follows.
                slot.process.terminate()
                batch.replies.append(LambdaReply(result: nil, error: "the function timed out after \(batch.invocation.timeoutSeconds) s"))
                while batch.replies.count < batch.invocation.events.count {
                    batch.replies.append(LambdaReply(result: nil, error: "not run: an earlier event of the same batch timed out"))
                }
                finishFunction(slot, batch.key, batch.replies, seconds: now.timeIntervalSince(batch.started))
                let waiting = slot.waiting
                slot.waiting.removeAll()
                if functions[batch.invocation.functionName] === slot { functions[batch.invocation.functionName] = nil }
                for (key, invocation) in waiting { start(Assignment(key: key, task: .lambda(invocation))) }
                return false
            }
            return true
        }
        guard !slot.waiting.isEmpty else { return true }
        let (key, invocation) = slot.waiting.removeFirst()
        slot.logOffset = LogFollower.size(of: slot.log)
        let batch = FunctionSlot.Batch(key: key, invocation: invocation, started: now)
        slot.current = batch
        if let first = invocation.events.first { send(first, to: slot, batch: batch, now: now) } else { finishFunction(slot, key, [], seconds: 0) ; slot.current = nil }
        return true
    }

    private func send(_ event: String, to slot: FunctionSlot, batch: FunctionSlot.Batch, now: Date) {
        batch.eventStarted = now
        do {
            try slot.process.invoke(event: Data(event.utf8))
        } catch {
            while batch.replies.count < batch.invocation.events.count {
                batch.replies.append(LambdaReply(result: nil, error: "cannot reach the function's Python process: \(error)"))
            }
        }
    }

    private func finishFunction(_ slot: FunctionSlot, _ key: TaskKey, _ replies: [LambdaReply], seconds: Double) {
        // The log goes first: once finished, the coordinator takes no more messages for the task.
        sendFunctionLog(slot, key: key)
        finish(key, .lambda(replies: replies, seconds: seconds))
    }

    /// Sends what the handler wrote to the shared function log during this invocation.
    private func sendFunctionLog(_ slot: FunctionSlot, key: TaskKey) {
        let follower = LogFollower(path: slot.log, key: key, startingAt: slot.logOffset)
        for chunk in follower.read() { send(.log(LogChunk(key: key, offset: chunk.offset - slot.logOffset, text: chunk.text))) }
        slot.logOffset = LogFollower.size(of: slot.log)
    }
}

/// A function's code on its way to a worker that cannot see the coordinator's home.
final class CodeFetch {
    let fetcher: Fetcher
    let partial: String
    var waiting: [Assignment]
    var lastProgress = Date()

    init(fetcher: Fetcher, partial: String, first: Assignment) {
        self.fetcher = fetcher
        self.partial = partial
        waiting = [first]
    }

    /// Drops what arrived so far.
    func discard() {
        fetcher.close()
        try? FileManager.default.removeItem(atPath: partial)
    }
}

/// A warm function process and the invocations waiting for it (one at a time).
final class FunctionSlot {
    let process: FunctionProcess
    let log: String
    var ready = false
    var waiting: [(key: TaskKey, invocation: LambdaInvocation)] = []
    var current: Batch?
    var logOffset = 0

    /// The invocation being served and the replies so far.
    final class Batch {
        let key: TaskKey
        let invocation: LambdaInvocation
        let started: Date
        var eventStarted: Date
        var replies: [LambdaReply] = []

        init(key: TaskKey, invocation: LambdaInvocation, started: Date) {
            self.key = key
            self.invocation = invocation
            self.started = started
            eventStarted = started
        }
    }

    init(process: FunctionProcess, log: String) {
        self.process = process
        self.log = log
    }
}

/// Reads what was appended to a log since the last read, in bounded chunks.
final class LogFollower {
    let path: String
    let key: TaskKey
    private var offset: Int
    /// A task's own log file goes with the task: the coordinator keeps the log,
    /// and a long-running worker must not pile up a file per task.
    private let ownsFile: Bool
    static let chunkBytes = 64 * 1024
    /// What one last read may send (a job's tail); past it the log is cut with a note.
    static let maxFinalChunks = 256

    init(path: String, key: TaskKey, startingAt offset: Int = 0, ownsFile: Bool = false) {
        self.path = path
        self.key = key
        self.offset = offset
        self.ownsFile = ownsFile
    }

    deinit {
        if ownsFile { unlink(path) }
    }

    static func size(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// What was written since the last read: bounded per call, so a chatty job
    /// cannot stall the loop; `final` reads the rest once the job has ended.
    func read(final: Bool = false) -> [LogChunk] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        var chunks: [LogChunk] = []
        try? handle.seek(toOffset: UInt64(offset))
        for _ in 0..<(final ? Self.maxFinalChunks : 16) {
            guard let data = try? handle.read(upToCount: Self.chunkBytes), !data.isEmpty else { break }
            chunks.append(LogChunk(key: key, offset: offset, text: String(decoding: data, as: UTF8.self)))
            offset += data.count
        }
        if final {
            let size = Self.size(of: path)
            if offset < size {
                chunks.append(LogChunk(key: key, offset: offset, text: "\nshoal: the rest of this log (\(size - offset) bytes) was cut: it came faster than it could be sent\n"))
            }
        }
        return chunks
    }
}
