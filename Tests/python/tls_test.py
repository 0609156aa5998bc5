"""The endpoint and the console over HTTPS (`shoal serve --tls-cert --tls-key`)
on an address that is not 127.0.0.1, with a self-signed certificate the clients
are given through AWS_CA_BUNDLE (`shoal env --ca-bundle`).

Run by ShoalCLITests/TLSEndpointTests with the environment `shoal env` prints.
"""
import os
import ssl
import unittest
import urllib.error
import urllib.request

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
CA = os.environ["AWS_CA_BUNDLE"]


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
