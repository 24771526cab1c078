"""Read-only helpers over an inventory (lab.inventory's schema): what the checks ask of it.

Every method only reads the inventory dict; nothing here calls AWS or the sandbox.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

REGION_SERVICES = ("s3", "dynamodb", "rds", "ec2", "backup", "cloudtrail")
GLOBAL_SERVICES = ("iam", "route53")


def parse_time(value: Any) -> float | None:
    """ISO 8601 (with Z or an offset) or epoch seconds -> epoch seconds; None for nothing."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def arn_region(arn: str | None) -> str:
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else ""


def arn_name(arn: str | None) -> str:
    """The last part of an ARN: 'arn:aws:backup:...:backup-vault:main' -> 'main', '.../table/t' -> 't'."""
    if not arn:
        return ""
    tail = arn.split(":", 5)[-1] if arn.startswith("arn:") else arn
    for separator in ("/", ":"):
        if separator in tail:
            tail = tail.rsplit(separator, 1)[-1]
    return tail


def arn_matches(pattern: str, arn: str) -> bool:
    """AWS Backup selection ARN patterns: '*' matches anything (within or across ARN parts)."""
    return pattern == "*" or fnmatch.fnmatchcase(arn, pattern.replace("[", "[[]"))


class InventoryView:
    def __init__(self, inventory: Mapping[str, Any]) -> None:
        self.data = inventory

    # -- top level ---------------------------------------------------------------------------------

    @cached_property
    def collected(self) -> frozenset[str]:
        return frozenset(self.data.get("services") or ())

    @property
    def region_names(self) -> list[str]:
        return list((self.data.get("regions") or {}).keys())

    @property
    def now(self) -> float:
        epoch = self.data.get("collected_epoch")
        return float(epoch) if epoch is not None else (parse_time(self.data.get("collected_at")) or 0.0)

    @property
    def account_id(self) -> str:
        return str(self.data.get("account_id") or "")

    def section(self, region: str, service: str) -> Mapping[str, Any]:
        return ((self.data.get("regions") or {}).get(region) or {}).get(service) or {}

    def global_section(self, service: str) -> Mapping[str, Any]:
        return (self.data.get("global") or {}).get(service) or {}

    def collection_error(self, service: str, region: str | None = None) -> str | None:
        """The error that kept `service` (in `region`) out of the inventory, if any."""
        for error in self.data.get("errors") or ():
            if error.get("service") == service and (region is None or error.get("region") in (region, None, "")):
                return str(error.get("error") or "unknown error")
        return None

    # -- S3 ----------------------------------------------------------------------------------------

    def buckets(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "s3").get("buckets") or {}).values()

    @cached_property
    def _bucket_index(self) -> dict[str, dict[str, Any]]:
        return {bucket["name"]: bucket for bucket in self.buckets()}

    def bucket(self, name: str) -> dict[str, Any] | None:
        return self._bucket_index.get(name)

    # -- DynamoDB ----------------------------------------------------------------------------------

    def tables(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "dynamodb").get("tables") or {}).values()

    def table(self, name: str, region: str) -> dict[str, Any] | None:
        return (self.section(region, "dynamodb").get("tables") or {}).get(name)

    def dynamodb_backups(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from self.section(name, "dynamodb").get("backups") or ()

    # -- RDS ---------------------------------------------------------------------------------------

    def db_instances(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "rds").get("instances") or {}).values()

    def db_instance(self, identifier: str, region: str) -> dict[str, Any] | None:
        return (self.section(region, "rds").get("instances") or {}).get(identifier)

    def db_snapshots(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "rds").get("snapshots") or {}).values()

    def db_automated_backups(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from self.section(name, "rds").get("automated_backups") or ()

    # -- EC2 / EBS / DLM ---------------------------------------------------------------------------

    def volumes(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "ec2").get("volumes") or {}).values()

    def ebs_snapshots(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "ec2").get("snapshots") or {}).values()

    def ebs_snapshot(self, snapshot_id: str) -> dict[str, Any] | None:
        return self._snapshot_index.get(snapshot_id)

    @cached_property
    def _snapshot_index(self) -> dict[str, dict[str, Any]]:
        return {snap["id"]: snap for snap in self.ebs_snapshots()}

    def ec2_instances(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "ec2").get("instances") or {}).values()

    # -- Elastic Disaster Recovery -------------------------------------------------------------------

    def drs_source_servers(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                for server in (self.section(name, "drs").get("source_servers") or {}).values():
                    yield {**server, "region": name}

    def drs_recovery_instances(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                for found in (self.section(name, "drs").get("recovery_instances") or {}).values():
                    yield {**found, "region": name}

    def dlm_policies(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "ec2").get("dlm_policies") or {}).values()

    def snapshot_origin(self, snapshot_id: str, limit: int = 20) -> tuple[str | None, list[str]]:
        """The volume a snapshot was first taken from, following copies back: (volume id, chain of ids)."""
        chain: list[str] = []
        current = self.ebs_snapshot(snapshot_id)
        while current is not None and len(chain) < limit:
            chain.append(current["id"])
            source = current.get("source_snapshot")
            if not source or source in chain:
                break
            parent = self.ebs_snapshot(source)
            if parent is None:
                return current.get("volume"), chain
            current = parent
        return (current.get("volume") if current else None), chain

    # -- AWS Backup --------------------------------------------------------------------------------

    def vaults(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "backup").get("vaults") or {}).values()

    @cached_property
    def _vault_index(self) -> dict[str, dict[str, Any]]:
        return {vault["arn"]: vault for vault in self.vaults()}

    def vault_by_arn(self, arn: str) -> dict[str, Any] | None:
        return self._vault_index.get(arn)

    def vault(self, name: str, region: str) -> dict[str, Any] | None:
        return (self.section(region, "backup").get("vaults") or {}).get(name)

    def backup_plans(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "backup").get("plans") or {}).values()

    def recovery_points(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from self.section(name, "backup").get("recovery_points") or ()

    def backup_list(self, key: str, region: str | None = None) -> Iterator[dict[str, Any]]:
        """jobs, copy_jobs, restore_jobs or frameworks of AWS Backup."""
        for name in self.region_names:
            if region in (None, "", name):
                yield from self.section(name, "backup").get(key) or ()

    # -- IAM, Route 53, CloudTrail -----------------------------------------------------------------

    def roles(self) -> dict[str, dict[str, Any]]:
        return dict(self.global_section("iam").get("roles") or {})

    def role_by_arn(self, arn: str | None) -> dict[str, Any] | None:
        if not arn:
            return None
        roles = self.roles()
        for role in roles.values():
            if role.get("arn") == arn:
                return role
        # A role ARN may carry a path ("role/service-role/name"); the name is what identifies it.
        return roles.get(arn_name(arn))

    def hosted_zones(self) -> list[dict[str, Any]]:
        return list((self.global_section("route53").get("zones") or {}).values())

    def health_check(self, check_id: str | None) -> dict[str, Any] | None:
        if not check_id:
            return None
        return (self.global_section("route53").get("health_checks") or {}).get(check_id)

    def trails(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from (self.section(name, "cloudtrail").get("trails") or {}).values()

    def trail_events(self, region: str | None = None) -> Iterator[dict[str, Any]]:
        for name in self.region_names:
            if region in (None, "", name):
                yield from self.section(name, "cloudtrail").get("events") or ()

    # -- the shop's ledger and the drills ----------------------------------------------------------

    @property
    def ledger(self) -> list[dict[str, Any]]:
        return list((self.data.get("orders") or {}).get("ledger") or ())

    def orders_before(self, moment: float, store: str | None = None) -> list[dict[str, Any]]:
        """Orders created before `moment` (epoch) -- of those, the ones `store` accepted when placed."""
        chosen = []
        for order in self.ledger:
            created = parse_time(order.get("created_at"))
            if created is None or created >= moment:
                continue
            if store and (order.get("stored") or {}).get(store) is False:
                continue  # the store refused the write then: nothing there to recover
            chosen.append(order)
        return chosen

    @property
    def drills(self) -> list[dict[str, Any]]:
        return list(self.data.get("drills") or ())

    def drill(self, drill_id: str = "", lab: str = "") -> dict[str, Any] | None:
        """The drill with this id, else the latest drill of `lab`, else the latest drill at all."""
        drills = self.drills
        if drill_id:
            return next((drill for drill in drills if str(drill.get("id")) == drill_id), None)
        if lab:
            drills = [drill for drill in drills if drill.get("lab") == lab]
        if not drills:
            return None
        return max(drills, key=lambda drill: parse_time(drill.get("incident_time")) or 0.0)


def tags_match(tags: Mapping[str, str] | None, wanted: Mapping[str, str]) -> bool:
    """Every wanted tag is present with its value ('*' accepts any value)."""
    tags = tags or {}
    return all(key in tags and (value == "*" or tags[key] == value) for key, value in wanted.items())


def scoped(items: Iterator[dict[str, Any]] | list[dict[str, Any]], names: list[str] | None, region: str | None,
           key: str = "name") -> list[tuple[str, str, dict[str, Any] | None]]:
    """(name, region, item) for each item in scope: every item in `region` (all regions when empty), or
    only the named ones -- a name found in several regions gives one entry each, an absent name one entry
    with item None."""
    pool = [item for item in items if region in (None, "", item.get("region"))]
    if not names:
        return [(item[key], item.get("region", ""), item) for item in pool]
    chosen: list[tuple[str, str, dict[str, Any] | None]] = []
    for name in names:
        found = [item for item in pool if item.get(key) == name]
        chosen.extend((name, item.get("region", ""), item) for item in found)
        if not found:
            chosen.append((name, region or "", None))
    return chosen


def trusted_services(role: Mapping[str, Any] | None) -> set[str]:
    """The AWS services a role's trust policy lets assume it (e.g. {'s3.amazonaws.com'})."""
    services: set[str] = set()
    document = (role or {}).get("trust_policy") or {}
    statements = document.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal") or {}
        named = principal.get("Service", []) if isinstance(principal, Mapping) else []
        services.update([named] if isinstance(named, str) else list(named))
    return services
