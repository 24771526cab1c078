"""Route 53 and CloudTrail checks on hand-built inventories."""

from __future__ import annotations

from checks import registry
from checks.inventory.route53 import ClientAnswer, OutageAnswer
from tests.unit.inventory_builder import WEST, Inv

NAME = "orders.securecart.internal."
PRIMARY = "securecart-orders-db.abc.us-east-1.rds.amazonaws.com"
SECONDARY = "securecart-orders-replica.abc.us-west-2.rds.amazonaws.com"


def verdicts(check_id, inventory, **params):
    return [(r.resource_id, r.status, r.reason) for r in registry.run(check_id, inventory, params)]


def dns(primary_check: str | None = "hc-1", secondary: str = SECONDARY, status: str = "Healthy") -> Inv:
    inv = Inv().health_check("hc-1", status)
    inv.zone("Z1", "securecart.internal.", [
        Inv.record(NAME, PRIMARY, failover="PRIMARY", health_check=primary_check),
        Inv.record(NAME, secondary, failover="SECONDARY")])
    return inv


def test_failover_configured():
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", dns().build(), recordName="orders.securecart.internal") == [
        (f"{NAME} CNAME", "PASS", "failover_configured")]


def test_failover_near_misses():
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", dns(primary_check=None).build()) == [
        (f"{NAME} CNAME", "FAIL", "primary_without_health_check")]
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", dns(primary_check="hc-ghost").build()) == [
        (f"{NAME} CNAME", "FAIL", "health_check_missing")]
    same_region = dns(secondary="other.abc.us-east-1.rds.amazonaws.com").build()
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", same_region) == [(f"{NAME} CNAME", "FAIL", "secondary_not_in_dr")]
    only_primary = Inv().health_check("hc-1").zone("Z1", "z.", [Inv.record(NAME, PRIMARY, failover="PRIMARY",
                                                                          health_check="hc-1")])
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", only_primary.build()) == [(f"{NAME} CNAME", "FAIL", "no_secondary")]
    plain = Inv().zone("Z1", "z.", [Inv.record(NAME, PRIMARY)]).build()
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", plain) == [("account", "FAIL", "no_failover_records")]


def test_a_guarded_primary_is_enough_where_the_secondary_comes_with_the_recovery():
    """Lab 09's third step: the PRIMARY record with a health check, no SECONDARY until the restore."""
    only_primary = Inv().health_check("hc-1").zone("Z1", "z.", [Inv.record(NAME, PRIMARY, failover="PRIMARY",
                                                                          health_check="hc-1")])
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", only_primary.build(), requireSecondary=False) == [
        (f"{NAME} CNAME", "PASS", "primary_guarded")]
    unguarded = Inv().zone("Z1", "z.", [Inv.record(NAME, PRIMARY, failover="PRIMARY")])
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", unguarded.build(), requireSecondary=False) == [
        (f"{NAME} CNAME", "FAIL", "primary_without_health_check")]
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", Inv().build(), requireSecondary=False) == [
        ("account", "FAIL", "no_failover_records")]


def test_failover_secondary_by_ip_of_a_dr_target():
    inv = dns(secondary="10.1.2.3").build()
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", inv, drTargets=["10.1.2.3"])[0][1] == "PASS"
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", inv)[0][2] == "secondary_not_in_dr"


def test_failover_secondary_at_a_dr_database_endpoint():
    inv = dns(secondary="replica.internal.example").db("replica", WEST, address="replica.internal.example").build()
    assert verdicts("ROUTE53_FAILOVER_CONFIGURED", inv)[0][1] == "PASS"


def test_failover_is_judged_by_what_dns_answers_with_the_primary_region_down():
    """Issue 15: a PRIMARY record whose health check watches the DR endpoint passed on its shape, while DNS kept
    answering the dead primary. The inventory carries the sandbox's own answer for that outage."""
    def with_outage(failover_role: str, answered: str) -> Inv:
        inv = dns()
        inv.data.global_.route53.zones["Z1"].outage_answers = [OutageAnswer(
            name=NAME, type="CNAME", region_down="us-east-1", answer=[answered], failover=failover_role,
            set_identifier=failover_role.lower(), why=["failover: PRIMARY 'primary' is healthy"],
            health={"hc-1": "it watches shop.us-west-2.securecart.lab in us-west-2, which us-east-1 being down "
                            "does not touch (healthy now)"})]
        return inv

    result = registry.run("ROUTE53_FAILOVER_CONFIGURED", with_outage("PRIMARY", PRIMARY).build(), {})[0]
    assert (result.status, result.reason) == ("FAIL", "primary_answers_when_down")
    assert result.message == (
        f"With us-east-1 down, Route 53 would still answer {NAME} CNAME with the PRIMARY record ({PRIMARY}), not "
        "the SECONDARY: the PRIMARY's health check hc-1: it watches shop.us-west-2.securecart.lab in us-west-2, "
        "which us-east-1 being down does not touch (healthy now).")
    assert "lab fail region-outage --region us-east-1" in result.hint
    good = registry.run("ROUTE53_FAILOVER_CONFIGURED", with_outage("SECONDARY", SECONDARY).build(), {})[0]
    assert (good.status, good.reason) == ("PASS", "failover_configured")


def test_dns_serves_dr_during_outage():
    unhealthy = dns(status="Unhealthy").drill(lab="07-dr-strategy").build()
    assert verdicts("RECOVERY_DNS_SERVES_DR", unhealthy, lab="07-dr-strategy") == [
        (f"{NAME} CNAME", "PASS", "serves_dr")]
    healthy = dns(status="Healthy").drill(lab="07-dr-strategy").build()
    assert verdicts("RECOVERY_DNS_SERVES_DR", healthy, lab="07-dr-strategy") == [
        (f"{NAME} CNAME", "FAIL", "primary_still_served")]
    wrong = dns(status="Unhealthy", secondary="x.us-east-1.example").drill(lab="07-dr-strategy").build()
    assert verdicts("RECOVERY_DNS_SERVES_DR", wrong, lab="07-dr-strategy") == [
        (f"{NAME} CNAME", "FAIL", "secondary_not_dr")]
    assert verdicts("RECOVERY_DNS_SERVES_DR", dns().build(), lab="07-dr-strategy") == [
        ("07-dr-strategy", "NOT_APPLICABLE", "no_drill")]


def test_dns_without_a_secondary_says_so_not_to_add_a_health_check():
    """The PRIMARY already fails its health check; what is missing is the SECONDARY to fail over to."""
    only_primary = Inv().health_check("hc-1", status="Unhealthy").zone("Z1", "z.", [
        Inv.record(NAME, PRIMARY, failover="PRIMARY", health_check="hc-1")]).drill(lab="07-dr-strategy")
    result = registry.run("RECOVERY_DNS_SERVES_DR", only_primary.build(), {"lab": "07-dr-strategy"})[0]
    assert (result.status, result.reason) == ("FAIL", "no_secondary")
    assert "SECONDARY" in result.hint and "health check" not in result.hint


def test_dns_served_dr_is_judged_by_the_outage_once_the_drill_is_recovered():
    """A recovered drill ends its outage and Route 53 fails back: what DNS answered with the region down counts."""
    def recovered(failover_role: str, answered: str) -> Inv:
        inv = dns(status="Healthy").drill(lab="07-dr-strategy", status="recovered", params={"region": "us-east-1"})
        inv.data.global_.route53.zones["Z1"].outage_answers = [OutageAnswer(
            name=NAME, type="CNAME", region_down="us-east-1", answer=[answered], failover=failover_role,
            set_identifier=failover_role.lower(), why=[], health={})]
        return inv

    result = registry.run("RECOVERY_DNS_SERVES_DR", recovered("SECONDARY", SECONDARY).build(),
                          {"lab": "07-dr-strategy"})[0]
    assert (result.status, result.reason) == ("PASS", "served_dr")
    assert "during the outage" in result.message and "unhealthy while us-east-1 was down" in result.message
    assert verdicts("RECOVERY_DNS_SERVES_DR", recovered("PRIMARY", PRIMARY).build(), lab="07-dr-strategy") == [
        (f"{NAME} CNAME", "FAIL", "primary_still_served")]
    running = dns(status="Healthy").drill(lab="07-dr-strategy", params={"region": "us-east-1"})
    running.data.faults.regions_down = ["us-east-1"]
    assert verdicts("RECOVERY_DNS_SERVES_DR", running.build(), lab="07-dr-strategy") == [
        (f"{NAME} CNAME", "FAIL", "primary_still_served")]


def test_dns_serves_dr_once_clients_have_waited_out_the_ttl():
    """Route 53 answers the SECONDARY once the PRIMARY's health check fails, but a client that resolved the name
    before keeps the PRIMARY's answer for the record's TTL: the recovery counts once clients get the DR endpoint
    (issue 12: the failover's RTO holds detection + TTL)."""
    def seen_by_client(answer: str, kept_until: float | None) -> Inv:
        inv = dns(status="Unhealthy").drill(lab="07-dr-strategy")
        inv.data.global_.route53.zones["Z1"].client_answers = [ClientAnswer(
            name=NAME, type="CNAME", answer=[answer], ttl=60, kept_until=kept_until,
            nameserver_answer=[SECONDARY] if kept_until is not None else None)]
        return inv

    kept = registry.run("RECOVERY_DNS_SERVES_DR", seen_by_client(PRIMARY, 1_800_000_090.0).build(),
                        {"lab": "07-dr-strategy"})[0]
    assert (kept.status, kept.reason) == ("FAIL", "client_keeps_primary")
    assert kept.message == (
        f"Route 53 answers {NAME} CNAME with {SECONDARY} (the us-west-2 endpoint), but a client that resolved it "
        f"before keeps {PRIMARY} for the record's TTL (60 s), until 2027-01-15T08:01:30Z.")
    assert "lab clock advance 1m" in kept.hint
    assert verdicts("RECOVERY_DNS_SERVES_DR", seen_by_client(SECONDARY, None).build(), lab="07-dr-strategy") == [
        (f"{NAME} CNAME", "PASS", "serves_dr")]


def test_cloudtrail_enabled():
    assert verdicts("CLOUDTRAIL_ENABLED", Inv().trail("audit").build()) == [("audit", "PASS", "logging")]
    assert verdicts("CLOUDTRAIL_ENABLED", Inv().trail("audit", logging=False).build()) == [
        ("audit", "FAIL", "not_logging")]
    assert verdicts("CLOUDTRAIL_ENABLED", Inv().build()) == [("account", "FAIL", "no_trail")]
    two = Inv().trail("old", logging=False).trail("audit", WEST).build()
    assert sorted(verdicts("CLOUDTRAIL_ENABLED", two)) == [("audit", "PASS", "logging"),
                                                          ("old", "NOT_APPLICABLE", "another_passes")]
    assert verdicts("CLOUDTRAIL_ENABLED", Inv().trail("audit").build(), s3BucketName="elsewhere") == [
        ("audit", "FAIL", "wrong_bucket")]


def test_multi_region_trail():
    assert verdicts("MULTI_REGION_CLOUD_TRAIL_ENABLED", Inv().trail("audit").build()) == [("audit", "PASS", "logging")]
    assert verdicts("MULTI_REGION_CLOUD_TRAIL_ENABLED", Inv().trail("audit", multi_region=False).build()) == [
        ("audit", "FAIL", "single_region")]
    data_only = Inv().trail("audit", selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False}]).build()
    assert verdicts("MULTI_REGION_CLOUD_TRAIL_ENABLED", data_only) == [("audit", "FAIL", "no_management_events")]
    writes = Inv().trail("audit", selectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]).build()
    assert verdicts("MULTI_REGION_CLOUD_TRAIL_ENABLED", writes, readWriteType="WriteOnly")[0][1] == "PASS"
    assert verdicts("MULTI_REGION_CLOUD_TRAIL_ENABLED", writes)[0][2] == "no_management_events"
