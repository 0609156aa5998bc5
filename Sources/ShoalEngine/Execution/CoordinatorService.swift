import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalStore

/// Runs executions on the workers of an endpoint and answers clients on an API
/// socket: `shoal coordinator` serves many executions until it is stopped;
/// `shoal run` starts one on its local workers and serves until it ends. Either
/// way a stop is a request on the API socket, recorded with the execution as
/// its owner's endpoint.
public final class CoordinatorService {
    let home: ShoalHome
    let workers: CoordinatorEndpoint
    let api: ApiEndpoint
    /// Lambda Invoke requests whose function runs now (see CoordinatorService+Invoke).
    var invocations: [TaskKey: HeldInvocation] = [:]
    private let policy: Policy?
    private var runners: [String: ExecutionRunner] = [:]
    /// `watch` requests held until their execution changes (bounded: past the
    /// limit a watch is answered at once, as a plain status request).
    private var watches: [(client: [UInt8], watch: ApiMessage.Watch, until: Date)] = []
    private static let maxWatches = 1024
    let log: (String) -> Void

    private let maxLogBytes: Int
    /// Where this service keeps the ids of its live workers, so that its next
    /// life knows whom to wait for before running again what none reports (nil: not kept).
    private var workersFile: URL?
    private var recordedWorkers: Set<String> = []

    public init(
        home: ShoalHome, workers: CoordinatorEndpoint, api: ApiEndpoint, policy: Policy?, maxLogBytes: Int = JobLogFile.defaultCapBytes,
        log: @escaping (String) -> Void
    ) {
        self.home = home
        self.maxLogBytes = maxLogBytes
        self.workers = workers
        self.api = api
        self.policy = policy
        self.log = log
    }

    /// The AWS-compatible endpoint serving this coordinator's home, if any: its
    /// address goes to every job and handler (with the execution's key pair).
    public var endpointURL: String?
    /// Under TLS, the PEM certificates jobs and handlers trust the endpoint with (see `ExecutionRunner.Options`).
    public var endpointCABundle: String?

    /// No execution is running.
    public var isIdle: Bool { runners.isEmpty }

    /// Starts an execution (`options.owner` becomes this service's API
    /// socket) and returns its id; `progress` hears what it does.
    public func start(
        definition: PipelineDefinition, graph: PipelineGraph, options: ExecutionRunner.Options, progress: @escaping (ProgressEvent) -> Void = { _ in }
    ) throws -> String {
        var options = options
        options.owner = ExecutionOwner(endpoint: api.endpoint)
        if options.endpointURL == nil {
            options.endpointURL = endpointURL
            options.endpointCABundle = endpointCABundle
        }
        let runner = ExecutionRunner(definition: definition, graph: graph, home: home, dispatcher: workers, options: options, progress: progress)
        try runner.begin()
        runners[runner.executionId] = runner
        log("execution \(runner.executionId) of \(options.pipelineName) started")
        return runner.executionId
    }

    /// Carries on an execution whose owner died (see `ExecutionRunner.resuming`); this service becomes its owner.
    public func resume(
        executionId id: String, maxParallelSteps: Int? = nil, failWhenNoWorkerFits: Bool = true, reattachWindow: TimeInterval = 0,
        progress: @escaping (ProgressEvent) -> Void = { _ in }
    ) throws -> String {
        var settings = reopeningSettings(maxParallelSteps: maxParallelSteps)
        settings.failWhenNoWorkerFits = failWhenNoWorkerFits
        settings.reattachWindow = reattachWindow
        let runner = try ExecutionRunner.resuming(id, home: home, dispatcher: workers, settings: settings, progress: progress)
        runners[id] = runner
        log("execution \(id) of \(runner.options.pipelineName) resumed: its steps that were running start again")
        return id
    }

    /// Carries a Failed or Stopped execution on from its failed and not-run
    /// steps (see `ExecutionRunner.retrying`); this service becomes its owner.
    public func retry(executionId id: String, maxParallelSteps: Int? = nil, progress: @escaping (ProgressEvent) -> Void = { _ in }) throws -> String {
        let runner = try ExecutionRunner.retrying(id, home: home, dispatcher: workers, settings: reopeningSettings(maxParallelSteps: maxParallelSteps), progress: progress)
        runners[id] = runner
        log("execution \(id) of \(runner.options.pipelineName) retried: its failed and not-run steps run again")
        return id
    }

    /// What an execution this service carries on runs under: this service as
    /// its owner, its policy, endpoint and log cap, as a new one would.
    private func reopeningSettings(maxParallelSteps: Int?) -> ExecutionRunner.Options {
        var settings = ExecutionRunner.Options(pipelineName: "")
        settings.owner = ExecutionOwner(endpoint: api.endpoint)
        settings.maxParallelSteps = maxParallelSteps
        settings.maxLogBytes = maxLogBytes
        settings.policy = policy
        settings.endpointURL = endpointURL
        settings.endpointCABundle = endpointCABundle
        return settings
    }

    /// Resumes the executions a previous life of this coordinator left running:
    /// recorded with this API address and host, their process gone (a fan-out's
    /// children are carried on by their parent). Their instances that still run
    /// on workers which outlived it are taken back when those workers report
    /// them within `reattachWindow`; the others run again. One that cannot be
    /// resumed is logged and left for `shoal stop`. Returns the ids resumed.
    public func adoptOrphans(reattachWindow: TimeInterval = 0) throws -> [String] {
        if reattachWindow > 0 {
            let name = api.endpoint.map { $0.isLetter || $0.isNumber ? $0 : "-" }
            let file = home.root.appendingPathComponent("coordinator/workers-\(String(name)).txt")
            try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let previous = (try? String(contentsOf: file, encoding: .utf8)).map { Set($0.split(separator: "\n").map(String.init)) }
            workers.acceptHoldings(for: reattachWindow, from: previous)
            workersFile = file
        }
        var adopted: [String] = []
        for execution in try home.metadata.executions(limit: 10_000) where execution.status == .executing && execution.parentStepName == nil {
            guard let owner = ExecutionOwner(of: execution), owner.endpoint == api.endpoint, owner.isGoneFromThisHost else { continue }
            do {
                // Its workers rejoin over the next seconds: work waits for them, as a submission's would.
                adopted.append(try resume(executionId: execution.id, failWhenNoWorkerFits: false, reattachWindow: reattachWindow))
            } catch {
                log("execution \(execution.id) of \(execution.pipelineName) was left running by process \(owner.process) and cannot be resumed: \(error)")
            }
        }
        return adopted
    }

    /// Asks a running execution to stop (what an API `stop` request does).
    public func requestStop(executionId id: String) throws {
        guard let runner = runners[id] else { throw ApiRefusal(description: "execution '\(id)' is not running here") }
        try runner.requestStop()
    }

    /// Serves until `shouldStop`; then stops the executions still running (workers stay up).
    public func run(shouldStop: () -> Bool) throws {
        var lastTick = Date()
        var lastWatchCheck = Date()
        // Until when something that happened may still change an execution (an event is
        // routed after the runners advanced, so its effects show an iteration later).
        var changing = Date.distantPast
        while !shouldStop() {
            for (client, request) in try api.receive() {
                if case let .invoke(invoke) = request {
                    startInvocation(invoke, for: client)
                } else if case let .watch(watch) = request, watches.count < Self.maxWatches, runners[watch.executionId] != nil {
                    watches.append((client, watch, Date().addingTimeInterval(ApiMessage.watchWait)))
                    lastWatchCheck = .distantPast
                } else {
                    api.reply(answer(request), to: client)
                    if case .stop = request { changing = Date().addingTimeInterval(0.05) }
                }
            }
            if Date().timeIntervalSince(lastTick) >= 0.25 {
                lastTick = Date()
                for runner in runners.values { runner.tick() }
            }
            for (id, runner) in runners {
                do {
                    try runner.advance()
                    guard runner.isFinished else { continue }
                    let record = try runner.finish()
                    runners[id] = nil
                    lastWatchCheck = .distantPast
                    log("execution \(id) of \(record.pipelineName) \(record.status.rawValue)" + (record.failureReason.map { ": \($0)" } ?? ""))
                } catch {
                    abandon(id, because: error)
                }
            }
            // Each check reads the database, so checks are spaced even while events pour in.
            let now = Date()
            let sinceCheck = now.timeIntervalSince(lastWatchCheck)
            if (now < changing && sinceCheck > 0.01) || sinceCheck > 0.25 || watches.contains(where: { $0.until <= now }) {
                lastWatchCheck = Date()
                answerWatches()
            }
            let registry = workers.registry
            EngineMetrics.cluster(waiting: registry.queue.count, workers: registry.workers.count, freeSlots: registry.workers.values.reduce(0) { $0 + max(0, $1.freeSlots) })
            expireInvocations()
            for event in try workers.poll(timeout: 0.02, alsoWakingFor: api) {
                if takeInvocationEvent(event) { continue }
                changing = Date().addingTimeInterval(0.05)
                switch event {
                case let .workerJoined(id, host, slots):
                    log("worker \(id) on \(host) joined with \(slots) slots")
                    recordWorkers()
                case let .workerLost(id, host, _):
                    log("worker \(id) on \(host) was lost")
                    recordWorkers()
                default: break
                }
                for (id, runner) in runners {
                    do {
                        // A lost worker concerns every execution; anything else, the one whose task it is.
                        if try runner.route(event), !concernsEveryone(event) { break }
                    } catch {
                        abandon(id, because: error)
                    }
                }
            }
        }
        for (id, runner) in runners {
            do { try runner.stopNow() } catch { abandon(id, because: error) }
        }
        runners.removeAll()
        answerWatches(all: true)
    }

    /// Writes the live workers' ids when they changed (see `workersFile`).
    private func recordWorkers() {
        guard let workersFile else { return }
        let live = Set(workers.registry.workers.values.map(\.id))
        guard live != recordedWorkers else { return }
        do {
            try Data(live.sorted().joined(separator: "\n").utf8).write(to: workersFile, options: .atomic)
            recordedWorkers = live
        } catch {
            log("cannot record the live workers in \(workersFile.path): \(error)")
        }
    }

    private func concernsEveryone(_ event: CoordinatorEndpoint.Event) -> Bool {
        switch event {
        case .workerLost, .reattached, .notReattached: true
        case .workerJoined, .log, .finished: false
        }
    }

    /// One execution failed in a way its runner cannot record (see `abandon`):
    /// it ends, the others and the service go on.
    private func abandon(_ id: String, because error: any Error) {
        guard let runner = runners.removeValue(forKey: id) else { return }
        let record = runner.abandon(because: error)
        log("execution \(id) of \(record.pipelineName) Failed: \(record.failureReason ?? "\(error)")")
    }

    /// Answers each held watch whose execution changed, ended, or waited long enough.
    private func answerWatches(all: Bool = false) {
        let now = Date()
        watches.removeAll { client, watch, until in
            let reply: ApiMessage
            do {
                let current = try status(watch.executionId)
                guard all || current.fingerprint != watch.seen || runners[watch.executionId] == nil || until <= now else { return false }
                reply = .execution(current)
            } catch {
                reply = .failure("\(error)")
            }
            api.reply(reply, to: client)
            return true
        }
    }

    private func answer(_ request: ApiMessage) -> ApiMessage {
        do {
            switch request {
            case let .submit(submission): return .submitted(executionId: try submit(submission))
            case let .status(id): return .execution(try status(id))
            case let .watch(watch): return .execution(try status(watch.executionId))
            case let .stop(id, token):
                try once(token.map { "stop/\(id)/\($0)" }, executionId: id) { try requestStop(executionId: id) }
                return .execution(try status(id))
            case let .retry(id, token):
                try once(token.map { "retry/\(id)/\($0)" }, executionId: id) { _ = try retry(executionId: id) }
                return .execution(try status(id))
            case let .callback(answer):
                guard let callback = try home.metadata.callback(token: answer.token) else {
                    throw ApiRefusal(description: "no callback with token '\(answer.token)'")
                }
                try once(answer.clientToken.map { "callback/\(answer.token)/\($0)" }, executionId: callback.executionId) {
                    guard let runner = runners.values.lazy.compactMap({ $0.runner(for: callback.executionId) }).first else {
                        throw ApiRefusal(description: "execution '\(callback.executionId)', whose step \(callback.stepName) holds token '\(answer.token)', is not running here")
                    }
                    try runner.answerCallback(answer)
                }
                return .execution(try status(callback.executionId))
            case .clusterStatus:
                return .workers(workers.registry.workers.values.sorted { $0.id < $1.id }.map { worker in
                    .init(id: worker.id, host: worker.host, slots: worker.slots, busy: worker.running.count, labels: worker.labels,
                          lastHeartbeat: worker.lastHeard, version: worker.version, sandbox: worker.sandbox,
                          running: worker.running.map { "\($0.taskId)#\($0.attempt)" }.sorted())
                })
            case .invoke:
                return .failure("an invoke request is answered when its function ends")
            case .submitted, .execution, .workers, .invoked, .failure:
                return .failure("'\(request)' is a reply, not a request")
            }
        } catch {
            return .failure("\(error)")
        }
    }

    /// Does `change` unless a request with the same client token already did:
    /// a client that retried after a lost reply must not stop, retry or answer twice.
    /// Only a change that went through is remembered, so a refused one may be tried again.
    private func once(_ requestToken: String?, executionId: String, _ change: () throws -> Void) throws {
        if let requestToken, try home.metadata.execution(ofRequestToken: requestToken) != nil { return }
        try change()
        if let requestToken { try home.metadata.remember(requestToken: requestToken, execution: executionId) }
    }

    private func submit(_ submission: ApiMessage.Submission) throws -> String {
        // A client that retried (a lost reply, a timeout) gets the execution its first try started.
        if let token = submission.clientToken, let started = try home.metadata.execution(ofRequestToken: token) { return started }
        let source: ExecutionRequest.Source
        if let registered = submission.registered {
            do { source = try ExecutionRequest.registered(registered) } catch { throw ApiRefusal(description: error.description) }
        } else {
            source = .document(Data(submission.definition.utf8), label: "the definition")
        }
        var request = ExecutionRequest(source: source, pipelineName: submission.pipelineName)
        if let from = submission.sourceExecutionId {
            request.selection = ExecutionRunner.Selection(sourceExecutionId: from, steps: submission.selectedSteps ?? [])
        }
        request.parameters = submission.parameters.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
        request.tags = submission.tags.compactMap { $0.count == 2 ? (key: $0[0], value: $0[1]) : nil }
        request.maxParallelSteps = submission.maxParallelSteps
        request.maxLogBytes = maxLogBytes
        request.policy = policy
        let resolved: ExecutionRequest.Resolved
        do {
            resolved = try request.resolve(in: home)
        } catch let refused as ExecutionRequest.Refused {
            throw ApiRefusal(description: refused.problems.prefix(10).joined(separator: "\n"))
        }
        var options = resolved.options
        options.parentExecutionId = submission.parentExecutionId
        // Work no current worker can take waits for one to join.
        options.failWhenNoWorkerFits = false
        let id = try start(definition: resolved.definition, graph: resolved.graph, options: options)
        if let token = submission.clientToken { try home.metadata.remember(requestToken: token, execution: id) }
        return id
    }

    private func status(_ id: String) throws -> ApiMessage.ExecutionStatusReply {
        guard let record = try home.metadata.execution(id: id) else { throw ApiRefusal(description: "no execution '\(id)'") }
        return .init(
            executionId: id, status: record.status.rawValue, failureReason: record.failureReason,
            steps: try home.metadata.steps(executionId: id).map { .init(name: $0.name, type: $0.type, status: $0.status.rawValue, failureReason: $0.failureReason) }
        )
    }

    struct ApiRefusal: Error, CustomStringConvertible {
        let description: String
    }
}
