import Foundation

/// What an execution needs from whatever places its tasks on workers: the
/// coordinator endpoint in a real run, a fake (`ShoalTestSupport`) in tests
/// that drive the runner without sockets. What happened to the tasks comes
/// back as `CoordinatorEndpoint.Event`s, whoever reports them.
public protocol TaskDispatcher: AnyObject {
    /// Queues a task for a worker carrying the required labels.
    func submit(_ key: TaskKey, _ task: Task, requirements: [String: [String]]) throws
    /// Drops a task from the queue, or cancels it on its worker.
    func cancel(_ key: TaskKey)
    /// Whether any worker known now could ever run a task with these requirements.
    func canPlace(_ requirements: [String: [String]]) -> Bool
    /// The worker a task is running on now, if it was placed.
    func worker(of key: TaskKey) -> String?
    /// Takes back a task placed before a restart: its events come again, or
    /// it comes as `notReattached` when no worker reports it by `deadline`.
    func reattach(_ key: TaskKey, waitingUntil deadline: Date)
}

extension CoordinatorEndpoint: TaskDispatcher {
    public func canPlace(_ requirements: [String: [String]]) -> Bool { registry.canPlace(requirements) }
    public func worker(of key: TaskKey) -> String? { registry.workers.values.first { $0.running.contains(key) }?.id }
}
