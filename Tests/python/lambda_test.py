"""boto3's Lambda client against `shoal serve`: functions created from zips
land in the registry Lambda steps call (`shoal functions`).

Run by ShoalCLITests/AWSEndpointTests with the environment `shoal env` prints.
"""
import io
import json
import os
import time
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

    def test_invoke_runs_the_handler_on_a_worker(self):
        handler = ("import json\n"
                   "def main(event, context):\n"
                   "    if event.get('fail'):\n"
                   "        raise ValueError('asked to fail')\n"
                   "    return {'doubled': event['n'] * 2}\n")
        self.aws.create_function(FunctionName="doubler", Runtime="python3.11", Role=ROLE, Handler="double.main",
                                 Code={"ZipFile": package({"double.py": handler})}, Timeout=30)
        answer = self.aws.invoke(FunctionName="doubler", Payload=b'{"n": 21}')
        self.assertEqual(answer["StatusCode"], 200)
        payload = json.loads(answer["Payload"].read())
        self.assertNotIn("FunctionError", answer, payload)
        self.assertEqual(payload, {"doubled": 42})

        failed = self.aws.invoke(FunctionName="doubler", Payload=b'{"fail": true}')
        self.assertEqual(failed["FunctionError"], "Unhandled")
        error = json.loads(failed["Payload"].read())
        self.assertEqual((error["errorType"], error["errorMessage"]), ("ValueError", "asked to fail"))

        # Many callers waiting at once each get their own answer (the endpoint awaits
        # them on one thread of its own, a socket each, not a thread each).
        from concurrent.futures import ThreadPoolExecutor
        def doubled(n):
            return json.loads(self.aws.invoke(FunctionName="doubler", Payload=json.dumps({"n": n}).encode())["Payload"].read())
        with ThreadPoolExecutor(max_workers=80) as pool:
            answers = list(pool.map(doubled, range(80)))
        self.assertEqual(answers, [{"doubled": 2 * n} for n in range(80)])

        self.assertEqual(self.aws.invoke(FunctionName="doubler", InvocationType="DryRun")["StatusCode"], 204)
        self.assertEqual(self.code(lambda: self.aws.invoke(FunctionName="nobody", Payload=b"{}")), "ResourceNotFoundException")
        self.assertEqual(self.code(lambda: self.aws.invoke(FunctionName="doubler", Payload=b"not json")), "InvalidRequestContentException")

        # Event: answered once queued; nobody waits for the handler, whose answer goes to the server's log.
        queued = self.aws.invoke(FunctionName="doubler", InvocationType="Event", Payload=b'{"n": 1000}')
        self.assertEqual(queued["StatusCode"], 202)
        log = os.path.join(HOME, "serve.txt")
        for _ in range(300):
            if "asynchronous invocation of doubler returned" in open(log).read():
                break
            time.sleep(0.05)
        line = next(l for l in open(log) if "asynchronous invocation of doubler returned" in l)
        self.assertEqual(json.loads(line.split(" returned ", 1)[1]), {"doubled": 2000})

if __name__ == "__main__":
    unittest.main()
