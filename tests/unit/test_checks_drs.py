"""Checks of the DR strategy labs on hand-built inventories: Elastic Disaster Recovery's replication, the
backend running in the DR region (standby, DRS recovery instance, AWS Backup restore; never a drill instance),
DNS answering there through failover, latency or weighted routing, and a multi-site strategy recognised."""

from __future__ import annotations

from typing import Any

from checks import registry
from checks.inventory import Inventory
from tests.unit.inventory_builder import ACCOUNT, EAST, WEST, Inv

BACKEND = "securecart-backend"
SERVER = "s-00000000000000001"


def run(check_id: str, inventory: Inventory, **params: Any) -> tuple[str, str, str]:
    result = registry.run(check_id, inventory, params)[0]
    return result.status, result.reason, result.message


def with_backend(inv: Inv) -> Inv:
    inv.instance("i-east", EAST, tags={"Name": BACKEND, "app": "securecart"}, public_ip="54.0.0.1")
    return inv


def test_replication_passes_only_once_continuous_and_says_how_far_it_is():
    """DRS_SOURCE_SERVER_REPLICATING: not initialized, no agent, syncing (with its percent), stalled, continuous."""
    assert run("DRS_SOURCE_SERVER_REPLICATING", with_backend(Inv()).drs(initialized=False).build())[1] == (
        "not_initialized")
    assert run("DRS_SOURCE_SERVER_REPLICATING", with_backend(Inv()).drs().build())[1] == "no_source_server"
    syncing = with_backend(Inv()).source_server(SERVER, "i-east", "INITIAL_SYNC", replicated_percent=42,
                                                eta="2026-01-01T10:00:00Z")
    status, reason, message = run("DRS_SOURCE_SERVER_REPLICATING", syncing.build())
    assert (status, reason) == ("FAIL", "not_yet") and "42% replicated" in message
    stalled = with_backend(Inv()).source_server(SERVER, "i-east", "STALLED", error="AGENT_NOT_SEEN")
    assert run("DRS_SOURCE_SERVER_REPLICATING", stalled.build())[:2] == ("FAIL", "not_replicating")
    continuous = with_backend(Inv()).source_server(SERVER, "i-east", "CONTINUOUS")
    assert run("DRS_SOURCE_SERVER_REPLICATING", continuous.build())[:2] == ("PASS", "continuous")


def test_a_drill_instance_is_never_the_backend_and_a_recovery_instance_counts_once_booted():
    """RECOVERY_BACKEND_SERVES_FROM_DR: DRS drill instances are rehearsals; a recovery instance is PENDING
    until it has booted."""
    def world(recovery_state: str) -> Inventory:
        inv = with_backend(Inv()).drill(lab="10-dr-pilot-light")
        inv.instance("i-drill", WEST, tags={"Name": BACKEND}).instance("i-rec", WEST, tags={"Name": BACKEND})
        inv.source_server(SERVER, "i-east", "CONTINUOUS").recovery_instance("i-drill", SERVER, drill=True)
        return inv.recovery_instance("i-rec", SERVER, state=recovery_state).build()

    status, reason, message = run("RECOVERY_BACKEND_SERVES_FROM_DR", world("PENDING"))
    assert (status, reason) == ("FAIL", "not_running") and "a drill instance" in message and "booting" in message
    status, reason, message = run("RECOVERY_BACKEND_SERVES_FROM_DR", world("RUNNING"))
    assert (status, reason) == ("PASS", "running") and "Elastic Disaster Recovery" in message


def test_a_named_standby_or_an_aws_backup_restore_is_the_backend():
    """A warm standby tagged with the backend's name counts; so does an instance AWS Backup restored from a
    recovery point of the backend (whatever its tags)."""
    standby = with_backend(Inv()).drill(lab="11-dr-warm-standby").instance("i-standby", WEST,
                                                                           tags={"Name": BACKEND})
    assert run("RECOVERY_BACKEND_SERVES_FROM_DR", standby.build())[:2] == ("PASS", "running")
    assert run("BACKEND_STANDBY_RUNNING_IN_DR_REGION", standby.build())[:2] == ("PASS", "running")
    restored = with_backend(Inv()).drill(lab="09-dr-backup-restore").instance("i-restored", WEST)
    restored.recovery_point(f"arn:aws:ec2:{EAST}:{ACCOUNT}:instance/i-east", WEST, vault="dr")
    point = restored.data.regions[WEST].backup.recovery_points[0].arn
    restored.restore_job("r-1", point, f"arn:aws:ec2:{WEST}:{ACCOUNT}:instance/i-restored", WEST,
                         resource_type="EC2")
    assert run("RECOVERY_BACKEND_SERVES_FROM_DR", restored.build())[:2] == ("PASS", "running")
    # (and says why it counts: a learner who has not tagged it yet was told it was named securecart-backend)
    message = run("RECOVERY_BACKEND_SERVES_FROM_DR", restored.build())[2]
    assert "restored by AWS Backup" in message and "named" not in message
    nothing = with_backend(Inv()).drill(lab="09-dr-backup-restore").build()
    assert run("RECOVERY_BACKEND_SERVES_FROM_DR", nothing)[:2] == ("FAIL", "no_backend")
    assert run("BACKEND_STANDBY_RUNNING_IN_DR_REGION", nothing)[:2] == ("FAIL", "none")


def test_a_standby_just_launched_is_still_launching_and_one_stopped_must_be_started():
    """BACKEND_STANDBY_RUNNING_IN_DR_REGION: a `pending` standby (EC2 has not started it yet) is told to wait,
    not to start it; a stopped one is told to start it."""
    def standby(state: str) -> Inventory:
        return with_backend(Inv()).drill(lab="11-dr-warm-standby").instance(
            "i-standby", WEST, tags={"Name": BACKEND}, state=state).build()

    status, reason, message = run("BACKEND_STANDBY_RUNNING_IN_DR_REGION", standby("pending"))
    assert (status, reason) == ("FAIL", "launching") and "i-standby is pending" in message
    status, reason, message = run("BACKEND_STANDBY_RUNNING_IN_DR_REGION", standby("stopped"))
    assert (status, reason) == ("FAIL", "not_running") and "i-standby is stopped" in message


def routed(policy: str, east_health: str, west_health: str = "Healthy", *, guard_west: bool = True,
           regions: tuple[str, ...] = (EAST, WEST)) -> Inv:
    """shop.z. answered by a latency or weighted record per region, each with a health check on its IP."""
    inv = with_backend(Inv()).drill(lab="12-dr-active-active")
    inv.instance("i-west", WEST, tags={"Name": BACKEND}, public_ip="35.0.0.2")
    inv.health_check("hc-east", east_health).health_check("hc-west", west_health)
    records = []
    for region, address, check in ((EAST, "54.0.0.1", "hc-east"), (WEST, "35.0.0.2", "hc-west")):
        if region not in regions:
            continue
        guarded = check if guard_west or region != WEST else None
        records.append(Inv.record("shop.z.", address, health_check=guarded, record_type="A", set_identifier=region,
                                  **({"region": region} if policy == "latency" else {"weight": 50})))
    return inv.zone("Z", "z.", records)


def test_latency_and_weighted_routing_serve_the_dr_region_once_the_primary_fails_its_health_check():
    """RECOVERY_DNS_SERVES_DR for multi-site routing: while us-east-1 is healthy latency routing answers it
    (the sandbox's client is there) and weighted routing may; once it is unhealthy only us-west-2 answers."""
    for policy in ("latency", "weighted"):
        healthy = run("RECOVERY_DNS_SERVES_DR", routed(policy, "Healthy").build(), recordName="shop.z")
        assert healthy[:2] == ("FAIL", "region_still_served"), policy
        failed_over = run("RECOVERY_DNS_SERVES_DR", routed(policy, "Unhealthy").build(), recordName="shop.z")
        assert failed_over[:2] == ("PASS", "serves_dr"), policy
        assert "35.0.0.2" in failed_over[2]


def test_active_active_routing_needs_a_guarded_record_in_each_region():
    """ROUTE53_ACTIVE_ACTIVE_CONFIGURED: a record answering in each region, each with a health check."""
    good = routed("latency", "Healthy").build()
    assert run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", good, recordName="shop.z")[:2] == ("PASS", "active_active")
    unguarded = routed("weighted", "Healthy", guard_west=False).build()
    assert run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", unguarded, recordName="shop.z")[1] == "record_without_health_check"
    one_sided = routed("latency", "Healthy", regions=(EAST,)).build()
    status, reason, message = run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", one_sided, recordName="shop.z")
    assert (status, reason) == ("FAIL", "region_missing") and WEST in message
    assert run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", Inv().build())[1] == "no_routed_records"
    # a check that watches the wrong address fails while its region is up: that region serves nothing
    wrong = routed("latency", "Healthy", west_health="Unhealthy").build()
    status, reason, message = run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", wrong, recordName="shop.z")
    assert (status, reason) == ("FAIL", "record_failing_health_check") and "hc-west" in message
    during_outage = routed("latency", "Unhealthy")
    during_outage.data.faults.regions_down = [EAST]
    assert run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", during_outage.build(), recordName="shop.z")[:2] == (
        "PASS", "active_active")


def test_a_multi_writer_table_servers_in_both_regions_and_routing_to_both_is_multi_site():
    """DR_STRATEGY_MEETS_TARGETS recognises multi-site active/active (its RTO and RPO near zero)."""
    built = routed("latency", "Healthy").table("securecart-order-history", EAST,
                                               replicas=[Inv.replica(WEST, "ACTIVE")]).build()
    result = registry.run("DR_STRATEGY_MEETS_TARGETS", built, {"targetRtoSeconds": "2m", "targetRpoSeconds": "1m"})
    assert (result[0].status, result[0].evidence["strategy"]) == ("PASS", "multi-site-active-active")
