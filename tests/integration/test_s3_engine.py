"""S3 replication and lifecycle acted out on the sim clock, through real boto3 clients against a sandbox."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from lab.admin_client import AdminClient

EAST, WEST = "us-east-1", "us-west-2"
S3_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def advance(handle, duration: str) -> None:
    AdminClient(handle.endpoint).post("clock", {"action": "advance", "duration": duration})


def bucket(handle, region: str, versioned: bool = True, prefix: str = "s3eng") -> str:
    name = unique(prefix)
    s3 = handle.client("s3", region)
    kwargs = {} if region == EAST else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **kwargs)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def role(handle, trust: dict = S3_TRUST) -> str:
    return handle.client("iam").create_role(RoleName=unique("s3-replication"),
                                            AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


RTC = {"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}, "Metrics": {"Status": "Enabled"}}


def rule(rule_id: str, destination: str, prefix: str = "", priority: int = 1, delete_markers: bool = False,
         status: str = "Enabled", tags: dict | None = None, rtc: bool = True, **destination_extra) -> dict:
    """A V2 replication rule; with Replication Time Control unless `rtc` is False, so that a few minutes of sim
    time replicate everything (RTC: 99.99 % within 15 minutes; without it some objects take hours)."""
    if rtc and "ReplicationTime" not in destination_extra:
        destination_extra = {**RTC, **destination_extra}
    if tags:
        rule_filter: dict = {"And": {"Prefix": prefix, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}}
    else:
        rule_filter = {"Prefix": prefix}
    return {"ID": rule_id, "Priority": priority, "Status": status, "Filter": rule_filter,
            "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{destination}", **destination_extra}}


def replicate(handle, source: str, role_arn: str, *rules: dict) -> None:
    handle.client("s3", EAST).put_bucket_replication(
        Bucket=source, ReplicationConfiguration={"Role": role_arn, "Rules": list(rules)})


def status(handle, region: str, name: str, key: str, version_id: str | None = None) -> str | None:
    extra = {"VersionId": version_id} if version_id else {}
    return handle.client("s3", region).head_object(Bucket=name, Key=key, **extra).get("ReplicationStatus")


def keys(handle, region: str, name: str) -> list[str]:
    return [o["Key"] for o in handle.client("s3", region).list_objects_v2(Bucket=name).get("Contents", [])]


def refusal(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]["Code"], refused.value.response["Error"]["Message"]


def engine_events(handle, name: str, resource_part: str) -> list[dict]:
    found = AdminClient(handle.endpoint).get("events?source=s3&limit=50000")["events"]
    return [e for e in found if e["name"] == name and resource_part in (e["resource"] or "")]


# -- replication ---------------------------------------------------------------------------------------

def test_configuration_refusals_as_aws_answers_them(sandbox):
    s3 = sandbox.client("s3", EAST)
    unversioned, target = bucket(sandbox, EAST, versioned=False), bucket(sandbox, WEST)
    role_arn = role(sandbox)
    config = {"Role": role_arn, "Rules": [rule("all", target)]}
    assert refusal(lambda: s3.put_bucket_replication(Bucket=unversioned, ReplicationConfiguration=config)) == (
        "InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication configuration")

    source = bucket(sandbox, EAST)
    missing = {"Role": role_arn, "Rules": [rule("all", unique("no-such-bucket"))]}
    assert refusal(lambda: s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=missing)) == (
        "InvalidRequest", "Destination bucket must exist.")
    plain = bucket(sandbox, WEST, versioned=False)
    to_plain = {"Role": role_arn, "Rules": [rule("all", plain)]}
    assert refusal(lambda: s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=to_plain)) == (
        "InvalidRequest", "Destination bucket must have versioning enabled.")
    tagged = {"Role": role_arn, "Rules": [rule("t", target, tags={"k": "v"}, delete_markers=True)]}
    assert refusal(lambda: s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=tagged))[0] == \
        "InvalidRequest"
    no_dmr = {"Role": role_arn, "Rules": [{k: v for k, v in rule("x", target).items()
                                           if k != "DeleteMarkerReplication"}]}
    assert "DeleteMarkerReplication must be specified" in refusal(
        lambda: s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=no_dmr))[1]
    with pytest.raises(ClientError):
        s3.get_bucket_replication(Bucket=source)

    s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=config)
    code, message = refusal(lambda: s3.put_bucket_versioning(Bucket=source,
                                                             VersioningConfiguration={"Status": "Suspended"}))
    assert code == "InvalidBucketState" and "replication configuration is present" in message


def test_versions_go_pending_then_completed_and_replicas_land_in_us_west_2(sandbox):
    source, target = bucket(sandbox, EAST), bucket(sandbox, WEST)
    role_arn = role(sandbox)
    full_rule = rule("invoices", target, prefix="invoices/", delete_markers=True, StorageClass="STANDARD_IA",
                     ReplicationTime={"Status": "Enabled", "Time": {"Minutes": 15}},
                     Metrics={"Status": "Enabled", "EventThreshold": {"Minutes": 15}})
    replicate(sandbox, source, role_arn, full_rule)
    east, west = sandbox.client("s3", EAST), sandbox.client("s3", WEST)
    assert east.get_bucket_replication(Bucket=source)["ReplicationConfiguration"] == {
        "Role": role_arn, "Rules": [full_rule]}

    written = east.put_object(Bucket=source, Key="invoices/1.json", Body=b'{"total": 12}',
                              ContentType="application/json", Metadata={"order": "1"}, Tagging="kind=invoice")
    assert status(sandbox, EAST, source, "invoices/1.json") == "PENDING"
    assert east.get_object(Bucket=source, Key="invoices/1.json")["ReplicationStatus"] == "PENDING"
    assert keys(sandbox, WEST, target) == []

    advance(sandbox, "3m")
    assert status(sandbox, EAST, source, "invoices/1.json") == "COMPLETED"
    replica = west.get_object(Bucket=target, Key="invoices/1.json")
    assert replica["ReplicationStatus"] == "REPLICA"
    assert replica["Body"].read() == b'{"total": 12}'
    assert replica["VersionId"] == written["VersionId"]
    assert replica["ContentType"] == "application/json" and replica["Metadata"] == {"order": "1"}
    assert replica["StorageClass"] == "STANDARD_IA"
    assert west.get_object_tagging(Bucket=target, Key="invoices/1.json")["TagSet"] == [
        {"Key": "kind", "Value": "invoice"}]
    assert west.get_bucket_location(Bucket=target)["LocationConstraint"] == WEST
    completed = engine_events(sandbox, "ReplicationCompleted", f"s3://{source}/invoices/1.json")
    # RTC: "most objects ... in seconds, and 99.99 percent of those objects within 15 minutes"
    assert len(completed) == 1 and 5 <= completed[0]["detail"]["lag_seconds"] < 180
    assert completed[0]["detail"]["destination"] == target


def test_versions_of_one_key_replicate_in_order_and_delete_markers_follow_where_asked(sandbox):
    source, target = bucket(sandbox, EAST), bucket(sandbox, WEST)
    replicate(sandbox, source, role(sandbox), rule("on", target, prefix="on/", delete_markers=True, priority=2),
              rule("off", target, prefix="off/", priority=1))
    east, west = sandbox.client("s3", EAST), sandbox.client("s3", WEST)
    versions = [east.put_object(Bucket=source, Key="on/doc", Body=f"v{i}".encode())["VersionId"] for i in range(4)]
    east.put_object(Bucket=source, Key="off/doc", Body=b"x")
    east.delete_object(Bucket=source, Key="on/doc")
    east.delete_object(Bucket=source, Key="off/doc")
    advance(sandbox, "10m")
    listed = west.list_object_versions(Bucket=target)
    replicated = [v["VersionId"] for v in listed["Versions"] if v["Key"] == "on/doc"]
    assert replicated == list(reversed(versions))  # newest first, as S3 lists them: written in order
    assert [m["Key"] for m in listed.get("DeleteMarkers", [])] == ["on/doc"]
    assert west.get_object(Bucket=target, Key="off/doc")["Body"].read() == b"x"
    with pytest.raises(ClientError):
        west.get_object(Bucket=target, Key="on/doc")


def test_prefix_and_tag_filters_priority_and_disabled_rules(sandbox):
    source, gold, archive, unused = (bucket(sandbox, EAST), bucket(sandbox, WEST), bucket(sandbox, WEST),
                                     bucket(sandbox, WEST))
    replicate(sandbox, source, role(sandbox),
              rule("gold", gold, prefix="docs/", tags={"tier": "gold"}, priority=3),
              rule("docs", archive, prefix="docs/", priority=1, StorageClass="STANDARD"),
              rule("docs-glacier", archive, prefix="docs/", priority=2, StorageClass="GLACIER"),
              rule("off", unused, status="Disabled", priority=4))
    east = sandbox.client("s3", EAST)
    east.put_object(Bucket=source, Key="docs/a", Body=b"a", Tagging="tier=gold")
    east.put_object(Bucket=source, Key="docs/b", Body=b"b", Tagging="tier=silver")
    east.put_object(Bucket=source, Key="img/c", Body=b"c")
    assert status(sandbox, EAST, source, "img/c") is None  # no rule selects it: no status at all
    advance(sandbox, "3m")
    assert keys(sandbox, WEST, gold) == ["docs/a"]
    assert keys(sandbox, WEST, archive) == ["docs/a", "docs/b"]
    assert keys(sandbox, WEST, unused) == []
    assert sandbox.client("s3", WEST).head_object(Bucket=archive, Key="docs/b")["StorageClass"] == "GLACIER"
    assert status(sandbox, EAST, source, "docs/a") == "COMPLETED"
    assert status(sandbox, EAST, source, "img/c") is None


def test_failed_when_the_destination_goes_or_stops_versioning(sandbox):
    source, gone, suspended = bucket(sandbox, EAST), bucket(sandbox, WEST), bucket(sandbox, WEST)
    replicate(sandbox, source, role(sandbox), rule("a", gone, prefix="a/", priority=1),
              rule("b", suspended, prefix="b/", priority=2))
    west = sandbox.client("s3", WEST)
    west.delete_bucket(Bucket=gone)
    west.put_bucket_versioning(Bucket=suspended, VersioningConfiguration={"Status": "Suspended"})
    east = sandbox.client("s3", EAST)
    east.put_object(Bucket=source, Key="a/1", Body=b"1")
    east.put_object(Bucket=source, Key="b/1", Body=b"1")
    advance(sandbox, "3m")
    assert status(sandbox, EAST, source, "a/1") == "FAILED"
    assert status(sandbox, EAST, source, "b/1") == "FAILED"
    assert keys(sandbox, WEST, suspended) == []
    reasons = {e["resource"]: e["detail"]["reason"] for e in engine_events(sandbox, "ReplicationFailed", source)}
    assert "does not exist" in reasons[f"s3://{source}/a/1"]
    assert "versioning" in reasons[f"s3://{source}/b/1"]


@pytest.mark.parametrize("trust", [None, {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}])
def test_failed_when_s3_cannot_assume_the_role(sandbox, trust):
    source, target = bucket(sandbox, EAST), bucket(sandbox, WEST)
    role_arn = role(sandbox, trust) if trust else f"arn:aws:iam::000000000000:role/{unique('missing')}"
    replicate(sandbox, source, role_arn, rule("all", target))
    sandbox.client("s3", EAST).put_object(Bucket=source, Key="k", Body=b"k")
    advance(sandbox, "3m")
    assert status(sandbox, EAST, source, "k") == "FAILED"
    assert keys(sandbox, WEST, target) == []
    (failed,) = engine_events(sandbox, "ReplicationFailed", f"s3://{source}/k")
    assert role_arn in failed["detail"]["reason"]


def test_only_versions_written_after_the_rule_replicate(sandbox):
    source, target = bucket(sandbox, EAST), bucket(sandbox, WEST)
    east = sandbox.client("s3", EAST)
    before = east.put_object(Bucket=source, Key="doc", Body=b"before")["VersionId"]
    replicate(sandbox, source, role(sandbox), rule("all", target))
    after = east.put_object(Bucket=source, Key="doc", Body=b"after")["VersionId"]
    advance(sandbox, "3m")
    assert status(sandbox, EAST, source, "doc", before) is None
    assert status(sandbox, EAST, source, "doc", after) == "COMPLETED"
    replicas = sandbox.client("s3", WEST).list_object_versions(Bucket=target)["Versions"]
    assert [v["VersionId"] for v in replicas] == [after]


def test_pause_holds_writes_pending_until_resume(sandbox):
    source, target = bucket(sandbox, EAST), bucket(sandbox, WEST)
    replicate(sandbox, source, role(sandbox), rule("all", target))
    admin = AdminClient(sandbox.endpoint)
    east = sandbox.client("s3", EAST)
    admin.post("s3/replication", {"action": "pause", "bucket": source})
    east.put_object(Bucket=source, Key="held", Body=b"1")
    advance(sandbox, "20m")
    assert status(sandbox, EAST, source, "held") == "PENDING"
    assert keys(sandbox, WEST, target) == []
    assert source in admin.get("s3/replication")["paused"]
    admin.post("s3/replication", {"action": "resume", "bucket": source})
    advance(sandbox, "3m")
    assert status(sandbox, EAST, source, "held") == "COMPLETED"
    assert keys(sandbox, WEST, target) == ["held"]

    admin.post("s3/replication", {"action": "pause", "bucket": target, "duration": "30m"})
    east.put_object(Bucket=source, Key="timed", Body=b"2")
    advance(sandbox, "25m")
    assert status(sandbox, EAST, source, "timed") == "PENDING"
    advance(sandbox, "8m")  # the pause ends at 30m; the work is due its wait after that
    assert status(sandbox, EAST, source, "timed") == "COMPLETED"
    with pytest.raises(Exception, match="unknown replication action"):
        admin.post("s3/replication", {"action": "stop"})


def test_tag_changes_follow_replicas_and_replica_modifications_flow_back(sandbox):
    primary, secondary = bucket(sandbox, EAST), bucket(sandbox, WEST)
    role_arn = role(sandbox)
    replicate(sandbox, primary, role_arn, rule("to-west", secondary))
    sandbox.client("s3", WEST).put_bucket_replication(Bucket=secondary, ReplicationConfiguration={
        "Role": role_arn, "Rules": [{**rule("to-east", primary),
                                     "SourceSelectionCriteria": {"ReplicaModifications": {"Status": "Enabled"}}}]})
    east, west = sandbox.client("s3", EAST), sandbox.client("s3", WEST)
    version = east.put_object(Bucket=primary, Key="doc", Body=b"d", Tagging="stage=draft")["VersionId"]
    advance(sandbox, "3m")
    assert status(sandbox, WEST, secondary, "doc") == "REPLICA"
    assert len(west.list_object_versions(Bucket=secondary)["Versions"]) == 1  # replicas do not bounce back

    east.put_object_tagging(Bucket=primary, Key="doc", VersionId=version,
                            Tagging={"TagSet": [{"Key": "stage", "Value": "final"}]})
    advance(sandbox, "3m")
    assert west.get_object_tagging(Bucket=secondary, Key="doc")["TagSet"] == [{"Key": "stage", "Value": "final"}]

    west.put_object_tagging(Bucket=secondary, Key="doc", VersionId=version,
                            Tagging={"TagSet": [{"Key": "stage", "Value": "archived"}]})
    advance(sandbox, "3m")
    assert east.get_object_tagging(Bucket=primary, Key="doc", VersionId=version)["TagSet"] == [
        {"Key": "stage", "Value": "archived"}]
    assert len(east.list_object_versions(Bucket=primary)["Versions"]) == 1


def test_the_shops_invoices_replicate_as_the_workload_writes_them(sandbox):
    """The workload writes invoices straight into the backend; replication sees them all the same."""
    source, target = "securecart-invoices-use1", bucket(sandbox, WEST)
    east = sandbox.client("s3", EAST)
    east.put_bucket_versioning(Bucket=source, VersioningConfiguration={"Status": "Enabled"})
    replicate(sandbox, source, role(sandbox), rule("invoices", target, prefix="invoices/"))
    advance(sandbox, "10m")
    replicated = keys(sandbox, WEST, target)
    assert len(replicated) >= 5
    newest = max(replicated)
    version = sandbox.client("s3", WEST).head_object(Bucket=target, Key=newest)["VersionId"]
    assert status(sandbox, EAST, source, newest, version) == "COMPLETED"
    sandbox.client("s3", EAST).delete_bucket_replication(Bucket=source)


# -- lifecycle (own sandbox: days of sim time) -----------------------------------------------------------

def test_lifecycle_rules_run_at_midnight(fresh_sandbox):
    fresh_sandbox.up("--no-world")  # no world: no shop writing orders, only these buckets
    east = fresh_sandbox.client("s3", EAST)
    versioned, plain = bucket(fresh_sandbox, EAST), bucket(fresh_sandbox, EAST, versioned=False)
    east.put_bucket_lifecycle_configuration(Bucket=versioned, LifecycleConfiguration={"Rules": [
        {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
        {"ID": "noncurrent", "Status": "Enabled", "Filter": {"Prefix": "doc/"},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}},
        {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": "gone/"},
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
        {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": "up/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        {"ID": "disabled", "Status": "Disabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 1}},
    ]})
    east.put_bucket_lifecycle_configuration(Bucket=plain, LifecycleConfiguration={"Rules": [
        {"ID": "expire-all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 2}}]})
    (noncurrent,) = [r for r in east.get_bucket_lifecycle_configuration(Bucket=versioned)["Rules"]
                     if r["ID"] == "noncurrent"]
    assert noncurrent["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}
    east.put_object(Bucket=versioned, Key="tmp/a", Body=b"a")
    east.put_object(Bucket=versioned, Key="keep/a", Body=b"a")
    doc_versions = [east.put_object(Bucket=versioned, Key="doc/a", Body=f"{i}".encode())["VersionId"]
                    for i in range(3)]
    east.put_object(Bucket=versioned, Key="gone/a", Body=b"a")
    east.delete_object(Bucket=versioned, Key="gone/a")
    east.delete_object(Bucket=versioned, Key="gone/a", VersionId=east.list_object_versions(
        Bucket=versioned, Prefix="gone/")["Versions"][0]["VersionId"])  # only the delete marker is left
    upload = east.create_multipart_upload(Bucket=versioned, Key="up/big")["UploadId"]
    east.put_object(Bucket=plain, Key="x", Body=b"x")

    advance(fresh_sandbox, "1h")
    assert len(east.list_object_versions(Bucket=versioned, Prefix="doc/")["Versions"]) == 3  # not midnight yet
    advance(fresh_sandbox, "3d")
    listed = east.list_object_versions(Bucket=versioned)
    current = {v["Key"] for v in listed["Versions"] if v["IsLatest"]}
    assert "tmp/a" not in current and "keep/a" in current
    assert [m["Key"] for m in listed.get("DeleteMarkers", [])] == ["tmp/a"]  # expiry in a versioned bucket
    assert [v["VersionId"] for v in listed["Versions"] if v["Key"] == "doc/a"] == list(reversed(doc_versions[1:]))
    assert east.list_multipart_uploads(Bucket=versioned).get("Uploads", []) == []
    assert "x" not in keys(fresh_sandbox, EAST, plain)
    events = AdminClient(fresh_sandbox.endpoint).get("events?source=s3&limit=5000")["events"]
    names = {e["name"] for e in events}
    assert {"LifecycleExpiration", "LifecycleNoncurrentVersionExpiration", "LifecycleExpiredDeleteMarkerRemoved",
            "LifecycleMultipartUploadAborted"} <= names
    midnight_runs = {datetime.fromtimestamp(e["time"], tz=UTC).strftime("%H:%M:%S")
                     for e in events if e["name"].startswith("Lifecycle")}
    assert midnight_runs == {"00:00:00"}
    assert upload not in {u["UploadId"] for u in east.list_multipart_uploads(Bucket=versioned).get("Uploads", [])}


# -- the data layer through the AWS API (what non-embedded backends use) ------------------------------------

class _ThroughEndpoint:
    """What ApiData needs of a sandbox: clients, here to the shared sandbox over HTTP."""

    def __init__(self, handle) -> None:
        self.handle = handle

    def client(self, service: str, region: str = EAST):
        return self.handle.client(service, region)


def test_api_data_layer_reads_and_writes_versions(sandbox):
    from lab.backends.data import ApiData

    data = ApiData(_ThroughEndpoint(sandbox))
    source, target = bucket(sandbox, EAST), bucket(sandbox, WEST)
    east = sandbox.client("s3", EAST)
    first = east.put_object(Bucket=source, Key="k", Body=b"1", ContentType="text/plain", Metadata={"a": "b"},
                            Tagging="t=1")["VersionId"]
    second = east.put_object(Bucket=source, Key="k", Body=b"2")["VersionId"]
    assert data.bucket_state(target) == (WEST, "Enabled", False) and data.bucket_state(unique("none")) is None

    replica = data.replicate_version(EAST, source, "k", first, WEST, target, "STANDARD_IA")
    copied = sandbox.client("s3", WEST).get_object(Bucket=target, Key="k", VersionId=replica)
    assert copied["Body"].read() == b"1" and copied["Metadata"] == {"a": "b"}
    assert copied["ContentType"] == "text/plain" and copied["StorageClass"] == "STANDARD_IA"
    assert data.object_tags(WEST, target, "k", replica) == {"t": "1"}
    data.put_object_tags(WEST, target, "k", replica, {"t": "2", "u": "3"})
    assert data.object_tags(WEST, target, "k", replica) == {"t": "2", "u": "3"}
    with pytest.raises(LookupError):
        data.replicate_version(EAST, source, "k", "no-such-version", WEST, target, None)

    marker = data.delete_object(EAST, source, "k")
    assert marker and data.replicate_delete_marker(EAST, source, "k", marker, WEST, target)
    listed = data.list_object_versions(EAST, source, with_tags=True)
    assert [(v.version_id, v.is_latest, v.is_delete_marker) for v in listed] == [
        (marker, True, True), (second, False, False), (first, False, False)]
    assert listed[2].tags == {"t": "1"} and listed[1].size == 1
    assert data.version_facts(EAST, source, "k", second) == (1, "AES256")  # (every bucket's default, SSE-S3)
    assert data.version_facts(EAST, source, "k", marker) == (0, None)
    assert data.version_facts(EAST, source, "k", "no-such-version") == (0, None)
    with pytest.raises(LookupError):
        data.version_facts(EAST, unique("none"), "k", second)
    data.delete_object_version(EAST, source, "k", first)
    assert [v.version_id for v in data.list_object_versions(EAST, source)] == [marker, second]

    upload = east.create_multipart_upload(Bucket=source, Key="big")["UploadId"]
    data.abort_multipart_upload(EAST, source, "big", upload)
    with pytest.raises(LookupError):
        data.abort_multipart_upload(EAST, source, "big", upload)
    role_arn = role(sandbox)
    assert json.loads(data.role_trust_policy(role_arn) or "{}")["Statement"] == S3_TRUST["Statement"]
    assert data.role_trust_policy(role_arn + "-missing") is None
    assert data.subscribe_object_events(lambda *event: None) is False


@pytest.fixture
def moto_endpoint(lab_env):
    """A standalone moto server on loopback: a backend the sandbox reaches through the AWS API only."""
    import subprocess
    import sys

    import urllib3

    from tests.conftest import free_port, wait_for

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               env=lab_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers() -> bool:
        try:
            return urllib3.PoolManager().request("GET", f"http://127.0.0.1:{port}/moto-api/", timeout=1).status < 500
        except urllib3.exceptions.HTTPError:
            return False

    wait_for(answers, timeout=30)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


def test_replication_on_a_backend_reached_through_the_api(moto_endpoint, fresh_sandbox):
    fresh_sandbox.up("--backend", moto_endpoint, "--no-world")
    source, target = bucket(fresh_sandbox, EAST), bucket(fresh_sandbox, WEST)
    replicate(fresh_sandbox, source, role(fresh_sandbox), rule("all", target, delete_markers=True))
    east = fresh_sandbox.client("s3", EAST)
    east.put_object(Bucket=source, Key="doc", Body=b"d", Tagging="k=v")
    assert status(fresh_sandbox, EAST, source, "doc") == "PENDING"
    advance(fresh_sandbox, "3m")
    assert status(fresh_sandbox, EAST, source, "doc") == "COMPLETED"
    assert status(fresh_sandbox, WEST, target, "doc") == "REPLICA"
    east.delete_object(Bucket=source, Key="doc")
    advance(fresh_sandbox, "3m")
    west = fresh_sandbox.client("s3", WEST)
    listed = west.list_object_versions(Bucket=target)
    assert len(listed["Versions"]) == 1 and [m["Key"] for m in listed["DeleteMarkers"]] == ["doc"]
    assert west.get_object_tagging(Bucket=target, Key="doc", VersionId=listed["Versions"][0]["VersionId"])[
        "TagSet"] == [{"Key": "k", "Value": "v"}]


def test_every_bucket_encrypts_with_sse_s3_unless_told_otherwise(sandbox):
    """S3 User Guide, Setting default server-side encryption behavior: "all Amazon S3 buckets have encryption
    configured by default, and all new objects that are uploaded to an S3 bucket are automatically encrypted at
    rest" with SSE-S3 (since January 5, 2023). moto had no configuration and unencrypted objects."""
    s3 = sandbox.client("s3")
    name = bucket(sandbox, "us-east-1", versioned=False, prefix="sse")
    default = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}
    assert s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"] == default
    assert s3.put_object(Bucket=name, Key="plain", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=name, Key="plain")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=name, Key="plain")["ServerSideEncryption"] == "AES256"
    assert s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "plain"})[
        "ServerSideEncryption"] == "AES256"
    key = sandbox.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    assert s3.put_object(Bucket=name, Key="kms", Body=b"y")["ServerSideEncryption"] == "aws:kms"
    s3.delete_bucket_encryption(Bucket=name)  # back to the default, not to none
    assert s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"] == default
    assert s3.head_object(Bucket=name, Key="kms")["ServerSideEncryption"] == "aws:kms"
