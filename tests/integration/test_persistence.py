"""Nothing is lost: state survives `lab down`/`lab up` and `kill -9`; damaged files are set aside, loudly."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from lab.admin_client import AdminClient
from tests.conftest import wait_for
from tests.integration._lambda import echo_package, lambda_role


def make_some_state(sb):
    s3 = sb.client("s3")
    s3.create_bucket(Bucket="keep-me")
    s3.put_bucket_versioning(Bucket="keep-me", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="keep-me", Key="a/b.txt", Body=b"version one")["VersionId"]
    second = s3.put_object(Bucket="keep-me", Key="a/b.txt", Body=b"version two" * 1000)["VersionId"]
    dynamodb = sb.client("dynamodb")
    dynamodb.put_item(TableName="securecart-order-history",
                      Item={"order_id": {"S": "ORD-999999"}, "customer": {"S": "zoe"}, "amount": {"N": "1.50"}})
    rds = sb.client("rds")
    snapshot = rds.create_db_snapshot(DBInstanceIdentifier="securecart-orders-db",
                                      DBSnapshotIdentifier="before-the-storm")["DBSnapshot"]
    volume = sb.client("ec2", "us-west-2").create_volume(AvailabilityZone="us-west-2a", Size=5)["VolumeId"]
    key = sb.client("kms").create_key(Description="vault key")["KeyMetadata"]["Arn"]  # holds a private key
    sb.client("backup").create_backup_vault(BackupVaultName="keep-vault", EncryptionKeyArn=key)
    return {"versions": (first, second), "snapshot_arn": snapshot["DBSnapshotArn"], "volume": volume, "key": key}


def assert_state_is_back(sb, made):
    s3 = sb.client("s3")
    first, second = made["versions"]
    assert s3.get_object(Bucket="keep-me", Key="a/b.txt", VersionId=first)["Body"].read() == b"version one"
    assert s3.get_object(Bucket="keep-me", Key="a/b.txt")["Body"].read() == b"version two" * 1000
    versions = s3.list_object_versions(Bucket="keep-me")["Versions"]
    assert {v["VersionId"] for v in versions} == {first, second}
    item = sb.client("dynamodb").get_item(TableName="securecart-order-history",
                                          Key={"order_id": {"S": "ORD-999999"}})["Item"]
    assert item["customer"]["S"] == "zoe"
    snaps = sb.client("rds").describe_db_snapshots(DBSnapshotIdentifier="before-the-storm")["DBSnapshots"]
    assert snaps[0]["DBSnapshotArn"] == made["snapshot_arn"]
    volumes = sb.client("ec2", "us-west-2").describe_volumes(VolumeIds=[made["volume"]])["Volumes"]
    assert volumes[0]["Size"] == 5
    assert sb.client("kms").describe_key(KeyId=made["key"])["KeyMetadata"]["Description"] == "vault key"
    vault = sb.client("backup").describe_backup_vault(BackupVaultName="keep-vault")
    assert vault["EncryptionKeyArn"] == made["key"]


def test_down_up_keeps_everything(fresh_sandbox):
    fresh_sandbox.up()
    made = make_some_state(fresh_sandbox)
    fresh_sandbox.lab("down")
    fresh_sandbox.up()
    assert_state_is_back(fresh_sandbox, made)
    assert fresh_sandbox.status()["resources"]["orders"]["rds_rows"] >= 48


def test_a_restored_world_is_listed_once_by_the_tagging_api(fresh_sandbox):
    """Issue 15: after `lab down` / `lab up`, GetResources named every bucket and snapshot twice (the restored
    moto services were listed both in the live registry and in the stand-in they were unpickled into)."""
    fresh_sandbox.up()
    fresh_sandbox.client("rds").create_db_snapshot(DBInstanceIdentifier="securecart-orders-db",
                                                   DBSnapshotIdentifier="before-restart")
    fresh_sandbox.lab("down")
    fresh_sandbox.up()
    for region in ("us-east-1", "us-west-2"):
        tagging = fresh_sandbox.client("resourcegroupstaggingapi", region)
        arns = [item["ResourceARN"] for page in tagging.get_paginator("get_resources").paginate()
                for item in page["ResourceTagMappingList"]]
        assert arns and len(arns) == len(set(arns)), sorted(arn for arn in set(arns) if arns.count(arn) > 1)


def test_kill_9_loses_nothing_answered(fresh_sandbox):
    fresh_sandbox.up()
    made = make_some_state(fresh_sandbox)
    pid = fresh_sandbox.pid()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z")
    fresh_sandbox.up()
    assert_state_is_back(fresh_sandbox, made)
    # The ids a learner saw before the crash are the ids after it (the journal replays deterministically).
    s3 = fresh_sandbox.client("s3")
    third = s3.put_object(Bucket="keep-me", Key="after", Body=b"x")["VersionId"]
    assert third not in made["versions"]


def test_corrupt_snapshot_is_set_aside_with_a_message(fresh_sandbox):
    fresh_sandbox.up()
    fresh_sandbox.client("s3").create_bucket(Bucket="lost-with-the-snapshot")
    fresh_sandbox.lab("down")
    snapshot = fresh_sandbox.state_dir / "state" / "snapshot.bin"
    original = snapshot.read_bytes()
    damaged = original[:40] + b"\x00garbage\x00" + original[60:]
    snapshot.write_bytes(damaged)
    result = fresh_sandbox.up()
    assert "damaged" in result.stderr and "corrupt" in result.stderr
    kept = list((fresh_sandbox.state_dir / "state" / "corrupt").glob("snapshot-*.bin"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged  # kept exactly as found
    status = fresh_sandbox.status()
    assert status["warnings"] and "damaged" in status["warnings"][0]
    assert status["resources"]["us-east-1"]["s3_buckets"] == 3  # a fresh world


def test_torn_journal_tail_is_the_request_in_flight(fresh_sandbox):
    fresh_sandbox.up()
    pid = fresh_sandbox.pid()
    s3 = fresh_sandbox.client("s3")
    s3.create_bucket(Bucket="answered-before-crash")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z")
    journal = fresh_sandbox.state_dir / "state" / "journal.bin"
    with open(journal, "ab") as handle:
        handle.write(b"\x00\x00\x10\x00\x12\x34")  # half a record header, as a crash mid-write leaves it
    result = fresh_sandbox.up()
    assert "damaged" not in result.stderr
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert "answered-before-crash" in names


def test_second_fresh_world_comes_from_the_template_and_is_the_same(tmp_path, lab_env):
    from tests.conftest import SandboxHandle, free_port

    first = SandboxHandle(tmp_path / "one", free_port(), lab_env)
    second = SandboxHandle(tmp_path / "two", free_port(), lab_env)
    try:
        first.up()
        assert first.status()["world_source"] in ("seeded", "template")
        second.up()
        assert second.status()["world_source"] == "template"

        def world_ids(sb):
            ec2 = sb.client("ec2")
            volume = ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend-data"]}])
            db = sb.client("rds").describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0]
            return volume["Volumes"][0]["VolumeId"], db["DbiResourceId"]

        assert world_ids(first) == world_ids(second)
        # The copy is the second sandbox's own: a change there does not reach the first or the template.
        second.client("s3").create_bucket(Bucket="only-in-two")
        assert "only-in-two" not in {b["Name"] for b in first.client("s3").list_buckets()["Buckets"]}
    finally:
        first.down()
        second.down()


def test_lambda_ssm_and_ecr_state_survives_down_and_up(fresh_sandbox):
    """moto's Lambda, SSM and ECR backends held objects pickle cannot save (a WeakValueDictionary, lambdas as
    defaultdict factories, a lock): one function made every later snapshot fail, and each start replayed the
    whole journal."""
    fresh_sandbox.up()
    role = lambda_role(fresh_sandbox.client("iam"), "fn-role")
    awslambda = fresh_sandbox.client("lambda")
    awslambda.create_function(FunctionName="failover", Runtime="python3.12", Role=role, Handler="index.handler",
                              Code={"ZipFile": echo_package()})
    awslambda.create_alias(FunctionName="failover", Name="live", FunctionVersion="$LATEST")
    ssm = fresh_sandbox.client("ssm")
    ssm.put_parameter(Name="/securecart/dr-region", Value="us-west-2", Type="String")
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/securecart/dr-region",
                             Tags=[{"Key": "team", "Value": "dr"}])
    fresh_sandbox.client("ecr").create_repository(repositoryName="securecart-backend")
    saved = fresh_sandbox.lab("down")
    assert "could not be written" not in saved.stdout + saved.stderr, saved.stdout + saved.stderr
    fresh_sandbox.up()
    assert fresh_sandbox.client("lambda").get_alias(FunctionName="failover", Name="live")["Name"] == "live"
    assert ssm.get_parameter(Name="/securecart/dr-region")["Parameter"]["Value"] == "us-west-2"
    assert fresh_sandbox.client("ssm").list_tags_for_resource(ResourceType="Parameter",
                                                              ResourceId="/securecart/dr-region")["TagList"] == \
        [{"Key": "team", "Value": "dr"}]
    assert [r["repositoryName"] for r in fresh_sandbox.client("ecr").describe_repositories()["repositories"]] == \
        ["securecart-backend"]


def test_a_state_started_without_the_world_keeps_its_changes_when_started_again(fresh_sandbox):
    """`lab up --no-world`, some work, `lab down`, then `lab up` without the flag: the sandbox seeded the world
    over the replayed journal, and everything made before was lost."""
    fresh_sandbox.up("--no-world")
    fresh_sandbox.client("s3").create_bucket(Bucket="kept-without-the-world")
    fresh_sandbox.lab("down")
    started = fresh_sandbox.up()
    names = [bucket["Name"] for bucket in fresh_sandbox.client("s3").list_buckets()["Buckets"]]
    assert names == ["kept-without-the-world"]
    assert "without the SecureCart world" in started.stdout + started.stderr
    fresh_sandbox.lab("down")
    fresh_sandbox.up()
    assert [b["Name"] for b in fresh_sandbox.client("s3").list_buckets()["Buckets"]] == ["kept-without-the-world"]


def test_a_running_clock_resumes_where_lab_down_stopped_it(fresh_sandbox):
    """`lab down` keeps the journal when replaying it is quick: the next start resumed the sim clock at the last
    journaled change, up to a minute or more before the time `lab down` stopped it (sim time went backwards)."""
    fresh_sandbox.up()
    admin = AdminClient(fresh_sandbox.endpoint)
    admin.post("workload", {"enabled": False})  # (nothing falls due: no engine step is journaled meanwhile)
    time.sleep(3)
    before = admin.get("clock")["epoch"]
    fresh_sandbox.lab("down")
    fresh_sandbox.up()
    assert AdminClient(fresh_sandbox.endpoint).get("clock")["epoch"] >= before
