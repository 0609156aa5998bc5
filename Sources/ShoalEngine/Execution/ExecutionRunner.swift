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
        /// Attempts per instance when its worker is lost.
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
        /// Fail a step at once when no registered worker carries the labels it
        /// needs: right for local mode, whose workers are all there from the start;
        /// a cluster coordinator lets such work wait for a worker to join.
        public var failWhenNoWorkerFits = true
        /// The process running the execution, recorded for `shoal stop` and for finding orphans.
        public var owner: ExecutionOwner?

        public init(pipelineName: String) { self.pipelineName = pipelineName }
    }

    public let executionId: String
    let definition: PipelineDefinition
    let graph: PipelineGraph
    let home: ShoalHome
    let dispatcher: any TaskDispatcher
    let options: Options
    let progress: (ProgressEvent) -> Void
    private let startedAt = Date()
    private let parameters: OrderedFields<JSONValue>
    private var experiment: [String: JSONValue] = [:]
    var record: ExecutionRecord
    var steps: [StepRun]
    /// Which steps wait, run and ended: the one place scheduling is decided.
    var state: ExecutionState
    var tasks: [TaskKey: TaskOwner] = [:]
    /// What later steps may read, kept as steps succeed rather than gathered at every start.
    private var succeededProperties: [String: JSONValue] = [:]
    private var succeededPropertyFiles: [String: [PropertyFile]] = [:]

    public init(
        definition: PipelineDefinition, graph: PipelineGraph, home: ShoalHome, dispatcher: any TaskDispatcher, options: Options,
        progress: @escaping (ProgressEvent) -> Void = { _ in }
    ) {
        self.definition = definition
        self.graph = graph
        self.home = home
        self.dispatcher = dispatcher
        self.options = options
        self.progress = progress
        parameters = options.parameters
        executionId = Identifiers.executionId()
        steps = graph.nodes.map { node in StepRun(node: node) }
        state = ExecutionState(graph: graph, maxParallelSteps: options.maxParallelSteps)
        record = ExecutionRecord(
            id: executionId, pipelineName: options.pipelineName, status: .executing,
            definition: definition.jsonText(), parameters: JSONWriter.string(.object(parameters)), startedAt: startedAt
        )
        record.tags = JSONWriter.string(.object(OrderedFields(options.tags.map { ($0.key, JSONValue.string($0.value)) })))
        record.pipelineVersion = options.pipelineVersion
        record.parentExecutionId = options.parentExecutionId
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
        try home.metadata.insert(record, steps: steps.map { run in
            StepRecord(executionId: executionId, name: run.node.name, type: run.node.typeName, status: .pending)
        })
        progress(.started(executionId: executionId, pipeline: options.pipelineName, steps: steps.count))
    }

    /// Child pipelines a fan-out names literally must exist before anything runs;
    /// names given by expressions are checked when their step starts.
    private func checkChildPipelines() throws {
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
        case .workerLost:
            try handle(event)
            for child in children { _ = try child.route(event) }
            return true
        }
    }

    // MARK: Scheduling

    /// Performs what the state decides until it has nothing more to say (a
    /// Condition or Fail step ends as it starts, which can make more ready).
    private func startReadySteps() throws {
        while true {
            let directives = state.on(.advance)
            if directives.isEmpty { return }
            try perform(directives)
        }
    }

    private func perform(_ directives: [ExecutionState.Directive]) throws {
        for directive in directives {
            switch directive {
            case let .start(step): try start(step)
            case let .skip(step, reason): try recordEnd(step, .notRun, reason: reason)
            case let .stop(step): try end(step, .stopped, reason: "the execution was stopped")
            }
        }
    }

    private func start(_ index: Int) throws {
        let run = steps[index]
        run.startedAt = Date()
        try save(index)
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
            case let (.shoalMap?, .other(arguments)?):
                try startMap(index, step: step, arguments: arguments, evaluator: evaluator)
            default:
                try end(index, .failed, reason: "Step type \(step.typeName) is not supported yet; Shoal runs Processing, Lambda, Condition and Fail steps.")
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
    }

    /// Records an end the state has already taken: cancels what still runs, saves, reports.
    private func recordEnd(_ index: Int, _ status: StepStatus, reason: String?, detail: String? = nil) throws {
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
            dispatcher.cancel(key)
            guard var record = tasks.removeValue(forKey: key)?.record else { continue }
            record.status = .stopped
            record.endedAt = now
            record.wallSeconds = now.timeIntervalSince(record.startedAt ?? now)
            record.failureReason = "step \(run.node.name) ended (\(status.rawValue)) while this attempt ran"
            stopped.append(record)
        }
        run.openTasks.removeAll()
        try home.metadata.update(stopped)
        if let map = run.map {
            for child in map.children.values { try child.stopNow() }
            map.children.removeAll()
        }
        try save(index)
        progress(.step(name: run.node.name, type: run.node.typeName, status: status, detail: reason ?? detail))
    }

    private func save(_ index: Int) throws {
        let run = steps[index]
        var stepRecord = StepRecord(executionId: executionId, name: run.node.name, type: run.node.typeName, status: state.statuses[index])
        stepRecord.startedAt = run.startedAt
        stepRecord.endedAt = run.endedAt
        stepRecord.failureReason = run.failureReason.map { String($0.prefix(1024)) }
        stepRecord.properties = run.properties.map { JSONWriter.string($0) }
        stepRecord.attempts = run.attempts
        try home.metadata.update(stepRecord)
    }

    // MARK: Lambda

    private func startLambda(_ index: Int, step: Step, event: StepArguments?, evaluator: Evaluator) throws {
        let arn = step.functionArn ?? ""
        let name = arn.split(separator: ":").last.map(String.init) ?? arn
        guard let function = try home.metadata.function(named: name) else {
            throw EvaluationError("Function '\(name)' (from FunctionArn '\(arn)') is not registered; add it with shoal functions create --name \(name).")
        }
        var payload: JSONValue = .object([:])
        if case let .lambda(fields)? = event { payload = try evaluator.evaluate(.object(fields)) }
        var request = PolicyRequest(action: "shoal:InvokeFunction")
        request.set("shoal:FunctionName", function.name)
        try authorizeJob(&request, step: step)
        let invocation = try LambdaInvocation(calling: function, events: [JSONWriter.string(payload)])
        try submit(index, instance: 1, task: .lambda(invocation), owner: .lambda)
    }

    private func finishLambda(_ index: Int, result: String?, error: String?) throws {
        let run = steps[index]
        guard let step = run.step else { return }
        if let error { return try end(index, .failed, reason: error) }
        do {
            let value = try JSONParser.parse(result ?? "null")
            let outputs = try LambdaOutputs.cast(result: value, declared: step.outputParameters ?? [])
            run.properties = .object(["OutputParameters": .object(outputs), "FunctionArn": .string(step.functionArn ?? "")])
            try end(index, .succeeded, reason: nil)
        } catch let failure as EvaluationError {
            try end(index, .failed, reason: failure.message)
        } catch {
            try end(index, .failed, reason: "The function's result cannot be read: \(error)")
        }
    }

    // MARK: Processing

    private func startProcessing(_ index: Int, step: Step, arguments: ProcessingArguments, evaluator: Evaluator) throws {
        let plan = try ProcessingJobPlan.make(step: step, arguments: arguments, executionId: executionId, evaluator: evaluator, objects: home.objects)
        var request = PolicyRequest(action: "shoal:CreateProcessingJob")
        request.set("shoal:InstanceType", plan.instanceType)
        request.set("shoal:InstanceCount", String(plan.instanceCount))
        request.set("shoal:NetworkIsolation", plan.specs.first?.networkIsolation == true ? "true" : "false")
        if let subnets = plan.requirements["subnet"] { request.set("shoal:VpcSubnets", subnets) }
        if let groups = plan.requirements["security-group"] { request.set("shoal:VpcSecurityGroupIds", groups) }
        if case let .string(image)? = JSONNavigation.follow([.member("AppSpecification"), .member("ImageUri")], in: .object(plan.request)) {
            request.set("shoal:ImageUri", image)
        }
        request.set("shoal:MaxRuntimeInSeconds", String(plan.specs.first?.maxRuntimeSeconds ?? 0))
        try authorizeJob(&request, step: step, stepTags: plan.tags)
        let run = steps[index]
        run.plan = plan
        for note in plan.notes {
            if let failure = appendLog(index, instance: 1, attempt: 1, "shoal: \(note)\n") { throw EvaluationError(failure.description) }
        }
        guard !options.failWhenNoWorkerFits || dispatcher.canPlace(plan.requirements) else {
            let wanted = plan.requirements.sorted { $0.key < $1.key }.map { key, values in values.map { "\(key)=\($0)" }.joined(separator: " or ") }
            throw EvaluationError("No worker carries the labels this step needs (\(wanted.joined(separator: "; and "))), which come from its VpcConfig; start workers with --labels.")
        }
        for spec in plan.specs {
            try submit(
                index, instance: spec.host, task: .processing(spec: spec, outputStaging: ""), owner: .processing(host: spec.host),
                requirements: plan.requirements
            )
        }
        progress(.instances(step: run.node.name, done: 0, total: plan.instanceCount))
    }

    /// Evaluates the policy for a job about to start; a denial fails the step before anything starts.
    func authorizeJob(_ request: inout PolicyRequest, step: Step, stepTags: [(key: String, value: String)] = []) throws {
        guard let policy = options.policy else { return }
        request.set("shoal:PipelineName", options.pipelineName)
        request.set("shoal:StepName", step.name)
        request.setTags(Tags.merge(options.tags, stepTags))
        if let statement = policy.denial(of: request) { throw EvaluationError(policy.reason(statement, request)) }
    }

    private func stagingFolder(_ index: Int, host: Int, attempt: Int) -> String {
        home.root.appendingPathComponent("staging/\(executionId)/\(steps[index].node.name)/algo-\(host)-attempt-\(attempt)").path
    }

    private func finishInstance(_ index: Int, host: Int, outcome: InstanceOutcome) throws {
        let run = steps[index]
        guard let plan = run.plan else { return }
        if outcome.status == .failed {
            let reason = "algo-\(host): " + (outcome.failureReason ?? "failed")
            return try end(index, .failed, reason: plan.instanceCount == 1 ? (outcome.failureReason ?? "failed") : reason)
        }
        run.completed[host] = outcome
        progress(.instances(step: run.node.name, done: run.completed.count, total: plan.instanceCount))
        guard run.completed.count == plan.instanceCount else { return }
        do {
            _ = try OutputCommit.commit(
                outputs: plan.outputs, instances: run.completed.map { OutputCommit.StagedInstance(host: $0.key, outcome: $0.value) },
                into: home.objects
            )
        } catch {
            return try end(index, .failed, reason: "\(error)")
        }
        var properties = plan.request
        properties["ProcessingJobStatus"] = .string(InstanceStatus.completed.rawValue)
        if let message = run.completed[1]?.exitMessage { properties["ExitMessage"] = .string(message) }
        properties["ProcessingStartTime"] = .string(Identifiers.timestamp(run.startedAt ?? Date()))
        properties["ProcessingEndTime"] = .string(Identifiers.timestamp(Date()))
        properties["CreationTime"] = .string(Identifiers.timestamp(run.startedAt ?? Date()))
        run.properties = .object(properties)
        recordPropertyFileMetrics(index)
        try? FileManager.default.removeItem(atPath: home.root.appendingPathComponent("staging/\(executionId)/\(run.node.name)").path)
        try end(index, .succeeded, reason: nil)
    }

    // MARK: Tasks

    enum TaskKind { case lambda, processing(host: Int), mapBatch(first: Int) }

    struct TaskOwner {
        let step: Int
        let instance: Int
        let kind: TaskKind
        let task: Task
        let requirements: [String: [String]]
        var record: InstanceRecord
    }

    func submit(
        _ index: Int, instance: Int, task: Task, owner kind: TaskKind, attempt: Int = 1, requirements: [String: [String]] = [:]
    ) throws {
        let run = steps[index]
        let label = if case .mapBatch = kind { "batch-\(instance)" } else { "algo-\(instance)" }
        let key = TaskKey(taskId: "\(executionId)/\(run.node.name)/\(label)", attempt: attempt)
        var task = task
        if case let .processing(spec, _) = task { task = .processing(spec: spec, outputStaging: stagingFolder(index, host: instance, attempt: attempt)) }
        var instanceRecord = InstanceRecord(executionId: executionId, stepName: run.node.name, instance: instance, attempt: attempt, status: .inProgress)
        instanceRecord.startedAt = Date()
        switch task {
        case let .processing(spec, _):
            instanceRecord.instanceType = spec.instanceType
            instanceRecord.bytesIn = spec.inputBytes
        case let .lambda(invocation):
            instanceRecord.instanceType = "lambda"
            instanceRecord.bytesIn = invocation.events.reduce(0) { $0 + $1.utf8.count }
        }
        try home.metadata.insert(&instanceRecord, tags: Tags.merge(options.tags, run.plan?.tags ?? []))
        run.attempts += 1
        tasks[key] = TaskOwner(step: index, instance: instance, kind: kind, task: task, requirements: requirements, record: instanceRecord)
        run.openTasks.insert(key)
        try dispatcher.submit(key, task, requirements: requirements)
    }

    private func handle(_ event: CoordinatorEndpoint.Event) throws {
        switch event {
        case .workerJoined:
            break
        case let .log(chunk):
            guard let owner = tasks[chunk.key] else { return }
            if let failure = appendLog(owner.step, instance: owner.instance, attempt: chunk.key.attempt, chunk.text) {
                try end(owner.step, .failed, reason: "algo-\(owner.instance): \(failure)")
            }
        case let .finished(finished):
            guard var owner = tasks.removeValue(forKey: finished.key) else { return }
            let run = steps[owner.step]
            run.openTasks.remove(finished.key)
            owner.record.endedAt = Date()
            switch finished.result {
            case let .processing(outcome):
                owner.record.status = outcome.status == .completed ? .completed : .failed
                owner.record.exitCode = outcome.exitCode
                owner.record.failureReason = outcome.failureReason
                owner.record.cpuSeconds = outcome.cpuSeconds
                owner.record.peakRSSBytes = outcome.peakRSSBytes
                owner.record.wallSeconds = outcome.wallSeconds
                owner.record.bytesOut = outcome.outputs.reduce(0) { $0 + $1.bytes }
                try home.metadata.update(owner.record)
                recordProcessingComponent(owner.step, host: owner.instance, outcome: outcome, started: owner.record.startedAt)
                try finishInstance(owner.step, host: owner.instance, outcome: outcome)
            case let .lambda(replies, seconds):
                let failures = replies.filter { $0.error != nil }.count
                owner.record.status = failures == 0 ? .completed : .failed
                owner.record.failureReason = replies.first { $0.error != nil }?.error.map { failures > 1 ? "\($0) (and \(failures - 1) more)" : $0 }
                owner.record.wallSeconds = seconds
                owner.record.bytesOut = replies.reduce(0) { $0 + ($1.result?.utf8.count ?? 0) }
                try home.metadata.update(owner.record)
                if case let .mapBatch(first) = owner.kind {
                    try finishMapBatch(owner.step, first: first, replies: replies)
                    return
                }
                let reply = replies.first ?? LambdaReply(result: nil, error: "the worker sent no reply")
                if case let .lambda(invocation) = owner.task {
                    let numbers = reply.result.flatMap { try? JSONParser.parse($0) }.map { MetricFlattening.metrics(in: $0) } ?? []
                    recordComponent(
                        owner.step, instance: 1, status: owner.record.status, started: owner.record.startedAt,
                        parameters: ["FunctionName": .string(invocation.functionName), "Event": invocation.events.first.flatMap { try? JSONParser.parse($0) } ?? .null],
                        inputs: [], outputs: [], metrics: numbers
                    )
                }
                try finishLambda(owner.step, result: reply.result, error: reply.error)
            case let .rejected(reason):
                owner.record.status = .failed
                owner.record.failureReason = reason
                try home.metadata.update(owner.record)
                try end(owner.step, .failed, reason: "algo-\(owner.instance): \(reason)")
            case let .interrupted(reason):
                owner.record.status = .interrupted
                owner.record.endedAt = Date()
                owner.record.failureReason = reason
                try home.metadata.update(owner.record)
                try retry(owner, after: finished.key) { "algo-\(owner.instance): moving its data failed \(finished.key.attempt) times; last: \(reason)" }
            }
        case let .workerLost(id, host, keys):
            for key in keys {
                guard var owner = tasks.removeValue(forKey: key) else { continue }
                let run = steps[owner.step]
                run.openTasks.remove(key)
                owner.record.status = .lost
                owner.record.endedAt = Date()
                // The slot was held until the loss was noticed; that is what it cost.
                owner.record.wallSeconds = owner.record.endedAt!.timeIntervalSince(owner.record.startedAt ?? owner.record.endedAt!)
                owner.record.worker = id
                owner.record.failureReason = "worker \(id) on \(host) was lost"
                try home.metadata.update(owner.record)
                run.lostHosts.insert("\(id)@\(host)")
                try retry(owner, after: key) {
                    "algo-\(owner.instance) was lost with its worker \(key.attempt) times (lost: \(run.lostHosts.sorted().joined(separator: ", ")))."
                }
            }
        }
    }

    /// An attempt that ended without a verdict on the job (its worker lost, its
    /// data not moved): nothing it staged is committed, and a new attempt runs
    /// while the limit allows, else the step fails with `reason`.
    private func retry(_ owner: TaskOwner, after key: TaskKey, reason: () -> String) throws {
        try? FileManager.default.removeItem(atPath: stagingFolder(owner.step, host: owner.instance, attempt: key.attempt))
        guard state.statuses[owner.step] == .executing else { return }
        if key.attempt < options.maxAttempts {
            try submit(
                owner.step, instance: owner.instance, task: owner.task, owner: owner.kind, attempt: key.attempt + 1,
                requirements: owner.requirements
            )
        } else {
            try end(owner.step, .failed, reason: reason())
        }
    }

    /// Appends to an instance's log (capped); returns why it could not, for the caller to fail the step.
    func appendLog(_ index: Int, instance: Int, attempt: Int, _ text: String) -> JobLogFile.WriteFailed? {
        let file = home.logFile(execution: executionId, step: steps[index].node.name, instance: instance, attempt: attempt)
        do {
            try JobLogFile.append(text, to: file, capBytes: options.maxLogBytes)
            return nil
        } catch {
            return error
        }
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

    public func finish() throws -> ExecutionRecord {
        try perform(state.on(.finish))
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

    // MARK: Evaluation scope

    /// Files the execution under an experiment and a trial (spec §5.12): the
    /// pipeline name and the execution id unless PipelineExperimentConfig says
    /// otherwise; nothing when it is null. A name that cannot be stored refuses the run.
    private func resolveExperimentConfig() throws {
        let evaluator = Evaluator(scope: scope(for: nil))
        func name(_ expression: Expression?, _ fallback: String, _ what: String) throws -> String {
            guard let expression else { return fallback }
            do { return ValueRendering.string(try evaluator.evaluate(expression)) } catch { throw ExperimentNames.Invalid(description: "\(what): \(error.message)") }
        }
        switch definition.experimentConfig {
        case .disabled: return
        case .absent:
            experiment["ExperimentName"] = .string(options.pipelineName)
            experiment["TrialName"] = .string(executionId)
        case let .configured(config):
            experiment["ExperimentName"] = .string(try name(config.experimentName, options.pipelineName, "PipelineExperimentConfig.ExperimentName"))
            experiment["TrialName"] = .string(try name(config.trialName, executionId, "PipelineExperimentConfig.TrialName"))
        }
        guard case let .string(experimentName)? = experiment["ExperimentName"], case let .string(trialName)? = experiment["TrialName"] else { return }
        try ExperimentNames.validate(experimentName, as: "Experiment name")
        try ExperimentNames.validate(trialName, as: "Trial name")
        record.experimentName = experimentName
        record.trialName = trialName
    }

    // MARK: Run components

    private func recordComponent(
        _ index: Int, instance: Int, status: InstanceStatus, started: Date?, parameters: OrderedFields<JSONValue>,
        inputs: [String], outputs: [String], metrics: [(name: String, value: Double)]
    ) {
        var component = TrialComponentRecord(
            executionId: executionId, stepName: steps[index].node.name, instance: instance, status: status,
            parameters: JSONWriter.string(.object(parameters)), inputs: JSONWriter.string(.array(inputs.map(JSONValue.string))),
            outputs: JSONWriter.string(.array(outputs.map(JSONValue.string)))
        )
        component.experimentName = record.experimentName
        component.trialName = record.trialName
        component.startedAt = started
        component.endedAt = Date()
        // Experiments are a view of the run; failing to record one never fails the step.
        if (try? home.metadata.record(&component, metrics: metrics)) != nil, let id = component.id {
            steps[index].componentIds[instance] = id
        }
    }

    private func recordProcessingComponent(_ index: Int, host: Int, outcome: InstanceOutcome, started: Date?) {
        guard let plan = steps[index].plan else { return }
        var parameters = OrderedFields<JSONValue>()
        for key in ["ProcessingResources", "AppSpecification", "Environment", "NetworkConfig", "Tags"] { parameters[key] = plan.request[key] }
        let inputs: [String]
        if case let .array(items)? = plan.request["ProcessingInputs"] {
            inputs = items.compactMap { JSONNavigation.follow([.member("S3Input"), .member("S3Uri")], in: $0).map(ValueRendering.string) }
        } else {
            inputs = []
        }
        let metrics = outcome.metricsJSON.flatMap { try? JSONParser.parse($0) }.map { MetricFlattening.metrics(in: $0) } ?? []
        // Lineage names the objects this host wrote, or the prefix when there are very many.
        var outputs: [String] = []
        for output in plan.outputs {
            let files = outcome.outputs.first { $0.name == output.name }?.files ?? []
            if files.count > 1000 {
                outputs.append(output.uri.description)
            } else {
                outputs += files.compactMap { try? output.uri.appending($0).description }
            }
        }
        recordComponent(
            index, instance: host, status: outcome.status == .completed ? .completed : .failed, started: started, parameters: parameters,
            inputs: inputs, outputs: outputs, metrics: metrics
        )
    }

    /// Numbers in the step's property files become metrics of the instances that wrote them.
    private func recordPropertyFileMetrics(_ index: Int) {
        let run = steps[index]
        guard let plan = run.plan else { return }
        for file in run.step?.propertyFiles ?? [] {
            guard let output = plan.outputs.first(where: { $0.name == file.outputName }),
                  let uri = try? output.uri.appending(file.filePath),
                  let data = try? home.objects.read(uri, maxBytes: ExecutionScope.maxPropertyFileBytes),
                  let document = try? JSONParser.parse(data)
            else { continue }
            let metrics = MetricFlattening.metrics(in: document)
            for (host, outcome) in run.completed where outcome.outputs.contains(where: { $0.name == file.outputName && $0.files.contains(file.filePath) }) {
                if let id = run.componentIds[host] { try? home.metadata.addMetrics(metrics, toComponent: id) }
            }
        }
    }

    func scope(for step: Step?) -> ExecutionScope {
        var variables: [ExecutionVariable: JSONValue] = [
            .pipelineExecutionId: .string(executionId),
            .pipelineExecutionArn: .string(Identifiers.executionArn(options.pipelineName, executionId)),
            .pipelineName: .string(options.pipelineName),
            .pipelineArn: .string(Identifiers.pipelineArn(options.pipelineName)),
            .startDateTime: .string(Identifiers.timestamp(startedAt)),
        ]
        variables[.currentDateTime] = .string(Identifiers.timestamp(Date()))
        return ExecutionScope(
            parameters: parameters, variables: variables, experiment: experiment, properties: succeededProperties,
            propertyFiles: succeededPropertyFiles, objects: home.objects
        )
    }

    /// The step a graph node stands for, found by its document path.
    private static func step(at path: JSONPath, in definition: PipelineDefinition) -> Step? {
        var current: Step?
        var list = definition.steps
        var components = path.components.dropFirst() // "Steps"
        while let first = components.first {
            components = components.dropFirst()
            switch first {
            case let .index(position):
                guard position < list.count else { return nil }
                current = list[position]
            case .key("Arguments"):
                guard case let .key(branch)? = components.first else { return nil }
                components = components.dropFirst()
                list = branch == "IfSteps" ? (current?.branches.ifSteps ?? []) : (current?.branches.elseSteps ?? [])
            default:
                return nil
            }
        }
        return current
    }
}

/// One step's run-time state.
final class StepRun {
    let node: PipelineGraph.Node
    var step: Step?
    var startedAt: Date?
    var endedAt: Date?
    var failureReason: String?
    var properties: JSONValue?
    var attempts = 0
    var plan: ProcessingJobPlan?
    var completed: [Int: InstanceOutcome] = [:]
    var openTasks: Set<TaskKey> = []
    var lostHosts: Set<String> = []
    /// Run component ids by host, once recorded.
    var componentIds: [Int: Int64] = [:]
    /// A Shoal:Map step's fan-out.
    var map: MapRun?

    init(node: PipelineGraph.Node) { self.node = node }
}

/// What expressions see while a step starts.
struct ExecutionScope: EvaluationScope {
    let parameters: OrderedFields<JSONValue>
    let variables: [ExecutionVariable: JSONValue]
    let experiment: [String: JSONValue]
    let properties: [String: JSONValue]
    let propertyFiles: [String: [PropertyFile]]
    let objects: ObjectStore
    static let maxPropertyFileBytes = 1 << 20

    func parameter(_ name: String) -> JSONValue? { parameters[name] }
    func executionVariable(_ variable: ExecutionVariable) -> JSONValue? { variables[variable] }
    func experimentConfig(_ name: String) -> JSONValue? { experiment[name] }
    func properties(ofStep name: String) -> JSONValue? { properties[name] }
    func propertyFileURI(_ name: String, ofStep step: String) throws(EvaluationError) -> String {
        guard let properties = properties[step] else { throw EvaluationError("Step '\(step)' has not succeeded; its property file '\(name)' cannot be read.") }
        if case let .string(results)? = JSONNavigation.follow([.member("ResultsS3Uri")], in: properties), name == "Results" { return results }
        guard let file = propertyFiles[step]?.first(where: { $0.name == name }) else {
            throw EvaluationError("Step '\(step)' declares no property file '\(name)'.")
        }
        guard case let .string(outputUri)? = JSONNavigation.follow(
            [.member("ProcessingOutputConfig"), .member("Outputs"), .key(file.outputName), .member("S3Output"), .member("S3Uri")], in: properties
        ) else { throw EvaluationError("Property file '\(name)' of step '\(step)' has no output '\(file.outputName)' to read from.") }
        return outputUri.hasSuffix("/") ? outputUri + file.filePath : outputUri + "/" + file.filePath
    }

    func readJSONObject(at text: String) throws(EvaluationError) -> JSONValue {
        do {
            let data = try objects.read(try S3URI(text), maxBytes: Self.maxPropertyFileBytes)
            do {
                return try JSONParser.parse(data)
            } catch {
                throw EvaluationError("Contents of file \(text) are not in valid JSON format: \(error).")
            }
        } catch let error as EvaluationError {
            throw error
        } catch {
            throw EvaluationError("Received an error while reading file \(text): \(error).")
        }
    }
}
