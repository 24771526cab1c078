"""Checks of the DR strategy labs on hand-built inventories: Elastic Disaster Recovery's replication, the
backend running in the DR region (standby, DRS recovery instance, AWS Backup restore; never a drill instance),
DNS answering there through failover, latency or weighted routing, and a multi-site strategy recognised."""

from __future__ import annotations

from typing import Any

from checks import registry
from tests.unit.inventory_builder import ACCOUNT, EAST, WEST, Inv

BACKEND = "securecart-backend"


def run(check_id: str, inventory: dict[str, Any], **params: Any) -> tuple[str, str, str]:
    result = registry.run(check_id, inventory, params)[0]
    return result.status, result.reason, result.message


def with_backend(inv: Inv) -> Inv:
    inv.instance("i-east", EAST, tags={"Name": BACKEND, "app": "securecart"})
    return inv


def drs(inventory: dict[str, Any], region: str = WEST, *, servers: list[dict] | None = None,
        instances: list[dict] | None = None, initialized: bool = True) -> dict[str, Any]:
    inventory["regions"][region]["drs"] = {
        "initialized": initialized, "jobs": [],
        "source_servers": {s["id"]: s for s in servers or ()},
        "recovery_instances": {r["id"]: r for r in instances or ()}}
    return inventory


def server(state: str, **extra: Any) -> dict[str, Any]:
    return {"id": "s-00000000000000001", "instance": "i-east", "state": state, "direction": "FAILOVER",
            "lag": "PT1S" if state == "CONTINUOUS" else None, **extra}


def recovery(instance_id: str, *, drill: bool = False, state: str = "RUNNING") -> dict[str, Any]:
    return {"id": instance_id, "instance": instance_id, "state": state, "source_server": "s-00000000000000001",
            "drill": drill}


def test_replication_passes_only_once_continuous_and_says_how_far_it_is():
    """DRS_SOURCE_SERVER_REPLICATING: not initialized, no agent, syncing (with its percent), stalled, continuous."""
    inv = with_backend(Inv()).build()
    assert run("DRS_SOURCE_SERVER_REPLICATING", drs(inv, initialized=False))[1] == "not_initialized"
    assert run("DRS_SOURCE_SERVER_REPLICATING", drs(inv))[1] == "no_source_server"
    syncing = drs(inv, servers=[server("INITIAL_SYNC", replicated_percent=42, eta="2026-01-01T10:00:00Z")])
    status, reason, message = run("DRS_SOURCE_SERVER_REPLICATING", syncing)
    assert (status, reason) == ("FAIL", "not_yet") and "42% replicated" in message
    stalled = drs(inv, servers=[server("STALLED", error="AGENT_NOT_SEEN")])
    assert run("DRS_SOURCE_SERVER_REPLICATING", stalled)[:2] == ("FAIL", "not_replicating")
    assert run("DRS_SOURCE_SERVER_REPLICATING", drs(inv, servers=[server("CONTINUOUS")]))[:2] == ("PASS",
                                                                                                 "continuous")


def test_a_drill_instance_is_never_the_backend_and_a_recovery_instance_counts_once_booted():
    """RECOVERY_BACKEND_SERVES_FROM_DR: DRS drill instances are rehearsals; a recovery instance is PENDING
    until it has booted."""
    inv = with_backend(Inv()).drill(lab="10-dr-pilot-light")
    inv.instance("i-drill", WEST, tags={"Name": BACKEND}).instance("i-rec", WEST, tags={"Name": BACKEND})
    built = inv.build()
    servers = [server("CONTINUOUS")]
    booting = drs(built, servers=servers, instances=[recovery("i-drill", drill=True), recovery("i-rec",
                                                                                               state="PENDING")])
    status, reason, message = run("RECOVERY_BACKEND_SERVES_FROM_DR", booting)
    assert (status, reason) == ("FAIL", "not_running") and "a drill instance" in message and "booting" in message
    booted = drs(built, servers=servers, instances=[recovery("i-drill", drill=True), recovery("i-rec")])
    status, reason, message = run("RECOVERY_BACKEND_SERVES_FROM_DR", booted)
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
    built = restored.build()
    point = built["regions"][WEST]["backup"]["recovery_points"][0]["arn"]
    built["regions"][WEST]["backup"]["restore_jobs"] = [{
        "id": "r-1", "state": "COMPLETED", "recovery_point": point, "resource_type": "EC2",
        "created_resource_arn": f"arn:aws:ec2:{WEST}:{ACCOUNT}:instance/i-restored"}]
    assert run("RECOVERY_BACKEND_SERVES_FROM_DR", built)[:2] == ("PASS", "running")
    nothing = with_backend(Inv()).drill(lab="09-dr-backup-restore").build()
    assert run("RECOVERY_BACKEND_SERVES_FROM_DR", nothing)[:2] == ("FAIL", "no_backend")
    assert run("BACKEND_STANDBY_RUNNING_IN_DR_REGION", nothing)[:2] == ("FAIL", "none")


def routed(policy: str, east_health: str, west_health: str = "Healthy") -> Inv:
    """shop.z. answered by a latency or weighted record per region, each with a health check on its IP."""
    inv = with_backend(Inv()).drill(lab="12-dr-active-active")
    inv.instance("i-west", WEST, tags={"Name": BACKEND})
    inv.health_check("hc-east", east_health).health_check("hc-west", west_health)
    records = []
    for region, address, check in ((EAST, "54.0.0.1", "hc-east"), (WEST, "35.0.0.2", "hc-west")):
        record = Inv.record("shop.z.", address, health_check=check, record_type="A")
        record.update(set_identifier=region, **({"region": region} if policy == "latency" else {"weight": 50}))
        records.append(record)
    inv.zone("Z", "z.", records)
    built = inv.build()
    built["regions"][EAST]["ec2"]["instances"]["i-east"]["public_ip"] = "54.0.0.1"
    built["regions"][WEST]["ec2"]["instances"]["i-west"]["public_ip"] = "35.0.0.2"
    return built


def test_latency_and_weighted_routing_serve_the_dr_region_once_the_primary_fails_its_health_check():
    """RECOVERY_DNS_SERVES_DR for multi-site routing: while us-east-1 is healthy latency routing answers it
    (the sandbox's client is there) and weighted routing may; once it is unhealthy only us-west-2 answers."""
    for policy in ("latency", "weighted"):
        healthy = run("RECOVERY_DNS_SERVES_DR", routed(policy, "Healthy"), recordName="shop.z")
        assert healthy[:2] == ("FAIL", "region_still_served"), policy
        failed_over = run("RECOVERY_DNS_SERVES_DR", routed(policy, "Unhealthy"), recordName="shop.z")
        assert failed_over[:2] == ("PASS", "serves_dr"), policy
        assert "35.0.0.2" in failed_over[2]


def test_active_active_routing_needs_a_guarded_record_in_each_region():
    """ROUTE53_ACTIVE_ACTIVE_CONFIGURED: a record answering in each region, each with a health check."""
    good = routed("latency", "Healthy")
    assert run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", good, recordName="shop.z")[:2] == ("PASS", "active_active")
    unguarded = routed("weighted", "Healthy")
    unguarded["global"]["route53"]["zones"]["Z"]["records"][1]["health_check_id"] = None
    assert run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", unguarded, recordName="shop.z")[1] == "record_without_health_check"
    one_sided = routed("latency", "Healthy")
    one_sided["global"]["route53"]["zones"]["Z"]["records"].pop()
    status, reason, message = run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", one_sided, recordName="shop.z")
    assert (status, reason) == ("FAIL", "region_missing") and WEST in message
    assert run("ROUTE53_ACTIVE_ACTIVE_CONFIGURED", Inv().build())[1] == "no_routed_records"


def test_a_multi_writer_table_servers_in_both_regions_and_routing_to_both_is_multi_site():
    """DR_STRATEGY_MEETS_TARGETS recognises multi-site active/active (its RTO and RPO near zero)."""
    built = routed("latency", "Healthy")
    table = Inv().table("securecart-order-history", EAST, replicas=[{"region": WEST, "status": "ACTIVE"}]).build()
    built["regions"][EAST]["dynamodb"] = table["regions"][EAST]["dynamodb"]
    result = registry.run("DR_STRATEGY_MEETS_TARGETS", built, {"targetRtoSeconds": "2m", "targetRpoSeconds": "1m"})
    assert (result[0].status, result[0].evidence["strategy"]) == ("PASS", "multi-site-active-active")
