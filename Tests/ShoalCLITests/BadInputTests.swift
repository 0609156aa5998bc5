import Foundation
import ShoalDefinition
import ShoalStore
import ShoalTestSupport
import Testing

/// One processing step running a Python script from the object store, with an
/// optional condition reading its property file: enough to provoke each failure.
struct Scenario {
    let home: TemporaryHome
    let definitionPath: String

    init(
        script: String, instances: Int = 1, inputUri: String = "s3://b/code/job.py", maxRuntime: Int? = nil,
        jsonGetPath: String? = nil, environment: OrderedFields<ShoalDefinition.Expression>? = nil
    ) throws {
        home = try TemporaryHome()
        let scriptPath = try home.file("job.py", script)
        let copied = try home.shoal(["cp", scriptPath, "s3://b/code/job.py"])
        precondition(copied.status == 0, copied.stderr)
        let report = PropertyFile(name: "Report", outputName: "out", filePath: "report.json")
        let process = Step.processing("Work", arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: .number(.int(instances)),
            imageUri: "python", entrypoint: ["python3", "/opt/ml/processing/input/code/job.py"],
            roleArn: "arn:aws:iam::1:role/R",
            inputs: [ProcessingInput(inputName: "code", s3Input: S3Input(s3Uri: .string(inputUri), localPath: "/opt/ml/processing/input/code"))],
            outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(
                s3Uri: .join(on: "/", ["s3://b/out", .execution(.pipelineExecutionId)]), localPath: "/opt/ml/processing/out"
            ))],
            environment: environment, maxRuntimeInSeconds: maxRuntime.map { .number(.int($0)) }
        ), propertyFiles: [report])
        let definition = PipelineDefinition {
            Parameter(name: "Threshold", type: .float, defaultValue: 1.0)
            process
            if let jsonGetPath {
                Step.condition("Check", [.lessThan(process.jsonGet(report, path: jsonGetPath), .parameter("Threshold"))])
            }
        }
        definitionPath = try home.file("pipeline.json", definition.jsonText(pretty: true))
    }

    func run(_ extra: [String] = []) throws -> ShoalProcess.Outcome {
        try home.shoal(["run", definitionPath, "--workers", "2"] + extra)
    }

    func steps() throws -> [[String: Any]] { try home.latestSteps() }

    func objects(under prefix: String) throws -> [String] {
        let objects = try #require(try home.json(["ls", prefix]) as? [[String: Any]])
        return objects.compactMap { $0["uri"] as? String }
    }
}

@Suite(.serialized) struct BadInputTests {
    @Test func missingInputObjectFailsTheStepNamingTheURI() throws {
        let scenario = try Scenario(script: "print('never')", inputUri: "s3://b/missing/")
        let outcome = try scenario.run()
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("Input 'code': no objects at s3://b/missing/"))
        #expect(try scenario.objects(under: "s3://b/out").isEmpty)
        #expect(try scenario.objects(under: "s3://b/code/") == ["s3://b/code/job.py"], "nothing else touched")
    }

    /// An instance whose task would not fit in a message to a worker (here a
    /// 25 MiB environment value, carried twice: the environment and the job's
    /// configuration) fails its step before anything runs, naming the instance.
    @Test func anInstanceTooLargeForAMessageToAWorkerFailsItsStepNamingIt() throws {
        let scenario = try Scenario(script: "print('never')", environment: ["HUGE": .string(String(repeating: "x", count: 25 << 20))])
        let outcome = try scenario.run()
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("algo-1: the instance's task (1 input files) is 50 MiB as a message, over the 47 MiB a message to a worker may carry"), "\(outcome.stderr.suffix(2000))")
        #expect(try scenario.objects(under: "s3://b/out").isEmpty)
    }

    @Test func scriptThatDoesNotExistFailsWithPythonsMessage() throws {
        let scenario = try Scenario(script: "")
        let definition = try String(contentsOfFile: scenario.definitionPath, encoding: .utf8)
            .replacingOccurrences(of: "/opt/ml/processing/input/code/job.py", with: "/opt/ml/processing/input/code/nope.py")
        try Data(definition.utf8).write(to: URL(fileURLWithPath: scenario.definitionPath))
        let outcome = try scenario.run()
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("AlgorithmError: exit code 2"))
        #expect(outcome.stderr.contains("nope.py"))
    }

    @Test func scriptKilledBySignalSaysSo() throws {
        let outcome = try Scenario(script: "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n").run()
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("AlgorithmError: killed by signal 9 (SIGKILL)"))
    }

    @Test func declaredOutputNeverWrittenIsEmptyNotAFailure() throws {
        let scenario = try Scenario(script: "print('wrote nothing')\n")
        let outcome = try scenario.run()
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try scenario.objects(under: "s3://b/out").isEmpty)
    }

    @Test func propertyFileThatIsNotJSONFailsTheConsumingStep() throws {
        let scenario = try Scenario(script: "open('/opt/ml/processing/out/report.json', 'w').write('not json')\n", jsonGetPath: "a")
        let outcome = try scenario.run()
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("Step 'Check' failed: Contents of file s3://b/out/"))
        #expect(outcome.stderr.contains("report.json are not in valid JSON format"))
        #expect(try scenario.steps().map { $0["status"] as? String } == ["Succeeded", "Failed"])
    }

    @Test func propertyFileOverOneMebibyteIsRefused() throws {
        let script = "import json\njson.dump({'a': 0, 'pad': 'x' * (2 << 20)}, open('/opt/ml/processing/out/report.json', 'w'))\n"
        let outcome = try Scenario(script: script, jsonGetPath: "a").run()
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("more than the 1048576 allowed"))
    }

    @Test func jsonGetPathThatDoesNotExistFailsTheStep() throws {
        let script = "import json\njson.dump({'metrics': {'mse': 0.5}}, open('/opt/ml/processing/out/report.json', 'w'))\n"
        let outcome = try Scenario(script: script, jsonGetPath: "metrics.rmse").run()
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("Invalid json path 'metrics.rmse'"))
    }

    @Test func jsonGetThatExistsDrivesTheCondition() throws {
        let script = "import json\njson.dump({'metrics': {'mse': 0.5}}, open('/opt/ml/processing/out/report.json', 'w'))\n"
        let scenario = try Scenario(script: script, jsonGetPath: "metrics.mse")
        #expect(try scenario.run().status == 0)
        let steps = try scenario.steps()
        #expect((steps[1]["properties"] as? [String: Any])?["Outcome"] as? String == "True")
    }

    @Test func unknownOrMistypedParameterIsRefusedBeforeAnythingRuns() throws {
        let scenario = try Scenario(script: "print('never')\n")
        let unknown = try scenario.run(["--param", "Thresh=2"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("Unknown parameter 'Thresh'; the pipeline declares Threshold."))
        let mistyped = try scenario.run(["--param", "Threshold=high"])
        #expect(mistyped.status == 1)
        #expect(mistyped.stderr.contains("Parameter 'Threshold' is Float; 'high' is not one."))
        #expect((try scenario.home.json(["executions", "list"]) as? [Any])?.isEmpty == true, "no execution was recorded")
    }

    @Test func instancesWritingTheSameFileDifferentlyFailTheStep() throws {
        let script = "import json\nhost = json.load(open('/opt/ml/config/resourceconfig.json'))['current_host']\nopen('/opt/ml/processing/out/result.txt', 'w').write(host)\n"
        let scenario = try Scenario(script: script, instances: 2)
        let outcome = try scenario.run()
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("Output 'out': algo-1 and algo-2 both wrote 'result.txt' with different contents"))
        #expect(try scenario.objects(under: "s3://b/out").isEmpty, "nothing of the refused commit reached the store")
    }

    @Test func maxRuntimeStopsTheInstanceAndFailsTheStep() throws {
        let outcome = try Scenario(script: "import time\ntime.sleep(60)\n", maxRuntime: 1).run()
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("MaxRuntimeInSeconds (1) exceeded"))
    }

    /// Each attempt starts a detached descendant (a new session, a double
    /// fork) and sleeps: sleeps the test finds by their length (MARK + 1 and
    /// MARK + 2), since a job in its sandbox can write no file of the test's.
    static let waitsToBeKilledOnce = """
            import os, subprocess
            mark = os.environ['MARK']
            os.system("setsid sh -c 'sleep " + mark + "1 & exit 0' < /dev/null > /dev/null 2>&1")
            subprocess.run(['sleep', mark + '2'])
            open('/opt/ml/processing/out/done.txt', 'w').write('done')
            """

    /// Runs `waitsToBeKilledOnce` with `workers` local workers, kills (SIGKILL),
    /// as a crash would, the worker whose job is sleeping, once, and waits for
    /// the run; returns the first attempt's PID namespace and detached sleep.
    static func runKillingTheBusyWorker(workers: Int) throws -> (scenario: Scenario, status: Int32, stderr: String, namespace: String, detached: Int32?) {
        let mark = "2.\(1000 + Int.random(in: 0..<9000))\(getpid() % 100)"
        let scenario = try Scenario(script: Self.waitsToBeKilledOnce, environment: ["MARK": .string(mark)])
        let log = scenario.home.url.appendingPathComponent("run-stderr.txt")
        let run = try scenario.home.start(["run", scenario.definitionPath, "--workers", String(workers)], standardError: log)
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(30)
        var sleeping: [Int32] = []
        var detached: [Int32] = []
        while (sleeping.isEmpty || detached.isEmpty) && Date() < deadline && run.isRunning {
            sleeping = ProcessTable.running(commandLine: ["sleep", mark + "2"])
            detached = ProcessTable.running(commandLine: ["sleep", mark + "1"])
            usleep(20_000)
        }
        let namespace = sleeping.first.flatMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/ns/pid") } ?? ""
        // The busy worker is the one with a child: the job's sandbox.
        let busy = ProcessTable.children(of: run.processIdentifier).filter { !ProcessTable.children(of: $0).isEmpty }
        #expect(busy.count == 1, "one worker runs the job")
        for worker in busy { kill(worker, SIGKILL) }
        while run.isRunning && Date() < deadline.addingTimeInterval(30) { usleep(50_000) }
        let stderr = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return (scenario, run.isRunning ? -1 : run.terminationStatus, stderr, namespace, detached.first)
    }

    @Test func workerKilledMidStepIsReplacedByANewAttempt() throws {
        let (scenario, status, stderr, namespace, detached) = try Self.runKillingTheBusyWorker(workers: 2)
        #expect(status == 0, "\(stderr)")
        // D3: nothing of the first attempt outlived its worker, the detached descendant included.
        if geteuid() == 0 {
            #expect(namespace.hasPrefix("pid:[") && namespace != ProcessTable.ownPIDNamespace, "\(namespace)")
            #expect(ProcessTable.waitUntilEmpty(pidNamespace: namespace), "processes of the killed worker's job outlived it")
        }
        let first = try #require(detached, "the first attempt's detached sleep was never seen")
        #expect(!ProcessTable.isRunning(first), "the first attempt's detached sleep outlived its worker")
        let steps = try scenario.steps()
        #expect(steps[0]["attempts"] as? Int == 2)
        let outputs = try scenario.objects(under: "s3://b/out")
        #expect(outputs.count == 1)
        #expect(outputs.first?.hasSuffix("/done.txt") == true)
    }

    /// D4: the only local worker killed used to leave the execution Executing
    /// for ever; a worker of `shoal run` that dies is replaced, and the lost
    /// instance runs again on its replacement.
    @Test func theOnlyLocalWorkerKilledIsReplacedAndTheRunSucceeds() throws {
        let (scenario, status, stderr, _, _) = try Self.runKillingTheBusyWorker(workers: 1)
        #expect(status == 0, "\(stderr)")
        #expect(stderr.contains("shoal: worker local-1 exited; started another in its place"), "\(stderr)")
        let steps = try scenario.steps()
        #expect(steps[0]["attempts"] as? Int == 2)
        let attempts = try MetadataStore(path: scenario.home.url.appendingPathComponent("shoal.sqlite").path)
            .instances(executionId: try scenario.home.latestExecutionId())
        #expect(attempts.map(\.status) == [.lost, .completed])
        #expect(try scenario.objects(under: "s3://b/out").count == 1)
    }

    /// A job that writes a burst of log just before it exits: the whole tail
    /// reaches `shoal logs`, and the worker keeps no log file of its own after
    /// the task (the coordinator has the log; a worker must not pile up files).
    @Test func aLogWrittenJustBeforeExitArrivesWholeAndTheWorkerKeepsNoCopy() throws {
        let scenario = try Scenario(script: """
            import sys
            for i in range(40000):
                sys.stdout.write('line %06d %s\\n' % (i, 'x' * 40))
            sys.stdout.write('last line\\n')
            """)
        let outcome = try scenario.run()
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        let logs = try scenario.home.shoal(["logs", try scenario.home.latestExecutionId(), "Work"])
        #expect(logs.stdout.contains("line 039999"))
        #expect(logs.stdout.contains("last line"))
        let work = scenario.home.url.appendingPathComponent("work")
        let left = (FileManager.default.enumerator(atPath: work.path)?.allObjects as? [String] ?? []).filter { $0.contains("/logs/") }
        #expect(left.isEmpty, "\(left)")
    }

    /// Input files are hard links to the stored objects: a job may replace one
    /// (here, its own script) in its input folder, seeing its change, but never
    /// write into the object's bytes.
    @Test(.enabled(if: geteuid() == 0, "without root there is no sandbox, and inputs are plain hard links"))
    func aJobWritingIntoItsInputLeavesTheStoredObjectAlone() throws {
        let scenario = try Scenario(script: """
            import os
            try:
                open(__file__, 'a').write('# written in place\\n')
                print('wrote in place')
            except PermissionError:
                print('in place: refused')
            text = open(__file__).read()
            with open(__file__ + '.new', 'w') as f:
                f.write(text + '# changed by the job\\n')
            os.replace(__file__ + '.new', __file__)
            print('job sees its change:', open(__file__).read().endswith('# changed by the job\\n'))
            """)
        let before = try Data(contentsOf: scenario.home.url.appendingPathComponent("objects/b/code/job.py"))
        let outcome = try scenario.run()
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        let logs = try scenario.home.shoal(["logs", try scenario.home.latestExecutionId(), "Work"])
        #expect(logs.stdout.contains("job sees its change: True"), "\(logs.stdout)")
        #expect(logs.stdout.contains("in place: refused"), "\(logs.stdout)")
        #expect(try Data(contentsOf: scenario.home.url.appendingPathComponent("objects/b/code/job.py")) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scenario.home.url.appendingPathComponent("work").path)
            .flatMap { (try? FileManager.default.contentsOfDirectory(atPath: scenario.home.url.appendingPathComponent("work/\($0)/jobs").path)) ?? [] }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
