"""Read-only helpers over an inventory (checks.inventory's typed models): what the checks ask of it.

Every method only reads the inventory; nothing here calls AWS or the sandbox.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, TypeVar

from checks.inventory import IdSet, Inventory, Region, load
from checks.inventory.backup import BackupJob, CopyJob, Framework, Plan, RecoveryPoint, RestoreJob, Vault
from checks.inventory.cloudtrail import Trail, TrailEvent
from checks.inventory.drs import DRS, RecoveryInstance, SourceServer
from checks.inventory.drs import Job as DrsJob
from checks.inventory.dynamodb import Table, TableBackup
from checks.inventory.ec2 import DlmPolicy, Instance, Snapshot, Volume
from checks.inventory.iam import Role
from checks.inventory.lab import Drill, Injection
from checks.inventory.rds import AutomatedBackup, DBInstance, DBSnapshot
from checks.inventory.route53 import HealthCheck, Zone
from checks.inventory.s3 import Bucket

T = TypeVar("T")


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
    """An inventory with indexes for the checks. Built from the typed models, or from a decoded JSON document
    of any readable schema (checks.inventory.load)."""

    def __init__(self, inventory: Inventory | Mapping[str, Any]) -> None:
        self.inventory = inventory if isinstance(inventory, Inventory) else load(inventory)

    # -- top level ---------------------------------------------------------------------------------

    @cached_property
    def collected(self) -> frozenset[str]:
        return frozenset(self.inventory.services)

    @property
    def region_names(self) -> list[str]:
        return list(self.inventory.regions)

    @property
    def now(self) -> float:
        return float(self.inventory.collected_epoch or parse_time(self.inventory.collected_at) or 0.0)

    @property
    def account_id(self) -> str:
        return self.inventory.account_id

    @property
    def collected_at(self) -> str | None:
        return self.inventory.collected_at

    def region(self, name: str) -> Region:
        return self.inventory.regions.get(name) or _EMPTY_REGION

    def _each(self, region: str | None, read: Any) -> Iterator[Any]:
        for name, sections in self.inventory.regions.items():
            if region in (None, "", name):
                yield from read(sections)

    def collection_error(self, service: str, region: str | None = None) -> str | None:
        """The error that kept `service` (in `region`) out of the inventory, if any."""
        for error in self.inventory.errors:
            if error.service == service and (region is None or error.region in (region, None, "")):
                return error.error or "unknown error"
        return None

    # -- S3 ----------------------------------------------------------------------------------------

    def buckets(self, region: str | None = None) -> Iterator[Bucket]:
        return self._each(region, lambda sections: sections.s3.buckets.values())

    @cached_property
    def _bucket_index(self) -> dict[str, Bucket]:
        return {bucket.name: bucket for bucket in self.buckets()}

    def bucket(self, name: str) -> Bucket | None:
        return self._bucket_index.get(name)

    # -- DynamoDB ----------------------------------------------------------------------------------

    def tables(self, region: str | None = None) -> Iterator[Table]:
        return self._each(region, lambda sections: sections.dynamodb.tables.values())

    def table(self, name: str, region: str) -> Table | None:
        return self.region(region).dynamodb.tables.get(name)

    def dynamodb_backups(self, region: str | None = None) -> Iterator[TableBackup]:
        return self._each(region, lambda sections: sections.dynamodb.backups)

    def global_tables(self, region: str | None = None) -> Iterator[Any]:
        return self._each(region, lambda sections: sections.dynamodb.global_tables)

    # -- RDS ---------------------------------------------------------------------------------------

    def db_instances(self, region: str | None = None) -> Iterator[DBInstance]:
        return self._each(region, lambda sections: sections.rds.instances.values())

    def db_instance(self, identifier: str, region: str) -> DBInstance | None:
        return self.region(region).rds.instances.get(identifier)

    def db_snapshots(self, region: str | None = None) -> Iterator[DBSnapshot]:
        return self._each(region, lambda sections: sections.rds.snapshots.values())

    def db_automated_backups(self, region: str | None = None) -> Iterator[AutomatedBackup]:
        return self._each(region, lambda sections: sections.rds.automated_backups)

    # -- EC2 / EBS / DLM ---------------------------------------------------------------------------

    def volumes(self, region: str | None = None) -> Iterator[Volume]:
        return self._each(region, lambda sections: sections.ec2.volumes.values())

    def ebs_snapshots(self, region: str | None = None) -> Iterator[Snapshot]:
        return self._each(region, lambda sections: sections.ec2.snapshots.values())

    def ebs_snapshot(self, snapshot_id: str) -> Snapshot | None:
        return self._snapshot_index.get(snapshot_id)

    @cached_property
    def _snapshot_index(self) -> dict[str, Snapshot]:
        return {snap.id: snap for snap in self.ebs_snapshots()}

    def ec2_instances(self, region: str | None = None) -> Iterator[Instance]:
        return self._each(region, lambda sections: sections.ec2.instances.values())

    # -- Elastic Disaster Recovery -------------------------------------------------------------------

    def drs(self, region: str) -> DRS:
        return self.region(region).drs

    def drs_source_servers(self, region: str | None = None) -> Iterator[SourceServer]:
        return self._each(region, lambda sections: sections.drs.source_servers.values())

    def drs_jobs(self, region: str | None = None) -> Iterator[DrsJob]:
        return self._each(region, lambda sections: sections.drs.jobs)

    def drs_recovery_instances(self, region: str | None = None) -> Iterator[RecoveryInstance]:
        return self._each(region, lambda sections: sections.drs.recovery_instances.values())

    def dlm_policies(self, region: str | None = None) -> Iterator[DlmPolicy]:
        return self._each(region, lambda sections: sections.ec2.dlm_policies.values())

    def snapshot_origin(self, snapshot_id: str, limit: int = 20) -> tuple[str | None, list[str]]:
        """The volume a snapshot was first taken from, following copies back: (volume id, chain of ids)."""
        chain: list[str] = []
        current = self.ebs_snapshot(snapshot_id)
        while current is not None and len(chain) < limit:
            chain.append(current.id)
            source = current.source_snapshot
            if not source or source in chain:
                break
            parent = self.ebs_snapshot(source)
            if parent is None:
                return current.volume, chain
            current = parent
        return (current.volume if current else None), chain

    # -- AWS Backup --------------------------------------------------------------------------------

    def vaults(self, region: str | None = None) -> Iterator[Vault]:
        return self._each(region, lambda sections: sections.backup.vaults.values())

    @cached_property
    def _vault_index(self) -> dict[str, Vault]:
        return {vault.arn: vault for vault in self.vaults()}

    def vault_by_arn(self, arn: str) -> Vault | None:
        return self._vault_index.get(arn)

    def vault(self, name: str, region: str) -> Vault | None:
        return self.region(region).backup.vaults.get(name)

    def backup_plans(self, region: str | None = None) -> Iterator[Plan]:
        return self._each(region, lambda sections: sections.backup.plans.values())

    def recovery_points(self, region: str | None = None) -> Iterator[RecoveryPoint]:
        return self._each(region, lambda sections: sections.backup.recovery_points)

    def backup_jobs(self, region: str | None = None) -> Iterator[BackupJob]:
        return self._each(region, lambda sections: sections.backup.jobs)

    def copy_jobs(self, region: str | None = None) -> Iterator[CopyJob]:
        return self._each(region, lambda sections: sections.backup.copy_jobs)

    def restore_jobs(self, region: str | None = None) -> Iterator[RestoreJob]:
        return self._each(region, lambda sections: sections.backup.restore_jobs)

    def frameworks(self, region: str | None = None) -> Iterator[Framework]:
        return self._each(region, lambda sections: sections.backup.frameworks)

    # -- IAM, Route 53, CloudTrail -----------------------------------------------------------------

    def roles(self) -> dict[str, Role]:
        return dict(self.inventory.global_.iam.roles)

    def role_by_arn(self, arn: str | None) -> Role | None:
        if not arn:
            return None
        roles = self.inventory.global_.iam.roles
        for role in roles.values():
            if role.arn == arn:
                return role
        # A role ARN may carry a path ("role/service-role/name"); the name is what identifies it.
        return roles.get(arn_name(arn))

    def hosted_zones(self) -> list[Zone]:
        return list(self.inventory.global_.route53.zones.values())

    def health_check(self, check_id: str | None) -> HealthCheck | None:
        if not check_id:
            return None
        return self.inventory.global_.route53.health_checks.get(check_id)

    def trails(self, region: str | None = None) -> Iterator[Trail]:
        return self._each(region, lambda sections: sections.cloudtrail.trails.values())

    def trail_events(self, region: str | None = None) -> Iterator[TrailEvent]:
        return self._each(region, lambda sections: sections.cloudtrail.events)

    # -- the shop's ledger and the drills ----------------------------------------------------------

    def orders_before(self, moment: float, store: str | None = None) -> IdSet:
        """Orders created before `moment` (epoch) -- of those, the ones `store` accepted when placed."""
        return self.inventory.orders.before(moment, store)

    def order_created(self, order_id: str) -> float:
        """When an order of the ledger was created (epoch seconds; 0 for one it does not hold)."""
        return float(self.inventory.orders.created(order_id) or 0)

    @property
    def drills(self) -> list[Drill]:
        return list(self.inventory.drills)

    @property
    def injections(self) -> list[Injection]:
        return list(self.inventory.faults.injections)

    def drill(self, drill_id: str = "", lab: str = "") -> Drill | None:
        """The drill with this id, else the latest drill of `lab`, else the latest drill at all."""
        drills = self.drills
        if drill_id:
            return next((drill for drill in drills if str(drill.id) == drill_id), None)
        if lab:
            drills = [drill for drill in drills if drill.lab == lab]
        if not drills:
            return None
        # (two drills started at the same sim instant: the later one, by its id, is the latest)
        return max(drills, key=lambda drill: (parse_time(drill.incident_time) or 0.0, drill.id))


_EMPTY_REGION = Region()


def tags_match(tags: Mapping[str, str] | None, wanted: Mapping[str, str]) -> bool:
    """Every wanted tag is present with its value ('*' accepts any value)."""
    tags = tags or {}
    return all(key in tags and (value == "*" or tags[key] == value) for key, value in wanted.items())


def scoped(items: Iterable[T], names: list[str] | None, region: str | None,
           key: str = "name") -> list[tuple[str, str, T | None]]:
    """(name, region, item) for each item in scope: every item in `region` (all regions when empty), or
    only the named ones -- a name found in several regions gives one entry each, an absent name one entry
    with item None."""
    pool = [item for item in items if region in (None, "", getattr(item, "region", None))]
    if not names:
        return [(getattr(item, key), getattr(item, "region", ""), item) for item in pool]
    chosen: list[tuple[str, str, T | None]] = []
    for name in names:
        found = [item for item in pool if getattr(item, key) == name]
        chosen.extend((name, getattr(item, "region", ""), item) for item in found)
        if not found:
            chosen.append((name, region or "", None))
    return chosen


def trusted_services(role: Role | None) -> set[str]:
    """The AWS services a role's trust policy lets assume it (e.g. {'s3.amazonaws.com'})."""
    services: set[str] = set()
    document = (role.trust_policy if role is not None else None) or {}
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
