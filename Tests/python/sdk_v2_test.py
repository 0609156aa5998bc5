"""The SageMaker Python SDK (v2) against `shoal serve`, unchanged: the abalone
pipeline written with the SDK (Lambda step -> a two-instance scikit-learn
processing step with local code and local input, which the SDK uploads through
S3, and a function the SDK's Lambda helper creates -> a condition on a
property file -> a fail step), upserted twice, started,
waited for and listed, on both branches of its condition.

Run by ShoalCLITests/AWSEndpointTests with the environment `shoal env` prints.
"""
import os
import tempfile
import unittest

import boto3
from abalone_checks import abalone_csv, check_else_branch, check_if_branch
from sagemaker.lambda_helper import Lambda
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "sdk-bucket"
# The abalone example's own script and function, uploaded by the SDK as a user's would be.
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "abalone")


def abalone_pipeline(session, data_folder):
    count = ParameterInteger(name="ProcessingInstanceCount", default_value=2)
    threshold = ParameterFloat(name="MseThreshold", default_value=6.0)
    step_lambda = LambdaStep(
        name="MyLambdaStep",
        # No ARN: the SDK creates (then updates) the function from the script through the Lambda API.
        lambda_func=Lambda(function_name="sagemaker_test_lambda", execution_role_arn=ROLE, script=os.path.join(EXAMPLE, "lambda_fn.py"),
                           handler="lambda_fn.lambda_handler", session=session),
        inputs={"arg1": "foo", "arg2": "foo1"},
        outputs=[LambdaOutput(output_name="output1", output_type=LambdaOutputTypeEnum.String),
                 LambdaOutput(output_name="output2", output_type=LambdaOutputTypeEnum.Integer)],
    )
    processor = SKLearnProcessor(framework_version="1.2-1", instance_type="ml.m5.xlarge", instance_count=count,
                                 base_job_name="sklearn-abalone-process", role=ROLE, sagemaker_session=session)
    args = processor.run(
        inputs=[ProcessingInput(source=data_folder, destination="/opt/ml/processing/input", s3_data_distribution_type="ShardedByS3Key")],
        outputs=[
            ProcessingOutput(output_name="train", source="/opt/ml/processing/train",
                             destination=Join(on="/", values=["s3:/", BUCKET, "training", ExecutionVariables.PIPELINE_EXECUTION_ID])),
            ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation"),
        ],
        code=os.path.join(EXAMPLE, "preprocess.py"),
        arguments=["--input-args", step_lambda.properties.Outputs["output1"]],
    )
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    step_process = ProcessingStep(name="AbaloneProcess", step_args=args, property_files=[report])
    mse = JsonGet(step_name=step_process.name, property_file=report, json_path="regression_metrics.mse.value")
    fail = FailStep(name="MseFail", error_message=Join(on=" ", values=["MSE above", threshold]))
    step_cond = ConditionStep(name="CheckMse", conditions=[ConditionLessThanOrEqualTo(left=mse, right=threshold)], if_steps=[], else_steps=[fail])
    return Pipeline(name="AbalonePipeline", parameters=[count, threshold], steps=[step_lambda, step_process, step_cond], sagemaker_session=session)


class SDKv2(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # default_bucket() finds the bucket missing (HEAD -> 404 "Not Found") and creates it.
        cls.session = PipelineSession(default_bucket=BUCKET)
        assert cls.session.default_bucket() == BUCKET
        cls.data = tempfile.mkdtemp()
        abalone_csv(os.path.join(cls.data, "abalone.csv"), seed=7, sex="M")
        cls.pipeline = abalone_pipeline(cls.session, cls.data)
        cls.s3 = boto3.client("s3")

    def test_1_upsert_creates_then_updates(self):
        self.assertIn(BUCKET, [b["Name"] for b in self.s3.list_buckets()["Buckets"]])
        created = self.pipeline.upsert(role_arn=ROLE)
        self.assertTrue(created["PipelineArn"].endswith("pipeline/abalonepipeline"))
        updated = self.pipeline.upsert(role_arn=ROLE, tags=[{"Key": "team", "Value": "ml"}])
        self.assertEqual(updated["PipelineArn"], created["PipelineArn"])
        sm = boto3.client("sagemaker")
        self.assertIn({"Key": "team", "Value": "ml"}, sm.list_tags(ResourceArn=created["PipelineArn"])["Tags"])
        # The SDK uploaded the local code and the local input folder to the default bucket.
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET, Prefix="AbalonePipeline/")["Contents"]]
        self.assertTrue(any(k.startswith("AbalonePipeline/code/") and k.endswith("/preprocess.py") for k in keys), keys)
        self.assertTrue(any(k.endswith("/abalone.csv") for k in keys), keys)
        function = boto3.client("lambda").get_function(FunctionName="sagemaker_test_lambda")["Configuration"]
        self.assertEqual(function["Handler"], "lambda_fn.lambda_handler")

    def test_2_the_if_branch_succeeds(self):
        check_if_branch(self, self.pipeline.start(), self.s3, BUCKET)

    def test_3_the_else_branch_fails(self):
        check_else_branch(self, self.pipeline.start(parameters={"MseThreshold": 0.0, "ProcessingInstanceCount": 1}))


if __name__ == "__main__":
    unittest.main()
