"""`shoal serve --policy`: IAM-style Deny statements asked about every endpoint
request by its IAM action, with the signing credential's name as aws:username.
The served policy denies the credential "intern" writes; "me" (the environment's
key pair) may do anything.

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
DEFINITION = {"Version": "2020-12-01", "Parameters": [], "Steps": [
    {"Name": "Check", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}]}


class Policy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        made = subprocess.run([os.environ["SHOAL"], "credentials", "create", "intern", "--output", "json"], capture_output=True, text=True, check=True)
        intern = json.loads(made.stdout)
        session = boto3.Session(aws_access_key_id=intern["accessKeyId"], aws_secret_access_key=intern["secretAccessKey"])
        cls.intern_sm, cls.intern_s3, cls.intern_lambda = session.client("sagemaker"), session.client("s3"), session.client("lambda")
        cls.sm, cls.s3 = boto3.client("sagemaker"), boto3.client("s3")

    def denied(self, call):
        with self.assertRaises(ClientError) as caught:
            call()
        error = caught.exception.response["Error"]
        self.assertIn("InternsReadOnly", error["Message"])
        return error["Code"]

    def test_the_owner_may_and_the_intern_may_only_read(self):
        self.sm.create_pipeline(PipelineName="Guarded", PipelineDefinition=json.dumps(DEFINITION), RoleArn=ROLE)
        arn = self.sm.start_pipeline_execution(PipelineName="Guarded")["PipelineExecutionArn"]
        for _ in range(300):
            if self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] != "Executing":
                break
            time.sleep(0.05)
        self.assertIn("Guarded", [p["PipelineName"] for p in self.intern_sm.list_pipelines()["PipelineSummaries"]])
        self.assertEqual(self.denied(lambda: self.intern_sm.start_pipeline_execution(PipelineName="Guarded")), "AccessDeniedException")
        self.assertEqual(self.denied(lambda: self.intern_sm.delete_pipeline(PipelineName="Guarded")), "AccessDeniedException")
        self.assertEqual(len(self.sm.list_pipeline_executions(PipelineName="Guarded")["PipelineExecutionSummaries"]), 1)

    def test_objects(self):
        self.s3.create_bucket(Bucket="guarded")
        self.s3.put_object(Bucket="guarded", Key="a.txt", Body=b"mine")
        self.assertEqual(self.intern_s3.get_object(Bucket="guarded", Key="a.txt")["Body"].read(), b"mine")
        self.assertEqual(self.denied(lambda: self.intern_s3.put_object(Bucket="guarded", Key="a.txt", Body=b"theirs")), "AccessDenied")
        self.assertEqual(self.denied(lambda: self.intern_s3.delete_object(Bucket="guarded", Key="a.txt")), "AccessDenied")
        self.assertEqual(self.s3.get_object(Bucket="guarded", Key="a.txt")["Body"].read(), b"mine")

    def test_functions(self):
        self.assertEqual(self.denied(lambda: self.intern_lambda.invoke(FunctionName="anything", Payload=b"{}")), "AccessDeniedException")
        self.assertEqual(self.intern_lambda.list_functions()["Functions"], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
