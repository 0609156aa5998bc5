import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

@Suite(.serialized) struct PipelineRegistryTests {
    static func definition(threshold: Double, extraStep: Bool = false) -> PipelineDefinition {
        PipelineDefinition {
            Parameter(name: "Threshold", type: .float, defaultValue: .number(.double(threshold)))
            Step.condition("Check", [.lessThan(.parameter("Threshold"), 10)])
            if extraStep { Step.fail("Stop", message: "stopped") }
        }
    }

    @Test func versionsComeOnlyFromChangedDefinitions() throws {
        let home = try TemporaryHome()
        let v1 = try home.file("v1.json", Self.definition(threshold: 1).jsonText())
        // The same document with keys in another order is the same definition.
        let original = try JSONParser.parse(Data(contentsOf: URL(fileURLWithPath: v1)))
        let reversed = Self.reversingKeys(original)
        // Keys moved at every depth (the top, each step, each condition), not only whitespace.
        #expect(JSONWriter.string(reversed) != JSONWriter.string(original))
        #expect(JSONWriter.string(reversed).hasPrefix("{\"Steps\":[{\"Arguments\":{\"ElseSteps\":[],\"IfSteps\":[],\"Conditions\":[{\"RightValue\""))
        let reordered = try home.file("v1b.json", JSONWriter.string(reversed, pretty: true))
        let v2 = try home.file("v2.json", Self.definition(threshold: 2, extraStep: true).jsonText())
        #expect(try home.shoal(["pipelines", "create", "gate", "--definition", v1, "--description", "a gate", "--tags", "team=ml"]).stdout.contains("created, version 1"))
        #expect(try home.shoal(["pipelines", "update", "gate", "--definition", reordered]).stdout.contains("unchanged, still version 1"))
        #expect(try home.shoal(["pipelines", "update", "gate", "--definition", v2]).stdout.contains("updated, version 2"))
        let versions = try #require(try home.json(["pipelines", "versions", "gate"]) as? [[String: Any]])
        #expect(versions.map { $0["version"] as? Int } == [1, 2])
        #expect((versions.first?["digest"] as? String)?.count == 64)
        let diff = try home.shoal(["pipelines", "diff", "gate", "1", "2"])
        #expect(diff.stdout.contains("~ $.Parameters[0].DefaultValue: 1.0 -> 2.0"))
        #expect(diff.stdout.contains("+ $.Steps[1] (Stop): {\"Name\":\"Stop\""))
        let listed = try #require(try home.json(["pipelines", "list"]) as? [[String: Any]])
        #expect(listed.first?["latestVersion"] as? Int == 2)
        #expect((listed.first?["tags"] as? [String: String]) == ["team": "ml"])
    }

    /// The same document with every object's keys in reverse order.
    static func reversingKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case let .object(fields): .object(OrderedFields(fields.entries.reversed().map { ($0.key, reversingKeys($0.value)) }))
        case let .array(items): .array(items.map(reversingKeys))
        default: value
        }
    }

    @Test func runningARegisteredVersionRecordsIt() throws {
        let home = try TemporaryHome()
        #expect(try home.shoal(["pipelines", "create", "gate", "--definition", try home.file("v1.json", Self.definition(threshold: 1).jsonText())]).status == 0)
        #expect(try home.shoal(["pipelines", "update", "gate", "--definition", try home.file("v2.json", Self.definition(threshold: 20).jsonText())]).status == 0)
        #expect(try home.shoal(["run", "--pipeline", "gate@1", "--workers", "1"]).status == 0)
        let execution = try #require(try home.json(["executions", "describe", try home.latestExecutionId()]) as? [String: Any])
        #expect(execution["pipeline"] as? String == "gate")
        #expect(execution["pipelineVersion"] as? Int == 1)
        #expect(try home.shoal(["run", "--pipeline", "gate", "--workers", "1"]).status == 0)
        let latest = try #require(try home.json(["executions", "describe", try home.latestExecutionId()]) as? [String: Any])
        #expect(latest["pipelineVersion"] as? Int == 2)
        #expect((latest["parameters"] as? [String: Double])?["Threshold"] == 20)
        let missing = try home.shoal(["run", "--pipeline", "gate@7", "--workers", "1"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("pipeline 'gate' has no version 7; its versions are 1 to 2"))
    }

    @Test func pipelineTagsReachEveryInstanceUnderTheExecutionsOwn() throws {
        let home = try TemporaryHome()
        let definition = PipelineDefinition {
            Step.processing("Work", arguments: ProcessingArguments(instanceType: "ml.m5.large", instanceCount: 1, imageUri: "true", entrypoint: ["/bin/true"], roleArn: "r"))
        }
        #expect(try home.shoal(["pipelines", "create", "tagged", "--definition", try home.file("t.json", definition.jsonText()), "--tags", "team=ml,owner=ana"]).status == 0)
        #expect(try home.shoal(["run", "--pipeline", "tagged", "--workers", "1", "--tags", "owner=ben"]).status == 0)
        let byTeam = try home.shoal(["cost", "--group-by", "tag:team", "--output", "csv"])
        #expect(byTeam.stdout.contains(",ml,"))
        let byOwner = try home.shoal(["cost", "--group-by", "tag:owner", "--output", "csv"])
        #expect(byOwner.stdout.contains(",ben,") && !byOwner.stdout.contains(",ana,"), "the execution's tag replaces the pipeline's")
    }

    @Test func registryRefusesWhatItCannotKeep() throws {
        let home = try TemporaryHome()
        let good = try home.file("good.json", Self.definition(threshold: 1).jsonText())
        #expect(try home.shoal(["pipelines", "update", "nope", "--definition", good]).stderr.contains("no pipeline 'nope'"))
        #expect(try home.shoal(["pipelines", "create", "gate", "--definition", good]).status == 0)
        #expect(try home.shoal(["pipelines", "create", "gate", "--definition", good]).stderr.contains("pipeline 'gate' exists"))
        let invalid = try home.shoal(["pipelines", "update", "gate", "--definition", Fixtures.sagemaker.appendingPathComponent("invalid/cycle_depends_on.json").path])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("dependency cycle"))
        #expect((try home.json(["pipelines", "versions", "gate"]) as? [Any])?.count == 1, "nothing stored")
        #expect(try home.shoal(["pipelines", "delete", "gate"]).status == 0)
        #expect(try home.shoal(["pipelines", "describe", "gate"]).stderr.contains("no pipeline 'gate'"))
    }
}
