import ArgumentParser
import Foundation
import ShoalRuntime
import ShoalCluster
import ShoalDefinition
import ShoalEngine
import ShoalStore

struct ExecutionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executions",
        abstract: "List executions, describe one, resume one whose process died, or retry one that failed.",
        subcommands: [List.self, Describe.self, Resume.self, Retry.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List executions, newest first.")
        @Option(help: "At most this many.") var limit = 50
        @Option(help: "Only the child executions this execution started.") var parent: String?
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let store = try home.open().metadata
            let bound = max(1, min(limit, 10_000))
            let executions = try parent.map { try store.executions(parent: $0, limit: bound) } ?? store.executions(limit: bound)
            switch output.output {
            case .json: try printJSON(executions.map(ExecutionSummary.init))
            case .text:
                print(Formatting.table(["ID", "PIPELINE", "STATUS", "STARTED", "ELAPSED"], executions.map {
                    let status = ExecutionSummary.ownerIsGone($0) ? "\($0.status) (its process is gone: shoal executions resume \($0.id), or shoal stop \($0.id))" : $0.status.rawValue
                    return [$0.id, $0.pipelineName, status, Formatting.time($0.startedAt), Formatting.duration(from: $0.startedAt, to: $0.endedAt)]
                }))
            }
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Carry on an execution left Executing by a `shoal run` that died, on new local workers.",
            discussion: """
                Steps that ended stay as they ended; steps that were running start again,
                their attempts numbered after the recorded ones (those the dead process
                left running are recorded Lost). Exits 0 only when the execution Succeeded.
                A fan-out that was running takes back its child executions: those that
                ended keep their results, those left running carry on (the same way);
                function items are sent again.
                """
        )
        @Argument(help: "The execution id (`shoal executions list` marks those whose process is gone).") var id: String
        @Option(help: "At most this many steps run at once.") var maxParallelSteps: Int?
        @OptionGroup var local: LocalWorkerOptions
        @OptionGroup var home: HomeOptions

        func run() throws {
            try ExecutionsCommand.carryOn(home: home, local: local) { service, progress in
                try service.resume(executionId: id, maxParallelSteps: maxParallelSteps, progress: progress)
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a Failed or Stopped execution again from its failed and not-run steps, on new local workers.",
            discussion: """
                RetryPipelineExecution: the same execution, with the same parameters and
                definition; steps that succeeded keep their results and do not run again,
                the others run, their attempts numbered after the recorded ones. Fix what
                made a step fail (an input object, a registered function) first. Exits 0
                only when the execution Succeeded.

                Example:
                  shoal executions retry 4wemqw2sucgh
                """
        )
        @Argument(help: "The execution id.") var id: String
        @Option(help: "At most this many steps run at once.") var maxParallelSteps: Int?
        @OptionGroup var local: LocalWorkerOptions
        @OptionGroup var home: HomeOptions

        func run() throws {
            try ExecutionsCommand.carryOn(home: home, local: local) { service, progress in
                try service.retry(executionId: id, maxParallelSteps: maxParallelSteps, progress: progress)
            }
        }
    }

    /// Serves an execution carried on by `reopen` (resumed or retried) on local workers; exits 0 only when it Succeeded.
    static func carryOn(
        home: HomeOptions, local: LocalWorkerOptions, _ reopen: (CoordinatorService, @escaping (ProgressEvent) -> Void) throws -> String
    ) throws {
        let record: ExecutionRecord
        do {
            record = try local.serve(try home.open(), start: reopen)
        } catch let refused as ExecutionRunner.CannotResume {
            throw CommandFailure(refused.description)
        }
        if record.status != .succeeded { throw ExitCode(1) }
    }

    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one execution: status, parameters, failure reason.")
        @Argument(help: "The execution id.") var id: String
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard let execution = try home.open().metadata.execution(id: id) else { throw CommandFailure("no execution '\(id)'") }
            let summary = ExecutionSummary(execution)
            switch output.output {
            case .json: try printJSON(summary)
            case .text:
                print("Execution:  \(execution.id)")
                print("Pipeline:   \(execution.pipelineName)" + (execution.pipelineVersion.map { " (version \($0))" } ?? ""))
                print("Status:     \(execution.status.rawValue)")
                print("Started:    \(Formatting.time(execution.startedAt))")
                print("Ended:      \(Formatting.time(execution.endedAt))")
                print("Parameters: \(execution.parameters)")
                if let reason = execution.failureReason { print("Failure:    \(reason)") }
            }
        }
    }
}

struct ExecutionSummary: Encodable {
    let id: String
    let pipeline: String
    let status: String
    let startedAt: Date
    let endedAt: Date?
    let failureReason: String?
    let parameters: JSONValue
    let pipelineVersion: Int?
    let parentExecutionId: String?
    let experiment: String?
    let trial: String?
    /// Running by its record, but the process that ran it is gone from this host.
    let ownerGone: Bool

    static func ownerIsGone(_ record: ExecutionRecord) -> Bool {
        record.status.isRunning && ExecutionOwner(of: record)?.isGoneFromThisHost == true
    }

    init(_ record: ExecutionRecord) {
        id = record.id
        pipeline = record.pipelineName
        status = record.status.rawValue
        startedAt = record.startedAt
        endedAt = record.endedAt
        failureReason = record.failureReason
        parameters = (try? JSONParser.parse(record.parameters)) ?? .object([:])
        pipelineVersion = record.pipelineVersion
        parentExecutionId = record.parentExecutionId
        experiment = record.experimentName
        trial = record.trialName
        ownerGone = Self.ownerIsGone(record)
    }
}

struct StepsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steps",
        abstract: "Show the steps of an execution: status, times, failure reason, properties.",
        discussion: "Example:\n  shoal steps 4wemqw2sucgh --output json"
    )
    @Argument(help: "The execution id.") var id: String
    @OptionGroup var home: HomeOptions
    @OptionGroup var output: OutputOptions

    struct StepSummary: Encodable {
        let name: String
        let type: String
        let status: String
        let startedAt: Date?
        let endedAt: Date?
        let attempts: Int
        let failureReason: String?
        let properties: JSONValue?
        let cacheHitResult: CacheHitResult?
        let note: String?
        let retryNote: String?
        /// A map step's items so far.
        let items: Items?
    }

    struct Items: Encodable {
        let succeeded: Int
        let failed: Int
        let total: Int
    }

    /// As ListPipelineExecutionSteps names it.
    struct CacheHitResult: Encodable {
        let sourcePipelineExecutionArn: String
    }

    func run() throws {
        let store = try home.open()
        guard let execution = try store.metadata.execution(id: id) else { throw CommandFailure("no execution '\(id)'") }
        let steps = try store.metadata.steps(executionId: id)
        switch output.output {
        case .json:
            try printJSON(steps.map { step in
                StepSummary(
                    name: step.name, type: step.type, status: step.status.rawValue, startedAt: step.startedAt, endedAt: step.endedAt,
                    attempts: step.attempts, failureReason: step.failureReason,
                    properties: step.properties.flatMap { try? JSONParser.parse($0) },
                    cacheHitResult: step.cacheSourceExecutionId.map { CacheHitResult(sourcePipelineExecutionArn: Identifiers.executionArn(execution.pipelineName, $0)) },
                    note: step.note, retryNote: step.retryNote,
                    items: step.itemsTotal.map { Items(succeeded: step.itemsSucceeded ?? 0, failed: step.itemsFailed ?? 0, total: $0) }
                )
            })
        case .text:
            print(Formatting.table(["STEP", "TYPE", "STATUS", "STARTED", "ELAPSED", "REASON"], steps.map {
                [$0.name, $0.type, $0.status.rawValue, Formatting.time($0.startedAt), Formatting.duration(from: $0.startedAt, to: $0.endedAt),
                 $0.failureReason ?? $0.retryNote ?? $0.note ?? ""]
            }))
        }
    }
}

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print the log of a step (every instance, or one), as the workers streamed it.",
        discussion: "Examples:\n  shoal logs 4wemqw2sucgh AbaloneProcess\n  shoal logs 4wemqw2sucgh AbaloneProcess --instance 2 --follow"
    )
    @Argument(help: "The execution id.") var id: String
    @Argument(help: "The step name.") var step: String
    @Option(help: "Only this instance (1-based, as in algo-N).") var instance: Int?
    @Flag(help: "Keep printing as the log grows, until the step ends.") var follow = false
    @OptionGroup var home: HomeOptions

    func run() throws {
        let store = try home.open()
        guard try store.metadata.execution(id: id) != nil else { throw CommandFailure("no execution '\(id)'") }
        guard try store.metadata.steps(executionId: id).contains(where: { $0.name == step }) else {
            throw CommandFailure("execution '\(id)' has no step '\(step)'")
        }
        var offsets: [String: UInt64] = [:]
        while true {
            let attempts = try store.metadata.instances(executionId: id, stepName: step).filter { instance == nil || $0.instance == instance }
            for attempt in attempts {
                let file = store.logFile(execution: id, step: step, instance: attempt.instance, attempt: attempt.attempt).path
                guard let handle = FileHandle(forReadingAtPath: file) else { continue }
                try handle.seek(toOffset: offsets[file] ?? 0)
                let data = try handle.readToEnd() ?? Data()
                try handle.close()
                guard !data.isEmpty else { continue }
                if offsets[file] == nil && attempts.count > 1 {
                    StandardStreams.output("==> algo-\(attempt.instance) attempt \(attempt.attempt) <==\n")
                }
                offsets[file, default: 0] += UInt64(data.count)
                StandardStreams.output(data)
            }
            guard follow else { return }
            let status = try store.metadata.steps(executionId: id).first { $0.name == step }?.status
            if status != .executing && status != .pending { return }
            usleep(200_000)
        }
    }
}

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop a running execution: running steps are stopped, no new step starts.",
        discussion: "Example:\n  shoal stop 4wemqw2sucgh"
    )
    @Argument(help: "The execution id.") var id: String
    @OptionGroup var home: HomeOptions
    @OptionGroup var connection: ClusterConnection

    func run() throws {
        if let client = try connection.client() {
            _ = try client.request(.stop(executionId: id))
            print("execution \(id) Stopping")
            return
        }
        let store = try home.open()
        guard let execution = try store.metadata.execution(id: id) else { throw CommandFailure("no execution '\(id)'") }
        guard execution.status.isRunning else { throw CommandFailure("execution '\(id)' is \(execution.status), not running") }
        guard let owner = ExecutionOwner(of: execution) else {
            throw CommandFailure("execution '\(id)' records no process running it (an older shoal started it); nothing can stop it")
        }
        if owner.isGoneFromThisHost {
            let stopped = try OrphanedExecution.stop(id, in: store)
            print("execution \(id) \(stopped.status): \(stopped.failureReason ?? "")")
            return
        }
        do {
            let reply = try CoordinatorClient(endpoint: owner.endpoint, timeout: 5).request(.stop(executionId: id))
            guard case let .execution(status) = reply else { throw CommandFailure("unexpected reply from \(owner.endpoint)") }
            print("execution \(id) \(status.status)")
        } catch let error as CoordinatorClient.Unreachable {
            throw CommandFailure(
                "process \(owner.process) on \(owner.host), which runs execution '\(id)', did not answer: \(error) "
                    + "(a coordinator with CURVE keys needs --coordinator with --server-key and --client-key)"
            )
        } catch let refusal as CoordinatorClient.Refused {
            throw CommandFailure(refusal.description)
        }
    }
}
