import Foundation
import ShoalDefinition
import ShoalStore
import ShoalTestSupport
import Testing

/// Step caching end to end through `shoal run` with real workers: a
/// processing step with CacheConfig, and a condition that reads its property
/// file, so a hit must hand the downstream step what the reused run wrote.
@Suite(.serialized) struct StepCacheTests {
    let home: TemporaryHome
    let data: String

    init() throws {
        home = try TemporaryHome()
        data = try home.file("data.txt", "3\n")
        try #require(try home.shoal(["cp", data, "s3://b/in/data.txt"]).status == 0)
    }

    func definition(expireAfter: String? = nil) throws -> String {
        let report = PropertyFile(name: "Report", outputName: "out", filePath: "report.json")
        let work = Step.processing("Work", arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 1, imageUri: "python",
            entrypoint: ["python3", "-c", .string("""
                import json
                value = int(open('/opt/ml/processing/input/data/data.txt').read())
                json.dump({'value': value}, open('/opt/ml/processing/out/report.json', 'w'))
                """)],
            roleArn: "arn:aws:iam::1:role/R",
            inputs: [ProcessingInput(inputName: "data", s3Input: S3Input(s3Uri: "s3://b/in/data.txt", localPath: "/opt/ml/processing/input/data"))],
            outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/out", localPath: "/opt/ml/processing/out"))]
        ), propertyFiles: [report], cacheConfig: CacheConfig(enabled: true, expireAfter: expireAfter))
        let definition = PipelineDefinition {
            work
            Step.condition("Check", [.greaterThan(work.jsonGet(report, path: "value"), 2)])
        }
        return try home.file("pipeline.json", definition.jsonText(pretty: true))
    }

    /// Runs the pipeline and returns its execution id and steps by name.
    func run(_ path: String) throws -> (id: String, steps: [String: [String: Any]]) {
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        let id = try home.latestExecutionId()
        let steps = try #require(try home.json(["steps", id]) as? [[String: Any]])
        return (id, Dictionary(uniqueKeysWithValues: steps.map { ($0["name"] as? String ?? "", $0) }))
    }

    func source(_ step: [String: Any]?) -> String? {
        (step?["cacheHitResult"] as? [String: Any])?["sourcePipelineExecutionArn"] as? String
    }

    @Test func aSecondRunWithTheSameInputIsACacheHitAndTheConditionReadsTheReusedOutput() throws {
        let path = try definition()
        let first = try run(path)
        #expect(first.steps["Work"]?["attempts"] as? Int == 1)
        #expect(source(first.steps["Work"]) == nil)
        #expect((first.steps["Work"]?["note"] as? String)?.hasPrefix("cache miss: no earlier successful run") == true)

        let second = try run(path)
        #expect(second.steps["Work"]?["status"] as? String == "Succeeded")
        #expect(second.steps["Work"]?["attempts"] as? Int == 0, "no instance ran")
        #expect(source(second.steps["Work"])?.hasSuffix("/execution/\(first.id)") == true, "\(second.steps["Work"] ?? [:])")
        #expect(second.steps["Check"]?["status"] as? String == "Succeeded")
        #expect((second.steps["Check"]?["properties"] as? [String: Any])?["Outcome"] as? String == "True")
        let listed = try #require(try home.json(["cache", "list", "--pipeline", "pipeline"]) as? [[String: Any]])
        #expect(listed.count == 1 && listed.first?["executionId"] as? String == first.id, "\(listed)")
        let text = try home.shoal(["steps", second.id])
        #expect(text.stdout.contains("cache hit: reused the run of execution \(first.id)"), "\(text.stdout)")
    }

    /// New data at the same URI is a miss (SageMaker would hit), and the new run is used after.
    @Test func anInputObjectChangedAtTheSameURIIsAMiss() throws {
        let path = try definition()
        let first = try run(path)
        try Data("1\n".utf8).write(to: URL(fileURLWithPath: data))
        try #require(try home.shoal(["cp", data, "s3://b/in/data.txt"]).status == 0)
        let second = try run(path)
        #expect(second.steps["Work"]?["attempts"] as? Int == 1)
        #expect(second.steps["Work"]?["note"] as? String == "cache miss: an input object changed since the run of execution \(first.id)")
        #expect((second.steps["Check"]?["properties"] as? [String: Any])?["Outcome"] as? String == "False", "the new data was read")
        #expect(source(try run(path).steps["Work"])?.hasSuffix(second.id) == true)
    }

    @Test func deletedOutputsAreAMissNotAFailure() throws {
        let path = try definition()
        let first = try run(path)
        let report = home.url.appendingPathComponent("objects/b/out/report.json")
        try FileManager.default.removeItem(at: report)
        let second = try run(path)
        #expect(second.steps["Work"]?["attempts"] as? Int == 1)
        #expect(second.steps["Work"]?["note"] as? String == "cache miss: the outputs of execution \(first.id)'s run changed in the store (s3://b/out/report.json)")
        #expect(FileManager.default.fileExists(atPath: report.path))
    }

    @Test func anExpiredRunIsAMiss() throws {
        let path = try definition(expireAfter: "PT1S")
        let first = try run(path)
        Thread.sleep(forTimeInterval: 1.2)
        let second = try run(path)
        #expect(second.steps["Work"]?["note"] as? String == "cache miss: the run of execution \(first.id) expired (ExpireAfter)")
        #expect(second.steps["Work"]?["attempts"] as? Int == 1)
    }

    @Test func clearingTheCacheMakesTheNextRunWork() throws {
        let path = try definition(expireAfter: "P30D")
        _ = try run(path)
        let cleared = try home.shoal(["cache", "clear", "--pipeline", "pipeline", "--step", "Work"])
        #expect(cleared.stdout == "removed 1 cached run\n", "\(cleared.stdout)\(cleared.stderr)")
        let second = try run(path)
        #expect(second.steps["Work"]?["attempts"] as? Int == 1)
        #expect(source(second.steps["Work"]) == nil)
    }

    /// A Lambda step's key is its function (as registered) and its event.
    @Test func aLambdaStepIsReusedUntilItsFunctionIsRegisteredAgain() throws {
        let script = try home.file("fn.py", "def handler(event, context):\n    return {'n': str(event['rows'] * 2)}\n")
        func register() throws { #expect(try home.shoal(["functions", "create", "--name", "fn", "--script", script, "--handler", "fn.handler"]).status == 0) }
        try register()
        let ask = Step.lambda("Ask", functionArn: "fn", arguments: ["rows": 3], outputs: [.init(name: "n", type: .integer)], cacheConfig: CacheConfig(enabled: true))
        let definition = PipelineDefinition {
            ask
            Step.fail("Report", message: .join(on: " ", ["n is", ask.output("n")]), dependsOn: ["Ask"])
        }
        let path = try home.file("lambda.json", definition.jsonText())
        func run() throws -> [String: [String: Any]] {
            let outcome = try home.shoal(["run", path, "--workers", "1"])
            #expect(outcome.stderr.contains("Failed: n is 6"), "\(outcome.stderr)")
            let steps = try #require(try home.json(["steps", try home.latestExecutionId()]) as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: steps.map { ($0["name"] as? String ?? "", $0) })
        }
        let first = try run()
        #expect(first["Ask"]?["attempts"] as? Int == 1)
        let second = try run()
        #expect(second["Ask"]?["attempts"] as? Int == 0)
        #expect(source(second["Ask"]) != nil)
        Thread.sleep(forTimeInterval: 0.01)
        try register()
        let third = try run()
        #expect(third["Ask"]?["attempts"] as? Int == 1, "new code, new key")
    }

    /// A fan-out is reused whole: no item runs again, and its results stay where they were gathered.
    @Test func aMapStepIsReusedUntilItsItemsChange() throws {
        let code = "def handler(event, context):\n    return {'double': event['item'] * 2}\n"
        #expect(try home.shoal(["functions", "create", "--name", "fn", "--script", try home.file("fn.py", code), "--handler", "fn.handler"]).status == 0)
        func path(_ items: [Int]) throws -> String {
            var map = Step.map(
                "Each", items: .array(items.map { .number(.int($0)) }),
                work: ("Function", ["FunctionArn": "fn", "OutputParameters": [["OutputName": "double", "OutputType": "Integer"]]]),
                extra: ["ResultsS3Uri": "s3://b/results.json"]
            )
            map.cacheConfig = CacheConfig(enabled: true)
            return try home.file("map.json", PipelineDefinition(parameters: [], steps: [map]).jsonText())
        }
        func run(_ items: [Int]) throws -> [String: Any] {
            let outcome = try home.shoal(["run", try path(items), "--workers", "1"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            return try #require((try home.json(["steps", try home.latestExecutionId()]) as? [[String: Any]])?.first)
        }
        let first = try run([1, 2, 3])
        #expect(first["attempts"] as? Int == 3, "one invocation per item")
        let second = try run([1, 2, 3])
        #expect(second["attempts"] as? Int == 0)
        #expect(source(second) != nil)
        #expect((second["properties"] as? [String: Any])?["Succeeded"] as? Int == 3)
        let third = try run([1, 2, 3, 4])
        #expect(third["attempts"] as? Int == 4)
        #expect(third["note"] as? String == "cache miss: no earlier successful run of this step with these arguments")
    }

    /// The SDK v3 fixture with CacheConfig and RetryPolicies, run twice as
    /// written: its cached four-instance step is reused, its uncached one runs again.
    @Test func theSDKFixtureWithCacheConfigRunsWithItsSemantics() throws {
        let featurize = try home.file("featurize.py", """
            import os, json
            host = json.load(open('/opt/ml/config/resourceconfig.json'))['current_host']
            shards = sorted(os.listdir('/opt/ml/processing/input/shards'))
            open('/opt/ml/processing/output/features/' + host + '.txt', 'w').write(','.join(shards))
            """)
        let summarize = try home.file("summarize.py", "print('summarized')\n")
        for (local, uri) in [(featurize, "s3://my-bucket/code/featurize.py"), (summarize, "s3://my-bucket/code/summarize.py"),
                             (data, "s3://my-bucket/datasets/images/a.png"), (data, "s3://my-bucket/datasets/images/b.png"),
                             (data, "s3://my-bucket/datasets/lookup/table.csv")] {
            try #require(try home.shoal(["cp", local, uri]).status == 0)
        }
        let path = Fixtures.folder.appendingPathComponent("sagemaker-v3/03_four_instances_cache_retry.json").path
        let first = try run(path)
        #expect(first.steps["ShardedFeaturize"]?["attempts"] as? Int == 4)
        let second = try run(path)
        #expect(second.steps["ShardedFeaturize"]?["attempts"] as? Int == 0)
        #expect(source(second.steps["ShardedFeaturize"])?.hasSuffix(first.id) == true)
        #expect(second.steps["Summarize"]?["attempts"] as? Int == 1, "CacheConfig Enabled false: it runs every time")
        #expect(second.steps["Summarize"]?["status"] as? String == "Succeeded")
    }

    @Test func aBadExpireAfterFailsTheStepNamingIt() throws {
        let outcome = try home.shoal(["run", try definition(expireAfter: "1 hour"), "--workers", "1"])
        #expect(outcome.status == 1)
        #expect((outcome.stdout + outcome.stderr).contains("ExpireAfter '1 hour' is not an ISO 8601 duration"), "\(outcome.stdout)\(outcome.stderr)")
    }
}
