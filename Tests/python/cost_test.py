"""boto3's Cost Explorer client against `shoal serve`: GetCostAndUsage gives
the figures `shoal cost` gives for the same question.

Run by ShoalCLITests/AWSEndpointTests with the environment `shoal env` prints,
plus SHOAL (the binary) and SHOAL_HOME.
"""
import datetime
import json
import os
import subprocess
import time
import unittest

import boto3
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def job(name, team):
    return {"Name": name, "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "python", "ContainerEntrypoint": ["python3", "-c", "import time; time.sleep(0.2)"]},
        "RoleArn": ROLE, "Tags": [{"Key": "team", "Value": team}]}}


class Costs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sm = boto3.client("sagemaker")
        definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [job("A", "ml"), job("B", "ops")]}
        sm.create_pipeline(PipelineName="Costly", PipelineDefinition=json.dumps(definition), RoleArn=ROLE)
        arn = sm.start_pipeline_execution(PipelineName="Costly")["PipelineExecutionArn"]
        for _ in range(600):
            if sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] != "Executing":
                break
            time.sleep(0.1)
        assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"
        today = datetime.datetime.now(datetime.timezone.utc).date()
        cls.start, cls.end = str(today.replace(day=1)), str(today + datetime.timedelta(days=1))

    def shoal_cost(self, *args):
        out = subprocess.run([os.environ["SHOAL"], "cost", "--from", self.start, "--to", self.end, "--output", "json", *args],
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    def test_grouped_by_tag_as_shoal_cost(self):
        ce = boto3.client("ce")
        answer = ce.get_cost_and_usage(TimePeriod={"Start": self.start, "End": self.end}, Granularity="MONTHLY",
                                       Metrics=["BlendedCost", "UsageQuantity"], GroupBy=[{"Type": "TAG", "Key": "team"}])
        cli = self.shoal_cost("--group-by", "tag:team")
        groups = {g["Keys"][0]: g["Metrics"]["BlendedCost"]["Amount"] for r in answer["ResultsByTime"] for g in r["Groups"]}
        self.assertEqual(sorted(groups), ["team$ml", "team$ops"])
        self.assertEqual(groups, {g["Keys"][0]: g["Metrics"]["BlendedCost"]["Amount"] for r in cli["ResultsByTime"] for g in r["Groups"]})
        self.assertGreater(float(groups["team$ml"]), 0)
        self.assertEqual(answer["ResultsByTime"][0]["TimePeriod"], {"Start": self.start, "End": self.end})
        filtered = ce.get_cost_and_usage(TimePeriod={"Start": self.start, "End": self.end}, Granularity="DAILY", Metrics=["UnblendedCost"],
                                         Filter={"Tags": {"Key": "team", "Values": ["ops"]}})
        total = sum(float(r["Total"]["UnblendedCost"]["Amount"]) for r in filtered["ResultsByTime"])
        self.assertAlmostEqual(total, float(groups["team$ops"]), places=6)

    def test_questions_shoal_cannot_answer_are_refused(self):
        ce = boto3.client("ce")
        for kwargs, words in [
            (dict(Granularity="HOURLY", Metrics=["BlendedCost"]), "DAILY or MONTHLY"),
            (dict(Granularity="DAILY", Metrics=["Carbon"]), "'Carbon' is not one Shoal gives"),
            (dict(Granularity="DAILY", Metrics=["BlendedCost"], GroupBy=[{"Type": "DIMENSION", "Key": "REGION"}]), "GroupBy[0]"),
        ]:
            with self.assertRaises(ClientError) as caught:
                ce.get_cost_and_usage(TimePeriod={"Start": self.start, "End": self.end}, **kwargs)
            self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")
            self.assertIn(words, caught.exception.response["Error"]["Message"])


if __name__ == "__main__":
    unittest.main()
