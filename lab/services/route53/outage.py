"""What Route 53 would answer if one region were down: the sandbox's own resolution (dns.Resolver) with every
health check judged as its checkers would see it once that region's endpoints stopped answering.

A pure function of the hosted zones' records and the health checks' configurations: nothing is injected and
no time passes, so the judge can ask it of any configuration ("does this failover record really fail over?").
A health check whose endpoint is in the region (by its address, or for an IP address the region of the
instance that has it) is unhealthy -- after FailureThreshold x RequestInterval, which the question skips;
inverted checks the other way round; disabled checks healthy; calculated checks from their children;
CloudWatch alarm checks in the region fall back to InsufficientDataHealthStatus (LastKnownStatus: as now).
Every other check keeps its status of now. Alias targets that are AWS endpoints in the region are unhealthy.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from lab.services.route53.dns import Answer, Resolver, dns_name
from lab.services.route53.health import ENDPOINT_TYPES, target_of

MAX_DEPTH = 8


def answer_if_region_down(zones: Mapping[str, list[dict[str, Any]]], checks: Mapping[str, dict[str, Any]],
                          region: str, name: str, record_type: str, *,
                          healthy_now: Callable[[str], bool | None] = lambda _check_id: None,
                          locate: Callable[[str], str | None] = lambda _address: None) -> Answer:
    """Route 53's answer for `name` / `record_type` while `region` is down.

    `zones`: zone name -> its record sets (ListResourceRecordSets' shape); `checks`: health check id -> its
    HealthCheckConfig; `healthy_now`: a check's status now (None: not known, healthy); `locate`: the region of
    an IP address's instance (None: not in a region the sandbox knows)."""

    def check_health(check_id: str, depth: int = 0) -> tuple[bool, str]:
        settings = checks.get(check_id)
        if settings is None:
            return True, f"health check {check_id} does not exist; Route 53 treats the record as healthy"
        if settings.get("Disabled"):
            return True, "the health check is disabled: Route 53 considers it healthy"
        kind = settings.get("Type")
        inverted = bool(settings.get("Inverted"))
        if kind == "CALCULATED":
            if depth >= MAX_DEPTH:
                return False, "calculated health checks nest too deeply"
            children = settings.get("ChildHealthChecks") or []
            healthy = [child for child in children if check_health(child, depth + 1)[0]]
            threshold = int(settings.get("HealthThreshold") or 0)
            ok = (len(healthy) >= threshold) != inverted
            return ok, f"{len(healthy)} of {len(children)} child health checks healthy (HealthThreshold {threshold})"
        if kind == "CLOUDWATCH_METRIC":
            alarm = settings.get("AlarmIdentifier") or {}
            if alarm.get("Region") == region:
                fallback = settings.get("InsufficientDataHealthStatus") or "LastKnownStatus"
                ok = now_or_healthy(check_id) if fallback == "LastKnownStatus" else fallback == "Healthy"
                return ok, f"its CloudWatch alarm in {region} has no data while {region} is down: {fallback}"
            return now_or_healthy(check_id), f"its CloudWatch alarm is in {alarm.get('Region')}, which is up"
        if kind not in ENDPOINT_TYPES:
            return now_or_healthy(check_id), f"{kind} health checks keep their status"
        target = target_of(settings)
        where = target.region or (locate(target.resource or target.address) if target.kind == "ip" else None)
        shown = target.address or "nothing"
        if target.kind == "nowhere":
            return inverted, f"it watches {shown}, which never answers"
        if where == region:
            return inverted, (f"it watches {shown} in {region}, which stops answering"
                              + (" (inverted: healthy)" if inverted else ""))
        ok = now_or_healthy(check_id)
        return ok, f"it watches {shown} in {where or 'no known region'}, which {region} being down does not " \
                   f"touch ({'healthy' if ok else 'unhealthy'} now)"

    def now_or_healthy(check_id: str) -> bool:
        status = healthy_now(check_id)
        return True if status is None else status

    def endpoint_health(address: str) -> tuple[bool, str]:
        target = target_of({"FullyQualifiedDomainName": dns_name(address), "Type": "HTTP"})
        if target.region == region:
            return False, f"{target.address} is in {region}, which is down"
        return True, f"{target.address} answers"

    resolver = Resolver(dict(zones), check_health, endpoint_health, random.Random(f"{name}|{record_type}|{region}"))
    return resolver.resolve(name, record_type)
