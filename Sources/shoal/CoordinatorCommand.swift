import ArgumentParser
import Foundation
import ShoalRuntime
import ShoalCluster
import ShoalEngine
import ShoalStore
import ZeroMQ

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run a long-lived coordinator that workers join and clients submit pipelines to.",
        discussion: """
            Workers connect to --bind (`shoal worker --connect … --reconnect`); clients use
            --api (`shoal run FILE --coordinator …`, `shoal cluster status --coordinator …`).
            With --key, CURVE protects both sockets: only worker keys in --allow and client
            keys in --allow-clients (folders of .pub files) get in; refusals are logged.
            A tcp:// address without CURVE needs --insecure, loopback included (any user of
            the host could reach it); ipc:// needs neither. SIGTERM or Ctrl-C stops
            the executions still running and leaves the workers up.

            Workers that see the coordinator's home (same host or shared storage) read and
            write it directly; workers started with --fetch-data receive inputs and send
            outputs over the connection instead.

            Example:
              shoal coordinator --bind tcp://0.0.0.0:7000 --api tcp://0.0.0.0:7001 --home /var/lib/shoal \\
                --key keys/coordinator.key --allow keys/workers --allow-clients keys/clients
            """
    )

    @Option(help: "Where workers connect (tcp://ADDR:PORT).") var bind: String
    @Option(help: "Where clients connect (tcp://ADDR:PORT).") var api: String
    @Option(help: "The coordinator's secret key file (turns CURVE on).") var key: String?
    @Option(help: "A folder of worker public keys (.pub) allowed to join.") var allow: String?
    @Option(help: "A folder of client public keys (.pub) allowed to use the API.") var allowClients: String?
    @Flag(help: "Run without CURVE on a tcp:// address (loopback included): anyone who can connect may join and submit.") var insecure = false
    @Option(help: "Seconds of silence after which a worker is lost.") var liveness: Double = 3
    @Option(help: "After a restart, seconds the executions it carries on wait for workers to report the instances that outlived it (0: all run again).")
    var reattachSeconds: Double = 10
    @Option(help: "A policy file checked before every execution and job, and every endpoint request with --http (the credential's name as aws:username).") var policy: String?
    @Option(help: "Each job instance's log keeps at most this many MiB of its output.") var maxLogMib = JobLogFile.defaultCapBytes >> 20
    @Option(help: "Also serve the AWS-compatible endpoint and the console (as `shoal serve` does) on HOST:PORT; clients sign with `shoal credentials` keys.") var http: String?
    @OptionGroup var tls: TLSOptions
    @OptionGroup var home: HomeOptions

    func validate() throws {
        if key != nil && (allow == nil || allowClients == nil) { throw ValidationError("--key needs --allow and --allow-clients.") }
        if let http { try EndpointThread.checkPlainText(http, insecure: insecure, tls: tls, flag: "--http") }
        // A loopback port is open to every user of the host, and without keys an
        // unauthenticated peer can also grow the coordinator's memory with a
        // multipart message it never finishes (libzmq bounds each frame, not their number).
        let hostOnly = [bind, api].allSatisfy { $0.hasPrefix("ipc://") || $0.hasPrefix("inproc://") }
        if key == nil && !hostOnly && !insecure {
            throw ValidationError("\(bind) and \(api) accept anyone who can connect (on loopback, any user of this host): give --key with --allow and --allow-clients, or --insecure.")
        }
        guard liveness >= 0.5 && liveness <= 600 else { throw ValidationError("--liveness must be between 0.5 and 600 seconds.") }
        guard reattachSeconds >= 0 && reattachSeconds <= 600 else { throw ValidationError("--reattach-seconds must be between 0 and 600.") }
        guard (1...1_048_576).contains(maxLogMib) else { throw ValidationError("--max-log-mib must be between 1 and 1048576.") }
    }

    func run() throws {
        let store = try home.open()
        let loadedPolicy: Policy?
        do { loadedPolicy = try policy.map(Policy.load) } catch { throw CommandFailure(error.description) }
        var workerSecurity: CoordinatorEndpoint.Security?
        var clientSecurity: CoordinatorEndpoint.Security?
        var ownKeys: CurveKeyPair?
        if let key, let allow, let allowClients {
            let keys = try CurveKeyPair.derive(secretKey: try KeyFile.read(key))
            ownKeys = keys
            workerSecurity = .init(keys: keys, allowedKeys: try Self.keys(in: allow))
            // The endpoint's requests come from this process, signed with the coordinator's own key.
            clientSecurity = .init(keys: keys, allowedKeys: try Self.keys(in: allowClients).union(http == nil ? [] : [keys.publicKey]))
        } else if insecure {
            printError("shoal coordinator: warning: running without CURVE; anyone who can reach \(bind) and \(api) can join and submit")
        }
        let log: @Sendable (String) -> Void = { line in
            StandardStreams.error("\(Identifiers.timestamp(Date())) \(line)\n")
        }
        let workers = try CoordinatorEndpoint(bind: bind, context: try Context(), security: workerSecurity, liveness: liveness, diagnostics: log)
        workers.transfers = TransferServer(
            servedRoots: [store.objects.root, store.functionsFolder], stagingRoot: try store.objects.stagingFolder(), objectVersion: ObjectStore.version
        )
        let clients = try ApiEndpoint(bind: api, security: clientSecurity, diagnostics: log)
        log("coordinator: workers on \(workers.endpoint), clients on \(clients.endpoint), home \(store.root.path)")
        Interrupt.install()
        let service = CoordinatorService(home: store, workers: workers, api: clients, policy: loadedPolicy, maxLogBytes: maxLogMib << 20, log: log)
        var endpoint: EndpointThread?
        if let http {
            // Its own API socket, reached on loopback when it listens on every address.
            let local = clients.endpoint.replacingOccurrences(of: "://0.0.0.0:", with: "://127.0.0.1:").replacingOccurrences(of: "://*:", with: "://127.0.0.1:")
            let pool = CoordinatorClientPool(endpoint: local, curve: ownKeys.map { (serverKey: $0.publicKey, keys: $0) })
            endpoint = try EndpointThread.start(home: store, coordinator: pool, address: http, tls: tls, policy: loadedPolicy)
            // Jobs on other hosts reach it by this host's name when it listens on every address.
            let url = try EndpointThread.url(http, port: endpoint!.port, tls: tls, everyAddress: ProcessInfo.processInfo.hostName)
            log("coordinator: AWS-compatible endpoint on \(url), console \(url)/console/")
            service.endpointURL = url
            service.endpointCABundle = try tls.caBundleForJobs()
        }
        defer { endpoint?.stop() }
        // What this coordinator ran when it died (killed, crashed, a host reboot) carries on, under the endpoint set above.
        _ = try service.adoptOrphans(reattachWindow: reattachSeconds)
        try service.run { Interrupt.requested || endpoint?.failure != nil }
        if let reason = endpoint?.failure { log("coordinator: the endpoint stopped: \(reason)") }
        log("coordinator: stopped")
    }

    /// Every key in the .pub files of a folder.
    static func keys(in folder: String) throws -> Set<String> {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { throw CommandFailure("\(folder): no such folder") }
        return Set(try names.filter { $0.hasSuffix(".pub") }.map { try KeyFile.read(folder + "/" + $0) })
    }
}

/// `--coordinator` and the keys to reach it, for commands that talk to a running coordinator.
struct ClusterConnection: ParsableArguments {
    @Option(help: "A running coordinator's API address (tcp://HOST:PORT).") var coordinator: String?
    @Option(name: .customLong("server-key"), help: "The coordinator's public key file (CURVE).") var serverKey: String?
    @Option(name: .customLong("client-key"), help: "This client's secret key file (CURVE).") var clientKey: String?

    func client() throws -> CoordinatorClient? {
        guard let coordinator else { return nil }
        guard (serverKey == nil) == (clientKey == nil) else { throw CommandFailure("--server-key and --client-key go together") }
        var curve: (serverKey: String, keys: CurveKeyPair)?
        if let serverKey, let clientKey {
            curve = (try KeyFile.read(serverKey), try CurveKeyPair.derive(secretKey: try KeyFile.read(clientKey)))
        }
        return try CoordinatorClient(endpoint: coordinator, curve: curve)
    }
}

struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Inspect a running coordinator's cluster.",
        subcommands: [Status.self]
    )

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List workers: host, slots, busy, labels, last heartbeat, version, how jobs are sandboxed.")
        @OptionGroup var connection: ClusterConnection
        @OptionGroup var output: TableOutputOptions

        func run() throws {
            guard let client = try connection.client() else { throw CommandFailure("give --coordinator tcp://HOST:PORT") }
            guard case let .workers(workers) = try client.request(.clusterStatus) else { throw CommandFailure("unexpected reply") }
            try output.emit(
                header: ["WORKER", "HOST", "SLOTS", "BUSY", "LABELS", "LAST HEARTBEAT", "VERSION", "SANDBOX"],
                rows: workers.map { worker in
                    let labels = worker.labels.sorted { $0.key < $1.key }.flatMap { key, values in values.map { "\(key)=\($0)" } }.joined(separator: ",")
                    return [worker.id, worker.host, "\(worker.slots)", "\(worker.busy)", labels, Formatting.time(worker.lastHeartbeat), worker.version, worker.sandbox ?? "-"]
                },
                json: workers
            )
        }
    }
}
