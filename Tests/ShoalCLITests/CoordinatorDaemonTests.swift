import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

/// A real `shoal coordinator` process with CURVE on both sockets, a real
/// `shoal worker` joining it over TCP, and clients submitting to it.
@Suite(.serialized) struct CoordinatorDaemonTests {
    static func freePort() throws -> UInt16 { try LoopbackListener().port }

    @Test func clientsSubmitToACoordinatorWhoseWorkersJoinedWithKeys() throws {
        let home = try TemporaryHome()
        let keys = home.url.appendingPathComponent("keys").path
        for (name, folder) in [("coordinator", ""), ("worker-1", "/workers"), ("client", "/clients")] {
            #expect(try home.shoal(["keys", "generate", name, "--dir", keys + folder]).status == 0)
        }
        let bind = "tcp://127.0.0.1:\(try Self.freePort())"
        let api = "tcp://127.0.0.1:\(try Self.freePort())"
        let coordinator = try home.start([
            "coordinator", "--bind", bind, "--api", api, "--key", keys + "/coordinator.key",
            "--allow", keys + "/workers", "--allow-clients", keys + "/clients",
        ])
        defer { coordinator.terminate(); coordinator.waitUntilExit() }
        let worker = try home.start([
            "worker", "--connect", bind, "--id", "worker-1", "--slots", "2", "--reconnect", "--labels", "zone=a",
            "--work-dir", home.url.appendingPathComponent("work").path,
            "--server-key", keys + "/coordinator.pub", "--key", keys + "/workers/worker-1.key",
        ])
        defer { worker.terminate(); worker.waitUntilExit() }
        let client = ["--coordinator", api, "--server-key", keys + "/coordinator.pub", "--client-key", keys + "/clients/client.key"]

        var workers: [[String: Any]] = []
        for _ in 0..<50 where workers.isEmpty {
            usleep(100_000)
            workers = (try? home.json(["cluster", "status"] + client) as? [[String: Any]]) ?? []
        }
        #expect(workers.first?["id"] as? String == "worker-1")
        #expect(workers.first?["slots"] as? Int == 2)
        #expect((workers.first?["labels"] as? [String: [String]]) == ["zone": ["a"]])
        // How the worker isolates jobs is part of its status.
        let sandbox = workers.first?["sandbox"] as? String ?? ""
        #expect(geteuid() == 0 ? sandbox.hasPrefix("sandboxed (jobs run as shoal-job") : sandbox.hasPrefix("cannot sandbox"), "\(sandbox)")

        let definition = PipelineDefinition {
            Parameter(name: "Word", type: .string, defaultValue: "hello")
            Step.processing("Write", arguments: ProcessingArguments(
                instanceType: "ml.m5.large", instanceCount: 2, imageUri: "sh",
                entrypoint: ["/bin/sh", "-c", .join(on: "", ["echo ", .parameter("Word"), " > /opt/ml/processing/out/$(grep -o 'algo-[0-9]*' /opt/ml/config/resourceconfig.json | head -n 1).txt"])],
                roleArn: "r", outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/remote", localPath: "/opt/ml/processing/out"))]
            ))
        }
        let path = try home.file("p.json", definition.jsonText())
        let run = try home.shoal(["run", path, "--param", "Word=shoal"] + client)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("Succeeded"))
        #expect(try String(contentsOf: home.url.appendingPathComponent("objects/b/remote/algo-2.txt"), encoding: .utf8) == "shoal\n")

        let stranger = try home.shoal(["keys", "generate", "stranger", "--dir", keys])
        #expect(stranger.status == 0)
        let refused = try home.shoal(["cluster", "status", "--coordinator", api, "--server-key", keys + "/coordinator.pub", "--client-key", keys + "/stranger.key"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("did not answer"))
        let invalid = try home.shoal(["run", Fixtures.sagemaker.appendingPathComponent("invalid/cycle_depends_on.json").path] + client)
        #expect(invalid.status == 1)
    }

    @Test func anExecutionOnTheCoordinatorIsStoppedFromAClient() throws {
        let home = try TemporaryHome()
        let bind = "tcp://127.0.0.1:\(try Self.freePort())"
        let api = "tcp://127.0.0.1:\(try Self.freePort())"
        let coordinator = try home.start(["coordinator", "--bind", bind, "--api", api, "--insecure"])
        defer { coordinator.terminate(); coordinator.waitUntilExit() }
        let worker = try home.start(["worker", "--connect", bind, "--id", "w", "--reconnect", "--work-dir", home.url.appendingPathComponent("work").path])
        defer { worker.terminate(); worker.waitUntilExit() }
        let definition = PipelineDefinition {
            Step.processing("Long", arguments: ProcessingArguments(instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh", entrypoint: ["/bin/sleep", "30"], roleArn: "r"))
        }
        let client = try home.start(["run", try home.file("p.json", definition.jsonText()), "--coordinator", api])
        defer { if client.isRunning { client.terminate() } }
        var id: String?
        for _ in 0..<100 where id == nil {
            usleep(100_000)
            if let candidate = try? home.latestExecutionId(), (try? home.latestSteps().first?["status"] as? String) == "Executing" { id = candidate }
        }
        let execution = try #require(id)
        #expect(try home.shoal(["stop", execution, "--coordinator", api]).status == 0)
        for _ in 0..<100 where client.isRunning { usleep(100_000) }
        #expect(!client.isRunning)
        #expect(client.terminationStatus == 1)
        #expect((try home.json(["executions", "describe", execution]) as? [String: Any])?["status"] as? String == "Stopped")
    }

    /// A function re-registered while an invocation of its old code runs on a
    /// worker: the old process finishes what it was given, the new code serves
    /// the new execution, and the worker keeps only the versions still in use.
    @Test func twoVersionsOfAFunctionServeTheirOwnInvocationsOnOneWorker() throws {
        let home = try TemporaryHome()
        let bind = "tcp://127.0.0.1:\(try Self.freePort())"
        let api = "tcp://127.0.0.1:\(try Self.freePort())"
        let coordinator = try home.start(["coordinator", "--bind", bind, "--api", api, "--insecure"])
        defer { coordinator.terminate(); coordinator.waitUntilExit() }
        let work = home.url.appendingPathComponent("remote-work")
        // Unsandboxed: the handler and the test meet through files of the test's.
        let worker = try home.start(["worker", "--connect", bind, "--id", "w", "--slots", "2", "--fetch-data", "--reconnect", "--unsandboxed", "--work-dir", work.path])
        defer { worker.terminate(); worker.waitUntilExit() }
        let started = home.url.appendingPathComponent("v1-started").path
        let release = home.url.appendingPathComponent("v1-release").path
        let code = home.url.appendingPathComponent("scratch/fn")
        try FileManager.default.createDirectory(at: code, withIntermediateDirectories: true)
        func register(_ body: String) throws {
            try Data(body.utf8).write(to: code.appendingPathComponent("fn.py"))
            let created = try home.shoal(["functions", "create", "--name", "fn", "--zip-dir", code.path, "--handler", "fn.handler"])
            #expect(created.status == 0, "\(created.stderr)")
        }
        // Version one says it started, then waits (bounded) for the test to let it answer.
        try register("""
            import os, time
            def handler(event, context):
                open(\(String(reflecting: started)), 'w').close()
                for _ in range(300):
                    if os.path.exists(\(String(reflecting: release))):
                        break
                    time.sleep(0.1)
                return {'said': 'one'}
            """)
        let ask = Step.lambda("Ask", functionArn: "arn:aws:lambda:us-east-1:123456789012:function:fn", arguments: [:], outputs: [.init(name: "said", type: .string)])
        let definition = PipelineDefinition {
            ask
            Step.fail("Report", message: ask.output("said"), dependsOn: ["Ask"])
        }
        let path = try home.file("p.json", definition.jsonText())
        let first = try home.start(["run", path, "--coordinator", api], standardError: home.url.appendingPathComponent("first.err"))
        defer { if first.isRunning { first.terminate() } }
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: started) { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: started), "version one never started")

        try register("def handler(event, context):\n    return {'said': 'two'}\n")
        let second = try home.shoal(["run", path, "--coordinator", api])
        #expect(second.stderr.contains("Failed: two"), "\(second.stdout)\n\(second.stderr)")

        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        for _ in 0..<200 where first.isRunning { usleep(50_000) }
        #expect(!first.isRunning, "the first execution's invocation was lost")
        let firstErr = (try? String(contentsOf: home.url.appendingPathComponent("first.err"), encoding: .utf8)) ?? ""
        #expect(firstErr.contains("Failed: one"), "\(firstErr)")

        // A third registration: the worker drops the versions no process uses any more.
        try register("def handler(event, context):\n    return {'said': 'three'}\n")
        let third = try home.shoal(["run", path, "--coordinator", api])
        #expect(third.stderr.contains("Failed: three"), "\(third.stdout)\n\(third.stderr)")
        let versions = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("functions/fn").path)
        #expect(versions.count <= 2, "\(versions)")
    }

    @Test func aWorkerThatCannotSeeTheHomeFetchesInputsAndSendsOutputsOverTheWire() throws {
        let home = try TemporaryHome()
        // Over 8 chunks, so the worker has to grant credit again, and not a whole number of chunks.
        let size = (1 << 20) * 9 + 12_345
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        let object = home.url.appendingPathComponent("objects/b/data/big.bin")
        try FileManager.default.createDirectory(at: object.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: object)
        let bind = "tcp://127.0.0.1:\(try Self.freePort())"
        let api = "tcp://127.0.0.1:\(try Self.freePort())"
        let coordinator = try home.start(["coordinator", "--bind", bind, "--api", api, "--insecure"])
        defer { coordinator.terminate(); coordinator.waitUntilExit() }
        let workerLog = home.url.appendingPathComponent("worker.err")
        let work = home.url.appendingPathComponent("remote-work")
        let worker = try home.start(["worker", "--connect", bind, "--id", "far", "--fetch-data", "--reconnect", "--work-dir", work.path], standardError: workerLog)
        defer { worker.terminate(); worker.waitUntilExit() }

        // Function code in two modules, so the worker has to fetch the whole folder.
        let code = home.url.appendingPathComponent("scratch/fn")
        try FileManager.default.createDirectory(at: code, withIntermediateDirectories: true)
        try Data("import helper\ndef handler(event, context):\n    return {'said': helper.word(event['n'])}\n".utf8).write(to: code.appendingPathComponent("fn.py"))
        try Data("def word(n):\n    return 'fetched-%d' % n\n".utf8).write(to: code.appendingPathComponent("helper.py"))
        let created = try home.shoal(["functions", "create", "--name", "fn", "--zip-dir", code.path, "--handler", "fn.handler"])
        #expect(created.status == 0, "\(created.stderr)")
        let ask = Step.lambda("Ask", functionArn: "arn:aws:lambda:us-east-1:123456789012:function:fn", arguments: ["n": 7], outputs: [.init(name: "said", type: .string)])
        let definition = PipelineDefinition {
            Step.processing("Copy", arguments: ProcessingArguments(
                instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh",
                entrypoint: ["/bin/sh", "-c", "cp /opt/ml/processing/input/data/big.bin /opt/ml/processing/out/copy.bin && echo small > /opt/ml/processing/out/sub/note.txt"],
                roleArn: "r",
                inputs: [ProcessingInput(inputName: "data", s3Input: S3Input(s3Uri: "s3://b/data/big.bin", localPath: "/opt/ml/processing/input/data"))],
                outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/copied", localPath: "/opt/ml/processing/out"))]
            ))
            ask
            // The function's answer comes back as the Fail step's message, where the test can read it.
            Step.fail("Report", message: ask.output("said"), dependsOn: ["Ask", "Copy"])
        }
        // The job makes its own sub-folder; an output path with a folder in it has to arrive too.
        let text = definition.jsonText().replacingOccurrences(of: "&& echo small", with: "&& mkdir -p /opt/ml/processing/out/sub && echo small")
        let run = try home.shoal(["run", try home.file("p.json", text), "--coordinator", api])
        #expect(run.stderr.contains("Failed: fetched-7"), "\(run.stdout)\n\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("functions").path))
        let copied = try Data(contentsOf: home.url.appendingPathComponent("objects/b/copied/copy.bin"))
        #expect(copied == Data(bytes))
        #expect(try String(contentsOf: home.url.appendingPathComponent("objects/b/copied/sub/note.txt"), encoding: .utf8) == "small\n")
        let said = try String(contentsOf: workerLog, encoding: .utf8)
        #expect(said.contains("moved \(size) bytes in and \(size + 6) bytes out over the wire"), "\(said)")
        // The worker keeps no copies once the coordinator has the outputs.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("transfers").path)) ?? []
        #expect(left.isEmpty)
    }

    /// Any TCP address without keys, loopback included: every user of the host could reach it.
    @Test(arguments: ["tcp://0.0.0.0", "tcp://127.0.0.1"])
    func aTCPAddressWithoutKeysNeedsInsecure(_ host: String) throws {
        let home = try TemporaryHome()
        let outcome = try home.shoal(["coordinator", "--bind", "\(host):1", "--api", "\(host):2"])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("give --key with --allow and --allow-clients, or --insecure"), "\(outcome.stderr)")
    }
}
