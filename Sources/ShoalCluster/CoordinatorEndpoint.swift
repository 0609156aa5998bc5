import CoreMetrics
import Foundation
import ShoalRuntime
import ZeroMQ

/// The coordinator's socket: a ROUTER that workers connect to. It keeps the
/// worker registry, answers heartbeats and hands tasks out; the engine reads
/// what happened through `poll`.
public final class CoordinatorEndpoint {
    public enum Event: Sendable {
        case workerJoined(id: String, host: String, slots: Int)
        case log(LogChunk)
        case finished(TaskFinished)
        /// The worker went silent; its tasks will not finish.
        case workerLost(id: String, host: String, tasks: [TaskKey])
        /// Tasks an execution waited to take back (`reattach`) that a worker reported: they run on.
        case reattached(tasks: [TaskKey])
        /// Tasks an execution waited to take back (`reattach`) that no worker reported in time.
        case notReattached(tasks: [TaskKey])
    }

    /// CURVE for a cluster: the coordinator's key pair and the worker keys it admits.
    public struct Security: Sendable {
        public var keys: CurveKeyPair
        public var allowedKeys: Set<String>

        public init(keys: CurveKeyPair, allowedKeys: Set<String>) {
            self.keys = keys
            self.allowedKeys = allowedKeys
        }
    }

    public let endpoint: String
    private let context: Context
    private let socket: Socket
    private let authenticator: ZapAuthenticator?
    /// Serves data to workers that cannot read the coordinator's files (`--fetch-data`).
    public var transfers: TransferServer?
    public private(set) var registry: WorkerRegistry
    /// With CURVE: the key each worker id was first registered with.
    private var keyOfWorker: [String: String] = [:]
    private static let maxBoundIds = 100_000
    private let heartbeatInterval: TimeInterval
    private var lastHeartbeat = Date.distantPast
    private let diagnostics: @Sendable (String) -> Void
    /// When each unregistered peer was last said to be dropped: a worker that
    /// outlived a coordinator heartbeats until it registers again, and once a
    /// minute is enough to say so (bounded: the oldest are forgotten).
    private var droppedPeers: [[UInt8]: Date] = [:]
    private static let maxDroppedPeers = 1024

    /// With `security`, the ZAP handler runs before the socket binds (without one
    /// libzmq would admit any client that knows the server key), and refused
    /// keys are reported through `diagnostics`.
    public init(
        bind endpoint: String, context: Context, security: Security? = nil, heartbeatInterval: TimeInterval = 0.5, liveness: TimeInterval = 3,
        diagnostics: @escaping @Sendable (String) -> Void = { StandardStreams.error("shoal: " + $0 + "\n") }
    ) throws {
        self.context = context
        self.heartbeatInterval = heartbeatInterval
        self.diagnostics = diagnostics
        registry = WorkerRegistry(liveness: liveness)
        if let security {
            authenticator = try ZapAuthenticator(context: context, allowedKeys: security.allowedKeys) { decision in
                if !decision.allowed { diagnostics("refused a connection from \(decision.address) with key \(decision.publicKey.isEmpty ? "(none)" : decision.publicKey)") }
            }
        } else {
            authenticator = nil
        }
        socket = try context.socket(.router)
        if let security {
            try socket.setZapDomain("shoal")
            try socket.makeCurveServer(secretKey: security.keys.secretKey)
        }
        try socket.setOption(.routerMandatory, 1)
        try socket.setOption(.linger, 0)
        try socket.setOption(.sendHighWaterMark, 10_000)
        try socket.setOption(.receiveHighWaterMark, 10_000)
        try socket.setMaxMessageSize(Int64(WireCodec.maxPayloadBytes + 4096))
        try socket.bind(endpoint)
        self.endpoint = endpoint.hasSuffix(":*") ? try socket.lastEndpoint : endpoint
    }

    public func submit(_ key: TaskKey, _ task: Task, requirements: [String: [String]] = [:]) throws {
        try registry.submit(key, task, requirements: requirements)
        submittedAt[key] = Date()
    }

    /// When each queued task was submitted, for the dispatch latency metric
    /// (bounded as the registry's queue is: an entry leaves when its task is assigned or cancelled).
    private var submittedAt: [TaskKey: Date] = [:]

    /// Results of reattached tasks that had ended, reported at the next poll.
    private var reattachedResults: [Event] = []

    /// Holds tasks workers report after a restart for `window`, waiting for
    /// `previousWorkers` to come back (see `WorkerRegistry.acceptHoldings`).
    public func acceptHoldings(for window: TimeInterval, from previousWorkers: Set<String>?) {
        registry.acceptHoldings(for: window, now: Date(), from: previousWorkers)
    }

    /// Takes back a task a previous coordinator assigned: it runs on, its result
    /// comes at the next poll, or it comes as `notReattached` when no worker
    /// reports it by `deadline`.
    public func reattach(_ key: TaskKey, waitingUntil deadline: Date) {
        switch registry.reattach(key, waitingUntil: deadline) {
        case let .finished(finished): reattachedResults += [.reattached(tasks: [key]), .finished(finished)]
        case .running: reattachedResults.append(.reattached(tasks: [key]))
        case .waiting: break
        }
    }

    /// Declares a worker lost at the next poll (its process is known to have exited).
    public func expire(workerId: String) { registry.expire(workerId: workerId) }

    /// Stops a task wherever it is: dropped from the queue, or cancelled on its worker.
    public func cancel(_ key: TaskKey) {
        submittedAt[key] = nil
        if let identity = registry.release(key) { send(.cancel(key), to: identity) }
    }

    deinit { authenticator?.stop() }

    /// Asks every worker to exit.
    public func shutdownWorkers() {
        for identity in registry.workers.keys { send(.shutdown, to: identity) }
    }

    /// Waits up to `timeout` seconds for traffic (from workers, or a request
    /// on `api`, which the caller then reads), then returns what happened.
    public func poll(timeout: TimeInterval, alsoWakingFor api: ApiEndpoint? = nil) throws -> [Event] {
        var events = reattachedResults
        reattachedResults.removeAll()
        var poller = Poller()
        poller.add(socket)
        if let api { poller.add(api.socket) }
        let ready = try poller.poll(timeoutMilliseconds: max(0, Int(timeout * 1000)))
        let now = Date()
        if ready[0].contains(.readable) {
            // Drain what is there, bounded so a flood cannot starve the rest of the loop.
            for _ in 0..<10_000 {
                let frames: [Message]
                do {
                    guard let received = try socket.receiveMessages(dontWait: true, maxFrames: 8) else { break }
                    frames = received
                } catch let refused as TooManyFrames {
                    diagnostics("dropped a message from \(peerName(refused.firstFrame)): \(refused)")
                    continue
                }
                handle(frames, now: now, into: &events)
            }
        }
        let directives = registry.tick(now: now)
        for (worker, tasks) in directives.lost {
            events.append(.workerLost(id: worker.id, host: worker.host, tasks: tasks))
        }
        if !directives.notReattached.isEmpty { events.append(.notReattached(tasks: directives.notReattached)) }
        for (identity, key) in directives.unwanted { send(.cancel(key), to: identity) }
        for (identity, assignment) in directives.assignments {
            send(.assign(assignment), to: identity)
            if let submitted = submittedAt.removeValue(forKey: assignment.key) {
                CoreMetrics.Timer(label: "shoal_dispatch_latency_seconds").recordSeconds(max(0, now.timeIntervalSince(submitted)))
            }
        }
        if now.timeIntervalSince(lastHeartbeat) >= heartbeatInterval {
            lastHeartbeat = now
            for identity in registry.workers.keys { send(.heartbeat, to: identity) }
        }
        return events
    }

    private func handle(_ frames: [Message], now: Date, into events: inout [Event]) {
        guard let identity = frames.first?.bytes, frames.count >= 2 else { return }
        let message: WireMessage
        do {
            message = try WireCodec.decode(Array(frames.dropFirst()))
        } catch {
            diagnostics("dropped a message from \(peerName(identity)): \(error)")
            return
        }
        if case let .register(hello) = message {
            if let refusal = hello.refusal ?? ownership(of: hello.workerId, claimedBy: identity, key: frames[1].property("User-Id") ?? "") {
                diagnostics("refused the registration from \(peerName(identity)): \(refusal)")
                return
            }
            // A worker cut off queues a registration at every retry; they arrive together. One join is news, the rest are not.
            let known = registry.workers[identity]?.id == hello.workerId
            let registration = registry.register(identity: identity, hello, now: now)
            droppedPeers[identity] = nil
            send(.welcome(Welcome(heartbeatMilliseconds: Int(heartbeatInterval * 1000), livenessMilliseconds: Int(registry.liveness * 1000))), to: identity)
            for key in registration.unwanted { send(.cancel(key), to: identity) }
            if !(hello.holding ?? []).isEmpty || !(hello.reported ?? []).isEmpty {
                diagnostics("worker \(hello.workerId) came back holding \(hello.holding?.count ?? 0) tasks and \(hello.reported?.count ?? 0) results: "
                    + "\(registration.takenBack.count) taken back, \(registration.unwanted.count) cancelled")
            }
            if !known { events.append(.workerJoined(id: hello.workerId, host: hello.host, slots: hello.slots)) }
            if !registration.forgotten.isEmpty { events.append(.workerLost(id: hello.workerId, host: hello.host, tasks: registration.forgotten)) }
            if !registration.takenBack.isEmpty { events.append(.reattached(tasks: registration.takenBack)) }
            return
        }
        guard registry.heard(from: identity, now: now) else {
            if droppedPeers[identity].map({ now.timeIntervalSince($0) >= 60 }) ?? true {
                if droppedPeers.count >= Self.maxDroppedPeers, let oldest = droppedPeers.min(by: { $0.value < $1.value })?.key { droppedPeers[oldest] = nil }
                droppedPeers[identity] = now
                diagnostics("dropped a '\(message.kind)' message from unregistered peer \(peerName(identity)) (said once a minute per peer)")
            }
            return
        }
        switch message {
        case let .log(chunk):
            if registry.workers[identity]?.running.contains(chunk.key) == true { events.append(.log(chunk)) }
        case var .finished(finished):
            // Only the current assignment may finish; a late attempt is ignored.
            finished.worker = registry.workers[identity]?.id
            if registry.release(finished.key, from: identity) != nil {
                events.append(.finished(finished))
            } else {
                _ = registry.keepResult(finished, from: identity)
            }
        case let .fetch(request):
            guard let transfers else {
                return send(.chunk(ChunkHeader(transfer: request.transfer, offset: request.offset, crc32: 0, error: "this coordinator does not serve data"), []), to: identity)
            }
            transfers.serve(request) { send(.chunk($0, $1), to: identity) }
        case let .put(header, data):
            send(.putAck(transfers?.receive(header, data) ?? PutAck(transfer: header.transfer, offset: header.offset, error: "this coordinator takes no data")), to: identity)
        case .heartbeat:
            registry.countHeartbeat(from: identity)
        case .register:
            break
        case .welcome, .assign, .cancel, .shutdown, .chunk, .putAck:
            diagnostics("dropped a '\(message.kind)' message, which only a coordinator sends, from \(peerName(identity))")
        }
    }

    /// Why `identity` may not register as `workerId`, or nil. With CURVE a
    /// worker id belongs to the first key that registered it (the ZAP handler's
    /// user id): another allowed key cannot take it over. Without keys nothing
    /// proves who a peer is, so an id a live worker holds is refused to any
    /// other connection until that worker is lost.
    private func ownership(of workerId: String, claimedBy identity: [UInt8], key: String) -> String? {
        if !key.isEmpty {
            if let owner = keyOfWorker[workerId], owner != key {
                return "worker id '\(workerId)' belongs to another key; this connection's key is \(key)"
            }
            if keyOfWorker[workerId] == nil {
                guard keyOfWorker.count < Self.maxBoundIds else { return "too many worker ids are bound to keys (\(Self.maxBoundIds))" }
                keyOfWorker[workerId] = key
            }
            // The same key on a new connection is the same worker come back: the old connection is lost at the next tick.
            if registry.workers.values.contains(where: { $0.id == workerId && $0.identity != identity }) { registry.expire(workerId: workerId) }
            return nil
        }
        if registry.workers.values.contains(where: { $0.id == workerId && $0.identity != identity }) {
            return "worker id '\(workerId)' is held by a live worker on another connection"
        }
        return nil
    }

    private func send(_ message: WireMessage, to identity: [UInt8]) {
        do {
            _ = try socket.send(messages: [Message(identity)] + WireCodec.encode(message), dontWait: true)
        } catch {
            diagnostics("cannot send '\(message.kind)' to \(peerName(identity)): \(error)")
        }
    }
}
