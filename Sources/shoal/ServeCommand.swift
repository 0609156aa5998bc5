import ArgumentParser
import Foundation
import ShoalEngine
import ShoalCluster
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
    @Flag(help: "Listen on an address that is not loopback without TLS: anyone who can reach it sees the traffic.") var insecure = false
    @OptionGroup var tls: TLSOptions
    @Option(help: "A policy file: IAM-style Deny statements checked on every endpoint request (the credential's name as aws:username) and before every execution and job.") var policy: String?
    @OptionGroup var local: LocalWorkerOptions
    @OptionGroup var home: HomeOptions

    func validate() throws {
        try EndpointThread.checkPlainText(bind, insecure: insecure, tls: tls, flag: "--bind")
    }

    func run() throws {
        let store = try home.open()
        let cluster = try LocalCluster(home: store, workers: local.workers, executable: try ownExecutable(), labels: local.workerLabels,
            sandbox: local.unsandboxed ? .unsandboxed : .automatic(jobUser: local.jobUser)
        )
        if let warning = cluster.sandboxWarning { printError(warning) }
        defer { cluster.shutdown() }
        let loadedPolicy: Policy?
        do { loadedPolicy = try policy.map(Policy.load) } catch { throw CommandFailure(error.description) }
        let service = CoordinatorService(
            home: store, workers: cluster.endpoint, api: cluster.api, policy: loadedPolicy, maxLogBytes: local.maxLogMib << 20,
            log: { printError("shoal serve: \($0)") }
        )
        let endpoint = try EndpointThread.start(home: store, coordinator: CoordinatorClientPool(endpoint: cluster.api.endpoint), address: bind, tls: tls, policy: loadedPolicy)
        defer { endpoint.stop() }
        let url = try EndpointThread.url(bind, port: endpoint.port, tls: tls, everyAddress: "127.0.0.1")
        service.endpointURL = url
        service.endpointCABundle = try tls.caBundleForJobs()
        printError("shoal serve: endpoint \(url) (sagemaker, s3, lambda, ce, sqs, sts, iam), console \(url)/console/, \(local.workers) local workers, home \(store.root.path)")
        Interrupt.install()
        try service.run {
            for id in cluster.replaceExitedWorkers() { printError("shoal serve: worker \(id) exited; started another in its place") }
            return Interrupt.requested || endpoint.failure != nil
        }
        if let reason = endpoint.failure { throw CommandFailure("the endpoint stopped: \(reason)") }
    }
}
