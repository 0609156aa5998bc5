/// Step and execution statuses as SageMaker names them, plus `NotRun` for steps
/// an execution never started (a branch not taken, or after a failure).
public enum StepStatus: String, Sendable {
    case pending = "Pending"
    case executing = "Executing"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case stopped = "Stopped"
    case notRun = "NotRun"

    var isFinal: Bool { self != .pending && self != .executing }
}

public enum ExecutionStatus: String, Sendable {
    case executing = "Executing"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case stopping = "Stopping"
    case stopped = "Stopped"
}
