"""DynamoDB checks on hand-built inventories."""

from __future__ import annotations

from checks import registry
from tests.unit.inventory_builder import EAST, WEST, Inv

TABLE = "securecart-order-history"


def verdicts(check_id, inventory, **params):
    return [(r.resource_id, r.status, r.reason) for r in registry.run(check_id, inventory, params)]


def test_pitr():
    inv = Inv().table(TABLE, pitr="ENABLED").table("other").build()
    assert verdicts("DYNAMODB_PITR_ENABLED", inv) == [(TABLE, "PASS", "pitr_on"), ("other", "FAIL", "pitr_off")]
    assert verdicts("DYNAMODB_PITR_ENABLED", inv, tableNames=["ghost"]) == [("ghost", "FAIL", "table_missing")]
    assert verdicts("DYNAMODB_PITR_ENABLED", Inv().build()) == [("account", "NOT_APPLICABLE", "no_resources")]


def test_pitr_is_judged_per_region_for_a_global_table():
    inv = Inv().table(TABLE, EAST, pitr="ENABLED").table(TABLE, WEST).build()
    assert verdicts("DYNAMODB_PITR_ENABLED", inv, tableNames=[TABLE]) == [
        (TABLE, "PASS", "pitr_on"), (TABLE, "FAIL", "pitr_off")]
    assert verdicts("DYNAMODB_PITR_ENABLED", inv, tableNames=[TABLE], region=WEST) == [(TABLE, "FAIL", "pitr_off")]


def test_global_table_replica():
    good = Inv().table(TABLE, replicas=[Inv.replica(WEST)]).table(TABLE, WEST).build()
    assert verdicts("DYNAMODB_GLOBAL_TABLE_REPLICA", good) == [(TABLE, "PASS", "replica_active")]
    creating = Inv().table(TABLE, replicas=[Inv.replica(WEST, "CREATING")]).build()
    assert verdicts("DYNAMODB_GLOBAL_TABLE_REPLICA", creating) == [(TABLE, "FAIL", "replica_not_active")]


def test_global_table_separate_copy_is_not_a_replica():
    separate = Inv().table(TABLE).table(TABLE, WEST).build()
    assert verdicts("DYNAMODB_GLOBAL_TABLE_REPLICA", separate) == [(TABLE, "FAIL", "not_linked")]
    assert verdicts("DYNAMODB_GLOBAL_TABLE_REPLICA", Inv().table(TABLE).build()) == [(TABLE, "FAIL", "no_replica")]
    assert verdicts("DYNAMODB_GLOBAL_TABLE_REPLICA", Inv().build()) == [(TABLE, "FAIL", "table_missing")]


def test_global_table_2017_version_counts():
    inv = Inv().table(TABLE).table(TABLE, WEST)
    inv.global_table(TABLE, [EAST, WEST])
    assert verdicts("DYNAMODB_GLOBAL_TABLE_REPLICA", inv.build()) == [(TABLE, "PASS", "replica_active")]


def test_deletion_protection():
    inv = Inv().table(TABLE, deletion_protection=True).table("t2").build()
    assert verdicts("DYNAMODB_TABLE_DELETION_PROTECTION_ENABLED", inv) == [
        (TABLE, "PASS", "protected"), ("t2", "FAIL", "unprotected")]


def test_pitr_messages_name_the_region():
    """Issue 15: "Point-in-time recovery is off for securecart-order-history" did not say where; the table
    exists in both regions (a global table's replica)."""
    inventory = Inv().table("securecart-order-history", pitr="ENABLED").table("securecart-order-history", WEST).build()
    results = registry.run("DYNAMODB_PITR_ENABLED", inventory, {"region": ""})
    off = [r for r in results if r.status == "FAIL"]
    assert [r.region for r in off] == [WEST]
    assert off[0].message.startswith(f"Point-in-time recovery is off for securecart-order-history in {WEST}:")
    assert f"--region {WEST}" in off[0].hint
