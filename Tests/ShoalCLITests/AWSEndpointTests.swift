import Foundation
import ShoalTestSupport
import Testing

/// `shoal serve` driven by real boto3 (Tests/python/endpoint_test.py, in the
/// virtual environment scripts/setup.sh makes): the SageMaker pipeline API,
/// STS, and refused signatures.
@Suite(.serialized) struct AWSEndpointTests {
    static let python = Fixtures.repositoryRoot.appendingPathComponent(".venv-aws/bin/python")
    /// The SageMaker SDK v3 lives beside a newer boto3, in a second environment.
    static let pythonSDK3 = Fixtures.repositoryRoot.appendingPathComponent(".venv-sdk3/bin/python")

    /// `shoal serve` on a free port of a new home, with the client environment `shoal env` prints for it.
    struct ServedEndpoint {
        let home: TemporaryHome
        let serve: Process
        let log: URL
        var environment: [String: String]

        /// `arguments` makes more of serve's arguments from the new home (files it names).
        init(_ extra: [String] = [], arguments: (TemporaryHome) throws -> [String] = { _ in [] }) throws {
            home = try TemporaryHome()
            let extra = extra + (try arguments(home))
            #expect(try home.shoal(["credentials", "create", "me"]).status == 0)
            log = home.url.appendingPathComponent("serve.txt")
            serve = try home.start(["serve", "--bind", "127.0.0.1:0", "--workers", "2"] + extra, standardError: log)
            var endpoint: String?
            let deadline = Date().addingTimeInterval(30)
            while endpoint == nil && Date() < deadline && serve.isRunning {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                endpoint = text.range(of: "http://127\\.0\\.0\\.1:[0-9]+", options: .regularExpression).map { String(text[$0]) }
                usleep(20_000)
            }
            let url = try #require(endpoint, "shoal serve did not say where it listens: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            let env = try home.shoal(["env", "--credential", "me", "--endpoint", url])
            #expect(env.status == 0, "\(env.stderr)")
            var environment: [String: String] = ["SHOAL_HOME": home.url.path, "SHOAL": ShoalProcess.executable.path]
            for line in env.stdout.split(separator: "\n") where line.hasPrefix("export ") {
                let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
                environment[String(pair[0])] = String(pair[1]).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            }
            #expect(environment["AWS_ENDPOINT_URL"] == url)
            self.environment = environment
        }

        var serverLog: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// Runs one of Tests/python's suites against the endpoint; the unittest summary must name `tests` tests.
        func runSuite(_ file: String, tests: Int, python: URL = AWSEndpointTests.python, timeout: TimeInterval = 240) throws {
            let script = Fixtures.repositoryRoot.appendingPathComponent("Tests/python/" + file).path
            let outcome = try ShoalProcess.run(executable: python, [script], environment: environment, timeout: timeout)
            #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)\nserver log:\n\(serverLog)")
            #expect(outcome.stderr.contains("Ran \(tests) tests"), "\(outcome.stderr)")
        }

        func stop() {
            if serve.isRunning {
                kill(serve.processIdentifier, SIGINT)
                serve.waitUntilExit()
            }
        }
    }

    @Test func boto3DrivesPipelinesThroughTheEndpoint() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let served = try ServedEndpoint()
        defer { served.stop() }
        let config = try String(contentsOfFile: try #require(served.environment["SAGEMAKER_USER_CONFIG_OVERRIDE"]), encoding: .utf8)
        #expect(config.contains("TelemetryOptOut: true"))
        try served.runSuite("endpoint_test.py", tests: 8)
    }

    /// The experiment reads: boto3's List/Describe calls and the SDK v2's ExperimentAnalytics (Search).
    @Test func experimentReadsServeBoto3AndTheSDKsAnalytics() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let served = try ServedEndpoint()
        defer { served.stop() }
        try served.runSuite("experiments_test.py", tests: 4)
    }

    /// `shoal serve --policy`: every request asked about by its IAM action, the credential as aws:username;
    /// a policy naming an action Shoal does not know keeps the server from starting.
    @Test func aServedPolicyDeniesRequestsByActionAndCredential() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let policy = #"""
            {"Version": "2012-10-17", "Statement": [{"Sid": "InternsReadOnly", "Effect": "Deny",
              "Action": ["sagemaker:Delete*", "sagemaker:StartPipelineExecution", "s3:PutObject", "s3:DeleteObject", "lambda:InvokeFunction"],
              "Resource": "*", "Condition": {"StringEquals": {"aws:username": "intern"}}}]}
            """#
        let served = try ServedEndpoint { home in ["--policy", try home.file("policy.json", policy)] }
        defer { served.stop() }
        try served.runSuite("policy_test.py", tests: 3)

        let home = try TemporaryHome()
        let unknown = try home.file("bad.json", #"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sagemaker:FlyToTheMoon", "Resource": "*"}]}"#)
        let refused = try home.shoal(["serve", "--bind", "127.0.0.1:0", "--policy", unknown])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("'sagemaker:FlyToTheMoon' names no action Shoal knows"), "\(refused.stderr)")
    }

    /// The model registry: a pipeline's Model and RegisterModel steps, then boto3's registry calls on what
    /// they made, and DescribeTrainingJob/ListTrainingJobs on its training step.
    @Test func boto3ReadsAndApprovesWhatRegisterModelSteps() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let served = try ServedEndpoint()
        defer { served.stop() }
        try served.runSuite("models_test.py", tests: 5)
    }

    /// SageMaker's classic abalone pipeline (examples/abalone-ml/pipeline.py, the SDK v2
    /// unchanged): pandas and scikit-learn in the scikit-learn image's environment,
    /// training, evaluation, then CreateModel, RegisterModel and a batch transform;
    /// with a low threshold, the fail step instead.
    @Test func theClassicAbaloneExampleTrainsRegistersAndScores() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let served = try ServedEndpoint()
        defer { served.stop() }
        let script = Fixtures.repositoryRoot.appendingPathComponent("examples/abalone-ml/pipeline.py").path
        let good = try ShoalProcess.run(executable: Self.python, [script], environment: served.environment, timeout: 600)
        #expect(good.status == 0, "\(good.stdout)\n\(good.stderr)\nserver log:\n\(served.serverLog)")
        for step in ["Preprocess", "Train", "Evaluate", "CheckMse", "AbaloneModel-CreateModel", "RegisterAbalone-RegisterModel", "ScoreTestRows"] {
            #expect(good.stdout.contains(step), "\(good.stdout)")
        }
        let packages = try #require(try served.home.json(["models", "list", "--group", "AbaloneModels"]) as? [[String: Any]])
        #expect(packages.count == 1)
        let id = try served.home.latestExecutionId()
        let listing = try served.home.shoal(["ls", "s3://sagemaker-shoal/abalone/scored/\(id)/"])
        #expect(listing.stdout.contains("batch.csv.out"), "\(listing.stdout)")
        let train = try #require(try served.home.json(["steps", id]) as? [[String: Any]]).first { $0["name"] as? String == "Train" }
        let metrics = ((train?["properties"] as? [String: Any])?["FinalMetricDataList"] as? [[String: Any]]) ?? []
        #expect(metrics.first?["MetricName"] as? String == "validation:mse", "\(metrics)")

        let low = try ShoalProcess.run(executable: Self.python, [script, "--threshold", "0.1"], environment: served.environment, timeout: 600)
        #expect(low.status == 1)
        #expect(low.stdout.contains("MseTooHigh") && low.stdout.contains("test MSE above 0.1"), "\(low.stdout)\n\(low.stderr)")
        #expect((try served.home.json(["models", "list", "--group", "AbaloneModels"]) as? [Any])?.count == 1, "the else branch registered nothing")
    }

    /// S3 through the endpoint with boto3 and the AWS CLI: objects land in the
    /// home's store as files the engine reads (Tests/python/s3_test.py checks them there).
    @Test func boto3AndTheAWSCLIStoreObjectsThroughS3() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let served = try ServedEndpoint()
        defer { served.stop() }
        try served.runSuite("s3_test.py", tests: 12)
    }

    /// The SageMaker Python SDK v2, unchanged: the abalone pipeline written with
    /// it, its local code and data uploaded by the SDK through S3, upserted,
    /// started, waited for and listed on both branches (Tests/python/sdk_v2_test.py).
    @Test func theSageMakerSDKRunsTheAbalonePipeline() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let served = try ServedEndpoint()
        defer { served.stop() }
        try served.runSuite("sdk_v2_test.py", tests: 3)
        // The function the SDK created is the registry's, as `shoal functions` shows it.
        let functions = try served.home.shoal(["functions", "list"])
        #expect(functions.stdout.contains("sagemaker_test_lambda"), "\(functions.stdout)")
    }

    /// The SageMaker Python SDK v3, unchanged: the same abalone pipeline as v3
    /// writes it (Tests/python/sdk_v3_test.py), including v3's IAM GetRole check.
    @Test func theSageMakerSDKv3RunsTheAbalonePipeline() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.pythonSDK3.path), "no \(Self.pythonSDK3.path): run scripts/setup.sh")
        let served = try ServedEndpoint()
        defer { served.stop() }
        try served.runSuite("sdk_v3_test.py", tests: 3, python: Self.pythonSDK3)
    }

    /// What a crashed endpoint left in the staging area — a body half received
    /// a day ago, a multipart upload untouched for a week — is swept when the
    /// endpoint starts; recent ones are kept.
    @Test func theEndpointSweepsUploadsACrashLeftBehind() throws {
        let old = Date().addingTimeInterval(-8 * 86_400)
        var paths: [String: Bool] = [:]
        let served = try ServedEndpoint { home in
            let staging = home.url.appendingPathComponent("staging")
            let multipart = staging.appendingPathComponent("multipart")
            for (name, stale) in [("0123456789abcdef0123456789abcdef", true), ("fedcba9876543210fedcba9876543210", false)] {
                let folder = multipart.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try Data("{}".utf8).write(to: folder.appendingPathComponent("upload.json"))
                if stale {
                    try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: folder.appendingPathComponent("upload.json").path)
                    try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: folder.path)
                }
                paths[folder.path] = stale
            }
            for (name, stale) in [("s3-stale", true), ("s3-fresh", false)] {
                let file = staging.appendingPathComponent(name)
                try Data("half a body".utf8).write(to: file)
                if stale { try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file.path) }
                paths[file.path] = stale
            }
            return []
        }
        defer { served.stop() }
        for (path, stale) in paths {
            #expect(FileManager.default.fileExists(atPath: path) == !stale, "\(path) (stale: \(stale))")
        }
    }

    /// Lambda's function API with boto3: create from a zip, get, list, update
    /// code and configuration, delete; conflicts, unknown names and unsafe archives refused.
    @Test func boto3ManagesFunctionsThroughTheLambdaAPI() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let served = try ServedEndpoint()
        defer { served.stop() }
        try served.runSuite("lambda_test.py", tests: 4)
    }

    /// Cost Explorer's GetCostAndUsage with boto3 gives the figures `shoal cost` gives.
    @Test func costExplorerAnswersWhatShoalCostSays() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let served = try ServedEndpoint()
        defer { served.stop() }
        try served.runSuite("cost_test.py", tests: 2)
    }

    /// A job fans out with boto3 through the endpoint (its children record it
    /// as their parent); a handler sees the endpoint and keys that die with its execution.
    /// Unsandboxed, so the job can run the test's own Python, which has boto3.
    @Test func jobsAndHandlersReachTheEndpointAsTheirExecution() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let served = try ServedEndpoint(["--unsandboxed"])
        defer { served.stop() }
        try served.runSuite("inside_test.py", tests: 2)
    }

    /// `shoal coordinator --http`: the same endpoint in cluster mode, its
    /// requests reaching the CURVE-secured API socket with the coordinator's own key.
    @Test func aClusterCoordinatorServesTheEndpointToo() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "no \(Self.python.path): run scripts/setup.sh")
        let home = try TemporaryHome()
        let keys = home.url.appendingPathComponent("keys").path
        for (name, folder) in [("coordinator", ""), ("worker-1", "/workers"), ("client", "/clients")] {
            #expect(try home.shoal(["keys", "generate", name, "--dir", keys + folder]).status == 0)
        }
        let created = try #require(try home.json(["credentials", "create", "ops", "--output", "json"]) as? [String: String])
        let log = home.url.appendingPathComponent("coordinator.txt")
        let coordinator = try home.start([
            "coordinator", "--bind", "tcp://127.0.0.1:\(try LoopbackListener().port)", "--api", "tcp://127.0.0.1:\(try LoopbackListener().port)",
            "--key", keys + "/coordinator.key", "--allow", keys + "/workers", "--allow-clients", keys + "/clients", "--http", "127.0.0.1:0",
        ], standardError: log)
        defer { coordinator.terminate(); coordinator.waitUntilExit() }
        var endpoint: String?
        let deadline = Date().addingTimeInterval(30)
        while endpoint == nil && Date() < deadline && coordinator.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            endpoint = text.range(of: "endpoint on http://127\\.0\\.0\\.1:[0-9]+", options: .regularExpression).map { String(text[$0].dropFirst("endpoint on ".count)) }
            usleep(20_000)
        }
        let url = try #require(endpoint, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let script = """
            import json, time, boto3
            sm = boto3.client("sagemaker")
            definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "C", "Type": "Condition", "Arguments": {
                "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}]}
            sm.create_pipeline(PipelineName="clustered", PipelineDefinition=json.dumps(definition), RoleArn="arn:aws:iam::1:role/Role")
            arn = sm.start_pipeline_execution(PipelineName="clustered")["PipelineExecutionArn"]
            for _ in range(300):
                status = sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
                if status != "Executing": break
                time.sleep(0.05)
            print(status)
            """
        let outcome = try ShoalProcess.run(executable: Self.python, ["-c", script], environment: [
            "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": created["accessKeyId"] ?? "", "AWS_SECRET_ACCESS_KEY": created["secretAccessKey"] ?? "",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
        ], timeout: 60)
        #expect(outcome.stdout == "Succeeded\n", "\(outcome.stdout)\(outcome.stderr)\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    @Test func aNonLoopbackAddressWithoutTLSNeedsInsecure() throws {
        let home = try TemporaryHome()
        let refused = try home.shoal(["serve", "--bind", "0.0.0.0:9494"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("is not a loopback address; serve it with --tls-cert and --tls-key, or say --insecure"), "\(refused.stderr)")
    }
}
