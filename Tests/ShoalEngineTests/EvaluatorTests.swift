import Foundation
import ShoalDefinition
import ShoalEngine
import Testing

/// A scope with fixed values, for evaluating expressions without an execution.
struct FixedScope: EvaluationScope {
    var parameters: [String: JSONValue] = [:]
    var properties: [String: JSONValue] = [:]
    var files: [String: JSONValue] = [:]
    var propertyFileURIs: [String: String] = [:]

    func parameter(_ name: String) -> JSONValue? { parameters[name] }
    func executionVariable(_ variable: ExecutionVariable) -> JSONValue? {
        variable == .pipelineExecutionId ? "abc123def456" : nil
    }
    func experimentConfig(_ name: String) -> JSONValue? { nil }
    func properties(ofStep name: String) -> JSONValue? { properties[name] }
    func readJSONObject(at uri: String) throws(EvaluationError) -> JSONValue {
        guard let file = files[uri] else { throw EvaluationError("Received an error while reading file \(uri).") }
        return file
    }
    func propertyFileURI(_ name: String, ofStep step: String) throws(EvaluationError) -> String {
        guard let uri = propertyFileURIs["\(step)/\(name)"] else { throw EvaluationError("Step '\(step)' declares no property file '\(name)'.") }
        return uri
    }
}

@Suite struct EvaluatorTests {
    static let processed: JSONValue = [
        "ProcessingOutputConfig": ["Outputs": [
            ["OutputName": "train", "S3Output": ["S3Uri": "s3://b/train/abc123def456"]],
            ["OutputName": "evaluation", "S3Output": ["S3Uri": "s3://b/eval/"]],
        ]],
    ]

    var scope = FixedScope(
        parameters: ["Bucket": "my-bucket", "Threshold": 6.0, "Count": 2, "Flag": true],
        properties: ["Process": processed, "Lambda": ["OutputParameters": ["n": 3]]],
        files: ["s3://b/eval/evaluation.json": ["regression_metrics": ["mse": ["value": 2.5]], "list": [10, 20]]],
        propertyFileURIs: ["Process/Report": "s3://b/eval/evaluation.json"]
    )

    @Test func joinRendersValuesLikeTheSpecSays() throws {
        let evaluator = Evaluator(scope: scope)
        let join = ShoalDefinition.Expression.join(on: "/", ["s3:/", .parameter("Bucket"), .parameter("Threshold"), .parameter("Count"), .parameter("Flag"), .execution(.pipelineExecutionId)])
        #expect(try evaluator.evaluate(join) == "s3://my-bucket/6.0/2/true/abc123def456")
    }

    @Test func getFollowsNamedListElementsAndMaps() throws {
        let evaluator = Evaluator(scope: scope)
        #expect(try evaluator.resolve(Reference("Steps.Process.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri")) == "s3://b/train/abc123def456")
        #expect(try evaluator.resolve(Reference("Steps.Lambda.OutputParameters['n']")) == 3)
        #expect(throws: EvaluationError("{\"Get\": \"Steps.Lambda.OutputParameters['m']\"} is undefined.")) {
            try evaluator.resolve(Reference("Steps.Lambda.OutputParameters['m']"))
        }
    }

    @Test func jsonGetReadsThePropertyFileOfTheNamedOutput() throws {
        let evaluator = Evaluator(scope: scope)
        let get = JsonGet(source: .propertyFile(Reference("Steps.Process.PropertyFiles.Report")), path: "regression_metrics.mse.value")
        #expect(try evaluator.evaluate(.jsonGet(get)) == 2.5)
        let indexed = JsonGet(source: .propertyFile(Reference("Steps.Process.PropertyFiles.Report")), path: "$.list[1]")
        #expect(try evaluator.evaluate(.jsonGet(indexed)) == 20)
        let missing = JsonGet(source: .propertyFile(Reference("Steps.Process.PropertyFiles.Report")), path: "regression_metrics.rmse")
        #expect(throws: EvaluationError("Invalid json path 'regression_metrics.rmse': it is not in s3://b/eval/evaluation.json.")) {
            try evaluator.evaluate(.jsonGet(missing))
        }
    }

    @Test func conditionsCompareNumbersAcrossIntegerAndFloat() throws {
        let conditions = ConditionEvaluator(evaluator: Evaluator(scope: scope))
        #expect(try conditions.holds(.equals(1, 1.0)))
        #expect(try conditions.holds(.lessThanOrEqualTo(.parameter("Count"), .parameter("Threshold"))))
        #expect(try conditions.holds(.in(query: "b", values: ["a", "b"])))
        #expect(try conditions.holds(.not(.greaterThan("a", "b"))))
        #expect(try conditions.holds(.or([.equals(1, 2), .equals(.parameter("Flag"), true)])))
        #expect(throws: EvaluationError("Condition of type [GreaterThan] not supported between a string \"3\" and a number 2.")) {
            try conditions.holds(.greaterThan("3", 2))
        }
    }
}

@Suite struct ParameterResolutionTests {
    static let definition: PipelineDefinition = {
        let data = Data(#"""
            {"Version": "2020-12-01", "Parameters": [
              {"Name": "N", "Type": "Integer", "DefaultValue": 2}, {"Name": "F", "Type": "Float", "DefaultValue": 6},
              {"Name": "B", "Type": "Boolean", "DefaultValue": false}, {"Name": "S", "Type": "String", "EnumValues": ["a", "b"], "DefaultValue": "a"},
              {"Name": "Required"}],
             "Steps": [{"Name": "X", "Type": "Fail", "Arguments": {"ErrorMessage": ""}}]}
            """#.utf8)
        return DefinitionCheck.check(data: data).definition!
    }()

    @Test func startValuesArriveAsStringsAndAreConvertedByType() throws {
        let values = try ParameterResolution.resolve(Self.definition, given: [("N", "5"), ("B", "True"), ("F", "3"), ("Required", "x")])
        #expect(values["N"] == 5)
        #expect(values["B"] == true)
        #expect(values["F"] == .number(.double(3)))
        #expect(values["S"] == "a")
        #expect(values["Required"] == "x")
    }

    @Test func everyProblemIsRefusedBeforeAnythingRuns() {
        let refused = #expect(throws: ParameterResolution.Refused.self) {
            try ParameterResolution.resolve(Self.definition, given: [("N", "2.5"), ("Nope", "1"), ("S", "c")])
        }
        #expect(refused?.problems == [
            "Unknown parameter 'Nope'; the pipeline declares N, F, B, S, Required.",
            "Parameter 'N' is Integer; '2.5' is not one.",
            "Parameter 'S' must be one of a, b; got 'c'.",
            "Parameter 'Required' has no default; give it with --param Required=VALUE.",
        ])
    }
}
