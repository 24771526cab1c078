"""The failure scenarios on a sandbox of their own: each touches only what it names, and when it ends nothing is
lost that it did not destroy (fingerprints of the world before and after)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import SandboxHandle
from tests.integration._faults_support import advance, aws, damage_lab, error_of, fail, http, now, sql

pytestmark = pytest.mark.integration
__all__ = ["damage_lab"]  # the fixture, imported for pytest


@pytest.fixture
def lab(damage_lab: SandboxHandle) -> Iterator[SandboxHandle]:
    yield damage_lab
    http(damage_lab, "POST", "/_lab/recover")


def fingerprint(sandbox: Any) -> set[tuple[Any, ...]]:
    """Every object, item, order row, instance and volume of the world, as comparable tuples (the world's
    buckets are not versioned: their objects are all they hold)."""
    found: set[tuple[Any, ...]] = set()
    for region in ("us-east-1", "us-west-2"):
        s3 = aws(sandbox, "s3", region)
        for bucket in s3.list_buckets(BucketRegion=region)["Buckets"]:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
                found |= {("s3", bucket["Name"], o["Key"], o["ETag"]) for o in page.get("Contents", [])}
        dynamodb = aws(sandbox, "dynamodb", region)
        for table in dynamodb.list_tables()["TableNames"]:
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                found |= {("dynamodb", region, table, repr(sorted(item.items()))) for item in page["Items"]}
        ec2 = aws(sandbox, "ec2", region)
        for reservation in ec2.describe_instances()["Reservations"]:
            found |= {("instance", i["InstanceId"], i["State"]["Name"]) for i in reservation["Instances"]}
        found |= {("volume", v["VolumeId"], v["Size"]) for v in ec2.describe_volumes()["Volumes"]}
    found |= {("order", *row) for row in sql(sandbox, "SELECT order_id, customer, amount FROM orders")}
    return found


def orders_between(sandbox: Any, after: float, before: float) -> list[dict[str, Any]]:
    return http(sandbox, "GET", f"/_lab/orders?after={after}&before={before}")[1]["orders"]


def fault_events(sandbox: Any, injection: str) -> list[str]:
    events = http(sandbox, "GET", "/_lab/events?kind=fault&limit=500")[1]["events"]
    return [e["name"] for e in events if e["resource"] == injection]


def test_scenarios_are_listed_with_parameter_types_and_defaults(lab: SandboxHandle) -> None:
    scenarios = {s["name"]: s for s in http(lab, "GET", "/_lab/scenarios")[1]["scenarios"]}
    assert {"region-outage", "az-power-interruption", "accidental-deletion", "ransomware", "bad-deploy",
            "replication-pause"} <= set(scenarios)
    az = {p["name"]: p for p in scenarios["az-power-interruption"]["parameters"]}
    assert az["duration"] == {"name": "duration", "type": "duration", "default": "30m",
                              "help": "how long the power is out (FIS's scenario: 30m)"}
    refused = http(lab, "POST", "/_lab/fail", {"scenario": "region-outage", "params": {"region": "eu-west-1"}})
    assert refused[0] == 400 and "region must be one of" in refused[1]["error"]
    assert http(lab, "POST", "/_lab/fail", {"scenario": "meteor"})[0] == 400


def test_a_region_outage_fails_that_region_only_and_loses_nothing(lab: SandboxHandle) -> None:
    before = fingerprint(lab)
    started = now(lab)
    injection = fail(lab, "region-outage", region="us-east-1", duration="30m")
    assert injection["status"] == "active" and injection["ends_at"] is not None
    for service, call in (("s3", "list_buckets"), ("dynamodb", "list_tables"), ("rds", "describe_db_instances"),
                          ("ec2", "describe_instances")):
        error = error_of(getattr(aws(lab, service), call))
        assert (error["code"], error["status"]) == ("ServiceUnavailable", 503), service
    aws(lab, "s3", "us-west-2").list_buckets(BucketRegion="us-west-2")
    aws(lab, "dynamodb", "us-west-2").list_tables()
    aws(lab, "iam").list_roles()  # a global service stays up
    assert http(lab, "GET", "/_lab/faults")[1]["regions_down"] == ["us-east-1"]
    advance(lab, "10m")
    during = orders_between(lab, started, now(lab))
    assert len(during) >= 9
    assert all(order["stored"] == {"rds": False, "dynamodb": False, "s3": False} for order in during)
    advance(lab, "25m")
    assert fault_events(lab, injection["id"]) == ["FaultInjected", "FaultEnded"]
    aws(lab, "s3").list_buckets()
    after = fingerprint(lab)
    assert before <= after, sorted(before - after)[:5]
    latest = orders_between(lab, now(lab) - 240, now(lab))
    assert latest and all(all(order["stored"].values()) for order in latest)


def test_an_az_power_interruption_stops_that_zone_until_it_returns(lab: SandboxHandle) -> None:
    rds, ec2 = aws(lab, "rds"), aws(lab, "ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    other_zone = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                   Placement={"AvailabilityZone": "us-east-1b"})["Instances"][0]["InstanceId"]
    multi_az = f"multi-{uuid.uuid4().hex[:8]}"
    rds.create_db_instance(DBInstanceIdentifier=multi_az, Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="u", MasterUserPassword="password123",
                           AvailabilityZone="us-east-1a", MultiAZ=True)
    advance(lab, "15m")  # the DB instance is created and has taken its first backup
    before = fingerprint(lab)
    started = now(lab)
    injection = fail(lab, "az-power-interruption", az="us-east-1a")
    outcome = injection["outcome"]
    assert other_zone not in outcome["instances_stopped"] and outcome["instances_stopped"]
    assert outcome["databases_failed_over"] == [multi_az]
    assert outcome["databases_unavailable"] == ["securecart-orders-db"]
    stopped = outcome["instances_stopped"][0]

    def instance_state(instance: str) -> str:
        return ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]["Name"]

    assert instance_state(stopped) in ("stopping", "stopped")
    assert instance_state(other_zone) == "running"
    statuses = {v["VolumeId"]: v["VolumeStatus"]["Status"] for v in ec2.describe_volume_status()["VolumeStatuses"]}
    assert {statuses[v] for v in outcome["volumes_io_paused"]} == {"impaired"}
    advance(lab, "4m")  # the failover, and the zones shown a couple of minutes later
    failed_over = rds.describe_db_instances(DBInstanceIdentifier=multi_az)["DBInstances"][0]
    assert failed_over["AvailabilityZone"] != "us-east-1a"  # the standby took over
    refused = http(lab, "POST", "/_lab/sql", {"instance": "securecart-orders-db", "sql": "SELECT count(*) FROM orders"})
    assert refused[0] == 400 and "could not connect" in refused[1]["error"]
    orders = orders_between(lab, started, now(lab))
    assert orders and all(o["stored"]["rds"] is False and o["stored"]["dynamodb"] for o in orders)
    advance(lab, "30m")
    assert fault_events(lab, injection["id"]) == ["FaultInjected", "FaultEnded"]
    assert instance_state(stopped) in ("pending", "running")
    assert set(statuses) <= {v["VolumeId"] for v in ec2.describe_volume_status()["VolumeStatuses"]
                             if v["VolumeStatus"]["Status"] == "ok"}
    assert sql(lab, "SELECT count(*) FROM orders")[0][0] > 0
    after = fingerprint(lab)
    assert {f for f in before if f[0] != "instance"} <= after
    assert ("instance", stopped, "running") in after and ("instance", other_zone, "running") in after


def test_accidental_deletion_destroys_exactly_what_it_says(lab: SandboxHandle) -> None:
    before = fingerprint(lab)
    table = "securecart-order-history"
    injection = fail(lab, "accidental-deletion", target="items", count=5, which="oldest")
    deleted = injection["outcome"]["deleted"]
    assert deleted == [f"ORD-{n:06d}" for n in range(1, 6)] and injection["status"] == "ended"
    after = fingerprint(lab)
    gone = {f for f in before - after if f[0] == "dynamodb"}
    assert len(gone) == 5 and all(f[2] == table and any(d in f[3] for d in deleted) for f in gone)
    assert {f for f in before if f[0] != "dynamodb"} <= after
    rows = fail(lab, "accidental-deletion", target="rows", count=2)["outcome"]
    left = {row[0] for row in sql(lab, "SELECT order_id FROM orders")}
    assert rows["count"] == 2 and not set(rows["orders"]) & left


def test_ransomware_is_stopped_where_object_lock_protects_versions(lab: SandboxHandle) -> None:
    s3 = aws(lab, "s3")
    locked, plain = f"locked-{uuid.uuid4().hex[:8]}", f"plain-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=locked, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}})
    s3.create_bucket(Bucket=plain)
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    for bucket in (locked, plain):
        for n in range(3):
            s3.put_object(Bucket=bucket, Key=f"invoice-{n}.json", Body=b'{"amount": 10}')
    protected = fail(lab, "ransomware", bucket=locked, delete_recovery_points=False)["outcome"]
    assert protected["overwritten"] == 3 and protected["versions_deleted"] == 0
    assert sum(protected["versions_refused"].values()) == 3
    exposed = fail(lab, "ransomware", bucket=plain, delete_recovery_points=False)["outcome"]
    assert exposed["overwritten"] == 3 and exposed["versions_deleted"] == 3
    for bucket, versions in ((locked, 2), (plain, 1)):
        found = s3.list_object_versions(Bucket=bucket, Prefix="invoice-0.json")["Versions"]
        assert len(found) == versions
        assert s3.get_object(Bucket=bucket, Key="invoice-0.json")["Body"].read().startswith(b"ENCRYPTED BY RANSOMWARE")


def test_ransomware_acts_with_a_leaked_key_from_an_address_cloudtrail_records(lab: SandboxHandle) -> None:
    """Lab 08's investigation (who, when, from which address): the attacker's calls are the leaked key's, from
    outside, not the sandbox's own ("AWS Internal")."""
    import json

    s3 = aws(lab, "s3")
    bucket = f"target-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="invoice.json", Body=b"{}")
    fail(lab, "ransomware", bucket=bucket, delete_versions=False)
    trail = aws(lab, "cloudtrail")
    for name in ("ListBackupVaults",):  # (its S3 writes are data events, which LookupEvents leaves out)
        events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])[
            "Events"]
        attacks = [json.loads(e["CloudTrailEvent"]) for e in events
                   if json.loads(e["CloudTrailEvent"]).get("sourceIPAddress") == "203.0.113.77"]
        assert attacks, f"no {name} from the attacker's address among {len(events)} events"
        identity = attacks[0]["userIdentity"]
        assert identity["type"] != "AWSService" and identity.get("accessKeyId"), identity


def test_a_bad_deploy_strikes_at_its_time(lab: SandboxHandle) -> None:
    rows_before = sql(lab, "SELECT order_id FROM orders")
    injection = fail(lab, "bad-deploy", at="10m", count=3)
    assert injection["status"] == "scheduled"
    advance(lab, "9m")
    assert {row[0] for row in rows_before} <= {row[0] for row in sql(lab, "SELECT order_id FROM orders")}
    assert fault_events(lab, injection["id"]) == ["FaultScheduled"]
    newest_at_t = sql(lab, "SELECT max(id) FROM orders")[0][0]
    advance(lab, "1m30s")
    body = http(lab, "GET", "/_lab/faults?all=1")[1]
    done = next(i for i in body["injections"] if i["id"] == injection["id"])
    assert done["status"] == "ended" and done["outcome"]["count"] == 3
    struck = done["outcome"]["orders"]
    assert struck[-1] in {f"ORD-{n:06d}" for n in range(newest_at_t - 1, newest_at_t + 2)}
    left = {row[0] for row in sql(lab, "SELECT order_id FROM orders")}
    assert not set(struck) & left
    assert fault_events(lab, injection["id"]) == ["FaultScheduled", "FaultInjected", "FaultEnded"]


def test_replication_pause_holds_then_releases(lab: SandboxHandle) -> None:
    injection = fail(lab, "replication-pause", services="s3", duration="20m")
    assert http(lab, "GET", "/_lab/faults")[1]["replication_paused"] == ["s3:*"]
    assert http(lab, "GET", "/_lab/s3/replication")[1] is not None
    advance(lab, "21m")
    assert http(lab, "GET", "/_lab/faults")[1]["replication_paused"] == []
    assert fault_events(lab, injection["id"]) == ["FaultInjected", "FaultEnded"]


def test_lab_recover_ends_everything(lab: SandboxHandle) -> None:
    first = fail(lab, "region-outage", region="us-west-2")
    second = fail(lab, "replication-pause")
    http(lab, "POST", "/_lab/faults", {"service": "sts"})
    status, body = http(lab, "POST", "/_lab/recover")
    assert status == 200 and set(body["injections_ended"]) == {first["id"], second["id"]}
    assert len(body["rules_removed"]) == 1
    listing = http(lab, "GET", "/_lab/faults")[1]
    assert listing["injections"] == [] and listing["regions_down"] == [] and listing["rules"] == []
    aws(lab, "s3", "us-west-2").list_buckets()
    result = lab.lab("faults")
    assert result.stdout.strip() == "no faults are active"


def test_the_lab_command_injects_lists_and_recovers(lab: SandboxHandle) -> None:
    out = lab.lab("fail", "region-outage", "--param", "region=us-west-2", "--param", "duration=1h").stdout
    assert "region-outage: active" in out
    assert "regions down: us-west-2" in lab.lab("faults").stdout
    assert "ended 1 injection(s)" in lab.lab("recover").stdout
    bad = lab.lab("fail", "region-outage", "--param", "region", check=False)
    assert bad.returncode != 0 and "NAME=VALUE" in bad.stderr
    # --region is the region parameter, as a learner first writes it
    out = lab.lab("fail", "region-outage", "--region", "us-west-2", "-p", "duration=1h").stdout
    assert "region-outage: active" in out and "region: us-west-2" in out
    assert "regions down: us-west-2" in lab.lab("faults").stdout
    lab.lab("recover")
    clash = lab.lab("fail", "region-outage", "--region", "us-west-2", "-p", "region=us-east-1", check=False)
    assert clash.returncode != 0 and "disagree" in clash.stderr
    assert "ended" not in lab.lab("faults").stdout and "regions down" not in lab.lab("faults").stdout
