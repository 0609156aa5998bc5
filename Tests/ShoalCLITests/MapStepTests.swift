import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

@Suite(.serialized) struct MapStepTests {
    func fanout(_ home: TemporaryHome, _ arguments: [String] = []) throws -> ShoalProcess.Outcome {
        try home.example("fanout", arguments)
    }

    @Test func fanoutExampleGathersEveryChildAndBranchesOnTheCount() throws {
        let home = try TemporaryHome()
        let outcome = try fanout(home)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let parent = try home.latestExecutionId()
        let children = try #require(try home.json(["executions", "list", "--parent", parent]) as? [[String: Any]])
        #expect(children.count == 20)
        #expect(children.allSatisfy { $0["status"] as? String == "Succeeded" && $0["pipeline"] as? String == "score-item" && $0["pipelineVersion"] as? Int == 1 })
        let steps = try home.latestSteps()
        let map = try #require(steps.first { $0["name"] as? String == "FanOut" }?["properties"] as? [String: Any])
        #expect(map["Succeeded"] as? Int == 20)
        let uri = try #require(map["ResultsS3Uri"] as? String)
        let gathered = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: home.url.appendingPathComponent("objects/" + uri.dropFirst(5)))) as? [String: Any])
        let results = try #require(gathered["results"] as? [[String: Any]])
        #expect(results.map { $0["index"] as? Int } == Array(0..<20))
        #expect(results.first?["item"] as? String == "alpha")
        #expect(results.allSatisfy { ($0["outputs"] as? [String: Any])?["score"] is Double })
        let countBad = try #require(steps.first { $0["name"] as? String == "CountBad" }?["properties"] as? [String: Any])
        #expect((countBad["OutputParameters"] as? [String: Any])?["bad_count"] as? Int == 4)

        let strict = try home.shoal(["run", Fixtures.repositoryRoot.appendingPathComponent("examples/fanout/pipeline.json").path, "--param", "BadThreshold=2", "--workers", "2"])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("too many bad items: 4 ( bravo,india,oscar,sierra )"))
    }

    /// A parent whose map step invokes `fn` per item (or runs `child` per item).
    func scenario(_ home: TemporaryHome, map: Step, parameters: [Parameter] = []) throws -> String {
        let definition = PipelineDefinition(parameters: parameters, steps: [map])
        return try home.file("parent-\(UUID().uuidString.prefix(6)).json", definition.jsonText())
    }

    @Test func functionPerItemWithToleratedFailuresAndItemsFromAParameter() throws {
        let home = try TemporaryHome()
        let code = "def handler(event, context):\n    if event['item'] == 'bad':\n        raise ValueError('bad item')\n    return {'length': len(event['item']) * event['scale']}\n"
        #expect(try home.shoal(["functions", "create", "--name", "fn", "--script", try home.file("fn.py", code), "--handler", "fn.handler"]).status == 0)
        let map = Step.map(
            "EachItem", items: .parameter("ItemsJson"),
            work: ("Function", ["FunctionArn": "fn", "OutputParameters": [["OutputName": "length", "OutputType": "Integer"]]]),
            extra: ["Parameters": ["scale": 2], "ToleratedFailureCount": 1, "MaxConcurrency": 2, "ResultsS3Uri": "s3://b/results.json"]
        )
        let path = try scenario(home, map: map, parameters: [Parameter(name: "ItemsJson", type: .string, defaultValue: #"["ab", "bad", "abcd"]"#)])
        let outcome = try home.shoal(["run", path, "--workers", "2"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let gathered = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: home.url.appendingPathComponent("objects/b/results.json"))) as? [String: Any])
        let results = try #require(gathered["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["Succeeded", "Failed", "Succeeded"])
        #expect(results.map { ($0["outputs"] as? [String: Int])?["length"] } == [4, nil, 8])
        #expect((results[1]["failureReason"] as? String)?.contains("ValueError: bad item") == true)
        #expect(gathered["failed"] as? Int == 1)
        #expect((try home.json(["executions", "list", "--parent", try home.latestExecutionId()]) as? [Any])?.isEmpty == true, "no child executions in function mode")
        // The step's record keeps its item counts (the console draws them in the map's node).
        let steps = try #require(try home.json(["steps", try home.latestExecutionId(), "--output", "json"]) as? [[String: Any]])
        let items = try #require(steps.first { $0["name"] as? String == "EachItem" }?["items"] as? [String: Int])
        #expect(items == ["succeeded": 2, "failed": 1, "total": 3])

        let strict = try home.shoal(["run", path, "--workers", "2", "--param", #"ItemsJson=["bad", "bad"]"#])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("2 of 2 items failed; at most 1 may"))
        let notAList = try home.shoal(["run", path, "--workers", "1", "--param", #"ItemsJson={"a": 1}"#])
        #expect(notAList.stderr.contains("Items resolved to an object"))
    }

    @Test func inlineChildrenOverObjectsUnderAPrefixWithAMissingOutput() throws {
        let home = try TemporaryHome()
        for name in ["a.csv", "b.csv"] { #expect(try home.shoal(["cp", try home.file(name, "x"), "s3://b/in/\(name)"]).status == 0) }
        let child = PipelineDefinition {
            Parameter(name: "Item", type: .string)
            Parameter(name: "ItemIndex", type: .integer, defaultValue: 0)
            Step.condition("Look", [.equals(.parameter("ItemIndex"), .parameter("ItemIndex"))])
        }
        let arguments: ShoalDefinition.Expression = [
            "ItemsFromS3Prefix": "s3://b/in/",
            "Definition": ShoalDefinition.Expression(literal: child.json),
            "Outputs": [["Name": "outcome", "Property": "Steps.Look.Outcome"], ["Name": "missing", "Property": "Steps.Look.Nothing"]],
            "ResultsS3Uri": "s3://b/gathered.json",
        ]
        let path = try scenario(home, map: Step(name: "Each", type: .shoalMap, arguments: .other(arguments)))
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let gathered = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: home.url.appendingPathComponent("objects/b/gathered.json"))) as? [String: Any])
        let results = try #require(gathered["results"] as? [[String: Any]])
        #expect(results.map { $0["item"] as? String } == ["s3://b/in/a.csv", "s3://b/in/b.csv"])
        #expect(results.allSatisfy { ($0["outputs"] as? [String: Any])?["outcome"] as? String == "True" })
        #expect(results.allSatisfy { ($0["outputs"] as? [String: Any])?["missing"] is NSNull })
        #expect(results.allSatisfy { (($0["outputErrors"] as? [String: String])?["missing"])?.contains("is undefined") == true })
    }

    @Test func aChildPipelineThatDoesNotExistFailsTheStepNamingIt() throws {
        let home = try TemporaryHome()
        let path = try scenario(home, map: Step.map("Each", items: ["x"], work: ("Pipeline", ["Name": "ghost"])))
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("Step 'Each' fans out to a pipeline that cannot be run: no pipeline 'ghost'"))
        #expect((try home.json(["executions", "list"]) as? [Any])?.isEmpty == true, "refused before anything was recorded")
    }

    @Test func stoppingTheParentStopsItsChildrenAndWritesNoResults() throws {
        let home = try TemporaryHome()
        let child = PipelineDefinition {
            Parameter(name: "Item", type: .string)
            Parameter(name: "ItemIndex", type: .integer, defaultValue: 0)
            Step.processing("Sleep", arguments: ProcessingArguments(
                instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh", entrypoint: ["/bin/sleep", "30"], roleArn: "arn:aws:iam::1:role/R"
            ))
        }
        #expect(try home.shoal(["pipelines", "create", "sleeper", "--definition", try home.file("child.json", child.jsonText())]).status == 0)
        let path = try scenario(home, map: Step.map("Each", items: ["a", "b", "c"], work: ("Pipeline", ["Name": "sleeper"]), extra: ["ResultsS3Uri": "s3://b/never.json"]))
        let runner = try home.start(["run", path, "--workers", "2"])
        defer { if runner.isRunning { runner.terminate() } }
        var parent: String?
        for _ in 0..<100 where parent == nil {
            usleep(100_000)
            if let executions = try? home.json(["executions", "list"]) as? [[String: Any]], executions.count >= 3,
               let root = executions.first(where: { $0["parentExecutionId"] == nil || $0["parentExecutionId"] is NSNull })?["id"] as? String {
                parent = root
            }
        }
        let id = try #require(parent)
        #expect(try home.shoal(["stop", id]).status == 0)
        for _ in 0..<100 where runner.isRunning { usleep(100_000) }
        #expect(!runner.isRunning)
        let children = try #require(try home.json(["executions", "list", "--parent", id]) as? [[String: Any]])
        #expect(!children.isEmpty && children.allSatisfy { $0["status"] as? String == "Stopped" })
        #expect((try home.json(["executions", "describe", id]) as? [String: Any])?["status"] as? String == "Stopped")
        #expect(!FileManager.default.fileExists(atPath: home.url.appendingPathComponent("objects/b/never.json").path))
    }
}

@Suite(.serialized) struct ItemShardTests {
    @Test func itemsAreDealtAcrossInstancesAsAFileAndAVariable() throws {
        let home = try TemporaryHome()
        let script = """
            import json, os
            host = json.load(open('/opt/ml/config/resourceconfig.json'))['current_host']
            from_file = json.load(open(os.environ['SHOAL_ITEMS_FILE']))
            assert from_file == json.loads(os.environ['SHOAL_ITEMS'])
            json.dump(from_file, open(f'/opt/ml/processing/out/{host}.json', 'w'))
            """
        #expect(try home.shoal(["cp", try home.file("share.py", script), "s3://b/code/share.py"]).status == 0)
        var arguments = ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 4, imageUri: "python", entrypoint: ["python3", "/opt/ml/processing/input/code/share.py"],
            roleArn: "arn:aws:iam::1:role/R",
            inputs: [ProcessingInput(inputName: "code", s3Input: S3Input(s3Uri: "s3://b/code/share.py", localPath: "/opt/ml/processing/input/code"))],
            outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/shares", localPath: "/opt/ml/processing/out"))]
        )
        arguments.extra["Shoal:ItemShards"] = ["Items": .parameter("Items")]
        let definition = PipelineDefinition {
            Parameter(name: "Items", type: .string, defaultValue: .string(JSONWriter.string(.array((0..<10).map { .string("item-\($0)") }))))
            Step.processing("Deal", arguments: arguments)
        }
        let path = try home.file("p.json", definition.jsonText())
        let outcome = try home.shoal(["run", path, "--workers", "2"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        for host in 1...4 {
            let share = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: home.url.appendingPathComponent("objects/b/shares/algo-\(host).json"))) as? [String])
            #expect(share == stride(from: host - 1, to: 10, by: 4).map { "item-\($0)" })
        }
        let notAList = try home.shoal(["run", path, "--workers", "1", "--param", "Items=12"])
        #expect(notAList.stderr.contains("Shoal:ItemShards.Items resolved to a number, not a list"))
    }
}
