import Foundation
import ShoalDefinition
import Testing

/// One rule per test, each on a small hand-written definition.
@Suite struct ValidationTests {
    static let processingArguments = """
        {"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}},
         "AppSpecification": {"ImageUri": "img", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/p.py"]},
         "RoleArn": "arn:aws:iam::1:role/R",
         "ProcessingOutputConfig": {"Outputs": [{"OutputName": "report", "AppManaged": false,
            "S3Output": {"S3Uri": "s3://b/out", "LocalPath": "/opt/ml/processing/report", "S3UploadMode": "EndOfJob"}}]}}
        """

    static func processing(_ name: String, extra: String = "") -> String {
        #"{"Name": "\#(name)", "Type": "Processing", "Arguments": \#(processingArguments)\#(extra)}"#
    }

    static func document(steps: [String], parameters: String = "[]") -> String {
        #"{"Version": "2020-12-01", "Metadata": {}, "Parameters": \#(parameters), "Steps": [\#(steps.joined(separator: ","))]}"#
    }

    static func errors(_ text: String) -> [Diagnostic] {
        DefinitionCheck.check(data: Data(text.utf8)).errors
    }

    static func onlyError(_ text: String) throws -> Diagnostic {
        let errors = errors(text)
        #expect(errors.count == 1, "\(errors.map(\.description))")
        return try #require(errors.first)
    }

    /// D7: two outputs in one folder used to pass and fail at run time ("cannot move …").
    @Test(arguments: [
        ("/opt/ml/processing/report/", "both use LocalPath '/opt/ml/processing/report/'"),
        ("/opt/ml/processing/report/sub", "use LocalPaths '/opt/ml/processing/report' and '/opt/ml/processing/report/sub', one inside the other"),
    ])
    func outputsSharingAFolderAreRefused(second: String, how: String) throws {
        let outputs = """
            "ProcessingOutputConfig": {"Outputs": [{"OutputName": "report", "AppManaged": false,
                "S3Output": {"S3Uri": "s3://b/out", "LocalPath": "/opt/ml/processing/report", "S3UploadMode": "EndOfJob"}}]}}
            """
        let shared = Self.processingArguments.replacingOccurrences(of: outputs, with: """
            "ProcessingOutputConfig": {"Outputs": [{"OutputName": "report", "AppManaged": false,
                "S3Output": {"S3Uri": "s3://b/out", "LocalPath": "/opt/ml/processing/report", "S3UploadMode": "EndOfJob"}},
                {"OutputName": "extra", "AppManaged": false,
                "S3Output": {"S3Uri": "s3://b/extra", "LocalPath": "\(second)", "S3UploadMode": "EndOfJob"}}]}}
            """)
        #expect(shared != Self.processingArguments)
        let step = #"{"Name": "Write", "Type": "Processing", "Arguments": \#(shared)}"#
        let error = try Self.onlyError(Self.document(steps: [step]))
        #expect(error.code == "duplicate-path")
        #expect(error.path == "$.Steps[0].Arguments.ProcessingOutputConfig.Outputs[1].S3Output.LocalPath")
        #expect(error.message == "Outputs 'report' and 'extra' of step 'Write' \(how); each output needs a folder of its own.")
    }

    @Test func propertyTheStepTypeDoesNotExposeIsRefused() throws {
        let consumer = #"{"Name": "Use", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Steps.Make.ProcessingOutputConfig.Outputs['report'].S3Output.Uri"}}}"#
        let error = try Self.onlyError(Self.document(steps: [Self.processing("Make"), consumer]))
        #expect(error.code == "unknown-property")
        #expect(error.path == "$.Steps[1].Arguments.ErrorMessage")
        #expect(error.message.contains("ProcessingOutputConfig.Outputs['report'].S3Output.Uri"))
    }

    @Test func undeclaredOutputNameIsRefused() throws {
        let consumer = #"{"Name": "Use", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Steps.Make.ProcessingOutputConfig.Outputs['trian'].S3Output.S3Uri"}}}"#
        let error = try Self.onlyError(Self.document(steps: [Self.processing("Make"), consumer]))
        #expect(error.code == "unknown-property")
        #expect(error.message.contains("output 'trian'") && error.message.contains("declared: report"))
    }

    @Test func lambdaOutputMustBeDeclared() throws {
        let lambda = #"{"Name": "L", "Type": "Lambda", "Arguments": {}, "FunctionArn": "f", "OutputParameters": [{"OutputName": "a", "OutputType": "String"}]}"#
        let consumer = #"{"Name": "Use", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Steps.L.OutputParameters['b']"}}}"#
        let error = try Self.onlyError(Self.document(steps: [lambda, consumer]))
        #expect(error.code == "unknown-property")
        #expect(error.message.contains("output 'b' of step 'L'"))
    }

    @Test func conditionStepInDependsOnIsRefused() throws {
        let gate = #"{"Name": "Gate", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}"#
        let error = try Self.onlyError(Self.document(steps: [gate, Self.processing("After", extra: #", "DependsOn": ["Gate"]"#)]))
        #expect(error.code == "invalid-dependency")
        #expect(error.path == "$.Steps[1].DependsOn[0]")
        #expect(error.message == "Step 'After' depends on condition step 'Gate'; depend on a step inside its branches instead.")
    }

    @Test func stepInBothBranchesIsRefused() throws {
        let fail = #"{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}"#
        let gate = #"{"Name": "Gate", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [\#(fail)], "ElseSteps": [\#(fail)]}}"#
        let error = try Self.onlyError(Self.document(steps: [gate]))
        #expect(error.code == "duplicate-step-name")
        #expect(error.path == "$.Steps[0].Arguments.ElseSteps[0].Name")
        #expect(error.message == "Step 'Stop' appears both in the IfSteps of 'Gate' and in the ElseSteps of 'Gate'; a step may appear in one place only.")
    }

    @Test func parameterDefaultOfWrongTypeIsRefused() throws {
        let parameters = #"[{"Name": "N", "Type": "Integer", "DefaultValue": "3"}, {"Name": "F", "Type": "Float", "DefaultValue": 3}]"#
        let error = try Self.onlyError(Self.document(steps: [Self.processing("P")], parameters: parameters))
        #expect(error.code == "wrong-type")
        #expect(error.path == "$.Parameters[0].DefaultValue")
        #expect(error.message == "Parameter 'N' is declared Integer but its DefaultValue is a string.")
    }

    @Test func enumDefaultOutsideTheListIsRefused() throws {
        let parameters = #"[{"Name": "T", "Type": "String", "DefaultValue": "big", "EnumValues": ["small", "medium"]}]"#
        let error = try Self.onlyError(Self.document(steps: [Self.processing("P")], parameters: parameters))
        #expect(error.code == "invalid-value")
        #expect(error.path == "$.Parameters[0].DefaultValue")
    }

    @Test func processingJobNameOutsideProcessingIsRefused() throws {
        let fail = #"{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Execution.ProcessingJobName"}}}"#
        let error = try Self.onlyError(Self.document(steps: [fail]))
        #expect(error.code == "invalid-reference")
        #expect(error.message.contains("only defined inside a Processing step"))
    }

    @Test func unknownExecutionVariableIsRefused() throws {
        let fail = #"{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Execution.PipelineExecutionID"}}}"#
        #expect(try Self.onlyError(Self.document(steps: [fail])).code == "unknown-execution-variable")
    }

    @Test func getOfAFailStepIsRefused() throws {
        let fail = #"{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}"#
        let use = #"{"Name": "Use", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Steps.Stop.ErrorMessage"}}}"#
        let error = try Self.onlyError(Self.document(steps: [fail, use]))
        #expect(error.code == "unknown-property")
        #expect(error.message.contains("a Fail step, which has no properties"))
    }

    @Test func jsonGetPathWithWildcardIsRefused() throws {
        let gate = #"{"Name": "Gate", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Make.PropertyFiles.R"}, "Path": "metrics[*].value"}}, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}"#
        let make = Self.processing("Make", extra: #", "PropertyFiles": [{"PropertyFileName": "R", "OutputName": "report", "FilePath": "r.json"}]"#)
        let error = try Self.onlyError(Self.document(steps: [make, gate]))
        #expect(error.code == "invalid-json-path")
        #expect(error.path == "$.Steps[1].Arguments.Conditions[0].LeftValue['Std:JsonGet'].Path")
    }

    @Test func propertyFileOnAnUndeclaredOutputIsRefused() throws {
        let make = Self.processing("Make", extra: #", "PropertyFiles": [{"PropertyFileName": "R", "OutputName": "metrics", "FilePath": "r.json"}]"#)
        let error = try Self.onlyError(Self.document(steps: [make]))
        #expect(error.code == "unknown-output")
        #expect(error.path == "$.Steps[0].PropertyFiles[0].OutputName")
    }

    @Test func unknownMemberOfAConditionIsRefused() throws {
        // An old SDK wrote Expression for Not; the service refuses it (spec §1.1).
        let gate = #"{"Name": "Gate", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Not", "Expression": {"Type": "Equals", "LeftValue": 1, "RightValue": 2}}], "IfSteps": [], "ElseSteps": []}}"#
        let errors = Self.errors(Self.document(steps: [gate]))
        #expect(errors.map(\.code).sorted() == ["missing-field", "unknown-property"])
        #expect(errors.contains { $0.path == "$.Steps[0].Arguments.Conditions[0].Expression" })
    }

    @Test func selfReferenceIsACycle() throws {
        let step = Self.processing("Loop", extra: #", "DependsOn": ["Loop"]"#)
        let error = try Self.onlyError(Self.document(steps: [step]))
        #expect(error.message == "The steps form a dependency cycle: Loop -> Loop.")
    }

    @Test func dataReferencesCloseACycleToo() throws {
        let a = #"{"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:Join": {"On": "", "Values": [{"Get": "Steps.B.Outcome"}]}}}}"#
        let b = #"{"Name": "B", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Steps.C.ProcessingJobName"}, "RightValue": "x"}], "IfSteps": [], "ElseSteps": []}}"#
        let c = Self.processing("C", extra: #", "DependsOn": ["A"]"#)
        let errors = Self.errors(Self.document(steps: [a, b, c]))
        #expect(errors.contains { $0.message == "The steps form a dependency cycle: A -> C -> B -> A." })
    }

    @Test func everyProblemIsReportedAtOnce() {
        let bad = #"{"Name": "bad name", "Type": "Processing", "Arguments": {"ProcessingResources": {"ClusterConfig": {"InstanceType": "x", "InstanceCount": 101}}, "AppSpecification": {"ImageUri": "i"}, "ProcessingInputs": [{"InputName": "in", "S3Input": {"S3Uri": "ftp://x", "LocalPath": "/tmp/in", "S3DataType": "S3Prefix"}}]}, "DependsOn": ["Ghost"]}"#
        let codes = Set(Self.errors(Self.document(steps: [bad], parameters: #"[{"Name": "P", "Type": "Decimal"}]"#)).map(\.code))
        #expect(codes == ["invalid-name", "out-of-range", "invalid-value", "unknown-step", "unknown-parameter-type"])
    }

    @Test func wrongJSONTypesNameTheirPath() throws {
        let text = #"{"Version": "2020-12-01", "Parameters": {}, "Steps": [{"Name": 5, "Type": "Fail", "Arguments": {}}]}"#
        let errors = Self.errors(text)
        #expect(errors.contains { $0.code == "wrong-type" && $0.path == "$.Parameters" && $0.message == "Parameters must be an array, not an object." })
        #expect(errors.contains { $0.code == "wrong-type" && $0.path == "$.Steps[0].Name" })
    }

    @Test func unsupportedStepTypesAreWarningsNotErrors() {
        let train = #"{"Name": "Train", "Type": "Tuning", "Arguments": {"AnythingAtAll": [1, 2]}}"#
        let check = DefinitionCheck.check(data: Data(Self.document(steps: [train]).utf8))
        #expect(check.isValid)
        #expect(check.warnings.map(\.code) == ["not-supported"])
        #expect(check.warnings.first?.message == "Step 'Train' has type Tuning, which Shoal does not run yet; it is kept as written.")
    }

    @Test func tooManyStepsIsRefusedBeforeDecoding() throws {
        let steps = Array(repeating: #"{"Name": "x", "Type": "Fail", "Arguments": {}}"#, count: Limits.maxSteps + 1)
        let error = try Self.onlyError(Self.document(steps: steps))
        #expect(error.code == "too-many-steps")
    }

    @Test func oversizedDocumentIsRefusedBeforeParsing() throws {
        let data = Data(repeating: UInt8(ascii: " "), count: Limits.maxDocumentBytes + 1)
        let check = DefinitionCheck.check(data: data)
        #expect(check.errors.map(\.code) == ["too-large"])
    }

    @Test func stepNameLongerThan64IsRefused() throws {
        let name = String(repeating: "a", count: 65)
        let error = try Self.onlyError(Self.document(steps: [#"{"Name": "\#(name)", "Type": "Fail", "Arguments": {}}"#]))
        #expect(error.code == "invalid-name")
    }
}

@Suite struct MapValidationTests {
    static func errors(_ map: String) -> [Diagnostic] {
        ValidationTests.errors(ValidationTests.document(steps: [#"{"Name": "Each", "Type": "Shoal:Map", "Arguments": \#(map)}"#]))
    }

    @Test func itemListsOverTheLimitAreRefused() {
        let items = "[" + Array(repeating: "1", count: Limits.maxMapItems + 1).joined(separator: ",") + "]"
        let errors = Self.errors(#"{"Items": \#(items), "Pipeline": {"Name": "c"}}"#)
        #expect(errors.map(\.code) == ["out-of-range"])
    }

    @Test func aWellFormedMapIsValid() {
        #expect(Self.errors(#"{"Items": ["a"], "Pipeline": {"Name": "child"}, "MaxConcurrency": 2}"#).isEmpty)
    }

    @Test func workAndItemsMustBeGivenOnce() {
        let errors = Self.errors(#"{"Items": "a,b", "Function": {"FunctionArn": "f"}, "Pipeline": {"Name": "c"}, "MaxConcurrency": 0}"#)
        #expect(errors.contains { $0.message.contains("give exactly one of Function, Pipeline and Definition") })
        #expect(errors.contains { $0.path == "$.Steps[0].Arguments.Items" && $0.message.contains("Items must be a list") })
        #expect(errors.contains { $0.path == "$.Steps[0].Arguments.MaxConcurrency" })
    }

    @Test func inlineChildProblemsAreReportedUnderTheMapStep() {
        let child = #"{"Version": "2020-12-01", "Parameters": [{"Name": "Item", "Type": "String"}], "Steps": [{"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Parameters.Nope"}}}]}"#
        let errors = Self.errors(#"{"Items": ["a"], "Definition": \#(child)}"#)
        #expect(errors.contains { $0.code == "unknown-parameter" && $0.path == "$.Steps[0].Arguments.Definition.Steps[0].Arguments.ErrorMessage" })
        #expect(errors.contains { $0.message.contains("passes parameter 'ItemIndex', which the inline child definition does not declare") })
    }

    @Test func downstreamStepsReadTheGatheredResults() {
        let gate = #"{"Name": "Gate", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "LessThan", "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Each.PropertyFiles.Results"}, "Path": "failed"}}, "RightValue": {"Get": "Steps.Each.Failed"}}], "IfSteps": [], "ElseSteps": []}}"#
        let map = #"{"Name": "Each", "Type": "Shoal:Map", "Arguments": {"Items": ["a"], "Pipeline": {"Name": "c"}}}"#
        #expect(ValidationTests.errors(ValidationTests.document(steps: [map, gate])).isEmpty)
    }
}

/// CacheConfig and RetryPolicies the engine would misread are refused before anything runs.
@Suite struct StepPolicyValidationTests {
    @Test(arguments: [
        (#""RetryPolicies": [{"ExceptionType": ["SageMaker.OOPS"], "MaxAttempts": 2}]"#, "$.Steps[0].RetryPolicies[0].ExceptionType[0]", "'SageMaker.OOPS' is not an exception type"),
        (#""RetryPolicies": [{"ExceptionType": []}]"#, "$.Steps[0].RetryPolicies[0].ExceptionType", "names at least one ExceptionType"),
        (#""RetryPolicies": [{"ExceptionType": ["Step.THROTTLING"], "MaxAttempts": 21}]"#, "$.Steps[0].RetryPolicies[0].MaxAttempts", "MaxAttempts must be a whole number from 0 to 20; got 21.0"),
        (#""RetryPolicies": [{"ExceptionType": ["Step.THROTTLING"], "IntervalSeconds": 0}]"#, "$.Steps[0].RetryPolicies[0].IntervalSeconds", "IntervalSeconds must be a whole number from 1 to 43200"),
        (#""RetryPolicies": [{"ExceptionType": ["Step.THROTTLING"], "BackoffRate": 0.5}]"#, "$.Steps[0].RetryPolicies[0].BackoffRate", "BackoffRate must be between 1 and 10"),
        (#""RetryPolicies": [{"ExceptionType": ["Step.THROTTLING"], "MaxAttempts": 2, "ExpireAfterMin": 5}]"#, "$.Steps[0].RetryPolicies[0]", "MaxAttempts or ExpireAfterMin, not both"),
        (#""CacheConfig": {"Enabled": true, "ExpireAfter": "a week"}"#, "$.Steps[0].CacheConfig.ExpireAfter", "'a week' is not an ISO 8601 duration"),
    ])
    func badPoliciesAreRefusedNamingThePath(extra: String, path: String, message: String) throws {
        let error = try ValidationTests.onlyError(ValidationTests.document(steps: [ValidationTests.processing("P", extra: ", " + extra)]))
        #expect(error.path.description == path)
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test func theSDKsPoliciesPass() {
        let text = ValidationTests.document(steps: [ValidationTests.processing("P", extra: #"""
            , "CacheConfig": {"Enabled": true, "ExpireAfter": "30dT5h"},
            "RetryPolicies": [{"BackoffRate": 2.0, "IntervalSeconds": 10, "ExpireAfterMin": 5, "ExceptionType": ["Step.SERVICE_FAULT", "Step.THROTTLING"]},
                              {"BackoffRate": 2.0, "IntervalSeconds": 30, "MaxAttempts": 10, "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR"]}]
            """#)])
        #expect(ValidationTests.errors(text).isEmpty, "\(ValidationTests.errors(text).map(\.description))")
    }
}
