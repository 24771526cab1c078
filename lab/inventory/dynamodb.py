"""DynamoDB into the inventory (checks.inventory.dynamodb): tables with their protection and replicas, on-demand
backups, global tables (2017 version), and with part "dynamodb.items" the order ids each table holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from checks.inventory.dynamodb import (
    DynamoDB,
    GlobalTable,
    Items,
    KeyAttribute,
    Pitr,
    Replica,
    Restore,
    Table,
    TableBackup,
)
from lab.inventory.convert import by_key, iso, tag_dict

if TYPE_CHECKING:
    from lab.inventory.collector import Collector


def collect(c: Collector, region: str) -> DynamoDB:
    dynamodb = c.client("dynamodb", region)
    names: list[str] = []
    for page in dynamodb.get_paginator("list_tables").paginate():
        names.extend(page.get("TableNames", []))
    tables = {}
    for name in names:
        found = c.attempt("dynamodb", region, f"table {name}", lambda name=name: table(c, dynamodb, region, name), None)
        if found is not None:
            tables[name] = found
    backups = c.attempt("dynamodb", region, "backups", lambda: [
        TableBackup(arn=b.get("BackupArn"), name=b.get("BackupName"), table=b.get("TableName"),
                    status=b.get("BackupStatus"), type=b.get("BackupType"),
                    created=iso(b.get("BackupCreationDateTime")))
        for b in dynamodb.list_backups().get("BackupSummaries", [])], [])
    global_tables = c.attempt("dynamodb", region, "global tables", lambda: c.optional(lambda: [
        GlobalTable(name=g.get("GlobalTableName"),
                    replicas=sorted(r.get("RegionName") for r in g.get("ReplicationGroup", [])), status="ACTIVE")
        for g in dynamodb.list_global_tables(RegionName=region).get("GlobalTables", [])],
        "UnknownOperationException"), None) or []
    return DynamoDB(tables=by_key(tables.items()), backups=backups, global_tables=global_tables)


def table(c: Collector, dynamodb: Any, region: str, name: str) -> Table:
    described = dynamodb.describe_table(TableName=name)["Table"]
    arn = described.get("TableArn", "")
    pitr = c.attempt("dynamodb", region, f"table {name}", lambda: dynamodb.describe_continuous_backups(
        TableName=name)["ContinuousBackupsDescription"], {})
    point = pitr.get("PointInTimeRecoveryDescription") or {}
    tags = c.attempt("dynamodb", region, f"table {name}", lambda: dynamodb.list_tags_of_resource(
        ResourceArn=arn).get("Tags", []), [])
    key_schema = [KeyAttribute(name=k["AttributeName"], type=k["KeyType"]) for k in described.get("KeySchema", [])]
    restore = described.get("RestoreSummary")
    items = None
    if c.wants("dynamodb.items"):
        items = c.attempt("dynamodb", region, f"items of {name}",
                          lambda: c.source.table_items(region, name, [k.name for k in key_schema]), Items())
    return Table(
        name=name, region=region, arn=arn, status=described.get("TableStatus"),
        created=iso(described.get("CreationDateTime")), key_schema=key_schema,
        billing_mode=(described.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
        tags=tag_dict(tags), stream=described.get("StreamSpecification"),
        deletion_protection=bool(described.get("DeletionProtectionEnabled")),
        replicas=sorted((Replica(region=r.get("RegionName"), status=r.get("ReplicaStatus"))
                         for r in described.get("Replicas", [])), key=lambda r: r.region or ""),
        global_table_version=described.get("GlobalTableVersion"),
        restore=Restore(source_table_arn=restore.get("SourceTableArn"),
                        source_backup_arn=restore.get("SourceBackupArn"),
                        restore_time=iso(restore.get("RestoreDateTime")),
                        in_progress=restore.get("RestoreInProgress")) if restore else None,
        pitr=Pitr(status=point.get("PointInTimeRecoveryStatus", "DISABLED"),
                  earliest=iso(point.get("EarliestRestorableDateTime")),
                  latest=iso(point.get("LatestRestorableDateTime")),
                  recovery_period_days=point.get("RecoveryPeriodInDays")),
        items=items)
