import ArgumentParser
import Foundation
import ShoalEngine
import ShoalHTTP
import ShoalStore

/// `shoal serve`: the embedded default — a coordinator, local workers, and the
/// AWS-compatible endpoint the SageMaker SDK, boto3 and the AWS CLI talk to.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the AWS-compatible endpoint (SageMaker, STS, IAM) with a coordinator and local workers.",
        discussion: """
            Clients sign their requests with a key pair from `shoal credentials create NAME`;
            `shoal env --credential NAME` prints the variables a client needs. Executions
            started through the endpoint run on this process's workers, as `shoal run`'s do.
            Ctrl-C stops the running executions and the server.

            Example:
              shoal serve --workers 4 &
              eval "$(shoal env --credential me)"; python3 my_pipeline.py
            """
    )
    @Option(help: "HOST:PORT the endpoint listens on.") var bind = "127.0.0.1:9494"
    @Flag(help: "Listen on an address that is not loopback without TLS (TLS is not built yet): anyone who can reach it sees the traffic.") var insecure = false
    @OptionGroup var local: LocalWorkerOptions
    @OptionGroup var home: HomeOptions

    func validate() throws {
        let (host, port) = try Self.address(bind)
        guard (0...65_535).contains(port) else { throw ValidationError("--bind: the port must be between 0 (any free one) and 65535.") }
        guard insecure || ["127.0.0.1", "localhost", "::1"].contains(host) else {
            throw ValidationError("--bind \(bind) is not a loopback address; without TLS that needs --insecure.")
        }
    }

    static func address(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw ValidationError("--bind takes HOST:PORT; got '\(text)'.")
        }
        return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    func run() throws {
        let store = try home.open()
        let (host, port) = try Self.address(bind)
        let cluster = try LocalCluster(home: store, workers: local.workers, executable: try ownExecutable(), labels: local.workerLabels,
            sandbox: local.unsandboxed ? .unsandboxed : .automatic(jobUser: local.jobUser)
        )
        if let warning = cluster.sandboxWarning { printError(warning) }
        defer { cluster.shutdown() }
        let service = CoordinatorService(
            home: store, workers: cluster.endpoint, api: cluster.api, policy: nil, maxLogBytes: local.maxLogMib << 20,
            log: { printError("shoal serve: \($0)") }
        )
        let server = EndpointServer(home: store, coordinator: cluster.api.endpoint, host: host, port: port)
        let ready = DispatchSemaphore(value: 0)
        let failure = ServerFailure()
        let task = Task.detached {
            do {
                try await server.run(ready: { bound in
                    failure.port = bound
                    ready.signal()
                })
            } catch {
                failure.set("\(error)")
                ready.signal()
            }
        }
        defer { task.cancel() }
        guard ready.wait(timeout: .now() + 30) == .success, failure.get() == nil else {
            throw CommandFailure("the endpoint could not listen on \(bind): \(failure.get() ?? "it did not start within 30 s")")
        }
        printError("shoal serve: endpoint http://\(host):\(failure.port) (sagemaker, sts, iam), \(local.workers) local workers, home \(store.root.path)")
        Interrupt.install()
        try service.run {
            for id in cluster.replaceExitedWorkers() { printError("shoal serve: worker \(id) exited; started another in its place") }
            return Interrupt.requested || failure.get() != nil
        }
        if let reason = failure.get() { throw CommandFailure("the endpoint stopped: \(reason)") }
    }
}

/// What the server task reports to the command's thread.
final class ServerFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var reason: String?
    private var bound = 0

    var port: Int {
        get { lock.withLock { bound } }
        set { lock.withLock { bound = newValue } }
    }

    func set(_ text: String) { lock.withLock { reason = text } }
    func get() -> String? { lock.withLock { reason } }
}
