"""EC2 in the inventory: instances, EBS volumes and snapshots, Data Lifecycle Manager policies."""

from __future__ import annotations

import msgspec

from checks.inventory.base import Model


class Instance(Model):
    id: str
    region: str
    arn: str = ""
    state: str | None = None
    az: str | None = None
    type: str | None = None
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    volumes: list[str] = msgspec.field(default_factory=list)


class Attachment(Model):
    instance: str | None = None
    device: str | None = None
    state: str | None = None


class Volume(Model):
    id: str
    region: str
    arn: str = ""
    az: str | None = None
    state: str | None = None
    size: int | None = None
    type: str | None = None
    encrypted: bool = False
    snapshot_id: str | None = None
    created: str | None = None
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    attachments: list[Attachment] = msgspec.field(default_factory=list)


class Snapshot(Model):
    id: str
    region: str
    volume: str | None = None
    state: str | None = None
    progress: str | None = None
    created: str | None = None
    encrypted: bool = False
    description: str | None = None
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    size: int | None = None
    source_snapshot: str | None = None  # a copy's source, as its description says
    source_region: str | None = None


class CrossRegionCopy(Model):
    target_region: str | None = None
    encrypted: bool | None = None
    retain_interval: int | None = None
    retain_interval_unit: str | None = None


class DlmSchedule(Model):
    name: str | None = None
    interval: int | None = None
    interval_unit: str | None = None
    cron: str | None = None
    times: list[str] | None = None
    retain_count: int | None = None
    retain_interval: int | None = None
    retain_interval_unit: str | None = None
    copy_tags: bool | None = None
    cross_region_copy: list[CrossRegionCopy] = msgspec.field(default_factory=list)


class DlmPolicy(Model):
    id: str
    region: str
    arn: str | None = None
    description: str | None = None
    state: str | None = None
    execution_role: str | None = None
    policy_type: str | None = None
    resource_types: list[str] = msgspec.field(default_factory=list)
    target_tags: dict[str, str] = msgspec.field(default_factory=dict)
    schedules: list[DlmSchedule] = msgspec.field(default_factory=list)


class EC2(Model):
    instances: dict[str, Instance] = msgspec.field(default_factory=dict)
    volumes: dict[str, Volume] = msgspec.field(default_factory=dict)
    snapshots: dict[str, Snapshot] = msgspec.field(default_factory=dict)
    dlm_policies: dict[str, DlmPolicy] = msgspec.field(default_factory=dict)
