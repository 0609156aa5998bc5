"""The model registry through `shoal serve` with boto3: a pipeline trains,
makes a model and registers it; boto3 then lists, describes and approves the
version, and creates groups and models of its own.

Run by ShoalCLITests/AWSEndpointTests with the environment `shoal env` prints,
plus SHOAL (the binary) and SHOAL_HOME.
"""
import json
import os
import subprocess
import time
import unittest

import boto3
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:1.0"
TRAIN = "import json, os; json.dump({'w': 0.5}, open(os.environ['SM_MODEL_DIR'] + '/model.json', 'w')); print('loss=0.125')"

DEFINITION = {"Version": "2020-12-01", "Parameters": [{"Name": "Approval", "Type": "String", "DefaultValue": "PendingManualApproval"}], "Steps": [
    {"Name": "Train", "Type": "Training", "Arguments": {
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File", "ContainerEntrypoint": ["python3", "-c", TRAIN],
                                   "MetricDefinitions": [{"Name": "loss", "Regex": "loss=([0-9.]+)"}]},
        "OutputDataConfig": {"S3OutputPath": "s3://models-bucket/out"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300}, "RoleArn": ROLE}},
    {"Name": "MakeModel", "Type": "Model", "Arguments": {
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {"Image": IMAGE, "Environment": {}, "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}}},
    {"Name": "Register", "Type": "RegisterModel", "Arguments": {
        "ModelPackageGroupName": "churn-models",
        "InferenceSpecification": {"Containers": [{"Image": IMAGE, "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}],
                                   "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://models-bucket/eval/evaluation.json"}}},
        "CustomerMetadataProperties": {"loss": {"Std:Join": {"On": "", "Values": [{"Get": "Steps.Train.FinalMetricDataList['loss'].Value"}]}}},
        "ModelApprovalStatus": {"Get": "Parameters.Approval"}}},
]}


class Registry(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sm = boto3.client("sagemaker")
        cls.sm.create_pipeline(PipelineName="Registered", PipelineDefinition=json.dumps(DEFINITION), RoleArn=ROLE)
        cls.runs = []
        for _ in range(2):
            arn = cls.sm.start_pipeline_execution(PipelineName="Registered")["PipelineExecutionArn"]
            for _ in range(600):
                if cls.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] != "Executing":
                    break
                time.sleep(0.1)
            cls.runs.append(arn)

    def test_each_execution_adds_a_version_of_the_group(self):
        for arn in self.runs:
            self.assertEqual(self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"], "Succeeded")
        groups = self.sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
        self.assertIn("churn-models", [g["ModelPackageGroupName"] for g in groups])
        packages = self.sm.list_model_packages(ModelPackageGroupName="churn-models")["ModelPackageSummaryList"]
        self.assertEqual(sorted(p["ModelPackageVersion"] for p in packages), [1, 2])
        second = next(p for p in packages if p["ModelPackageVersion"] == 2)
        self.assertEqual(second["ModelApprovalStatus"], "PendingManualApproval")

    def test_a_version_describes_its_artifact_metrics_and_metadata_and_can_be_approved(self):
        steps = self.sm.list_pipeline_execution_steps(PipelineExecutionArn=self.runs[0])["PipelineExecutionSteps"]
        register = next(s for s in steps if s["StepName"] == "Register")
        arn = register["Metadata"]["RegisterModel"]["Arn"]
        described = self.sm.describe_model_package(ModelPackageName=arn)
        self.assertEqual(described["ModelPackageGroupName"], "churn-models")
        container = described["InferenceSpecification"]["Containers"][0]
        self.assertTrue(container["ModelDataUrl"].endswith("/output/model.tar.gz"), container)
        self.assertEqual(described["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"], "s3://models-bucket/eval/evaluation.json")
        self.assertEqual(described["CustomerMetadataProperties"], {"loss": "0.125"})
        self.sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="good loss")
        again = self.sm.describe_model_package(ModelPackageName=arn)
        self.assertEqual((again["ModelApprovalStatus"], again["ApprovalDescription"]), ("Approved", "good loss"))
        approved = self.sm.list_model_packages(ModelPackageGroupName="churn-models", ModelApprovalStatus="Approved")["ModelPackageSummaryList"]
        self.assertEqual([p["ModelPackageArn"] for p in approved], [arn])
        shown = subprocess.run([os.environ["SHOAL"], "models", "list", "--group", "churn-models", "--output", "json"], capture_output=True, text=True, check=True)
        self.assertIn("Approved", [p["approvalStatus"] for p in json.loads(shown.stdout)])

    def test_the_model_step_is_described_by_describe_model(self):
        steps = self.sm.list_pipeline_execution_steps(PipelineExecutionArn=self.runs[0])["PipelineExecutionSteps"]
        model_arn = next(s for s in steps if s["StepName"] == "MakeModel")["Metadata"]["Model"]["Arn"]
        name = next(m["ModelName"] for m in self.sm.list_models()["Models"] if m["ModelArn"] == model_arn)
        model = self.sm.describe_model(ModelName=name)
        self.assertEqual(model["PrimaryContainer"]["Image"], IMAGE)
        self.assertTrue(model["PrimaryContainer"]["ModelDataUrl"].startswith("s3://models-bucket/out/"))

    def test_the_training_step_is_described_by_describe_training_job(self):
        steps = self.sm.list_pipeline_execution_steps(PipelineExecutionArn=self.runs[0])["PipelineExecutionSteps"]
        name = next(s for s in steps if s["StepName"] == "Train")["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
        job = self.sm.describe_training_job(TrainingJobName=name)
        self.assertEqual(job["TrainingJobStatus"], "Completed")
        self.assertTrue(job["ModelArtifacts"]["S3ModelArtifacts"].endswith("/output/model.tar.gz"), job["ModelArtifacts"])
        self.assertEqual([(m["MetricName"], m["Value"]) for m in job["FinalMetricDataList"]], [("loss", 0.125)])
        self.assertEqual(job["AlgorithmSpecification"]["TrainingImage"], IMAGE)
        listed = self.sm.list_training_jobs(NameContains=name[-10:])["TrainingJobSummaries"]
        self.assertEqual([j["TrainingJobName"].lower() for j in listed], [name.lower()])
        with self.assertRaises(ClientError) as stop:
            self.sm.stop_training_job(TrainingJobName=name)
        self.assertIn("stop their execution", str(stop.exception))

    def test_groups_packages_and_models_of_ones_own(self):
        self.sm.create_model_package_group(ModelPackageGroupName="mine", ModelPackageGroupDescription="by hand")
        with self.assertRaises(ClientError) as twice:
            self.sm.create_model_package_group(ModelPackageGroupName="mine")
        self.assertIn("already exists", str(twice.exception))
        spec = {"Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://models-bucket/m.tar.gz"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}
        arn = self.sm.create_model_package(ModelPackageGroupName="mine", InferenceSpecification=spec, ModelApprovalStatus="Approved")["ModelPackageArn"]
        self.assertTrue(arn.endswith("model-package/mine/1"), arn)
        self.assertEqual(self.sm.describe_model_package_group(ModelPackageGroupName="mine")["ModelPackageGroupDescription"], "by hand")
        with self.assertRaises(ClientError) as missing:
            self.sm.create_model_package(ModelPackageGroupName="nobody", InferenceSpecification=spec)
        self.assertIn("does not exist", str(missing.exception))
        with self.assertRaises(ClientError) as bad:
            self.sm.create_model_package_group(ModelPackageGroupName="no_underscores")
        self.assertIn("letters, digits and hyphens", str(bad.exception))
        self.sm.create_model(ModelName="hand-made", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "s3://models-bucket/m.tar.gz"}, ExecutionRoleArn=ROLE)
        self.assertEqual(self.sm.describe_model(ModelName="hand-made")["ModelName"], "hand-made")
        with self.assertRaises(ClientError) as unmapped:
            self.sm.create_model(ModelName="unmapped", PrimaryContainer={"Image": "example.com/nothing:1"}, ExecutionRoleArn=ROLE)
        self.assertIn("shoal images map", str(unmapped.exception))


if __name__ == "__main__":
    unittest.main()
