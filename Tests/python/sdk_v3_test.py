"""The SageMaker Python SDK v3 (3.27.0) against `shoal serve`, unchanged: the
abalone pipeline as v3 writes it (sagemaker.core / sagemaker.mlops) — a
LambdaStep whose function the SDK creates from a script, a two-instance
ScriptProcessor step with local code the SDK uploads through S3, a property
file, a condition, a fail step — upserted twice (v3 checks the role with IAM
GetRole), started, waited for and listed on both branches.

Run by ShoalCLITests/AWSEndpointTests in .venv-sdk3 with the environment
`shoal env` prints.
"""
import os
import tempfile
import unittest

import boto3
from abalone_checks import abalone_csv, check_else_branch, check_if_branch
from sagemaker.core import image_uris
from sagemaker.core.lambda_helper import Lambda
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "sdk3-bucket"
# The abalone example's own script and function, uploaded by the SDK as a user's would be.
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "abalone")


def upload_abalone(s3):
    path = abalone_csv(os.path.join(tempfile.mkdtemp(), "abalone.csv"), seed=11, sex="F")
    s3.upload_file(path, BUCKET, "abalone/abalone.csv")


def abalone_pipeline(session):
    count = ParameterInteger(name="ProcessingInstanceCount", default_value=2)
    threshold = ParameterFloat(name="MseThreshold", default_value=6.0)
    step_lambda = LambdaStep(
        name="MyLambdaStep",
        lambda_func=Lambda(function_name="sagemaker_test_lambda", execution_role_arn=ROLE, script=os.path.join(EXAMPLE, "lambda_fn.py"),
                           handler="lambda_fn.lambda_handler", session=session),
        inputs={"arg1": "foo", "arg2": "foo1"},
        outputs=[LambdaOutput(output_name="output1", output_type=LambdaOutputTypeEnum.String),
                 LambdaOutput(output_name="output2", output_type=LambdaOutputTypeEnum.Integer)],
    )
    processor = ScriptProcessor(image_uri=image_uris.retrieve(framework="sklearn", region="us-east-1", version="1.2-1"), command=["python3"],
                                instance_type="ml.m5.xlarge", instance_count=count, base_job_name="sklearn-abalone-process", role=ROLE,
                                sagemaker_session=session)
    args = processor.run(
        inputs=[ProcessingInput(input_name="input-1", s3_input=ProcessingS3Input(
            s3_uri=f"s3://{BUCKET}/abalone/abalone.csv", local_path="/opt/ml/processing/input", s3_data_type="S3Prefix",
            s3_data_distribution_type="ShardedByS3Key"))],
        outputs=[
            ProcessingOutput(output_name="train", s3_output=ProcessingS3Output(
                s3_uri=Join(on="/", values=["s3:/", BUCKET, "training", ExecutionVariables.PIPELINE_EXECUTION_ID]),
                local_path="/opt/ml/processing/train", s3_upload_mode="EndOfJob")),
            ProcessingOutput(output_name="evaluation", s3_output=ProcessingS3Output(
                s3_uri="/opt/ml/processing/evaluation", local_path="/opt/ml/processing/evaluation", s3_upload_mode="EndOfJob")),
        ],
        code=os.path.join(EXAMPLE, "preprocess.py"),
        arguments=["--input-args", step_lambda.properties.Outputs["output1"]],
    )
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    step_process = ProcessingStep(name="AbaloneProcess", step_args=args, property_files=[report])
    mse = JsonGet(step_name=step_process.name, property_file=report, json_path="regression_metrics.mse.value")
    fail = FailStep(name="MseFail", error_message=Join(on=" ", values=["MSE above", threshold]))
    step_cond = ConditionStep(name="CheckMse", conditions=[ConditionLessThanOrEqualTo(left=mse, right=threshold)], if_steps=[], else_steps=[fail])
    return Pipeline(name="AbalonePipelineV3", parameters=[count, threshold], steps=[step_lambda, step_process, step_cond], sagemaker_session=session)


class SDKv3(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.session = PipelineSession(default_bucket=BUCKET)
        assert cls.session.default_bucket() == BUCKET
        cls.s3 = boto3.client("s3")
        upload_abalone(cls.s3)
        cls.pipeline = abalone_pipeline(cls.session)

    def test_1_upsert_creates_then_updates(self):
        created = self.pipeline.upsert(role_arn=ROLE)
        self.assertTrue(created["PipelineArn"].endswith("pipeline/abalonepipelinev3"))
        self.assertEqual(self.pipeline.upsert(role_arn=ROLE)["PipelineArn"], created["PipelineArn"])
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET, Prefix="AbalonePipelineV3/")["Contents"]]
        self.assertTrue(any(k.endswith("/preprocess.py") for k in keys), keys)

    def test_2_the_if_branch_succeeds(self):
        check_if_branch(self, self.pipeline.start(), self.s3, BUCKET)

    def test_3_the_else_branch_fails(self):
        check_else_branch(self, self.pipeline.start(parameters={"MseThreshold": 0.0, "ProcessingInstanceCount": 1}))


if __name__ == "__main__":
    unittest.main()
