import ArgumentParser
import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalEngine
import ShoalStore

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline definition on this machine.",
        discussion: """
            Starts a coordinator and --workers worker processes (the same protocol a
            cluster uses, over ipc://), runs every step, prints progress, and exits 0
            only when the execution Succeeded. Ctrl-C (or `shoal stop ID`) stops it.

            Examples:
              shoal run examples/abalone/pipeline.json
              shoal run pipeline.json --param MseThreshold=3.5 --workers 4
              shoal run --pipeline abalone@2
              shoal run pipeline.json --from 4wemqw2sucgh --steps Evaluate,Report
            """
    )

    @Argument(help: "The definition file (JSON, as pipeline.definition() writes it).")
    var file: String?

    @Option(help: "Run a registered pipeline instead, NAME or NAME@VERSION (default: its latest version).")
    var pipeline: String?

    @Option(name: .customLong("param"), help: "A parameter value, Name=Value (repeatable).")
    var parameters: [String] = []

    @Option(help: "At most this many steps run at once (ParallelismConfiguration.MaxParallelExecutionSteps).")
    var maxParallelSteps: Int?

    @Option(help: "The pipeline name (Execution.PipelineName); default: the file name without extension.")
    var pipelineName: String?

    @Option(help: "Tags for this execution, k=v,… (stored with every job instance; `shoal cost` groups by them).")
    var tags: String?

    @Option(help: "A policy file: IAM-style Deny statements checked before the execution and every job start.")
    var policy: String?

    @Option(help: "Selective execution: the earlier execution of this pipeline to take the steps that are not selected from (with --steps).")
    var from: String?

    @Option(help: "Selective execution: only these steps run, A,B,… (with --from); the steps upstream of them are taken from that execution.")
    var steps: String?

    @OptionGroup var local: LocalWorkerOptions
    @OptionGroup var home: HomeOptions
    @OptionGroup var connection: ClusterConnection

    func validate() throws {
        guard (from == nil) == (steps == nil) else { throw ValidationError("Selective execution takes both --from EXECUTION_ID and --steps A,B.") }
        if connection.coordinator != nil {
            guard file != nil else { throw ValidationError("With --coordinator, give a definition file.") }
            guard from == nil else { throw ValidationError("Selective execution (--from, --steps) runs in local mode only for now.") }
            guard policy == nil else { throw ValidationError("With --coordinator, the coordinator's own --policy applies.") }
        }
        guard (file == nil) != (pipeline == nil) else { throw ValidationError("Give a definition file or --pipeline NAME[@VERSION], not both.") }
        do { try Tags.validate(try Labels.pairs(tags), source: "--tags") } catch let error as Tags.Invalid { throw ValidationError(error.description) }
        if let maxParallelSteps, maxParallelSteps < 1 { throw ValidationError("--max-parallel-steps must be at least 1.") }
        for parameter in parameters where !parameter.contains("=") {
            throw ValidationError("--param takes Name=Value; got '\(parameter)'.")
        }
    }

    func run() throws {
        if let client = try connection.client() { return try runRemotely(client) }
        let loadedPolicy: Policy?
        do { loadedPolicy = try policy.map(Policy.load) } catch { throw CommandFailure(error.description) }
        let store = try home.open()
        var request: ExecutionRequest
        if let pipeline {
            request = ExecutionRequest(source: try ExecutionRequest.registered(pipeline), pipelineName: pipelineName)
        } else {
            request = ExecutionRequest(source: .document(try DefinitionFile.read(file!), label: file!), pipelineName: pipelineName)
        }
        request.parameters = try parameters.map(ExecutionRequest.parameter)
        request.tags = try Labels.pairs(tags)
        request.maxParallelSteps = maxParallelSteps
        request.maxLogBytes = local.maxLogMib << 20
        request.policy = loadedPolicy
        if let from, let steps {
            request.selection = ExecutionRunner.Selection(sourceExecutionId: from, steps: steps.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        let resolved: ExecutionRequest.Resolved
        do {
            resolved = try request.resolve(in: store)
        } catch let refused as ExecutionRequest.Refused {
            for problem in refused.problems { printError(problem) }
            throw ExitCode(1)
        }
        let record = try local.serve(store) { service, progress in
            try service.start(definition: resolved.definition, graph: resolved.graph, options: resolved.options, progress: progress)
        }
        if record.status != .succeeded { throw ExitCode(1) }
    }
}

/// The running `shoal` binary, which local mode starts again as workers.
func ownExecutable() throws -> String {
    let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    return path
}

/// Ctrl-C asks the execution to stop instead of killing the coordinator.
enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        // A parent may have started us with these signals blocked (threads of a
        // test runner do); a daemon must hear them.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &signals, nil)
        signal(SIGINT) { _ in Interrupt.flag = 1 }
        signal(SIGTERM) { _ in Interrupt.flag = 1 }
    }
}

extension RunCommand {
    /// How long a client following an execution waits for a silent coordinator to come back.
    static let coordinatorWait: TimeInterval = 300

    /// Submits the definition to a running coordinator and follows the execution there.
    func runRemotely(_ client: CoordinatorClient) throws {
        let data = try DefinitionFile.read(file!)
        let check = DefinitionCheck.check(data: data)
        guard check.isValid else {
            for line in check.lines(source: file!) { printError(line) }
            throw ExitCode(1)
        }
        let submission = ApiMessage.Submission(
            definition: String(decoding: data, as: UTF8.self),
            pipelineName: pipelineName ?? URL(fileURLWithPath: file!).deletingPathExtension().lastPathComponent,
            parameters: try parameters.map(ExecutionRequest.parameter),
            tags: try Labels.pairs(tags).map { ($0.key, $0.value) }, maxParallelSteps: maxParallelSteps
        )
        let reply: ApiMessage
        do { reply = try client.request(.submit(submission)) } catch { throw CommandFailure("\(error)") }
        guard case let .submitted(id) = reply else { throw CommandFailure("unexpected reply from the coordinator") }
        let printer = ProgressPrinter()
        printer.show(.started(executionId: id, pipeline: submission.pipelineName, steps: 0))
        Interrupt.install()
        var seen: [String: StepStatus] = [:]
        var stopSent = false
        var fingerprint: String?
        var silentSince: Date?
        while true {
            if Interrupt.requested && !stopSent {
                stopSent = true
                _ = try? client.request(.stop(executionId: id))
            }
            // The coordinator answers as soon as something changed (or after a while unchanged).
            let reply: ApiMessage
            do {
                // A watch is answered within ApiMessage.watchWait: silence well past it means the coordinator is gone.
                reply = try client.request(.watch(.init(executionId: id, seen: fingerprint)), timeout: ApiMessage.watchWait + 3)
                silentSince = nil
            } catch let silent as CoordinatorClient.Unreachable {
                // A restarted coordinator resumes its executions: wait for it, within a bound.
                let since = silentSince ?? Date()
                if silentSince == nil { printError("shoal run: \(silent); waiting up to \(Int(Self.coordinatorWait / 60)) minutes for it to come back (Ctrl-C stops waiting)") }
                silentSince = since
                guard Date().timeIntervalSince(since) < Self.coordinatorWait, !Interrupt.requested else {
                    throw CommandFailure("the coordinator at \(client.endpoint) did not come back; execution \(id) may still run there")
                }
                continue
            }
            guard case let .execution(status) = reply else {
                throw CommandFailure("unexpected reply from the coordinator")
            }
            // Unchanged: the wait ran out, or a busy coordinator answered at once; don't spin.
            if status.fingerprint == fingerprint { usleep(100_000) }
            fingerprint = status.fingerprint
            for step in status.steps {
                guard let stepStatus = StepStatus(rawValue: step.status) else {
                    throw CommandFailure("the coordinator reported step \(step.name) as '\(step.status.prefix(32))', which is no step status")
                }
                guard seen[step.name] != stepStatus && stepStatus != .pending else { continue }
                seen[step.name] = stepStatus
                printer.show(.step(name: step.name, type: step.type, status: stepStatus, detail: step.failureReason))
            }
            guard let executionStatus = ExecutionStatus(rawValue: status.status) else {
                throw CommandFailure("the coordinator reported execution \(id) as '\(status.status.prefix(32))', which is no execution status")
            }
            if !executionStatus.isRunning {
                guard executionStatus == .succeeded else {
                    printError("execution \(id) \(executionStatus.rawValue)" + (status.failureReason.map { ": \($0)" } ?? ""))
                    throw ExitCode(1)
                }
                print("execution \(id) \(executionStatus.rawValue)")
                return
            }
        }
    }
}
