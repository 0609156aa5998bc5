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
        /// A cluster worker outlives its coordinator: it asks to register again,
        /// backing off up to `maxBackoff`, holding its jobs for `holdJobs`. A
        /// local worker stops its jobs and exits.
        public var reconnect = false
        /// How long a cluster worker that lost its coordinator keeps its running
        /// jobs for a restarted one to take back (0: it stops them at once).
        public var holdJobs: TimeInterval = 60
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
        /// How jobs and function processes are isolated; `.unavailable` fails every job with its reason.
        public var sandbox: SandboxMode = .detected

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
        /// The coordinator refused this worker's key before ever welcoming it (without `reconnect`).
        case refused(String)
    }

    let configuration: Configuration
    let context: Context
    let claim: WorkFolderClaim
    /// Containers an earlier worker on this work folder left running, removed at start.
    public let sweptContainers: Int
    /// Handshake outcomes: the only way a refused key shows on this side, and
    /// how a new connection (a restarted coordinator, a dropped link) is seen at once.
    let monitor: SocketMonitor?
    var handshakes = 0
    /// A connection after the first was made: the peer may not know this worker.
    var reconnected = false
    var welcomed = false
    var refusalReported = false
    let socket: Socket
    var jobs: [TaskKey: (job: RunningJob, log: LogFollower)] = [:]
    var functions: [String: FunctionSlot] = [:]
    /// Warm processes of a function's earlier code (or handler) that still have
    /// invocations to finish; each goes once it is idle.
    var retiring: [FunctionSlot] = []
    var allFunctionSlots: [FunctionSlot] { Array(functions.values) + retiring }
    var shipped: [TaskKey: ShippedJob] = [:]
    let inputCache: InputCache?
    let recycledFiles: RecycledFiles?
    /// Function code being fetched, by the local folder it goes to.
    var codeFetches: [String: CodeFetch] = [:]
    var lastHeard = Date()
    var lastSent = Date.distantPast
    var liveness: TimeInterval
    /// Since when the coordinator is gone while this worker holds its jobs:
    /// they run on, but their ends are neither reaped nor reported, nor their
    /// logs sent, until a coordinator welcomes it back.
    var adrift: Date?
    /// Results sent lately: a coordinator that died may not have read them, so
    /// they are reported again to the next one (bounded by count and age).
    var reported: [(finished: TaskFinished, at: Date)] = []

    public init(_ configuration: Configuration) throws {
        self.configuration = configuration
        liveness = configuration.liveness
        claim = try WorkFolderClaim(configuration.workFolder)
        // This worker holds the folder now: containers a dead one left here go.
        sweptContainers = ContainerRun.sweep(workFolder: configuration.workFolder.appendingPathComponent("jobs"))
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
        monitor = try SocketMonitor(watching: socket, context: context)
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
            // Adrift, an ended job waits to be reaped: its descriptor would wake every poll.
            if adrift == nil {
                for entry in jobs.values { if let descriptor = entry.job.exitDescriptor { poller.add(fileDescriptor: descriptor) } }
                for job in shipped.values { if case let .running(running, _) = job.phase, let descriptor = running.exitDescriptor { poller.add(fileDescriptor: descriptor) } }
            }
            _ = try poller.poll(timeoutMilliseconds: 20)
            if shouldStop() { return .shutdown }
            if let refusal = try checkHandshakes() { return .refused(refusal) }
            let now = Date()
            if reconnected {
                // A restarted coordinator knows neither this worker nor its jobs, and one that
                // only lost the link may have missed their results: register at once, rather
                // than after the liveness window, saying which jobs this worker holds.
                reconnected = false
                loseCoordinator(now: now, because: "connected to the coordinator anew")
                register()
                lastHeard = now
            }
            while let frames = try receiveFromCoordinator() {
                lastHeard = now
                if !connected {
                    connected = true
                    backoff = 0.5
                    StandardStreams.error("shoal worker \(configuration.workerId): the coordinator at \(configuration.endpoint) answers again\n")
                }
                let message: WireMessage
                do {
                    message = try WireCodec.decode(frames)
                } catch {
                    StandardStreams.error("shoal worker: dropped a message: \(error)\n")
                    continue
                }
                switch message {
                case let .welcome(welcome):
                    liveness = Double(welcome.livenessMilliseconds) / 1000
                    welcomed = true
                    if adrift != nil { rejoin() }
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
                guard configuration.reconnect else { return .coordinatorLost }
                loseCoordinator(now: now, because: "the coordinator at \(configuration.endpoint) went silent")
                connected = false
                nextAttempt = now
            }
            if let since = adrift, now.timeIntervalSince(since) > configuration.holdJobs, !jobs.isEmpty || !shipped.isEmpty {
                StandardStreams.error("shoal worker \(configuration.workerId): no coordinator took back its \(jobs.count + shipped.count) jobs within \(Int(configuration.holdJobs)) s; they were stopped\n")
                stopAllWork()
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

    /// Reports a refused key once (libzmq retries the handshake on its own);
    /// returns the reason to leave when this worker may not wait for its key to be allowed.
    func checkHandshakes() throws -> String? {
        guard let monitor else { return nil }
        while let event = try monitor.next() {
            switch event {
            case let .handshakeFailedAuth(_, status):
                let reason = "the coordinator at \(configuration.endpoint) refused this worker's key (CURVE, status \(status)); "
                    + "its public key must be in the coordinator's --allow folder"
                if !configuration.reconnect && !welcomed { return reason }
                if !refusalReported {
                    refusalReported = true
                    StandardStreams.error("shoal worker \(configuration.workerId): \(reason); trying again\n")
                }
            case .handshakeSucceeded:
                refusalReported = false
                handshakes += 1
                if handshakes > 1 { reconnected = true }
            default:
                continue
            }
        }
        return nil
    }

    /// The next waiting message; one with too many frames is logged and skipped,
    /// so a misbehaving peer cannot end the worker.
    func receiveFromCoordinator() throws -> [Message]? {
        while true {
            do {
                return try socket.receiveMessages(dontWait: true, maxFrames: 8)
            } catch let refused as TooManyFrames {
                StandardStreams.error("shoal worker \(configuration.workerId): dropped a message: \(refused)\n")
            }
        }
    }

    func stopAllWork() {
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

    func send(_ message: WireMessage) {
        lastSent = Date()
        do {
            _ = try socket.send(messages: WireCodec.encode(message), dontWait: true)
        } catch {
            StandardStreams.error("shoal worker: cannot send '\(message.kind)': \(error)\n")
        }
    }

    func finish(_ key: TaskKey, _ result: TaskResult) {
        let finished = TaskFinished(key: key, result: result)
        send(.finished(finished))
        let now = Date()
        reported.removeAll { now.timeIntervalSince($0.at) > 2 * liveness }
        reported.append((finished, now))
        if reported.count > configuration.slots { reported.removeFirst(reported.count - configuration.slots) }
    }

    /// One flat folder: the file goes with its task, and no folder per
    /// execution and step is left behind on a long-running worker.
    func logFile(for key: TaskKey) -> String {
        configuration.workFolder.appendingPathComponent("logs/\(Self.flatName(key)).log").path
    }

    /// A task attempt's name as one path component (its id holds slashes).
    private static func flatName(_ key: TaskKey) -> String {
        key.taskId.replacingOccurrences(of: "/", with: "--") + "-\(key.attempt)"
    }

    func start(_ assignment: Assignment) {
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
                    outputStaging: URL(fileURLWithPath: outputStaging), mode: configuration.sandbox
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
                    slot = FunctionSlot(process: try FunctionProcess(
                        codeFolder: invocation.codePath, handler: invocation.handler, logFile: log, mode: configuration.sandbox,
                        scratchFolder: configuration.workFolder.appendingPathComponent("functions-run")
                    ), log: log)
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

    func cancel(_ key: TaskKey) {
        reported.removeAll { $0.finished.key == key }
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

    func sendLog(_ log: LogFollower, final: Bool = false) {
        for chunk in log.read(final: final) { send(.log(chunk)) }
    }

    func advanceJobs() {
        guard adrift == nil else { return }
        for (key, entry) in jobs {
            sendLog(entry.log)
            guard let outcome = entry.job.poll() else { continue }
            sendLog(entry.log, final: true)
            jobs[key] = nil
            finish(key, .processing(outcome))
        }
    }

}
