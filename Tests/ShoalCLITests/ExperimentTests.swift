import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

@Suite(.serialized) struct ExperimentTests {
    func abalone(_ home: TemporaryHome, _ arguments: [String] = []) throws -> ShoalProcess.Outcome {
        try home.example("abalone", arguments)
    }

    @Test func abaloneShowsUpUnderItsExperimentWithTheMSEMetric() throws {
        let home = try TemporaryHome()
        #expect(try abalone(home).status == 0)
        #expect(try abalone(home, ["--param", "MseThreshold=0.5"]).status == 1)
        let experiments = try #require(try home.json(["experiments", "list"]) as? [[String: Any]])
        #expect(experiments.first?["name"] as? String == "AbalonePipeline")
        #expect(experiments.first?["trials"] as? Int == 2)
        let trials = try #require(try home.json(["experiments", "show", "AbalonePipeline", "--sort-by", "regression_metrics.mse.value"]) as? [[String: Any]])
        #expect(trials.count == 2)
        for trial in trials {
            let mse = try #require((trial["metrics"] as? [String: Double])?["regression_metrics.mse.value"])
            #expect(mse > 0 && mse < 6, "the preprocess script's test MSE")
        }
        #expect(Set(trials.compactMap { $0["status"] as? String }) == ["Succeeded", "Failed"])
        let csv = try home.shoal(["experiments", "show", "AbalonePipeline", "--output", "csv"])
        #expect(csv.stdout.hasPrefix("TRIAL,STATUS,STARTED,"))
        #expect(csv.stdout.contains("regression_metrics.mse.value"))
    }

    @Test func trialComponentsCarryParametersLineageAndJobMetrics() throws {
        let home = try TemporaryHome()
        #expect(try abalone(home).status == 0)
        let id = try home.latestExecutionId()
        let components = try #require(try home.json(["trials", "show", id]) as? [[String: Any]])
        #expect(components.map { $0["step"] as? String } == ["MyLambdaStep", "AbaloneProcess", "AbaloneProcess"])
        let process = try #require(components.first { ($0["metrics"] as? [String: Double])?["regression_metrics.mse.value"] != nil })
        let parameters = try #require(process["parameters"] as? [String: Any])
        let cluster = (parameters["ProcessingResources"] as? [String: Any])?["ClusterConfig"] as? [String: Any]
        #expect(cluster?["InstanceCount"] as? Int == 2)
        #expect((process["inputs"] as? [String])?.contains("s3://my-bucket/abalone/abalone-dataset.csv") == true)
        let written = "s3://my-bucket/training/\(id)/algo-1.csv"
        #expect((process["outputs"] as? [String])?.contains(written) == true)
        let lineage = try #require(try home.json(["lineage", written]) as? [[String: Any]])
        #expect(lineage.count == 1)
        #expect(lineage.first?["role"] as? String == "produced by")
        #expect(lineage.first?["execution"] as? String == id)
        let readers = try #require(try home.json(["lineage", "s3://my-bucket/abalone/abalone-dataset.csv"]) as? [[String: Any]])
        #expect(readers.allSatisfy { $0["role"] as? String == "read by" } && readers.count == 2)
    }

    @Test func metricsJsonOfAJobAndCustomExperimentNames() throws {
        let home = try TemporaryHome()
        let script = try home.file("train.py", "import json\njson.dump({'accuracy': 0.93, 'loss': {'final': 0.2}}, open('/opt/ml/output/metrics.json', 'w'))\n")
        #expect(try home.shoal(["cp", script, "s3://b/code/train.py"]).status == 0)
        let step = Step.processing("Train", arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 1, imageUri: "python", entrypoint: ["python3", "/opt/ml/processing/input/code/train.py"],
            roleArn: "arn:aws:iam::1:role/R",
            inputs: [ProcessingInput(inputName: "code", s3Input: S3Input(s3Uri: "s3://b/code/train.py", localPath: "/opt/ml/processing/input/code"))]
        ))
        let good = PipelineDefinition(
            parameters: [Parameter(name: "Run", type: .string, defaultValue: "first")],
            experimentConfig: .configured(PipelineExperimentConfig(experimentName: "churn-study", trialName: .join(on: "-", [.parameter("Run"), .execution(.pipelineExecutionId)]))),
            steps: [step]
        )
        let path = try home.file("good.json", good.jsonText())
        #expect(try home.shoal(["run", path, "--workers", "1"]).status == 0)
        let trials = try #require(try home.json(["experiments", "show", "churn-study"]) as? [[String: Any]])
        #expect((trials.first?["trial"] as? String)?.hasPrefix("first-") == true)
        #expect((trials.first?["metrics"] as? [String: Double]) == ["accuracy": 0.93, "loss.final": 0.2])

        let bad = PipelineDefinition(experimentConfig: .configured(PipelineExperimentConfig(experimentName: "churn study/2", trialName: nil)), steps: [step])
        let refused = try home.shoal(["run", try home.file("bad.json", bad.jsonText()), "--workers", "1"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("Experiment name 'churn study/2' cannot be stored"))
        #expect((try home.json(["executions", "list"]) as? [Any])?.count == 1, "the refused run recorded nothing")
    }
}

@Suite(.serialized) struct PolicyRunTests {
    func abalone(_ home: TemporaryHome, _ arguments: [String]) throws -> ShoalProcess.Outcome {
        try home.example("abalone", arguments)
    }

    static func policy(_ name: String) -> String {
        Fixtures.repositoryRoot.appendingPathComponent("examples/policies/\(name).json").path
    }

    @Test func deniedJobFailsItsStepWithTheSidAndStartsNothing() throws {
        let home = try TemporaryHome()
        let outcome = try abalone(home, ["--policy", Self.policy("require-isolation-and-vpc")])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("statement 'DenyJobsWithoutNetworkIsolation': shoal:CreateProcessingJob is not allowed here"))
        let steps = try home.latestSteps()
        #expect(steps.map { $0["status"] as? String } == ["Succeeded", "Failed", "NotRun", "NotRun"])
        let id = try home.latestExecutionId()
        let components = try #require(try home.json(["trials", "show", id]) as? [[String: Any]])
        #expect(components.map { $0["step"] as? String } == ["MyLambdaStep"], "no processing instance was started")
    }

    @Test func allowedRunPassesAndADeniedStartRecordsNothing() throws {
        let home = try TemporaryHome()
        let policy = Self.policy("restrict-instances-and-tags")
        #expect(try abalone(home, ["--policy", policy, "--tags", "team=ml"]).status == 0)
        let denied = try abalone(home, ["--policy", policy, "--tags", "team=sandbox"])
        #expect(denied.status != 0)
        #expect(denied.stderr.contains("statement 'DenyStartsByTheSandboxTeam'"))
        #expect((try home.json(["executions", "list"]) as? [Any])?.count == 1)
        let untagged = try abalone(home, ["--policy", policy])
        #expect(untagged.stderr.contains("statement 'DenyUntaggedJobs': shoal:InvokeFunction"))
        let malformed = try home.shoal(["run", "x.json", "--policy", try home.file("bad.json", "{\"Statement\": 3}")])
        #expect(malformed.status != 0)
        #expect(malformed.stderr.contains("$.Statement: Statement must be an object or an array of them"))
    }
}
