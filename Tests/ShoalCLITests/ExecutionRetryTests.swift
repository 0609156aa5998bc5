import Foundation
import ShoalDefinition
import ShoalStore
import ShoalTestSupport
import Testing

/// `shoal executions retry`: a failed execution goes on from its failed and
/// not-run steps once what made it fail is fixed; what succeeded is kept.
@Suite(.serialized) struct ExecutionRetryTests {
    @Test func aRetriedExecutionSucceedsAfterItsFailingInputIsFixed() throws {
        let home = try TemporaryHome()
        let flag = try home.file("flag.txt", "broken\n")
        try #require(try home.shoal(["cp", flag, "s3://b/in/flag.txt"]).status == 0)
        func processing(_ name: String, _ script: String, inputs: [ProcessingInput] = [], dependsOn: [String]? = nil) -> Step {
            Step.processing(name, arguments: ProcessingArguments(
                instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh", entrypoint: ["/bin/sh", "-c", .string(script)],
                roleArn: "arn:aws:iam::1:role/R", inputs: inputs,
                outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: .string("s3://b/\(name)"), localPath: "/opt/ml/processing/out"))]
            ), dependsOn: dependsOn)
        }
        let definition = PipelineDefinition {
            processing("Prepare", "echo prepared > /opt/ml/processing/out/p.txt")
            processing(
                "Check", "grep -qx ok /opt/ml/processing/input/flag/flag.txt && echo checked > /opt/ml/processing/out/c.txt",
                inputs: [ProcessingInput(inputName: "flag", s3Input: S3Input(s3Uri: "s3://b/in/flag.txt", localPath: "/opt/ml/processing/input/flag"))],
                dependsOn: ["Prepare"]
            )
            processing("Publish", "echo published > /opt/ml/processing/out/done.txt", dependsOn: ["Check"])
        }
        let path = try home.file("pipeline.json", definition.jsonText())
        let first = try home.shoal(["run", path, "--workers", "1"])
        #expect(first.status == 1)
        let id = try home.latestExecutionId()

        try Data("ok\n".utf8).write(to: URL(fileURLWithPath: flag))
        try #require(try home.shoal(["cp", flag, "s3://b/in/flag.txt"]).status == 0)
        let retried = try home.shoal(["executions", "retry", id, "--workers", "1"])
        #expect(retried.status == 0, "\(retried.stdout)\(retried.stderr)")
        #expect(try home.latestExecutionId() == id, "the same execution, not a new one")
        let execution = try #require(try home.json(["executions", "describe", id]) as? [String: Any])
        #expect(execution["status"] as? String == "Succeeded")
        let steps = try #require(try home.json(["steps", id]) as? [[String: Any]])
        #expect(steps.map { $0["status"] as? String } == ["Succeeded", "Succeeded", "Succeeded"])
        let attempts = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id)
        #expect(attempts.filter { $0.stepName == "Prepare" }.map(\.attempt) == [1], "Prepare succeeded the first time and did not run again")
        #expect(attempts.filter { $0.stepName == "Check" }.map(\.status) == [.failed, .completed])
        #expect(attempts.filter { $0.stepName == "Check" }.map(\.attempt) == [1, 2])
        let published = try #require(try home.json(["ls", "s3://b/Publish/"]) as? [[String: Any]])
        #expect(published.count == 1)

        // Only a Failed or Stopped execution can be retried.
        let again = try home.shoal(["executions", "retry", id, "--workers", "1"])
        #expect(again.status != 0)
        #expect(again.stderr.contains("execution '\(id)' is Succeeded; only a Failed or Stopped execution can be retried"), "\(again.stderr)")
        #expect(try home.shoal(["executions", "retry", "nosuchid", "--workers", "1"]).stderr.contains("no execution 'nosuchid'"))
    }
}
