"""DynamoDB point-in-time recovery and global tables against a running sandbox (tables of the tests' own,
uniquely named); the world table's story with the workload, and AWS Backup's contract, in-process."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from lab.services.dynamodb.engine import DynamoDB
from tests.integration._data_plane import admin, advance, aws_cli, epoch_of, in_process, moment, sim_now, unique

WORLD_TABLE = "securecart-order-history"


def create_table(dynamodb: Any, name: str, **extra: Any) -> None:
    params = {"TableName": name, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                               {"AttributeName": "sk", "KeyType": "RANGE"}],
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                       {"AttributeName": "sk", "AttributeType": "N"}],
              "BillingMode": "PAY_PER_REQUEST", **extra}
    dynamodb.create_table(**params)


def item(pk: str, sk: int, value: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, "value": {"S": value}}


def contents(dynamodb: Any, table: str) -> dict[tuple[str, str], str]:
    items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {(i["pk"]["S"], i["sk"]["N"]): i.get("value", {}).get("S", "") for i in items}


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def enable_pitr(dynamodb: Any, table: str, **extra: Any) -> dict[str, Any]:
    return dynamodb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True, **extra})["ContinuousBackupsDescription"]


# -- point-in-time recovery --------------------------------------------------------------------------------

def test_restore_is_refused_without_pitr_and_for_unknown_or_existing_tables(sandbox):
    dynamodb = sandbox.client("dynamodb")
    table = unique("nopitr")
    create_table(dynamodb, table)
    with pytest.raises(ClientError) as refused:
        dynamodb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=unique("never"),
                                                UseLatestRestorableTime=True)
    assert error_code(refused) == "PointInTimeRecoveryUnavailableException"
    with pytest.raises(ClientError) as refused:
        dynamodb.restore_table_to_point_in_time(SourceTableName=unique("missing"), TargetTableName=unique("never"),
                                                UseLatestRestorableTime=True)
    assert error_code(refused) == "TableNotFoundException"
    enable_pitr(dynamodb, table)
    with pytest.raises(ClientError) as refused:
        dynamodb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=table,
                                                UseLatestRestorableTime=True)
    assert error_code(refused) == "TableAlreadyExistsException"
    with pytest.raises(ClientError) as refused:
        enable_pitr(dynamodb, table, RecoveryPeriodInDays=40)
    assert error_code(refused) == "ValidationException"


def test_restore_returns_exactly_the_items_of_that_moment(sandbox):
    dynamodb = sandbox.client("dynamodb")
    table = unique("pitr")
    create_table(dynamodb, table)
    described = enable_pitr(dynamodb, table, RecoveryPeriodInDays=7)["PointInTimeRecoveryDescription"]
    assert described["PointInTimeRecoveryStatus"] == "ENABLED" and described["RecoveryPeriodInDays"] == 7
    enabled = sim_now(sandbox)
    dynamodb.put_item(TableName=table, Item=item("a", 1, "one"))
    dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item("a", 2, "two")}},
                                                    {"PutRequest": {"Item": item("b", 1, "three")}}]})
    advance(sandbox, "1m")
    first = sim_now(sandbox)
    advance(sandbox, "1m")
    dynamodb.update_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                         UpdateExpression="SET #v = :v", ExpressionAttributeNames={"#v": "value"},
                         ExpressionAttributeValues={":v": {"S": "one-updated"}})
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "2"}})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": item("c", 1, "four")}},
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "b"}, "sk": {"N": "1"}}}}])
    dynamodb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'd', 'sk': 1, 'value': 'five'}}")
    advance(sandbox, "6m")

    window = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    assert abs(window["EarliestRestorableDateTime"].timestamp() - enabled) < 5
    assert 290 <= sim_now(sandbox) - window["LatestRestorableDateTime"].timestamp() <= 400

    early = unique("early")
    restored = dynamodb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=early,
                                                       RestoreDateTime=moment(first))["TableDescription"]
    assert restored["RestoreSummary"]["SourceTableArn"].endswith(f"table/{table}")
    assert abs(restored["RestoreSummary"]["RestoreDateTime"].timestamp() - first) < 1
    latest = unique("latest")
    dynamodb.restore_table_to_point_in_time(SourceTableArn=restored["RestoreSummary"]["SourceTableArn"],
                                            TargetTableName=latest, UseLatestRestorableTime=True)
    advance(sandbox, "15m")  # a small table's restore takes about ten minutes
    assert contents(dynamodb, early) == {("a", "1"): "one", ("a", "2"): "two", ("b", "1"): "three"}
    assert contents(dynamodb, latest) == {("a", "1"): "one-updated", ("c", "1"): "four", ("d", "1"): "five"}
    assert dynamodb.describe_table(TableName=latest)["Table"]["KeySchema"][1]["AttributeName"] == "sk"

    for when in (enabled - 60, sim_now(sandbox) - 30):
        with pytest.raises(ClientError) as refused:
            dynamodb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=unique("never"),
                                                    RestoreDateTime=moment(when))
        assert error_code(refused) == "InvalidRestoreTimeException"
    dynamodb.update_continuous_backups(TableName=table,
                                       PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    with pytest.raises(ClientError) as refused:
        dynamodb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=unique("never"),
                                                UseLatestRestorableTime=True)
    assert error_code(refused) == "PointInTimeRecoveryUnavailableException"


def test_binary_attributes_written_by_any_call_come_back_from_a_restore(sandbox):
    """The engine journals what it reads from the codec's decoded calls (binary values as bytes): B, BS and
    binary nested in a map or list come back byte for byte from a point-in-time restore."""
    dynamodb = sandbox.client("dynamodb")
    table = unique("binary")
    create_table(dynamodb, table)
    enable_pitr(dynamodb, table)
    blob = bytes(range(256))
    first = {**item("bin", 1, "put"), "blob": {"B": blob}, "set": {"BS": [b"\x00", b"\xff\xfe"]},
             "nested": {"M": {"inner": {"L": [{"B": b"\x01\x02"}]}}}}
    dynamodb.put_item(TableName=table, Item=first)
    second = {**item("bin", 2, "batch"), "blob": {"B": blob[::-1]}}
    dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": second}}]})
    advance(sandbox, "6m")
    restored = unique("binary-restored")
    dynamodb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=restored,
                                            UseLatestRestorableTime=True)
    advance(sandbox, "15m")
    items = {i["sk"]["N"]: i for i in dynamodb.scan(TableName=restored)["Items"]}
    assert items["1"]["blob"] == {"B": blob} and sorted(items["1"]["set"]["BS"]) == [b"\x00", b"\xff\xfe"]
    assert items["1"]["nested"] == {"M": {"inner": {"L": [{"B": b"\x01\x02"}]}}}
    assert items["2"]["blob"] == {"B": blob[::-1]}


def test_the_aws_cli_restores_to_a_point_in_time(sandbox):
    dynamodb = sandbox.client("dynamodb")
    table = unique("cli")
    create_table(dynamodb, table)
    enable_pitr(dynamodb, table)
    dynamodb.put_item(TableName=table, Item=item("x", 1, "kept"))
    advance(sandbox, "6m")
    shown = aws_cli(sandbox, "us-east-1", "dynamodb", "describe-continuous-backups", "--table-name", table)
    pitr = shown["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    target = unique("cli-restored")
    started = aws_cli(sandbox, "us-east-1", "dynamodb", "restore-table-to-point-in-time", "--source-table-name",
                      table, "--target-table-name", target, "--use-latest-restorable-time")["TableDescription"]
    assert started["TableStatus"] == "CREATING" and started["RestoreSummary"]["RestoreInProgress"] is True
    advance(sandbox, "15m")
    assert contents(dynamodb, target) == {("x", "1"): "kept"}


# -- restores and backups take time ------------------------------------------------------------------------

def test_a_backup_is_creating_then_available_and_a_restore_is_creating_until_its_items_arrive(sandbox):
    """API Reference, CreateBackup: "become available for restore within minutes" (BackupStatus CREATING, then
    AVAILABLE; BackupInUseException while it is made). DynamoDB Developer Guide, Restoring a table: the table is
    CREATING with RestoreInProgress true, "You can write to the restored table only after it becomes active";
    API Reference: ResourceNotFoundException ("its status might not be ACTIVE"), ResourceInUseException ("You
    tried to delete a table currently in the CREATING state")."""
    dynamodb = sandbox.client("dynamodb")
    table = unique("backed")
    create_table(dynamodb, table)
    dynamodb.put_item(TableName=table, Item=item("a", 1, "kept"))
    backup = dynamodb.create_backup(TableName=table, BackupName=unique("bk"))["BackupDetails"]
    assert backup["BackupStatus"] == "CREATING" and backup["BackupSizeBytes"] > 0
    target = unique("from-backup")
    for refused_call in (lambda: dynamodb.restore_table_from_backup(TargetTableName=target,
                                                                    BackupArn=backup["BackupArn"]),
                         lambda: dynamodb.delete_backup(BackupArn=backup["BackupArn"]),
                         lambda: dynamodb.create_backup(TableName=table, BackupName=unique("bk"))):
        with pytest.raises(ClientError) as refused:
            refused_call()
        assert error_code(refused) == "BackupInUseException"
    advance(sandbox, "1m")
    assert dynamodb.describe_backup(BackupArn=backup["BackupArn"])["BackupDescription"]["BackupDetails"][
        "BackupStatus"] == "AVAILABLE"
    listed = dynamodb.list_backups(TableName=table)["BackupSummaries"]
    assert [b["BackupStatus"] for b in listed] == ["AVAILABLE"]

    shown = dynamodb.restore_table_from_backup(TargetTableName=target, BackupArn=backup["BackupArn"])[
        "TableDescription"]
    assert shown["TableStatus"] == "CREATING"
    assert shown["RestoreSummary"]["RestoreInProgress"] is True
    assert shown["RestoreSummary"]["SourceBackupArn"] == backup["BackupArn"]
    for item_call in (lambda: dynamodb.put_item(TableName=target, Item=item("b", 1, "too early")),
                      lambda: dynamodb.get_item(TableName=target, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}),
                      lambda: dynamodb.scan(TableName=target)):
        with pytest.raises(ClientError) as refused:
            item_call()
        assert error_code(refused) == "ResourceNotFoundException"
        assert refused.value.response["Error"]["Message"] == "Requested resource not found"
    with pytest.raises(ClientError) as refused:
        dynamodb.delete_table(TableName=target)
    assert error_code(refused) == "ResourceInUseException"
    assert refused.value.response["Error"]["Message"] == (
        f"Attempt to change a resource which is still in use: Table is being created: {target}")
    with pytest.raises(ClientError) as refused:  # (a backup being restored is in use too)
        dynamodb.delete_backup(BackupArn=backup["BackupArn"])
    assert error_code(refused) == "BackupInUseException"
    waiter = dynamodb.get_waiter("table_exists")
    with pytest.raises(WaiterError):
        waiter.wait(TableName=target, WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    advance(sandbox, "11m")
    waiter.wait(TableName=target, WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    done = dynamodb.describe_table(TableName=target)["Table"]
    assert done["TableStatus"] == "ACTIVE" and done["RestoreSummary"]["RestoreInProgress"] is False
    assert contents(dynamodb, target) == {("a", "1"): "kept"}
    dynamodb.put_item(TableName=target, Item=item("b", 1, "after"))
    described = dynamodb.describe_backup(BackupArn=backup["BackupArn"])["BackupDescription"]
    assert described["SourceTableDetails"]["BillingMode"] == "PAY_PER_REQUEST"
    deleted = dynamodb.delete_backup(BackupArn=backup["BackupArn"])["BackupDescription"]
    assert deleted["SourceTableDetails"]["TableSizeBytes"] == described["SourceTableDetails"]["TableSizeBytes"] > 0


def test_restores_take_longer_for_more_indexes(sandbox):
    """DynamoDB Developer Guide, Backup and restore: "restore times are directly related to the configuration of
    your tables (such as the size of your tables and the number of underlying partitions)"; excluding secondary
    indexes makes restores faster."""
    dynamodb = sandbox.client("dynamodb")
    indexes = [{"IndexName": f"by-value-{n}", "KeySchema": [{"AttributeName": "sk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}} for n in (1, 2)]
    plain, indexed = unique("plain"), unique("indexed")
    create_table(dynamodb, plain)
    create_table(dynamodb, indexed, GlobalSecondaryIndexes=indexes)
    for table in (plain, indexed):
        dynamodb.put_item(TableName=table, Item=item("a", 1, "x"))
    advance(sandbox, "1m")
    backups = {t: dynamodb.create_backup(TableName=t, BackupName=unique("bk"))["BackupDetails"]["BackupArn"]
               for t in (plain, indexed)}
    advance(sandbox, "1m")
    restored = {t: unique(f"{t}-r") for t in (plain, indexed)}
    for table, arn in backups.items():
        dynamodb.restore_table_from_backup(TargetTableName=restored[table], BackupArn=arn)
    advance(sandbox, "11m")  # a small table's restore: about ten minutes; three more per index
    assert dynamodb.describe_table(TableName=restored[plain])["Table"]["TableStatus"] == "ACTIVE"
    assert dynamodb.describe_table(TableName=restored[indexed])["Table"]["TableStatus"] == "CREATING"
    advance(sandbox, "6m")
    assert dynamodb.describe_table(TableName=restored[indexed])["Table"]["TableStatus"] == "ACTIVE"


def test_a_restore_can_leave_out_every_index_and_a_deleted_table_answers_deleting(sandbox):
    """DynamoDB API Reference, RestoreTableToPointInTime GlobalSecondaryIndexOverride: "You can choose to exclude
    some or all of the indexes at the time of restore"; DeleteTable answers the table `DELETING`."""
    dynamodb = sandbox.client("dynamodb")
    table = unique("gsi")
    create_table(dynamodb, table, GlobalSecondaryIndexes=[{
        "IndexName": "by-value", "KeySchema": [{"AttributeName": "value", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}], AttributeDefinitions=[
        {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
        {"AttributeName": "value", "AttributeType": "S"}])
    enable_pitr(dynamodb, table)
    dynamodb.put_item(TableName=table, Item=item("a", 1, "x"))
    advance(sandbox, "6m")
    bare = unique("gsi-bare")
    restored = dynamodb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=bare,
                                                       UseLatestRestorableTime=True, GlobalSecondaryIndexOverride=[])
    assert not restored["TableDescription"].get("GlobalSecondaryIndexes")
    advance(sandbox, "15m")
    shown = dynamodb.describe_table(TableName=bare)["Table"]
    assert shown["TableStatus"] == "ACTIVE" and not shown.get("GlobalSecondaryIndexes")
    assert contents(dynamodb, bare) == {("a", "1"): "x"}
    assert dynamodb.delete_table(TableName=bare)["TableDescription"]["TableStatus"] == "DELETING"
    backup = dynamodb.create_backup(TableName=table, BackupName=unique("bk"))["BackupDetails"]["BackupArn"]
    features = dynamodb.describe_backup(BackupArn=backup)["BackupDescription"]["SourceTableFeatureDetails"]
    assert [index["IndexName"] for index in features["GlobalSecondaryIndexes"]] == ["by-value"]


def test_a_boto3_waiter_sees_a_restored_table_active_while_the_clock_runs_fast(sandbox):
    """botocore's TableExists waiter polls on wall-clock time (20 s x 25): run fast, a ten-minute restore
    finishes within a one-second waiter's attempts."""
    dynamodb = sandbox.client("dynamodb")
    table = unique("fast")
    create_table(dynamodb, table)
    enable_pitr(dynamodb, table)
    advance(sandbox, "6m")
    target = unique("fast-restored")
    dynamodb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=target,
                                            UseLatestRestorableTime=True)
    clock = admin(sandbox).get("clock")
    admin(sandbox).post("clock", {"action": "speed", "factor": 600})
    admin(sandbox).post("clock", {"action": "resume"})
    try:
        dynamodb.get_waiter("table_exists").wait(TableName=target, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    finally:
        admin(sandbox).post("clock", {"action": "speed", "factor": clock["speed"]})
        if clock["paused"]:
            admin(sandbox).post("clock", {"action": "pause"})
    assert dynamodb.describe_table(TableName=target)["Table"]["TableStatus"] == "ACTIVE"


def test_the_aws_cli_restores_from_a_backup_and_waits_for_the_table(sandbox):
    dynamodb = sandbox.client("dynamodb")
    table = unique("cli-backed")
    create_table(dynamodb, table)
    dynamodb.put_item(TableName=table, Item=item("c", 1, "from the cli"))
    created = aws_cli(sandbox, "us-east-1", "dynamodb", "create-backup", "--table-name", table, "--backup-name",
                      unique("cli"))["BackupDetails"]
    assert created["BackupStatus"] == "CREATING"
    advance(sandbox, "1m")
    target = unique("cli-from-backup")
    shown = aws_cli(sandbox, "us-east-1", "dynamodb", "restore-table-from-backup", "--target-table-name", target,
                    "--backup-arn", created["BackupArn"])["TableDescription"]
    assert shown["TableStatus"] == "CREATING" and shown["RestoreSummary"]["RestoreInProgress"] is True
    advance(sandbox, "11m")
    aws_cli(sandbox, "us-east-1", "dynamodb", "wait", "table-exists", "--table-name", target)
    assert contents(dynamodb, target) == {("c", "1"): "from the cli"}


# -- global tables -----------------------------------------------------------------------------------------

def test_a_replica_is_created_shown_and_replicates_both_ways(sandbox):
    east, west = sandbox.client("dynamodb"), sandbox.client("dynamodb", "us-west-2")
    table = unique("global")
    create_table(east, table)
    east.put_item(TableName=table, Item=item("before", 1, "copied at creation"))
    updated = east.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    shown = updated["TableDescription"]
    assert shown["GlobalTableVersion"] == "2019.11.21" and shown["TableStatus"] == "UPDATING"
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in shown["Replicas"]] == [("us-west-2", "CREATING")]
    assert shown["Replicas"][0]["ReplicaStatusPercentProgress"] == "0"
    stream = west.describe_table(TableName=table)["Table"]["StreamSpecification"]
    assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    # API Reference, ReplicaDescription: CREATING with ReplicaStatusPercentProgress; the replica is CREATING
    # in its Region and takes no reads or writes until ACTIVE
    advance(sandbox, "2m")
    replica = east.describe_table(TableName=table)["Table"]["Replicas"][0]
    assert replica["ReplicaStatus"] == "CREATING" and 0 < int(replica["ReplicaStatusPercentProgress"]) < 100
    assert west.describe_table(TableName=table)["Table"]["TableStatus"] == "CREATING"
    with pytest.raises(ClientError) as refused:
        west.put_item(TableName=table, Item=item("early", 1, "refused"))
    assert error_code(refused) == "ResourceNotFoundException"
    advance(sandbox, "4m")
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in
            east.describe_table(TableName=table)["Table"]["Replicas"]] == [("us-west-2", "ACTIVE")]
    assert [r["RegionName"] for r in west.describe_table(TableName=table)["Table"]["Replicas"]] == ["us-east-1"]
    assert contents(west, table) == {("before", "1"): "copied at creation"}

    east.put_item(TableName=table, Item=item("e", 1, "from east"))
    west.put_item(TableName=table, Item=item("w", 1, "from west"))
    west.delete_item(TableName=table, Key={"pk": {"S": "before"}, "sk": {"N": "1"}})
    advance(sandbox, "2s")
    expected = {("e", "1"): "from east", ("w", "1"): "from west"}
    assert contents(east, table) == expected and contents(west, table) == expected

    with pytest.raises(ClientError) as refused:
        east.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    assert error_code(refused) == "ValidationException" and "already existed" in str(refused.value)
    east.update_table(TableName=table, ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    advance(sandbox, "2m")
    assert table not in west.list_tables()["TableNames"]
    assert "Replicas" not in east.describe_table(TableName=table)["Table"]


def test_last_writer_wins_and_replication_pauses(sandbox):
    east, west = sandbox.client("dynamodb"), sandbox.client("dynamodb", "us-west-2")
    table = unique("lww")
    create_table(east, table)
    east.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    advance(sandbox, "6m")  # the replica is ACTIVE
    west.put_item(TableName=table, Item=item("k", 1, "older, from west"))
    east.put_item(TableName=table, Item=item("k", 1, "newer, from east"))  # later in sim time: it wins
    advance(sandbox, "2s")
    assert contents(east, table) == contents(west, table) == {("k", "1"): "newer, from east"}

    paused = admin(sandbox).post("dynamodb/replication", {"action": "pause", "table": table})
    assert table in paused["paused"]
    east.put_item(TableName=table, Item=item("p", 1, "while paused"))
    advance(sandbox, "1m")
    assert ("p", "1") not in contents(west, table)
    admin(sandbox).post("dynamodb/replication", {"action": "resume", "table": table})
    advance(sandbox, "2s")
    assert contents(west, table)[("p", "1")] == "while paused"
    with pytest.raises(Exception, match="unknown action"):
        admin(sandbox).post("dynamodb/replication", {"action": "stop"})


def test_replica_updates_are_refused_as_aws_refuses_them(sandbox):
    east = sandbox.client("dynamodb")
    provisioned = unique("provisioned")
    create_table(east, provisioned, BillingMode="PROVISIONED",
                 ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    with pytest.raises(ClientError) as refused:
        east.update_table(TableName=provisioned, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    assert "Pay-Per-Request or AutoScaled" in str(refused.value)
    table = unique("refused")
    create_table(east, table)
    for update, expected in (({"Create": {"RegionName": "us-east-1"}}, "already existed"),
                             ({"Create": {"RegionName": "eu-west-1"}}, "not available in this sandbox"),
                             ({"Delete": {"RegionName": "us-west-2"}}, "does not exist")):
        with pytest.raises(ClientError) as refused:
            east.update_table(TableName=table, ReplicaUpdates=[update])
        assert error_code(refused) == "ValidationException" and expected in str(refused.value)


# -- the world table and AWS Backup's contract (in-process) -------------------------------------------------

# -- exports to S3 -----------------------------------------------------------------------------------------

def test_an_export_writes_the_items_of_its_moment_to_s3_after_it_has_run(sandbox):
    """DynamoDB API Reference, ExportTableToPointInTime / DescribeExport / ListExports: S3Prefix and TableArn are
    optional, the export is IN_PROGRESS then COMPLETED with StartTime, EndTime, ExportTime, ExportManifest and
    ItemCount; Developer Guide, table export output format: `_started`, data files of `{"Item": ...}` lines and
    the manifests under <prefix>/AWSDynamoDB/<ExportId>/. Exports are refused without PITR and outside its window,
    and one to a bucket that does not exist FAILS."""
    dynamodb, s3 = sandbox.client("dynamodb"), sandbox.client("s3")
    table, bucket = unique("export"), unique("exports")
    s3.create_bucket(Bucket=bucket)
    create_table(dynamodb, table)
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    with pytest.raises(ClientError) as refused:
        dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)
    assert error_code(refused) == "PointInTimeRecoveryUnavailableException"
    enable_pitr(dynamodb, table)
    dynamodb.put_item(TableName=table, Item=item("a", 1, "one"))
    dynamodb.put_item(TableName=table, Item=item("b", 2, "two"))
    advance(sandbox, "2m")
    moment_asked = sim_now(sandbox)
    advance(sandbox, "1m")
    dynamodb.put_item(TableName=table, Item=item("c", 3, "after"))
    with pytest.raises(ClientError) as refused:
        dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportTime=moment(moment_asked - 3600))
    assert error_code(refused) == "InvalidExportTimeException"

    started = dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket,
                                                     ExportTime=moment(moment_asked))["ExportDescription"]
    export_arn = started["ExportArn"]
    assert started["ExportStatus"] == "IN_PROGRESS" and "EndTime" not in started and "S3Prefix" not in started
    assert export_arn.startswith(f"{arn}/export/") and started["ExportFormat"] == "DYNAMODB_JSON"
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", started["ClientToken"])  # DynamoDB's own
    export_id = export_arn.rsplit("/", 1)[1]
    assert started["ExportManifest"] == f"AWSDynamoDB/{export_id}/manifest-summary.json"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert keys == {f"AWSDynamoDB/{export_id}/_started"}
    listed = dynamodb.list_exports()["ExportSummaries"]
    assert {"ExportArn": export_arn, "ExportStatus": "IN_PROGRESS", "ExportType": "FULL_EXPORT"} in listed
    assert dynamodb.list_exports(TableArn=arn)["ExportSummaries"] == [
        {"ExportArn": export_arn, "ExportStatus": "IN_PROGRESS", "ExportType": "FULL_EXPORT"}]

    advance(sandbox, "10m")
    done = dynamodb.describe_export(ExportArn=export_arn)["ExportDescription"]
    assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 2
    assert done["StartTime"] < done["EndTime"] and abs(done["ExportTime"].timestamp() - moment_asked) < 1
    summary = json.loads(s3.get_object(Bucket=bucket, Key=done["ExportManifest"])["Body"].read())
    assert summary["exportArn"] == export_arn and summary["itemCount"] == 2
    files = [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])[
        "Body"].read().splitlines()]
    data = gzip.decompress(s3.get_object(Bucket=bucket, Key=files[0]["dataFileS3Key"])["Body"].read())
    exported = sorted((line["Item"]["pk"]["S"], line["Item"]["value"]["S"])
                      for line in map(json.loads, data.splitlines()))
    assert exported == [("a", "one"), ("b", "two")]

    prefixed = dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="nightly",
                                                      ClientToken="nightly-1")["ExportDescription"]
    again = dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="nightly",
                                                   ClientToken="nightly-1")["ExportDescription"]
    assert again["ExportArn"] == prefixed["ExportArn"] and prefixed["ExportManifest"].startswith("nightly/AWSDynamoDB/")
    with pytest.raises(ClientError) as refused:
        dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="other",
                                               ClientToken="nightly-1")
    assert error_code(refused) == "ExportConflictException"
    nowhere = dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=unique("missing"))["ExportDescription"]
    assert nowhere["ExportStatus"] == "IN_PROGRESS"
    advance(sandbox, "10m")
    failed = dynamodb.describe_export(ExportArn=nowhere["ExportArn"])["ExportDescription"]
    assert failed["ExportStatus"] == "FAILED" and failed["FailureCode"] == "S3NoSuchBucket"
    with pytest.raises(ClientError) as refused:
        dynamodb.describe_export(ExportArn=f"{arn}/export/01234567890123-abcdef12")
    assert error_code(refused) == "ExportNotFoundException"
    shown = aws_cli(sandbox, "us-east-1", "dynamodb", "describe-export", "--export-arn", export_arn)
    assert shown["ExportDescription"]["ExportStatus"] == "COMPLETED"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, user_home: Any) -> Iterator[Any]:
    yield from in_process(tmp_path_factory.mktemp("dynamodb-world") / "state", user_home / ".cache")


def test_the_workloads_direct_writes_are_journaled_for_pitr(world):
    dynamodb = world.client("dynamodb")
    enable_pitr(dynamodb, WORLD_TABLE)
    world.advance("2h")
    orders = world.sandbox.lab.orders
    halfway = epoch_of(orders[-60]["created_at"]) + 30  # between two orders
    dynamodb.restore_table_to_point_in_time(SourceTableName=WORLD_TABLE, TargetTableName="orders-halfway",
                                            RestoreDateTime=moment(halfway))
    placed = len(orders)
    world.advance("15m")  # the restore runs; the shop goes on placing orders
    restored = {i["order_id"]["S"] for i in dynamodb.scan(TableName="orders-halfway")["Items"]}
    assert restored == {o["order_id"] for o in orders if epoch_of(o["created_at"]) <= halfway}
    assert len(restored) == placed - 60 + 1 >= 48 + 60


def test_aws_backup_contract_restores_exactly_the_recovery_point(world):
    engine = world.sandbox.engines.find(DynamoDB)
    dynamodb = world.client("dynamodb")
    arn = dynamodb.describe_table(TableName=WORLD_TABLE)["Table"]["TableArn"]
    assert engine.backup_resource_types() == {"DynamoDB"}
    with world.sandbox.lock:
        point = engine.backup_resource(arn)
        expected = {o["order_id"] for o in world.sandbox.lab.orders}
    world.advance("10m")
    with world.sandbox.lock:
        new_arn = engine.restore_resource(point, {"TargetTableName": "history-from-backup"}, "us-west-2")
    assert new_arn == "arn:aws:dynamodb:us-west-2:000000000000:table/history-from-backup"
    west = world.client("dynamodb", "us-west-2")
    assert west.describe_table(TableName="history-from-backup")["Table"]["TableStatus"] == "CREATING"
    world.advance("15m")
    assert {i["order_id"]["S"] for i in west.scan(TableName="history-from-backup")["Items"]} == expected
    assert west.describe_table(TableName="history-from-backup")["Table"]["BillingModeSummary"][
        "BillingMode"] == "PAY_PER_REQUEST"
    with pytest.raises(ValueError, match="targetTableName"):
        engine.restore_resource(point, {}, "us-east-1")


def test_item_count_and_table_size_are_updated_every_six_hours(sandbox):
    """API Reference, TableDescription: ItemCount and TableSizeBytes -- "DynamoDB updates this value
    approximately every six hours. Recent changes might not be reflected" (moto counted live and sized 0)."""
    dynamodb = sandbox.client("dynamodb")
    table = unique("counted")
    create_table(dynamodb, table)
    for sk in range(3):
        dynamodb.put_item(TableName=table, Item=item("a", sk, "x" * 100))

    def figures() -> tuple[int, int]:
        shown = dynamodb.describe_table(TableName=table)["Table"]
        return shown["ItemCount"], shown["TableSizeBytes"]

    assert figures() == (0, 0)  # as of the table's creation, minutes ago
    advance(sandbox, "6h")
    count, size = figures()
    assert count == 3 and size > 300
    dynamodb.put_item(TableName=table, Item=item("a", 9, "y"))
    assert figures() == (count, size)
    advance(sandbox, "6h")
    assert figures()[0] == 4
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 4  # (what is there now: a Scan counts)


def test_a_second_stream_is_refused_as_dynamodb_refuses_it(sandbox):
    """DynamoDB: enabling a stream on a table that has one is ValidationException "Table already has an enabled
    stream" (the backend answered ResourceInUseException "Cannot enable stream")."""
    dynamodb = sandbox.client("dynamodb")
    table = unique("streamed")
    create_table(dynamodb, table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    with pytest.raises(ClientError) as refused:
        dynamodb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True,
                                                                    "StreamViewType": "NEW_AND_OLD_IMAGES"})
    assert error_code(refused) == "ValidationException"
    assert refused.value.response["Error"]["Message"] == f"Table already has an enabled stream: TableName: {table}"
    dynamodb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
