"""S3 versioning states and delete markers as S3 answers them, through boto3 and the aws CLI against a sandbox."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lab.admin_client import AdminClient
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


# -- Object Lock: retention and legal hold of a version --------------------------------------------------------

LOCKED = "Access Denied because object protected by object lock."
NO_LOCK = "The specified object does not have a ObjectLock configuration"


def locked_bucket(sandbox) -> str:
    name = f"locked-{uuid.uuid4().hex[:10]}"
    sandbox.client("s3").create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def sim_time(sandbox, days: float = 0) -> datetime:
    epoch = float(AdminClient(sandbox.endpoint).get("clock")["epoch"])
    return (datetime.fromtimestamp(epoch, UTC) + timedelta(days=days)).replace(microsecond=0)


def test_get_object_retention_and_legal_hold_answer_their_own_documents(sandbox):
    """GetObjectRetention answers the version's <Retention> (Mode, RetainUntilDate), GetObjectLegalHold its
    <LegalHold>; a version with neither is NoSuchObjectLockConfiguration, 404 (API Reference: GetObjectRetention)."""
    name = locked_bucket(sandbox)
    s3 = sandbox.client("s3")
    until = sim_time(sandbox, days=3)
    retained = s3.put_object(Bucket=name, Key="x", Body=b"hello", ObjectLockMode="GOVERNANCE",
                             ObjectLockRetainUntilDate=until)["VersionId"]
    plain = s3.put_object(Bucket=name, Key="x", Body=b"plain")["VersionId"]
    answer = s3.get_object_retention(Bucket=name, Key="x", VersionId=retained)
    assert answer["Retention"] == {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    assert "Body" not in answer and answer["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/xml"
    for call in (s3.get_object_retention, s3.get_object_legal_hold):
        for version in ({"VersionId": plain}, {}):  # (the current version is the plain one)
            error = refused(lambda call=call, version=version: call(Bucket=name, Key="x", **version))
            assert error.response["Error"] == {"Code": "NoSuchObjectLockConfiguration", "Message": NO_LOCK}
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3.put_object_legal_hold(Bucket=name, Key="x", VersionId=plain, LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=name, Key="x", VersionId=plain)["LegalHold"] == {"Status": "ON"}
    shown = aws_cli(sandbox, "us-east-1", "s3api", "get-object-retention", "--bucket", name, "--key", "x",
                    "--version-id", retained)
    assert shown["Retention"]["Mode"] == "GOVERNANCE"
    assert "NoSuchObjectLockConfiguration" in cli_refusal(sandbox, "s3api", "get-object-retention", "--bucket",
                                                          name, "--key", "x", "--version-id", plain)
    s3.put_object_legal_hold(Bucket=name, Key="x", VersionId=plain, LegalHold={"Status": "OFF"})


def test_put_object_retention_keeps_compliance_and_governance_rules(sandbox):
    """COMPLIANCE retention cannot be shortened nor its mode changed; GOVERNANCE only with
    x-amz-bypass-governance-retention; extending is always allowed; a past date is InvalidArgument (S3 User Guide:
    Object Lock, retention modes; API Reference: PutObjectRetention)."""
    name = locked_bucket(sandbox)
    s3 = sandbox.client("s3")
    week, month, later = sim_time(sandbox, 7), sim_time(sandbox, 30), sim_time(sandbox, 60)
    strict = s3.put_object(Bucket=name, Key="c", Body=b"c", ObjectLockMode="COMPLIANCE",
                           ObjectLockRetainUntilDate=month)["VersionId"]
    soft = s3.put_object(Bucket=name, Key="g", Body=b"g", ObjectLockMode="GOVERNANCE",
                         ObjectLockRetainUntilDate=month)["VersionId"]

    def retain(key: str, version: str, mode: str, until: datetime, **extra):
        return lambda: s3.put_object_retention(Bucket=name, Key=key, VersionId=version,
                                               Retention={"Mode": mode, "RetainUntilDate": until}, **extra)

    for attempt in (retain("c", strict, "COMPLIANCE", week), retain("c", strict, "GOVERNANCE", month),
                    retain("c", strict, "COMPLIANCE", week, BypassGovernanceRetention=True),
                    retain("c", strict, "GOVERNANCE", later, BypassGovernanceRetention=True),
                    retain("g", soft, "GOVERNANCE", week), retain("g", soft, "COMPLIANCE", later)):
        error = refused(attempt)
        assert error.response["Error"]["Code"] == "AccessDenied" and error.response["Error"]["Message"] == LOCKED
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert s3.get_object_retention(Bucket=name, Key="c", VersionId=strict)["Retention"]["RetainUntilDate"] == month
    past = refused(retain("g", soft, "GOVERNANCE", sim_time(sandbox, -1), BypassGovernanceRetention=True))
    assert past.response["Error"]["Code"] == "InvalidArgument"
    assert past.response["Error"]["Message"] == "The retain until date must be in the future!"
    removals = [lambda bypass=bypass, key=key, version=version: s3.put_object_retention(
        Bucket=name, Key=key, VersionId=version, Retention={}, BypassGovernanceRetention=bypass)
        for key, version, bypass in (("c", strict, True), ("c", strict, False), ("g", soft, False))]
    for removal in removals:
        assert refused(removal).response["Error"]["Message"] == LOCKED
    retain("c", strict, "COMPLIANCE", later)()  # extending is always allowed
    assert s3.get_object_retention(Bucket=name, Key="c", VersionId=strict)["Retention"]["RetainUntilDate"] == later
    retain("g", soft, "GOVERNANCE", later)()
    retain("g", soft, "GOVERNANCE", week, BypassGovernanceRetention=True)()
    retain("g", soft, "COMPLIANCE", week, BypassGovernanceRetention=True)()
    assert s3.get_object_retention(Bucket=name, Key="g", VersionId=soft)["Retention"] == {
        "Mode": "COMPLIANCE", "RetainUntilDate": week}
    s3.put_object(Bucket=name, Key="g", Body=b"g2", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=month)
    removed = s3.list_object_versions(Bucket=name, Prefix="g")["Versions"][0]["VersionId"]
    s3.put_object_retention(Bucket=name, Key="g", VersionId=removed, Retention={}, BypassGovernanceRetention=True)
    assert refused(lambda: s3.get_object_retention(Bucket=name, Key="g", VersionId=removed)).response["Error"][
        "Code"] == "NoSuchObjectLockConfiguration"
    s3.delete_object(Bucket=name, Key="g", VersionId=removed)  # (no retention holds it any more)
    assert "AccessDenied" in cli_refusal(sandbox, "s3api", "put-object-retention", "--bucket", name, "--key", "c",
                                         "--version-id", strict, "--retention",
                                         json.dumps({"Mode": "COMPLIANCE", "RetainUntilDate": week.isoformat()}))


def test_versioning_of_an_object_lock_bucket_cannot_be_suspended(sandbox):
    """After Object Lock is enabled on a bucket, its versioning cannot be suspended: InvalidBucketState, 409
    (S3 User Guide: Configuring S3 Object Lock)."""
    name = locked_bucket(sandbox)
    s3 = sandbox.client("s3")
    error = refused(lambda: s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"}))
    assert error.response["Error"]["Code"] == "InvalidBucketState"
    assert error.response["Error"]["Message"] == ("An Object Lock configuration is present on this bucket, so the "
                                                  "versioning state cannot be changed.")
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})  # (no change: accepted)


# -- versioning-suspended buckets ------------------------------------------------------------------------------

def versions_of(sandbox, name: str) -> tuple[list[tuple[str, bytes, bool]], list[tuple[str, bool]]]:
    s3 = sandbox.client("s3")
    listing = s3.list_object_versions(Bucket=name)
    versions = [(v["VersionId"], s3.get_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])["Body"].read(),
                 v["IsLatest"]) for v in listing.get("Versions", [])]
    return versions, [(m["VersionId"], m["IsLatest"]) for m in listing.get("DeleteMarkers", [])]


def suspended_with_two_versions(sandbox: Any) -> tuple[str, str, str]:
    """A bucket whose key "k" got versions one and two while versioning was on, now suspended: (name, ids)."""
    name = versioned_bucket(sandbox)
    s3 = sandbox.client("s3")
    one = s3.put_object(Bucket=name, Key="k", Body=b"one")["VersionId"]
    two = s3.put_object(Bucket=name, Key="k", Body=b"two")["VersionId"]
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    return name, one, two


def test_a_put_on_a_suspended_bucket_replaces_only_the_null_version(sandbox):
    """On a versioning-suspended bucket a PUT writes the version whose id is null, replacing only a null version;
    earlier versions stay (S3 User Guide: Adding objects to versioning-suspended buckets)."""
    name, one, two = suspended_with_two_versions(sandbox)
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=name, Key="k", Body=b"three!")
    assert versions_of(sandbox, name) == ([("null", b"three!", True), (two, b"two", False), (one, b"one", False)],
                                          [])
    s3.put_object(Bucket=name, Key="k", Body=b"four")
    assert versions_of(sandbox, name)[0] == [("null", b"four", True), (two, b"two", False), (one, b"one", False)]
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"four"
    listing = aws_cli(sandbox, "us-east-1", "s3api", "list-object-versions", "--bucket", name)
    assert [v["VersionId"] for v in listing["Versions"]] == ["null", two, one]


def test_a_delete_on_a_suspended_bucket_adds_a_null_delete_marker(sandbox):
    """On a versioning-suspended bucket a DELETE without a version id removes the null version and adds a delete
    marker whose id is null; a DELETE of a version id removes that version only (S3 User Guide: Deleting objects
    from versioning-suspended buckets)."""
    name, one, two = suspended_with_two_versions(sandbox)
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=name, Key="k", Body=b"null body")
    answer = s3.delete_object(Bucket=name, Key="k")
    assert answer["DeleteMarker"] is True and answer["VersionId"] == "null"
    assert versions_of(sandbox, name) == ([(two, b"two", False), (one, b"one", False)], [("null", True)])
    assert refused(lambda: s3.get_object(Bucket=name, Key="k")).response["Error"]["Code"] == "NoSuchKey"
    again = s3.delete_object(Bucket=name, Key="k")  # (a second marker replaces the null one)
    assert again["DeleteMarker"] is True and again["VersionId"] == "null"
    assert versions_of(sandbox, name)[1] == [("null", True)]
    s3.delete_object(Bucket=name, Key="k", VersionId=one)
    assert versions_of(sandbox, name) == ([(two, b"two", False)], [("null", True)])
    s3.delete_object(Bucket=name, Key="k", VersionId="null")
    assert versions_of(sandbox, name) == ([(two, b"two", True)], [])
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"two"
