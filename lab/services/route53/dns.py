"""How Route 53 answers a DNS query from a hosted zone's record sets, with the reasons for its choice.

Routing policies as Route 53 applies them: simple; failover (the PRIMARY while it is healthy, else a
healthy SECONDARY; when both are unhealthy, the PRIMARY); weighted (among healthy records, in proportion
to their weights; all of them when none is healthy); multivalue (up to eight healthy records); latency
and geolocation (the sandbox has one client location, the primary region: the record for the nearest
healthy region, or the default location). A record's health comes from its HealthCheckId, or for an alias
with EvaluateTargetHealth, from the alias target. Alias targets inside the sandbox's hosted zones resolve
to their records; alias targets that are AWS endpoints (S3 websites, load balancers) answer their DNS name,
since the sandbox has no addresses for AWS endpoints.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab import config

MAX_ALIAS_DEPTH = 8
MAX_MULTIVALUE_ANSWERS = 8
# Latency routing from the sandbox's single client location: nearest regions first.
_LATENCY_PREFERENCE = (config.PRIMARY_REGION, "us-east-2", "ca-central-1", "us-west-1", config.DR_REGION)

Health = tuple[bool, str]


def dns_name(name: str) -> str:
    """A name as compared: lower case, no trailing dot, Route 53's octal escapes decoded (\\052 is *)."""
    return name.replace("\\052", "*").rstrip(".").lower()


@dataclass
class Answer:
    name: str
    type: str
    code: str = "NOERROR"  # NOERROR | NXDOMAIN
    data: list[str] = field(default_factory=list)
    record: dict[str, Any] | None = None  # the record set answered
    why: list[str] = field(default_factory=list)
    health: dict[str, dict[str, Any]] = field(default_factory=dict)  # health check id -> {healthy, reason}
    ttl: int | None = None  # how long resolvers keep it: the answered records' TTL (an alias: its target's)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "response_code": self.code, "answer": self.data,
                "record": self.record, "why": self.why, "health": self.health, "ttl": self.ttl}


@dataclass
class Resolver:
    """Answers queries from the record sets of the sandbox's hosted zones."""

    zones: dict[str, list[dict[str, Any]]]  # zone name -> its record sets
    check_health: Callable[[str], Health]  # health check id -> (healthy, reason)
    endpoint_health: Callable[[str], Health]  # an AWS endpoint name an alias points at -> (healthy, reason)
    rng: random.Random

    def zone_of(self, name: str) -> str | None:
        wanted = dns_name(name)
        found = [zone for zone in self.zones if wanted == zone or wanted.endswith("." + zone)]
        return max(found, key=len) if found else None

    def resolve(self, name: str, record_type: str, zone: str | None = None, depth: int = 0) -> Answer:
        wanted = dns_name(name)
        record_type = record_type.upper()
        answer = Answer(name=wanted + ".", type=record_type)
        zone = zone or self.zone_of(wanted)
        if zone is None:
            answer.code = "NXDOMAIN"
            answer.why.append(f"no hosted zone in the sandbox contains {wanted}")
            return answer
        records = self.zones.get(zone, [])
        named = [record for record in records if dns_name(record["Name"]) == wanted]
        if not named:
            named = self._wildcard(records, wanted, zone)
            if named:
                answer.why.append(f"no record named {wanted}; the wildcard {dns_name(named[0]['Name'])} matches")
        if not named:
            answer.code = "NXDOMAIN"
            answer.why.append(f"zone {zone} has no record named {wanted}")
            return answer
        group = [record for record in named if record["Type"] == record_type]
        if not group:
            group = [record for record in named if record["Type"] == "CNAME"]
            if not group:
                answer.why.append(f"{wanted} has records of type {', '.join(sorted({r['Type'] for r in named}))} "
                                  f"but none of type {record_type}")
                return answer
            answer.why.append(f"{wanted} is a CNAME")
        chosen = self._route(group, answer, depth)
        ttls: list[int] = []
        for record in chosen:
            answer.data.extend(self._values(record, answer, zone, depth, ttls))
        answer.ttl = min(ttls) if ttls else None
        answer.record = _summary(chosen[0]) if len(chosen) == 1 else {"records": [_summary(r) for r in chosen]}
        return answer

    # -- routing ---------------------------------------------------------------------------------------

    def _route(self, group: list[dict[str, Any]], answer: Answer, depth: int) -> list[dict[str, Any]]:
        if len(group) == 1 and not group[0].get("SetIdentifier"):
            answer.why.append("simple routing: one record set")
            return group
        if any(record.get("Failover") for record in group):
            return self._failover(group, answer, depth)
        if any(record.get("Weight") is not None for record in group):
            return self._weighted(group, answer, depth)
        if any(record.get("MultiValueAnswer") for record in group):
            healthy = [record for record in group if self._healthy(record, answer, depth)]
            pool = healthy or group
            answer.why.append(f"multivalue answer: {len(healthy)} of {len(group)} records healthy"
                              + ("" if healthy else "; none healthy, so all are answered"))
            return pool[:MAX_MULTIVALUE_ANSWERS]
        if any(record.get("Region") for record in group):
            return self._latency(group, answer, depth)
        if any(record.get("GeoLocation") for record in group):
            default = [record for record in group
                       if (record.get("GeoLocation") or {}).get("CountryCode") == "*"]
            healthy = [record for record in default if self._healthy(record, answer, depth)]
            answer.why.append("geolocation routing: the sandbox's client has no location, so the default (*) "
                              "record answers")
            return (healthy or default or group)[:1]
        answer.why.append("several records without a routing policy: the first answers")
        return group[:1]

    def _failover(self, group: list[dict[str, Any]], answer: Answer, depth: int) -> list[dict[str, Any]]:
        primary = next((record for record in group if record.get("Failover") == "PRIMARY"), None)
        secondary = next((record for record in group if record.get("Failover") == "SECONDARY"), None)
        if primary is not None and self._healthy(primary, answer, depth):
            answer.why.append(f"failover: PRIMARY {primary.get('SetIdentifier')!r} is healthy")
            return [primary]
        if secondary is not None and self._healthy(secondary, answer, depth):
            answer.why.append(f"failover: PRIMARY {primary.get('SetIdentifier') if primary else None!r} is "
                              f"unhealthy, SECONDARY {secondary.get('SetIdentifier')!r} is healthy: answering the "
                              "SECONDARY")
            return [secondary]
        if primary is not None:
            answer.why.append("failover: PRIMARY and SECONDARY are both unhealthy: Route 53 answers the PRIMARY")
            return [primary]
        answer.why.append("failover: no PRIMARY record: answering the SECONDARY")
        return [secondary] if secondary is not None else group[:1]

    def _weighted(self, group: list[dict[str, Any]], answer: Answer, depth: int) -> list[dict[str, Any]]:
        healthy = [record for record in group if self._healthy(record, answer, depth)]
        pool = healthy or group
        weights = [int(record.get("Weight") or 0) for record in pool]
        if not any(weights):
            weights = [1] * len(pool)  # all weights zero: Route 53 answers them with equal probability
        chosen = self.rng.choices(pool, weights=weights, k=1)[0]
        total = sum(weights)
        share = weights[pool.index(chosen)] / total
        answer.why.append(f"weighted: {len(healthy)} of {len(group)} records healthy"
                          + ("" if healthy else " (none healthy, so all count)")
                          + f"; picked {chosen.get('SetIdentifier')!r} (weight {chosen.get('Weight')}, "
                            f"{share:.0%} of answers)")
        return [chosen]

    def _latency(self, group: list[dict[str, Any]], answer: Answer, depth: int) -> list[dict[str, Any]]:
        def distance(record: dict[str, Any]) -> tuple[int, str]:
            region = record.get("Region") or ""
            rank = _LATENCY_PREFERENCE.index(region) if region in _LATENCY_PREFERENCE else len(_LATENCY_PREFERENCE)
            return rank, region

        ordered = sorted(group, key=distance)
        for record in ordered:
            if self._healthy(record, answer, depth):
                answer.why.append(f"latency: {record.get('Region')} is the nearest healthy region to the "
                                  f"sandbox's client ({config.PRIMARY_REGION})")
                return [record]
        answer.why.append("latency: no region is healthy: answering the nearest")
        return ordered[:1]

    # -- health and values -----------------------------------------------------------------------------

    def _healthy(self, record: dict[str, Any], answer: Answer, depth: int) -> bool:
        check_id = record.get("HealthCheckId")
        if check_id:
            healthy, reason = self.check_health(check_id)
            answer.health[check_id] = {"healthy": healthy, "reason": reason}
            return healthy
        alias = record.get("AliasTarget")
        if alias and alias.get("EvaluateTargetHealth"):
            healthy, reason = self._alias_health(alias, record["Type"], depth)
            answer.health[f"alias:{dns_name(alias['DNSName'])}"] = {"healthy": healthy, "reason": reason}
            return healthy
        return True  # no health check: always healthy

    def _alias_health(self, alias: dict[str, Any], record_type: str, depth: int) -> Health:
        target = dns_name(alias["DNSName"])
        zone = self.zone_of(target)
        if zone is None:
            return self.endpoint_health(target)
        if depth >= MAX_ALIAS_DEPTH:
            return False, f"alias chain longer than {MAX_ALIAS_DEPTH} at {target}"
        inner = self.resolve(target, record_type, zone, depth + 1)
        unhealthy = [check for check, health in inner.health.items() if not health["healthy"]]
        if inner.code != "NOERROR" or not inner.data:
            return False, f"alias target {target} has no {record_type} answer"
        if inner.health and len(unhealthy) == len(inner.health):
            return False, f"alias target {target}: every health check is unhealthy ({', '.join(unhealthy)})"
        return True, f"alias target {target} answers {', '.join(inner.data)}"

    def _values(self, record: dict[str, Any], answer: Answer, zone: str, depth: int, ttls: list[int]) -> list[str]:
        alias = record.get("AliasTarget")
        if not alias:
            if record.get("TTL") is not None:
                ttls.append(int(record["TTL"]))
            return [item["Value"] for item in record.get("ResourceRecords") or []]
        target = dns_name(alias["DNSName"])
        target_zone = self.zone_of(target)
        if target_zone is None:
            answer.why.append(f"alias to the AWS endpoint {target}: the sandbox has no addresses for AWS "
                              "endpoints, so the answer is its name")
            return [target + "."]
        if depth >= MAX_ALIAS_DEPTH:
            answer.why.append(f"alias chain longer than {MAX_ALIAS_DEPTH} at {target}")
            return []
        inner = self.resolve(target, record["Type"], target_zone, depth + 1)
        answer.why.append(f"alias to {target}: " + "; ".join(inner.why))
        answer.health.update(inner.health)
        if inner.ttl is not None:
            ttls.append(inner.ttl)
        return inner.data

    @staticmethod
    def _wildcard(records: list[dict[str, Any]], wanted: str, zone: str) -> list[dict[str, Any]]:
        labels = wanted.split(".")
        for start in range(1, len(labels)):
            candidate = "*." + ".".join(labels[start:])
            if not (candidate == "*." + zone or candidate.endswith("." + zone)):
                break
            found = [record for record in records if dns_name(record["Name"]) == candidate]
            if found:
                return found
        return []


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("Name", "Type", "SetIdentifier", "Failover", "Weight", "Region", "MultiValueAnswer", "HealthCheckId",
            "TTL", "AliasTarget")
    return {key: record[key] for key in keys if record.get(key) is not None}
