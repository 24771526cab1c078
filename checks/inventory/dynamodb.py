"""DynamoDB in the inventory: tables with their protection, their order ids, and on-demand backups."""

from __future__ import annotations

from typing import Any

import msgspec

from checks.inventory.base import IdSet, Model


class KeyAttribute(Model):
    name: str
    type: str  # "HASH" | "RANGE"


class Replica(Model):
    region: str | None = None
    status: str | None = None


class Restore(Model):
    source_table_arn: str | None = None
    source_backup_arn: str | None = None
    restore_time: str | None = None
    in_progress: bool | None = None


class Pitr(Model):
    status: str = "DISABLED"  # "ENABLED" | "DISABLED"
    earliest: str | None = None
    latest: str | None = None
    recovery_period_days: int | None = None


class Items(Model):
    count: int | None = None
    order_ids: IdSet | None = None  # when the table is keyed by order_id


class Table(Model):
    name: str
    region: str
    arn: str = ""
    status: str | None = None
    created: str | None = None
    key_schema: list[KeyAttribute] = msgspec.field(default_factory=list)
    billing_mode: str | None = None
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    stream: dict[str, Any] | None = None
    deletion_protection: bool = False
    replicas: list[Replica] = msgspec.field(default_factory=list)
    global_table_version: str | None = None
    restore: Restore | None = None
    pitr: Pitr = msgspec.field(default_factory=Pitr)
    items: Items | None = None  # None: the items were not collected (part "dynamodb.items")


class TableBackup(Model):
    arn: str | None = None
    name: str | None = None
    table: str | None = None
    status: str | None = None
    type: str | None = None
    created: str | None = None


class GlobalTable(Model):
    """A global table of the 2017.11.29 version (CreateGlobalTable)."""

    name: str | None = None
    replicas: list[str] = msgspec.field(default_factory=list)
    status: str | None = None


class DynamoDB(Model):
    tables: dict[str, Table] = msgspec.field(default_factory=dict)
    backups: list[TableBackup] = msgspec.field(default_factory=list)
    global_tables: list[GlobalTable] = msgspec.field(default_factory=list)
