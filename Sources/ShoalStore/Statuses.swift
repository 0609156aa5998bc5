import GRDB

/// An execution's status as SageMaker names it (PipelineExecutionStatus).
public enum ExecutionStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible, CustomStringConvertible {
    case executing = "Executing"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case stopping = "Stopping"
    case stopped = "Stopped"

    public var description: String { rawValue }

    /// Whether the execution can still change.
    public var isRunning: Bool { self == .executing || self == .stopping }
}

/// A step's status as SageMaker names it, plus `NotRun` for steps an execution
/// never started (a branch not taken, or after a failure).
public enum StepStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible, CustomStringConvertible {
    case pending = "Pending"
    case executing = "Executing"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case stopped = "Stopped"
    case notRun = "NotRun"

    public var description: String { rawValue }

    public var isFinal: Bool { self != .pending && self != .executing }
}

/// One attempt of one instance (or one Lambda invocation, or one batch of map items).
public enum InstanceStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible, CustomStringConvertible {
    case inProgress = "InProgress"
    case completed = "Completed"
    case failed = "Failed"
    /// Its data could not be moved; a new attempt may follow.
    case interrupted = "Interrupted"
    /// Its worker was lost; a new attempt may follow.
    case lost = "Lost"
    /// Its step ended (failed elsewhere, or stopped) while it ran.
    case stopped = "Stopped"

    public var description: String { rawValue }
}
