import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener outside any job (on 127.0.0.1 unless told), closed when released.
final class LoopbackListener {
    let port: UInt16
    private let descriptor: Int32

    init(host: String = "127.0.0.1") throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && listen(descriptor, 16) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        port = bound ? UInt16(bigEndian: address.sin_port) : 0
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
    }

    deinit { close(descriptor) }

    /// This host's first IPv4 address that is not loopback: reachable from a
    /// job that shares the host's network, not from an isolated one.
    static func hostAddress() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var entry = list
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            let text = String(cString: inet_ntoa(ipv4))
            if !text.hasPrefix("127.") { return text }
        }
        return nil
    }
}

@Suite(.serialized) struct NetworkIsolationTests {
    /// Tries the coordinator's socket, a loopback service outside the job and an
    /// external address, and records what happened next to a copy of its input.
    static let probe = """
        import glob, json, socket
        def attempt(family, address):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                s.connect(address)
                return "connected"
            except OSError as error:
                return "failed: " + type(error).__name__
            finally:
                s.close()
        # Other runs may have coordinators too (tests run side by side): any one reached counts.
        tries = [attempt(socket.AF_UNIX, path) for path in glob.glob("/tmp/shoal-*/coordinator.sock")]
        result = {
            "coordinator": "connected" if "connected" in tries else (tries[0] if tries else "failed: not visible"),
            "loopback": attempt(socket.AF_INET, ("127.0.0.1", int(open("/opt/ml/processing/input/code/port").read()))),
            "external": attempt(socket.AF_INET, tuple(json.load(open("/opt/ml/processing/input/code/external")))),
            "input": open("/opt/ml/processing/input/code/port").read(),
        }
        json.dump(result, open("/opt/ml/processing/out/result.json", "w"))
        """

    func run(isolated: Bool) throws -> (ShoalProcess.Outcome, [String: String]?) {
        let listener = try LoopbackListener()
        let outside = try LoopbackListener(host: "0.0.0.0")
        let hostAddress = try #require(LoopbackListener.hostAddress(), "this host has no IPv4 address but loopback")
        let home = try TemporaryHome()
        #expect(try home.shoal(["cp", try home.file("external", "[\"\(hostAddress)\", \(outside.port)]"), "s3://b/code/external"]).status == 0)
        #expect(try home.shoal(["cp", try home.file("probe.py", Self.probe), "s3://b/code/probe.py"]).status == 0)
        #expect(try home.shoal(["cp", try home.file("port", "\(listener.port)"), "s3://b/code/port"]).status == 0)
        var arguments = ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 1, imageUri: "python",
            entrypoint: ["python3", "/opt/ml/processing/input/code/probe.py"], roleArn: "arn:aws:iam::1:role/R",
            inputs: [ProcessingInput(inputName: "code", s3Input: S3Input(s3Uri: "s3://b/code/", localPath: "/opt/ml/processing/input/code"))],
            outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/out", localPath: "/opt/ml/processing/out"))]
        )
        arguments.networkConfig = NetworkConfig(enableNetworkIsolation: .bool(isolated))
        let path = try home.file("p.json", PipelineDefinition { Step.processing("Probe", arguments: arguments) }.jsonText())
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        let result = try? JSONSerialization.jsonObject(with: Data(contentsOf: home.url.appendingPathComponent("objects/b/out/result.json"))) as? [String: String]
        return (outcome, result)
    }

    @Test func isolatedJobReachesNothingButItsInputsAndOutputsFlow() throws {
        guard geteuid() == 0 else {
            // Without namespaces the step must fail closed, never run unisolated.
            let (outcome, result) = try run(isolated: true)
            #expect(outcome.status == 1)
            #expect(outcome.stderr.contains("without network namespaces; the job was not started"))
            #expect(result == nil)
            return
        }
        let (outcome, result) = try run(isolated: true)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let probe = try #require(result)
        #expect(probe["coordinator"]?.hasPrefix("failed") == true)
        #expect(probe["loopback"]?.hasPrefix("failed") == true)
        #expect(probe["external"]?.hasPrefix("failed") == true)
        #expect(probe["input"]?.isEmpty == false, "the input was staged")
    }

    /// Without isolation the network is the host's; the coordinator's unix
    /// socket stays out of reach in the sandbox (its /tmp is the job's own).
    @Test func withoutIsolationTheSameJobReachesLoopbackButTheCoordinatorsSocketOnlyUnsandboxed() throws {
        let (outcome, result) = try run(isolated: false)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let probe = try #require(result)
        if geteuid() == 0 {
            #expect(probe["coordinator"]?.hasPrefix("failed") == true, "\(probe)")
        } else {
            #expect(probe["coordinator"] == "connected")
        }
        #expect(probe["loopback"] == "connected")
        #expect(probe["external"] == "connected", "the host's own address is reachable without isolation, so its failure above means something")
    }
}
