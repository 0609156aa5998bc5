import Foundation

/// The coordinator's view of its workers and of the tasks waiting for or
/// running in their slots. A pure value: the socket loop feeds it events and
/// carries out what it returns, so it is tested without ZeroMQ.
public struct WorkerRegistry: Sendable {
    public struct Worker: Sendable, Equatable {
        public let id: String
        /// The ROUTER routing id of the worker's connection.
        public let identity: [UInt8]
        public let host: String
        public let slots: Int
        public let version: String
        public let labels: [String: [String]]
        /// How it isolates jobs, as it said when registering (nil: a worker older than sandboxes).
        public let sandbox: String?
        public var running: Set<TaskKey> = []
        public var lastHeard: Date
        /// Heartbeats received. A peer's messages arrive in the order it sent
        /// them, so everything it sent before a heartbeat has been handled once
        /// that heartbeat is counted.
        public var heartbeats = 0

        public var freeSlots: Int { slots - running.count }

        /// Whether the worker carries, for every required key, one of the allowed values.
        public func satisfies(_ requirements: [String: [String]]) -> Bool {
            requirements.allSatisfy { key, allowed in allowed.isEmpty || !(labels[key] ?? []).filter(allowed.contains).isEmpty }
        }
    }

    public let liveness: TimeInterval
    /// Bounded: submitting beyond this is refused.
    public let maxQueued: Int
    public private(set) var workers: [[UInt8]: Worker] = [:]
    public private(set) var queue: [(key: TaskKey, task: Task, requirements: [String: [String]])] = []

    public init(liveness: TimeInterval, maxQueued: Int = 100_000) {
        self.liveness = liveness
        self.maxQueued = maxQueued
    }

    public struct QueueFull: Error, CustomStringConvertible {
        public let limit: Int
        public var description: String { "more than \(limit) tasks are waiting for a worker" }
    }

    /// A worker said hello (again). A worker re-registering loses the tasks it
    /// held: it restarted and forgot them.
    public mutating func register(identity: [UInt8], _ hello: Register, now: Date) -> [TaskKey] {
        let forgotten = workers[identity].map { Array($0.running) } ?? []
        workers[identity] = Worker(
            id: hello.workerId, identity: identity, host: hello.host, slots: max(0, hello.slots), version: hello.version,
            labels: hello.labels ?? [:], sandbox: hello.sandbox, lastHeard: now
        )
        return forgotten.sorted { $0.description < $1.description }
    }

    /// A worker known to be gone (its process exited) is lost at the next tick,
    /// without waiting out the liveness window.
    public mutating func expire(workerId: String) {
        for (identity, worker) in workers where worker.id == workerId { workers[identity]!.lastHeard = .distantPast }
    }

    mutating func countHeartbeat(from identity: [UInt8]) { workers[identity]?.heartbeats += 1 }

    /// Any message counts as a sign of life. Returns false for an unknown peer.
    public mutating func heard(from identity: [UInt8], now: Date) -> Bool {
        guard workers[identity] != nil else { return false }
        workers[identity]!.lastHeard = now
        return true
    }

    /// Queues a task for a worker carrying the required labels (key → allowed values).
    public mutating func submit(_ key: TaskKey, _ task: Task, requirements: [String: [String]] = [:]) throws(QueueFull) {
        guard queue.count < maxQueued else { throw QueueFull(limit: maxQueued) }
        queue.append((key, task, requirements))
    }

    /// Whether any registered worker could ever run a task with these requirements.
    public func canPlace(_ requirements: [String: [String]]) -> Bool {
        workers.values.contains { $0.satisfies(requirements) }
    }

    /// Takes a task off its worker (or out of the queue). Returns the worker that
    /// ran it, or nil when `key` is not a current assignment (a late message of
    /// an attempt that was already given up).
    @discardableResult
    public mutating func release(_ key: TaskKey, from identity: [UInt8]? = nil) -> [UInt8]? {
        queue.removeAll { $0.key == key }
        for (id, worker) in workers where worker.running.contains(key) && (identity == nil || identity == id) {
            workers[id]!.running.remove(key)
            return id
        }
        return nil
    }

    public struct Directives: Sendable {
        public var assignments: [(identity: [UInt8], assignment: Assignment)] = []
        /// Workers silent for longer than the liveness window, with the tasks they held.
        public var lost: [(worker: Worker, tasks: [TaskKey])] = []
    }

    /// Declares silent workers lost and fills free slots from the queue, oldest
    /// task first, each to the worker with the most free slots (which spreads
    /// the instances of one job across hosts).
    public mutating func tick(now: Date) -> Directives {
        var directives = Directives()
        for (identity, worker) in workers where now.timeIntervalSince(worker.lastHeard) > liveness {
            workers[identity] = nil
            directives.lost.append((worker, worker.running.sorted { $0.description < $1.description }))
        }
        directives.lost.sort { $0.worker.id < $1.worker.id }
        // Oldest first; a task no free worker can take waits without holding back the others.
        var waiting: [(key: TaskKey, task: Task, requirements: [String: [String]])] = []
        while !queue.isEmpty {
            guard workers.values.contains(where: { $0.freeSlots > 0 }) else { break }
            let (key, task, requirements) = queue.removeFirst()
            let candidates = workers.values.filter { $0.freeSlots > 0 && $0.satisfies(requirements) }
            guard let best = candidates.max(by: { ($0.freeSlots, $1.id) < ($1.freeSlots, $0.id) }) else {
                waiting.append((key, task, requirements))
                continue
            }
            workers[best.identity]!.running.insert(key)
            directives.assignments.append((best.identity, Assignment(key: key, task: task)))
        }
        queue.insert(contentsOf: waiting, at: 0)
        return directives
    }

    public var totalSlots: Int { workers.values.reduce(0) { $0 + $1.slots } }
}
