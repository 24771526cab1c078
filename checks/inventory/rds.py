"""RDS in the inventory: DB instances (with the orders they hold), snapshots, automated backups."""

from __future__ import annotations

import msgspec

from checks.inventory.base import IdSet, Model


class Endpoint(Model):
    address: str | None = None
    port: int | None = None


class Orders(Model):
    """The orders table of an instance the lab's RDS data plane serves."""

    count: int | None = None
    min_created_at: str | None = None
    max_created_at: str | None = None
    sha256: str | None = None
    status: str | None = None
    error: str | None = None
    order_ids: IdSet | None = None  # None: could not be read


class PendingChanges(Model):
    """PendingModifiedValues: what a ModifyDBInstance without ApplyImmediately changed, applied at the next
    maintenance window (until then the instance runs with its current values)."""

    multi_az: bool | None = None
    backup_retention: int | None = None
    instance_class: str | None = None
    engine_version: str | None = None
    allocated_storage: int | None = None
    storage_type: str | None = None

    def items(self) -> dict[str, object]:
        """The pending values that are set, by field name."""
        return {name: getattr(self, name) for name in self.__struct_fields__ if getattr(self, name) is not None}


class DBInstance(Model):
    id: str
    region: str
    arn: str = ""
    status: str | None = None
    engine: str | None = None
    engine_version: str | None = None
    instance_class: str | None = None
    az: str | None = None
    secondary_az: str | None = None
    multi_az: bool = False
    backup_retention: int = 0
    backup_window: str | None = None
    latest_restorable: str | None = None
    deletion_protection: bool = False
    storage_encrypted: bool = False
    kms_key: str | None = None
    created: str | None = None
    endpoint: Endpoint = msgspec.field(default_factory=Endpoint)
    read_replica_source: str | None = None
    read_replicas: list[str] = msgspec.field(default_factory=list)
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    orders: Orders | None = None  # None: no data plane serves it, or not collected (part "rds.orders")
    pending: PendingChanges = msgspec.field(default_factory=PendingChanges)
    maintenance_window: str | None = None  # PreferredMaintenanceWindow, e.g. "sun:05:00-sun:05:30" (UTC)


class DBSnapshot(Model):
    id: str
    region: str
    arn: str | None = None
    instance: str | None = None
    type: str | None = None  # "manual" | "automated" | "awsbackup"
    status: str | None = None
    created: str | None = None
    encrypted: bool = False
    source_region: str | None = None
    source_snapshot: str | None = None
    tags: dict[str, str] = msgspec.field(default_factory=dict)


class AutomatedBackup(Model):
    arn: str | None = None
    instance: str | None = None
    instance_arn: str | None = None
    region: str = ""
    source_region: str | None = None
    status: str | None = None
    retention: int | None = None
    earliest: str | None = None
    latest: str | None = None


class RDS(Model):
    instances: dict[str, DBInstance] = msgspec.field(default_factory=dict)
    snapshots: dict[str, DBSnapshot] = msgspec.field(default_factory=dict)
    automated_backups: list[AutomatedBackup] = msgspec.field(default_factory=list)
