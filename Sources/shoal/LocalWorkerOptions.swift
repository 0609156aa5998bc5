import ArgumentParser
import Foundation
import ShoalEngine
import ShoalStore

/// Local mode's workers, for `shoal run` and `shoal executions resume`, and
/// the loop that serves one execution on them until it ends.
struct LocalWorkerOptions: ParsableArguments {
    @Option(help: "Worker processes to start (default: the number of cores).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Labels for the local workers, k=v,… (a step's VpcConfig.Subnets runs only on workers with a matching subnet=…).")
    var workerLabels: String?

    @Option(help: "As root: the unprivileged user jobs run as in their sandbox, a name or UID[:GID] (default: shoal-job).")
    var jobUser: String?

    @Flag(help: "Run jobs without the sandbox, as this user with the host's filesystem (what happens anyway, with a warning, when a user who is not root cannot build even the rootless sandbox).")
    var unsandboxed = false

    @Option(help: "Each job instance's log keeps at most this many MiB of its output; a line marks the cut.")
    var maxLogMib = JobLogFile.defaultCapBytes >> 20

    func validate() throws {
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be between 1 and 256.") }
        _ = try Labels.parse(workerLabels)
        guard (1...1_048_576).contains(maxLogMib) else { throw ValidationError("--max-log-mib must be between 1 and 1048576.") }
    }

    /// Starts the workers, lets `start` begin (or resume) an execution on a
    /// coordinator service of their own, serves it to its end with progress
    /// lines (Ctrl-C stops it), prints the summary and returns its record.
    func serve(_ store: ShoalHome, start: (CoordinatorService, @escaping (ProgressEvent) -> Void) throws -> String) throws -> ExecutionRecord {
        let cluster = try LocalCluster(home: store, workers: workers, executable: try ownExecutable(), labels: workerLabels,
            sandbox: unsandboxed ? .unsandboxed : .automatic(jobUser: jobUser)
        )
        if let warning = cluster.sandboxWarning { printError(warning) }
        defer { cluster.shutdown() }
        let printer = ProgressPrinter()
        // The same service a coordinator runs, serving this one execution; `shoal stop` reaches it on cluster.api.
        let service = CoordinatorService(home: store, workers: cluster.endpoint, api: cluster.api, policy: nil, log: { _ in })
        let id = try start(service, printer.show)
        Interrupt.install()
        var stopAsked = false
        try service.run {
            for id in cluster.replaceExitedWorkers() { printError("shoal: worker \(id) exited; started another in its place") }
            if Interrupt.requested && !stopAsked {
                stopAsked = true
                try? service.requestStop(executionId: id)
            }
            return service.isIdle
        }
        guard let record = try store.metadata.execution(id: id) else { throw CommandFailure("execution \(id) is no longer recorded") }
        printer.summary(record, steps: (try? store.metadata.steps(executionId: record.id)) ?? [])
        return record
    }
}
