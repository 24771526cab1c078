"""Route 53 checks: failover routing with a health check, pointing at the DR region."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.base import Finding, Param, apply_match, check, failed, passed
from checks.view import InventoryView

RECORD_SET = "AWS::Route53::RecordSet"

FAILOVER_PARAMS = (
    Param("recordName", "string", "", "The DNS name that must fail over (e.g. orders.securecart.internal); "
          "empty: any failover record."),
    Param("drRegion", "string", "us-west-2", "The region the SECONDARY record must point at."),
    Param("drTargets", "string_list", [], "Extra values (IPs, names) that count as the DR endpoint."),
)


def fqdn(name: str) -> str:
    name = name.strip().lower()
    return name if not name or name.endswith(".") else name + "."


def record_targets(record: dict[str, Any]) -> list[str]:
    targets = list(record.get("values") or ())
    alias = record.get("alias") or {}
    if alias.get("dns_name"):
        targets.append(alias["dns_name"])
    return targets


def dr_endpoints(inv: InventoryView, region: str) -> set[str]:
    """Addresses of a region's resources that a record may point at (DB endpoints, EC2 instances' IPs)."""
    found: set[str] = set()
    for db in inv.db_instances(region):
        address = (db.get("endpoint") or {}).get("address")
        if address:
            found.add(fqdn(address))
    for instance in inv.ec2_instances(region):
        for address in (instance.get("public_ip"), instance.get("private_ip")):
            if address:
                found.add(fqdn(address))
    return found


def points_into(record: dict[str, Any], region: str, endpoints: set[str], extra: list[str]) -> bool:
    for target in record_targets(record):
        lowered = target.lower()
        if region in lowered or fqdn(lowered) in endpoints or target in extra:
            return True
    return False


def failover_groups(inv: InventoryView, record_name: str) -> list[dict[str, Any]]:
    """Failover record pairs by (zone, name, type): {zone, name, type, PRIMARY, SECONDARY}."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    wanted = fqdn(record_name) if record_name else ""
    for zone in inv.hosted_zones():
        for record in zone.get("records") or ():
            role = record.get("failover")
            if role not in ("PRIMARY", "SECONDARY"):
                continue
            name = fqdn(record.get("name") or "")
            if wanted and name != wanted:
                continue
            key = (zone.get("id", ""), name, record.get("type", ""))
            group = groups.setdefault(key, {"zone": zone.get("name"), "name": name, "type": record.get("type")})
            group[role] = record
    return list(groups.values())


#: latency routing as the sandbox's one client location (the primary region) sees it: nearest region first
LATENCY_PREFERENCE = ("us-east-1", "us-east-2", "ca-central-1", "us-west-1", "us-west-2")


def routed_groups(inv: InventoryView, record_name: str) -> list[dict[str, Any]]:
    """Weighted and latency record sets by (zone, name, type): {zone, name, type, policy, records}."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    wanted = fqdn(record_name) if record_name else ""
    for zone in inv.hosted_zones():
        for record in zone.get("records") or ():
            policy = "latency" if record.get("region") else "weighted" if record.get("weight") is not None else None
            if policy is None or record.get("failover"):
                continue
            name = fqdn(record.get("name") or "")
            if wanted and name != wanted:
                continue
            key = (zone.get("id", ""), name, record.get("type", ""))
            group = groups.setdefault(key, {"zone": zone.get("name"), "name": name, "type": record.get("type"),
                                            "policy": policy, "records": []})
            group["records"].append(record)
    return list(groups.values())


def possible_answers(inv: InventoryView, group: dict[str, Any]) -> list[dict[str, Any]]:
    """The records Route 53 may answer a weighted or latency group with now: among the healthy ones (all of
    them when none is), the nearest region's for latency, any with a weight above 0 for weighted."""
    records = list(group.get("records") or ())
    pool = [r for r in records if health_of(inv, r) != "unhealthy"] or records
    if group.get("policy") == "latency":
        def distance(record: dict[str, Any]) -> int:
            region = str(record.get("region") or "")
            return LATENCY_PREFERENCE.index(region) if region in LATENCY_PREFERENCE else len(LATENCY_PREFERENCE)
        return [min(pool, key=distance)] if pool else []
    return [r for r in pool if int(r.get("weight") or 0) > 0] or pool


def health_of(inv: InventoryView, record: dict[str, Any]) -> str:
    """'healthy', 'unhealthy' or 'unknown' for the record's health check (no check: healthy, as Route 53 does)."""
    check_id = record.get("health_check_id")
    if not check_id:
        return "healthy"
    found = inv.health_check(check_id)
    if found is None:
        return "unknown"
    if found.get("disabled"):
        return "healthy"
    status = (found.get("status") or "").lower()
    if status not in ("healthy", "unhealthy"):
        return "unknown"
    if found.get("inverted"):
        return "unhealthy" if status == "healthy" else "healthy"
    return status


def failover_problem(inv: InventoryView, group: dict[str, Any],
                     params: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    primary, secondary = group.get("PRIMARY"), group.get("SECONDARY")
    if primary is None:
        return "no_primary", {}
    if secondary is None:
        return "no_secondary", {}
    alias = primary.get("alias") or {}
    if not primary.get("health_check_id") and not alias.get("evaluate_health"):
        return "primary_without_health_check", {}
    if primary.get("health_check_id") and inv.health_check(primary["health_check_id"]) is None:
        return "health_check_missing", {"health_check": primary["health_check_id"]}
    if not points_into(secondary, params["drRegion"], dr_endpoints(inv, params["drRegion"]), params["drTargets"]):
        return "secondary_not_in_dr", {"secondary_targets": record_targets(secondary)}
    return None


@check(
    id="ROUTE53_FAILOVER_CONFIGURED", severity="HIGH", resource_type=RECORD_SET,
    title="DNS fails over to the DR region", services=("route53", "rds"), params=FAILOVER_PARAMS,
    messages={
        "failover_configured": "{resource} fails over from {primary_targets} to {secondary_targets} in "
                               "{drRegion}, guarded by health check {health_check}.",
        "no_failover_records": "There are no failover records{named}.",
        "no_primary": "{resource} has a SECONDARY failover record but no PRIMARY.",
        "no_secondary": "{resource} has a PRIMARY failover record but no SECONDARY to fail over to.",
        "primary_without_health_check": "The PRIMARY record of {resource} has no health check, so Route 53 never "
                                        "notices it is down.",
        "health_check_missing": "The PRIMARY record of {resource} uses health check {health_check}, which does "
                                "not exist.",
        "secondary_not_in_dr": "The SECONDARY record of {resource} points at {secondary_targets}, not at an "
                               "endpoint in {drRegion}.",
    },
    hints={
        "no_failover_records": "Create a health check (aws route53 create-health-check), then two records of the "
                               "same name with Failover PRIMARY (with HealthCheckId) and SECONDARY "
                               "(aws route53 change-resource-record-sets).",
        "no_primary": "Add the PRIMARY record (the us-east-1 endpoint) with a HealthCheckId.",
        "no_secondary": "Add a SECONDARY record of the same name and type pointing at the {drRegion} endpoint.",
        "primary_without_health_check": "Set HealthCheckId on the PRIMARY record (UPSERT it).",
        "health_check_missing": "Create the health check and UPSERT the record with its id.",
        "secondary_not_in_dr": "Point the SECONDARY record at the {drRegion} endpoint (e.g. the DR database's "
                               "address).",
    },
)
def route53_failover_configured(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Failover routing answers with the PRIMARY record while its health check passes and with the
    SECONDARY (the DR region) when it fails."""
    groups = failover_groups(inv, params["recordName"])
    if not groups:
        named = f" for {fqdn(params['recordName'])}" if params["recordName"] else ""
        yield failed(fqdn(params["recordName"]) or "account", "no_failover_records", named=named)
        return
    findings = []
    for group in groups:
        resource = f"{group['name']} {group['type']}"
        primary, secondary = group.get("PRIMARY") or {}, group.get("SECONDARY") or {}
        evidence = {"zone": group.get("zone"), "primary_targets": record_targets(primary),
                    "secondary_targets": record_targets(secondary), "health_check": primary.get("health_check_id")}
        problem = failover_problem(inv, group, params)
        if problem:
            findings.append(failed(resource, problem[0], **{**evidence, **problem[1]}))
        else:
            findings.append(passed(resource, "failover_configured", **evidence))
    yield from apply_match(findings, "any")


@check(
    id="ROUTE53_ACTIVE_ACTIVE_CONFIGURED", severity="HIGH", resource_type=RECORD_SET,
    title="DNS sends traffic to both regions and drops a region that fails its health check",
    services=("route53", "ec2", "rds"),
    params=(Param("recordName", "string", "", "The DNS name both regions serve; empty: any weighted or latency "
                  "record set."),
            Param("primaryRegion", "string", "us-east-1", "The primary region."),
            Param("drRegion", "string", "us-west-2", "The other region."),
            Param("drTargets", "string_list", [], "Extra values (IPs, names) that count as endpoints.")),
    messages={
        "active_active": "{resource} answers from {policy} records in both {primaryRegion} and {drRegion}, each "
                         "guarded by a health check.",
        "no_routed_records": "There are no latency or weighted records{named}: one region takes all the traffic.",
        "region_missing": "{resource} has no record answering in {missing}.",
        "record_without_health_check": "The {policy} record {set_identifier} of {resource} has no health check: "
                                       "Route 53 would keep answering it while its region is down.",
    },
    hints={
        "no_routed_records": "Create one record per region with the same name, a SetIdentifier and either Region "
                             "(latency) or Weight (weighted), each with a HealthCheckId.",
        "region_missing": "Add a record of the same name and type whose value is the {missing} endpoint.",
        "record_without_health_check": "Create a health check for that region's endpoint and UPSERT the record "
                                       "with its HealthCheckId.",
    },
)
def route53_active_active_configured(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Latency or weighted routing with a record in each region, every record with a health check: both
    regions serve, and a region that fails is dropped from the answers (multi-site active/active)."""
    groups = routed_groups(inv, params["recordName"])
    if not groups:
        named = f" for {fqdn(params['recordName'])}" if params["recordName"] else ""
        yield failed(fqdn(params["recordName"]) or "account", "no_routed_records", named=named)
        return
    findings = []
    regions = (params["primaryRegion"], params["drRegion"])
    endpoints = {region: dr_endpoints(inv, region) for region in regions}
    for group in groups:
        resource = f"{group['name']} {group['type']}"
        evidence = {"policy": group["policy"]}
        missing = [region for region in regions if not any(
            points_into(record, region, endpoints[region], params["drTargets"]) for record in group["records"])]
        unguarded = [r for r in group["records"] if not r.get("health_check_id")]
        if missing:
            findings.append(failed(resource, "region_missing", missing=", ".join(missing), **evidence))
        elif unguarded:
            findings.append(failed(resource, "record_without_health_check",
                                   set_identifier=unguarded[0].get("set_identifier"), **evidence))
        else:
            findings.append(passed(resource, "active_active", **evidence))
    yield from apply_match(findings, "any")
