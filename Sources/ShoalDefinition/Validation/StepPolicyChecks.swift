/// A step's `CacheConfig` and `RetryPolicies` (spec §5.7, §5.8), checked
/// before anything runs: a policy the engine would misread is refused here.
struct StepPolicyChecks {
    let step: Step
    let path: JSONPath
    let collector: DiagnosticCollector

    /// The classes of failure a policy may name.
    static let exceptionTypes = [
        "Step.SERVICE_FAULT", "Step.THROTTLING", "SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT",
    ]

    func run() {
        if let expireAfter = step.cacheConfig?.expireAfter, step.cacheConfig?.enabled == true, ISODuration.seconds(expireAfter) == nil {
            collector.error(
                "invalid-value", path.key("CacheConfig").key("ExpireAfter"),
                "Step '\(step.name)': ExpireAfter '\(expireAfter)' is not an ISO 8601 duration (PT1H, P30D, P1DT12H)."
            )
        }
        for (index, policy) in (step.retryPolicies ?? []).enumerated() {
            check(policy, at: path.key("RetryPolicies").index(index))
        }
    }

    private func check(_ policy: RetryPolicy, at path: JSONPath) {
        let types = policy.exceptionTypes ?? []
        if types.isEmpty {
            collector.error("missing-field", path.key("ExceptionType"), "Step '\(step.name)': a retry policy names at least one ExceptionType (\(Self.exceptionTypes.joined(separator: ", "))).")
        }
        for (index, type) in types.enumerated() where !Self.exceptionTypes.contains(type) {
            collector.error("invalid-value", path.key("ExceptionType").index(index), "Step '\(step.name)': '\(type)' is not an exception type; use one of \(Self.exceptionTypes.joined(separator: ", ")).")
        }
        number(policy.intervalSeconds, "IntervalSeconds", 1...43_200, at: path)
        if let rate = policy.backoffRate, !(rate.doubleValue >= 1 && rate.doubleValue <= 10) {
            collector.error("out-of-range", path.key("BackoffRate"), "Step '\(step.name)': BackoffRate must be between 1 and 10; got \(rate.doubleValue).")
        }
        number(policy.maxAttempts, "MaxAttempts", 0...20, at: path)
        number(policy.expireAfterMin, "ExpireAfterMin", 0...14_400, at: path)
        if policy.maxAttempts != nil && policy.expireAfterMin != nil {
            collector.error("invalid-value", path, "Step '\(step.name)': a retry policy takes MaxAttempts or ExpireAfterMin, not both.")
        }
    }

    private func number(_ value: JSONNumber?, _ name: String, _ range: ClosedRange<Int>, at path: JSONPath) {
        guard let value else { return }
        guard let whole = value.exactInt, range.contains(whole) else {
            collector.error("out-of-range", path.key(name), "Step '\(step.name)': \(name) must be a whole number from \(range.lowerBound) to \(range.upperBound); got \(value.doubleValue).")
            return
        }
    }
}
