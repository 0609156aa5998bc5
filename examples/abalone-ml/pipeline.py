"""SageMaker's classic abalone pipeline, written with the SageMaker Python SDK
(v2) exactly as for SageMaker, run against Shoal's endpoint (`shoal env` gives
the environment): preprocess (pandas, scikit-learn) -> train (a scikit-learn
estimator in script mode) -> evaluate (a property file) -> if the test MSE is
low enough: create the model, register it, batch-transform the test rows;
else fail.

    python pipeline.py [--threshold MSE] [--no-wait]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import boto3
from sagemaker.inputs import TrainingInput, TransformInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.transformer import Transformer
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TrainingStep, TransformStep

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
FRAMEWORK = "1.2-1"


def build(session, bucket):
    region = session.boto_region_name
    image = f"683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:{FRAMEWORK}-cpu-py3"
    input_data = ParameterString(name="InputData", default_value=f"s3://{bucket}/abalone/abalone-dataset.csv")
    threshold = ParameterFloat(name="MseThreshold", default_value=6.0)
    approval = ParameterString(name="ModelApprovalStatus", default_value="PendingManualApproval")

    processor = SKLearnProcessor(framework_version=FRAMEWORK, instance_type="ml.m5.xlarge", instance_count=1,
                                 base_job_name="abalone-preprocess", role=ROLE, sagemaker_session=session)
    step_process = ProcessingStep(name="Preprocess", step_args=processor.run(
        inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
        outputs=[ProcessingOutput(output_name=name, source=f"/opt/ml/processing/{name}") for name in ("train", "validation", "test", "batch")],
        code=os.path.join(HERE, "preprocess.py")))

    estimator = SKLearn(entry_point="train.py", source_dir=HERE, framework_version=FRAMEWORK, instance_type="ml.m5.xlarge",
                        role=ROLE, sagemaker_session=session, hyperparameters={"n-estimators": 120, "max-depth": 3},
                        metric_definitions=[{"Name": "validation:mse", "Regex": "validation:mse=([0-9.]+)"}])
    outputs = step_process.properties.ProcessingOutputConfig.Outputs
    step_train = TrainingStep(name="Train", step_args=estimator.fit({
        "train": TrainingInput(outputs["train"].S3Output.S3Uri, content_type="text/csv"),
        "validation": TrainingInput(outputs["validation"].S3Output.S3Uri, content_type="text/csv")}))

    evaluator = ScriptProcessor(image_uri=image, command=["python3"], instance_type="ml.m5.xlarge", instance_count=1,
                                base_job_name="abalone-evaluate", role=ROLE, sagemaker_session=session)
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    step_eval = ProcessingStep(name="Evaluate", property_files=[report], step_args=evaluator.run(
        inputs=[ProcessingInput(source=step_train.properties.ModelArtifacts.S3ModelArtifacts, destination="/opt/ml/processing/model"),
                ProcessingInput(source=outputs["test"].S3Output.S3Uri, destination="/opt/ml/processing/test")],
        outputs=[ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")],
        code=os.path.join(HERE, "evaluate.py")))

    code = session.upload_data(os.path.join(HERE, "inference.py"), bucket=bucket, key_prefix="abalone/code")
    model = Model(image_uri=image, model_data=step_train.properties.ModelArtifacts.S3ModelArtifacts, role=ROLE, sagemaker_session=session,
                  env={"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": pack_code(session, bucket)})
    step_create = ModelStep(name="AbaloneModel", step_args=model.create(instance_type="ml.m5.large"))
    metrics = ModelMetrics(model_statistics=MetricsSource(
        s3_uri=Join(on="/", values=[step_eval.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, "evaluation.json"]),
        content_type="application/json"))
    step_register = ModelStep(name="RegisterAbalone", step_args=model.register(
        content_types=["text/csv"], response_types=["text/csv"], inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"],
        model_package_group_name="AbaloneModels", approval_status=approval, model_metrics=metrics))
    transformer = Transformer(model_name=step_create.properties.ModelName, instance_type="ml.m5.large", instance_count=1, accept="text/csv",
                              assemble_with="Line", output_path=Join(on="/", values=[f"s3://{bucket}/abalone/scored", ExecutionVariables.PIPELINE_EXECUTION_ID]),
                              sagemaker_session=session)
    step_transform = TransformStep(name="ScoreTestRows", step_args=transformer.transform(
        data=outputs["batch"].S3Output.S3Uri, content_type="text/csv", split_type="Line", join_source="Input"))

    mse = JsonGet(step_name=step_eval.name, property_file=report, json_path="regression_metrics.mse.value")
    step_fail = FailStep(name="MseTooHigh", error_message=Join(on=" ", values=["test MSE above", threshold]))
    step_cond = ConditionStep(name="CheckMse", conditions=[ConditionLessThanOrEqualTo(left=mse, right=threshold)],
                              if_steps=[step_create, step_register, step_transform], else_steps=[step_fail])
    del code
    return Pipeline(name="AbaloneML", parameters=[input_data, threshold, approval],
                    steps=[step_process, step_train, step_eval, step_cond], sagemaker_session=session)


def pack_code(session, bucket):
    """The inference code as the source archive SAGEMAKER_SUBMIT_DIRECTORY names."""
    folder = tempfile.mkdtemp()
    archive = os.path.join(folder, "sourcedir.tar.gz")
    subprocess.run(["tar", "-czf", archive, "-C", HERE, "inference.py"], check=True)
    return session.upload_data(archive, bucket=bucket, key_prefix="abalone/inference")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--no-wait", action="store_true")
    args = parser.parse_args()
    session = PipelineSession()
    bucket = session.default_bucket()
    data = os.path.join(tempfile.mkdtemp(), "abalone-dataset.csv")
    with open(data, "w") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "..", "abalone", "generate_data.py"), "4177"], stdout=f, check=True)
    boto3.client("s3").upload_file(data, bucket, "abalone/abalone-dataset.csv")
    pipeline = build(session, bucket)
    pipeline.upsert(role_arn=ROLE)
    parameters = {} if args.threshold is None else {"MseThreshold": args.threshold}
    execution = pipeline.start(parameters=parameters)
    print(execution.arn)
    if args.no_wait:
        return
    try:
        execution.wait(delay=1, max_attempts=1800)
    except Exception as error:  # the waiter raises when the execution failed; the steps say why
        print(f"execution ended: {error}", file=sys.stderr)
    for step in reversed(execution.list_steps()):
        reason = step.get("FailureReason", "")
        print(f"{step['StepName']:<28} {step['StepStatus']:<10} {reason[:160]}")
    status = execution.describe()["PipelineExecutionStatus"]
    print(f"execution {status}")
    sys.exit(0 if status == "Succeeded" else 1)


if __name__ == "__main__":
    main()
