"""RDS takes the time AWS takes, on the sim clock, with AWS's statuses, fields and refusals: tried through boto3 and
the aws CLI against a running sandbox, each behaviour next to the AWS page it follows.

The module has a sandbox of its own with the clock paused: sim time moves only when a test advances it, and each
test makes uniquely named instances. Durations are compared with the sandbox's model (lab.sim.durations) to within
the step the test advances by.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lab.errors import LabError
from lab.services.rds import windows
from lab.sim.durations import Durations
from tests.conftest import SandboxHandle, free_port, wait_for
from tests.integration._data_plane import admin, advance, aws_cli, moment, sim_now, sql, unique
from tests.integration._rds import (
    create_db,
    described,
    durations_of,
    error_code,
    insert,
    order_ids,
    snapshot_status,
    status,
    wait_available,
    wait_snapshot,
    walk,
)

MODEL = Durations()  # the module's sandbox runs with the defaults (tests that tune it put them back)
WEEK_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    handle = SandboxHandle(tmp_path_factory.mktemp("rds-time") / "state", free_port(), lab_env)
    handle.up()
    admin(handle).post("clock", {"action": "pause"})
    yield handle
    handle.down()


def cli_refusal(handle: Any, region: str, *args: str) -> str:
    """The aws CLI's error output for a call that must fail."""
    with pytest.raises(AssertionError) as failed:
        aws_cli(handle, region, *args)
    return str(failed.value)


def tune(handle: Any, **values: float) -> None:
    admin(handle).post("durations", {"set": {name.replace("__", "."): value for name, value in values.items()}})


def untune(handle: Any) -> None:
    admin(handle).post("durations", {"reset": True})


def available_db(handle: Any, rds: Any, name: str, **extra: Any) -> dict[str, Any]:
    create_db(rds, name, **extra)
    wait_available(handle, rds, name)
    return described(rds, name)


# -- creating ----------------------------------------------------------------------------------------------

def test_a_new_instance_is_creating_without_an_endpoint_then_backs_up_then_is_available(db):
    rds = db.client("rds")
    name = unique("new")
    shown = create_db(rds, name, BackupRetentionPeriod=1)
    # RDS UG, DB instance status: "creating - The DB instance is inaccessible while it is being created"
    assert shown["DBInstanceStatus"] == "creating" and "Endpoint" not in shown and "InstanceCreateTime" not in shown
    seen_by_cli = aws_cli(db, "us-east-1", "rds", "describe-db-instances", "--db-instance-identifier", name)
    assert seen_by_cli["DBInstances"][0]["DBInstanceStatus"] == "creating"
    assert "Endpoint" not in seen_by_cli["DBInstances"][0]
    with pytest.raises(LabError, match=f'"{name}" in us-east-1 is creating'):
        sql(db, name, "SELECT count(*) FROM orders")
    refused = db.lab("sql", name, "SELECT count(*) FROM orders", check=False)
    assert refused.returncode != 0 and "is creating" in refused.stderr and "endpoint" in refused.stderr
    # API Reference, DBInstanceAutomatedBackup.Status: "creating" until the first automated snapshot
    backups = rds.describe_db_instance_automated_backups(DBInstanceIdentifier=name)["DBInstanceAutomatedBackups"]
    assert backups[0]["Status"] == "creating"

    seen = walk(db, lambda: status(rds, name), step="30s")
    assert [state for state, _ in seen] == ["creating", "backing-up", "available"]
    lasted = durations_of(seen)
    assert abs(lasted["creating"] - MODEL.rds_create(20)) <= 30
    assert abs(lasted["backing-up"] - MODEL.rds_snapshot(0.001)) <= 30
    ready = described(rds, name)
    assert ready["Endpoint"]["Port"] == 5432 and ready["InstanceCreateTime"] and ready["LatestRestorableTime"]
    assert sql(db, name, "SELECT count(*) FROM orders")["rows"] == [[0]]
    backups = rds.describe_db_instance_automated_backups(DBInstanceIdentifier=name)["DBInstanceAutomatedBackups"]
    assert backups[0]["Status"] == "active"
    events = [e["Message"] for e in rds.describe_events(SourceType="db-instance", SourceIdentifier=name,
                                                        Duration=60)["Events"]]
    assert events == ["DB instance created", "Backing up DB instance", "Finished DB Instance backup"]


def test_a_boto3_waiter_sees_the_instance_become_available_while_the_clock_runs_fast(db):
    rds = db.client("rds")
    name = unique("waited")
    create_db(rds, name, BackupRetentionPeriod=0)
    clock = admin(db)
    clock.post("clock", {"action": "speed", "factor": 600})
    clock.post("clock", {"action": "resume"})
    try:
        # boto3's own waiter (botocore waiters-2.json DBInstanceAvailable), polling every second of wall time
        rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=name,
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    finally:
        clock.post("clock", {"action": "pause"})
        clock.post("clock", {"action": "speed", "factor": 1})
    assert status(rds, name) == "available"


def test_backup_retention_outside_0_to_35_days_is_refused(db):
    rds = db.client("rds")
    name = unique("retention")
    # API Reference, CreateDBInstance / ModifyDBInstance BackupRetentionPeriod: "Must be a value from 0 to 35"
    with pytest.raises(ClientError) as refused:
        create_db(rds, name, BackupRetentionPeriod=36)
    assert error_code(refused) == "InvalidParameterValue" and "between 0 and 35" in str(refused.value)
    available_db(db, rds, name, BackupRetentionPeriod=0)
    with pytest.raises(ClientError) as refused:
        rds.modify_db_instance(DBInstanceIdentifier=name, BackupRetentionPeriod=36, ApplyImmediately=True)
    assert error_code(refused) == "InvalidParameterValue"
    said = cli_refusal(db, "us-east-1", "rds", "modify-db-instance", "--db-instance-identifier", name,
                       "--backup-retention-period", "36", "--apply-immediately")
    assert "InvalidParameterValue" in said and "Invalid backup retention period: 36" in said
    assert described(rds, name)["BackupRetentionPeriod"] == 0


def test_each_automated_backup_is_one_backing_up_event(db):
    """RDS UG, Amazon RDS event categories and messages: RDS-EVENT-0001 "Backing up DB instance", once a backup."""
    rds = db.client("rds")
    name = unique("onebackup")
    shown = available_db(db, rds, name, BackupRetentionPeriod=0)
    # (switched on just before its backup window, the instance also takes that day's backup minutes later: the
    # backups are switched on just after the window instead, whatever the hour the sandbox's clock began at)
    _, window_end = windows.daily(shown["PreferredBackupWindow"])
    now = sim_now(db)
    after_window = now - now % 86400 + (window_end + 1) * 60
    advance(db, f"{int((after_window - now) % 86400) + 1}s")
    aws_cli(db, "us-east-1", "rds", "modify-db-instance", "--db-instance-identifier", name,
            "--backup-retention-period", "7", "--apply-immediately")
    wait_available(db, rds, name, step="30s")
    advance(db, "1d")  # the next one in the backup window
    wait_available(db, rds, name, step="30s")
    events = rds.describe_events(SourceType="db-instance", SourceIdentifier=name, Duration=2 * 24 * 60)["Events"]
    started = [e["Date"] for e in events if e["Message"] == "Backing up DB instance"]
    finished = [e["Date"] for e in events if e["Message"] == "Finished DB Instance backup"]
    assert len(started) == len(finished) == 2 and len(set(started)) == 2


# -- windows ----------------------------------------------------------------------------------------------

def test_default_windows_are_30_minutes_in_the_regions_block_and_apart(db):
    rds, west = db.client("rds"), db.client("rds", "us-west-2")
    for client, region, block in ((rds, "us-east-1", 3 * 60), (west, "us-west-2", 6 * 60)):
        name = unique("windows")
        shown = create_db(client, name)
        backup, maintenance = shown["PreferredBackupWindow"], shown["PreferredMaintenanceWindow"]
        start, end = windows.daily(backup)
        week_start, week_end = windows.weekly(maintenance)
        # RDS UG, Backup window: a 30-minute window at random in the Region's 8-hour block
        assert block <= start and end <= block + 8 * 60 and end - start == 30, (region, backup)
        assert block <= week_start % 1440 <= block + 8 * 60 - 30 and week_end - week_start == 30, maintenance
        assert not windows.overlap(backup, maintenance)
        assert described(client, name)["PreferredMaintenanceWindow"] == maintenance
    name = unique("overlap")
    shown = create_db(rds, name, PreferredMaintenanceWindow="sun:05:00-sun:05:30")
    assert shown["PreferredMaintenanceWindow"] == "sun:05:00-sun:05:30"
    wait_available(db, rds, name)
    with pytest.raises(ClientError) as refused:
        rds.modify_db_instance(DBInstanceIdentifier=name, PreferredBackupWindow="05:15-05:45")
    assert error_code(refused) == "InvalidParameterValue"
    assert "The backup window and maintenance window must not overlap." in str(refused.value)


def test_a_backup_window_given_alone_gets_a_maintenance_window_apart_from_it(db):
    """A backup window in the request, none for maintenance: RDS picks the maintenance window, never a refusal."""
    rds = db.client("rds")
    for backup in ("06:45-07:15", "02:50-03:20", "03:00-03:30"):  # (the first met the backend's own default)
        name = unique("given-backup")
        shown = create_db(rds, name, PreferredBackupWindow=backup)
        assert shown["PreferredBackupWindow"] == backup
        assert not windows.overlap(backup, shown["PreferredMaintenanceWindow"])
    with pytest.raises(ClientError) as refused:
        create_db(rds, unique("both"), PreferredBackupWindow="05:15-05:45",
                  PreferredMaintenanceWindow="sun:05:00-sun:05:30")
    assert error_code(refused) == "InvalidParameterValue"
    assert "The backup window and maintenance window must not overlap." in str(refused.value)
    with pytest.raises(ClientError) as short:
        create_db(rds, unique("short"), PreferredBackupWindow="05:15-05:30")
    assert "The backup window must be at least 30 minutes." in str(short.value)
    assert not any(instance["DBInstanceIdentifier"].startswith(("both", "short"))
                   for instance in rds.describe_db_instances()["DBInstances"])


# -- pending modifications and the maintenance window -----------------------------------------------------

def window_in(hours: float, now: float) -> tuple[str, float]:
    """A 30-minute maintenance window starting `hours` from sim time `now`, on its day of the week."""
    start = datetime.fromtimestamp(now + hours * 3600, tz=UTC).replace(second=0, microsecond=0)
    end = datetime.fromtimestamp(start.timestamp() + 1800, tz=UTC)
    return (f"{WEEK_DAYS[start.weekday()]}:{start:%H:%M}-{WEEK_DAYS[end.weekday()]}:{end:%H:%M}",
            start.timestamp())


def test_changes_without_apply_immediately_wait_for_the_maintenance_window(db):
    rds = db.client("rds")
    name = unique("pending")
    maintenance, opens = window_in(3, sim_now(db))
    backup = f"{datetime.fromtimestamp(opens + 6 * 3600, tz=UTC):%H}:00"
    available_db(db, rds, name, BackupRetentionPeriod=0, PreferredMaintenanceWindow=maintenance,
                 PreferredBackupWindow=f"{backup}-{backup[:2]}:30")
    # RDS UG, Modifying a DB instance: without ApplyImmediately "the changes are put into the pending
    # modifications queue. During the next maintenance window, any pending changes in the queue are applied"
    answered = aws_cli(db, "us-east-1", "rds", "modify-db-instance", "--db-instance-identifier", name, "--multi-az")
    instance = answered["DBInstance"]
    assert instance["MultiAZ"] is False and instance["PendingModifiedValues"] == {"MultiAZ": True}
    assert instance["DBInstanceStatus"] == "available"
    rds.modify_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.small", BackupRetentionPeriod=2)
    shown = described(rds, name)
    assert shown["PendingModifiedValues"] == {"MultiAZ": True, "DBInstanceClass": "db.t3.small",
                                              "BackupRetentionPeriod": 2}
    assert (shown["MultiAZ"], shown["DBInstanceClass"], shown["BackupRetentionPeriod"]) == (False, "db.t3.micro", 0)
    advance(db, f"{int(opens - sim_now(db)) - 60}s")
    assert status(rds, name) == "available" and described(rds, name)["PendingModifiedValues"]
    insert(db, name, "W-1")

    began = walk(db, lambda: status(rds, name), until="modifying", step="30s")[-1][1]
    assert began - opens < 60  # applied when the window opened
    seen = walk(db, lambda: status(rds, name), step="30s")
    assert [state for state, _ in seen] == ["modifying", "backing-up", "available"]
    shown = described(rds, name)
    assert shown["PendingModifiedValues"] == {}  # (RDS always answers the element)
    assert (shown["MultiAZ"], shown["DBInstanceClass"], shown["BackupRetentionPeriod"]) == (True, "db.t3.small", 2)
    assert shown["SecondaryAvailabilityZone"] and shown["LatestRestorableTime"]
    assert order_ids(db, name) == ["W-1"]


def test_no_maintenance_action_is_pending_and_an_unknown_resource_is_refused(db):
    """The sandbox schedules no engine or OS updates: DescribePendingMaintenanceActions answers none (it answered
    NotImplemented), and refuses an ARN that names no instance."""
    rds = db.client("rds")
    name = unique("maintained")
    created = create_db(rds, name)
    assert rds.describe_pending_maintenance_actions()["PendingMaintenanceActions"] == []
    assert aws_cli(db, "us-east-1", "rds", "describe-pending-maintenance-actions", "--resource-identifier",
                   created["DBInstanceArn"])["PendingMaintenanceActions"] == []
    with pytest.raises(ClientError) as refused:
        rds.describe_pending_maintenance_actions(
            ResourceIdentifier="arn:aws:rds:us-east-1:000000000000:db:no-such-instance")
    assert error_code(refused) == "ResourceNotFoundFault"


def test_a_change_applied_immediately_takes_the_pending_ones_along(db):
    rds = db.client("rds")
    name = unique("along")
    available_db(db, rds, name, BackupRetentionPeriod=1)
    rds.modify_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.small")
    rds.modify_db_instance(DBInstanceIdentifier=name, BackupRetentionPeriod=5)  # nonzero -> nonzero: at once
    shown = described(rds, name)
    assert shown["BackupRetentionPeriod"] == 5 and shown["PendingModifiedValues"] == {"DBInstanceClass": "db.t3.small"}
    # "If you choose to apply changes immediately, your new changes and any changes in the pending modifications
    # queue are applied" (RDS UG, Modifying a DB instance)
    answered = rds.modify_db_instance(DBInstanceIdentifier=name, DeletionProtection=False,
                                      ApplyImmediately=True)["DBInstance"]
    assert answered["DBInstanceStatus"] == "modifying"
    assert answered["PendingModifiedValues"] == {"DBInstanceClass": "db.t3.small"}  # until it is applied
    with pytest.raises(LabError, match="is modifying"):
        sql(db, name, "SELECT 1")  # a class change on Single-AZ is an outage
    with pytest.raises(ClientError) as refused:
        rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")
    assert error_code(refused) == "InvalidDBInstanceState"
    assert str(refused.value).endswith(f"Cannot create a snapshot because the database instance {name} is not "
                                       "currently in the available state.")
    with pytest.raises(ClientError) as refused:
        rds.modify_db_instance(DBInstanceIdentifier=name, BackupRetentionPeriod=7, ApplyImmediately=True)
    assert error_code(refused) == "InvalidDBInstanceState"
    seen = walk(db, lambda: status(rds, name), step="30s")
    assert abs(durations_of(seen)["modifying"] - MODEL.rds_modify(outage=True)) <= 30
    shown = described(rds, name)
    assert shown["DBInstanceClass"] == "db.t3.small" and shown["PendingModifiedValues"] == {}


def test_storage_engine_and_password_changes_show_their_own_statuses(db):
    rds = db.client("rds")
    name = unique("storage")
    available_db(db, rds, name, BackupRetentionPeriod=0)
    rds.modify_db_instance(DBInstanceIdentifier=name, AllocatedStorage=40, ApplyImmediately=True)
    seen = walk(db, lambda: status(rds, name), step="1m")
    # RDS UG, DB instance status: storage-optimization after a storage change, fully operational meanwhile
    assert [state for state, _ in seen] == ["modifying", "storage-optimization", "available"]
    assert abs(durations_of(seen)["storage-optimization"] - MODEL.rds_storage_optimization(40)) <= 60
    assert described(rds, name)["AllocatedStorage"] == 40
    with pytest.raises(ClientError) as refused:  # RDS UG, Modifying: no further storage change for six hours
        rds.modify_db_instance(DBInstanceIdentifier=name, AllocatedStorage=60, ApplyImmediately=True)
    assert error_code(refused) == "InvalidParameterCombination"
    # API Reference, ModifyDBInstance MasterUserPassword: "Between the time of the request and the completion of
    # the request, the MasterUserPassword element exists in the PendingModifiedValues element"
    answered = aws_cli(db, "us-east-1", "rds", "modify-db-instance", "--db-instance-identifier", name,
                       "--master-user-password", "another-password-2")["DBInstance"]
    assert answered["DBInstanceStatus"] == "resetting-master-credentials"
    assert answered["PendingModifiedValues"] == {"MasterUserPassword": "****"}
    wait_available(db, rds, name)
    assert described(rds, name)["PendingModifiedValues"] == {}
    rds.modify_db_instance(DBInstanceIdentifier=name, EngineVersion="16.4", ApplyImmediately=True)
    assert status(rds, name) == "upgrading"
    wait_available(db, rds, name)
    assert described(rds, name)["EngineVersion"] == "16.4"


def test_automated_backups_are_taken_daily_in_the_backup_window_and_expire(db):
    rds = db.client("rds")
    name = unique("daily")
    opens = datetime.fromtimestamp(sim_now(db) + 2 * 3600, tz=UTC).replace(minute=0, second=0, microsecond=0)
    window = f"{opens:%H}:00-{opens:%H}:30"
    maintenance, _ = window_in(12, sim_now(db))
    available_db(db, rds, name, BackupRetentionPeriod=1, PreferredBackupWindow=window,
                 PreferredMaintenanceWindow=maintenance)
    advance(db, f"{int(opens.timestamp() - sim_now(db)) + 30}s")
    # RDS UG, Working with backups: "Automated backups occur daily during the preferred backup window"
    assert status(rds, name) == "backing-up"
    taken = rds.describe_db_snapshots(DBInstanceIdentifier=name, SnapshotType="automated")["DBSnapshots"]
    assert f"rds:{name}-{opens:%Y-%m-%d-%H-%M}" in [s["DBSnapshotIdentifier"] for s in taken]
    wait_available(db, rds, name)
    advance(db, "2d")  # two more daily backups; retention 1 day keeps the recent ones only
    automated = rds.describe_db_snapshots(DBInstanceIdentifier=name, SnapshotType="automated")["DBSnapshots"]
    assert 1 <= len(automated) <= 2
    assert min(s["SnapshotCreateTime"].timestamp() for s in automated) >= sim_now(db) - 2 * 86400
    events = [e["Message"] for e in rds.describe_events(SourceType="db-instance", SourceIdentifier=name,
                                                        EventCategories=["backup"], Duration=60 * 24 * 3)["Events"]]
    assert events.count("Backing up DB instance") >= 3
    # RDS UG, Deleting a DB snapshot: automated snapshots go with their retention or their instance, not by hand
    automated_id = automated[0]["DBSnapshotIdentifier"]
    with pytest.raises(ClientError) as refused:
        rds.delete_db_snapshot(DBSnapshotIdentifier=automated_id)
    assert error_code(refused) == "InvalidDBSnapshotState" and "Only manual snapshots may be deleted" in \
        str(refused.value)
    assert automated_id in [s["DBSnapshotIdentifier"] for s in
                            rds.describe_db_snapshots(DBInstanceIdentifier=name, SnapshotType="automated")[
                                "DBSnapshots"]]


# -- snapshots and copies ---------------------------------------------------------------------------------

def test_a_snapshot_is_creating_with_progress_while_a_single_az_instance_backs_up(db):
    rds = db.client("rds")
    name = unique("snapping")
    available_db(db, rds, name, BackupRetentionPeriod=0)
    taken = rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-1")["DBSnapshot"]
    # API Reference, DBSnapshot: Status creating, PercentProgress "the percentage of the estimated data that has been
    # transferred"; RDS UG, Creating a DB snapshot: a Single-AZ instance's I/O is suspended (status backing-up)
    assert taken["Status"] == "creating" and taken["PercentProgress"] == 0
    assert status(rds, name) == "backing-up"
    with pytest.raises(ClientError) as refused:  # API Reference, CopyDBSnapshot: InvalidDBSnapshotState
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=f"{name}-1", TargetDBSnapshotIdentifier=f"{name}-c")
    assert error_code(refused) == "InvalidDBSnapshotState"
    with pytest.raises(ClientError) as refused:
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=f"{name}-r", DBSnapshotIdentifier=f"{name}-1")
    assert error_code(refused) == "InvalidDBSnapshotState"
    advance(db, "50s")
    shown = aws_cli(db, "us-east-1", "rds", "describe-db-snapshots", "--db-snapshot-identifier", f"{name}-1")
    assert shown["DBSnapshots"][0]["Status"] == "creating" and 0 < shown["DBSnapshots"][0]["PercentProgress"] < 100
    progress = [0]
    for _ in range(10):
        found = rds.describe_db_snapshots(DBSnapshotIdentifier=f"{name}-1")["DBSnapshots"][0]
        progress.append(found["PercentProgress"])
        if found["Status"] == "available":
            break
        advance(db, "20s")
    assert progress == sorted(progress) and progress[-1] == 100 and 0 < progress[1] < 100
    assert all(isinstance(value, int) for value in progress)
    assert status(rds, name) == "available"


def test_the_first_snapshot_copies_everything_later_ones_what_changed(db):
    rds = db.client("rds")
    name = unique("incremental")
    available_db(db, rds, name, BackupRetentionPeriod=0)
    insert(db, name, *(f"I-{number:04d}" for number in range(60)))
    # slow enough that the data's size shows (the defaults' 100 MiB/s copy a small database in no time)
    tune(db, rds__snapshot__base=0, rds__snapshot__rate=0.0002)
    try:
        rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-full")
        full = durations_of(wait_snapshot(db, rds, f"{name}-full", step="5s"))["creating"]
        insert(db, name, "I-9999")
        wait_available(db, rds, name, step="5s")
        rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-later")
        later = durations_of(wait_snapshot(db, rds, f"{name}-later", step="5s"))["creating"]
    finally:
        untune(db)
    # RDS UG, Working with backups: "The first snapshot ... contains the data for the full database. Subsequent
    # snapshots of the same database are incremental"
    assert full >= 10 and later <= 5 and full > 4 * later


def test_a_cross_region_copy_is_queued_then_slower_than_one_within_the_region(db):
    rds, west = db.client("rds"), db.client("rds", "us-west-2")
    name = unique("copied")
    available_db(db, rds, name, BackupRetentionPeriod=0)
    snapshot = rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")["DBSnapshot"]
    wait_snapshot(db, rds, f"{name}-s")
    here = rds.copy_db_snapshot(SourceDBSnapshotIdentifier=f"{name}-s",
                                TargetDBSnapshotIdentifier=f"{name}-here")["DBSnapshot"]
    assert here["Status"] == "creating"
    there = aws_cli(db, "us-west-2", "rds", "copy-db-snapshot", "--source-region", "us-east-1",
                    "--source-db-snapshot-identifier", snapshot["DBSnapshotArn"],
                    "--target-db-snapshot-identifier", f"{name}-there")["DBSnapshot"]
    # RDS UG, Copying a DB snapshot: "No progress information is displayed about copy requests while they are in
    # the queue" (status pending, API Reference DBSnapshot.Status)
    assert there["Status"] == "pending" and there["PercentProgress"] == 0
    seen_here: list[tuple[str, float]] = []
    seen_there: list[tuple[str, float]] = []
    for _ in range(60):
        for client, snapshot_name, seen in ((rds, f"{name}-here", seen_here), (west, f"{name}-there", seen_there)):
            state = snapshot_status(client, snapshot_name)
            if not seen or seen[-1][0] != state:
                seen.append((state, sim_now(db)))
        if seen_there[-1][0] == "available":
            break
        advance(db, "30s")
    assert [state for state, _ in seen_here] == ["creating", "available"]
    assert [state for state, _ in seen_there] == ["pending", "creating", "available"]
    queue, creating = MODEL.rds_copy(0.001, cross_region=True)
    assert abs(durations_of(seen_there)["pending"] - queue) <= 30
    assert abs(durations_of(seen_there)["creating"] - creating) <= 30
    assert durations_of(seen_here)["creating"] < durations_of(seen_there)["creating"]
    events = [e["Message"] for e in west.describe_events(SourceType="db-snapshot", SourceIdentifier=f"{name}-there",
                                                         Duration=60)["Events"]]
    assert events == ["Finished cross region DB snapshot copy"]


def test_a_same_region_copy_names_no_source_snapshot(db):
    """API Reference, DBSnapshot.SourceDBSnapshotIdentifier: set "in the case of a ... cross-Region copy" only."""
    rds = db.client("rds")
    name = unique("localcopy")
    available_db(db, rds, name, BackupRetentionPeriod=0)
    rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")
    wait_snapshot(db, rds, f"{name}-s")
    copied = rds.copy_db_snapshot(SourceDBSnapshotIdentifier=f"{name}-s",
                                  TargetDBSnapshotIdentifier=f"{name}-c")["DBSnapshot"]
    assert "SourceDBSnapshotIdentifier" not in copied
    wait_snapshot(db, rds, f"{name}-c")
    shown = aws_cli(db, "us-east-1", "rds", "describe-db-snapshots", "--db-snapshot-identifier", f"{name}-c")
    assert "SourceDBSnapshotIdentifier" not in shown["DBSnapshots"][0]


def west_key(handle: Any) -> str:
    """A KMS key of us-west-2 (the destination Region of the tests' copies and replicas)."""
    return handle.client("kms", "us-west-2").create_key(Description="RDS copies in us-west-2")["KeyMetadata"]["Arn"]


def test_an_encrypted_cross_region_copy_or_replica_needs_a_key_of_the_destination_region(db):
    """API Reference, CopyDBSnapshot, CreateDBInstanceReadReplica: KmsKeyId "for the destination AWS Region"."""
    rds, west = db.client("rds"), db.client("rds", "us-west-2")
    name = unique("sealed")
    source = available_db(db, rds, name, BackupRetentionPeriod=1, StorageEncrypted=True)
    assert source["StorageEncrypted"] is True
    snapshot = rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")["DBSnapshot"]
    wait_snapshot(db, rds, f"{name}-s")
    wait_available(db, rds, name)
    with pytest.raises(ClientError) as refused:
        west.copy_db_snapshot(SourceDBSnapshotIdentifier=snapshot["DBSnapshotArn"],
                              TargetDBSnapshotIdentifier=f"{name}-dr", SourceRegion="us-east-1")
    assert error_code(refused) == "InvalidParameterValue"
    assert "Must specify new KMS key for cross region encrypted snapshot copy" in str(refused.value)
    with pytest.raises(ClientError):
        west.describe_db_snapshots(DBSnapshotIdentifier=f"{name}-dr")
    key = west_key(db)
    copy = west.copy_db_snapshot(SourceDBSnapshotIdentifier=snapshot["DBSnapshotArn"], KmsKeyId=key,
                                 TargetDBSnapshotIdentifier=f"{name}-dr", SourceRegion="us-east-1")["DBSnapshot"]
    assert copy["Encrypted"] is True and copy["KmsKeyId"] == key

    refusal = cli_refusal(db, "us-west-2", "rds", "create-db-instance-read-replica", "--db-instance-identifier",
                          f"{name}-west", "--source-db-instance-identifier", source["DBInstanceArn"],
                          "--source-region", "us-east-1")
    assert "InvalidParameterCombination" in refusal
    assert "Cannot create a cross region unencrypted read replica from encrypted source" in refusal
    with pytest.raises(west.exceptions.DBInstanceNotFoundFault):
        west.describe_db_instances(DBInstanceIdentifier=f"{name}-west")
    assert status(rds, name) == "available"  # nothing was started on the source
    replica = aws_cli(db, "us-west-2", "rds", "create-db-instance-read-replica", "--db-instance-identifier",
                      f"{name}-west", "--source-db-instance-identifier", source["DBInstanceArn"],
                      "--source-region", "us-east-1", "--kms-key-id", key)["DBInstance"]
    assert replica["StorageEncrypted"] is True and replica["KmsKeyId"] == key


def test_an_encrypted_snapshot_is_shared_with_accounts_but_never_made_public(db):
    """API Reference, ModifyDBSnapshotAttribute: an encrypted snapshot is shared with accounts; "You can't use all"."""
    rds = db.client("rds")
    name = unique("private")
    available_db(db, rds, name, BackupRetentionPeriod=0, StorageEncrypted=True)
    rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")
    wait_snapshot(db, rds, f"{name}-s")
    refusal = cli_refusal(db, "us-east-1", "rds", "modify-db-snapshot-attribute", "--db-snapshot-identifier",
                          f"{name}-s", "--attribute-name", "restore", "--values-to-add", "all")
    assert "InvalidParameterValue" in refusal and "encrypted" in refusal

    def shared() -> list[str]:
        attributes = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=f"{name}-s")[
            "DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
        return [value for attribute in attributes if attribute["AttributeName"] == "restore"
                for value in attribute.get("AttributeValues", [])]

    assert shared() == []
    with pytest.raises(ClientError) as refused:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=f"{name}-s", AttributeName="restore",
                                         ValuesToAdd=["111122223333", "all"])
    assert error_code(refused) == "InvalidParameterValue" and shared() == []
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=f"{name}-s", AttributeName="restore",
                                     ValuesToAdd=["111122223333"])
    assert shared() == ["111122223333"]


# -- restores ---------------------------------------------------------------------------------------------

def test_a_restore_from_a_snapshot_takes_the_restore_time_and_is_inaccessible_meanwhile(db):
    rds = db.client("rds")
    name = unique("restorable")
    available_db(db, rds, name, BackupRetentionPeriod=0)
    insert(db, name, "X-1")
    rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")
    wait_snapshot(db, rds, f"{name}-s")
    restored = aws_cli(db, "us-east-1", "rds", "restore-db-instance-from-db-snapshot", "--db-instance-identifier",
                       f"{name}-r", "--db-snapshot-identifier", f"{name}-s")["DBInstance"]
    assert restored["DBInstanceStatus"] == "creating" and "Endpoint" not in restored
    with pytest.raises(LabError, match="is creating"):
        order_ids(db, f"{name}-r")
    seen = wait_available(db, rds, f"{name}-r", step="30s")
    assert [state for state, _ in seen] == ["creating", "available"]  # retention 0: no first backup
    assert abs(durations_of(seen)["creating"] - MODEL.rds_restore(20)) <= 30
    assert order_ids(db, f"{name}-r") == ["X-1"]


def test_point_in_time_restore_replays_the_log_written_after_the_nearest_automated_snapshot(db):
    rds = db.client("rds")
    name = unique("replay")
    backup_hour = datetime.fromtimestamp(sim_now(db) + 12 * 3600, tz=UTC).hour  # no daily backup in this test
    available_db(db, rds, name, BackupRetentionPeriod=1, PreferredBackupWindow=f"{backup_hour:02d}:00-"
                                                                               f"{backup_hour:02d}:30")
    first_backup = rds.describe_db_snapshots(DBInstanceIdentifier=name,
                                             SnapshotType="automated")["DBSnapshots"][0]["SnapshotCreateTime"]
    soon = first_backup.timestamp() + 60
    advance(db, "3h")
    later = sim_now(db) - 600
    finished: dict[str, float] = {}
    for target, when in ((f"{name}-soon", soon), (f"{name}-later", later)):
        rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=name, TargetDBInstanceIdentifier=target,
                                                 RestoreTime=moment(when), BackupRetentionPeriod=0)
    started = sim_now(db)
    for _ in range(200):
        for target in (f"{name}-soon", f"{name}-later"):
            if target not in finished and status(rds, target) == "available":
                finished[target] = sim_now(db) - started
        if len(finished) == 2:
            break
        advance(db, "30s")
    # RDS UG, Restoring to a specified time: the nearest automated snapshot, then the transaction logs up to T
    assert abs(finished[f"{name}-soon"] - MODEL.rds_restore(20, log_seconds=60)) <= 30
    replay = MODEL["rds.pitr.replay_ratio"] * (later - soon)
    assert abs(finished[f"{name}-later"] - finished[f"{name}-soon"] - replay) <= 30


# -- reboots and failovers --------------------------------------------------------------------------------

def test_a_reboot_is_a_short_outage_and_needs_an_available_instance(db):
    rds = db.client("rds")
    name = unique("reboot")
    create_db(rds, name, BackupRetentionPeriod=0)
    with pytest.raises(ClientError) as refused:
        rds.reboot_db_instance(DBInstanceIdentifier=name)  # RDS UG, Rebooting: the instance must be available
    assert error_code(refused) == "InvalidDBInstanceState"
    wait_available(db, rds, name)
    answered = aws_cli(db, "us-east-1", "rds", "reboot-db-instance", "--db-instance-identifier", name)
    assert answered["DBInstance"]["DBInstanceStatus"] == "rebooting"
    with pytest.raises(LabError, match="is rebooting"):
        sql(db, name, "SELECT 1")
    seen = walk(db, lambda: status(rds, name), step="10s")
    assert abs(durations_of(seen)["rebooting"] - MODEL.rds_reboot(20, failover=False)) <= 10


def test_an_az_power_loss_fails_a_multi_az_instance_over_even_while_it_backs_up(db):
    rds = db.client("rds")
    name = unique("azloss")
    create_db(rds, name, MultiAZ=True, AvailabilityZone="us-east-1c", BackupRetentionPeriod=1)
    walk(db, lambda: status(rds, name), until="backing-up", step="30s")
    db.lab("fail", "az-power-interruption", "--param", "az=us-east-1c", "--param", "duration=10m")
    assert status(rds, name) == "rebooting"
    seen = walk(db, lambda: status(rds, name), step="10s")
    # RDS UG, Multi-AZ deployments: "Failover times are typically 60-120 seconds"; the first backup goes on after
    assert [state for state, _ in seen] == ["rebooting", "backing-up", "available"]
    assert 60 <= durations_of(seen)["rebooting"] <= 130
    advance(db, f"{int(MODEL.rds_failover_az_update())}s")
    shown = described(rds, name)
    assert (shown["AvailabilityZone"], shown["SecondaryAvailabilityZone"]) == ("us-east-1a", "us-east-1c")


# -- deleting, final snapshots, retained automated backups -------------------------------------------------

def test_deleting_needs_a_final_snapshot_or_skipping_it_and_lasts_until_the_final_snapshot_exists(db):
    rds = db.client("rds")
    name = unique("deleted")
    available_db(db, rds, name, BackupRetentionPeriod=1)
    insert(db, name, "D-1")
    # API Reference, DeleteDBInstance: without SkipFinalSnapshot "you must specify the FinalDBSnapshotIdentifier"
    with pytest.raises(ClientError) as refused:
        rds.delete_db_instance(DBInstanceIdentifier=name)
    assert error_code(refused) == "InvalidParameterCombination"
    assert str(refused.value).endswith("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
    said = cli_refusal(db, "us-east-1", "rds", "delete-db-instance", "--db-instance-identifier", name)
    assert "InvalidParameterCombination" in said and "FinalDBSnapshotIdentifier is required" in said
    # "Specifying this parameter and also skipping the creation of a final DB snapshot with the SkipFinalSnapshot
    # parameter results in an error" (API Reference, DeleteDBInstance: FinalDBSnapshotIdentifier)
    with pytest.raises(ClientError) as refused:
        rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True,
                               FinalDBSnapshotIdentifier=f"{name}-both")
    assert error_code(refused) == "InvalidParameterCombination" and "both" in str(refused.value)
    assert status(rds, name) == "available"
    answered = aws_cli(db, "us-east-1", "rds", "delete-db-instance", "--db-instance-identifier", name,
                       "--final-db-snapshot-identifier", f"{name}-final")["DBInstance"]
    # "If you request a final DB snapshot, the status of the Amazon RDS DB instance is deleting until the DB
    # snapshot is created" (API Reference, DeleteDBInstance)
    assert answered["DBInstanceStatus"] == "deleting"
    assert status(rds, name) == "deleting" and snapshot_status(rds, f"{name}-final") == "creating"
    assert name in [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    with pytest.raises(LabError, match="is deleting"):
        sql(db, name, "SELECT 1")
    with pytest.raises(ClientError) as refused:
        create_db(rds, name)
    assert error_code(refused) == "DBInstanceAlreadyExists"
    seen = walk(db, lambda: status_or_gone(rds, name), until="gone", step="30s")
    assert snapshot_status(rds, f"{name}-final") == "available"
    assert abs(durations_of(seen)["deleting"] - (MODEL.rds_snapshot(0.001) + MODEL.rds_delete(None))) <= 30
    # DeleteAutomatedBackups defaults to true: nothing of it is retained
    assert name not in [b["DBInstanceIdentifier"] for b in
                        rds.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]]


def test_a_replica_is_deleted_without_a_final_snapshot(db):
    rds = db.client("rds")
    name = unique("withreplica")
    available_db(db, rds, name, BackupRetentionPeriod=1)
    rds.create_db_instance_read_replica(DBInstanceIdentifier=f"{name}-r", SourceDBInstanceIdentifier=name)
    with pytest.raises(ClientError) as refused:
        rds.delete_db_instance(DBInstanceIdentifier=f"{name}-r", FinalDBSnapshotIdentifier=f"{name}-rf")
    assert error_code(refused) == "InvalidParameterCombination"
    assert "FinalDBSnapshotIdentifier can not be specified when deleting a replica instance" in str(refused.value)


def test_retained_automated_backups_restore_a_deleted_instance(db):
    rds = db.client("rds")
    name = unique("accident")
    available_db(db, rds, name, BackupRetentionPeriod=2)
    insert(db, name, "K-1", "K-2")
    advance(db, "10m")
    rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True, DeleteAutomatedBackups=False)
    wait_gone = walk(db, lambda: status_or_gone(rds, name), until="gone", step="1m")
    assert wait_gone[0][0] == "deleting"
    # RDS UG, Deleting a DB instance: with DeleteAutomatedBackups false "RDS keeps them for the retention period";
    # API Reference, DBInstanceAutomatedBackup.Status: retained
    listed = aws_cli(db, "us-east-1", "rds", "describe-db-instance-automated-backups",
                     "--db-instance-identifier", name)["DBInstanceAutomatedBackups"]
    assert [b["Status"] for b in listed] == ["retained"] and listed[0]["BackupRetentionPeriod"] == 2
    backup = listed[0]
    assert backup["DBInstanceAutomatedBackupsArn"].startswith("arn:aws:rds:us-east-1:000000000000:auto-backup:ab-")
    restored = rds.restore_db_instance_to_point_in_time(SourceDbiResourceId=backup["DbiResourceId"],
                                                        TargetDBInstanceIdentifier=f"{name}-back",
                                                        UseLatestRestorableTime=True)["DBInstance"]
    assert restored["DBInstanceStatus"] == "creating"
    aws_cli(db, "us-east-1", "rds", "restore-db-instance-to-point-in-time",
            "--source-db-instance-automated-backups-arn", backup["DBInstanceAutomatedBackupsArn"],
            "--target-db-instance-identifier", f"{name}-arn", "--restore-time", backup["RestoreWindow"]["LatestTime"])
    wait_available(db, rds, f"{name}-back")
    wait_available(db, rds, f"{name}-arn")
    assert order_ids(db, f"{name}-back") == ["K-1", "K-2"] == order_ids(db, f"{name}-arn")

    with pytest.raises(ClientError) as refused:  # only a retained automated backup is deleted this way
        rds.delete_db_instance_automated_backup(DbiResourceId=described(rds, f"{name}-back")["DbiResourceId"])
    assert error_code(refused) == "InvalidDBInstanceAutomatedBackupState"
    deleted = aws_cli(db, "us-east-1", "rds", "delete-db-instance-automated-backup", "--dbi-resource-id",
                      backup["DbiResourceId"])["DBInstanceAutomatedBackup"]
    assert deleted["Status"] == "deleting"
    # The wire code is DBInstanceAutomatedBackupNotFound: boto3's exception class catches it
    with pytest.raises(rds.exceptions.DBInstanceAutomatedBackupNotFoundFault) as missing:
        rds.describe_db_instance_automated_backups(DbiResourceId=backup["DbiResourceId"])
    assert error_code(missing) == "DBInstanceAutomatedBackupNotFound"
    with pytest.raises(rds.exceptions.DBInstanceAutomatedBackupNotFoundFault):
        rds.restore_db_instance_to_point_in_time(SourceDbiResourceId=backup["DbiResourceId"],
                                                 TargetDBInstanceIdentifier=unique("never"),
                                                 UseLatestRestorableTime=True)


def status_or_gone(rds: Any, name: str) -> str:
    try:
        return status(rds, name)
    except rds.exceptions.DBInstanceNotFoundFault:
        return "gone"


# -- stopping and starting --------------------------------------------------------------------------------

def test_a_stopped_instance_is_stopping_then_stopped_and_starting_then_available(db):
    """StopDBInstance: `stopping`, then `stopped`, its snapshot taken first (API Reference, DBSnapshotIdentifier:
    "created immediately before the DB instance is stopped"); StartDBInstance: `starting`, then `available`.
    Neither is accepted halfway (InvalidDBInstanceState, AWS's words)."""
    rds = db.client("rds")
    name = unique("stoppable")
    available_db(db, rds, name, BackupRetentionPeriod=0)
    insert(db, name, "S-1")
    shown = rds.stop_db_instance(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-before")["DBInstance"]
    assert shown["DBInstanceStatus"] == "stopping"
    assert snapshot_status(rds, f"{name}-before") == "creating"
    with pytest.raises(ClientError) as refused:
        rds.start_db_instance(DBInstanceIdentifier=name)
    assert error_code(refused) == "InvalidDBInstanceState"
    assert refused.value.response["Error"]["Message"] == f"Instance {name} is not stopped, it cannot be started."
    seen = walk(db, lambda: status(rds, name), until="stopped")
    assert abs(durations_of(seen)["stopping"] - MODEL.rds_stop()) <= 30
    with pytest.raises(LabError):  # no connections to a stopped instance
        sql(db, name, "SELECT 1")
    shown = rds.start_db_instance(DBInstanceIdentifier=name)["DBInstance"]
    assert shown["DBInstanceStatus"] == "starting"
    with pytest.raises(ClientError) as refused:
        rds.stop_db_instance(DBInstanceIdentifier=name)
    assert error_code(refused) == "InvalidDBInstanceState"
    seen = wait_available(db, rds, name, step="30s")
    assert abs(durations_of(seen)["starting"] - MODEL.rds_start()) <= 30
    assert order_ids(db, name) == ["S-1"]
    events = [e["Message"] for e in rds.describe_events(SourceType="db-instance", SourceIdentifier=name,
                                                        Duration=60)["Events"]]
    assert events[-2:] == ["DB instance stopped", "DB instance started"]


def test_rds_starts_an_instance_left_stopped_for_seven_days(db):
    """RDS User Guide, Stopping an Amazon RDS DB instance temporarily: "You can stop a DB instance for up to
    seven days. If you don't manually start your DB instance after seven days, RDS automatically starts" it."""
    rds = db.client("rds")
    name = unique("forgotten")
    available_db(db, rds, name, BackupRetentionPeriod=0)
    rds.stop_db_instance(DBInstanceIdentifier=name)
    walk(db, lambda: status(rds, name), until="stopped")
    advance(db, "6d23h")
    assert status(rds, name) == "stopped"
    advance(db, "1h")
    assert status(rds, name) == "starting"
    wait_available(db, rds, name, step="1m")
    events = [e["Message"] for e in rds.describe_events(SourceType="db-instance", SourceIdentifier=name,
                                                        Duration=120)["Events"]]
    assert "DB instance is being started due to it exceeding the maximum allowed time being stopped." in events


def replicated_db(db: Any, rds: Any, prefix: str, retention: int) -> tuple[str, str]:
    """A new available instance and its available read replica `<name>-r`: (name, replica)."""
    name = unique(prefix)
    available_db(db, rds, name, BackupRetentionPeriod=retention)
    replica = f"{name}-r"
    rds.create_db_instance_read_replica(DBInstanceIdentifier=replica, SourceDBInstanceIdentifier=name)
    wait_available(db, rds, replica)
    wait_available(db, rds, name)
    return name, replica


def test_an_instance_with_a_read_replica_and_the_replica_cannot_be_stopped(db):
    """RDS UG, Stopping a DB instance, Limitations: not one "that has a read replica, or that is a read replica"."""
    rds = db.client("rds")
    name, replica = replicated_db(db, rds, "replicated", 1)
    with pytest.raises(ClientError) as refused:
        rds.stop_db_instance(DBInstanceIdentifier=name)
    assert error_code(refused) == "InvalidDBInstanceState" and replica in str(refused.value)
    refusal = cli_refusal(db, "us-east-1", "rds", "stop-db-instance", "--db-instance-identifier", replica)
    assert "InvalidDBInstanceState" in refusal and "Read-Replica" in refusal
    assert status(rds, name) == "available" and status(rds, replica) == "available"
    rds.promote_read_replica(DBInstanceIdentifier=replica)  # two stand-alone instances from now on
    wait_available(db, rds, replica, step="30s")
    assert rds.stop_db_instance(DBInstanceIdentifier=replica)["DBInstance"]["DBInstanceStatus"] == "stopping"
    assert rds.stop_db_instance(DBInstanceIdentifier=name)["DBInstance"]["DBInstanceStatus"] == "stopping"


# -- read replicas ----------------------------------------------------------------------------------------

def test_a_cross_region_replica_is_a_snapshot_a_copy_and_a_restore_and_starts_without_backups(db):
    rds, west = db.client("rds"), db.client("rds", "us-west-2")
    name = unique("primary")
    source = available_db(db, rds, name, BackupRetentionPeriod=7)
    replica = f"{name}-west"
    shown = aws_cli(db, "us-west-2", "rds", "create-db-instance-read-replica", "--db-instance-identifier", replica,
                    "--source-db-instance-identifier", source["DBInstanceArn"],
                    "--source-region", "us-east-1")["DBInstance"]
    # API Reference, CreateDBInstanceReadReplica: "RDS creates read replicas with backups disabled"
    assert shown["DBInstanceStatus"] == "creating" and shown["BackupRetentionPeriod"] == 0
    assert status(rds, name) == "modifying"  # RDS UG, cross-Region read replicas: the source's snapshot
    seen = wait_available(db, west, replica, step="30s")
    written = 0.001
    expected = (MODEL.rds_snapshot(written) + sum(MODEL.rds_copy(written, cross_region=True))
                + MODEL.rds_restore(20))
    assert abs(durations_of(seen)["creating"] - expected) <= 30
    assert described(west, replica)["BackupRetentionPeriod"] == 0
    west.promote_read_replica(DBInstanceIdentifier=replica)
    seen = wait_available(db, west, replica, step="30s")
    # RDS UG, Working with read replicas: replication stops and the replica reboots; then its first backup
    # (PromoteReadReplica BackupRetentionPeriod "Default: 1")
    assert [state for state, _ in seen] == ["modifying", "rebooting", "backing-up", "available"]
    assert described(west, replica)["BackupRetentionPeriod"] == 1


def test_a_read_replica_is_never_made_over_an_instance_of_its_name(db):
    """API Reference, CreateDBInstanceReadReplica, Errors: DBInstanceAlreadyExists (the identifier is taken)."""
    rds = db.client("rds")
    name, replica = replicated_db(db, rds, "twice", 7)
    created = described(rds, replica)["InstanceCreateTime"]
    refusal = cli_refusal(db, "us-east-1", "rds", "create-db-instance-read-replica", "--db-instance-identifier",
                          replica, "--source-db-instance-identifier", name)
    assert "DBInstanceAlreadyExists" in refusal
    for taken in (replica, name):
        with pytest.raises(ClientError) as again:
            rds.create_db_instance_read_replica(DBInstanceIdentifier=taken, SourceDBInstanceIdentifier=name)
        assert error_code(again) == "DBInstanceAlreadyExists"
    rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")
    wait_snapshot(db, rds, f"{name}-s")
    with pytest.raises(ClientError) as restore:  # the words of a restore over a taken name
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=replica, DBSnapshotIdentifier=f"{name}-s")
    assert error_code(restore) == "DBInstanceAlreadyExists"
    assert again.value.response["Error"]["Message"] == restore.value.response["Error"]["Message"]
    assert restore.value.response["Error"]["Message"] in refusal
    shown = described(rds, replica)
    assert shown["DBInstanceStatus"] == "available" and shown["InstanceCreateTime"] == created
    assert shown["ReadReplicaSourceDBInstanceIdentifier"] == name
    assert described(rds, name)["ReadReplicaDBInstanceIdentifiers"] == [replica]


# -- AWS Backup's recovery points of RDS ------------------------------------------------------------------

def test_an_aws_backup_recovery_point_of_an_instance_is_an_awsbackup_db_snapshot(db):
    rds = db.client("rds")
    name = unique("protected")
    instance = available_db(db, rds, name, BackupRetentionPeriod=0)
    insert(db, name, "B-1")
    iam, backup = db.client("iam"), db.client("backup")
    role = f"backup-{name}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    backup.create_backup_vault(BackupVaultName=f"vault-{name}")
    job = backup.start_backup_job(BackupVaultName=f"vault-{name}", ResourceArn=instance["DBInstanceArn"],
                                  IamRoleArn=f"arn:aws:iam::000000000000:role/{role}")
    snapshot_id = f"awsbackup:job-{job['BackupJobId'].lower()}"
    # An on-demand job waits in CREATED until AWS Backup starts it; then the snapshot is taken.
    assert backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "CREATED"
    advance(db, f"{Durations().backup_job_queue() + 1:.0f}s")
    job = backup.describe_backup_job(BackupJobId=job["BackupJobId"])
    assert job["State"] == "RUNNING"
    # AWS Backup DG, Working with backups: an RDS recovery point is the DB snapshot awsbackup:job-<id>
    assert job["RecoveryPointArn"] == f"arn:aws:rds:us-east-1:000000000000:snapshot:{snapshot_id}"
    insert(db, name, "B-2")  # after the backup
    listed = aws_cli(db, "us-east-1", "rds", "describe-db-snapshots", "--snapshot-type", "awsbackup",
                     "--db-instance-identifier", name)["DBSnapshots"]
    assert [(s["DBSnapshotIdentifier"], s["SnapshotType"], s["Status"]) for s in listed] == [
        (snapshot_id, "awsbackup", "creating")]
    # DescribeDBSnapshots without SnapshotType: "both automated and manual snapshots are returned"
    assert all(s["DBSnapshotIdentifier"] != snapshot_id
               for s in rds.describe_db_snapshots(DBInstanceIdentifier=name)["DBSnapshots"])
    advance(db, "1h")
    assert backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "COMPLETED"
    assert snapshot_status(rds, snapshot_id) == "available"
    metadata = backup.get_recovery_point_restore_metadata(BackupVaultName=f"vault-{name}",
                                                          RecoveryPointArn=job["RecoveryPointArn"])["RestoreMetadata"]
    assert metadata["DBInstanceClass"] == "db.t3.micro" and metadata["Engine"] == "postgres"
    with pytest.raises(ClientError) as refused:
        rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot_id)
    assert error_code(refused) == "InvalidParameterValue"
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=f"{name}-r", DBSnapshotIdentifier=snapshot_id)
    wait_available(db, rds, f"{name}-r")
    assert order_ids(db, f"{name}-r") == ["B-1"]
    backup.delete_recovery_point(BackupVaultName=f"vault-{name}", RecoveryPointArn=job["RecoveryPointArn"])
    assert rds.describe_db_snapshots(SnapshotType="awsbackup", DBInstanceIdentifier=name)["DBSnapshots"] == []



def test_aws_backup_s_snapshots_of_an_instance_are_incremental_after_the_first(db):
    """RDS User Guide, Creating a DB snapshot: "The first snapshot of a DB instance contains the data for the
    full DB instance. Subsequent snapshots of the same DB instance are incremental": AWS Backup's jobs take
    RDS snapshots, so a second job copies only what changed and runs for less time. At a snapshot rate of
    100 bytes a second, the sample instance's few dozen KiB take minutes, a new row seconds."""
    rds, backup = db.client("rds"), db.client("backup")
    name = unique("incremental")
    instance = available_db(db, rds, name, BackupRetentionPeriod=0)
    insert(db, name, "I-1")
    role = backup_setup(db, name)
    admin(db).post("durations", {"set": {"rds.snapshot.rate": 100 / 2**20}})
    try:
        running = []
        for order in ("I-2", "I-3"):
            insert(db, name, order)
            job_id = backup.start_backup_job(BackupVaultName=f"vault-{name}", ResourceArn=instance["DBInstanceArn"],
                                             IamRoleArn=role)["BackupJobId"]
            advance(db, f"{MODEL.backup_job_queue() + 1:.0f}s")
            job = backup.describe_backup_job(BackupJobId=job_id)
            assert job["State"] == "RUNNING"
            running.append((job["ExpectedCompletionDate"] - job["CreationDate"]).total_seconds()
                           - MODEL.backup_job_queue())
            advance(db, "6h")
            assert backup.describe_backup_job(BackupJobId=job_id)["State"] == "COMPLETED"
    finally:
        admin(db).post("durations", {"reset": True})
    full, incremental = running
    assert full > MODEL["rds.snapshot.base"] + 120  # its whole data, at 100 B/s
    assert MODEL["rds.snapshot.base"] <= incremental < MODEL["rds.snapshot.base"] + 30  # one row's change


def backup_setup(handle: Any, name: str, regions: tuple[str, ...] = ("us-east-1",)) -> str:
    """A role AWS Backup may assume and a vault `vault-<name>` in each of `regions`; returns the role's ARN."""
    handle.client("iam").create_role(RoleName=f"backup-{name}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    for region in regions:
        handle.client("backup", region).create_backup_vault(BackupVaultName=f"vault-{name}")
    return f"arn:aws:iam::000000000000:role/backup-{name}"


def completed_backup(handle: Any, name: str, arn: str, role: str) -> dict[str, Any]:
    backup = handle.client("backup")
    job_id = backup.start_backup_job(BackupVaultName=f"vault-{name}", ResourceArn=arn, IamRoleArn=role)["BackupJobId"]
    advance(handle, "1h")
    job = backup.describe_backup_job(BackupJobId=job_id)
    assert job["State"] == "COMPLETED", job.get("StatusMessage")
    return job


def test_an_aws_backup_restore_of_an_instance_is_creating_while_its_job_runs_for_the_restores_time(db):
    """AWS Backup DG, Restoring an Amazon RDS database: AWS Backup restores the recovery point's DB snapshot, so
    the new instance is `creating` (RDS UG, DB instance status) for as long as RestoreDBInstanceFromDBSnapshot
    takes, then takes its first automated backup; the restore job is COMPLETED when the instance is available."""
    rds = db.client("rds")
    name = unique("abrestore")
    instance = available_db(db, rds, name, BackupRetentionPeriod=0)
    insert(db, name, "R-1")
    role = backup_setup(db, name)
    job = completed_backup(db, name, instance["DBInstanceArn"], role)
    insert(db, name, "R-2")  # after the backup: not in the restore
    metadata = db.client("backup").get_recovery_point_restore_metadata(
        BackupVaultName=f"vault-{name}", RecoveryPointArn=job["RecoveryPointArn"])["RestoreMetadata"]
    target = f"{name}-r"
    started = aws_cli(db, "us-east-1", "backup", "start-restore-job", "--recovery-point-arn",
                      job["RecoveryPointArn"], "--iam-role-arn", role, "--resource-type", "RDS", "--metadata",
                      json.dumps({**metadata, "DBInstanceIdentifier": target}))
    restore_id = started["RestoreJobId"]
    data_gib = job["BackupSizeInBytes"] / 2**30
    # the instance takes backups (CreateDBInstance's BackupRetentionPeriod "Default: 1", API Reference)
    expected = MODEL.rds_restore(20) + MODEL.rds_snapshot(data_gib)
    shown = aws_cli(db, "us-east-1", "backup", "describe-restore-job", "--restore-job-id", restore_id)
    assert shown["Status"] == "PENDING"
    assert shown["ExpectedCompletionTimeMinutes"] == -(-(MODEL.backup_restore_pending() + expected) // 60)
    advance(db, f"{MODEL.backup_restore_pending():.0f}s")
    backup = db.client("backup")

    def look() -> str:
        restore = backup.describe_restore_job(RestoreJobId=restore_id)
        return f"{restore['Status']}/{status(rds, target)}"

    assert look() == "RUNNING/creating"
    assert backup.describe_restore_job(RestoreJobId=restore_id)["CreatedResourceArn"].endswith(f":db:{target}")
    assert "Endpoint" not in described(rds, target)
    with pytest.raises(LabError, match="is creating"):
        sql(db, target, "SELECT count(*) FROM orders")
    seen = walk(db, look, until="COMPLETED/available", step="30s")
    assert [state for state, _ in seen] == ["RUNNING/creating", "RUNNING/backing-up", "COMPLETED/available"]
    lasted = durations_of(seen)
    assert abs(lasted["RUNNING/creating"] - MODEL.rds_restore(20)) <= 30
    assert abs(lasted["RUNNING/creating"] + lasted["RUNNING/backing-up"] - expected) <= 30
    assert order_ids(db, target) == ["R-1"]


def test_a_cross_region_copy_job_of_an_instances_recovery_point_is_an_awsbackup_snapshot_there(db):
    """AWS Backup DG, Creating backup copies: a copy job makes a recovery point in the destination vault; for RDS
    it is the DB snapshot awsbackup:copyjob-<copy job id> of that Region, listed by DescribeDBSnapshots with
    SnapshotType awsbackup, and available when the copy job is COMPLETED. Restored there, it holds the data."""
    rds, west_rds = db.client("rds"), db.client("rds", "us-west-2")
    name = unique("abcopy")
    instance = available_db(db, rds, name, BackupRetentionPeriod=0)
    insert(db, name, "C-1")
    role = backup_setup(db, name, ("us-east-1", "us-west-2"))
    job = completed_backup(db, name, instance["DBInstanceArn"], role)
    copy = aws_cli(db, "us-east-1", "backup", "start-copy-job", "--recovery-point-arn", job["RecoveryPointArn"],
                   "--source-backup-vault-name", f"vault-{name}", "--iam-role-arn", role,
                   "--destination-backup-vault-arn",
                   f"arn:aws:backup:us-west-2:000000000000:backup-vault:vault-{name}")
    copy_id = copy["CopyJobId"]
    snapshot_id = f"awsbackup:copyjob-{copy_id.lower()}"
    backup = db.client("backup")
    assert backup.describe_copy_job(CopyJobId=copy_id)["CopyJob"]["State"] == "RUNNING"
    queue, creating = MODEL.rds_copy(job["BackupSizeInBytes"] / 2**30, cross_region=True)
    seen = walk(db, lambda: backup.describe_copy_job(CopyJobId=copy_id)["CopyJob"]["State"], until="COMPLETED")
    assert abs(durations_of(seen)["RUNNING"] - (queue + creating)) <= 30
    done = backup.describe_copy_job(CopyJobId=copy_id)["CopyJob"]
    assert done["DestinationRecoveryPointArn"] == f"arn:aws:rds:us-west-2:000000000000:snapshot:{snapshot_id}"
    listed = aws_cli(db, "us-west-2", "rds", "describe-db-snapshots", "--snapshot-type", "awsbackup",
                     "--db-instance-identifier", name)["DBSnapshots"]
    assert [(s["DBSnapshotIdentifier"], s["SnapshotType"], s["Status"], s["SourceRegion"]) for s in listed] == [
        (snapshot_id, "awsbackup", "available", "us-east-1")]
    assert listed[0]["DBSnapshotArn"] == done["DestinationRecoveryPointArn"]
    assert listed[0]["SourceDBSnapshotIdentifier"] == job["RecoveryPointArn"]
    # the source Region keeps its own: awsbackup:job-<backup job id>
    assert [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(
        SnapshotType="awsbackup", DBInstanceIdentifier=name)["DBSnapshots"]] == [
        f"awsbackup:job-{job['BackupJobId'].lower()}"]
    west_backup = db.client("backup", "us-west-2")
    target = f"{name}-w"
    west_backup.start_restore_job(RecoveryPointArn=done["DestinationRecoveryPointArn"], IamRoleArn=role,
                                  ResourceType="RDS", Metadata={"DBInstanceIdentifier": target,
                                                                "BackupRetentionPeriod": "0"})
    advance(db, f"{MODEL.backup_restore_pending() + 1:.0f}s")
    assert status(west_rds, target) == "creating"
    seen = wait_available(db, west_rds, target, step="30s")
    assert abs(durations_of(seen)["creating"] - MODEL.rds_restore(20)) <= 30
    assert order_ids(db, target, region="us-west-2") == ["C-1"]
    # the recovery point deleted, its snapshot goes too
    west_backup.delete_recovery_point(BackupVaultName=f"vault-{name}",
                                      RecoveryPointArn=done["DestinationRecoveryPointArn"])
    assert west_rds.describe_db_snapshots(SnapshotType="awsbackup", DBInstanceIdentifier=name)["DBSnapshots"] == []

# -- last: a restart replays the same statuses at the same sim times ---------------------------------------

def test_a_restart_keeps_what_rds_is_doing(db):
    rds = db.client("rds")
    name = unique("restart")
    create_db(rds, name, BackupRetentionPeriod=1)
    advance(db, "5m")
    before = sim_now(db)
    pid = db.pid()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z")
    db.up()
    rds = db.client("rds")
    assert status(rds, name) == "creating"
    assert sim_now(db) - before < 60  # (a paused clock stays paused across the restart)
    seen = walk(db, lambda: status(rds, name), step="30s")
    assert [state for state, _ in seen] == ["creating", "backing-up", "available"]
    assert abs(seen[1][1] - (before - 300 + MODEL.rds_create(20))) <= 30


def test_encrypted_storage_without_a_key_uses_the_aws_managed_rds_key(db):
    """RDS encrypts with the account's AWS managed key aws/rds when no KmsKeyId is given, and shows its ARN
    (moto showed the placeholder "default_kms_key_id")."""
    rds, kms = db.client("rds"), db.client("kms")
    name = unique("encrypted")
    created = create_db(rds, name, StorageEncrypted=True)
    managed = kms.describe_key(KeyId="alias/aws/rds")["KeyMetadata"]["Arn"]
    assert created["KmsKeyId"] == managed and described(rds, name)["KmsKeyId"] == managed
    assert managed.startswith("arn:aws:kms:us-east-1:000000000000:key/")
    assert created["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"  # (RDS's CA for new instances)
    assert "KmsKeyId" not in described(rds, create_db(rds, unique("plain"))["DBInstanceIdentifier"])


def test_automated_backups_replicate_to_another_region_and_restore_there_after_the_source_region_is_lost(db):
    """RDS UG, Replicating automated backups to another AWS Region: started in the destination Region, the
    backups are `pending` until the newest snapshot is copied, then `replicating` with a restore window that
    trails the source's by the log copy; a point-in-time restore in the destination Region works from them, and
    stopping keeps them `retained` for their retention period."""
    rds, west = db.client("rds"), db.client("rds", "us-west-2")
    name = unique("xregion")
    source = available_db(db, rds, name, BackupRetentionPeriod=1)
    insert(db, name, "X-1")
    with pytest.raises(ClientError) as refused:  # the destination is another Region
        rds.start_db_instance_automated_backups_replication(SourceDBInstanceArn=source["DBInstanceArn"])
    assert error_code(refused) == "InvalidParameterValue"
    started = aws_cli(db, "us-west-2", "rds", "start-db-instance-automated-backups-replication",
                      "--source-db-instance-arn", source["DBInstanceArn"], "--backup-retention-period", "3")[
        "DBInstanceAutomatedBackup"]
    arn = started["DBInstanceAutomatedBackupsArn"]
    assert arn.startswith("arn:aws:rds:us-west-2:000000000000:auto-backup:ab-")
    assert (started["Status"], started["Region"], started["DBInstanceIdentifier"], started["BackupRetentionPeriod"]) \
        == ("pending", "us-east-1", name, 3)
    assert described(rds, name)["DBInstanceAutomatedBackupsReplications"] == [{"DBInstanceAutomatedBackupsArn": arn}]
    with pytest.raises(ClientError) as refused:
        west.start_db_instance_automated_backups_replication(SourceDBInstanceArn=source["DBInstanceArn"])
    assert error_code(refused) == "InvalidDBInstanceState"
    for days in (0, 36):  # (0 is refused, not taken as the default)
        with pytest.raises(ClientError) as refused:
            db.client("rds", "eu-west-1").start_db_instance_automated_backups_replication(
                SourceDBInstanceArn=source["DBInstanceArn"], BackupRetentionPeriod=days)
        assert error_code(refused) == "InvalidParameterValue" and "between 1 and 35" in str(refused.value)

    def replicated() -> dict[str, Any]:
        return west.describe_db_instance_automated_backups(DBInstanceAutomatedBackupsArn=arn)[
            "DBInstanceAutomatedBackups"][0]

    walk(db, lambda: replicated()["Status"], until="replicating", step="2m")
    insert(db, name, "X-2")
    advance(db, "20m")
    window = replicated()["RestoreWindow"]
    assert sim_now(db) - 20 * 60 <= window["LatestTime"].timestamp() < sim_now(db) - 5 * 60
    assert name not in [b["DBInstanceIdentifier"] for b in rds.describe_db_instance_automated_backups(
        Filters=[{"Name": "status", "Values": ["replicating"]}])["DBInstanceAutomatedBackups"]]

    # us-east-1 is lost: what was replicated before stays restorable in us-west-2; later writes are not there
    admin(db).post("fail", {"scenario": "region-outage", "params": {"region": "us-east-1"}})
    try:
        frozen = replicated()["RestoreWindow"]["LatestTime"]
        advance(db, "30m")
        assert replicated()["RestoreWindow"]["LatestTime"] == frozen
        restored = west.restore_db_instance_to_point_in_time(
            SourceDBInstanceAutomatedBackupsArn=arn, TargetDBInstanceIdentifier=f"{name}-dr",
            UseLatestRestorableTime=True)["DBInstance"]
        assert restored["DBInstanceStatus"] == "creating" and restored["AvailabilityZone"].startswith("us-west-2")
        wait_available(db, west, f"{name}-dr")
        assert order_ids(db, f"{name}-dr", region="us-west-2") == ["X-1", "X-2"]
    finally:
        admin(db).post("recover", {})

    stopped = west.stop_db_instance_automated_backups_replication(SourceDBInstanceArn=source["DBInstanceArn"])
    assert stopped["DBInstanceAutomatedBackup"]["DBInstanceAutomatedBackupsArn"] == arn
    assert replicated()["Status"] == "retained"
    assert "DBInstanceAutomatedBackupsReplications" not in described(rds, name) or \
        described(rds, name)["DBInstanceAutomatedBackupsReplications"] == []
    with pytest.raises(ClientError) as refused:
        west.stop_db_instance_automated_backups_replication(SourceDBInstanceArn=source["DBInstanceArn"])
    assert error_code(refused) == "InvalidDBInstanceState"
