"""RDS checks: automated backups, Multi-AZ, deletion protection, encryption, snapshots and their copies
in another region, cross-region read replicas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.base import Finding, Param, check, errored, failed, not_applicable, passed
from checks.inventory.rds import DBInstance
from checks.view import InventoryView, arn_name, arn_region, scoped

DB_INSTANCE = "AWS::RDS::DBInstance"
DB_SNAPSHOT = "AWS::RDS::DBSnapshot"
ORDERS_DB = "securecart-orders-db"
READY = "available"

INSTANCES = Param("dbInstanceIdentifiers", "string_list", [], "The DB instances to check; empty: every instance.")
REGION = Param("region", "string", "", "Only instances in this region; empty: every region.")
SOURCE = Param("dbInstanceIdentifier", "string", ORDERS_DB, "The DB instance whose data must be protected.")
DESTINATION = Param("destinationRegion", "string", "us-west-2", "The region the copy must be in.")

_SCOPE_MESSAGES = {
    "instance_missing": "There is no DB instance named {resource}.",
    "no_resources": "There are no DB instances to check.",
}
_SCOPE_HINTS = {
    "instance_missing": "Check the identifier (aws rds describe-db-instances) or create the instance.",
}


def _instances(inv: InventoryView, params: dict[str, Any]) -> list[tuple[str, str, DBInstance | None]]:
    return scoped(inv.db_instances(), params["dbInstanceIdentifiers"], params["region"], key="id")


def _missing(inv: InventoryView, name: str, region: str) -> Finding:
    error = inv.collection_error("rds", region or None)
    if error:
        return errored(name, "collection_failed", region, service="RDS", error=error)
    return failed(name, "instance_missing", region)


_DAYS = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}


def maintenance_window(window: str | None) -> str:
    """"sun:05:00-sun:05:30" -> "Sun 05:00 UTC" (AWS gives the window in UTC)."""
    start = (window or "").split("-", 1)[0]
    day, _, time = start.partition(":")
    if day.lower() in _DAYS and time:
        return f"the maintenance window {_DAYS[day.lower()]} {time} UTC"
    return "the next maintenance window"


def pending_note(db: DBInstance, field: str, change: str) -> str:
    """What a ModifyDBInstance without --apply-immediately left waiting: said after a failing verdict, which
    judges the values the instance runs with ("" when nothing relevant is pending)."""
    if getattr(db.pending, field) is None:
        return ""
    return (f" {change} is only pending until {maintenance_window(db.maintenance_window)}; apply it now with "
            "--apply-immediately.")


def _source_instance(inv: InventoryView, identifier: str, away_from: str | None = None) -> DBInstance | None:
    """The instance by identifier, preferring one that is not itself a read replica, then one outside
    `away_from` (the DR region, where an instance of the same name may be an earlier restore)."""
    found = [db for db in inv.db_instances() if db.id == identifier]
    found.sort(key=lambda db: (bool(db.read_replica_source), db.region == away_from))
    return found[0] if found else None


@check(
    id="DB_INSTANCE_BACKUP_ENABLED", source="aws-config", severity="HIGH", resource_type=DB_INSTANCE,
    title="RDS instances keep automated backups long enough", services=("rds",),
    params=(Param("backupRetentionMinimum", "integer", 7, "The fewest days of automated backups accepted.",
                  minimum=1),
            Param("checkReadReplicas", "boolean", False, "Check read replicas too."),
            INSTANCES, REGION),
    messages={
        **_SCOPE_MESSAGES,
        "backups_on": "{resource} keeps automated backups for {retention} days (at least {backupRetentionMinimum} "
                      "asked).",
        "backups_off": "Automated backups are off on {resource} (retention 0 days): it cannot be restored to a "
                       "point in time.{pending_note}",
        "retention_too_short": "{resource} keeps automated backups for {retention} days; at least "
                               "{backupRetentionMinimum} are asked.{pending_note}",
        "read_replica": "{resource} is a read replica; its source's backups count.",
    },
    hints={
        **_SCOPE_HINTS,
        "backups_off": "aws rds modify-db-instance --db-instance-identifier {resource} --backup-retention-period "
                       "{backupRetentionMinimum} --apply-immediately",
        "retention_too_short": "aws rds modify-db-instance --db-instance-identifier {resource} "
                               "--backup-retention-period {backupRetentionMinimum} --apply-immediately",
    },
)
def db_instance_backup_enabled(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Automated backups (retention > 0) make point-in-time restore possible within the retention window."""
    chosen = _instances(inv, params)
    if not chosen:
        yield not_applicable("account", "no_resources")
    for name, region, db in chosen:
        if db is None:
            yield _missing(inv, name, region)
            continue
        retention = int(db.backup_retention or 0)
        pending = db.pending.backup_retention
        evidence = {"retention": retention, "backup_window": db.backup_window,
                    "latest_restorable": db.latest_restorable, "status": db.status, "pending_retention": pending,
                    "pending_note": pending_note(db, "backup_retention", f"The change to {pending} days")}
        if db.read_replica_source and not params["checkReadReplicas"]:
            yield not_applicable(name, "read_replica", region, source=db.read_replica_source, **evidence)
        elif retention <= 0:
            yield failed(name, "backups_off", region, **evidence)
        elif retention < params["backupRetentionMinimum"]:
            yield failed(name, "retention_too_short", region, **evidence)
        else:
            yield passed(name, "backups_on", region, **evidence)


@check(
    id="RDS_MULTI_AZ_SUPPORT", source="aws-config", severity="HIGH", resource_type=DB_INSTANCE,
    title="RDS instances run Multi-AZ", services=("rds",), params=(INSTANCES, REGION),
    messages={
        **_SCOPE_MESSAGES,
        "multi_az": "{resource} is Multi-AZ: primary in {az}, standby in {secondary_az}.",
        "single_az": "{resource} runs in one availability zone ({az}); losing that zone takes the database down."
                     "{pending_note}",
        "read_replica": "{resource} is a read replica; Multi-AZ is judged on its source.",
    },
    hints={
        **_SCOPE_HINTS,
        "single_az": "aws rds modify-db-instance --db-instance-identifier {resource} --multi-az --apply-immediately",
    },
)
def rds_multi_az_support(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A Multi-AZ instance keeps a synchronous standby in another zone and fails over to it."""
    chosen = _instances(inv, params)
    if not chosen:
        yield not_applicable("account", "no_resources")
    for name, region, db in chosen:
        if db is None:
            yield _missing(inv, name, region)
            continue
        evidence = {"multi_az": bool(db.multi_az), "az": db.az, "secondary_az": db.secondary_az,
                    "status": db.status, "pending_multi_az": db.pending.multi_az,
                    "pending_note": pending_note(db, "multi_az", "The change to Multi-AZ")}
        if db.read_replica_source and not params["dbInstanceIdentifiers"]:
            yield not_applicable(name, "read_replica", region, **evidence)
        elif db.multi_az:
            yield passed(name, "multi_az", region, **evidence)
        else:
            yield failed(name, "single_az", region, **evidence)


@check(
    id="RDS_INSTANCE_DELETION_PROTECTION_ENABLED", source="aws-config", severity="MEDIUM",
    resource_type=DB_INSTANCE, title="RDS instances have deletion protection", services=("rds",),
    params=(INSTANCES, REGION),
    messages={**_SCOPE_MESSAGES,
              "protected": "{resource} has deletion protection.",
              "unprotected": "{resource} can be deleted by a single call: deletion protection is off."},
    hints={**_SCOPE_HINTS,
           "unprotected": "aws rds modify-db-instance --db-instance-identifier {resource} --deletion-protection "
                          "--apply-immediately"},
)
def rds_instance_deletion_protection_enabled(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Deletion protection refuses DeleteDBInstance until it is turned off."""
    chosen = _instances(inv, params)
    if not chosen:
        yield not_applicable("account", "no_resources")
    for name, region, db in chosen:
        if db is None:
            yield _missing(inv, name, region)
        elif db.deletion_protection:
            yield passed(name, "protected", region)
        else:
            yield failed(name, "unprotected", region)


@check(
    id="RDS_STORAGE_ENCRYPTED", source="aws-config", severity="MEDIUM", resource_type=DB_INSTANCE,
    title="RDS instances encrypt their storage", services=("rds",), params=(INSTANCES, REGION),
    messages={**_SCOPE_MESSAGES,
              "encrypted": "{resource} encrypts its storage (key {kms_key}).",
              "not_encrypted": "{resource} does not encrypt its storage."},
    hints={**_SCOPE_HINTS,
           "not_encrypted": "Encryption is chosen at creation: restore an encrypted copy of a snapshot "
                            "(aws rds copy-db-snapshot --kms-key-id ...) into a new instance."},
)
def rds_storage_encrypted(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Encrypted storage also encrypts the instance's snapshots and backups."""
    chosen = _instances(inv, params)
    if not chosen:
        yield not_applicable("account", "no_resources")
    for name, region, db in chosen:
        if db is None:
            yield _missing(inv, name, region)
        elif db.storage_encrypted:
            yield passed(name, "encrypted", region, kms_key=db.kms_key)
        else:
            yield failed(name, "not_encrypted", region)


@check(
    id="RDS_SNAPSHOT_ENCRYPTED", source="aws-config", severity="MEDIUM", resource_type=DB_SNAPSHOT,
    title="RDS snapshots are encrypted", services=("rds",),
    params=(Param("dbInstanceIdentifiers", "string_list", [], "Only snapshots of these instances; empty: all."),
            REGION),
    messages={"encrypted": "Snapshot {resource} is encrypted.",
              "not_encrypted": "Snapshot {resource} of {instance} is not encrypted.",
              "no_resources": "There are no DB snapshots to check."},
    hints={"not_encrypted": "Copy it with a KMS key (aws rds copy-db-snapshot --kms-key-id alias/aws/rds) and "
                            "delete the unencrypted one."},
)
def rds_snapshot_encrypted(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """An unencrypted snapshot exposes the data to whoever can copy or share it."""
    wanted = set(params["dbInstanceIdentifiers"])
    snapshots = [s for s in inv.db_snapshots(params["region"] or None) if not wanted or s.instance in wanted]
    if not snapshots:
        yield not_applicable("account", "no_resources")
    for snapshot in snapshots:
        evidence = {"instance": snapshot.instance, "type": snapshot.type}
        if snapshot.encrypted:
            yield passed(snapshot.id, "encrypted", snapshot.region, **evidence)
        else:
            yield failed(snapshot.id, "not_encrypted", snapshot.region, **evidence)


@check(
    id="RDS_MANUAL_SNAPSHOT_CREATED", severity="MEDIUM", resource_type=DB_INSTANCE,
    title="A manual snapshot of the DB instance exists", services=("rds",),
    params=(SOURCE, Param("region", "string", "", "Only snapshots in this region; empty: any region.")),
    messages={
        "snapshot_available": "Manual snapshot {snapshot} of {resource} is available (taken {created}).",
        "snapshot_not_ready": "Manual snapshot {snapshot} of {resource} is {snapshot_status}, not available yet.",
        "no_snapshot": "There is no manual snapshot of {resource}{automated_note}.",
        "instance_missing": "There is no DB instance named {resource} and no snapshot of it.",
    },
    hints={
        "snapshot_not_ready": "Wait a little (or lab clock advance 5m) and check again.",
        "no_snapshot": "aws rds create-db-snapshot --db-instance-identifier {resource} "
                       "--db-snapshot-identifier {resource}-manual-1",
        "instance_missing": "Check the identifier with aws rds describe-db-instances.",
    },
)
def rds_manual_snapshot_created(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A manual snapshot is kept until you delete it, unlike automated backups that expire."""
    identifier = params["dbInstanceIdentifier"]
    snapshots = [s for s in inv.db_snapshots(params["region"] or None)
                 if s.instance == identifier and s.type == "manual"
                 and not (s.source_region and s.source_region != s.region)]
    source = _source_instance(inv, identifier)
    region = source.region if source else ""
    if not snapshots and source is None:
        yield failed(identifier, "instance_missing", region)
        return
    ready = [s for s in snapshots if s.status == READY]
    if ready:
        newest = max(ready, key=lambda s: s.created or "")
        yield passed(identifier, "snapshot_available", region, snapshot=newest.id, created=newest.created,
                     snapshots=[s.id for s in ready])
    elif snapshots:
        pending = snapshots[0]
        yield failed(identifier, "snapshot_not_ready", region, snapshot=pending.id,
                     snapshot_status=pending.status)
    else:
        automated = [s.id for s in inv.db_snapshots() if s.instance == identifier]
        note = f" (only automated or copied snapshots: {', '.join(automated)})" if automated else ""
        yield failed(identifier, "no_snapshot", region, automated_note=note)


def cross_region_copies(inv: InventoryView, identifier: str, destination: str) -> list[dict[str, Any]]:
    """Every copy of the instance's data in `destination` (another region than the instance's): DB
    snapshots, AWS Backup recovery points and replicated automated backups, as {kind, id, status, created}."""
    copies: list[dict[str, Any]] = []
    for snapshot in inv.db_snapshots(destination):
        if snapshot.instance == identifier:
            copies.append({"kind": "snapshot", "id": snapshot.id, "status": snapshot.status,
                           "created": snapshot.created})
    for point in inv.recovery_points(destination):
        resource = point.resource_arn or ""
        if arn_name(resource) == identifier and ":rds:" in resource:
            status = "available" if point.status == "COMPLETED" else str(point.status).lower()
            copies.append({"kind": "recovery-point", "id": point.arn, "status": status,
                           "created": point.created})
    for backup in inv.db_automated_backups(destination):
        if backup.instance == identifier and backup.source_region not in (None, "", destination):
            status = backup.status
            if status in ("replicating", "active", "available"):
                status = "available"
            copies.append({"kind": "replicated-automated-backup", "id": backup.arn, "status": status,
                           "created": backup.earliest})
    return copies


@check(
    id="RDS_CROSS_REGION_SNAPSHOT_COPY", severity="HIGH", resource_type=DB_INSTANCE,
    title="A backup of the DB instance exists in the DR region", services=("rds", "backup"),
    params=(SOURCE, DESTINATION),
    messages={
        "copy_available": "{resource} has a copy in {destinationRegion}: {copy_kind} {copy}.",
        "copy_in_progress": "The copy of {resource} in {destinationRegion} ({copy}) is {copy_status}, "
                            "not available yet.",
        "no_copy": "There is no snapshot or backup of {resource} in {destinationRegion}; losing {source_region} "
                   "would lose the database.",
        "instance_missing": "There is no DB instance named {resource}.",
        "same_region": "{resource} itself is in {destinationRegion}; the copy must be in another region than "
                       "the database.",
    },
    hints={
        "copy_in_progress": "Wait (or lab clock advance 10m) and check again.",
        "no_copy": "Copy a snapshot: aws rds copy-db-snapshot --region {destinationRegion} "
                   "--source-db-snapshot-identifier <snapshot ARN> --target-db-snapshot-identifier "
                   "{resource}-dr --source-region {source_region} (an encrypted snapshot also --kms-key-id with a "
                   "KMS key of {destinationRegion}; or let an AWS Backup copy action do it).",
        "instance_missing": "Check the identifier with aws rds describe-db-instances.",
        "same_region": "Pick the DR region (us-west-2) as the destination.",
    },
)
def rds_cross_region_snapshot_copy(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A snapshot copied to the DR region (by hand, by an AWS Backup copy action, or by automated-backup
    replication) survives the loss of the primary region."""
    identifier, destination = params["dbInstanceIdentifier"], params["destinationRegion"]
    source = _source_instance(inv, identifier, away_from=destination)
    if source is None:
        yield failed(identifier, "instance_missing")
        return
    region = source.region
    if region == destination:
        yield failed(identifier, "same_region", region)
        return
    copies = cross_region_copies(inv, identifier, destination)
    ready = [c for c in copies if c["status"] == READY]
    evidence = {"source_region": region, "copies": [c["id"] for c in copies]}
    if ready:
        newest = max(ready, key=lambda c: c.get("created") or "")
        yield passed(identifier, "copy_available", region, copy=newest["id"], copy_kind=newest["kind"], **evidence)
    elif copies:
        yield failed(identifier, "copy_in_progress", region, copy=copies[0]["id"], copy_status=copies[0]["status"],
                     **evidence)
    else:
        yield failed(identifier, "no_copy", region, **evidence)


def replica_source(db: DBInstance) -> tuple[str, str] | None:
    """(Region, identifier) of the instance `db` replicates: its ReadReplicaSourceDBInstanceIdentifier is the
    source's ARN when the source is in another Region, its name when in the replica's own."""
    source = db.read_replica_source
    if not source:
        return None
    return (arn_region(source) or db.region, arn_name(source)) if source.startswith("arn:") else (db.region, source)


def is_replica_of(db: DBInstance, source: DBInstance) -> bool:
    return db is not source and replica_source(db) == (source.region, source.id)


@check(
    id="RDS_CROSS_REGION_READ_REPLICA", severity="HIGH", resource_type=DB_INSTANCE,
    title="The DB instance has a read replica in the DR region", services=("rds",),
    params=(SOURCE, DESTINATION),
    messages={
        "replica_available": "{resource} has read replica {replica} in {destinationRegion}.",
        "replica_not_ready": "Read replica {replica} of {resource} in {destinationRegion} is {replica_status}, "
                             "not available yet.",
        "replica_same_region": "{resource} has read replicas ({replicas}), but none in {destinationRegion}.",
        "no_replica": "{resource} has no read replica in {destinationRegion}.",
        "instance_missing": "There is no DB instance named {resource}.",
    },
    hints={
        "replica_not_ready": "Wait (or lab clock advance 15m) and check again.",
        "replica_same_region": "Create the replica in the DR region: aws rds create-db-instance-read-replica "
                               "--region {destinationRegion} --db-instance-identifier {resource}-replica "
                               "--source-db-instance-identifier <ARN of {resource}> (encrypted: also "
                               "--kms-key-id with a KMS key of {destinationRegion})",
        "no_replica": "aws rds create-db-instance-read-replica --region {destinationRegion} "
                      "--db-instance-identifier {resource}-replica --source-db-instance-identifier <ARN of {resource}> "
                      "(encrypted: also --kms-key-id with a KMS key of {destinationRegion})",
        "instance_missing": "Check the identifier with aws rds describe-db-instances.",
    },
)
def rds_cross_region_read_replica(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A cross-region read replica keeps a live copy of the data in the DR region (pilot light / warm
    standby) that can be promoted within minutes."""
    identifier, destination = params["dbInstanceIdentifier"], params["destinationRegion"]
    source = _source_instance(inv, identifier, away_from=destination)
    if source is None:
        yield failed(identifier, "instance_missing")
        return
    region = source.region
    replicas = [db for db in inv.db_instances() if is_replica_of(db, source)]
    there = [db for db in replicas if db.region == destination]
    ready = [db for db in there if db.status == READY]
    if ready:
        yield passed(identifier, "replica_available", region, replica=ready[0].id)
    elif there:
        yield failed(identifier, "replica_not_ready", region, replica=there[0].id,
                     replica_status=there[0].status)
    elif replicas:
        yield failed(identifier, "replica_same_region", region,
                     replicas=[f"{db.id} ({db.region})" for db in replicas])
    else:
        yield failed(identifier, "no_replica", region)
