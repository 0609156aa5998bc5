import Foundation
import ShoalCluster

/// A task dispatcher that places nothing: it records what an execution
/// submits and cancels, for tests that drive the runner by hand and report
/// what happened to its tasks themselves.
public final class RecordingDispatcher: TaskDispatcher {
    public private(set) var submitted: [(key: TaskKey, task: Task)] = []
    public private(set) var cancelled: [TaskKey] = []
    public private(set) var reattached: [(key: TaskKey, deadline: Date)] = []
    /// What `canPlace` answers.
    public var placeable = true

    public init() {}

    public func submit(_ key: TaskKey, _ task: Task, requirements: [String: [String]]) throws { submitted.append((key, task)) }
    public func cancel(_ key: TaskKey) { cancelled.append(key) }
    public func canPlace(_ requirements: [String: [String]]) -> Bool { placeable }
    public func worker(of key: TaskKey) -> String? { nil }
    public func reattach(_ key: TaskKey, waitingUntil deadline: Date) { reattached.append((key, deadline)) }
}
