import ArgumentParser
import Foundation
import Metrics
import ShoalCluster
import ShoalConsole
import ShoalEngine
import ShoalHTTP
import ShoalStore

/// The AWS-compatible endpoint, with the console and `/metrics` on the same
/// port, served beside a coordinator's loop, which stays on the command's
/// thread (`shoal serve`, `shoal coordinator --http`).
final class EndpointThread: @unchecked Sendable {
    private let lock = NSLock()
    private var reason: String?
    private var bound = 0
    private var task: _Concurrency.Task<Void, Never>?

    /// Starts the server and returns once it listens (its port), or throws why it could not.
    static func start(home: ShoalHome, coordinator: CoordinatorClientPool, address: String, tls: TLSOptions, policy: Policy?) throws -> EndpointThread {
        let (host, port) = try Self.address(address)
        let console: ConsoleServer
        do {
            console = try ConsoleServer(home: home, coordinator: coordinator, bindHost: host, secure: tls.files != nil)
        } catch {
            throw CommandFailure("the console cannot start: \(error)")
        }
        // The engine in this process counts into the console's registry.
        MetricsSystem.bootstrap(console.metrics.factory)
        let server = EndpointServer(home: home, coordinator: coordinator, host: host, port: port, tls: tls.files, policy: policy, pages: { await console.page(for: $0) })
        let thread = EndpointThread()
        let ready = DispatchSemaphore(value: 0)
        thread.task = _Concurrency.Task.detached {
            do {
                try await server.run(ready: { bound in
                    thread.lock.withLock { thread.bound = bound }
                    ready.signal()
                })
            } catch {
                thread.lock.withLock { thread.reason = "\(error)" }
                ready.signal()
            }
        }
        guard ready.wait(timeout: .now() + 30) == .success, thread.failure == nil else {
            thread.stop()
            throw CommandFailure("the endpoint could not listen on \(address): \(thread.failure ?? "it did not start within 30 s")")
        }
        return thread
    }

    var port: Int { lock.withLock { bound } }
    /// Why the server stopped, once it did.
    var failure: String? { lock.withLock { reason } }

    func stop() { task?.cancel() }

    /// `HOST:PORT` (port 0: any free one).
    static func address(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw ValidationError("an HTTP address is HOST:PORT; got '\(text)'.")
        }
        return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    /// Without TLS, only loopback unless the user says otherwise.
    static func checkPlainText(_ address: String, insecure: Bool, tls: TLSOptions, flag: String) throws {
        let (host, _) = try Self.address(address)
        guard insecure || tls.files != nil || ["127.0.0.1", "localhost", "::1"].contains(host) else {
            throw ValidationError("\(flag) \(address) is not a loopback address; serve it with --tls-cert and --tls-key, or say --insecure to send everything in the clear.")
        }
    }

    /// `http://` or `https://`, the host clients use (this host's name when it listens on every address), the port.
    static func url(_ address: String, port: Int, tls: TLSOptions, everyAddress: String) throws -> String {
        let host = try Self.address(address).host
        return "\(tls.files == nil ? "http" : "https")://\(host == "0.0.0.0" ? everyAddress : host):\(port)"
    }
}

/// `--tls-cert` and `--tls-key`: the endpoint and the console over HTTPS.
struct TLSOptions: ParsableArguments {
    @Option(help: "A PEM certificate chain: the endpoint and the console answer HTTPS only (needs --tls-key).") var tlsCert: String?
    @Option(help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: ArgumentHelp(
        "PEM certificates jobs and Lambda handlers check the endpoint's certificate with (their AWS_CA_BUNDLE).",
        discussion: "Default: --tls-cert itself, right for a self-signed certificate; for one a CA signed, give that CA's certificate (or the system's bundle)."
    )) var tlsCaBundle: String?

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together.") }
        if tlsCaBundle != nil && tlsCert == nil { throw ValidationError("--tls-ca-bundle goes with --tls-cert.") }
    }

    /// What jobs and handlers trust the endpoint with, read once at start: nil without TLS.
    func caBundleForJobs() throws -> String? {
        guard let path = tlsCaBundle ?? tlsCert else { return nil }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CommandFailure("cannot read \(tlsCaBundle == nil ? "--tls-cert" : "--tls-ca-bundle") \(path): \(error.localizedDescription)")
        }
        guard text.contains("-----BEGIN CERTIFICATE-----"), text.utf8.count <= 1 << 20 else {
            throw CommandFailure("\(path) holds no PEM certificate (or is over 1 MiB)")
        }
        return text
    }

    var files: EndpointServer.TLSFiles? { tlsCert.flatMap { cert in tlsKey.map { EndpointServer.TLSFiles(certificate: cert, key: $0) } } }
}
