"""boto3 against `shoal serve`: the SageMaker pipeline API, STS, and refused signatures.

Run by ShoalCLITests/AWSEndpointTests with the client environment `shoal env`
prints; exits non-zero on the first failed check.
"""
import json
import os
import time
import unittest

import boto3
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def processing(name, script, outputs=()):
    return {"Name": name, "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "python", "ContainerEntrypoint": ["python3", "-c", script]},
        "RoleArn": ROLE,
        "ProcessingOutputConfig": {"Outputs": [
            {"OutputName": o, "AppManaged": False, "S3Output": {"S3Uri": "s3://b/" + o, "LocalPath": "/opt/ml/processing/" + o, "S3UploadMode": "EndOfJob"}}
            for o in outputs]}}}


class Endpoint(unittest.TestCase):
    sm = boto3.client("sagemaker")

    def wait(self, arn, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status = self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
            if status not in ("Executing", "Stopping"):
                return status
            time.sleep(0.1)
        self.fail(f"{arn} still running after {timeout} s")

    def test_caller_identity(self):
        self.assertTrue(boto3.client("sts").get_caller_identity()["Arn"].endswith(":user/me"))

    def test_pipeline_lifecycle(self):
        step = processing("Evaluate", "import json; json.dump({'mse': 0.3}, open('/opt/ml/processing/report/r.json', 'w'))", outputs=["report"])
        step["PropertyFiles"] = [{"PropertyFileName": "Report", "OutputName": "report", "FilePath": "r.json"}]
        definition = {"Version": "2020-12-01", "Parameters": [{"Name": "Threshold", "Type": "Float", "DefaultValue": 1.0}], "Steps": [
            step,
            {"Name": "Check", "Type": "Condition", "Arguments": {
                "Conditions": [{"Type": "LessThanOrEqualTo",
                                "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "mse"}},
                                "RightValue": {"Get": "Parameters.Threshold"}}],
                "IfSteps": [], "ElseSteps": [{"Name": "TooHigh", "Type": "Fail", "Arguments": {"ErrorMessage": "mse too high"}}]}}]}
        create = dict(PipelineName="Lifecycle", PipelineDefinition=json.dumps(definition), RoleArn=ROLE, ClientRequestToken="create-lifecycle-000000000000000001")
        created = self.sm.create_pipeline(**create)
        self.assertTrue(created["PipelineArn"].endswith(":pipeline/lifecycle"))
        # Sent again with its token (botocore retries after a lost reply), the create answers as before.
        self.assertEqual(self.sm.create_pipeline(**create)["PipelineArn"], created["PipelineArn"])
        # The SDK's upsert relies on this error to switch to UpdatePipeline.
        with self.assertRaises(ClientError) as duplicate:
            self.sm.create_pipeline(PipelineName="Lifecycle", PipelineDefinition=json.dumps(definition), RoleArn=ROLE)
        self.assertEqual(duplicate.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("must be unique", duplicate.exception.response["Error"]["Message"])
        definition["Parameters"][0]["DefaultValue"] = 0.5
        self.assertEqual(self.sm.update_pipeline(PipelineName="Lifecycle", PipelineDefinition=json.dumps(definition))["PipelineVersionId"], 2)
        self.assertEqual(json.loads(self.sm.describe_pipeline(PipelineName="Lifecycle")["PipelineDefinition"])["Parameters"][0]["DefaultValue"], 0.5)

        arn = self.sm.start_pipeline_execution(PipelineName="Lifecycle", PipelineParameters=[{"Name": "Threshold", "Value": "0.4"}])["PipelineExecutionArn"]
        self.assertEqual(self.wait(arn), "Succeeded")
        steps = {s["StepName"]: s for s in self.sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]}
        self.assertEqual(set(steps), {"Evaluate", "Check"})
        self.assertIn(":processing-job/pipelines-", steps["Evaluate"]["Metadata"]["ProcessingJob"]["Arn"])
        self.assertEqual(steps["Check"]["Metadata"]["Condition"]["Outcome"], "True")
        parameters = self.sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
        self.assertIn({"Name": "Threshold", "Value": "0.4"}, parameters)
        listed = self.sm.list_pipeline_executions(PipelineName="Lifecycle")["PipelineExecutionSummaries"]
        self.assertEqual([e["PipelineExecutionArn"] for e in listed], [arn])
        # A start repeated with its ClientRequestToken (a retry after a lost reply) starts nothing new.
        first = self.sm.start_pipeline_execution(PipelineName="Lifecycle", ClientRequestToken="retry-me-0000000000000000000000000001")["PipelineExecutionArn"]
        again = self.sm.start_pipeline_execution(PipelineName="Lifecycle", ClientRequestToken="retry-me-0000000000000000000000000001")["PipelineExecutionArn"]
        self.assertEqual(first, again)
        self.wait(first)

        failed = self.sm.start_pipeline_execution(PipelineName="Lifecycle", PipelineParameters=[{"Name": "Threshold", "Value": "0.1"}])["PipelineExecutionArn"]
        self.assertEqual(self.wait(failed), "Failed")
        self.assertEqual(self.sm.describe_pipeline_execution(PipelineExecutionArn=failed)["FailureReason"], "mse too high")

        # The step's processing job, as DescribeProcessingJob and ListProcessingJobs give it.
        job_name = steps["Evaluate"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
        job = self.sm.describe_processing_job(ProcessingJobName=job_name)
        self.assertEqual(job["ProcessingJobStatus"], "Completed")
        self.assertEqual(job["ProcessingJobName"].lower(), job_name)
        self.assertEqual(job["ProcessingResources"]["ClusterConfig"]["InstanceType"], "ml.m5.large")
        self.assertEqual(job["ProcessingOutputConfig"]["Outputs"][0]["OutputName"], "report")
        listed_jobs = self.sm.list_processing_jobs(NameContains=arn.rsplit("/", 1)[1])["ProcessingJobSummaries"]
        self.assertEqual([j["ProcessingJobName"].lower() for j in listed_jobs], [job_name])
        self.assertEqual(len(self.sm.list_processing_jobs(StatusEquals="Completed")["ProcessingJobSummaries"]), 3)
        with self.assertRaises(ClientError) as unknown_job:
            self.sm.describe_processing_job(ProcessingJobName="pipelines-nosuchexecution-Evaluate-0000000000")
        self.assertEqual(unknown_job.exception.response["Error"]["Code"], "ResourceNotFound")

    def test_a_delete_sent_again_with_its_token_answers_as_before(self):
        definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [processing("Noop", "pass")]}
        self.sm.create_pipeline(PipelineName="Gone", PipelineDefinition=json.dumps(definition), RoleArn=ROLE)
        delete = dict(PipelineName="Gone", ClientRequestToken="delete-gone-0000000000000000000000001")
        first = self.sm.delete_pipeline(**delete)["PipelineArn"]
        self.assertEqual(self.sm.delete_pipeline(**delete)["PipelineArn"], first)
        with self.assertRaises(ClientError) as gone:
            self.sm.delete_pipeline(PipelineName="Gone")
        self.assertEqual(gone.exception.response["Error"]["Code"], "ResourceNotFound")

    def test_bad_input_gets_the_service_errors(self):
        with self.assertRaises(ClientError) as missing:
            self.sm.describe_pipeline(PipelineName="NoSuchPipeline")
        self.assertEqual(missing.exception.response["Error"]["Code"], "ResourceNotFound")
        with self.assertRaises(ClientError) as invalid:
            self.sm.create_pipeline(PipelineName="Broken", PipelineDefinition='{"Version": "2020-12-01", "Steps": [{"Name": "X"}]}', RoleArn=ROLE)
        self.assertEqual(invalid.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("$.Steps[0]", invalid.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError):
            self.sm.describe_pipeline(PipelineName="Broken")

    def test_wrong_secret_and_unknown_key_are_refused(self):
        wrong = boto3.client("sagemaker", aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="not-the-secret")
        with self.assertRaises(ClientError) as refused:
            wrong.list_pipelines()
        self.assertEqual(refused.exception.response["Error"]["Code"], "InvalidSignatureException")
        self.assertEqual(refused.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        stranger = boto3.client("sts", aws_access_key_id="AKIDSTRANGER", aws_secret_access_key="x")
        with self.assertRaises(ClientError) as unknown:
            stranger.get_caller_identity()
        self.assertEqual(unknown.exception.response["Error"]["Code"], "InvalidClientTokenId")

    def test_callback_answered_through_the_api(self):
        definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [
            {"Name": "Approve", "Type": "Callback", "Arguments": {"reason": "review"}, "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
             "OutputParameters": [{"OutputName": "by", "OutputType": "String"}]}]}
        self.sm.create_pipeline(PipelineName="Approval", PipelineDefinition=json.dumps(definition), RoleArn=ROLE)
        arn = self.sm.start_pipeline_execution(PipelineName="Approval")["PipelineExecutionArn"]
        token = None
        deadline = time.time() + 30
        while token is None and time.time() < deadline:
            for step in self.sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]:
                token = step.get("Metadata", {}).get("Callback", {}).get("CallbackToken")
            time.sleep(0.05)
        self.assertIsNotNone(token)
        answer = dict(CallbackToken=token, OutputParameters=[{"Name": "by", "Value": "ana"}], ClientRequestToken="answer-1-00000000000000000000000")
        self.sm.send_pipeline_execution_step_success(**answer)
        self.assertEqual(self.wait(arn), "Succeeded")
        # The same request sent again (a reply lost on the way) answers as the first did.
        self.assertEqual(self.sm.send_pipeline_execution_step_success(**answer)["PipelineExecutionArn"], arn)
        with self.assertRaises(ClientError) as used:
            self.sm.send_pipeline_execution_step_failure(CallbackToken=token, FailureReason="late")
        self.assertEqual(used.exception.response["Error"]["Code"], "ConflictException")

    def test_callback_consumed_from_sqs(self):
        """The README's approval pattern: a consumer reads the step's message from SQS and answers it."""
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="approvals")["QueueUrl"]
        self.assertEqual(sqs.get_queue_url(QueueName="approvals")["QueueUrl"], url)
        definition = {"Version": "2020-12-01", "Parameters": [{"Name": "Dataset", "Type": "String", "DefaultValue": "abalone"}], "Steps": [
            {"Name": "Approve", "Type": "Callback", "Arguments": {"dataset": {"Get": "Parameters.Dataset"}},
             "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
             "OutputParameters": [{"OutputName": "approved_by", "OutputType": "String"}]}]}
        self.sm.create_pipeline(PipelineName="SqsApproval", PipelineDefinition=json.dumps(definition), RoleArn=ROLE)
        arn = self.sm.start_pipeline_execution(PipelineName="SqsApproval")["PipelineExecutionArn"]
        received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, MaxNumberOfMessages=1)["Messages"]
        self.assertEqual(len(received), 1)
        message = json.loads(received[0]["Body"])
        self.assertEqual(message["pipelineExecutionArn"], arn)
        self.assertEqual(message["arguments"], {"dataset": "abalone"})
        # Hidden while being handled: a second consumer gets nothing.
        self.assertEqual(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []), [])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
        self.sm.send_pipeline_execution_step_success(CallbackToken=message["token"], OutputParameters=[{"Name": "approved_by", "Value": "sqs-bot"}])
        self.assertEqual(self.wait(arn), "Succeeded")
        with self.assertRaises(ClientError) as missing:
            sqs.get_queue_url(QueueName="nosuchqueue")
        self.assertEqual(missing.exception.response["Error"]["Code"], "AWS.SimpleQueueService.NonExistentQueue")

    def test_stop_and_retry(self):
        definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [processing("Slow", "import time; time.sleep(60)")]}
        self.sm.create_pipeline(PipelineName="Slow", PipelineDefinition=json.dumps(definition), RoleArn=ROLE)
        arn = self.sm.start_pipeline_execution(PipelineName="Slow")["PipelineExecutionArn"]
        time.sleep(0.5)
        self.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="stop-1-0000000000000000000000000")
        self.assertEqual(self.wait(arn, timeout=30), "Stopped")
        self.sm.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="retry-1-000000000000000000000000")
        self.assertEqual(self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"], "Executing")
        self.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="stop-2-0000000000000000000000000")
        self.assertEqual(self.wait(arn, timeout=30), "Stopped")
        # Sent again with their tokens, the retry does not run the execution a third time and the stop answers as before.
        self.sm.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="retry-1-000000000000000000000000")
        self.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="stop-2-0000000000000000000000000")
        self.assertEqual(self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"], "Stopped")
        # A new token is a new request: this retry runs it again.
        self.sm.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="retry-2-000000000000000000000000")
        self.assertEqual(self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"], "Executing")
        self.sm.stop_pipeline_execution(PipelineExecutionArn=arn)
        self.assertEqual(self.wait(arn, timeout=30), "Stopped")


if __name__ == "__main__":
    unittest.main(verbosity=2)
