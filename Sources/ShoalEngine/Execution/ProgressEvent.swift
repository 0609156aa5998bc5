import ShoalStore

/// What a running execution reports as it goes, for a progress view.
public enum ProgressEvent: Sendable {
    case started(executionId: String, pipeline: String, steps: Int)
    case step(name: String, type: String, status: StepStatus, detail: String?)
    case instances(step: String, done: Int, total: Int)
    case finished(status: ExecutionStatus, reason: String?)
    /// Sent a few times a second while steps run, so a live view can update elapsed times.
    case tick
}
