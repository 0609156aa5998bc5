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
        /// Tasks it said it held when it registered that no execution has taken
        /// back yet: they hold slots until taken back or cancelled.
        public var held: [TaskKey: HeldTask] = [:]
        public var lastHeard: Date
        /// Heartbeats received. A peer's messages arrive in the order it sent
        /// them, so everything it sent before a heartbeat has been handled once
        /// that heartbeat is counted.
        public var heartbeats = 0

        public var freeSlots: Int { slots - running.count - held.values.filter { !$0.ended }.count }

        /// Whether the worker carries, for every required key, one of the allowed values.
        public func satisfies(_ requirements: [String: [String]]) -> Bool {
            requirements.allSatisfy { key, allowed in allowed.isEmpty || !(labels[key] ?? []).filter(allowed.contains).isEmpty }
        }
    }

    /// A task a worker reported holding, kept until `until` for an execution to take it back.
    public struct HeldTask: Sendable, Equatable {
        public var until: Date
        /// It had ended (its result comes again): it holds no slot.
        public var ended = false
        /// Its result, when the worker reported it before it was taken back.
        public var finished: TaskFinished?
    }

    public let liveness: TimeInterval
    /// Tasks executions carried on after a restart wait for a worker to report, until when.
    public private(set) var expected: [TaskKey: Date] = [:]
    /// Until when a reported task nobody waits for yet is held rather than
    /// cancelled, and for how long (a restarted coordinator's executions take
    /// theirs back in its first seconds).
    private var holdingsAcceptedUntil = Date.distantPast
    private var holdingWindow: TimeInterval = 0
    /// The workers of the previous life not registered again yet: once all
    /// are back, what none reported (queued then, or on a worker that left)
    /// is not waited for any longer.
    public private(set) var awaitedWorkers: Set<String>?
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

    /// What a registration changed: tasks the worker no longer holds (it
    /// restarted, or stopped them), and tasks it holds that nobody wants (to cancel on it).
    public struct Registration: Sendable, Equatable {
        public var forgotten: [TaskKey] = []
        public var unwanted: [TaskKey] = []
        /// Tasks an execution waited for that it reported (running, or ended with a result to come).
        public var takenBack: [TaskKey] = []
    }

    /// A worker said hello (again). What it held before and no longer says it
    /// holds is forgotten; what it says it holds stays its own when assigned to
    /// it, is taken back when an execution waits for it, is held for a while
    /// after `acceptHoldings`, and is otherwise unwanted.
    public mutating func register(identity: [UInt8], _ hello: Register, now: Date) -> Registration {
        let holding = Set(hello.holding ?? [])
        let previous = workers[identity]
        var worker = Worker(
            id: hello.workerId, identity: identity, host: hello.host, slots: max(0, hello.slots), version: hello.version,
            labels: hello.labels ?? [:], sandbox: hello.sandbox, lastHeard: now
        )
        var registration = Registration()
        registration.forgotten = (previous?.running ?? []).subtracting(holding).sorted { $0.description < $1.description }
        worker.running = (previous?.running ?? []).intersection(holding)
        // Its running tasks first, then the results it sends again (`ended`): an
        // expected one is taken back (a result as running until it comes), an
        // early one kept for a while; a running task beyond its slots or past
        // the window is unwanted, a result nobody waits for ignored when it comes.
        let byKey: (TaskKey, TaskKey) -> Bool = { $0.description < $1.description }
        let reported = Set(hello.reported ?? []).subtracting(holding)
        let claims = holding.subtracting(worker.running).sorted(by: byKey).map { ($0, false) } + reported.sorted(by: byKey).map { ($0, true) }
        for (key, ended) in claims {
            if !ended && worker.freeSlots <= 0 {
                registration.unwanted.append(key)
            } else if expected.removeValue(forKey: key) != nil {
                worker.running.insert(key)
                registration.takenBack.append(key)
            } else if let kept = previous?.held[key] {
                worker.held[key] = kept
            } else if now < holdingsAcceptedUntil {
                worker.held[key] = HeldTask(until: now.addingTimeInterval(holdingWindow), ended: ended)
            } else if !ended {
                registration.unwanted.append(key)
            }
        }
        workers[identity] = worker
        if awaitedWorkers?.remove(hello.workerId) != nil, allAwaitedReturned {
            for key in expected.keys { expected[key] = now }
        }
        return registration
    }

    /// For `window` from `now`, tasks workers report holding are kept for an
    /// execution to take back (`reattach`) rather than cancelled: a restarted
    /// coordinator's resumed executions take back the instances that outlived it.
    public mutating func acceptHoldings(for window: TimeInterval, now: Date, from previousWorkers: Set<String>? = nil) {
        holdingsAcceptedUntil = now.addingTimeInterval(window)
        holdingWindow = window
        awaitedWorkers = previousWorkers.map { $0.subtracting(workers.values.map(\.id)) }
    }

    /// Every worker of the previous life registered again (or none was known).
    private var allAwaitedReturned: Bool { awaitedWorkers?.isEmpty == true }

    public enum Reattachment: Sendable, Equatable {
        /// Running on this worker again.
        case running(workerId: String)
        /// It had ended before it was taken back: its result.
        case finished(TaskFinished)
        /// No worker reported it yet; it is lost if none does by the time given.
        case waiting
    }

    /// An execution takes back a task its previous coordinator had assigned.
    public mutating func reattach(_ key: TaskKey, waitingUntil deadline: Date) -> Reattachment {
        for (identity, worker) in workers {
            guard let held = worker.held[key] else { continue }
            workers[identity]!.held[key] = nil
            guard var finished = held.finished else {
                workers[identity]!.running.insert(key)
                return .running(workerId: worker.id)
            }
            finished.worker = worker.id
            return .finished(finished)
        }
        // Every worker that could hold it has said what it holds.
        expected[key] = allAwaitedReturned ? .distantPast : deadline
        return .waiting
    }

    /// A held task's result arrived before any execution took it back: kept with it.
    /// Returns false when `key` is not held by that worker.
    public mutating func keepResult(_ finished: TaskFinished, from identity: [UInt8]) -> Bool {
        guard workers[identity]?.held[finished.key] != nil else { return false }
        workers[identity]!.held[finished.key]!.finished = finished
        return true
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
        if identity == nil { expected[key] = nil }
        for (id, worker) in workers where worker.running.contains(key) && (identity == nil || identity == id) {
            workers[id]!.running.remove(key)
            return id
        }
        if identity == nil, let (id, _) = workers.first(where: { $0.value.held[key] != nil }) {
            workers[id]!.held[key] = nil
            return id
        }
        return nil
    }

    public struct Directives: Sendable {
        public var assignments: [(identity: [UInt8], assignment: Assignment)] = []
        /// Workers silent for longer than the liveness window, with the tasks they held.
        public var lost: [(worker: Worker, tasks: [TaskKey])] = []
        /// Expected tasks no worker reported in time.
        public var notReattached: [TaskKey] = []
        /// Held tasks no execution took back in time: to cancel on their workers.
        public var unwanted: [(identity: [UInt8], key: TaskKey)] = []
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
        for (key, deadline) in expected where deadline <= now {
            expected[key] = nil
            directives.notReattached.append(key)
        }
        directives.notReattached.sort { $0.description < $1.description }
        for (identity, worker) in workers {
            for (key, held) in worker.held where held.until <= now {
                workers[identity]!.held[key] = nil
                if !held.ended { directives.unwanted.append((identity, key)) }
            }
        }
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
