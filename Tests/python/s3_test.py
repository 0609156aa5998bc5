"""boto3 and the AWS CLI against `shoal serve`'s S3: objects, listings,
multipart uploads, copies, presigned URLs, and refused requests.

Run by ShoalCLITests/S3EndpointTests with the client environment `shoal env`
prints, plus SHOAL_HOME; exits non-zero on the first failed check.
"""
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HOME = os.environ["SHOAL_HOME"]
AWS = os.path.join(os.path.dirname(sys.executable), "aws")


def stored(bucket, key):
    """The file behind an object in the home's store: what the engine reads."""
    return os.path.join(HOME, "objects", bucket, key)


class S3(unittest.TestCase):
    s3 = boto3.client("s3")

    @classmethod
    def setUpClass(cls):
        cls.s3.create_bucket(Bucket="data")

    def code(self, call):
        with self.assertRaises(ClientError) as caught:
            call()
        return caught.exception.response["Error"]["Code"]

    def test_buckets(self):
        self.s3.create_bucket(Bucket="scratch")
        self.assertIn("scratch", [b["Name"] for b in self.s3.list_buckets()["Buckets"]])
        self.s3.head_bucket(Bucket="scratch")
        # The SageMaker SDK's default_bucket() reads exactly this: a 404 "Not Found" from HEAD.
        missing = self.code(lambda: self.s3.head_bucket(Bucket="no-such-bucket"))
        self.assertEqual(missing, "404")
        self.assertEqual(self.code(lambda: self.s3.create_bucket(Bucket="scratch")), "BucketAlreadyOwnedByYou")
        self.s3.put_object(Bucket="scratch", Key="x", Body=b"1")
        self.assertEqual(self.code(lambda: self.s3.delete_bucket(Bucket="scratch")), "BucketNotEmpty")
        self.s3.delete_object(Bucket="scratch", Key="x")
        self.s3.delete_bucket(Bucket="scratch")
        self.assertNotIn("scratch", [b["Name"] for b in self.s3.list_buckets()["Buckets"]])
        self.assertEqual(self.code(lambda: self.s3.put_object(Bucket="scratch", Key="x", Body=b"1")), "NoSuchBucket")

    def test_put_get_head(self):
        body = b"hello shoal\n" * 1000
        put = self.s3.put_object(Bucket="data", Key="dir/hello.txt", Body=body, ContentType="text/plain", Metadata={"team": "ml"})
        self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
        with open(stored("data", "dir/hello.txt"), "rb") as f:
            self.assertEqual(f.read(), body)
        got = self.s3.get_object(Bucket="data", Key="dir/hello.txt")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ContentType"], "text/plain")
        self.assertEqual(got["Metadata"], {"team": "ml"})
        self.assertEqual(got["ETag"], put["ETag"])
        head = self.s3.head_object(Bucket="data", Key="dir/hello.txt")
        self.assertEqual(head["ContentLength"], len(body))
        ranged = self.s3.get_object(Bucket="data", Key="dir/hello.txt", Range="bytes=6-10")
        self.assertEqual(ranged["Body"].read(), b"shoal")
        self.assertEqual(ranged["ContentRange"], "bytes 6-10/%d" % len(body))
        self.assertEqual(self.s3.get_object(Bucket="data", Key="dir/hello.txt", Range="bytes=-6")["Body"].read(), b"shoal\n")
        self.assertEqual(self.code(lambda: self.s3.get_object(Bucket="data", Key="dir/hello.txt", Range="bytes=99999999-")), "InvalidRange")
        self.assertEqual(self.code(lambda: self.s3.get_object(Bucket="data", Key="dir/hello.txt", IfNoneMatch=put["ETag"])), "304")
        self.assertEqual(self.code(lambda: self.s3.get_object(Bucket="data", Key="dir/hello.txt", IfMatch='"0"')), "PreconditionFailed")
        self.assertEqual(self.code(lambda: self.s3.get_object(Bucket="data", Key="dir/nothing")), "NoSuchKey")
        self.assertEqual(self.code(lambda: self.s3.head_object(Bucket="data", Key="dir/nothing")), "404")
        self.s3.delete_object(Bucket="data", Key="dir/hello.txt")
        self.assertFalse(os.path.exists(stored("data", "dir/hello.txt")))
        self.assertFalse(os.path.exists(stored("data", "dir")), "the emptied folder is removed with the object")

    def test_checksums_are_verified(self):
        # botocore sends x-amz-checksum-crc32 by default; a wrong Content-MD5 must be refused and store nothing.
        self.s3.put_object(Bucket="data", Key="sum/ok", Body=b"abc", ChecksumAlgorithm="SHA256")
        self.s3.put_object(Bucket="data", Key="sum/crc32", Body=b"abc", ChecksumAlgorithm="CRC32")
        self.assertEqual(self.s3.get_object(Bucket="data", Key="sum/crc32", ChecksumMode="ENABLED")["ChecksumCRC32"], "NSRBwg==")
        self.assertEqual(self.code(lambda: self.s3.put_object(Bucket="data", Key="sum/bad", Body=b"abc", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")), "BadDigest")
        self.assertFalse(os.path.exists(stored("data", "sum/bad")))
        got = self.s3.get_object(Bucket="data", Key="sum/ok", ChecksumMode="ENABLED")
        self.assertEqual(got["ChecksumSHA256"], "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")

    def test_listing(self):
        keys = ["list/a.txt", "list/b/1.txt", "list/b/2.txt", "list/c/3.txt", "list/d.txt", "list/e f+g.txt"]
        for key in keys:
            self.s3.put_object(Bucket="data", Key=key, Body=key.encode())
        flat = self.s3.list_objects_v2(Bucket="data", Prefix="list/")
        self.assertEqual([o["Key"] for o in flat["Contents"]], sorted(keys))
        tree = self.s3.list_objects_v2(Bucket="data", Prefix="list/", Delimiter="/")
        self.assertEqual([o["Key"] for o in tree["Contents"]], ["list/a.txt", "list/d.txt", "list/e f+g.txt"])
        self.assertEqual([p["Prefix"] for p in tree["CommonPrefixes"]], ["list/b/", "list/c/"])
        # Paging by two, keys and prefixes together, never repeating one.
        seen, token = [], None
        while True:
            args = dict(Bucket="data", Prefix="list/", Delimiter="/", MaxKeys=2)
            if token:
                args["ContinuationToken"] = token
            page = self.s3.list_objects_v2(**args)
            seen += [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            if not page["IsTruncated"]:
                break
            token = page["NextContinuationToken"]
        self.assertEqual(sorted(seen), ["list/a.txt", "list/b/", "list/c/", "list/d.txt", "list/e f+g.txt"])
        self.assertEqual(len(seen), 5)
        after = self.s3.list_objects_v2(Bucket="data", Prefix="list/", StartAfter="list/b/2.txt")
        self.assertEqual([o["Key"] for o in after["Contents"]], ["list/c/3.txt", "list/d.txt", "list/e f+g.txt"])
        v1 = self.s3.list_objects(Bucket="data", Prefix="list/b/")
        self.assertEqual([o["Key"] for o in v1["Contents"]], ["list/b/1.txt", "list/b/2.txt"])
        deleted = self.s3.delete_objects(Bucket="data", Delete={"Objects": [{"Key": k} for k in keys]})
        self.assertEqual(sorted(d["Key"] for d in deleted["Deleted"]), sorted(keys))
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket="data", Prefix="list/"))

    def test_multipart(self):
        part = os.urandom(5 << 20)
        upload = self.s3.create_multipart_upload(Bucket="data", Key="big/joined.bin")
        uid = upload["UploadId"]
        etags = []
        for number in (1, 2):
            etags.append(self.s3.upload_part(Bucket="data", Key="big/joined.bin", UploadId=uid, PartNumber=number, Body=part)["ETag"])
        last = self.s3.upload_part(Bucket="data", Key="big/joined.bin", UploadId=uid, PartNumber=3, Body=b"tail")["ETag"]
        parts = self.s3.list_parts(Bucket="data", Key="big/joined.bin", UploadId=uid)["Parts"]
        self.assertEqual([p["PartNumber"] for p in parts], [1, 2, 3])
        self.assertIn(uid, [u["UploadId"] for u in self.s3.list_multipart_uploads(Bucket="data").get("Uploads", [])])
        self.assertFalse(os.path.exists(stored("data", "big/joined.bin")), "nothing is visible before the upload completes")
        bad = [{"PartNumber": 1, "ETag": etags[0]}, {"PartNumber": 2, "ETag": '"00000000000000000000000000000000"'}]
        self.assertEqual(self.code(lambda: self.s3.complete_multipart_upload(Bucket="data", Key="big/joined.bin", UploadId=uid, MultipartUpload={"Parts": bad})), "InvalidPart")
        done = self.s3.complete_multipart_upload(Bucket="data", Key="big/joined.bin", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": etags[0]}, {"PartNumber": 2, "ETag": etags[1]}, {"PartNumber": 3, "ETag": last}]})
        md5s = b"".join(hashlib.md5(p).digest() for p in (part, part, b"tail"))
        self.assertEqual(done["ETag"], '"%s-3"' % hashlib.md5(md5s).hexdigest())
        with open(stored("data", "big/joined.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(part + part + b"tail").digest())

    def test_an_aborted_upload_leaves_nothing(self):
        uid = self.s3.create_multipart_upload(Bucket="data", Key="big/aborted.bin")["UploadId"]
        self.s3.upload_part(Bucket="data", Key="big/aborted.bin", UploadId=uid, PartNumber=1, Body=os.urandom(1 << 20))
        self.s3.abort_multipart_upload(Bucket="data", Key="big/aborted.bin", UploadId=uid)
        self.assertFalse(os.path.exists(stored("data", "big/aborted.bin")))
        self.assertNotIn(uid, [u["UploadId"] for u in self.s3.list_multipart_uploads(Bucket="data").get("Uploads", [])])
        self.assertEqual(self.code(lambda: self.s3.list_parts(Bucket="data", Key="big/aborted.bin", UploadId=uid)), "NoSuchUpload")
        self.assertEqual(os.listdir(os.path.join(HOME, "staging", "multipart")), [])

    def test_transfer_manager_uploads_in_parts(self):
        # upload_fileobj switches to concurrent multipart at 8 MiB, as the SageMaker SDK's uploads do.
        data = os.urandom(20 << 20)
        self.s3.upload_fileobj(io.BytesIO(data), "data", "big/managed.bin")
        out = io.BytesIO()
        self.s3.download_fileobj("data", "big/managed.bin", out)
        self.assertEqual(out.getvalue(), data)
        self.assertTrue(self.s3.head_object(Bucket="data", Key="big/managed.bin")["ETag"].endswith('-3"'))

    def test_copy(self):
        self.s3.put_object(Bucket="data", Key="copy/src", Body=b"original", Metadata={"a": "1"})
        self.s3.copy_object(Bucket="data", Key="copy/same", CopySource={"Bucket": "data", "Key": "copy/src"})
        self.assertEqual(self.s3.get_object(Bucket="data", Key="copy/same")["Metadata"], {"a": "1"})
        self.s3.copy_object(Bucket="data", Key="copy/new", CopySource="data/copy/src", Metadata={"b": "2"}, MetadataDirective="REPLACE")
        self.assertEqual(self.s3.get_object(Bucket="data", Key="copy/new")["Metadata"], {"b": "2"})
        self.assertEqual(self.s3.get_object(Bucket="data", Key="copy/src")["Metadata"], {"a": "1"})
        self.s3.put_object(Bucket="data", Key="copy/src", Body=b"changed")
        self.assertEqual(self.s3.get_object(Bucket="data", Key="copy/same")["Body"].read(), b"original")

    def test_presigned_urls(self):
        self.s3.put_object(Bucket="data", Key="share/p.txt", Body=b"shared")
        # boto3 presigns S3 with the older scheme unless told s3v4: both are accepted.
        legacy = self.s3.generate_presigned_url("get_object", Params={"Bucket": "data", "Key": "share/p.txt"}, ExpiresIn=60)
        self.assertIn("AWSAccessKeyId=", legacy)
        self.assertEqual(urllib.request.urlopen(legacy).read(), b"shared")
        with self.assertRaises(urllib.error.HTTPError) as tampered:
            urllib.request.urlopen(legacy.replace("p.txt", "q.txt"))
        self.assertEqual(tampered.exception.code, 403)
        v4 = boto3.client("s3", config=Config(signature_version="s3v4"))
        url = v4.generate_presigned_url("get_object", Params={"Bucket": "data", "Key": "share/p.txt"}, ExpiresIn=60)
        self.assertIn("X-Amz-Signature=", url)
        self.assertEqual(urllib.request.urlopen(url).read(), b"shared")
        with self.assertRaises(urllib.error.HTTPError) as tampered:
            urllib.request.urlopen(url.replace("p.txt", "q.txt"))
        self.assertEqual(tampered.exception.code, 403)
        self.assertIn(b"SignatureDoesNotMatch", tampered.exception.read())
        expired = v4.generate_presigned_url("get_object", Params={"Bucket": "data", "Key": "share/p.txt"}, ExpiresIn=1)
        import time
        time.sleep(2.1)
        with self.assertRaises(urllib.error.HTTPError) as late:
            urllib.request.urlopen(expired)
        self.assertEqual(late.exception.code, 403)
        self.assertIn(b"expired", late.exception.read())
        put = v4.generate_presigned_url("put_object", Params={"Bucket": "data", "Key": "share/up.txt"}, ExpiresIn=60)
        urllib.request.urlopen(urllib.request.Request(put, data=b"uploaded", method="PUT"))
        self.assertEqual(self.s3.get_object(Bucket="data", Key="share/up.txt")["Body"].read(), b"uploaded")

    def test_refused_requests_change_nothing(self):
        self.s3.put_object(Bucket="data", Key="safe/kept", Body=b"kept")
        wrong = boto3.client("s3", aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong" * 8)
        self.assertEqual(self.code(lambda: wrong.put_object(Bucket="data", Key="safe/kept", Body=b"overwritten")), "SignatureDoesNotMatch")
        unknown = boto3.client("s3", aws_access_key_id="AKIANOBODY", aws_secret_access_key="secret")
        self.assertEqual(self.code(lambda: unknown.get_object(Bucket="data", Key="safe/kept")), "InvalidAccessKeyId")
        self.assertEqual(self.code(lambda: self.s3.put_object(Bucket="data", Key="safe/../../escape", Body=b"x")), "InvalidArgument")
        # A body that is not the one signed: the signature covers its SHA-256.
        tamper = boto3.client("s3")

        def change_body(request, **_):
            request.body = b"tampered"
            request.headers["Content-Length"] = "8"
        tamper.meta.events.register_last("before-send.s3.PutObject", change_body)
        self.assertEqual(self.code(lambda: tamper.put_object(Bucket="data", Key="safe/kept", Body=b"honest!!")), "XAmzContentSHA256Mismatch")
        with open(stored("data", "safe/kept"), "rb") as f:
            self.assertEqual(f.read(), b"kept")

    def test_streaming_signed_chunks(self):
        # Over HTTPS botocore streams with aws-chunked bodies; force the same on plain HTTP.
        chunked = boto3.client("s3", config=Config(s3={"payload_signing_enabled": False}, request_checksum_calculation="when_supported"))
        body = os.urandom(3 << 20)
        chunked.put_object(Bucket="data", Key="chunked/object", Body=io.BytesIO(body))
        with open(stored("data", "chunked/object"), "rb") as f:
            self.assertEqual(f.read(), body)

    def test_aws_cli(self):
        env = dict(os.environ)
        with tempfile.TemporaryDirectory() as folder:
            os.makedirs(os.path.join(folder, "in", "sub"))
            for name, size in [("in/a.csv", 10), ("in/sub/b.bin", 9 << 20)]:
                with open(os.path.join(folder, name), "wb") as f:
                    f.write(os.urandom(size))
            run = lambda *args: subprocess.run([AWS, *args], env=env, capture_output=True, text=True, timeout=120)
            synced = run("s3", "sync", os.path.join(folder, "in"), "s3://data/cli/")
            self.assertEqual(synced.returncode, 0, synced.stderr)
            listed = run("s3", "ls", "--recursive", "s3://data/cli/")
            self.assertEqual(listed.returncode, 0, listed.stderr)
            self.assertIn("cli/sub/b.bin", listed.stdout)
            copied = run("s3", "cp", "s3://data/cli/sub/b.bin", os.path.join(folder, "b.bin"))
            self.assertEqual(copied.returncode, 0, copied.stderr)
            with open(os.path.join(folder, "b.bin"), "rb") as f, open(os.path.join(folder, "in/sub/b.bin"), "rb") as g:
                self.assertEqual(f.read(), g.read())
            pipelines = run("sagemaker", "list-pipelines")
            self.assertEqual(pipelines.returncode, 0, pipelines.stderr)


if __name__ == "__main__":
    unittest.main()
