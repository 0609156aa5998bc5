import Foundation
import ShoalRuntime
import ShoalTestSupport
import Testing

/// Training steps end to end through `shoal run` with real workers: script
/// mode from a source archive in the store, channels, model.tar.gz, metrics
/// read from the log into a condition, hosts reaching each other by name.
@Suite(.serialized) struct TrainingStepTests {
    let home: TemporaryHome
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:1.0"

    init() throws { home = try TemporaryHome() }

    /// Uploads `train.py` (and `more` files of the source directory) as sourcedir.tar.gz, and the channel's files.
    func stage(script: String, channel: [String: String], more: [String: String] = [:]) throws {
        let source = home.url.appendingPathComponent("scratch/src")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try Data(script.utf8).write(to: source.appendingPathComponent("train.py"))
        for (name, text) in more { try Data(text.utf8).write(to: source.appendingPathComponent(name)) }
        let archive = home.url.appendingPathComponent("scratch/sourcedir.tar.gz").path
        let tar = try ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/tar"), ["-czf", archive, "-C", source.path, "train.py"] + more.keys.sorted())
        try #require(tar.status == 0, "\(tar.stderr)")
        try #require(try home.shoal(["cp", archive, "s3://b/code/sourcedir.tar.gz"]).status == 0)
        for (name, text) in channel {
            try #require(try home.shoal(["cp", try home.file(name, text), "s3://b/data/\(name)"]).status == 0)
        }
    }

    func training(instances: Int = 1, distribution: String = "FullyReplicated", hyperparameters: [String: String] = [:], maxRuntime: Int = 600) -> [String: Any] {
        var parameters = ["sagemaker_program": "\"train.py\"", "sagemaker_submit_directory": "\"s3://b/code/sourcedir.tar.gz\""]
        parameters.merge(hyperparameters) { $1 }
        return [
            "Name": "Train", "Type": "Training",
            "Arguments": [
                "AlgorithmSpecification": [
                    "TrainingImage": image, "TrainingInputMode": "File",
                    "MetricDefinitions": [["Name": "validation:rmse", "Regex": "validation-rmse:([0-9\\.]+)"]],
                ],
                "HyperParameters": parameters,
                "OutputDataConfig": ["S3OutputPath": "s3://b/models"],
                "ResourceConfig": ["InstanceCount": instances, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30],
                "StoppingCondition": ["MaxRuntimeInSeconds": maxRuntime],
                "RoleArn": "arn:aws:iam::1:role/R",
                "InputDataConfig": [[
                    "ChannelName": "train", "ContentType": "text/csv",
                    "DataSource": ["S3DataSource": ["S3DataType": "S3Prefix", "S3Uri": "s3://b/data/", "S3DataDistributionType": distribution]],
                ]],
            ] as [String: Any],
        ]
    }

    func run(_ steps: [[String: Any]], workers: Int = 1) throws -> ShoalProcess.Outcome {
        let definition: [String: Any] = ["Version": "2020-12-01", "Steps": steps]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: definition), as: UTF8.self)
        return try home.shoal(["run", try home.file("pipeline.json", text), "--workers", String(workers)], timeout: 180)
    }

    /// The members of a stored tar.gz, and one member's text.
    func archive(_ uri: String, member: String) throws -> (names: [String], text: String) {
        let local = home.url.appendingPathComponent("scratch/got.tar.gz").path
        try #require(try home.shoal(["cp", uri, local]).status == 0)
        let listing = try ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/tar"), ["-tzf", local])
        let text = try ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/tar"), ["-xzOf", local, member])
        return (listing.stdout.split(separator: "\n").map(String.init).sorted(), text.stdout)
    }

    /// The source directory's requirements.txt joins a python runtime's environment
    /// (SageMaker's containers pip-install it before the entry point); a pip option in it is refused.
    @Test func aSourceDirectorysRequirementsJoinThePythonEnvironment() throws {
        // A fresh environment each run: the image's requirement list carries a comment unique to it.
        let tag = "t\(getpid())\(Int.random(in: 0..<1_000_000))"
        #expect(try home.shoal(["images", "map", "*/sourced:*", "python", "--package", "# \(tag)"]).status == 0)
        defer {
            // What this test built is forgotten, so the next run starts afresh.
            let folder = PythonEnvironment.cacheFolder
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where entry.hasSuffix(".requirements") {
                guard (try? String(contentsOfFile: folder + "/" + entry, encoding: .utf8))?.contains(tag) == true else { continue }
                let name = String(entry.dropLast(".requirements".count))
                for other in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where other.hasPrefix(name) {
                    try? FileManager.default.removeItem(atPath: folder + "/" + other)
                }
            }
        }
        try stage(script: "import six\nprint('six', six.__version__)\n", channel: ["a.csv": "1\n"], more: ["requirements.txt": "six==1.16.0  # the one thing\n"])
        var step = training()
        var arguments = step["Arguments"] as! [String: Any]
        var algorithm = arguments["AlgorithmSpecification"] as! [String: Any]
        algorithm["TrainingImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sourced:\(tag)"
        arguments["AlgorithmSpecification"] = algorithm
        step["Arguments"] = arguments
        let outcome = try run([step])
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        let logs = try home.shoal(["logs", try home.latestExecutionId(), "Train"]).stdout
        #expect(logs.contains("six 1.16.0"), "\(logs)")
        #expect(logs.contains("building the python environment") && logs.contains("Collecting six==1.16.0"), "built with the source directory's requirement: \(logs)")

        try stage(script: "print('never')\n", channel: [:], more: ["requirements.txt": "-e .\n"])
        let refused = try run([step])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("requirements.txt line 1 '-e .' is a pip option"), "\(refused.stderr)")
    }

    /// CacheConfig on a training step: the second run reuses the first's model;
    /// a change to the source directory is a miss.
    @Test func aCachedTrainingStepReusesTheModelUntilItsCodeChanges() throws {
        try stage(script: "import os\nopen(os.environ['SM_MODEL_DIR'] + '/m.txt', 'w').write('one')\nprint('trained')\n", channel: ["a.csv": "1\n"])
        var step = training()
        step["CacheConfig"] = ["Enabled": true, "ExpireAfter": "PT1H"]
        func note() throws -> (note: String, artifact: String) {
            let steps = try #require(try home.json(["steps", try home.latestExecutionId(), "--output", "json"]) as? [[String: Any]])
            let train = try #require(steps.first { $0["name"] as? String == "Train" })
            let properties = try #require(train["properties"] as? [String: Any])
            let artifact = try #require((properties["ModelArtifacts"] as? [String: Any])?["S3ModelArtifacts"] as? String)
            return (train["note"] as? String ?? "", artifact)
        }
        #expect(try run([step]).status == 0)
        let first = try note()
        #expect(first.note.hasPrefix("cache miss"), "\(first)")
        let again = try run([step])
        #expect(again.status == 0, "\(again.stderr)")
        let second = try note()
        #expect(second.note.hasPrefix("cache hit"), "\(second)")
        #expect(second.artifact == first.artifact, "the hit names the first run's model")
        #expect(try archive(second.artifact, member: "m.txt").text == "one")

        try stage(script: "import os\nopen(os.environ['SM_MODEL_DIR'] + '/m.txt', 'w').write('two')\n", channel: ["a.csv": "1\n"])
        #expect(try run([step]).status == 0)
        let third = try note()
        #expect(third.note.hasPrefix("cache miss"), "new code is a miss: \(third)")
        #expect(try archive(third.artifact, member: "m.txt").text == "two")
    }

    @Test func scriptModeTrainsPacksTheModelAndItsMetricDrivesACondition() throws {
        try stage(script: """
            import argparse, json, os
            p = argparse.ArgumentParser(); p.add_argument("--epochs", type=int); p.add_argument("--lr", type=float)
            a = p.parse_args()
            channel = os.environ["SM_CHANNEL_TRAIN"]
            rows = sum(len(open(os.path.join(channel, f)).read().splitlines()) for f in sorted(os.listdir(channel)))
            for e in range(a.epochs): print("epoch %d validation-rmse:%.4f" % (e, 1.0 / (e + 1)))
            hps = json.load(open("/opt/ml/input/config/hyperparameters.json"))
            config = json.load(open("/opt/ml/input/config/inputdataconfig.json"))
            with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
                json.dump({"rows": rows, "lr": a.lr, "hps_epochs": hps["epochs"], "content": config["train"]["ContentType"],
                           "host": os.environ["SM_CURRENT_HOST"], "sm_hps": json.loads(os.environ["SM_HPS"])}, f)
            os.makedirs(os.path.join(os.environ["SM_MODEL_DIR"], "sub"), exist_ok=True)
            open(os.path.join(os.environ["SM_MODEL_DIR"], "sub", "weights.bin"), "w").write("w")
            open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w").write("done")
            """, channel: ["a.csv": "1\n2\n3\n", "b.csv": "4\n5\n"])
        let check: [String: Any] = [
            "Name": "GoodEnough", "Type": "Condition",
            "Arguments": [
                "Conditions": [["Type": "LessThanOrEqualTo", "LeftValue": ["Get": "Steps.Train.FinalMetricDataList['validation:rmse'].Value"], "RightValue": 0.4]],
                "IfSteps": [["Name": "Good", "Type": "Fail", "Arguments": ["ErrorMessage": ["Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"]]]],
                "ElseSteps": [] as [Any],
            ] as [String: Any],
        ]
        // The if branch is a Fail step whose message is the model's URI: reaching it proves the metric and the artifact path.
        let outcome = try run([training(hyperparameters: ["epochs": "3", "lr": "0.1"]), check])
        let steps = try home.latestSteps()
        let train = try #require(steps.first { $0["name"] as? String == "Train" })
        #expect(train["status"] as? String == "Succeeded", "\(outcome.stdout)\n\(outcome.stderr)")
        let properties = try #require(train["properties"] as? [String: Any])
        let metrics = try #require(properties["FinalMetricDataList"] as? [[String: Any]])
        #expect(metrics.first?["MetricName"] as? String == "validation:rmse")
        #expect(metrics.first?["Value"] as? Double == 0.3333)
        let model = try #require((properties["ModelArtifacts"] as? [String: Any])?["S3ModelArtifacts"] as? String)
        #expect(model.hasPrefix("s3://b/models/pipelines-") && model.hasSuffix("/output/model.tar.gz"), "\(model)")
        let good = try #require(steps.first { $0["name"] as? String == "Good" })
        #expect(good["failureReason"] as? String == model, "the condition read the metric and took the if branch")

        let packed = try archive(model, member: "model.json")
        #expect(packed.names == ["model.json", "sub/weights.bin"], "\(packed.names)")
        let written = try #require(try JSONSerialization.jsonObject(with: Data(packed.text.utf8)) as? [String: Any])
        #expect(written["rows"] as? Int == 5)
        #expect(written["lr"] as? Double == 0.1)
        #expect(written["hps_epochs"] as? String == "3")
        #expect(written["content"] as? String == "text/csv")
        #expect(written["host"] as? String == "algo-1")
        #expect((written["sm_hps"] as? [String: Any])?["epochs"] as? Int == 3, "SM_HPS holds decoded values, no sagemaker_ keys: \(written)")
        let output = try archive(model.replacingOccurrences(of: "model.tar.gz", with: "output.tar.gz"), member: "report.txt")
        #expect(output.text == "done")
    }

    @Test func twoShardedHostsReachEachOtherByNameAndBothModelsArePacked() throws {
        let port = 20_000 + Int.random(in: 0..<30_000)
        try stage(script: """
            import os, socket, time
            host = os.environ["SM_CURRENT_HOST"]
            port = int(os.environ["SM_HP_PORT"])
            channel = os.environ["SM_CHANNEL_TRAIN"]
            files = sorted(os.listdir(channel))
            if host == "algo-1":
                server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                server.bind(("algo-1", port)); server.listen(1); server.settimeout(60)
                connection, _ = server.accept(); heard = connection.recv(100).decode()
            else:
                for attempt in range(600):
                    try:
                        connection = socket.create_connection(("algo-1", port), timeout=2); break
                    except OSError:
                        time.sleep(0.1)
                connection.sendall(("hello from " + host).encode()); heard = "-"
            with open(os.path.join(os.environ["SM_MODEL_DIR"], host + ".txt"), "w") as f:
                f.write("%s files=%s heard=%s" % (host, ",".join(files), heard))
            """, channel: ["a.csv": "1\n", "b.csv": "2\n"])
        let outcome = try run([training(instances: 2, distribution: "ShardedByS3Key", hyperparameters: ["port": String(port)])], workers: 2)
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        let train = try #require(try home.latestSteps().first)
        let model = try #require(((train["properties"] as? [String: Any])?["ModelArtifacts"] as? [String: Any])?["S3ModelArtifacts"] as? String)
        let first = try archive(model, member: "algo-1.txt")
        #expect(first.names == ["algo-1.txt", "algo-2.txt"])
        #expect(first.text == "algo-1 files=a.csv heard=hello from algo-2", "\(first.text)")
        #expect(try archive(model, member: "algo-2.txt").text == "algo-2 files=b.csv heard=-")
    }

    @Test func aJobWritingItsFailureFileFailsTheStepWithThatReason() throws {
        try stage(script: """
            import sys
            open("/opt/ml/output/failure", "w").write("column 'rings' is missing from the training data")
            sys.exit(2)
            """, channel: ["a.csv": "1\n"])
        let outcome = try run([training()])
        #expect(outcome.status == 1)
        let reason = try #require(try home.latestSteps().first?["failureReason"] as? String)
        #expect(reason.contains("column 'rings' is missing from the training data"), "\(reason)")
        #expect(reason.hasPrefix("AlgorithmError"), "\(reason)")
    }

    @Test func aMissingEntryPointAndAnUnmappedImageAreClearErrors() throws {
        try stage(script: "print('x')", channel: ["a.csv": "1\n"])
        var step = training(hyperparameters: ["sagemaker_program": "\"nope.py\""])
        _ = try run([step])
        let missing = try #require(try home.latestSteps().first?["failureReason"] as? String)
        #expect(missing.contains("'nope.py' (sagemaker_program) is not in the source directory"), "\(missing)")
        var arguments = step["Arguments"] as! [String: Any]
        arguments["AlgorithmSpecification"] = ["TrainingImage": "example.com/unmapped:1"]
        step["Arguments"] = arguments
        _ = try run([step])
        let unmapped = try #require(try home.latestSteps().first?["failureReason"] as? String)
        #expect(unmapped.contains("AlgorithmSpecification.TrainingImage") && unmapped.contains("shoal images map 'example.com/unmapped:1'"), "\(unmapped)")
    }
}
