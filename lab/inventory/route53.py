"""Route 53 into the inventory (checks.inventory.route53): hosted zones and their records, health checks with
the status their checkers report, what DNS would answer with a region down and what clients resolve now (Route
53 is global)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from checks.inventory.route53 import Alias, ClientAnswer, HealthCheck, OutageAnswer, Record, Route53, Zone
from lab import config
from lab.inventory.convert import by_key
from lab.services.route53.dns import dns_name
from lab.services.route53.outage import answer_if_region_down

if TYPE_CHECKING:
    from lab.inventory.collector import Collector


def collect(c: Collector, region: str) -> Route53:
    route53 = c.client("route53", region)
    zones = {}
    raw: dict[str, list[dict[str, Any]]] = {}  # zone name -> its record sets, as the resolver reads them
    for page in route53.get_paginator("list_hosted_zones").paginate():
        for zone in page.get("HostedZones", []):
            zone_id = zone["Id"].split("/")[-1]
            records = []
            for records_page in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
                records.extend(records_page.get("ResourceRecordSets", []))
            raw.setdefault(dns_name(zone.get("Name") or ""), []).extend(records)
            zones[zone_id] = Zone(id=zone_id, name=zone.get("Name"),
                                  private=bool((zone.get("Config") or {}).get("PrivateZone")),
                                  records=[record(r) for r in records])
    checks = {}
    configs: dict[str, dict[str, Any]] = {}
    # (the checkers' latest observations turn Failure at the first failed probe; Route 53 calls an endpoint
    # unhealthy only after FailureThreshold of them: the lab's Route 53 says which, where it runs)
    verdicts = c.attempt("route53", None, "health check verdicts", c.source.health_verdicts, None) or {}
    for page in route53.get_paginator("list_health_checks").paginate():
        for check in page.get("HealthChecks", []):
            check_id = check["Id"]
            settings = check.get("HealthCheckConfig") or {}
            observations = c.attempt(
                "route53", None, f"health check {check_id}", lambda check_id=check_id: route53.get_health_check_status(
                    HealthCheckId=check_id).get("HealthCheckObservations", []), [])
            configs[check_id] = dict(settings)
            checks[check_id] = HealthCheck(
                id=check_id, type=settings.get("Type"), ip=settings.get("IPAddress"), port=settings.get("Port"),
                fqdn=settings.get("FullyQualifiedDomainName"), resource_path=settings.get("ResourcePath"),
                failure_threshold=settings.get("FailureThreshold"), inverted=bool(settings.get("Inverted")),
                disabled=bool(settings.get("Disabled")),
                status=health(observations) if check_id not in verdicts else
                ("Healthy" if verdicts[check_id] else "Unhealthy"))
    for zone in zones.values():
        zone.outage_answers = c.attempt("route53", None, f"failover of zone {zone.name}", lambda zone=zone: (
            outage_answers(c, zone, raw, configs, checks)), [])
        zone.client_answers = c.attempt("route53", None, f"what clients resolve in zone {zone.name}",
                                        lambda zone=zone: client_answers(c, zone), [])
    return Route53(zones=by_key(zones.items()), health_checks=by_key(checks.items()))


def outage_answers(c: Collector, zone: Zone, raw: dict[str, list[dict[str, Any]]],
                   configs: dict[str, dict[str, Any]], checks: dict[str, HealthCheck]) -> list[OutageAnswer]:
    """For each failover name of the zone and each of the lab's regions: Route 53's answer were it down."""
    names = sorted({(r.name or "", r.type or "") for r in zone.records if r.failover in ("PRIMARY", "SECONDARY")})
    if not names:
        return []
    located: dict[str, str | None] = {}

    def healthy_now(check_id: str) -> bool | None:
        found = checks.get(check_id)
        if found is None or found.status not in ("Healthy", "Unhealthy"):
            return None
        return (found.status == "Healthy") != found.inverted

    def locate(address: str) -> str | None:
        if not located:
            located.update(instance_regions(c))
        return located.get(address)

    answers = []
    for name, record_type in names:
        for region in config.REGIONS:
            found = answer_if_region_down(raw, configs, region, name, record_type, healthy_now=healthy_now,
                                          locate=locate)
            chosen = found.record or {}
            answers.append(OutageAnswer(
                name=name, type=record_type, region_down=region, answer=list(found.data),
                failover=chosen.get("Failover"), set_identifier=chosen.get("SetIdentifier"), why=list(found.why),
                health={check: str(state["reason"]) for check, state in found.health.items()}))
    return answers


def client_answers(c: Collector, zone: Zone) -> list[ClientAnswer]:
    """For each failover name of the zone: what a client resolving it uses now (its resolver keeps an answer for
    the record's TTL after Route 53's changed), where the source has the lab's resolver."""
    names = sorted({(r.name or "", r.type or "") for r in zone.records if r.failover in ("PRIMARY", "SECONDARY")})
    found = []
    for name, record_type in names:
        answer = c.source.client_answer(name, record_type)
        if answer is None:
            return []
        found.append(answer)
    return found


def instance_regions(c: Collector) -> dict[str, str | None]:
    """The region of every EC2 instance address (private and public IPs, DNS names), for IP health checks."""
    found: dict[str, str | None] = {"": None}
    for region in config.REGIONS:
        for page in c.client("ec2", region).get_paginator("describe_instances").paginate():
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    for key in ("PrivateIpAddress", "PublicIpAddress"):
                        if instance.get(key):
                            found[instance[key]] = region
    return found


def record(value: Mapping[str, Any]) -> Record:
    alias = value.get("AliasTarget")
    return Record(name=value.get("Name"), type=value.get("Type"), ttl=value.get("TTL"),
                  values=[v.get("Value") for v in value.get("ResourceRecords", [])],
                  alias=Alias(dns_name=alias.get("DNSName"), zone_id=alias.get("HostedZoneId"),
                              evaluate_health=bool(alias.get("EvaluateTargetHealth"))) if alias else None,
                  set_identifier=value.get("SetIdentifier"), failover=value.get("Failover"),
                  health_check_id=value.get("HealthCheckId"), weight=value.get("Weight"), region=value.get("Region"))


def health(observations: list[Mapping[str, Any]]) -> str | None:
    """Route 53 calls an endpoint healthy when more than 18% of its checkers see it healthy."""
    if not observations:
        return None
    good = sum(1 for o in observations if str((o.get("StatusReport") or {}).get("Status", "")).startswith("Success"))
    return "Healthy" if good / len(observations) > 0.18 else "Unhealthy"
