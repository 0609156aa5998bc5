import Foundation
import ShoalTestSupport
import Testing

/// Batch transform end to end: a training step makes the artifact, a Model
/// step names it with its inference code, and a Transform step runs the
/// handler over 3 input files on 2 instances.
@Suite(.serialized) struct TransformStepTests {
    let home: TemporaryHome
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:1.0"

    init() throws { home = try TemporaryHome() }

    func stageCode(_ inference: String) throws {
        let source = home.url.appendingPathComponent("scratch/src")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try Data(inference.utf8).write(to: source.appendingPathComponent("inference.py"))
        let archive = home.url.appendingPathComponent("scratch/sourcedir.tar.gz").path
        try #require(try ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/tar"), ["-czf", archive, "-C", source.path, "inference.py"]).status == 0)
        try #require(try home.shoal(["cp", archive, "s3://b/code/sourcedir.tar.gz"]).status == 0)
    }

    func pipeline(transform: [String: Any]) -> [String: Any] {
        ["Version": "2020-12-01", "Steps": [
            ["Name": "Train", "Type": "Training", "Arguments": [
                "AlgorithmSpecification": ["TrainingImage": image, "ContainerEntrypoint": ["/bin/sh", "-c", "echo '{\"w\": 2}' > /opt/ml/model/model.json"]],
                "OutputDataConfig": ["S3OutputPath": "s3://b/out"], "RoleArn": "r",
                "ResourceConfig": ["InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1],
            ] as [String: Any]],
            ["Name": "MakeModel", "Type": "Model", "Arguments": [
                "ExecutionRoleArn": "r",
                "PrimaryContainer": [
                    "Image": image, "ModelDataUrl": ["Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"],
                    "Environment": ["SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/code/sourcedir.tar.gz"],
                ] as [String: Any],
            ] as [String: Any]],
            ["Name": "Score", "Type": "Transform", "Arguments": transform],
        ]]
    }

    func run(_ definition: [String: Any]) throws -> ShoalProcess.Outcome {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: definition), as: UTF8.self)
        return try home.shoal(["run", try home.file("pipeline.json", text), "--workers", "2"], timeout: 180)
    }

    func read(_ uri: String) throws -> String {
        let local = home.url.appendingPathComponent("scratch/read-\(UUID().uuidString.prefix(6))").path
        try #require(try home.shoal(["cp", uri, local]).status == 0, "\(uri)")
        return try String(contentsOfFile: local, encoding: .utf8)
    }

    @Test func threeFilesOverTwoInstancesSplitByLineFilteredAndJoinedWithTheirInput() throws {
        try stageCode("""
            import json, os
            def model_fn(model_dir):
                return json.load(open(os.path.join(model_dir, "model.json")))["w"]
            def input_fn(body, content_type):
                assert content_type == "text/csv", content_type
                return [[float(x) for x in line.split(",")] for line in body.split("\\n")]
            def predict_fn(rows, w):
                return [w * row[0] + row[1] for row in rows]
            def output_fn(predictions, accept):
                return "\\n".join("%g" % p for p in predictions)
            """)
        let inputs = ["a.csv": "id1,1,10\nid2,2,20\n", "b.csv": "id3,3,30\n", "nested/c.csv": "id4,4,40\nid5,5,50\nid6,6,60\n"]
        for (name, text) in inputs {
            try #require(try home.shoal(["cp", try home.file(name.replacingOccurrences(of: "/", with: "-"), text), "s3://b/batch/\(name)"]).status == 0)
        }
        let outcome = try run(pipeline(transform: [
            "ModelName": ["Get": "Steps.MakeModel.ModelName"],
            "TransformInput": ["DataSource": ["S3DataSource": ["S3DataType": "S3Prefix", "S3Uri": "s3://b/batch/"]], "ContentType": "text/csv", "SplitType": "Line"],
            "TransformOutput": ["S3OutputPath": "s3://b/scored", "Accept": "text/csv", "AssembleWith": "Line"],
            "TransformResources": ["InstanceCount": 2, "InstanceType": "ml.m5.large"],
            "BatchStrategy": "MultiRecord", "MaxPayloadInMB": 1,
            "DataProcessing": ["InputFilter": "$[1:]", "JoinSource": "Input"],
        ] as [String: Any]))
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(try read("s3://b/scored/a.csv.out") == "id1,1,10,12\nid2,2,20,24\n")
        #expect(try read("s3://b/scored/b.csv.out") == "id3,3,30,36\n")
        #expect(try read("s3://b/scored/nested/c.csv.out") == "id4,4,40,48\nid5,5,50,60\nid6,6,60,72\n")
        let score = try #require(try home.latestSteps().first { $0["name"] as? String == "Score" })
        let properties = try #require(score["properties"] as? [String: Any])
        #expect(properties["TransformJobStatus"] as? String == "Completed")
        #expect(((properties["TransformOutput"] as? [String: Any])?["S3OutputPath"] as? String) == "s3://b/scored")
        let logs = try home.shoal(["logs", try home.latestExecutionId(), "Score"]).stdout
        #expect(logs.contains("==> algo-1") && logs.contains("==> algo-2"), "both instances worked: \(logs)")
    }

    /// CacheConfig on training and transform: a second run reuses both (the Model
    /// step makes a new model name, the same container); new input data is a miss.
    @Test func cachedTrainingAndTransformAreReusedUntilTheInputChanges() throws {
        try stageCode("""
            import json, os
            def model_fn(model_dir):
                return json.load(open(os.path.join(model_dir, "model.json")))["w"]
            def input_fn(body, content_type):
                return body.split()
            def predict_fn(rows, w):
                return [w * int(x) for x in rows]
            def output_fn(predictions, accept):
                return "\\n".join(str(p) for p in predictions)
            """)
        try #require(try home.shoal(["cp", try home.file("x.csv", "1\n2\n"), "s3://b/batch/x.csv"]).status == 0)
        var definition = pipeline(transform: [
            "ModelName": ["Get": "Steps.MakeModel.ModelName"],
            "TransformInput": ["DataSource": ["S3DataSource": ["S3DataType": "S3Prefix", "S3Uri": "s3://b/batch/"]], "ContentType": "text/csv"],
            "TransformOutput": ["S3OutputPath": "s3://b/scored"],
            "TransformResources": ["InstanceCount": 1, "InstanceType": "ml.m5.large"],
        ] as [String: Any])
        var steps = definition["Steps"] as! [[String: Any]]
        for index in [0, 2] { steps[index]["CacheConfig"] = ["Enabled": true, "ExpireAfter": "P1D"] }
        definition["Steps"] = steps
        func notes() throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try home.latestSteps().map { ($0["name"] as? String ?? "", String(($0["note"] as? String ?? "").prefix(9))) })
        }
        let first = try run(definition)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(try notes()["Score"] == "cache mis")
        #expect(try read("s3://b/scored/x.csv.out") == "2\n4")
        let again = try run(definition)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try notes() == ["Train": "cache hit", "MakeModel": "", "Score": "cache hit"])
        try #require(try home.shoal(["cp", try home.file("x.csv", "3\n"), "s3://b/batch/x.csv"]).status == 0)
        #expect(try run(definition).status == 0)
        #expect(try notes()["Score"] == "cache mis", "new data under the same URI is a miss")
        #expect(try read("s3://b/scored/x.csv.out") == "6")
    }

    @Test func singleRecordWithJSONLinesAndAnOutputFilter() throws {
        try stageCode("""
            import json
            def model_fn(model_dir): return None
            def input_fn(body, content_type): return json.loads(body)
            def predict_fn(record, model): return {"label": record["x"] > 1, "score": record["x"] / 10}
            def output_fn(prediction, accept): return json.dumps(prediction)
            """)
        try #require(try home.shoal(["cp", try home.file("in.jsonl", "{\"x\": 1}\n{\"x\": 5}\n"), "s3://b/json/in.jsonl"]).status == 0)
        let outcome = try run(pipeline(transform: [
            "ModelName": ["Get": "Steps.MakeModel.ModelName"],
            "TransformInput": ["DataSource": ["S3DataSource": ["S3DataType": "S3Prefix", "S3Uri": "s3://b/json/"]], "ContentType": "application/json", "SplitType": "Line"],
            "TransformOutput": ["S3OutputPath": "s3://b/labels", "Accept": "application/json", "AssembleWith": "Line"],
            "TransformResources": ["InstanceCount": 1, "InstanceType": "ml.m5.large"],
            "BatchStrategy": "SingleRecord",
            "DataProcessing": ["JoinSource": "Input", "OutputFilter": "$..label"],
        ] as [String: Any]))
        // The filter above is not in the subset Shoal reads: the step fails, naming it.
        #expect(outcome.status == 1)
        let reason = try #require(try home.latestSteps().first { $0["name"] as? String == "Score" }?["failureReason"] as? String)
        #expect(reason.contains("the JSONPath '$..label' is not one Shoal reads"), "\(reason)")
        let fixed = try run(pipeline(transform: [
            "ModelName": ["Get": "Steps.MakeModel.ModelName"],
            "TransformInput": ["DataSource": ["S3DataSource": ["S3DataType": "S3Prefix", "S3Uri": "s3://b/json/"]], "ContentType": "application/json", "SplitType": "Line"],
            "TransformOutput": ["S3OutputPath": "s3://b/labels", "Accept": "application/json", "AssembleWith": "Line"],
            "TransformResources": ["InstanceCount": 1, "InstanceType": "ml.m5.large"],
            "BatchStrategy": "SingleRecord",
            "DataProcessing": ["JoinSource": "Input", "OutputFilter": "$['x','SageMakerOutput']"],
        ] as [String: Any]))
        #expect(fixed.status == 0, "\(fixed.stdout)\n\(fixed.stderr)")
        let lines = try read("s3://b/labels/in.jsonl.out").split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.map { $0?["x"] as? Int } == [1, 5])
        let outputs = lines.map { $0?["SageMakerOutput"] as? [String: Any] }
        #expect(outputs.map { $0?["label"] as? Bool } == [false, true])
        #expect(outputs.map { $0?["score"] as? Double } == [0.1, 0.5])
    }

    @Test func aTransformOfAModelThatDoesNotExistFailsNamingIt() throws {
        let definition: [String: Any] = ["Version": "2020-12-01", "Steps": [["Name": "Score", "Type": "Transform", "Arguments": [
            "ModelName": "nowhere",
            "TransformInput": ["DataSource": ["S3DataSource": ["S3DataType": "S3Prefix", "S3Uri": "s3://b/x/"]]],
            "TransformOutput": ["S3OutputPath": "s3://b/y"], "TransformResources": ["InstanceCount": 1, "InstanceType": "ml.m5.large"],
        ] as [String: Any]]]]
        #expect(try run(definition).status == 1)
        let reason = try #require(try home.latestSteps().first?["failureReason"] as? String)
        #expect(reason.contains("no model 'nowhere'"), "\(reason)")
    }
}
