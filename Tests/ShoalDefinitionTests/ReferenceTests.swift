import ShoalDefinition
import Testing

@Suite struct ReferenceTests {
    @Test func parsesPropertyPathsWithKeysAndIndices() {
        let reference = Reference("Steps.Tune.TrainingJobSummaries[1].TrainingJobName")
        #expect(reference.target == .step(name: "Tune", path: [.member("TrainingJobSummaries"), .index(1), .member("TrainingJobName")]))
        let keyed = Reference("Steps.Train.FinalMetricDataList['validation:rmse'].Value")
        #expect(keyed.target == .step(name: "Train", path: [.member("FinalMetricDataList"), .key("validation:rmse"), .member("Value")]))
    }

    @Test func parsesTheOtherRoots() {
        #expect(Reference("Parameters.MyBucket").target == .parameter("MyBucket"))
        #expect(Reference("Execution.PipelineExecutionId").target == .execution("PipelineExecutionId"))
        #expect(Reference("PipelineExperimentConfig.TrialName").target == .experimentConfig("TrialName"))
    }

    @Test(arguments: ["Nothing", "Steps.", "Steps.S", "Steps.S.Outputs[", "Steps.S.Outputs[x]", "Outputs.S.x"])
    func malformedTextIsInvalid(text: String) {
        guard case .invalid = Reference(text).target else {
            Issue.record("\(text) parsed as \(Reference(text).target)")
            return
        }
    }

    @Test func jsonPathsAcceptDollarPrefixAndRefuseWildcards() throws {
        #expect(try PropertyPath.parseJsonPath("$.a.b[0]['c d']").get() == [.member("a"), .member("b"), .index(0), .key("c d")])
        #expect(try PropertyPath.parseJsonPath("Result['accuracy']").get() == [.member("Result"), .key("accuracy")])
        #expect(throws: PropertyPath.ParseError.self) { try PropertyPath.parseJsonPath("a[*]").get() }
        #expect(throws: PropertyPath.ParseError.self) { try PropertyPath.parseJsonPath("a..b").get() }
    }
}
