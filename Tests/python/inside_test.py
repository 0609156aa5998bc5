"""Calls from inside a run: jobs and handlers started by `shoal serve` get the
endpoint's address and their execution's own key pair, so boto3 in them talks
to Shoal, unchanged; what they start records them as its parent.

Run by ShoalCLITests/AWSEndpointTests against `shoal serve --unsandboxed` (so
a job can run this virtual environment's Python, which has boto3), with the
environment `shoal env` prints plus SHOAL and SHOAL_HOME.
"""
import io
import json
import os
import subprocess
import sys
import time
import unittest
import zipfile

import boto3
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
FANOUT = """
import boto3
sm = boto3.client("sagemaker")
for item in range(20):
    sm.start_pipeline_execution(PipelineName="ScoreItem", PipelineParameters=[{"Name": "Item", "Value": str(item)}])
"""
HANDLER = """import os
def handler(event, context):
    return {name: os.environ.get(name, "") for name in ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]}
"""


def definition(steps, parameters=()):
    return json.dumps({"Version": "2020-12-01", "Parameters": list(parameters), "Steps": steps})


class Inside(unittest.TestCase):
    sm = boto3.client("sagemaker")

    def wait(self, arn, timeout=120):
        for _ in range(timeout * 10):
            status = self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
            if status not in ("Executing", "Stopping"):
                return status
            time.sleep(0.1)
        self.fail(f"{arn} still running")

    def test_a_job_fans_out_with_boto3_and_its_children_record_it(self):
        child = [{"Name": "Check", "Type": "Condition", "Arguments": {
            "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": {"Get": "Parameters.Item"}, "RightValue": 0}], "IfSteps": [], "ElseSteps": []}}]
        self.sm.create_pipeline(PipelineName="ScoreItem", RoleArn=ROLE,
                                PipelineDefinition=definition(child, [{"Name": "Item", "Type": "Integer", "DefaultValue": 0}]))
        job = {"Name": "FanOut", "Type": "Processing", "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}},
            "AppSpecification": {"ImageUri": "python", "ContainerEntrypoint": [sys.executable, "-c", FANOUT]}, "RoleArn": ROLE}}
        self.sm.create_pipeline(PipelineName="FanOutParent", RoleArn=ROLE, PipelineDefinition=definition([job]))
        arn = self.sm.start_pipeline_execution(PipelineName="FanOutParent")["PipelineExecutionArn"]
        self.assertEqual(self.wait(arn), "Succeeded")
        children = self.sm.list_pipeline_executions(PipelineName="ScoreItem")["PipelineExecutionSummaries"]
        self.assertEqual(len(children), 20)
        for summary in children:
            self.assertEqual(self.wait(summary["PipelineExecutionArn"]), "Succeeded")
        listed = subprocess.run([os.environ["SHOAL"], "executions", "list", "--parent", arn.rsplit("/", 1)[1], "--output", "json"],
                                capture_output=True, text=True, check=True)
        self.assertEqual(len(json.loads(listed.stdout)), 20)

    def test_a_handler_gets_the_endpoint_and_keys_that_end_with_its_execution(self):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("reach.py", HANDLER)
        boto3.client("lambda").create_function(FunctionName="reach", Runtime="python3.11", Role=ROLE, Handler="reach.handler",
                                               Code={"ZipFile": buffer.getvalue()})
        outputs = [{"OutputName": name, "OutputType": "String"} for name in ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]]
        step = {"Name": "Reach", "Type": "Lambda", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:reach",
                "OutputParameters": outputs, "Arguments": {}}
        self.sm.create_pipeline(PipelineName="Reach", RoleArn=ROLE, PipelineDefinition=definition([step]))
        arn = self.sm.start_pipeline_execution(PipelineName="Reach")["PipelineExecutionArn"]
        self.assertEqual(self.wait(arn), "Succeeded")
        steps = self.sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        seen = {p["Name"]: p["Value"] for p in steps[0]["Metadata"]["Lambda"]["OutputParameters"]}
        self.assertEqual(seen["AWS_ENDPOINT_URL"], os.environ["AWS_ENDPOINT_URL"])
        self.assertEqual(seen["AWS_ACCESS_KEY_ID"], "SHOALX" + arn.rsplit("/", 1)[1].upper())
        # The execution has ended: its keys no longer open anything.
        late = boto3.client("sts", aws_access_key_id=seen["AWS_ACCESS_KEY_ID"], aws_secret_access_key=seen["AWS_SECRET_ACCESS_KEY"])
        with self.assertRaises(ClientError) as refused:
            late.get_caller_identity()
        self.assertEqual(refused.exception.response["Error"]["Code"], "InvalidClientTokenId")


if __name__ == "__main__":
    unittest.main()
