import Foundation
import ShoalTestSupport
import Testing

/// `shoal serve --tls-cert --tls-key` on 127.0.0.2 (not the loopback address
/// the endpoint trusts without TLS): boto3 through a self-signed certificate
/// given as a CA bundle, the same certificate trusted by a job and a handler
/// calling the endpoint, and the console's token and Secure cookie over HTTPS.
@Suite(.serialized) struct TLSEndpointTests {
    @Test func theEndpointAndTheConsoleServeHTTPSOffLoopback() throws {
        try #require(FileManager.default.isExecutableFile(atPath: AWSEndpointTests.python.path), "no \(AWSEndpointTests.python.path): run scripts/setup.sh")
        let home = try TemporaryHome()
        let cert = home.url.appendingPathComponent("cert.pem").path, key = home.url.appendingPathComponent("key.pem").path
        let made = try ShoalProcess.run(executable: URL(fileURLWithPath: "/usr/bin/openssl"), [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=shoal-test",
            "-addext", "subjectAltName=IP:127.0.0.2",
        ], environment: [:], timeout: 60)
        #expect(made.status == 0, "\(made.stderr)")

        // Off loopback without TLS, the server refuses to start unless told --insecure.
        let plain = try home.shoal(["serve", "--bind", "127.0.0.2:0", "--workers", "1"])
        #expect(plain.status != 0)
        #expect(plain.stderr.contains("--tls-cert"), "\(plain.stderr)")
        let halfway = try home.shoal(["serve", "--bind", "127.0.0.2:0", "--tls-cert", cert])
        #expect(halfway.stderr.contains("--tls-cert and --tls-key go together"), "\(halfway.stderr)")

        #expect(try home.shoal(["credentials", "create", "me"]).status == 0)
        let log = home.url.appendingPathComponent("serve.txt")
        // Unsandboxed, so a job can run the test's Python (with boto3) to call the endpoint from inside.
        let serve = try home.start(
            ["serve", "--bind", "127.0.0.2:0", "--workers", "1", "--unsandboxed", "--tls-cert", cert, "--tls-key", key], standardError: log
        )
        defer {
            kill(serve.processIdentifier, SIGINT)
            serve.waitUntilExit()
        }
        var url: String?
        let deadline = Date().addingTimeInterval(30)
        while url == nil && Date() < deadline && serve.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            url = text.range(of: "https://127\\.0\\.0\\.2:[0-9]+", options: .regularExpression).map { String(text[$0]) }
            usleep(20_000)
        }
        let endpoint = try #require(url, "no https endpoint in: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let env = try home.shoal(["env", "--credential", "me", "--endpoint", endpoint, "--ca-bundle", cert])
        var environment: [String: String] = [:]
        for line in env.stdout.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            environment[String(pair[0])] = String(pair[1]).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
        #expect(environment["AWS_CA_BUNDLE"] == cert)
        environment["CONSOLE_TOKEN"] = try home.shoal(["console", "token"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let script = Fixtures.repositoryRoot.appendingPathComponent("Tests/python/tls_test.py").path
        let outcome = try ShoalProcess.run(executable: AWSEndpointTests.python, [script], environment: environment, timeout: 120)
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(outcome.stderr.contains("Ran 5 tests"), "\(outcome.stderr)")
    }
}
