"""The DR strategy check on hand-built inventories."""

from __future__ import annotations

from checks import registry
from tests.unit.inventory_builder import EAST, WEST, Inv

DB = "securecart-orders-db"
SOURCE = f"arn:aws:rds:{EAST}:000000000000:db:{DB}"


def judged(inventory, **params):
    result = registry.run("DR_STRATEGY_MEETS_TARGETS", inventory, params)[0]
    return result.status, result.reason, result.evidence["strategy"]


def warm_standby() -> Inv:
    inv = Inv().db(DB).db("replica", WEST, replica_of=SOURCE, address="replica.us-west-2.example")
    inv.instance("i-dr", WEST).health_check("hc-1")
    inv.zone("Z", "z.", [Inv.record("orders.z.", f"{DB}.us-east-1.example", failover="PRIMARY", health_check="hc-1"),
                         Inv.record("orders.z.", "replica.us-west-2.example", failover="SECONDARY")])
    return inv


def test_warm_standby_meets_tight_targets():
    assert judged(warm_standby().build(), targetRtoSeconds="15m", targetRpoSeconds="15m") == (
        "PASS", "meets_targets", "warm-standby")


def test_pilot_light_meets_an_hour_but_not_minutes():
    inv = Inv().db(DB).db("replica", WEST, replica_of=SOURCE).build()
    assert judged(inv, targetRtoSeconds="1h", targetRpoSeconds="15m") == ("PASS", "meets_targets", "pilot-light")
    assert judged(inv, targetRtoSeconds="10m", targetRpoSeconds="15m") == ("FAIL", "rto_too_long", "pilot-light")


def test_backup_and_restore_misses_a_short_rpo():
    inv = Inv().db(DB).db_snapshot("copy", DB, WEST, source_region=EAST).build()
    assert judged(inv, targetRtoSeconds="1d", targetRpoSeconds="15m") == (
        "FAIL", "rpo_too_long", "backup-and-restore")
    assert judged(inv, targetRtoSeconds="1d", targetRpoSeconds="1d") == ("PASS", "meets_targets", "backup-and-restore")


def test_nothing_in_the_dr_region():
    assert judged(Inv().db(DB).build()) == ("FAIL", "no_strategy", "none")
