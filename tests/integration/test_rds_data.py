"""The RDS data plane against a running sandbox: real rows, backups, snapshots, restores, replicas, Multi-AZ.

The tests share one sandbox of this module's own (they change the world database and make instances in
both regions, which the session's shared sandbox must not see); AWS Backup's contract, a Python API, is
called on an in-process sandbox.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lab.errors import LabError
from lab.services.rds.engine import RdsData
from tests.conftest import SandboxHandle, free_port, wait_for
from tests.integration._data_plane import (
    admin,
    advance,
    aws_cli,
    epoch_of,
    ids_digest,
    in_process,
    moment,
    sim_now,
    sql,
    unique,
)
from tests.integration._rds import create_db, error_code, insert, order_ids, wait_available, wait_snapshot

WORLD_DB = "securecart-orders-db"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    handle = SandboxHandle(tmp_path_factory.mktemp("rds-data") / "state", free_port(), lab_env)
    handle.up()
    admin(handle).post("clock", {"action": "pause"})  # sim time moves only when a test moves it
    yield handle
    handle.down()


# -- instances of the tests' own ---------------------------------------------------------------------------

def test_the_world_database_holds_the_orders(db):
    counted = sql(db, WORLD_DB, "SELECT count(*), min(id) FROM orders")
    assert counted["columns"] == ["count(*)", "min(id)"]
    assert counted["rows"][0][0] >= 48 and counted["rows"][0][1] == 1
    digests = admin(db).get("rds/digests")["regions"]
    world = digests["us-east-1"][WORLD_DB]
    assert world["orders"] >= 48 and len(world["order_ids_sha256"]) == 64
    assert digests["us-west-2"] == {} or WORLD_DB not in digests["us-west-2"]


def test_lab_sql_command(db):
    shown = db.lab("sql", WORLD_DB, "SELECT order_id, customer FROM orders WHERE id = 1").stdout
    assert "ORD-000001" in shown and "(1 row)" in shown
    failed = db.lab("sql", "no-such-db", "SELECT 1", check=False)
    assert failed.returncode != 0 and "no DB instance 'no-such-db' in us-east-1" in failed.stderr
    bad = db.lab("sql", WORLD_DB, "SELEC nothing", check=False)
    assert bad.returncode != 0 and "syntax error" in bad.stderr


def test_the_sql_route_binds_parameters_to_placeholders(db):
    request = {"instance": WORLD_DB, "sql": "SELECT order_id FROM orders WHERE order_id = ? OR customer = ?",
               "parameters": ["ORD-000001", "x' OR '1'='1"]}
    assert admin(db).post("sql", request)["rows"] == [["ORD-000001"]]
    for parameters, said in (("ORD-000001", '"parameters" must be a list'), ([{"a": 1}], '"parameters" must be'),
                             (["ORD-000001"], "Incorrect number of bindings")):
        with pytest.raises(LabError, match=said):
            admin(db).post("sql", {**request, "parameters": parameters})


def test_backups_exist_only_with_retention_and_pitr_is_refused_without(db):
    rds = db.client("rds")
    name = unique("noretention")
    create_db(rds, name, BackupRetentionPeriod=0)
    assert [state for state, _ in wait_available(db, rds, name)] == ["creating", "available"]  # no first backup
    assert "LatestRestorableTime" not in rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert rds.describe_db_snapshots(DBInstanceIdentifier=name, SnapshotType="automated")["DBSnapshots"] == []
    with pytest.raises(ClientError) as refused:
        rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=name,
                                                 TargetDBInstanceIdentifier=unique("never"),
                                                 UseLatestRestorableTime=True)
    assert error_code(refused) == "PointInTimeRestoreNotEnabled"
    with pytest.raises(ClientError) as refused:
        rds.create_db_instance_read_replica(DBInstanceIdentifier=unique("never"), SourceDBInstanceIdentifier=name)
    assert error_code(refused) == "InvalidDBInstanceState" and "Automated backups are not enabled" in str(refused.value)
    rds.modify_db_instance(DBInstanceIdentifier=name, BackupRetentionPeriod=3, ApplyImmediately=True)
    # 0 -> nonzero: a brief outage (`modifying`), then the first automated backup (`backing-up`)
    assert [state for state, _ in wait_available(db, rds, name, step="30s")] == ["modifying", "backing-up",
                                                                                "available"]
    automated = rds.describe_db_snapshots(DBInstanceIdentifier=name, SnapshotType="automated")["DBSnapshots"]
    assert len(automated) == 1 and automated[0]["DBSnapshotIdentifier"].startswith(f"rds:{name}-")
    assert automated[0]["Status"] == "available" and automated[0]["PercentProgress"] == 100
    window = rds.describe_db_instance_automated_backups(DBInstanceIdentifier=name)["DBInstanceAutomatedBackups"]
    assert window[0]["BackupRetentionPeriod"] == 3 and window[0]["RestoreWindow"]["EarliestTime"]
    assert window[0]["Status"] == "active"


def test_point_in_time_restore_holds_exactly_the_data_of_that_moment(db):
    rds = db.client("rds")
    name = unique("pitr")
    create_db(rds, name, BackupRetentionPeriod=1)
    created = sim_now(db)
    wait_available(db, rds, name)
    insert(db, name, "A-1", "A-2", "A-3")
    advance(db, "2m")
    between = sim_now(db)
    advance(db, "1m")
    insert(db, name, "B-1")
    sql(db, name, "DELETE FROM orders WHERE order_id = 'A-1'")  # the bad deploy
    advance(db, "6m")

    shown = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    lag = sim_now(db) - shown["LatestRestorableTime"].timestamp()
    assert 290 <= lag <= 400  # about five minutes behind now

    before = unique("before")
    restored = rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=name,
                                                        TargetDBInstanceIdentifier=before,
                                                        RestoreTime=moment(between))["DBInstance"]
    assert restored["DBInstanceIdentifier"] == before and restored["MultiAZ"] is False
    assert restored["DBInstanceStatus"] == "creating" and "Endpoint" not in restored
    with pytest.raises(LabError, match=f'"{before}" in us-east-1 is creating'):
        order_ids(db, before)  # "The DB instance is inaccessible while it is being created"
    latest = unique("latest")
    rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=name, TargetDBInstanceIdentifier=latest,
                                             UseLatestRestorableTime=True)
    wait_available(db, rds, before)
    wait_available(db, rds, latest)
    assert order_ids(db, before) == ["A-1", "A-2", "A-3"]
    assert order_ids(db, latest) == ["A-2", "A-3", "B-1"]

    for when in (created - 3600, sim_now(db) - 60):  # before backups began; after the latest restorable time
        with pytest.raises(ClientError) as refused:
            rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=name,
                                                     TargetDBInstanceIdentifier=unique("never"),
                                                     RestoreTime=moment(when))
        assert error_code(refused) == "InvalidRestoreFault"
        assert "not within the backup retention window" in str(refused.value)
    with pytest.raises(ClientError) as refused:
        rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=name,
                                                 TargetDBInstanceIdentifier=unique("never"),
                                                 RestoreTime=moment(between), UseLatestRestorableTime=True)
    assert error_code(refused) == "InvalidParameterCombination"
    events = rds.describe_events(SourceType="db-instance", SourceIdentifier=before, Duration=180)["Events"]
    assert any(e["Message"].startswith(f"Restored from DB instance {name}") for e in events)


def test_snapshots_copies_and_restores_carry_the_data(db):
    rds, west = db.client("rds"), db.client("rds", "us-west-2")
    name = unique("snap")
    create_db(rds, name, BackupRetentionPeriod=1)
    wait_available(db, rds, name)
    insert(db, name, "S-1", "S-2")
    snapshot = rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s1")["DBSnapshot"]
    insert(db, name, "S-3")  # after the snapshot: in no copy of it
    wait_available(db, rds, name)
    copy = west.copy_db_snapshot(SourceDBSnapshotIdentifier=snapshot["DBSnapshotArn"],
                                 TargetDBSnapshotIdentifier=f"{name}-dr", SourceRegion="us-east-1")["DBSnapshot"]
    assert copy["SourceRegion"] == "us-east-1" and copy["SourceDBSnapshotIdentifier"] == snapshot["DBSnapshotArn"]
    wait_snapshot(db, west, f"{name}-dr")
    restored = west.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=f"{name}-dr",
                                                         DBSnapshotIdentifier=f"{name}-dr")["DBInstance"]
    assert restored["AvailabilityZone"].startswith("us-west-2")
    wait_available(db, west, f"{name}-dr")
    assert order_ids(db, f"{name}-dr", "us-west-2") == ["S-1", "S-2"]
    assert order_ids(db, name) == ["S-1", "S-2", "S-3"]

    rds.delete_db_instance(DBInstanceIdentifier=name, FinalDBSnapshotIdentifier=f"{name}-final")
    with pytest.raises(Exception, match="is deleting"):
        sql(db, name, "SELECT 1")
    wait_snapshot(db, rds, f"{name}-final")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=f"{name}-back", DBSnapshotIdentifier=f"{name}-final")
    wait_available(db, rds, f"{name}-back")
    assert order_ids(db, f"{name}-back") == ["S-1", "S-2", "S-3"]
    events = rds.describe_events(SourceType="db-snapshot", SourceIdentifier=f"{name}-s1", Duration=120)["Events"]
    assert [e["Message"] for e in events] == ["Creating manual snapshot", "Manual snapshot created",
                                              "Started cross region DB snapshot copy"]


def test_a_cross_region_read_replica_follows_with_lag_and_can_be_promoted(db):
    rds, west = db.client("rds"), db.client("rds", "us-west-2")
    name = unique("source")
    source = create_db(rds, name, BackupRetentionPeriod=1)
    wait_available(db, rds, name)
    insert(db, name, "R-1")
    replica_name = unique("replica")
    replica = west.create_db_instance_read_replica(DBInstanceIdentifier=replica_name,
                                                   SourceDBInstanceIdentifier=source["DBInstanceArn"],
                                                   SourceRegion="us-east-1")["DBInstance"]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == source["DBInstanceArn"]
    assert replica["AvailabilityZone"].startswith("us-west-2")
    wait_available(db, west, replica_name)
    assert order_ids(db, replica_name, "us-west-2") == ["R-1"]
    insert(db, name, "R-2")
    assert order_ids(db, replica_name, "us-west-2") == ["R-1"]  # not yet: cross-region lag
    advance(db, "30s")
    assert order_ids(db, replica_name, "us-west-2") == ["R-1", "R-2"]
    with pytest.raises(Exception, match="read-only transaction"):
        sql(db, replica_name, "DELETE FROM orders", "us-west-2")
    listed = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert listed["ReadReplicaDBInstanceIdentifiers"] == [replica["DBInstanceArn"]]

    west.promote_read_replica(DBInstanceIdentifier=replica_name)
    wait_available(db, west, replica_name, step="30s")
    promoted = west.describe_db_instances(DBInstanceIdentifier=replica_name)["DBInstances"][0]
    assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
    insert(db, name, "R-3")
    insert(db, replica_name, "P-1", region="us-west-2")
    advance(db, "30s")
    assert order_ids(db, replica_name, "us-west-2") == ["P-1", "R-1", "R-2"]
    assert rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0][
        "ReadReplicaDBInstanceIdentifiers"] == []


def test_multi_az_failover_is_an_outage_that_swaps_the_zones(db):
    rds = db.client("rds")
    name = unique("multiaz")
    shown = create_db(rds, name, MultiAZ=True, AvailabilityZone="us-east-1a")
    assert (shown["AvailabilityZone"], shown["SecondaryAvailabilityZone"]) == ("us-east-1a", "us-east-1b")
    single = unique("single")
    create_db(rds, single)
    wait_available(db, rds, name)
    wait_available(db, rds, single)
    with pytest.raises(ClientError) as refused:
        rds.reboot_db_instance(DBInstanceIdentifier=single, ForceFailover=True)
    assert error_code(refused) == "InvalidParameterCombination"

    started = sim_now(db)
    rebooting = rds.reboot_db_instance(DBInstanceIdentifier=name, ForceFailover=True)["DBInstance"]
    assert rebooting["DBInstanceStatus"] == "rebooting"
    with pytest.raises(Exception, match="could not connect to server"):
        insert(db, name, "F-1")
    with pytest.raises(ClientError) as refused:
        rds.reboot_db_instance(DBInstanceIdentifier=name)
    assert error_code(refused) == "InvalidDBInstanceState"
    advance(db, "2m")
    after = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert after["DBInstanceStatus"] == "available"
    insert(db, name, "F-2")
    # RDS UG, Rebooting a DB instance: "the Availability Zone change might not be reflected ... for several minutes"
    assert (after["AvailabilityZone"], after["SecondaryAvailabilityZone"]) == ("us-east-1a", "us-east-1b")
    advance(db, "2m")
    after = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert (after["AvailabilityZone"], after["SecondaryAvailabilityZone"]) == ("us-east-1b", "us-east-1a")
    events = {e["Message"]: e["Date"].timestamp() for e in rds.describe_events(
        SourceType="db-instance", SourceIdentifier=name, StartTime=moment(started - 5),
        EventCategories=["failover"])["Events"]}
    outage = events["Multi-AZ instance failover completed."] - events["Multi-AZ instance failover started."]
    assert 60 <= outage <= 120  # RDS UG, Multi-AZ deployments: "typically 60-120 seconds"


def test_the_aws_cli_sees_the_data_plane(db):
    rds = db.client("rds")
    name = unique("cli")
    create_db(rds, name, MultiAZ=True, BackupRetentionPeriod=2)
    wait_available(db, rds, name)
    shown = aws_cli(db, "us-east-1", "rds", "describe-db-instances", "--db-instance-identifier", name)
    instance = shown["DBInstances"][0]
    assert instance["SecondaryAvailabilityZone"] and instance["LatestRestorableTime"]
    events = aws_cli(db, "us-east-1", "rds", "describe-events", "--source-type", "db-instance",
                     "--source-identifier", name, "--duration", "60")
    assert [e["Message"] for e in events["Events"]][:2] == ["DB instance created", "Backing up DB instance"]


# -- the world database: the workload's rows against the shop's ledger ------------------------------------

def ledger_ids(handle: Any, until: float | None = None) -> list[str]:
    orders = admin(handle).get("orders")["orders"]
    return [order["order_id"] for order in orders
            if order.get("stored", {}).get("rds", True) and (until is None or epoch_of(order["created_at"]) <= until)]


def test_the_workload_writes_rows_and_pitr_returns_the_ledger_prefix(db):
    rds = db.client("rds")
    rds.modify_db_instance(DBInstanceIdentifier=WORLD_DB, BackupRetentionPeriod=7, ApplyImmediately=True)
    wait_available(db, rds, WORLD_DB)
    advance(db, "3h")
    digests = admin(db).get("rds/digests")["regions"]["us-east-1"][WORLD_DB]
    ledger = ledger_ids(db)
    assert digests["orders"] == len(ledger) >= 48 + 180
    assert digests["order_ids_sha256"] == ids_digest(ledger)
    # between two orders (the ledger's times have whole seconds, the writes' sim times do not)
    halfway = epoch_of(admin(db).get("orders?limit=90")["orders"][0]["created_at"]) + 30
    rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=WORLD_DB, TargetDBInstanceIdentifier="halfway",
                                             RestoreTime=moment(halfway))
    wait_available(db, rds, "halfway", step="5m")
    restored = admin(db).get("rds/digests")["regions"]["us-east-1"]["halfway"]
    assert restored["order_ids_sha256"] == ids_digest(ledger_ids(db, halfway))


def test_orders_are_refused_while_the_database_is_down(db):
    rds = db.client("rds")
    rds.modify_db_instance(DBInstanceIdentifier=WORLD_DB, MultiAZ=True, ApplyImmediately=True)
    wait_available(db, rds, WORLD_DB)
    rds.reboot_db_instance(DBInstanceIdentifier=WORLD_DB, ForceFailover=True)
    advance(db, "4m")
    stored = [order["stored"]["rds"] for order in admin(db).get("orders?limit=4")["orders"]]
    assert stored[-1] is True  # up again
    assert 1 <= stored.count(False) <= 2  # the one or two orders of the 60-120 s outage


# -- AWS Backup's contract (a Python API: called in-process) -----------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, user_home: Any) -> Iterator[Any]:
    yield from in_process(tmp_path_factory.mktemp("rds-world") / "state", user_home / ".cache")


def test_aws_backup_contract_restores_exactly_the_recovery_point(world):
    engine = world.sandbox.engines.find(RdsData)
    rds, rds_west = world.client("rds"), world.client("rds", "us-west-2")
    arn = rds.describe_db_instances(DBInstanceIdentifier=WORLD_DB)["DBInstances"][0]["DBInstanceArn"]
    assert engine.backup_resource_types() == {"RDS"}
    world.advance("30m")
    with world.sandbox.lock:
        point = engine.backup_resource(arn)
        expected = [o["order_id"] for o in world.sandbox.lab.orders if o.get("stored", {}).get("rds", True)]
    world.advance("10m")
    with world.sandbox.lock:
        new_arn = engine.restore_resource(point, {"DBInstanceIdentifier": "from-backup"}, "us-west-2")
    assert new_arn == "arn:aws:rds:us-west-2:000000000000:db:from-backup"
    # The restore takes RDS's restore time (creating, then backing-up); the data is read once it is available.
    status = rds_west.describe_db_instances(DBInstanceIdentifier="from-backup")["DBInstances"][0]["DBInstanceStatus"]
    assert status == "creating"
    world.advance("1h")
    restored = world.call("GET", "rds/digests")["regions"]["us-west-2"]["from-backup"]
    assert restored["order_ids_sha256"] == ids_digest(expected) and restored["orders"] == len(expected) >= 48 + 30
    with pytest.raises(ValueError, match="DBInstanceIdentifier"):
        engine.restore_resource(point, {}, "us-east-1")
    with pytest.raises(ValueError, match="no DB instance"):
        engine.backup_resource("arn:aws:rds:us-east-1:000000000000:db:nope")


def test_an_unreachable_instance_refuses_the_shops_orders(world):
    engine = world.sandbox.engines.find(RdsData)
    with world.sandbox.lock:
        engine.set_instance_available(WORLD_DB, False)
    world.advance("2m")
    assert [o["stored"]["rds"] for o in world.sandbox.lab.orders[-2:]] == [False, False]
    with world.sandbox.lock:
        engine.set_instance_available(WORLD_DB, True)
    world.advance("1m")
    assert world.sandbox.lab.orders[-1]["stored"]["rds"] is True


# -- last: a crash replays the SQL writes ------------------------------------------------------------------

def test_sql_writes_survive_a_crash(db):
    sql(db, WORLD_DB, "DELETE FROM orders WHERE id <= 5")
    sql(db, WORLD_DB, "UPDATE orders SET customer = 'zed' WHERE id = 6")
    admin(db).post("sql", {"instance": WORLD_DB, "sql": "UPDATE orders SET customer = ? WHERE id = ?",
                           "parameters": ["o'hara", 7]})
    before = admin(db).get("rds/digests")["regions"]
    pid = db.pid()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z")
    db.up()
    after = admin(db).get("rds/digests")["regions"]
    for region, instances in before.items():
        for name, digest in instances.items():
            assert after[region][name]["order_ids_sha256"] == digest["order_ids_sha256"], name
    assert sql(db, WORLD_DB, "SELECT customer FROM orders WHERE id = 6")["rows"] == [["zed"]]
    assert sql(db, WORLD_DB, "SELECT customer FROM orders WHERE id = 7")["rows"] == [["o'hara"]]
