"""DynamoDB checks: point-in-time recovery, global-table replicas, deletion protection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.base import Finding, Param, check, errored, failed, not_applicable, passed
from checks.inventory.dynamodb import Table
from checks.view import InventoryView, scoped

TABLE = "AWS::DynamoDB::Table"
ORDER_HISTORY = "securecart-order-history"

TABLES = Param("tableNames", "string_list", [], "The tables to check; empty: every table.")
REGION = Param("region", "string", "", "Only tables in this region; empty: every region.")

_SCOPE_MESSAGES = {
    "table_missing": "There is no table named {resource}{where}.",
    "no_resources": "There are no DynamoDB tables to check.",
}
_SCOPE_HINTS = {"table_missing": "Check the name with aws dynamodb list-tables."}


def _missing(inv: InventoryView, name: str, region: str) -> Finding:
    error = inv.collection_error("dynamodb", region or None)
    if error:
        return errored(name, "collection_failed", region, service="DynamoDB", error=error)
    return failed(name, "table_missing", region, where=f" in {region}" if region else "")


@check(
    id="DYNAMODB_PITR_ENABLED", source="aws-config", severity="HIGH", resource_type=TABLE,
    title="DynamoDB tables have point-in-time recovery", services=("dynamodb",), params=(TABLES, REGION),
    messages={
        **_SCOPE_MESSAGES,
        "pitr_on": "Point-in-time recovery is on for {resource} in {region} (restorable from {earliest} to "
                   "{latest}).",
        "pitr_off": "Point-in-time recovery is off for {resource} in {region}: deleted or overwritten items "
                    "cannot be brought back to an earlier second.",
    },
    hints={
        **_SCOPE_HINTS,
        "pitr_off": "aws dynamodb update-continuous-backups --region {region} --table-name {resource} "
                    "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true",
    },
)
def dynamodb_pitr_enabled(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """PITR keeps continuous backups for up to 35 days; a table can be restored to any second of them."""
    chosen = scoped(inv.tables(), params["tableNames"], params["region"])
    if not chosen:
        yield not_applicable("account", "no_resources")
    for name, region, table in chosen:
        if table is None:
            yield _missing(inv, name, region)
            continue
        pitr = table.pitr
        evidence = {"pitr": pitr.status or "DISABLED", "earliest": pitr.earliest, "latest": pitr.latest}
        if pitr.status == "ENABLED":
            yield passed(name, "pitr_on", region, **evidence)
        else:
            yield failed(name, "pitr_off", region, **evidence)


def replica_regions(inv: InventoryView, table: Table) -> dict[str, str]:
    """Region -> replica status, from the table's own replica list and from 2017-style global tables."""
    regions = {replica.region: replica.status or "ACTIVE" for replica in table.replicas}
    for global_table in inv.global_tables():
        if global_table.name == table.name and table.region in global_table.replicas:
            for other in global_table.replicas:
                regions.setdefault(other, global_table.status or "ACTIVE")
    regions.pop(table.region, None)
    return regions


@check(
    id="DYNAMODB_GLOBAL_TABLE_REPLICA", severity="HIGH", resource_type=TABLE,
    title="The DynamoDB table has a replica in the DR region", services=("dynamodb",),
    params=(Param("tableName", "string", ORDER_HISTORY, "The table that must be replicated."),
            Param("sourceRegion", "string", "us-east-1", "The region of the table."),
            Param("replicaRegion", "string", "us-west-2", "The region the replica must be in.")),
    messages={
        "replica_active": "{resource} ({sourceRegion}) has an ACTIVE replica in {replicaRegion}.",
        "replica_not_active": "The replica of {resource} in {replicaRegion} is {replica_status}, not ACTIVE yet.",
        "not_linked": "A table named {resource} exists in {replicaRegion}, but it is a separate table, not a "
                      "replica: nothing is replicated to it.",
        "no_replica": "{resource} has no replica in {replicaRegion} (replicas: {replicas}).",
        "table_missing": "There is no table named {resource} in {sourceRegion}.",
    },
    hints={
        "replica_not_active": "Wait (or lab clock advance 5m) and check again.",
        "not_linked": "Delete the separate table in {replicaRegion}, then add a replica: aws dynamodb update-table "
                      "--region {sourceRegion} --table-name {resource} --replica-updates "
                      "'[{{\"Create\": {{\"RegionName\": \"{replicaRegion}\"}}}}]'",
        "no_replica": "Streams must be on (NEW_AND_OLD_IMAGES), then: aws dynamodb update-table --region "
                      "{sourceRegion} --table-name {resource} --replica-updates "
                      "'[{{\"Create\": {{\"RegionName\": \"{replicaRegion}\"}}}}]'",
        "table_missing": "Check the table's name and region.",
    },
)
def dynamodb_global_table_replica(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A global table replica in another region receives every write within about a second and serves
    reads and writes there if the primary region is lost."""
    name, source, target = params["tableName"], params["sourceRegion"], params["replicaRegion"]
    table = inv.table(name, source)
    if table is None:
        error = inv.collection_error("dynamodb", source)
        yield (errored(name, "collection_failed", source, service="DynamoDB", error=error) if error
               else failed(name, "table_missing", source))
        return
    regions = replica_regions(inv, table)
    evidence = {"replicas": regions or "none"}
    replica_table = inv.table(name, target)
    if target in regions:
        status = regions[target]
        if status == "ACTIVE" and (replica_table is None or replica_table.status in (None, "ACTIVE")):
            yield passed(name, "replica_active", source, **evidence)
        else:
            yield failed(name, "replica_not_active", source, replica_status=status, **evidence)
    elif replica_table is not None:
        yield failed(name, "not_linked", source, **evidence)
    else:
        yield failed(name, "no_replica", source, **evidence)


@check(
    id="DYNAMODB_TABLE_DELETION_PROTECTION_ENABLED", source="aws-config", severity="MEDIUM", resource_type=TABLE,
    title="DynamoDB tables have deletion protection", services=("dynamodb",), params=(TABLES, REGION),
    messages={**_SCOPE_MESSAGES,
              "protected": "{resource} has deletion protection.",
              "unprotected": "{resource} can be deleted by a single call: deletion protection is off."},
    hints={**_SCOPE_HINTS,
           "unprotected": "aws dynamodb update-table --region {region} --table-name {resource} "
                          "--deletion-protection-enabled"},
)
def dynamodb_table_deletion_protection_enabled(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Deletion protection refuses DeleteTable until it is turned off."""
    chosen = scoped(inv.tables(), params["tableNames"], params["region"])
    if not chosen:
        yield not_applicable("account", "no_resources")
    for name, region, table in chosen:
        if table is None:
            yield _missing(inv, name, region)
        elif table.deletion_protection:
            yield passed(name, "protected", region)
        else:
            yield failed(name, "unprotected", region)
