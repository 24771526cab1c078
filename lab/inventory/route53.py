"""Route 53 into the inventory (checks.inventory.route53): hosted zones and their records, health checks with
the status their checkers report (Route 53 is global)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from checks.inventory.route53 import Alias, HealthCheck, Record, Route53, Zone
from lab.inventory.convert import by_key

if TYPE_CHECKING:
    from lab.inventory.collector import Collector


def collect(c: Collector, region: str) -> Route53:
    route53 = c.client("route53", region)
    zones = {}
    for page in route53.get_paginator("list_hosted_zones").paginate():
        for zone in page.get("HostedZones", []):
            zone_id = zone["Id"].split("/")[-1]
            records = []
            for records_page in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
                records.extend(record(r) for r in records_page.get("ResourceRecordSets", []))
            zones[zone_id] = Zone(id=zone_id, name=zone.get("Name"),
                                  private=bool((zone.get("Config") or {}).get("PrivateZone")), records=records)
    checks = {}
    for page in route53.get_paginator("list_health_checks").paginate():
        for check in page.get("HealthChecks", []):
            check_id = check["Id"]
            settings = check.get("HealthCheckConfig") or {}
            observations = c.attempt(
                "route53", None, f"health check {check_id}", lambda check_id=check_id: route53.get_health_check_status(
                    HealthCheckId=check_id).get("HealthCheckObservations", []), [])
            checks[check_id] = HealthCheck(
                id=check_id, type=settings.get("Type"), ip=settings.get("IPAddress"), port=settings.get("Port"),
                fqdn=settings.get("FullyQualifiedDomainName"), resource_path=settings.get("ResourcePath"),
                failure_threshold=settings.get("FailureThreshold"), inverted=bool(settings.get("Inverted")),
                disabled=bool(settings.get("Disabled")), status=health(observations))
    return Route53(zones=by_key(zones.items()), health_checks=by_key(checks.items()))


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
