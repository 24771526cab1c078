"""RDS into the inventory (checks.inventory.rds): DB instances, snapshots and automated backups, and for the
instances the lab's data plane serves, their orders (with part "rds.orders", every order id they hold)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from checks.inventory.rds import RDS, AutomatedBackup, DBInstance, DBSnapshot, Endpoint, Orders, PendingChanges
from lab.inventory.convert import by_key, iso, tag_dict

if TYPE_CHECKING:
    from lab.inventory.collector import Collector


def collect(c: Collector, region: str) -> RDS:
    rds = c.client("rds", region)
    shown: list[dict[str, Any]] = []
    for page in rds.get_paginator("describe_db_instances").paginate():
        shown.extend(page.get("DBInstances", []))
    orders: dict[str, Orders] = {}
    if c.wants("rds.orders"):
        orders = c.attempt("rds", region, "order digests", lambda: c.source.instance_orders(region), None) or {}
    instances = {}
    for db in shown:
        identifier = db["DBInstanceIdentifier"]
        endpoint = db.get("Endpoint") or {}
        instances[identifier] = DBInstance(
            id=identifier, region=region, arn=db.get("DBInstanceArn") or "", status=db.get("DBInstanceStatus"),
            engine=db.get("Engine"), engine_version=db.get("EngineVersion"), instance_class=db.get("DBInstanceClass"),
            az=db.get("AvailabilityZone"), secondary_az=db.get("SecondaryAvailabilityZone"),
            multi_az=bool(db.get("MultiAZ")), backup_retention=db.get("BackupRetentionPeriod", 0),
            backup_window=db.get("PreferredBackupWindow"), latest_restorable=iso(db.get("LatestRestorableTime")),
            deletion_protection=bool(db.get("DeletionProtection")), storage_encrypted=bool(db.get("StorageEncrypted")),
            kms_key=db.get("KmsKeyId"), created=iso(db.get("InstanceCreateTime")),
            endpoint=Endpoint(address=endpoint.get("Address"), port=endpoint.get("Port")),
            read_replica_source=db.get("ReadReplicaSourceDBInstanceIdentifier"),
            read_replicas=sorted(db.get("ReadReplicaDBInstanceIdentifiers", [])), tags=tag_dict(db.get("TagList")),
            orders=orders.get(identifier), pending=pending_changes(db.get("PendingModifiedValues")),
            maintenance_window=db.get("PreferredMaintenanceWindow"))
    snapshots = {}
    for page in rds.get_paginator("describe_db_snapshots").paginate():
        for snap in page.get("DBSnapshots", []):
            snapshots[snap["DBSnapshotIdentifier"]] = DBSnapshot(
                id=snap["DBSnapshotIdentifier"], region=region, arn=snap.get("DBSnapshotArn"),
                instance=snap.get("DBInstanceIdentifier"), type=snap.get("SnapshotType"), status=snap.get("Status"),
                created=iso(snap.get("SnapshotCreateTime")), encrypted=bool(snap.get("Encrypted")),
                source_region=snap.get("SourceRegion"), source_snapshot=snap.get("SourceDBSnapshotIdentifier"),
                tags=tag_dict(snap.get("TagList")))
    automated = c.attempt("rds", region, "automated backups", lambda: [
        AutomatedBackup(arn=b.get("DBInstanceAutomatedBackupsArn"), instance=b.get("DBInstanceIdentifier"),
                        instance_arn=b.get("DBInstanceArn"), region=region, source_region=b.get("Region"),
                        status=b.get("Status"), retention=b.get("BackupRetentionPeriod"),
                        earliest=iso((b.get("RestoreWindow") or {}).get("EarliestTime")),
                        latest=iso((b.get("RestoreWindow") or {}).get("LatestTime")))
        for b in rds.describe_db_instance_automated_backups().get("DBInstanceAutomatedBackups", [])], [])
    return RDS(instances=by_key(instances.items()), snapshots=by_key(snapshots.items()), automated_backups=automated)


def pending_changes(values: dict[str, Any] | None) -> PendingChanges:
    """DescribeDBInstances' PendingModifiedValues (the members the lab's checks judge)."""
    values = values or {}
    return PendingChanges(multi_az=values.get("MultiAZ"), backup_retention=values.get("BackupRetentionPeriod"),
                          instance_class=values.get("DBInstanceClass"), engine_version=values.get("EngineVersion"),
                          allocated_storage=values.get("AllocatedStorage"), storage_type=values.get("StorageType"))
