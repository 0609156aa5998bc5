import ArgumentParser
import Foundation
import ShoalCluster
import ShoalRuntime
import ZeroMQ

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker that takes job instances from a coordinator.",
        discussion: """
            `shoal run` starts its own workers; this command is what it runs. A worker
            exits when the coordinator tells it to or has been silent for the
            liveness window, killing every job it still runs.

            Example:
              shoal worker --connect ipc:///tmp/shoal-x/coordinator.sock --slots 2 --work-dir /var/lib/shoal/work
            """
    )

    @Option(help: "The coordinator's endpoint (ipc://… or tcp://HOST:PORT).")
    var connect: String

    @Option(help: "How many job instances this worker runs at once.")
    var slots: Int = 1

    @Option(help: "A folder for sandboxes and logs.")
    var workDir: String

    @Option(help: "This worker's name (default: host name and process id).")
    var id: String?

    @Option(help: "Labels steps can require, k=v,… (a step's VpcConfig.Subnets needs subnet=…).")
    var labels: String?

    @Flag(help: "Keep running when the coordinator goes away, and register again (with backoff) when it is back.")
    var reconnect = false

    @Option(help: "With --reconnect: seconds its running jobs are kept, when the coordinator goes away, for a restarted one to take back (0: stopped at once).")
    var holdJobs: Double = 60

    @Flag(help: "This host cannot see the coordinator's home: fetch inputs and send outputs over the connection (CRC-checked chunks).")
    var fetchData = false

    @Option(help: "With --fetch-data: MiB of fetched inputs kept for later instances that read the same objects (0: none).")
    var inputCacheMib = 2048

    @Option(help: "With --fetch-data: MiB of finished tasks' input files kept to be written over by later fetches, faster than new files (0: none).")
    var recycleMib = 1024

    @Option(help: "The coordinator's public key file (turns CURVE on).")
    var serverKey: String?

    @Option(help: "This worker's secret key file (from shoal keys generate).")
    var key: String?

    @Option(help: "The unprivileged user jobs run as in their sandbox: a name, or UID[:GID].")
    var jobUser: String = JobUser.defaultName

    @Flag(help: "Run jobs without the sandbox, as this worker's user with the host's filesystem (where the sandbox cannot be built; each job's log and `shoal cluster status` say so).")
    var unsandboxed = false

    func validate() throws {
        guard (1...1024).contains(slots) else { throw ValidationError("--slots must be between 1 and 1024.") }
        guard (serverKey == nil) == (key == nil) else { throw ValidationError("--server-key and --key go together.") }
        guard (0...3600).contains(holdJobs) else { throw ValidationError("--hold-jobs must be between 0 and 3600 seconds.") }
        guard (0...(1 << 24)).contains(inputCacheMib) else { throw ValidationError("--input-cache-mib must be between 0 and 16777216.") }
        guard (0...(1 << 24)).contains(recycleMib) else { throw ValidationError("--recycle-mib must be between 0 and 16777216.") }
        _ = try Labels.parse(labels)
    }

    func run() throws {
        let name = id ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        var configuration = WorkerAgent.Configuration(
            endpoint: connect, workerId: name, slots: slots, workFolder: URL(fileURLWithPath: workDir), version: Shoal.version
        )
        configuration.labels = try Labels.parse(labels)
        configuration.reconnect = reconnect
        configuration.holdJobs = holdJobs
        configuration.fetchData = fetchData
        configuration.inputCacheBytes = inputCacheMib << 20
        configuration.recycledBytes = recycleMib << 20
        configuration.sandbox = unsandboxed ? .unsandboxed : SandboxMode.detect(jobUser: jobUser)
        // Said at every start, in the worker's log: what a job here can reach.
        StandardStreams.error("shoal worker \(name): sandbox: \(configuration.sandbox.summary)\n")
        if let serverKey, let key {
            configuration.curve = (try KeyFile.read(serverKey), try CurveKeyPair.derive(secretKey: try KeyFile.read(key)))
        }
        let agent = try WorkerAgent(configuration)
        if agent.sweptContainers > 0 {
            StandardStreams.error("shoal worker \(name): removed \(agent.sweptContainers) container(s) an earlier worker on \(configuration.workFolder.path) left running\n")
        }
        // SIGTERM (systemd, a test) stops the jobs and leaves cleanly.
        Interrupt.install()
        switch try agent.run(shouldStop: { Interrupt.requested }) {
        case .shutdown: return
        case .coordinatorLost:
            printError("shoal worker \(name): the coordinator at \(connect) went silent; leaving")
            throw ExitCode(3)
        case let .refused(reason):
            printError("shoal worker \(name): \(reason); leaving")
            throw ExitCode(3)
        }
    }
}

/// `k=v,k=w` lists of labels (a key may repeat) and of tags.
enum Labels {
    static func parse(_ text: String?) throws -> [String: [String]] {
        var labels: [String: [String]] = [:]
        for pair in try pairs(text) { labels[pair.key, default: []].append(pair.value) }
        return labels
    }

    static func pairs(_ text: String?) throws -> [(key: String, value: String)] {
        guard let text, !text.isEmpty else { return [] }
        return try text.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("'\(item)' is not key=value.") }
            return (String(parts[0]).trimmingCharacters(in: .whitespaces), String(parts[1]).trimmingCharacters(in: .whitespaces))
        }
    }
}
