"""The experiment reads through `shoal serve`: boto3's List/Describe calls and
the SageMaker SDK's ExperimentAnalytics (Search over ExperimentTrialComponent)
over two executions of a pipeline whose Lambda step reports a metric.

Run by ShoalCLITests/AWSEndpointTests with the environment `shoal env` prints,
plus SHOAL (the binary) and SHOAL_HOME.
"""
import json
import os
import subprocess
import tempfile
import time
import unittest

import boto3
import sagemaker
from botocore.exceptions import ClientError
from sagemaker.analytics import ExperimentAnalytics

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
HANDLER = "def handler(event, context):\n    return {'accuracy': 0.5 + event['run'] / 10, 'model': 'm%d' % event['run']}\n"
DEFINITION = {"Version": "2020-12-01", "Parameters": [{"Name": "Run", "Type": "Integer", "DefaultValue": 1}],
              "PipelineExperimentConfig": {"ExperimentName": {"Get": "Execution.PipelineName"}, "TrialName": {"Get": "Execution.PipelineExecutionId"}},
              "Steps": [{"Name": "Score", "Type": "Lambda", "FunctionArn": "arn:aws:lambda:local:000000000000:function:scorer",
                         "Arguments": {"run": {"Get": "Parameters.Run"}},
                         "OutputParameters": [{"OutputName": "accuracy", "OutputType": "Float"}, {"OutputName": "model", "OutputType": "String"}]}]}


class Experiments(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sm = boto3.client("sagemaker")
        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "scorer.py"), "w") as script:
            script.write(HANDLER)
        subprocess.run([os.environ["SHOAL"], "functions", "create", "--name", "scorer", "--script", os.path.join(folder, "scorer.py"),
                        "--handler", "scorer.handler"], check=True)
        cls.sm.create_pipeline(PipelineName="Scored", PipelineDefinition=json.dumps(DEFINITION), RoleArn=ROLE)
        cls.trials = []
        for run in (1, 3):
            arn = cls.sm.start_pipeline_execution(PipelineName="Scored", PipelineParameters=[{"Name": "Run", "Value": str(run)}])["PipelineExecutionArn"]
            for _ in range(600):
                status = cls.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
                if status != "Executing":
                    break
                time.sleep(0.1)
            assert status == "Succeeded", status
            cls.trials.append(arn.rsplit("/", 1)[-1])

    def test_experiments_trials_and_components_are_listed_and_described(self):
        names = [e["ExperimentName"] for e in self.sm.list_experiments()["ExperimentSummaries"]]
        self.assertIn("Scored", names)
        self.assertEqual(self.sm.describe_experiment(ExperimentName="Scored")["ExperimentName"], "Scored")
        trials = self.sm.list_trials(ExperimentName="Scored")["TrialSummaries"]
        self.assertEqual(sorted(t["TrialName"] for t in trials), sorted(self.trials))
        components = self.sm.list_trial_components(TrialName=self.trials[1])["TrialComponentSummaries"]
        self.assertEqual(len(components), 1)
        self.assertEqual(components[0]["Status"]["PrimaryStatus"], "Completed")
        described = self.sm.describe_trial_component(TrialComponentName=components[0]["TrialComponentName"])
        metrics = {m["MetricName"]: m["Last"] for m in described["Metrics"]}
        self.assertAlmostEqual(metrics["accuracy"], 0.8)
        self.assertEqual(described["Parameters"]["FunctionName"], {"StringValue": "scorer"})
        with self.assertRaises(ClientError) as missing:
            self.sm.describe_trial_component(TrialComponentName=components[0]["TrialComponentName"] + "0")
        self.assertEqual(missing.exception.response["Error"]["Code"], "ResourceNotFound")

    def test_pages_follow_next_tokens(self):
        first = self.sm.list_trials(ExperimentName="Scored", MaxResults=1)
        self.assertEqual(len(first["TrialSummaries"]), 1)
        second = self.sm.list_trials(ExperimentName="Scored", MaxResults=1, NextToken=first["NextToken"])
        self.assertEqual(len(second["TrialSummaries"]), 1)
        self.assertNotIn("NextToken", second)
        self.assertNotEqual(first["TrialSummaries"][0]["TrialName"], second["TrialSummaries"][0]["TrialName"])

    def test_the_sdks_experiment_analytics_reads_a_frame_with_the_metric(self):
        session = sagemaker.Session(sagemaker_client=self.sm)
        frame = ExperimentAnalytics(experiment_name="Scored", sagemaker_session=session).dataframe()
        self.assertEqual(len(frame), 2)
        self.assertEqual(sorted(round(v, 6) for v in frame["accuracy - Last"]), [0.6, 0.8])
        self.assertEqual(sorted(frame["FunctionName"]), ["scorer", "scorer"])

    def test_a_filter_shoal_cannot_apply_is_refused_not_ignored(self):
        with self.assertRaises(ClientError) as refused:
            self.sm.search(Resource="ExperimentTrialComponent",
                           SearchExpression={"Filters": [{"Name": "Metrics.accuracy.Max", "Operator": "GreaterThan", "Value": "0.7"}]})
        self.assertEqual(refused.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("GreaterThan", refused.exception.response["Error"]["Message"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
