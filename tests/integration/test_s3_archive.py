"""S3 lifecycle transitions, restores from the archive classes, and replication of SSE-KMS and Object Lock
objects, through boto3 and the aws CLI against a real sandbox, with the sim clock advanced between calls.

Each behaviour is compared with the S3 User Guide: "Transitioning objects using Amazon S3 Lifecycle"
(lifecycle-transition-general-considerations.html), "Restoring an archived object" (restoring-objects.html),
"Understanding archive retrieval options" (restoring-objects-retrieval-options.html), "Replicating encrypted
objects" (replication-config-for-kms-objects.html) and "Object Lock considerations" (object-lock-managing.html).
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from lab.admin_client import AdminClient
from tests.integration._data_plane import BIN, aws_cli
from tests.integration.test_s3_engine import EAST, WEST, advance, bucket, refusal, replicate, role, rule, status

BIG = b"x" * (200 * 1024)  # over 128 KiB: transitions apply by default


def cli_refusal(handle, *args: str) -> str:
    env = handle.tool_env(EAST)
    result = subprocess.run([str(BIN / "aws"), "--endpoint-url", env["AWS_ENDPOINT_URL"], *args], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0, result.stdout
    return result.stderr


def sim_now(handle) -> datetime:
    return datetime.fromtimestamp(float(AdminClient(handle.endpoint).get("clock")["epoch"]), tz=UTC)


# -- lifecycle transitions --------------------------------------------------------------------------------

def test_lifecycle_transitions_change_the_storage_class_at_midnight(fresh_sandbox):
    fresh_sandbox.up("--no-world")
    east = fresh_sandbox.client("s3", EAST)
    name = bucket(fresh_sandbox, EAST)
    east.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "orders/"},
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 60, "StorageClass": "GLACIER"}],
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 1, "StorageClass": "DEEP_ARCHIVE"}]},
    ]})
    east.put_object(Bucket=name, Key="orders/big", Body=BIG)
    old = east.put_object(Bucket=name, Key="orders/doc", Body=BIG)["VersionId"]
    east.put_object(Bucket=name, Key="orders/doc", Body=BIG)
    east.put_object(Bucket=name, Key="orders/small", Body=b"tiny")  # under 128 KiB: stays (default minimum)
    east.put_object(Bucket=name, Key="other/big", Body=BIG)

    advance(fresh_sandbox, "3d")  # the noncurrent version is 1 day noncurrent by the second midnight
    listed = east.list_object_versions(Bucket=name, Prefix="orders/doc")["Versions"]
    assert {v["VersionId"]: v["StorageClass"] for v in listed}[old] == "DEEP_ARCHIVE"
    assert east.head_object(Bucket=name, Key="orders/big").get("StorageClass") is None  # STANDARD: no header

    advance(fresh_sandbox, "30d")
    head = east.head_object(Bucket=name, Key="orders/big")
    assert head["StorageClass"] == "STANDARD_IA"
    assert east.get_object(Bucket=name, Key="orders/big")["StorageClass"] == "STANDARD_IA"  # IA reads at once
    classes = {o["Key"]: o["StorageClass"] for o in east.list_objects_v2(Bucket=name)["Contents"]}
    assert classes == {"orders/big": "STANDARD_IA", "orders/doc": "STANDARD_IA", "orders/small": "STANDARD",
                       "other/big": "STANDARD"}

    advance(fresh_sandbox, "30d")
    listing = aws_cli(fresh_sandbox, EAST, "s3api", "list-objects-v2", "--bucket", name, "--prefix", "orders/")
    assert {o["Key"]: o["StorageClass"] for o in listing["Contents"]} == {
        "orders/big": "GLACIER", "orders/doc": "GLACIER", "orders/small": "STANDARD"}
    # An archived object cannot be read until it is restored: 403 InvalidObjectState.
    with pytest.raises(ClientError) as refused:
        east.get_object(Bucket=name, Key="orders/big")
    assert refused.value.response["Error"]["Code"] == "InvalidObjectState"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert east.head_object(Bucket=name, Key="orders/big")["StorageClass"] == "GLACIER"  # HEAD still answers
    events = AdminClient(fresh_sandbox.endpoint).get("events?source=s3&limit=5000")["events"]
    moved = [e for e in events if e["name"] == "LifecycleTransition"]
    assert {e["time"] % 86400 for e in moved} == {0}  # at midnight UTC only


def test_transition_refusals_as_aws_answers_them(sandbox):
    east = sandbox.client("s3", EAST)
    name = bucket(sandbox, EAST)

    def put(*rules: dict):
        return lambda: east.put_bucket_lifecycle_configuration(Bucket=name,
                                                               LifecycleConfiguration={"Rules": list(rules)})

    code, message = refusal(put({"ID": "ia", "Status": "Enabled", "Filter": {"Prefix": ""},
                                 "Transitions": [{"Days": 7, "StorageClass": "STANDARD_IA"}]}))
    assert code == "InvalidArgument"
    assert message == "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"
    code, message = refusal(put({"ID": "exp", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
                                 "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}], "Expiration": {"Days": 30}}))
    assert code == "InvalidArgument" and "must be greater than 'Days' in the Transition action" in message
    stderr = cli_refusal(sandbox, "s3api", "put-bucket-lifecycle-configuration", "--bucket", name,
                         "--lifecycle-configuration", json.dumps({"Rules": [
                             {"ID": "step", "Status": "Enabled", "Filter": {"Prefix": ""},
                              "Transitions": [{"Days": 30, "StorageClass": "ONEZONE_IA"},
                                              {"Days": 40, "StorageClass": "GLACIER"}]}]}))
    assert "InvalidArgument" in stderr and "must be 30 days more than" in stderr
    with pytest.raises(ClientError):  # nothing was stored by the refused calls
        east.get_bucket_lifecycle_configuration(Bucket=name)
    east.put_bucket_lifecycle_configuration(
        Bucket=name, TransitionDefaultMinimumObjectSize="varies_by_storage_class",
        LifecycleConfiguration={"Rules": [{"ID": "ok", "Status": "Enabled", "Filter": {"Prefix": ""},
                                           "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]}]})
    answer = east.get_bucket_lifecycle_configuration(Bucket=name)
    assert answer["Rules"][0]["Transitions"] == [{"Days": 0, "StorageClass": "GLACIER"}]
    assert answer["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"


@pytest.mark.parametrize(("rule_part", "code", "message"), [
    ({"Expiration": {"Days": 0}}, "InvalidArgument", "'Days' in Expiration action must be a positive integer"),
    ({"NoncurrentVersionExpiration": {"NoncurrentDays": 0}}, "InvalidArgument",
     "'NoncurrentDays' in NoncurrentVersionExpiration action must be a positive integer"),
    ({"Status": "enabled", "Expiration": {"Days": 1}}, "MalformedXML",
     "The XML you provided was not well-formed or did not validate against our published schema"),
    ({"Status": "Paused", "Expiration": {"Days": 1}}, "MalformedXML",
     "The XML you provided was not well-formed or did not validate against our published schema"),
])
def test_expiration_days_and_rule_status_refusals(sandbox, rule_part, code, message):
    """Expiration Days and NoncurrentDays are positive integers (InvalidArgument), and a rule's Status is Enabled or
    Disabled, else the document fails S3's schema (API Reference: LifecycleExpiration, NoncurrentVersionExpiration,
    LifecycleRule)."""
    east = sandbox.client("s3", EAST)
    name = bucket(sandbox, EAST)
    document = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, **rule_part}]}
    assert refusal(lambda: east.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=document)) \
        == (code, message)
    with pytest.raises(ClientError):  # nothing was stored
        east.get_bucket_lifecycle_configuration(Bucket=name)


# -- restores -----------------------------------------------------------------------------------------------

def test_restore_takes_its_tiers_time_then_expires(fresh_sandbox):
    fresh_sandbox.up("--no-world")
    east = fresh_sandbox.client("s3", EAST)
    name = bucket(fresh_sandbox, EAST)
    east.put_object(Bucket=name, Key="backup.tar", Body=b"the only copy", StorageClass="GLACIER")
    east.put_object(Bucket=name, Key="deep.tar", Body=b"older", StorageClass="DEEP_ARCHIVE")
    east.put_object(Bucket=name, Key="warm.tar", Body=b"warm", StorageClass="STANDARD_IA")

    code, _ = refusal(lambda: east.get_object(Bucket=name, Key="backup.tar"))
    assert code == "InvalidObjectState"
    # Only the archive classes restore (ErrorResponses: InvalidObjectState, 403).
    code, _ = refusal(lambda: east.restore_object(Bucket=name, Key="warm.tar", RestoreRequest={"Days": 1}))
    assert code == "InvalidObjectState"
    # Deep Archive has no Expedited tier (Understanding archive retrieval options).
    code, _ = refusal(lambda: east.restore_object(Bucket=name, Key="deep.tar", RestoreRequest={
        "Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}}))
    assert code == "InvalidArgument"

    answer = east.restore_object(Bucket=name, Key="backup.tar", RestoreRequest={
        "Days": 2, "GlacierJobParameters": {"Tier": "Standard"}})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert east.head_object(Bucket=name, Key="backup.tar")["Restore"] == 'ongoing-request="true"'
    code, _ = refusal(lambda: east.get_object(Bucket=name, Key="backup.tar"))
    assert code == "InvalidObjectState"  # still archived while the restore runs
    with pytest.raises(ClientError) as again:
        east.restore_object(Bucket=name, Key="backup.tar", RestoreRequest={"Days": 2})
    assert again.value.response["Error"]["Code"] == "RestoreAlreadyInProgress"
    assert again.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    head = aws_cli(fresh_sandbox, EAST, "s3api", "head-object", "--bucket", name, "--key", "backup.tar")
    assert head["Restore"] == 'ongoing-request="true"' and head["StorageClass"] == "GLACIER"

    advance(fresh_sandbox, "4h")  # Standard: within 3-5 hours (the model: 5 h)
    assert east.head_object(Bucket=name, Key="backup.tar")["Restore"] == 'ongoing-request="true"'
    advance(fresh_sandbox, "1h")
    finished = sim_now(fresh_sandbox)
    restore = east.head_object(Bucket=name, Key="backup.tar")["Restore"]
    assert restore.startswith('ongoing-request="false", expiry-date="')
    expiry = datetime.strptime(restore.split('expiry-date="')[1].rstrip('"'), "%a, %d %b %Y %H:%M:%S GMT")
    # Days after the restore finished, rounded up to the next midnight UTC (Restoring an archived object)
    expected = (finished + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert expiry.replace(tzinfo=UTC) == expected
    got = east.get_object(Bucket=name, Key="backup.tar")
    assert got["Body"].read() == b"the only copy" and got["StorageClass"] == "GLACIER"
    # A second request on a restored copy sets its expiry afresh: 200, not 202.
    assert east.restore_object(Bucket=name, Key="backup.tar", RestoreRequest={"Days": 3})[
        "ResponseMetadata"]["HTTPStatusCode"] == 200

    advance(fresh_sandbox, "4d")
    assert "Restore" not in east.head_object(Bucket=name, Key="backup.tar")
    code, _ = refusal(lambda: east.get_object(Bucket=name, Key="backup.tar"))
    assert code == "InvalidObjectState"  # the copy expired: archived again
    events = {e["name"] for e in AdminClient(fresh_sandbox.endpoint).get("events?source=s3&limit=500")["events"]}
    assert {"ObjectRestoreStarted", "ObjectRestoreCompleted", "ObjectRestoreExpired"} <= events


def test_restore_through_the_cli_with_a_fast_clock(fresh_sandbox):
    """A learner's restore: aws s3api restore-object, then poll head-object while the clock runs fast."""
    fresh_sandbox.up("--no-world")
    name = bucket(fresh_sandbox, EAST)
    fresh_sandbox.client("s3", EAST).put_object(Bucket=name, Key="db.dump", Body=b"dump", StorageClass="GLACIER")
    aws_cli(fresh_sandbox, EAST, "s3api", "restore-object", "--bucket", name, "--key", "db.dump",
            "--restore-request", json.dumps({"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}}))
    stderr = cli_refusal(fresh_sandbox, "s3api", "restore-object", "--bucket", name, "--key", "db.dump",
                         "--restore-request", json.dumps({"Days": 1}))
    assert "RestoreAlreadyInProgress" in stderr
    advance(fresh_sandbox, "5m")  # Expedited: 1-5 minutes
    head = aws_cli(fresh_sandbox, EAST, "s3api", "head-object", "--bucket", name, "--key", "db.dump")
    assert head["Restore"].startswith('ongoing-request="false"')


# -- replication of SSE-KMS and Object Lock objects ---------------------------------------------------------

def kms_key(handle, region: str) -> str:
    return handle.client("kms", region).create_key(Description="replica key")["KeyMetadata"]["Arn"]


def test_sse_kms_objects_replicate_only_when_selected(sandbox):
    source, target = bucket(sandbox, EAST), bucket(sandbox, WEST)
    source_key, replica_key = kms_key(sandbox, EAST), kms_key(sandbox, WEST)
    role_arn = role(sandbox)
    keyless = rule("kms", target)
    keyless["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    code, message = refusal(lambda: replicate(sandbox, source, role_arn, keyless))
    assert (code, message) == ("InvalidRequest",
                               "ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.")
    east = sandbox.client("s3", EAST)

    replicate(sandbox, source, role_arn, rule("plain", target))
    east.put_object(Bucket=source, Key="kms-unselected", Body=b"k", ServerSideEncryption="aws:kms",
                    SSEKMSKeyId=source_key)
    east.put_object(Bucket=source, Key="s3-managed", Body=b"s", ServerSideEncryption="AES256")
    assert status(sandbox, EAST, source, "kms-unselected") is None  # not selected: no status at all
    assert status(sandbox, EAST, source, "s3-managed") == "PENDING"  # SSE-S3 objects replicate by default
    advance(sandbox, "15m")
    assert status(sandbox, EAST, source, "s3-managed") == "COMPLETED"

    selecting = rule("kms", target, EncryptionConfiguration={"ReplicaKmsKeyID": replica_key})
    selecting["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    replicate(sandbox, source, role_arn, selecting)
    east.put_object(Bucket=source, Key="kms-selected", Body=b"k", ServerSideEncryption="aws:kms",
                    SSEKMSKeyId=source_key)
    assert status(sandbox, EAST, source, "kms-selected") == "PENDING"
    advance(sandbox, "15m")
    assert status(sandbox, EAST, source, "kms-selected") == "COMPLETED"
    west = sandbox.client("s3", WEST)
    replica = west.head_object(Bucket=target, Key="kms-selected")
    assert replica["ReplicationStatus"] == "REPLICA"
    assert replica["ServerSideEncryption"] == "aws:kms" and replica["SSEKMSKeyId"] == replica_key
    assert status(sandbox, EAST, source, "kms-unselected") is None
    listed = {o["Key"] for o in west.list_objects_v2(Bucket=target).get("Contents", [])}
    assert "kms-unselected" not in listed and {"kms-selected", "s3-managed"} <= listed
    head = aws_cli(sandbox, WEST, "s3api", "head-object", "--bucket", target, "--key", "kms-selected")
    assert head["SSEKMSKeyId"] == replica_key and head["ReplicationStatus"] == "REPLICA"
    east.delete_bucket_replication(Bucket=source)


def test_object_lock_settings_travel_with_replicas(sandbox):
    east, west = sandbox.client("s3", EAST), sandbox.client("s3", WEST)
    source = bucket(sandbox, EAST, prefix="s3lock")
    east.put_bucket_versioning(Bucket=source, VersioningConfiguration={"Status": "Enabled"})
    east.put_object_lock_configuration(Bucket=source, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    target, unlocked = bucket(sandbox, WEST, prefix="s3lock"), bucket(sandbox, WEST)
    west.put_object_lock_configuration(Bucket=target, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    role_arn = role(sandbox)
    replicate(sandbox, source, role_arn, rule("locked", target, prefix="a/", priority=2),
              rule("unlocked", unlocked, prefix="b/", priority=1))
    until = (sim_now(sandbox) + timedelta(days=30)).replace(microsecond=0)
    east.put_object(Bucket=source, Key="a/ledger", Body=b"l", ObjectLockMode="COMPLIANCE",
                    ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")
    east.put_object(Bucket=source, Key="b/ledger", Body=b"l", ObjectLockMode="GOVERNANCE",
                    ObjectLockRetainUntilDate=until)
    advance(sandbox, "15m")
    assert status(sandbox, EAST, source, "a/ledger") == "COMPLETED"
    replica = west.head_object(Bucket=target, Key="a/ledger")
    assert replica["ObjectLockMode"] == "COMPLIANCE" and replica["ObjectLockLegalHoldStatus"] == "ON"
    assert replica["ObjectLockRetainUntilDate"] == until
    # A destination without Object Lock cannot take objects of a bucket with it (failure reason
    # DstBucketObjectLockConfigMissing, S3 User Guide: Replication failure reasons).
    assert status(sandbox, EAST, source, "b/ledger") == "FAILED"
    assert "b/ledger" not in {o["Key"] for o in west.list_objects_v2(Bucket=unlocked).get("Contents", [])}
    events = AdminClient(sandbox.endpoint).get("events?source=s3&limit=5000")["events"]
    assert any(e["name"] == "ReplicationFailed" and "DstBucketObjectLockConfigMissing" in e["detail"]["reason"]
               and e["detail"]["destination"] == unlocked for e in events)


def test_a_restore_in_progress_survives_a_restart(fresh_sandbox):
    """The restore is the engine's state: after `lab down` and `lab up` it is still running, and finishes when
    it would have (TIME.md: a restart gives the same statuses at the same sim times)."""
    fresh_sandbox.up("--no-world")
    east = fresh_sandbox.client("s3", EAST)
    name = bucket(fresh_sandbox, EAST)
    east.put_object(Bucket=name, Key="vault.tar", Body=b"v", StorageClass="DEEP_ARCHIVE")
    east.restore_object(Bucket=name, Key="vault.tar", RestoreRequest={
        "Days": 1, "GlacierJobParameters": {"Tier": "Standard"}})
    advance(fresh_sandbox, "6h")
    fresh_sandbox.lab("down")
    fresh_sandbox.up("--no-world")
    east = fresh_sandbox.client("s3", EAST)
    assert east.head_object(Bucket=name, Key="vault.tar")["Restore"] == 'ongoing-request="true"'
    code, _ = refusal(lambda: east.get_object(Bucket=name, Key="vault.tar"))
    assert code == "InvalidObjectState"
    advance(fresh_sandbox, "6h")  # Deep Archive Standard: within 12 hours
    assert east.head_object(Bucket=name, Key="vault.tar")["Restore"].startswith('ongoing-request="false"')
    assert east.get_object(Bucket=name, Key="vault.tar")["Body"].read() == b"v"


def test_a_waiter_sees_the_restore_finish_while_the_clock_runs_fast(fresh_sandbox):
    """S3 has no restore waiter; a botocore waiter on HeadObject's Restore, as a learner could define one, polls on
    wall-clock time and completes once the clock runs fast enough (TIME.md: waiters against the sandbox)."""
    from botocore.waiter import WaiterModel, create_waiter_with_client

    fresh_sandbox.up("--no-world")
    east = fresh_sandbox.client("s3", EAST)
    name = bucket(fresh_sandbox, EAST)
    east.put_object(Bucket=name, Key="orders.csv", Body=b"o", StorageClass="GLACIER")
    east.restore_object(Bucket=name, Key="orders.csv", RestoreRequest={
        "Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    model = WaiterModel({"version": 2, "waiters": {"ObjectRestored": {
        "operation": "HeadObject", "delay": 1, "maxAttempts": 60, "acceptors": [
            {"state": "success", "matcher": "path", "argument": "contains(Restore, 'ongoing-request=\"false\"')",
             "expected": True}]}}})
    admin = AdminClient(fresh_sandbox.endpoint)
    clock = admin.get("clock")
    admin.post("clock", {"action": "speed", "factor": 600})
    admin.post("clock", {"action": "resume"})
    try:
        create_waiter_with_client("ObjectRestored", model, east).wait(Bucket=name, Key="orders.csv")
    finally:
        admin.post("clock", {"action": "speed", "factor": clock["speed"]})
        if clock["paused"]:
            admin.post("clock", {"action": "pause"})
    assert east.get_object(Bucket=name, Key="orders.csv")["Body"].read() == b"o"


def test_head_and_get_tell_when_a_lifecycle_rule_expires_the_object(sandbox):
    """API Reference, HeadObject / GetObject, Expiration (x-amz-expiration): "If the object expiration is
    configured, the response includes this header. It includes the expiry-date and rule-id key-value pairs";
    the date is the object's creation plus the rule's days, rounded up to the next midnight UTC."""
    east = sandbox.client("s3", EAST)
    name = bucket(sandbox, EAST, versioned=False, prefix="expiry")
    east.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "exp", "Status": "Enabled", "Filter": {"Prefix": "exp/"}, "Expiration": {"Days": 2}},
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]})
    east.put_object(Bucket=name, Key="exp/a", Body=b"a")
    east.put_object(Bucket=name, Key="other/b", Body=b"b")
    modified = east.head_object(Bucket=name, Key="exp/a")["LastModified"]
    midnight = (modified + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    expected = f'expiry-date="{midnight:%a, %d %b %Y %H:%M:%S} GMT", rule-id="exp"'
    assert east.head_object(Bucket=name, Key="exp/a")["Expiration"] == expected
    assert east.get_object(Bucket=name, Key="exp/a")["Expiration"] == expected
    assert "Expiration" not in east.head_object(Bucket=name, Key="other/b")
