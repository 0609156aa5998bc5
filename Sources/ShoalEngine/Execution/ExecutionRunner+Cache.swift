import Foundation
import ShoalDefinition
import ShoalStore

/// Step caching in the runner: a step with `CacheConfig.Enabled` looks for a
/// run to reuse before it starts any work, and is remembered when it succeeds.
extension ExecutionRunner {
    var stepCache: StepCache { StepCache(metadata: home.metadata, objects: home.objects, pipelineName: options.pipelineName) }

    /// The step types whose start looks up the cache.
    static func looksUpCache(_ step: Step) -> Bool {
        step.cacheConfig?.enabled == true && [StepType.processing, .lambda, .shoalMap, .training, .transform].contains(step.type)
    }

    /// Ends the step with a cached run's properties and returns true on a hit;
    /// on a miss, notes why and keeps the key for the run to be remembered.
    func reuseCachedRun(_ index: Int, step: Step, type: String, arguments: JSONValue, attributes: [String]? = nil, inputFiles: [String]) throws -> Bool {
        guard let config = step.cacheConfig, config.enabled == true else { return false }
        var expireAfter: TimeInterval?
        if let text = config.expireAfter {
            guard let seconds = ISODuration.seconds(text) else {
                throw EvaluationError("CacheConfig.ExpireAfter '\(text)' is not an ISO 8601 duration (PT1H, P30D, P1DT12H).")
            }
            expireAfter = seconds
        }
        let run = steps[index]
        let key = StepCache.key(type: type, step: step.name, arguments: arguments, attributes: attributes, inputFiles: inputFiles)
        run.cacheKey = key
        switch try stepCache.lookup(step: step.name, key: key, expireAfter: expireAfter) {
        case let .hit(entry, properties):
            EngineMetrics.cacheLookup(hit: true)
            run.properties = properties
            run.cacheSource = entry.executionId
            run.note = "cache hit: reused the run of execution \(entry.executionId) of \(Identifiers.timestamp(entry.createdAt))"
            try end(index, .succeeded, reason: nil, detail: "cache hit (execution \(entry.executionId))")
            return true
        case let .miss(reason):
            EngineMetrics.cacheLookup(hit: false)
            run.note = "cache miss: " + reason
            try save(index)
            return false
        }
    }
}
