import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// Runs one execution of a pipeline to its end on the workers of a
/// coordinator endpoint: schedules the DAG, resolves each step's arguments when
/// it starts, runs Condition and Fail steps itself, hands Processing instances
/// and Lambda invocations to workers, commits outputs, and records every state
/// change in the metadata store before acting on it.
public final class ExecutionRunner {
    public struct Options: Sendable {
        public var pipelineName: String
        /// Resolved by `ParameterResolution` before anything starts.
        public var parameters: OrderedFields<JSONValue> = [:]
        /// Cap on steps running at once (ParallelismConfiguration.MaxParallelExecutionSteps).
        public var maxParallelSteps: Int?
        /// Shoal's default retry policy (a step without RetryPolicies): attempts in all per instance lost with its worker or whose data could not be moved, each at once.
        public var maxAttempts = 3
        /// Each instance attempt's log keeps at most this much of the job's output.
        public var maxLogBytes = JobLogFile.defaultCapBytes
        /// The execution's tags (`--tags`), checked with `Tags.validate` by the caller.
        public var tags: [(key: String, value: String)] = []
        /// Deny rules evaluated before the execution and every job starts.
        public var policy: Policy?
        /// The registered version being run, if any.
        public var pipelineVersion: Int?
        /// The execution whose fan-out started this one.
        public var parentExecutionId: String?
        /// The fan-out step and item this child runs (see `ExecutionRecord.parentStepName`).
        public var parentStepName: String?
        public var parentItem: Int?
        /// Fail a step at once when no registered worker carries the labels it
        /// needs: right for local mode, whose workers are all there from the start;
        /// a cluster coordinator lets such work wait for a worker to join.
        public var failWhenNoWorkerFits = true
        /// The process running the execution, recorded for `shoal stop` and for finding orphans.
        public var owner: ExecutionOwner?
        /// Only these steps run; the others are taken from an earlier execution.
        public var selection: Selection?
        /// The endpoint jobs and handlers reach Shoal through (`shoal serve`, `coordinator --http`).
        public var endpointURL: String?
        /// Under TLS, the PEM certificates jobs and handlers check the endpoint's certificate with.
        public var endpointCABundle: String?
        /// A resumed execution waits this long for workers to report the
        /// instances that outlived their coordinator (0: they are lost at once,
        /// as with `shoal run`, whose workers die with it).
        public var reattachWindow: TimeInterval = 0

        public init(pipelineName: String) { self.pipelineName = pipelineName }
    }

    public let executionId: String
    let definition: PipelineDefinition
    let graph: PipelineGraph
    let home: ShoalHome
    let dispatcher: any TaskDispatcher
    let options: Options
    let progress: (ProgressEvent) -> Void
    let startedAt = Date()
    let parameters: OrderedFields<JSONValue>
    var experiment: [String: JSONValue] = [:]
    var record: ExecutionRecord
    var steps: [StepRun]
    /// Which steps wait, run and ended: the one place scheduling is decided.
    var state: ExecutionState
    var tasks: [TaskKey: TaskOwner] = [:]
    /// Attempts waiting out a retry policy's interval; a stopped or ended step drops its own.
    var pendingRetries: [PendingRetry] = []
    /// What later steps may read, kept as steps succeed rather than gathered at every start.
    var succeededProperties: [String: JSONValue] = [:]
    var succeededPropertyFiles: [String: [PropertyFile]] = [:]
    /// Resumed after its owner died: a fan-out that starts again takes back the children it had started.
    var adoptsChildren = false
    /// Resumed: the processing attempts the dead owner left running, by task id,
    /// which their step takes back when it starts again rather than running anew.
    var reattachable: [String: InstanceRecord] = [:]
    /// Resumed: the processing instances that completed before the crash, by
    /// task id, whose staged outputs their step commits rather than running them again.
    var completedBefore: [String: (record: InstanceRecord, outcome: InstanceOutcome)] = [:]

    public convenience init(
        definition: PipelineDefinition, graph: PipelineGraph, home: ShoalHome, dispatcher: any TaskDispatcher, options: Options,
        progress: @escaping (ProgressEvent) -> Void = { _ in }
    ) {
        self.init(definition: definition, graph: graph, home: home, dispatcher: dispatcher, options: options, executionId: Identifiers.executionId(), progress: progress)
    }

    init(
        definition: PipelineDefinition, graph: PipelineGraph, home: ShoalHome, dispatcher: any TaskDispatcher, options: Options, executionId: String,
        progress: @escaping (ProgressEvent) -> Void
    ) {
        self.definition = definition
        self.graph = graph
        self.home = home
        self.dispatcher = dispatcher
        self.options = options
        self.progress = progress
        parameters = options.parameters
        self.executionId = executionId
        steps = graph.nodes.map { node in StepRun(node: node) }
        state = ExecutionState(graph: graph, maxParallelSteps: options.maxParallelSteps)
        record = ExecutionRecord(
            id: executionId, pipelineName: options.pipelineName, status: .executing,
            definition: definition.jsonText(), parameters: JSONWriter.string(.object(parameters)), startedAt: startedAt
        )
        record.tags = JSONWriter.string(.object(OrderedFields(options.tags.map { ($0.key, JSONValue.string($0.value)) })))
        record.pipelineVersion = options.pipelineVersion
        record.parentExecutionId = options.parentExecutionId
        record.parentStepName = options.parentStepName
        record.parentItem = options.parentItem
        options.owner?.record(in: &record)
        for (index, node) in graph.nodes.enumerated() {
            steps[index].step = Self.step(at: node.path, in: definition)
        }
    }

    /// Refused before anything is recorded: a policy denies the start, or a
    /// fan-out names a child pipeline that does not exist.
    public struct Refused: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Records the execution (after the policy and experiment checks) and announces it.
    public func begin() throws {
        var start = PolicyRequest(action: "shoal:StartPipelineExecution")
        start.set("shoal:PipelineName", options.pipelineName)
        start.setTags(options.tags)
        if let policy = options.policy, let statement = policy.denial(of: start) {
            throw Refused(description: policy.reason(statement, start))
        }
        try checkChildPipelines()
        try resolveExperimentConfig()
        let taken = try applySelection()
        try home.metadata.insert(record, steps: steps.map { run in
            StepRecord(executionId: executionId, name: run.node.name, type: run.node.typeName, status: .pending)
        })
        for index in taken { try save(index) }
        progress(.started(executionId: executionId, pipeline: options.pipelineName, steps: steps.count))
    }

    /// Child pipelines a fan-out names literally must exist before anything runs;
    /// names given by expressions are checked when their step starts.
    func checkChildPipelines() throws {
        for run in steps {
            guard run.node.typeName == StepType.shoalMap.rawValue, case let .other(arguments)? = run.step?.arguments,
                  case let .pipeline(name, version)? = MapArguments.read(arguments).0.work, case let .string(literalName) = name
            else { continue }
            let literalVersion: Int? = if case let .number(number)? = version { number.exactInt } else { nil }
            if version != nil && literalVersion == nil { continue }
            do {
                _ = try home.metadata.pipelineVersion(literalName, version: literalVersion)
            } catch {
                throw Refused(description: "Step '\(run.node.name)' fans out to a pipeline that cannot be run: \(error)")
            }
        }
    }

    /// Starts what is ready and moves fan-outs along; never waits.
    public func advance() throws {
        try startDueRetries()
        try startReadySteps()
        for index in steps.indices where state.statuses[index] == .executing && steps[index].map != nil {
            try advanceMap(index)
        }
        // A fan-out that just ended may have made steps ready.
        try startReadySteps()
    }

    /// No step is running any more.
    public var isFinished: Bool { state.isFinished }

    /// Handles an event about one of this execution's tasks, or passes it to the
    /// child executions of its fan-outs. Returns whether someone took it.
    public func route(_ event: CoordinatorEndpoint.Event) throws -> Bool {
        let children = steps.compactMap(\.map).flatMap { $0.children.values }
        switch event {
        case .workerJoined:
            return true
        case let .log(chunk):
            if tasks[chunk.key] != nil { try handle(event); return true }
            for child in children where try child.route(event) { return true }
            return false
        case let .finished(finished):
            if tasks[finished.key] != nil { try handle(event); return true }
            for child in children where try child.route(event) { return true }
            return false
        case .workerLost, .reattached, .notReattached:
            try handle(event)
            for child in children { _ = try child.route(event) }
            return true
        }
    }

    // MARK: Scheduling

    /// Performs what the state decides until it has nothing more to say (a
    /// Condition or Fail step ends as it starts, which can make more ready).
    func startReadySteps() throws {
        while true {
            let directives = state.on(.advance)
            if directives.isEmpty { return }
            try perform(directives)
        }
    }

    func perform(_ directives: [ExecutionState.Directive]) throws {
        for directive in directives {
            switch directive {
            case let .start(step): try start(step)
            case let .skip(step, reason): try recordEnd(step, .notRun, reason: reason)
            case let .stop(step): try end(step, .stopped, reason: "the execution was stopped")
            }
        }
    }

    func start(_ index: Int) throws {
        let run = steps[index]
        run.startedAt = Date()
        // A step with caching on is recorded as started once its lookup missed:
        // a hit ends it at once, and one record is half the cost of a hit.
        if !(run.step.map(Self.looksUpCache) ?? false) { try save(index) }
        progress(.step(name: run.node.name, type: run.node.typeName, status: .executing, detail: nil))
        guard let step = run.step else { return try end(index, .failed, reason: "the step could not be read from the definition") }
        let evaluator = Evaluator(scope: scope(for: step))
        do {
            switch (step.type, step.arguments) {
            case let (.condition?, .condition(arguments)?):
                let outcome = try ConditionEvaluator(evaluator: evaluator).holds(arguments.conditions)
                run.properties = .object(["Outcome": .string(outcome ? "True" : "False")])
                try end(index, .succeeded, reason: nil, detail: "outcome \(outcome ? "True" : "False")", outcome: outcome)
            case let (.fail?, .fail(arguments)?):
                let message = try arguments.errorMessage.map { e throws(EvaluationError) in ValueRendering.string(try evaluator.evaluate(e)) } ?? ""
                try end(index, .failed, reason: String(message.prefix(3072)))
            case let (.lambda?, arguments):
                try startLambda(index, step: step, event: arguments, evaluator: evaluator)
            case let (.processing?, .processing(arguments)?):
                try startProcessing(index, step: step, arguments: arguments, evaluator: evaluator)
            case let (.model?, .other(arguments)?), let (.createModel?, .other(arguments)?):
                try startModel(index, step: step, arguments: arguments, evaluator: evaluator)
            case let (.registerModel?, .other(arguments)?):
                try startRegisterModel(index, step: step, arguments: arguments, evaluator: evaluator)
            case let (.transform?, .other(arguments)?):
                try startTransform(index, step: step, arguments: arguments, evaluator: evaluator)
            case let (.training?, .other(arguments)?):
                try startTraining(index, step: step, arguments: arguments, evaluator: evaluator)
            case let (.shoalMap?, .other(arguments)?):
                try startMap(index, step: step, arguments: arguments, evaluator: evaluator)
            case (.callback?, _):
                try startCallback(index, step: step, evaluator: evaluator)
            default:
                try end(index, .failed, reason: "Step type \(step.typeName) is not supported yet; Shoal runs Processing, Training, Model, RegisterModel, Transform, Lambda, Callback, Condition, Fail and Shoal:Map steps.")
            }
        } catch let error as EvaluationError {
            try end(index, .failed, reason: error.message)
        }
    }

    /// A step ended (its executor says so); the first word counts, later ones are ignored.
    func end(_ index: Int, _ status: StepStatus, reason: String?, detail: String? = nil, outcome: Bool? = nil) throws {
        guard !state.statuses[index].isFinal else { return }
        _ = state.on(.stepEnded(step: index, status: status, outcome: outcome))
        try recordEnd(index, status, reason: reason, detail: detail)
        EngineMetrics.stepEnded(status)
    }

    /// Records an end the state has already taken: cancels what still runs, saves, reports.
    func recordEnd(_ index: Int, _ status: StepStatus, reason: String?, detail: String? = nil) throws {
        let run = steps[index]
        run.failureReason = reason
        if run.startedAt != nil { run.endedAt = Date() }
        if status == .succeeded {
            succeededProperties[run.node.name] = run.properties
            succeededPropertyFiles[run.node.name] = run.step?.propertyFiles ?? []
        }
        // Attempts still running end with their step; each held its slot until now.
        var stopped: [InstanceRecord] = []
        let now = Date()
        for key in run.openTasks {
            let worker = dispatcher.worker(of: key)
            dispatcher.cancel(key)
            guard var record = tasks.removeValue(forKey: key)?.record else { continue }
            record.worker = worker
            record.status = .stopped
            record.endedAt = now
            record.wallSeconds = now.timeIntervalSince(record.startedAt ?? now)
            record.failureReason = "step \(run.node.name) ended (\(status.rawValue)) while this attempt ran"
            stopped.append(record)
        }
        run.openTasks.removeAll()
        pendingRetries.removeAll { $0.owner.step == index }
        if status == .stopped || status == .failed { try closeCallback(of: index, because: status) }
        if run.retryNote != nil {
            run.retryNote = status == .stopped ? "a retry was waiting; the step was stopped" : nil
        }
        try home.metadata.update(stopped)
        stopped.forEach(EngineMetrics.instanceEnded)
        if run.keepsOutcomes || run.resumedFrom != nil { try home.metadata.forgetOutcomes(executionId: executionId, stepName: run.node.name) }
        if let map = run.map {
            for child in map.children.values { try child.stopNow() }
            map.children.removeAll()
        }
        try save(index)
        progress(.step(name: run.node.name, type: run.node.typeName, status: status, detail: reason ?? detail))
    }

    func save(_ index: Int) throws {
        let run = steps[index]
        var stepRecord = StepRecord(executionId: executionId, name: run.node.name, type: run.node.typeName, status: state.statuses[index])
        stepRecord.startedAt = run.startedAt
        stepRecord.endedAt = run.endedAt
        stepRecord.failureReason = run.failureReason.map { String($0.prefix(1024)) }
        stepRecord.properties = run.properties.map { JSONWriter.string($0) }
        stepRecord.attempts = run.attempts
        stepRecord.cacheSourceExecutionId = run.cacheSource
        stepRecord.note = run.note
        stepRecord.retryNote = run.retryNote
        if let map = run.map {
            (stepRecord.itemsSucceeded, stepRecord.itemsFailed, stepRecord.itemsTotal) = (map.succeeded, map.failed, map.items.count)
        }
        try home.metadata.update(stepRecord)
    }

    // MARK: Ending

    /// Asks a running execution to stop: it is recorded Stopping, and its
    /// running steps are stopped at once.
    public func requestStop() throws {
        guard !state.isStopping else { return }
        record.status = .stopping
        try home.metadata.update(record)
        try perform(state.on(.stopRequested))
    }

    /// Lets a live progress view update elapsed times.
    public func tick() { progress(.tick) }

    /// Stops at once and records the end (a parent's fan-out was stopped).
    func stopNow() throws {
        try perform(state.on(.stopRequested))
        _ = try finish()
    }

    /// The execution cannot go on (its records cannot be written: a full disk,
    /// a broken database): what it staged is removed first, which may free the
    /// room the records need, its tasks are cancelled, and its failure is
    /// recorded as far as the store allows. Never throws: the coordinator
    /// serving it goes on with the others.
    func abandon(because error: any Error) -> ExecutionRecord {
        try? FileManager.default.removeItem(atPath: home.root.appendingPathComponent("staging/\(executionId)").path)
        for run in steps {
            for key in run.openTasks { dispatcher.cancel(key) }
            run.openTasks.removeAll()
            if let map = run.map {
                for child in map.children.values { _ = child.abandon(because: error) }
                map.children.removeAll()
            }
        }
        tasks.removeAll()
        let reason = MetadataStore.isDiskFull(error)
            ? "the filesystem holding \(home.root.path) is full; the execution's records could not be written (\(error))"
            : "the execution's records could not be written: \(error)"
        let now = Date()
        for index in steps.indices where !state.statuses[index].isFinal {
            _ = state.on(.stepEnded(step: index, status: state.statuses[index] == .executing ? .failed : .notRun, outcome: nil))
            steps[index].failureReason = reason
            if steps[index].startedAt != nil { steps[index].endedAt = now }
            try? save(index)
        }
        record.status = .failed
        record.endedAt = now
        record.failureReason = reason
        try? home.metadata.update(record)
        progress(.finished(status: .failed, reason: reason))
        return record
    }

    public func finish() throws -> ExecutionRecord {
        try perform(state.on(.finish))
        try loseUnclaimed()
        let status = state.outcome
        record.status = status
        record.endedAt = Date()
        if let failed = state.failedStep {
            let step = steps[failed]
            let reason = step.failureReason ?? "failed"
            record.failureReason = step.node.typeName == StepType.fail.rawValue ? reason : "Step '\(step.node.name)' failed: \(reason)"
        }
        try home.metadata.update(record)
        try? FileManager.default.removeItem(atPath: home.root.appendingPathComponent("staging/\(executionId)").path)
        progress(.finished(status: status, reason: record.failureReason))
        return record
    }
}
