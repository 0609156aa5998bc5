"""boto3's Lambda client against `shoal serve`: functions created from zips
land in the registry Lambda steps call (`shoal functions`).

Run by ShoalCLITests/AWSEndpointTests with the environment `shoal env` prints.
"""
import io
import os
import unittest
import zipfile

import boto3
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/LambdaRole"
HOME = os.environ["SHOAL_HOME"]


def package(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buffer.getvalue()


class Functions(unittest.TestCase):
    aws = boto3.client("lambda")

    def code(self, call):
        with self.assertRaises(ClientError) as caught:
            call()
        return caught.exception.response["Error"]["Code"]

    def test_lifecycle(self):
        zipped = package({"app/handler.py": "def main(event, context):\n    return {'n': 1}\n"})
        created = self.aws.create_function(FunctionName="made", Runtime="python3.11", Role=ROLE, Handler="app.handler.main",
                                           Code={"ZipFile": zipped}, Timeout=30)
        self.assertEqual(created["FunctionArn"].split(":function:")[1], "made")
        self.assertEqual(created["Timeout"], 30)
        with open(os.path.join(HOME, "functions", "made", "app", "handler.py")) as f:
            self.assertIn("def main", f.read())
        self.assertEqual(self.code(lambda: self.aws.create_function(FunctionName="made", Runtime="python3.11", Role=ROLE,
                                                                    Handler="app.handler.main", Code={"ZipFile": zipped})), "ResourceConflictException")
        self.assertIn("made", [f["FunctionName"] for f in self.aws.list_functions()["Functions"]])
        got = self.aws.get_function(FunctionName=created["FunctionArn"])["Configuration"]
        self.assertEqual(got["Handler"], "app.handler.main")
        updated = self.aws.update_function_code(FunctionName="made", ZipFile=package({"app/handler.py": "def main(e, c):\n    return 2\n"}))
        self.assertNotEqual(updated["CodeSha256"], created["CodeSha256"])
        configured = self.aws.update_function_configuration(FunctionName="made", Timeout=60)
        self.assertEqual(configured["Timeout"], 60)
        self.aws.delete_function(FunctionName="made")
        self.assertEqual(self.code(lambda: self.aws.get_function(FunctionName="made")), "ResourceNotFoundException")
        self.assertFalse(os.path.exists(os.path.join(HOME, "functions", "made")))

    def test_code_from_the_store(self):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="code")
        s3.put_object(Bucket="code", Key="fn.zip", Body=package({"fn.py": "def handler(e, c):\n    return e\n"}))
        self.aws.create_function(FunctionName="from-s3", Runtime="python3.11", Role=ROLE, Handler="fn.handler",
                                 Code={"S3Bucket": "code", "S3Key": "fn.zip"})
        self.assertTrue(os.path.exists(os.path.join(HOME, "functions", "from-s3", "fn.py")))

    def test_unsafe_or_unsupported_requests_are_refused(self):
        escaping = package({"../../escaped.py": "x = 1\n"})
        self.assertEqual(self.code(lambda: self.aws.create_function(FunctionName="bad", Runtime="python3.11", Role=ROLE,
                                                                    Handler="a.b", Code={"ZipFile": escaping})), "InvalidParameterValueException")
        self.assertFalse(os.path.exists(os.path.join(HOME, "escaped.py")))
        self.assertEqual(self.code(lambda: self.aws.create_function(FunctionName="bad", Runtime="python3.11", Role=ROLE,
                                                                    Handler="a.b", Code={"ZipFile": b"not a zip"})), "InvalidParameterValueException")
        self.assertEqual(self.code(lambda: self.aws.create_function(FunctionName="bad", Runtime="python3.11", Role=ROLE, Handler="a.b",
                                                                    Code={"ZipFile": package({"a.py": ""})},
                                                                    Environment={"Variables": {"K": "V"}})), "InvalidParameterValueException")
        self.assertEqual(self.code(lambda: self.aws.get_function(FunctionName="bad")), "ResourceNotFoundException")


if __name__ == "__main__":
    unittest.main()
