"""The endpoint and the console over HTTPS (`shoal serve --tls-cert --tls-key`)
on an address that is not 127.0.0.1, with a self-signed certificate the clients
are given through AWS_CA_BUNDLE (`shoal env --ca-bundle`).

Jobs and handlers the server starts are given the certificate too (the
server runs --unsandboxed, so a job can run this virtual environment's Python,
which has boto3).

Run by ShoalCLITests/TLSEndpointTests with the environment `shoal env` prints.
"""
import io
import json
import os
import ssl
import sys
import time
import unittest
import urllib.error
import urllib.request
import zipfile

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
CA = os.environ["AWS_CA_BUNDLE"]
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
# Fails the job unless boto3 inside it trusts the endpoint's certificate.
JOB = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
HANDLER = """import os
def handler(event, context):
    with open(os.environ["AWS_CA_BUNDLE"]) as bundle:
        return {"bundle": bundle.read()}
"""


class OverTLS(unittest.TestCase):
    def test_boto3_signs_and_verifies_the_servers_certificate(self):
        self.assertTrue(ENDPOINT.startswith("https://"), ENDPOINT)
        self.assertEqual(boto3.client("sts").get_caller_identity()["Account"], "000000000000")
        self.assertIn("PipelineSummaries", boto3.client("sagemaker").list_pipelines())

    def test_a_client_that_does_not_trust_the_certificate_is_refused(self):
        with self.assertRaises(urllib.error.URLError) as refused:
            urllib.request.urlopen(ENDPOINT + "/console/", context=ssl.create_default_context())
        self.assertIn("CERTIFICATE_VERIFY_FAILED", str(refused.exception))

    def test_plain_http_on_the_port_gets_nothing(self):
        with self.assertRaises(Exception):
            urllib.request.urlopen(ENDPOINT.replace("https://", "http://") + "/console/", timeout=10).read()

    def test_the_console_wants_its_token_and_marks_its_cookie_secure(self):
        context = ssl.create_default_context(cafile=CA)
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(ENDPOINT + "/console/executions", context=context)
        self.assertEqual(refused.exception.code, 401)

        class Keep(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        opener = urllib.request.build_opener(Keep, urllib.request.HTTPSHandler(context=context))
        with self.assertRaises(urllib.error.HTTPError) as redirected:
            opener.open(ENDPOINT + "/console/executions?token=" + os.environ["CONSOLE_TOKEN"])
        self.assertEqual(redirected.exception.code, 303)
        cookie = redirected.exception.headers["Set-Cookie"]
        for part in ("HttpOnly", "SameSite=Strict", "Secure"):
            self.assertIn(part, cookie)

    def test_jobs_and_handlers_trust_the_endpoint_over_tls(self):
        sm = boto3.client("sagemaker")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("bundle.py", HANDLER)
        boto3.client("lambda").create_function(FunctionName="bundle", Runtime="python3.11", Role=ROLE, Handler="bundle.handler",
                                               Code={"ZipFile": buffer.getvalue()})
        job = {"Name": "Call", "Type": "Processing", "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}},
            "AppSpecification": {"ImageUri": "python", "ContainerEntrypoint": [sys.executable, "-c", JOB]}, "RoleArn": ROLE}}
        handler = {"Name": "Bundle", "Type": "Lambda", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:bundle",
                   "OutputParameters": [{"OutputName": "bundle", "OutputType": "String"}], "Arguments": {}}
        sm.create_pipeline(PipelineName="OverTLS", RoleArn=ROLE,
                           PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": [job, handler]}))
        arn = sm.start_pipeline_execution(PipelineName="OverTLS")["PipelineExecutionArn"]
        for _ in range(1200):
            described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
            if described["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
                break
            time.sleep(0.1)
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        self.assertEqual(described["PipelineExecutionStatus"], "Succeeded", [(s["StepName"], s.get("FailureReason")) for s in steps])
        outputs = next(s for s in steps if s["StepName"] == "Bundle")["Metadata"]["Lambda"]["OutputParameters"]
        with open(CA) as bundle:
            self.assertEqual(outputs, [{"Name": "bundle", "Value": bundle.read()}])


if __name__ == "__main__":
    unittest.main(verbosity=2)
