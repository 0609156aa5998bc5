import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// One step's run-time state.
final class StepRun {
    let node: PipelineGraph.Node
    var step: Step?
    var startedAt: Date?
    var endedAt: Date?
    var failureReason: String?
    var properties: JSONValue?
    var attempts = 0
    /// Attempts recorded before the execution was resumed: new ones are numbered after them.
    var attemptBase = 0
    var plan: ProcessingJobPlan?
    var completed: [Int: InstanceOutcome] = [:]
    var openTasks: Set<TaskKey> = []
    var lostHosts: Set<String> = []
    /// Run component ids by host, once recorded.
    var componentIds: [Int: Int64] = [:]
    /// A Shoal:Map step's fan-out.
    var map: MapRun?
    /// When the run a resumed execution carries on had started this step: its
    /// fan-out's children since then are this run's to take back.
    var resumedFrom: Date?
    /// Its attempts recorded outcomes (see `InstanceRecord.outcome`), forgotten when it ends.
    var keepsOutcomes = false
    /// With caching on: the step's key (recorded when it succeeds), and what the lookup found.
    var cacheKey: StepCache.Key?
    var cacheSource: String?
    var note: String?
    /// A Callback step's token, once its message was sent.
    var callbackToken: String?
    /// A retry waiting out its policy's interval, while it waits.
    var retryNote: String?

    init(node: PipelineGraph.Node) { self.node = node }
}
