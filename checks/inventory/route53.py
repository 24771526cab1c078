"""Route 53 in the inventory (global): hosted zones with their records, health checks with their status."""

from __future__ import annotations

import msgspec

from checks.inventory.base import Model


class Alias(Model):
    dns_name: str | None = None
    zone_id: str | None = None
    evaluate_health: bool = False


class Record(Model):
    name: str | None = None
    type: str | None = None
    ttl: int | None = None
    values: list[str | None] = msgspec.field(default_factory=list)
    alias: Alias | None = None
    set_identifier: str | None = None
    failover: str | None = None  # "PRIMARY" | "SECONDARY"
    health_check_id: str | None = None
    weight: int | None = None
    region: str | None = None


class OutageAnswer(Model):
    """What Route 53 would answer for a failover record's name while one region is down, as the sandbox's own
    resolution computes it (lab/services/route53/outage.py): the judge's view of what a failover does."""

    name: str
    type: str
    region_down: str
    answer: list[str] = msgspec.field(default_factory=list)
    failover: str | None = None  # the role of the record answered: PRIMARY | SECONDARY
    set_identifier: str | None = None
    why: list[str] = msgspec.field(default_factory=list)
    health: dict[str, str] = msgspec.field(default_factory=dict)  # health check -> why it is (un)healthy


class ClientAnswer(Model):
    """What a client resolving a failover record's name uses now: Route 53's answer, or the older one its resolver
    keeps for the record's TTL after Route 53's changed (lab/services/route53/propagation.py)."""

    name: str
    type: str
    answer: list[str] = msgspec.field(default_factory=list)
    ttl: int | None = None  # of the answer the client holds
    nameserver_answer: list[str] | None = None  # Route 53's newer answer while the client keeps its older one
    kept_until: float | None = None  # epoch: when the client asks again and gets the newer answer


class Zone(Model):
    id: str
    name: str | None = None
    private: bool = False
    records: list[Record] = msgspec.field(default_factory=list)
    outage_answers: list[OutageAnswer] = msgspec.field(default_factory=list)  # per failover name and region
    client_answers: list[ClientAnswer] = msgspec.field(default_factory=list)  # per failover name (the lab's)


class HealthCheck(Model):
    id: str
    type: str | None = None
    ip: str | None = None
    port: int | None = None
    fqdn: str | None = None
    resource_path: str | None = None
    failure_threshold: int | None = None
    inverted: bool = False
    disabled: bool = False
    status: str | None = None  # "Healthy" | "Unhealthy" | None (not observed yet)


class Route53(Model):
    zones: dict[str, Zone] = msgspec.field(default_factory=dict)
    health_checks: dict[str, HealthCheck] = msgspec.field(default_factory=dict)
