"""AWS Backup in the inventory: vaults, plans with their rules and selections, recovery points, jobs and
Backup Audit Manager frameworks."""

from __future__ import annotations

from typing import Any

import msgspec

from checks.inventory.base import Model


class VaultLock(Model):
    min_retention_days: int | None = None
    max_retention_days: int | None = None
    lock_date: str | None = None


class Vault(Model):
    name: str
    region: str
    arn: str = ""
    created: str | None = None
    encryption_key: str | None = None
    recovery_points: int = 0
    locked: bool = False
    lock: VaultLock = msgspec.field(default_factory=VaultLock)
    access_policy: dict[str, Any] | None = None  # the policy document


class Lifecycle(Model):
    delete_after_days: int | None = None
    move_to_cold_after_days: int | None = None


class CopyAction(Model):
    destination_vault_arn: str | None = None
    lifecycle: Lifecycle = msgspec.field(default_factory=Lifecycle)


class Rule(Model):
    name: str | None = None
    id: str | None = None
    target_vault: str | None = None
    schedule: str | None = None  # cron(...) / rate(...); None: AWS's default (daily)
    timezone: str | None = None
    start_window: int | None = None
    completion_window: int | None = None
    lifecycle: Lifecycle = msgspec.field(default_factory=Lifecycle)
    copy_actions: list[CopyAction] = msgspec.field(default_factory=list)
    continuous: bool = False


class TagCondition(Model):
    type: str | None = None  # ListOfTags: "STRINGEQUALS"
    key: str | None = None
    value: str | None = None


class Condition(Model):
    key: str | None = None
    value: str | None = None


class Selection(Model):
    id: str | None = None
    name: str | None = None
    role: str | None = None
    resources: list[str] = msgspec.field(default_factory=list)
    not_resources: list[str] = msgspec.field(default_factory=list)
    list_of_tags: list[TagCondition] = msgspec.field(default_factory=list)
    conditions: dict[str, list[Condition]] = msgspec.field(default_factory=dict)  # StringEquals, StringLike, ...


class Plan(Model):
    id: str
    region: str
    arn: str | None = None
    name: str | None = None
    version: str | None = None
    rules: list[Rule] = msgspec.field(default_factory=list)
    selections: list[Selection] = msgspec.field(default_factory=list)


class RecoveryPoint(Model):
    arn: str
    region: str
    vault: str | None = None
    resource_arn: str | None = None
    resource_type: str | None = None
    status: str | None = None
    created: str | None = None
    completed: str | None = None
    encrypted: bool = False
    encryption_key: str | None = None
    lifecycle: Lifecycle = msgspec.field(default_factory=Lifecycle)
    delete_at: str | None = None
    source_vault_arn: str | None = None  # a copy's origin
    plan_id: str | None = None


class BackupJob(Model):
    id: str | None = None
    state: str | None = None
    resource_arn: str | None = None
    resource_type: str | None = None
    vault: str | None = None
    recovery_point: str | None = None
    created: str | None = None
    completed: str | None = None
    plan_id: str | None = None
    message: str | None = None


class CopyJob(Model):
    id: str | None = None
    state: str | None = None
    resource_arn: str | None = None
    resource_type: str | None = None
    source_recovery_point: str | None = None
    destination_vault_arn: str | None = None
    destination_recovery_point: str | None = None
    created: str | None = None
    completed: str | None = None
    message: str | None = None


class RestoreJob(Model):
    id: str | None = None
    state: str | None = None
    recovery_point: str | None = None
    created_resource_arn: str | None = None
    resource_type: str | None = None
    created: str | None = None
    completed: str | None = None
    message: str | None = None


class Control(Model):
    name: str | None = None
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class Framework(Model):
    name: str
    region: str
    arn: str | None = None
    deployment_status: str | None = None
    status: str | None = None
    created: str | None = None
    controls: list[Control] = msgspec.field(default_factory=list)


class Backup(Model):
    vaults: dict[str, Vault] = msgspec.field(default_factory=dict)
    plans: dict[str, Plan] = msgspec.field(default_factory=dict)
    recovery_points: list[RecoveryPoint] = msgspec.field(default_factory=list)  # oldest first
    jobs: list[BackupJob] = msgspec.field(default_factory=list)  # the newest MAX_JOBS, oldest first
    copy_jobs: list[CopyJob] = msgspec.field(default_factory=list)
    restore_jobs: list[RestoreJob] = msgspec.field(default_factory=list)
    frameworks: list[Framework] = msgspec.field(default_factory=list)
