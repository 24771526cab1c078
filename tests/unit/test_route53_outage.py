"""What Route 53 would answer were a region down (lab/services/route53/outage.py): the judge's view of a
failover record's behaviour, computed with the sandbox's own resolver."""

from __future__ import annotations

from lab.services.route53.outage import answer_if_region_down

ZONE = "securecart.lab"
NAME = "orders.securecart.lab"
PRIMARY_DB = "securecart-orders-db.c1a2b3.us-east-1.rds.amazonaws.com"
DR_DB = "securecart-orders-db-usw2.c1a2b3.us-west-2.rds.amazonaws.com"


def http(fqdn: str, **more) -> dict:
    return {"Type": "HTTPS", "FullyQualifiedDomainName": fqdn, "Port": 443, "ResourcePath": "/health", **more}


def failover(primary_check: str | None, secondary_check: str | None = None) -> dict[str, list[dict]]:
    def record(role: str, value: str, check: str | None) -> dict:
        found = {"Name": f"{NAME}.", "Type": "CNAME", "SetIdentifier": role.lower(), "Failover": role, "TTL": 60,
                 "ResourceRecords": [{"Value": value}]}
        if check:
            found["HealthCheckId"] = check
        return found

    return {ZONE: [record("PRIMARY", PRIMARY_DB, primary_check), record("SECONDARY", DR_DB, secondary_check)]}


def test_a_health_check_on_the_primary_s_endpoint_fails_over():
    checks = {"hc-primary": http(f"shop.us-east-1.{ZONE}")}
    down = answer_if_region_down(failover("hc-primary"), checks, "us-east-1", NAME, "CNAME")
    assert down.data == [DR_DB] and down.record["Failover"] == "SECONDARY"
    assert "which stops answering" in down.health["hc-primary"]["reason"]
    other = answer_if_region_down(failover("hc-primary"), checks, "us-west-2", NAME, "CNAME")
    assert other.data == [PRIMARY_DB]


def test_issue_15_a_health_check_that_watches_the_dr_endpoint_does_not():
    checks = {"hc-wrong": http(f"shop.us-west-2.{ZONE}")}
    down = answer_if_region_down(failover("hc-wrong"), checks, "us-east-1", NAME, "CNAME")
    assert down.data == [PRIMARY_DB] and down.record["Failover"] == "PRIMARY"
    assert "in us-west-2, which us-east-1 being down does not touch" in down.health["hc-wrong"]["reason"]


def test_other_kinds_of_health_checks():
    rds = {"hc": {"Type": "TCP", "FullyQualifiedDomainName": PRIMARY_DB, "Port": 5432}}
    assert answer_if_region_down(failover("hc"), rds, "us-east-1", NAME, "CNAME").data == [DR_DB]
    by_ip = {"hc": {"Type": "HTTP", "IPAddress": "10.0.1.5", "Port": 80}}
    located = answer_if_region_down(failover("hc"), by_ip, "us-east-1", NAME, "CNAME",
                                    locate=lambda address: "us-east-1" if address == "10.0.1.5" else None)
    assert located.data == [DR_DB]
    inverted = {"hc": http(f"shop.us-east-1.{ZONE}", Inverted=True)}
    assert answer_if_region_down(failover("hc"), inverted, "us-east-1", NAME, "CNAME").data == [PRIMARY_DB]
    disabled = {"hc": http(f"shop.us-east-1.{ZONE}", Disabled=True)}
    assert answer_if_region_down(failover("hc"), disabled, "us-east-1", NAME, "CNAME").data == [PRIMARY_DB]
    calculated = {"hc": {"Type": "CALCULATED", "ChildHealthChecks": ["a", "b"], "HealthThreshold": 2},
                  "a": http(f"shop.us-east-1.{ZONE}"), "b": http(f"api.us-west-2.{ZONE}")}
    assert answer_if_region_down(failover("hc"), calculated, "us-east-1", NAME, "CNAME").data == [DR_DB]


def test_both_unhealthy_answers_the_primary_as_route_53_does():
    checks = {"p": http(f"shop.us-east-1.{ZONE}"), "s": http(f"api.us-east-1.{ZONE}")}
    down = answer_if_region_down(failover("p", "s"), checks, "us-east-1", NAME, "CNAME")
    assert down.data == [PRIMARY_DB]
    assert any("both unhealthy" in why for why in down.why)
    now_unhealthy = {"p": http(f"shop.us-east-1.{ZONE}"), "s": http(f"api.us-west-2.{ZONE}")}
    down = answer_if_region_down(failover("p", "s"), now_unhealthy, "us-east-1", NAME, "CNAME",
                                 healthy_now=lambda check: check != "s")
    assert down.data == [PRIMARY_DB], "a SECONDARY unhealthy now stays unhealthy"
