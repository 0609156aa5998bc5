import Foundation
import ShoalDefinition

/// The class of an attempt's failure, as retry policies name it (spec §5.8).
/// Shoal's failures map onto them: an instance lost with its worker is
/// capacity, an instance whose data could not be moved is an internal error,
/// a Lambda invocation or fan-out batch lost either way is a service fault.
/// A job that exits non-zero is its own (algorithm) error and never retried.
enum FailureClass: String {
    case serviceFault = "Step.SERVICE_FAULT"
    case throttling = "Step.THROTTLING"
    case jobInternalError = "SageMaker.JOB_INTERNAL_ERROR"
    case capacityError = "SageMaker.CAPACITY_ERROR"
    case resourceLimit = "SageMaker.RESOURCE_LIMIT"

    var isStepError: Bool { self == .serviceFault || self == .throttling }
}

/// When an instance that failed without a verdict on its job runs again.
struct RetryRule {
    /// The step's `RetryPolicies`; none means Shoal's default.
    let policies: [RetryPolicy]
    /// The default: any such failure runs again at once, this many attempts in all.
    let defaultAttempts: Int

    struct Decision: Equatable {
        let delay: TimeInterval
        /// Which rule allowed it, for the step's log and listing.
        let rule: String
    }

    /// Retries a policy allows when it gives neither MaxAttempts nor ExpireAfterMin.
    static let policyDefaultAttempts = 5

    /// Whether the instance runs again after its `failures`-th failed attempt
    /// (of class `failure`), and after how long; nil when it does not.
    func decide(after failures: Int, failure: FailureClass, stepStarted: Date, now: Date) -> Decision? {
        // A policy overrides the default for what it names; Step errors keep it otherwise.
        guard let policy = policies.first(where: { ($0.exceptionTypes ?? []).contains(failure.rawValue) }) else {
            guard policies.isEmpty || failure.isStepError else { return nil }
            return failures < defaultAttempts ? Decision(delay: 0, rule: "Shoal's default: at once, \(defaultAttempts) attempts in all") : nil
        }
        let interval = policy.intervalSeconds?.doubleValue ?? 1
        let rate = policy.backoffRate?.doubleValue ?? 2
        let delay = interval * pow(rate, Double(failures - 1))
        let named = "the \(failure.rawValue) policy"
        if let minutes = policy.expireAfterMin?.exactInt {
            guard minutes > 0, now.addingTimeInterval(delay).timeIntervalSince(stepStarted) <= Double(minutes) * 60 else { return nil }
            return Decision(delay: delay, rule: "\(named) (ExpireAfterMin \(minutes))")
        }
        let retries = policy.maxAttempts?.exactInt ?? Self.policyDefaultAttempts
        guard failures <= retries else { return nil }
        return Decision(delay: delay, rule: "\(named) (retry \(failures) of \(retries))")
    }
}
