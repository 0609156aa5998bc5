import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalStore

/// Carrying on an execution whose owner died: what ended stays as it ended
/// (succeeded steps keep their properties, a condition its branch), what was
/// running starts again with new attempts numbered after the recorded ones,
/// and the attempts the dead owner left running are recorded lost.
extension ExecutionRunner {
    public struct CannotResume: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// A runner for execution `id`, ready for `advance()`; `owner` becomes its
    /// owner. Refused, with nothing changed, unless the execution is Executing
    /// and its owner is gone from this host.
    public static func resuming(
        _ id: String, home: ShoalHome, dispatcher: any TaskDispatcher, owner: ExecutionOwner, maxParallelSteps: Int? = nil,
        maxLogBytes: Int = JobLogFile.defaultCapBytes, failWhenNoWorkerFits: Bool = true, progress: @escaping (ProgressEvent) -> Void = { _ in }
    ) throws -> ExecutionRunner {
        guard var record = try home.metadata.execution(id: id) else { throw CannotResume(description: "no execution '\(id)'") }
        guard record.status == .executing else {
            throw CannotResume(description: "execution '\(id)' is \(record.status); only one left Executing by a process that died can be resumed")
        }
        if record.parentExecutionId != nil {
            throw CannotResume(description: "execution '\(id)' is a child of a fan-out; resume its parent, \(record.parentExecutionId!)")
        }
        guard let previous = ExecutionOwner(of: record), previous.isGoneFromThisHost else {
            throw CannotResume(description: "execution '\(id)' is not orphaned: its owner is running, or ran on another host (only a process on this host can be known gone)")
        }
        let check = DefinitionCheck.check(data: Data(record.definition.utf8))
        guard let definition = check.definition, let graph = check.graph else {
            throw CannotResume(description: "execution '\(id)': its recorded definition no longer checks: \(check.lines(source: "definition").joined(separator: "; "))")
        }
        let stepRecords = try home.metadata.steps(executionId: id)
        for step in stepRecords where !step.status.isFinal && step.type == StepType.shoalMap.rawValue {
            throw CannotResume(description: "execution '\(id)': step '\(step.name)' is a fan-out that was running; resuming one is not built yet (`shoal stop \(id)` records its end)")
        }
        var options = Options(pipelineName: record.pipelineName)
        if case let .object(parameters)? = try? JSONParser.parse(record.parameters) { options.parameters = parameters }
        if case let .object(tags)? = try? JSONParser.parse(record.tags ?? "{}") {
            options.tags = tags.entries.compactMap { key, value in if case let .string(text) = value { (key, text) } else { nil } }
        }
        options.pipelineVersion = record.pipelineVersion
        options.maxParallelSteps = maxParallelSteps
        options.maxLogBytes = maxLogBytes
        options.owner = owner
        options.failWhenNoWorkerFits = failWhenNoWorkerFits
        let runner = ExecutionRunner(
            definition: definition, graph: graph, home: home, dispatcher: dispatcher, options: options, executionId: id, progress: progress
        )
        let attempts = try home.metadata.instances(executionId: id)
        let now = Date()
        let reason = "its owner, process \(previous.process) on \(previous.host), ended without finishing it; the execution was resumed"
        var left: [InstanceRecord] = []
        for var attempt in attempts where attempt.status == .inProgress {
            attempt.status = .lost
            attempt.endedAt = now
            attempt.failureReason = reason
            left.append(attempt)
        }
        try runner.restore(stepRecords, attempts: attempts)
        // What the dead owner staged belongs to attempts that will not be committed.
        try? FileManager.default.removeItem(at: home.root.appendingPathComponent("staging/\(id)"))
        // The experiment and trial names, for the run components of the steps to come; the record keeps its own.
        try runner.resolveExperimentConfig()
        owner.record(in: &record)
        runner.record = record
        try home.metadata.update(left)
        try home.metadata.update(record)
        for index in runner.steps.indices where !runner.state.statuses[index].isFinal { try runner.save(index) }
        progress(.started(executionId: id, pipeline: record.pipelineName, steps: runner.steps.count))
        return runner
    }

    /// Takes the recorded ends into the scheduler; steps that had not ended wait to start again.
    private func restore(_ records: [StepRecord], attempts: [InstanceRecord]) throws {
        let byName = Dictionary(records.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, run) in steps.enumerated() {
            run.attemptBase = attempts.filter { $0.stepName == run.node.name }.map(\.attempt).max() ?? 0
            guard let stored = byName[run.node.name] else { continue }
            run.attempts = stored.attempts
            guard stored.status.isFinal else { continue }
            run.startedAt = stored.startedAt
            run.endedAt = stored.endedAt
            run.failureReason = stored.failureReason
            run.properties = stored.properties.flatMap { try? JSONParser.parse($0) }
            var outcome: Bool?
            if case let .object(fields)? = run.properties, case let .string(text)? = fields["Outcome"], run.node.typeName == StepType.condition.rawValue {
                outcome = text == "True"
            }
            _ = state.on(.stepEnded(step: index, status: stored.status, outcome: outcome))
            if stored.status == .succeeded {
                succeededProperties[run.node.name] = run.properties
                succeededPropertyFiles[run.node.name] = run.step?.propertyFiles ?? []
            }
        }
    }
}
