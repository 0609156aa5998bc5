import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

@Suite struct DSLTests {
    /// The seed's abalone pipeline, written in Swift the way 01_abalone_seed.py writes it with the SDK.
    static func abalone() -> PipelineDefinition {
        let instanceCount = Parameter(name: "ProcessingInstanceCount", type: .integer, defaultValue: 2)
        let bucket = Parameter(name: "MyBucket", type: .string, defaultValue: "my-bucket")
        let threshold = Parameter(name: "MseThreshold", type: .float, defaultValue: 6.0)

        let lambda = Step.lambda(
            "MyLambdaStep",
            functionArn: "arn:aws:lambda:us-west-2:123456789012:function:sagemaker_test_lambda",
            arguments: ["arg1": "foo", "arg2": "foo1"],
            outputs: [OutputParameter(name: "output1", type: .string), OutputParameter(name: "output2", type: .integer)]
        )
        let report = PropertyFile(name: "EvaluationReport", outputName: "evaluation", filePath: "evaluation.json")
        let process = Step.processing(
            "AbaloneProcess",
            arguments: ProcessingArguments(
                instanceType: "ml.m5.xlarge", instanceCount: instanceCount.value, volumeSizeInGB: 30,
                imageUri: "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                entrypoint: ["python3", "/opt/ml/processing/input/code/preprocess.py"],
                arguments: ["--input-args", lambda.output("output1")],
                roleArn: "arn:aws:iam::123456789012:role/SageMakerRole",
                inputs: [
                    ProcessingInput(inputName: "input-1", s3Input: S3Input(
                        s3Uri: "s3://my-bucket/abalone/abalone-dataset.csv", localPath: "/opt/ml/processing/input",
                        s3DataDistributionType: "ShardedByS3Key"
                    )),
                    ProcessingInput(inputName: "code", s3Input: S3Input(
                        s3Uri: "s3://my-bucket/code/preprocess.py", localPath: "/opt/ml/processing/input/code"
                    )),
                ],
                outputs: [
                    ProcessingOutput(outputName: "train", s3Output: S3Output(
                        s3Uri: .join(on: "/", ["s3:/", bucket.value, "training", .execution(.pipelineExecutionId)]),
                        localPath: "/opt/ml/processing/train"
                    )),
                    ProcessingOutput(outputName: "evaluation", s3Output: S3Output(
                        s3Uri: .join(on: "/", [
                            "s3:/", "my-bucket", "AbalonePipeline", .execution(.pipelineExecutionId), "AbaloneProcess", "output", "evaluation",
                        ]),
                        localPath: "/opt/ml/processing/evaluation"
                    )),
                ],
                tags: [Tag(key: "pipeline-cost-tag", value: "abalone")]
            ),
            propertyFiles: [report]
        )
        return PipelineDefinition {
            instanceCount
            bucket
            threshold
            lambda
            process
            Step.condition(
                "CheckMse",
                [.lessThanOrEqualTo(process.jsonGet(report, path: "regression_metrics.mse.value"), threshold.value)],
                elseSteps: {
                    Step.fail("MseFail", message: .join(on: " ", ["MSE above", threshold.value]))
                }
            )
        }
    }

    @Test func abaloneInSwiftEncodesTheSDKDocument() throws {
        let fixture = Fixtures.sagemaker.appendingPathComponent("01_abalone_seed.json")
        let expected = try JSONParser.parse(try Data(contentsOf: fixture))
        let built = Self.abalone()
        #expect(built.jsonText() == JSONWriter.string(expected), "key order and number forms count, not only values")
        #expect(DefinitionCheck.check(built).errors == [])
    }

    @Test func swiftDefinitionDecodesBackToTheSameModel() throws {
        let built = Self.abalone()
        let check = DefinitionCheck.check(data: Data(built.jsonText(pretty: true).utf8))
        #expect(check.definition == built)
    }

    @Test func branchesMayBeBuiltConditionally() {
        let strict = true
        let step = Step.condition("Gate", [.equals(.parameter("Go"), true)], ifSteps: {
            if strict { Step.fail("Stop", message: "strict") }
            for index in 0..<2 { Step.fail("Also\(index)") }
        })
        #expect(step.branches.ifSteps.map(\.name) == ["Stop", "Also0", "Also1"])
        #expect(step.branches.elseSteps.isEmpty)
    }
}
