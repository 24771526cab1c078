"""RDS checks on hand-built inventories."""

from __future__ import annotations

from checks import registry
from checks.inventory.rds import PendingChanges
from tests.unit.inventory_builder import EAST, WEST, Inv

DB = "securecart-orders-db"


def verdicts(check_id, inventory, **params):
    return [(r.resource_id, r.status, r.reason) for r in registry.run(check_id, inventory, params)]


def test_backup_retention_pass_short_and_off():
    inv = Inv().db("seven", retention=7).db("six", retention=6).db("off").build()
    assert verdicts("DB_INSTANCE_BACKUP_ENABLED", inv, backupRetentionMinimum=7) == [
        ("seven", "PASS", "backups_on"), ("six", "FAIL", "retention_too_short"), ("off", "FAIL", "backups_off")]


def test_backup_retention_six_days_when_seven_asked_says_so():
    result = registry.run("DB_INSTANCE_BACKUP_ENABLED", Inv().db(DB, retention=6).build(),
                          {"backupRetentionMinimum": 7, "dbInstanceIdentifiers": [DB]})[0]
    assert result.reason == "retention_too_short"
    assert "6 days" in result.message and "7" in result.message
    assert "--backup-retention-period 7" in result.hint


def test_backup_read_replicas_not_applicable_unless_asked():
    inv = Inv().db("replica", WEST, replica_of=f"arn:aws:rds:{EAST}:000000000000:db:{DB}").build()
    assert verdicts("DB_INSTANCE_BACKUP_ENABLED", inv) == [("replica", "NOT_APPLICABLE", "read_replica")]
    assert verdicts("DB_INSTANCE_BACKUP_ENABLED", inv, checkReadReplicas=True) == [("replica", "FAIL", "backups_off")]


def test_backup_missing_instance_and_none_at_all():
    assert verdicts("DB_INSTANCE_BACKUP_ENABLED", Inv().build(), dbInstanceIdentifiers=[DB]) == [
        (DB, "FAIL", "instance_missing")]
    assert verdicts("DB_INSTANCE_BACKUP_ENABLED", Inv().build()) == [("account", "NOT_APPLICABLE", "no_resources")]


def test_multi_az():
    inv = Inv().db(DB, multi_az=True).db("single").build()
    assert verdicts("RDS_MULTI_AZ_SUPPORT", inv) == [(DB, "PASS", "multi_az"), ("single", "FAIL", "single_az")]


def test_deletion_protection_and_encryption():
    inv = Inv().db(DB).build()
    assert verdicts("RDS_INSTANCE_DELETION_PROTECTION_ENABLED", inv) == [(DB, "FAIL", "unprotected")]
    assert verdicts("RDS_STORAGE_ENCRYPTED", inv) == [(DB, "PASS", "encrypted")]
    snaps = Inv().db_snapshot("s1", DB).db_snapshot("s2", DB, encrypted=False).build()
    assert verdicts("RDS_SNAPSHOT_ENCRYPTED", snaps) == [("s1", "PASS", "encrypted"), ("s2", "FAIL", "not_encrypted")]
    assert verdicts("RDS_SNAPSHOT_ENCRYPTED", Inv().build()) == [("account", "NOT_APPLICABLE", "no_resources")]


def test_manual_snapshot():
    assert verdicts("RDS_MANUAL_SNAPSHOT_CREATED", Inv().db(DB).db_snapshot("mine", DB).build()) == [
        (DB, "PASS", "snapshot_available")]
    assert verdicts("RDS_MANUAL_SNAPSHOT_CREATED", Inv().db(DB).db_snapshot("mine", DB, status="creating").build()) == [
        (DB, "FAIL", "snapshot_not_ready")]
    automated_only = Inv().db(DB).db_snapshot("rds:auto", DB, kind="automated").build()
    result = registry.run("RDS_MANUAL_SNAPSHOT_CREATED", automated_only)[0]
    assert (result.reason, "rds:auto" in result.message) == ("no_snapshot", True)
    assert verdicts("RDS_MANUAL_SNAPSHOT_CREATED", Inv().build()) == [(DB, "FAIL", "instance_missing")]


def test_cross_region_snapshot_copy_any_tool_counts():
    by_copy = Inv().db(DB).db_snapshot("dr-copy", DB, WEST, source_region=EAST).build()
    assert verdicts("RDS_CROSS_REGION_SNAPSHOT_COPY", by_copy) == [(DB, "PASS", "copy_available")]
    by_backup = Inv().db(DB).recovery_point(f"arn:aws:rds:{EAST}:000000000000:db:{DB}", WEST, vault="dr").build()
    result = registry.run("RDS_CROSS_REGION_SNAPSHOT_COPY", by_backup)[0]
    assert (result.status, result.evidence["copy_kind"]) == ("PASS", "recovery-point")


def test_cross_region_snapshot_copy_fails_for_reasons():
    only_local = Inv().db(DB).db_snapshot("local", DB, EAST).build()
    assert verdicts("RDS_CROSS_REGION_SNAPSHOT_COPY", only_local) == [(DB, "FAIL", "no_copy")]
    copying = Inv().db(DB).db_snapshot("dr-copy", DB, WEST, status="copying").build()
    assert verdicts("RDS_CROSS_REGION_SNAPSHOT_COPY", copying) == [(DB, "FAIL", "copy_in_progress")]
    assert verdicts("RDS_CROSS_REGION_SNAPSHOT_COPY", Inv().build()) == [(DB, "FAIL", "instance_missing")]
    assert verdicts("RDS_CROSS_REGION_SNAPSHOT_COPY", Inv().db(DB, WEST).build()) == [(DB, "FAIL", "same_region")]


def test_cross_region_read_replica():
    source_arn = f"arn:aws:rds:{EAST}:000000000000:db:{DB}"
    good = Inv().db(DB).db("any-name-replica", WEST, replica_of=source_arn).build()
    assert verdicts("RDS_CROSS_REGION_READ_REPLICA", good) == [(DB, "PASS", "replica_available")]
    creating = Inv().db(DB).db("r", WEST, replica_of=source_arn, status="creating").build()
    assert verdicts("RDS_CROSS_REGION_READ_REPLICA", creating) == [(DB, "FAIL", "replica_not_ready")]
    same_region = Inv().db(DB).db("r", EAST, replica_of=DB).build()
    assert verdicts("RDS_CROSS_REGION_READ_REPLICA", same_region) == [(DB, "FAIL", "replica_same_region")]
    assert verdicts("RDS_CROSS_REGION_READ_REPLICA", Inv().db(DB).build()) == [(DB, "FAIL", "no_replica")]


def test_a_replica_of_an_instance_of_the_same_name_in_the_dr_region_is_not_the_primary_s():
    """Lab 11 after lab 09: a restore named securecart-orders-db is left in us-west-2; a replica made of it there
    (the source given by name, in us-west-2) holds none of the primary's new orders."""
    stale = Inv().db(DB).db(DB, WEST).db("securecart-orders-db-usw2", WEST, replica_of=DB).build()
    assert verdicts("RDS_CROSS_REGION_READ_REPLICA", stale) == [(DB, "FAIL", "no_replica")]
    source_arn = f"arn:aws:rds:{EAST}:000000000000:db:{DB}"
    real = Inv().db(DB, WEST).db(DB).db("securecart-orders-db-usw2", WEST, replica_of=source_arn).build()
    assert verdicts("RDS_CROSS_REGION_READ_REPLICA", real) == [(DB, "PASS", "replica_available")]


def test_a_pending_change_is_not_applied():
    """Issue 15: a change made without --apply-immediately waits for the maintenance window; until then the
    instance runs as before, and the check says the change is only pending and how to apply it now."""
    waiting = Inv().db(DB, pending=PendingChanges(backup_retention=7, multi_az=True)).build()
    backups = registry.run("DB_INSTANCE_BACKUP_ENABLED", waiting, {})[0]
    assert (backups.status, backups.reason) == ("FAIL", "backups_off")
    assert backups.message.endswith("The change to 7 days is only pending until the maintenance window Sun 05:00 "
                                    "UTC; apply it now with --apply-immediately.")
    assert "--apply-immediately" in backups.hint
    multi_az = registry.run("RDS_MULTI_AZ_SUPPORT", waiting, {})[0]
    assert (multi_az.status, multi_az.reason) == ("FAIL", "single_az")
    assert "The change to Multi-AZ is only pending until the maintenance window Sun 05:00 UTC" in multi_az.message
    short = Inv().db(DB, retention=3, pending=PendingChanges(backup_retention=7), maintenance_window=None).build()
    result = registry.run("DB_INSTANCE_BACKUP_ENABLED", short, {})[0]
    assert result.reason == "retention_too_short" and "until the next maintenance window" in result.message
    applied = registry.run("DB_INSTANCE_BACKUP_ENABLED", Inv().db(DB, retention=7).build(), {})[0]
    assert applied.status == "PASS" and "pending" not in applied.message
