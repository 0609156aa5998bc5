import Foundation
import ShoalDefinition
import ShoalStore

/// What the execution page shows that changes while it runs: the execution's
/// status and each step's status and map progress, by the step's index in the
/// graph. The page draws it; the event stream sends it again when it changes.
struct ExecutionSnapshot: Equatable {
    struct StepState: Equatable {
        let index: Int
        let name: String
        let status: String
        let progress: String?
        let started: Date?
        let ended: Date?
    }

    let status: String
    let failureReason: String?
    let steps: [StepState]

    init(execution: ExecutionRecord, steps records: [StepRecord], graph: PipelineGraph?) {
        status = execution.status.rawValue
        failureReason = execution.failureReason
        let byName = Dictionary(records.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let names = graph?.nodes.map(\.name) ?? records.map(\.name)
        steps = names.enumerated().map { index, name in
            let record = byName[name]
            return StepState(index: index, name: name, status: record?.status.rawValue ?? StepStatus.pending.rawValue,
                             progress: record.flatMap(Self.progress), started: record?.startedAt, ended: record?.endedAt)
        }
    }

    /// `12 ✓ 1 ✗ / 40` for a map step that has counts.
    static func progress(_ record: StepRecord) -> String? {
        guard let total = record.itemsTotal else { return nil }
        return "\(record.itemsSucceeded ?? 0) ✓ \(record.itemsFailed ?? 0) ✗ / \(total)"
    }

    var isFinal: Bool { status != ExecutionStatus.executing.rawValue && status != ExecutionStatus.stopping.rawValue }

    /// The steps that differ from `previous` (all of them when there is none), as one JSON event.
    func event(since previous: ExecutionSnapshot?) -> String? {
        let changed = steps.filter { step in previous.map { $0.steps.indices.contains(step.index) ? $0.steps[step.index] != step : true } ?? true }
        guard previous == nil || !changed.isEmpty || previous?.status != status else { return nil }
        let entries: [[String: Any]] = changed.map { step in
            var entry: [String: Any] = ["i": step.index, "status": step.status]
            if let progress = step.progress { entry["progress"] = progress }
            return entry
        }
        var object: [String: Any] = ["status": status, "steps": entries]
        if let failureReason { object["failureReason"] = failureReason }
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
