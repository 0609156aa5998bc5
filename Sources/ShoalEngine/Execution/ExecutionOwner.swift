import Foundation
import ShoalStore

/// The process running an execution, recorded with it: `shoal stop` sends its
/// request to `endpoint`, and an execution whose owner is gone from this host
/// can be told apart from one whose owner is busy.
public struct ExecutionOwner: Sendable, Equatable {
    public var endpoint: String
    public var host: String
    public var process: Int

    public init(endpoint: String, host: String = ProcessInfo.processInfo.hostName, process: Int = Int(getpid())) {
        self.endpoint = endpoint
        self.host = host
        self.process = process
    }

    /// The owner recorded with `execution`, if any.
    public init?(of execution: ExecutionRecord) {
        guard let endpoint = execution.ownerEndpoint, let host = execution.ownerHost, let process = execution.ownerProcess else { return nil }
        self.init(endpoint: endpoint, host: host, process: process)
    }

    /// On this host and no longer running. An owner on another host is never
    /// called gone: only it, or its coordinator, can say.
    public var isGoneFromThisHost: Bool {
        guard host == ProcessInfo.processInfo.hostName, process > 0, process <= Int(Int32.max) else { return false }
        return kill(pid_t(process), 0) != 0 && errno == ESRCH
    }

    func record(in execution: inout ExecutionRecord) {
        execution.ownerEndpoint = endpoint
        execution.ownerHost = host
        execution.ownerProcess = process
    }
}

/// An execution left running by a process that died: nothing will ever finish
/// it, so stopping it records the end its owner could not.
public enum OrphanedExecution {
    public struct NotOrphaned: Error, CustomStringConvertible {
        public let description: String
    }

    /// Marks the execution Stopped (running steps Stopped, waiting ones NotRun,
    /// running attempts Stopped, its fan-outs' running children likewise) when
    /// its owner is gone from this host.
    public static func stop(_ id: String, in home: ShoalHome, now: Date = Date()) throws -> ExecutionRecord {
        guard var execution = try home.metadata.execution(id: id) else { throw NotOrphaned(description: "no execution '\(id)'") }
        guard execution.status.isRunning else { throw NotOrphaned(description: "execution '\(id)' is \(execution.status), not running") }
        guard let owner = ExecutionOwner(of: execution), owner.isGoneFromThisHost else {
            throw NotOrphaned(description: "execution '\(id)' is not orphaned: its owner is running or not on this host")
        }
        let reason = "its owner, process \(owner.process) on \(owner.host), ended without finishing it"
        for var step in try home.metadata.steps(executionId: id) where !step.status.isFinal {
            step.failureReason = step.status == .executing ? "the execution was stopped: \(reason)" : "the execution was stopped"
            step.status = step.status == .executing ? .stopped : .notRun
            if step.startedAt != nil { step.endedAt = now }
            try home.metadata.update(step)
        }
        let running = try home.metadata.instances(executionId: id).filter { $0.status == .inProgress }.map { attempt in
            var attempt = attempt
            attempt.status = .stopped
            attempt.endedAt = now
            attempt.failureReason = reason
            return attempt
        }
        try home.metadata.update(running)
        // Children ran in the same process: they are orphaned with their parent.
        for child in try home.metadata.executions(parent: id) where child.status.isRunning { _ = try stop(child.id, in: home, now: now) }
        execution.status = .stopped
        execution.endedAt = now
        execution.failureReason = reason
        try home.metadata.update(execution)
        try? FileManager.default.removeItem(at: home.root.appendingPathComponent("staging/\(id)"))
        return execution
    }
}
