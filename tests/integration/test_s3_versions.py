"""S3 versioning states and delete markers as S3 answers them, through boto3 and the aws CLI against a sandbox."""

from __future__ import annotations

import json
import subprocess
import uuid
from email.utils import parsedate_to_datetime

import pytest
from botocore.exceptions import ClientError

from tests.integration._data_plane import BIN, aws_cli

MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"


def versioned_bucket(sandbox, status: str = "Enabled") -> str:
    name = f"versions-{uuid.uuid4().hex[:10]}"
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    return name


def refused(call) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def cli_refusal(sandbox, *args: str) -> str:
    env = sandbox.tool_env("us-east-1")
    result = subprocess.run([str(BIN / "aws"), "--endpoint-url", env["AWS_ENDPOINT_URL"], *args], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0, result.stdout
    return result.stderr


@pytest.mark.parametrize("before", ["Enabled", "Suspended"])
def test_versioning_once_set_cannot_be_disabled(sandbox, before):
    # BucketVersioningStatus is Enabled | Suspended: "Disabled" fails S3's schema check with MalformedXML, 400
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html).
    name = versioned_bucket(sandbox, before)
    s3 = sandbox.client("s3")
    error = refused(lambda: s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Disabled"}))
    assert error.response["Error"]["Code"] == "MalformedXML"
    assert error.response["Error"]["Message"] == MALFORMED
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == before  # nothing changed
    stderr = cli_refusal(sandbox, "s3api", "put-bucket-versioning", "--bucket", name,
                         "--versioning-configuration", "Status=Disabled")
    assert "MalformedXML" in stderr
    # Suspending (and enabling again) is how versioning is turned off and on.
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"


def test_a_bucket_never_versioned_has_no_status_and_refuses_disabled_too(sandbox):
    name = f"versions-{uuid.uuid4().hex[:10]}"
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=name)
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    error = refused(lambda: s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Disabled"}))
    assert error.response["Error"]["Code"] == "MalformedXML"
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)


def test_reads_of_a_key_whose_current_version_is_a_delete_marker(sandbox):
    # "If the current version of the object is a delete marker, Amazon S3 behaves as if the object was deleted
    # and includes x-amz-delete-marker: true in the response"; a delete marker named by its version id answers
    # 405 Method Not Allowed with its Last-Modified (API Reference: GetObject, HeadObject; User Guide:
    # Working with delete markers).
    name = versioned_bucket(sandbox)
    s3 = sandbox.client("s3")
    kept = s3.put_object(Bucket=name, Key="invoice.json", Body=b"{}")["VersionId"]
    marker = s3.delete_object(Bucket=name, Key="invoice.json")
    assert marker["DeleteMarker"] is True
    marker_id = marker["VersionId"]
    for read in (s3.get_object, s3.head_object):
        error = refused(lambda read=read: read(Bucket=name, Key="invoice.json"))
        headers = error.response["ResponseMetadata"]["HTTPHeaders"]
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker_id
        by_version = refused(lambda read=read: read(Bucket=name, Key="invoice.json", VersionId=marker_id))
        headers = by_version.response["ResponseMetadata"]["HTTPHeaders"]
        assert by_version.response["ResponseMetadata"]["HTTPStatusCode"] == 405
        assert headers["x-amz-delete-marker"] == "true" and headers["allow"] == "DELETE"
        listed = s3.list_object_versions(Bucket=name, Prefix="invoice.json")["DeleteMarkers"][0]
        assert parsedate_to_datetime(headers["last-modified"]) == listed["LastModified"].replace(microsecond=0)
    assert refused(lambda: s3.get_object(Bucket=name, Key="invoice.json")).response["Error"]["Code"] == "NoSuchKey"
    assert refused(lambda: s3.get_object(Bucket=name, Key="invoice.json", VersionId=marker_id)).response[
        "Error"]["Code"] == "MethodNotAllowed"
    # The version under the marker still reads by its id; a key never written is a plain 404.
    assert s3.get_object(Bucket=name, Key="invoice.json", VersionId=kept)["Body"].read() == b"{}"
    plain = refused(lambda: s3.get_object(Bucket=name, Key="never-written"))
    assert "x-amz-delete-marker" not in plain.response["ResponseMetadata"]["HTTPHeaders"]
    # The aws CLI shows the same answers.
    assert "NoSuchKey" in cli_refusal(sandbox, "s3api", "get-object", "--bucket", name, "--key", "invoice.json",
                                      "/dev/null")
    assert "MethodNotAllowed" in cli_refusal(sandbox, "s3api", "get-object", "--bucket", name, "--key",
                                             "invoice.json", "--version-id", marker_id, "/dev/null")
    listing = aws_cli(sandbox, "us-east-1", "s3api", "list-object-versions", "--bucket", name)
    assert [entry["VersionId"] for entry in listing["DeleteMarkers"]] == [marker_id]
    assert json.dumps(listing["DeleteMarkers"][0]["IsLatest"]) == "true"
