import Foundation
import ShoalDefinition
import ShoalRuntime
import ShoalTestSupport
import Testing

/// Images run as what the image map says: the host's programs, or a Python
/// environment built once from pinned requirements (from PyPI, for real).
@Suite(.serialized) struct ImageRuntimeTests {
    func definition(_ home: TemporaryHome, image: String, command: String, instances: Int = 1) throws -> String {
        let step = Step.processing("Work", arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: .number(.int(instances)), imageUri: .string(image), entrypoint: ["python3", "-c", .string(command)],
            roleArn: "arn:aws:iam::1:role/R"
        ))
        return try home.file("pipeline.json", PipelineDefinition { step }.jsonText())
    }

    func environmentName(_ home: TemporaryHome, _ image: String) throws -> String {
        let resolved = try #require(try home.json(["images", "resolve", image]) as? [String: Any])
        return try #require(resolved["environment"] as? String)
    }

    /// Forgets what the test built or failed to build, so the next run starts afresh.
    func removeEnvironment(_ name: String) {
        let folder = PythonEnvironment.cacheFolder
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where entry.hasPrefix(name) {
            try? FileManager.default.removeItem(atPath: folder + "/" + entry)
        }
    }

    @Test func anUnmappedImageFailsTheStepAtOnceNamingTheCommandThatMapsIt() throws {
        let home = try TemporaryHome(imageMap: nil)
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/unmapped:2.0"
        let run = try home.shoal(["run", try definition(home, image: image, command: "print(1)"), "--workers", "1"])
        #expect(run.status == 1)
        let step = try #require(try home.latestSteps().first)
        let reason = step["failureReason"] as? String ?? ""
        #expect(reason.contains("'\(image)' has no runtime"), "\(reason)")
        #expect(reason.contains("shoal images map '\(image)' host"), "\(reason)")
        #expect(try home.shoal(["logs", try home.latestExecutionId(), "Work"]).stdout.isEmpty, "no instance started")
    }

    @Test func theMapListsDefaultsAndTheHomesOwnFirstAndResolvesFrameworkTags() throws {
        let home = try TemporaryHome(imageMap: nil)
        #expect(try home.shoal(["images", "map", "*/tiny:*", "python", "--package", "six==1.16.0"]).status == 0)
        let listed = try #require(try home.json(["images", "list"]) as? [[String: Any]])
        #expect(listed.first?["pattern"] as? String == "*/tiny:*")
        #expect(listed.contains { $0["pattern"] as? String == "*/sagemaker-scikit-learn[:@]*" && $0["source"] as? String == "default" })
        let sklearn = try #require(try home.json(["images", "resolve", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"]) as? [String: Any])
        #expect((sklearn["requirements"] as? [String])?.contains("scikit-learn==1.2.2") == true)
        let xgboost = try #require(try home.json(["images", "resolve", "257758044811.dkr.ecr.us-east-2.amazonaws.com/sagemaker-xgboost:1.7-1"]) as? [String: Any])
        #expect((xgboost["requirements"] as? [String])?.contains("xgboost==1.7.6") == true)
        let untagged = try home.shoal(["images", "resolve", "1.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost@sha256:abc"])
        #expect(untagged.status == 1 && untagged.stderr.contains("has no tag"), "\(untagged.stderr)")
        #expect(try home.shoal(["images", "unmap", "*/tiny:*"]).status == 0)
        #expect(try home.shoal(["images", "unmap", "*/tiny:*"]).status == 1)
        let bad = try home.shoal(["images", "map", "x", "host", "--package", "six"])
        #expect(bad.status != 0 && bad.stderr.contains("for the python runtime"), "\(bad.stderr)")
    }

    /// Two instances share one build; the job's python3 is the environment's,
    /// with its package, and the host's python is not where it runs from.
    @Test func aPythonImageRunsInItsOwnEnvironmentBuiltOnce() throws {
        let home = try TemporaryHome(imageMap: nil)
        // A fresh environment each run: the requirement list carries a comment unique to it.
        let tag = "t\(getpid())\(Int.random(in: 0..<1_000_000))"
        let requirements = try home.file("requirements.txt", "six==1.16.0\n")
        #expect(try home.shoal(["images", "map", "*/tiny:*", "python", "--requirements", requirements, "--package", "# \(tag)"]).status == 0)
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/tiny:\(tag)"
        let name = try environmentName(home, image)
        defer { removeEnvironment(name) }
        let command = "import sys, six; print('prefix', sys.prefix); print('six', six.__version__)"
        let run = try home.shoal(["run", try definition(home, image: image, command: command, instances: 2), "--workers", "2"], timeout: 300)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let logs = try home.shoal(["logs", try home.latestExecutionId(), "Work"]).stdout
        #expect(logs.components(separatedBy: "six 1.16.0").count == 3, "both instances import six: \(logs)")
        #expect(!logs.contains("prefix /usr\n") && !logs.contains("prefix /root"), "\(logs)")
        #expect(logs.components(separatedBy: "is ready (").count == 2, "built once, by one of the two: \(logs)")
    }

    /// A requirement pip cannot find fails the step naming it; the next instance
    /// on the host fails at once instead of trying again.
    @Test func aBuildThatFailsNamesTheRequirementAndIsNotRetriedAtOnce() throws {
        let home = try TemporaryHome(imageMap: nil)
        let missing = "shoal-no-such-package-\(getpid())-\(Int.random(in: 0..<1_000_000))==0.0.1"
        #expect(try home.shoal(["images", "map", "*/broken:*", "python", "--package", missing]).status == 0)
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/broken:1"
        let name = try environmentName(home, image)
        defer { removeEnvironment(name) }
        let path = try definition(home, image: image, command: "print('never')")
        let first = try home.shoal(["run", path, "--workers", "1"], timeout: 300)
        #expect(first.status == 1)
        let reason = try #require(try home.latestSteps().first?["failureReason"] as? String)
        #expect(reason.contains("could not be built") && reason.contains(missing.replacingOccurrences(of: "==0.0.1", with: "")), "\(reason)")
        let started = Date()
        let second = try home.shoal(["run", path, "--workers", "1"], timeout: 300)
        #expect(second.status == 1)
        let logs = try home.shoal(["logs", try home.latestExecutionId(), "Work"]).stdout
        #expect(logs.contains("not trying again yet"), "\(logs)")
        #expect(!logs.contains("Collecting"), "pip did not run again: \(logs)")
        #expect(Date().timeIntervalSince(started) < 60)
    }
}
