import Foundation
import ShoalStore
import ShoalTestSupport
import Testing

/// Selective execution (`shoal run --from ID --steps …`) on the abalone example.
@Suite(.serialized) struct SelectiveExecutionTests {
    static let pipeline = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/abalone/pipeline.json").standardized.path

    func run(_ home: TemporaryHome, _ extra: [String]) throws -> ShoalProcess.Outcome {
        try home.shoal(["run", Self.pipeline, "--pipeline-name", "AbalonePipeline", "--workers", "2"] + extra)
    }

    @Test func oneStepRunsAndTakesItsUpstreamFromTheSourceExecution() throws {
        let home = try TemporaryHome()
        #expect(try home.example("abalone").status == 0)
        let source = try home.latestExecutionId()
        let sourceSteps = try #require(try home.json(["steps", source]) as? [[String: Any]])

        let outcome = try run(home, ["--from", source, "--steps", "AbaloneProcess"])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        let id = try home.latestExecutionId()
        #expect(id != source)
        let steps = try #require(try home.json(["steps", id]) as? [[String: Any]])
        #expect(steps.map { $0["status"] as? String } == ["Succeeded", "Succeeded", "NotRun", "NotRun"])
        // The Lambda step did not run again: its outputs are the source's, and it has no attempt of its own.
        #expect(((steps[0]["properties"] as? [String: Any])?["OutputParameters"] as? [String: Any])?["output1"] as? String == "foo-foo1")
        #expect((steps[0]["note"] as? String) == "not selected: taken from execution \(source), where it ended Succeeded")
        #expect(steps[0]["startedAt"] as? String == sourceSteps[0]["startedAt"] as? String)
        let attempts = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id)
        #expect(Set(attempts.map(\.stepName)) == ["AbaloneProcess"])
        #expect(steps[2]["failureReason"] as? String == "not selected (selective execution from \(source))")
        // It read the source's Lambda output.
        let logs = try home.shoal(["logs", id, "AbaloneProcess"])
        #expect(logs.stdout.contains("input args 'foo-foo1'"), "\(logs.stdout)")
    }

    @Test func aSelectedStepWhoseUpstreamFailedInTheSourceIsRefused() throws {
        let home = try TemporaryHome()
        #expect(try home.example("abalone").status == 0)
        #expect(try home.shoal(["functions", "delete", "sagemaker_test_lambda"]).status == 0)
        #expect(try run(home, []).status == 1)
        let failed = try home.latestExecutionId()
        let refused = try run(home, ["--from", failed, "--steps", "AbaloneProcess"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("step 'AbaloneProcess' needs 'MyLambdaStep', which execution '\(failed)' did not run successfully (it ended Failed); select 'MyLambdaStep' too"), "\(refused.stderr)")
        #expect(try home.latestExecutionId() == failed, "nothing was recorded")
        let unknown = try run(home, ["--from", failed, "--steps", "Nope"])
        #expect(unknown.stderr.contains("the pipeline has no step named 'Nope'"), "\(unknown.stderr)")
        let other = try home.shoal(["run", Self.pipeline, "--pipeline-name", "Other", "--from", failed, "--steps", "CheckMse"])
        #expect(other.stderr.contains("ran pipeline 'AbalonePipeline', not 'Other'"), "\(other.stderr)")
    }
}
