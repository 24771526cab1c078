"""Route 53 checks: failover routing with a health check, pointing at the DR region."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from checks.base import Finding, Param, apply_match, check, failed, passed
from checks.inventory.route53 import ClientAnswer, OutageAnswer, Record
from checks.view import InventoryView

RECORD_SET = "AWS::Route53::RecordSet"

FAILOVER_PARAMS = (
    Param("recordName", "string", "", "The DNS name that must fail over (e.g. orders.securecart.internal); "
          "empty: any failover record."),
    Param("drRegion", "string", "us-west-2", "The region the SECONDARY record must point at."),
    Param("drTargets", "string_list", [], "Extra values (IPs, names) that count as the DR endpoint."),
    Param("primaryRegion", "string", "us-east-1", "The region whose outage the records must fail over from."),
    Param("requireSecondary", "boolean", True, "False: a PRIMARY record guarded by a health check is enough (a "
          "backup-and-restore design adds the SECONDARY with the recovery)."),
)


def fqdn(name: str) -> str:
    name = name.strip().lower()
    return name if not name or name.endswith(".") else name + "."


def record_targets(record: Record | None) -> list[str]:
    if record is None:
        return []
    targets = list(record.values or ())
    if record.alias is not None and record.alias.dns_name:
        targets.append(record.alias.dns_name)
    return targets


def dr_endpoints(inv: InventoryView, region: str) -> set[str]:
    """Addresses of a region's resources that a record may point at (DB endpoints, EC2 instances' IPs)."""
    found: set[str] = set()
    for db in inv.db_instances(region):
        address = db.endpoint.address
        if address:
            found.add(fqdn(address))
    for instance in inv.ec2_instances(region):
        for address in (instance.public_ip, instance.private_ip):
            if address:
                found.add(fqdn(address))
    return found


def points_into(record: Record, region: str, endpoints: set[str], extra: list[str]) -> bool:
    for target in record_targets(record):
        lowered = target.lower()
        if region in lowered or fqdn(lowered) in endpoints or target in extra:
            return True
    return False


@dataclass
class FailoverGroup:
    """The failover records of one (zone, name, type)."""

    zone: str | None
    name: str
    type: str | None
    primary: Record | None = None
    secondary: Record | None = None


def failover_groups(inv: InventoryView, record_name: str) -> list[FailoverGroup]:
    """Failover record pairs by (zone, name, type)."""
    groups: dict[tuple[str, str, str], FailoverGroup] = {}
    wanted = fqdn(record_name) if record_name else ""
    for zone in inv.hosted_zones():
        for record in zone.records:
            role = record.failover
            if role not in ("PRIMARY", "SECONDARY"):
                continue
            name = fqdn(record.name or "")
            if wanted and name != wanted:
                continue
            key = (zone.id, name, record.type or "")
            group = groups.setdefault(key, FailoverGroup(zone.name, name, record.type))
            if role == "PRIMARY":
                group.primary = record
            else:
                group.secondary = record
    return list(groups.values())


def client_answer(inv: InventoryView, name: str, record_type: str | None) -> ClientAnswer | None:
    """What a client resolving `name` uses now (its resolver's cache kept for the TTL), where it is known."""
    for zone in inv.hosted_zones():
        for answer in zone.client_answers:
            if fqdn(answer.name) == fqdn(name) and answer.type == (record_type or ""):
                return answer
    return None


#: latency routing as the sandbox's one client location (the primary region) sees it: nearest region first
LATENCY_PREFERENCE = ("us-east-1", "us-east-2", "ca-central-1", "us-west-1", "us-west-2")


@dataclass
class RoutedGroup:
    """The weighted or latency records of one (zone, name, type)."""

    zone: str | None
    name: str
    type: str | None
    policy: str  # "latency" | "weighted"
    records: list[Record]


def routed_groups(inv: InventoryView, record_name: str) -> list[RoutedGroup]:
    """Weighted and latency record sets by (zone, name, type)."""
    groups: dict[tuple[str, str, str], RoutedGroup] = {}
    wanted = fqdn(record_name) if record_name else ""
    for zone in inv.hosted_zones():
        for record in zone.records:
            policy = "latency" if record.region else "weighted" if record.weight is not None else None
            if policy is None or record.failover:
                continue
            name = fqdn(record.name or "")
            if wanted and name != wanted:
                continue
            key = (zone.id, name, record.type or "")
            group = groups.setdefault(key, RoutedGroup(zone.name, name, record.type, policy, []))
            group.records.append(record)
    return list(groups.values())


def possible_answers(inv: InventoryView, group: RoutedGroup) -> list[Record]:
    """The records Route 53 may answer a weighted or latency group with now: among the healthy ones (all of
    them when none is), the nearest region's for latency, any with a weight above 0 for weighted."""
    records = list(group.records)
    pool = [r for r in records if health_of(inv, r) != "unhealthy"] or records
    if group.policy == "latency":
        def distance(record: Record) -> int:
            region = record.region or ""
            return LATENCY_PREFERENCE.index(region) if region in LATENCY_PREFERENCE else len(LATENCY_PREFERENCE)
        return [min(pool, key=distance)] if pool else []
    return [r for r in pool if (r.weight or 0) > 0] or pool


def health_of(inv: InventoryView, record: Record) -> str:
    """'healthy', 'unhealthy' or 'unknown' for the record's health check (no check: healthy, as Route 53 does)."""
    check_id = record.health_check_id
    if not check_id:
        return "healthy"
    found = inv.health_check(check_id)
    if found is None:
        return "unknown"
    if found.disabled:
        return "healthy"
    status = (found.status or "").lower()
    if status not in ("healthy", "unhealthy"):
        return "unknown"
    if found.inverted:
        return "unhealthy" if status == "healthy" else "healthy"
    return status


def failover_problem(inv: InventoryView, group: FailoverGroup,
                     params: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    primary, secondary = group.primary, group.secondary
    if primary is None:
        return "no_primary", {}
    if secondary is None and params.get("requireSecondary", True):
        return "no_secondary", {}
    evaluates_target = primary.alias is not None and primary.alias.evaluate_health
    if not primary.health_check_id and not evaluates_target:
        return "primary_without_health_check", {}
    if primary.health_check_id and inv.health_check(primary.health_check_id) is None:
        return "health_check_missing", {"health_check": primary.health_check_id}
    if secondary is None:
        return None  # (the SECONDARY comes with the recovery: nothing to fail over to, nothing to judge yet)
    if not points_into(secondary, params["drRegion"], dr_endpoints(inv, params["drRegion"]), params["drTargets"]):
        return "secondary_not_in_dr", {"secondary_targets": record_targets(secondary)}
    return behaviour_problem(inv, group, params["primaryRegion"])


def outage_answer(inv: InventoryView, group: FailoverGroup, region: str) -> OutageAnswer | None:
    """The sandbox's own answer for the group's name while `region` is down, when the inventory has it."""
    for zone in inv.hosted_zones():
        if zone.name != group.zone:
            continue
        for answer in zone.outage_answers:
            if fqdn(answer.name) == group.name and answer.type == group.type and answer.region_down == region:
                return answer
    return None


def behaviour_problem(inv: InventoryView, group: FailoverGroup, region: str) -> tuple[str, dict[str, Any]] | None:
    """Judged by what DNS answers when the primary's region is down (not by the records' shape): Route 53
    must then answer the SECONDARY. None as well when the inventory holds no such answer (an older export)."""
    answer = outage_answer(inv, group, region)
    if answer is None or answer.failover == "SECONDARY":
        return None
    primary_check = group.primary.health_check_id if group.primary is not None else None
    secondary_check = group.secondary.health_check_id if group.secondary is not None else None
    reasons = []
    for role, check_id in (("PRIMARY", primary_check), ("SECONDARY", secondary_check)):
        if check_id and check_id in answer.health:
            reasons.append(f"the {role}'s health check {check_id}: {answer.health[check_id]}")
    if not primary_check and group.primary is not None and group.primary.alias is not None:
        reasons.extend(f"{name}: {why}" for name, why in answer.health.items() if name.startswith("alias:"))
    why = "; ".join(reasons) or "; ".join(answer.why)
    return "primary_answers_when_down", {"region_down": region, "answered": answer.answer,
                                         "answered_role": answer.failover or "none", "why_answered": why}


@check(
    id="ROUTE53_FAILOVER_CONFIGURED", severity="HIGH", resource_type=RECORD_SET,
    title="DNS fails over to the DR region", services=("route53", "rds"), params=FAILOVER_PARAMS,
    messages={
        "failover_configured": "{resource} fails over from {primary_targets} to {secondary_targets} in "
                               "{drRegion}, guarded by health check {health_check}.",
        "primary_guarded": "{resource} is a PRIMARY failover record ({primary_targets}) guarded by health check "
                           "{health_check}; its SECONDARY comes with the recovery.",
        "no_failover_records": "There are no failover records{named}.",
        "no_primary": "{resource} has a SECONDARY failover record but no PRIMARY.",
        "no_secondary": "{resource} has a PRIMARY failover record but no SECONDARY to fail over to.",
        "primary_without_health_check": "The PRIMARY record of {resource} has no health check, so Route 53 never "
                                        "notices it is down.",
        "health_check_missing": "The PRIMARY record of {resource} uses health check {health_check}, which does "
                                "not exist.",
        "secondary_not_in_dr": "The SECONDARY record of {resource} points at {secondary_targets}, not at an "
                               "endpoint in {drRegion}.",
        "primary_answers_when_down": "With {region_down} down, Route 53 would still answer {resource} with the "
                                     "{answered_role} record ({answered}), not the SECONDARY: {why_answered}.",
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
        "primary_answers_when_down": "The PRIMARY's health check must watch the PRIMARY's own endpoint in "
                                     "{region_down} (e.g. its address on port 5432, or <name>.{region_down}."
                                     "securecart.lab), and the SECONDARY's none in {region_down}: create the right "
                                     "health check and UPSERT the record with its HealthCheckId. Try it: lab fail "
                                     "region-outage --region {region_down}, then lab dns NAME.",
    },
)
def route53_failover_configured(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Failover routing answers with the PRIMARY record while its health check passes and with the
    SECONDARY (the DR region) when it fails. Judged by behaviour: what the sandbox's own Route 53 would answer
    with the primary region down (the inventory carries that answer) must be the SECONDARY."""
    groups = failover_groups(inv, params["recordName"])
    if not groups:
        named = f" for {fqdn(params['recordName'])}" if params["recordName"] else ""
        yield failed(fqdn(params["recordName"]) or "account", "no_failover_records", named=named)
        return
    findings = []
    for group in groups:
        resource = f"{group.name} {group.type}"
        primary, secondary = group.primary, group.secondary
        evidence = {"zone": group.zone, "primary_targets": record_targets(primary),
                    "secondary_targets": record_targets(secondary),
                    "health_check": primary.health_check_id if primary is not None else None}
        problem = failover_problem(inv, group, params)
        if problem:
            findings.append(failed(resource, problem[0], **{**evidence, **problem[1]}))
        else:
            findings.append(passed(resource, "failover_configured" if secondary is not None else "primary_guarded",
                                   **evidence))
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
        "record_failing_health_check": "The {policy} record {set_identifier} of {resource} fails its health check "
                                       "{health_check} now: Route 53 leaves it out of its answers, so that region "
                                       "serves nothing.",
    },
    hints={
        "no_routed_records": "Create one record per region with the same name, a SetIdentifier and either Region "
                             "(latency) or Weight (weighted), each with a HealthCheckId.",
        "region_missing": "Add a record of the same name and type whose value is the {missing} endpoint.",
        "record_failing_health_check": "Check what health check {health_check} watches (aws route53 get-health-check,"
                                       " get-health-check-status): it must probe that region's own endpoint.",
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
        resource = f"{group.name} {group.type}"
        evidence = {"policy": group.policy}
        missing = [region for region in regions if not any(
            points_into(record, region, endpoints[region], params["drTargets"]) for record in group.records)]
        unguarded = [r for r in group.records if not r.health_check_id]
        down = set(inv.inventory.faults.regions_down)  # (a region that is down fails its check, as it should)
        failing = [r for r in group.records if r.health_check_id and health_of(inv, r) == "unhealthy"
                   and r.region not in down]
        if missing:
            findings.append(failed(resource, "region_missing", missing=", ".join(missing), **evidence))
        elif unguarded:
            findings.append(failed(resource, "record_without_health_check",
                                   set_identifier=unguarded[0].set_identifier, **evidence))
        elif failing:
            # (a record whose check fails is out of the answers: that region serves nothing, whatever its state)
            findings.append(failed(resource, "record_failing_health_check", set_identifier=failing[0].set_identifier,
                                   health_check=failing[0].health_check_id, **evidence))
        else:
            findings.append(passed(resource, "active_active", **evidence))
    yield from apply_match(findings, "any")
