import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// Carrying on an execution whose owner died: what ended stays as it ended
/// (succeeded steps keep their properties, a condition its branch), what was
/// running starts again with new attempts numbered after the recorded ones,
/// and the attempts the dead owner left running are recorded lost. A fan-out
/// that was running takes back the children it had started (see
/// `adoptChildren`). Retrying a failed execution is the same, with only its
/// succeeded steps kept.
extension ExecutionRunner {
    public struct CannotResume: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// A runner for execution `id`, ready for `advance()`; `settings.owner`
    /// becomes its owner, and its policy, endpoint and limits are `settings`'.
    /// Refused, with nothing changed, unless the execution is Executing and its
    /// owner is gone from this host.
    public static func resuming(
        _ id: String, home: ShoalHome, dispatcher: any TaskDispatcher, settings: Options, progress: @escaping (ProgressEvent) -> Void = { _ in }
    ) throws -> ExecutionRunner {
        guard let record = try home.metadata.execution(id: id) else { throw CannotResume(description: "no execution '\(id)'") }
        guard record.status == .executing else {
            throw CannotResume(description: "execution '\(id)' is \(record.status); only one left Executing by a process that died can be resumed")
        }
        guard let previous = ExecutionOwner(of: record), previous.isGoneFromThisHost else {
            throw CannotResume(description: "execution '\(id)' is not orphaned: its owner is running, or ran on another host (only a process on this host can be known gone)")
        }
        if let parent = record.parentExecutionId, record.parentStepName != nil {
            throw CannotResume(description: "execution '\(id)' is a child of a fan-out; carry on its parent, \(parent)")
        }
        let runner = try reopening(
            record, home: home, dispatcher: dispatcher, settings: settings, keep: { $0.status.isFinal },
            lostReason: "its owner, process \(previous.process) on \(previous.host), ended without finishing it; the execution was resumed", progress: progress
        )
        runner.adoptsChildren = true
        return runner
    }

    /// A fan-out's child left Executing by its parent's dead owner, carried on
    /// under the resumed parent (its owner, policy and endpoint).
    func resumingChild(_ record: ExecutionRecord) throws -> ExecutionRunner {
        var settings = options
        settings.maxParallelSteps = nil
        let runner = try Self.reopening(
            record, home: home, dispatcher: dispatcher, settings: settings, keep: { $0.status.isFinal },
            lostReason: "its parent's owner ended without finishing it; the parent was resumed", progress: { _ in }
        )
        runner.adoptsChildren = true
        return runner
    }

    /// A fan-out's child that had ended, as a runner holding what it ended
    /// with, so its parent can gather its outputs; nothing is written.
    func endedChild(_ record: ExecutionRecord) throws -> ExecutionRunner {
        let check = DefinitionCheck.check(data: Data(record.definition.utf8))
        guard let definition = check.definition, let graph = check.graph else {
            throw CannotResume(description: "child execution '\(record.id)': its recorded definition no longer checks")
        }
        var childOptions = Options(pipelineName: record.pipelineName)
        if case let .object(parameters)? = try? JSONParser.parse(record.parameters) { childOptions.parameters = parameters }
        let runner = ExecutionRunner(definition: definition, graph: graph, home: home, dispatcher: dispatcher, options: childOptions, executionId: record.id, progress: { _ in })
        runner.record = record
        try runner.restore(try home.metadata.steps(executionId: record.id), attempts: [], keep: { _ in true })
        return runner
    }

    /// A runner that carries a Failed or Stopped execution on (RetryPipelineExecution):
    /// its succeeded steps stay as they are, its failed, stopped and not-run
    /// steps run again, with the same parameters. Refused, with nothing
    /// changed, for any other status.
    public static func retrying(
        _ id: String, home: ShoalHome, dispatcher: any TaskDispatcher, settings: Options, progress: @escaping (ProgressEvent) -> Void = { _ in }
    ) throws -> ExecutionRunner {
        guard let record = try home.metadata.execution(id: id) else { throw CannotResume(description: "no execution '\(id)'") }
        guard record.status == .failed || record.status == .stopped else {
            throw CannotResume(description: "execution '\(id)' is \(record.status); only a Failed or Stopped execution can be retried")
        }
        if let parent = record.parentExecutionId, record.parentStepName != nil {
            throw CannotResume(description: "execution '\(id)' is a child of a fan-out; retry its parent, \(parent)")
        }
        var settings = settings
        settings.reattachWindow = 0
        return try reopening(record, home: home, dispatcher: dispatcher, settings: settings, keep: { $0.status == .succeeded }, lostReason: "the execution was retried", progress: progress)
    }

    /// Reopens an execution: the steps `keep` accepts stay as recorded, the
    /// others wait to run again; attempts still recorded running become lost.
    /// What the record says (name, parameters, tags, version, parent) overrides `settings`.
    private static func reopening(
        _ recorded: ExecutionRecord, home: ShoalHome, dispatcher: any TaskDispatcher, settings: Options, keep: (StepRecord) -> Bool, lostReason reason: String,
        progress: @escaping (ProgressEvent) -> Void
    ) throws -> ExecutionRunner {
        var record = recorded
        let id = record.id
        guard let owner = settings.owner else { throw CannotResume(description: "execution '\(id)': no owner to carry it on") }
        let check = DefinitionCheck.check(data: Data(record.definition.utf8))
        guard let definition = check.definition, let graph = check.graph else {
            throw CannotResume(description: "execution '\(id)': its recorded definition no longer checks: \(check.lines(source: "definition").joined(separator: "; "))")
        }
        let stepRecords = try home.metadata.steps(executionId: id)
        var options = settings
        options.pipelineName = record.pipelineName
        options.parameters = [:]
        options.tags = []
        if case let .object(parameters)? = try? JSONParser.parse(record.parameters) { options.parameters = parameters }
        if case let .object(tags)? = try? JSONParser.parse(record.tags ?? "{}") {
            options.tags = tags.entries.compactMap { key, value in if case let .string(text) = value { (key, text) } else { nil } }
        }
        options.pipelineVersion = record.pipelineVersion
        options.parentExecutionId = record.parentExecutionId
        options.parentStepName = record.parentStepName
        options.parentItem = record.parentItem
        options.selection = nil
        let runner = ExecutionRunner(
            definition: definition, graph: graph, home: home, dispatcher: dispatcher, options: options, executionId: id, progress: progress
        )
        let attempts = try home.metadata.instances(executionId: id)
        let now = Date()
        var left: [InstanceRecord] = []
        for attempt in attempts where attempt.status == .inProgress {
            // A processing instance may still run on a worker that outlived its coordinator; the newest attempt of each is the one.
            guard settings.reattachWindow > 0, attempt.instanceType != "lambda" else {
                left.append(attempt.lost(at: now, reason))
                continue
            }
            let taskId = runner.instanceTaskId(step: attempt.stepName, host: attempt.instance)
            if let newer = runner.reattachable[taskId], newer.attempt > attempt.attempt {
                left.append(attempt.lost(at: now, reason))
            } else if let older = runner.reattachable.updateValue(attempt, forKey: taskId) {
                left.append(older.lost(at: now, reason))
            }
        }
        try runner.restore(stepRecords, attempts: attempts, keep: keep)
        runner.keepCompleted(attempts, of: Set(stepRecords.filter { !($0.status.isFinal && keep($0)) }.map(\.name)))
        // What the dead owner staged belongs to attempts that will not be committed, but for those taken back.
        runner.removeStaging(keeping: Set(
            (Array(runner.reattachable.values) + runner.completedBefore.values.map(\.record))
                .map { runner.stagingFolder(step: $0.stepName, host: $0.instance, attempt: $0.attempt) }
        ))
        // The experiment and trial names, for the run components of the steps to come; the record keeps its own.
        try runner.resolveExperimentConfig()
        owner.record(in: &record)
        record.status = .executing
        record.endedAt = nil
        record.failureReason = nil
        runner.record = record
        try home.metadata.update(left)
        try home.metadata.update(record)
        for index in runner.steps.indices where !runner.state.statuses[index].isFinal { try runner.save(index) }
        progress(.started(executionId: id, pipeline: record.pipelineName, steps: runner.steps.count))
        return runner
    }

    /// Removes this execution's staging folder but for the attempts' folders named (`stagingFolder`).
    private func removeStaging(keeping kept: Set<String>) {
        let root = home.root.appendingPathComponent("staging/\(executionId)")
        guard !kept.isEmpty else { try? FileManager.default.removeItem(at: root); return }
        let files = FileManager.default
        for step in (try? files.contentsOfDirectory(atPath: root.path)) ?? [] {
            let folder = root.appendingPathComponent(step)
            for attempt in (try? files.contentsOfDirectory(atPath: folder.path)) ?? [] where !kept.contains(folder.appendingPathComponent(attempt).path) {
                try? files.removeItem(at: folder.appendingPathComponent(attempt))
            }
        }
    }

    /// The processing instances of steps that start again whose last attempt
    /// completed with its outputs still staged: taken back as they ended.
    private func keepCompleted(_ attempts: [InstanceRecord], of restarting: Set<String>) {
        for attempt in attempts where attempt.status == .completed && attempt.instanceType != "lambda" && restarting.contains(attempt.stepName) {
            // Every staged file must be there: a crash in the middle of the step's commit moved some of them already.
            guard let text = attempt.outcome, let outcome = try? JSONDecoder().decode(InstanceOutcome.self, from: Data(text.utf8)),
                  outcome.outputs.allSatisfy({ output in output.files.allSatisfy { FileManager.default.fileExists(atPath: output.stagedAt + "/" + $0) } })
            else { continue }
            let taskId = instanceTaskId(step: attempt.stepName, host: attempt.instance)
            if let other = completedBefore[taskId], other.record.attempt > attempt.attempt { continue }
            completedBefore[taskId] = (attempt, outcome)
        }
        // An instance whose later attempt is being taken back runs on as that attempt.
        for taskId in reattachable.keys { completedBefore[taskId] = nil }
    }

    /// What a completed instance's record keeps of its outcome: its metrics were recorded already.
    static func keptOutcome(_ outcome: InstanceOutcome) -> String? {
        guard outcome.status == .completed else { return nil }
        var kept = outcome
        kept.metricsJSON = nil
        return (try? JSONEncoder().encode(kept)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Takes back, instead of submitting again, an instance of a resumed step:
    /// one that completed before the crash ends as it did; one the dead owner
    /// left running carries on if its worker reports it when it registers, or
    /// is lost once the window is over. Returns whether it was taken back.
    func takeBack(_ index: Int, instance: Int, task: Task, kind: TaskKind, requirements: [String: [String]]) throws -> Bool {
        guard case .processing = kind, case let .processing(spec, _) = task else { return false }
        let run = steps[index]
        let taskId = instanceTaskId(step: run.node.name, host: instance)
        if let kept = completedBefore.removeValue(forKey: taskId) {
            try finishInstance(index, host: instance, outcome: kept.outcome)
            return true
        }
        guard let record = reattachable.removeValue(forKey: taskId) else { return false }
        let key = TaskKey(taskId: taskId, attempt: record.attempt)
        let staged = Task.processing(spec: spec, outputStaging: stagingFolder(index, host: instance, attempt: record.attempt))
        tasks[key] = TaskOwner(step: index, instance: instance, kind: kind, task: staged, requirements: requirements, record: record)
        run.openTasks.insert(key)
        dispatcher.reattach(key, waitingUntil: Date().addingTimeInterval(options.reattachWindow))
        return true
    }

    /// Attempts left for taking back whose step did not start again are lost.
    func loseUnclaimed() throws {
        guard !reattachable.isEmpty else { return }
        let now = Date()
        try home.metadata.update(reattachable.values.map { $0.lost(at: now, "the execution ended before its step started again") })
        reattachable.removeAll()
    }

    /// Takes the recorded ends into the scheduler; steps that had not ended wait to start again.
    private func restore(_ records: [StepRecord], attempts: [InstanceRecord], keep: (StepRecord) -> Bool) throws {
        let byName = Dictionary(records.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, run) in steps.enumerated() {
            run.attemptBase = attempts.filter { $0.stepName == run.node.name }.map(\.attempt).max() ?? 0
            guard let stored = byName[run.node.name] else { continue }
            run.attempts = stored.attempts
            guard stored.status.isFinal, keep(stored) else {
                if !stored.status.isFinal { run.resumedFrom = stored.startedAt }
                continue
            }
            takeEnd(index, from: stored)
        }
    }

    /// Ends a step that has not started as `stored` (a record of it) ended:
    /// its times, reason and properties, and a condition's branch.
    func takeEnd(_ index: Int, from stored: StepRecord) {
        let run = steps[index]
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

extension InstanceRecord {
    /// This attempt, recorded lost at `time`.
    func lost(at time: Date, _ reason: String) -> InstanceRecord {
        var record = self
        record.status = .lost
        record.endedAt = time
        record.failureReason = reason
        return record
    }
}
