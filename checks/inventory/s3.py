"""S3 in the inventory: buckets with their configuration, and a summary of their objects."""

from __future__ import annotations

from typing import Any

import msgspec

from checks.inventory.base import IdSet, Model


class ReplicationRule(Model):
    id: str | None = None
    status: str | None = None  # "Enabled" | "Disabled"
    priority: int | None = None
    prefix: str | None = None  # None: the whole bucket
    tags: dict[str, str] = msgspec.field(default_factory=dict)  # a tag filter: only objects with all of them
    destination_bucket: str | None = None
    destination_arn: str | None = None
    storage_class: str | None = None
    delete_marker_replication: str | None = None  # "Enabled" | "Disabled"
    replication_time: bool = False  # Destination.ReplicationTime Enabled: S3 Replication Time Control (RTC)
    replication_time_minutes: int | None = None  # RTC's Time.Minutes (AWS accepts 15 only)
    metrics: bool = False  # Destination.Metrics Enabled: replication metrics (and RTC's events) in CloudWatch
    existing_objects: bool = False


class Replication(Model):
    role: str | None = None
    rules: list[ReplicationRule] = msgspec.field(default_factory=list)


class ObjectLock(Model):
    enabled: bool = False
    mode: str | None = None  # default retention: "GOVERNANCE" | "COMPLIANCE"
    days: int | None = None
    years: int | None = None


class ObjectVersion(Model):
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int = 0
    last_modified: str | None = None
    latest: bool = False
    delete_marker: bool = False
    replication_status: str | None = None  # "PENDING" | "COMPLETED" | "FAILED" | "REPLICA" | None


class Invoices(Model):
    """The shop's invoices in the bucket, against the ledger: the orders whose invoice (its key) has a current
    version that is not a delete marker, and of those the ones whose current version is the original content."""

    readable: IdSet = msgspec.field(default_factory=IdSet)
    original: IdSet = msgspec.field(default_factory=IdSet)


class Objects(Model):
    """A summary of the bucket's objects, the same size at any world age."""

    count: int | None = None  # keys whose latest version is not a delete marker
    version_count: int | None = None
    delete_marker_count: int | None = None
    truncated: bool = False  # read from outside through capped listings: only part of the bucket was seen
    limit: int = 0  # the cap on versions listed, when truncated
    replication_pending: int = 0
    replication_failed: int = 0
    replication_status_known: bool = False
    newest: list[ObjectVersion] = msgspec.field(default_factory=list)  # the newest versions, newest first
    invoices: Invoices | None = None  # None: the ledger was not collected with the objects


class Bucket(Model):
    name: str
    region: str
    arn: str = ""
    created: str | None = None
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    versioning: str = "Off"  # "Enabled" | "Suspended" | "Off"
    mfa_delete: str | None = None
    replication: Replication | None = None
    object_lock: ObjectLock = msgspec.field(default_factory=ObjectLock)
    lifecycle: list[dict[str, Any]] = msgspec.field(default_factory=list)  # AWS's rule documents
    objects: Objects | None = None  # None: the objects were not collected (part "s3.objects")


class S3(Model):
    buckets: dict[str, Bucket] = msgspec.field(default_factory=dict)
