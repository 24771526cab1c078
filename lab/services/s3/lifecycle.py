"""S3 lifecycle rules and what they make due, as S3 evaluates them once a day at midnight UTC. Pure functions
over object versions (lab.backends.data.ObjectVersion), no sandbox.

S3 counts an object's age from its creation time plus the rule's days, rounded up to the next midnight UTC;
a noncurrent version's age from the moment it became noncurrent (its successor's creation)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, NamedTuple

from lab.kernel.data import ObjectVersion

DAY = 86400.0


@dataclass(frozen=True)
class LifecycleRule:
    id: str
    enabled: bool
    prefix: str
    tags: tuple[tuple[str, str], ...]
    size_greater_than: int | None
    size_less_than: int | None
    expiration_days: int | None
    expiration_date: float | None  # epoch seconds
    expired_object_delete_marker: bool
    noncurrent_days: int | None
    newer_noncurrent_versions: int | None
    abort_upload_days: int | None

    def selects(self, version: ObjectVersion) -> bool:
        if not version.key.startswith(self.prefix):
            return False
        if self.tags and not all((version.tags or {}).get(name) == value for name, value in self.tags):
            return False
        if self.size_greater_than is not None and not version.size > self.size_greater_than:
            return False
        return self.size_less_than is None or version.size < self.size_less_than


class LifecycleAction(NamedTuple):
    kind: str  # "expire" (current version), "delete-noncurrent", "remove-delete-marker"
    key: str
    version_id: str
    rule_id: str


def parse_lifecycle(document: Mapping[str, Any]) -> tuple[LifecycleRule, ...]:
    """Rules of a GetBucketLifecycle(Configuration)-shaped document (botocore's types)."""
    rules = []
    for index, raw in enumerate(document.get("Rules") or []):
        rule_filter = raw.get("Filter") or {}
        conjunction = rule_filter.get("And") or {}
        tags = list(conjunction.get("Tags") or [])
        if rule_filter.get("Tag"):
            tags.append(rule_filter["Tag"])
        expiration = raw.get("Expiration") or {}
        noncurrent = raw.get("NoncurrentVersionExpiration") or {}
        date = expiration.get("Date")
        rules.append(LifecycleRule(
            id=raw.get("ID") or f"rule-{index + 1}",
            enabled=raw.get("Status") == "Enabled",
            prefix=conjunction.get("Prefix") or rule_filter.get("Prefix") or raw.get("Prefix") or "",
            tags=tuple(sorted((tag["Key"], tag["Value"]) for tag in tags)),
            size_greater_than=_first(conjunction, rule_filter, "ObjectSizeGreaterThan"),
            size_less_than=_first(conjunction, rule_filter, "ObjectSizeLessThan"),
            expiration_days=expiration.get("Days"),
            expiration_date=_epoch(date) if date is not None else None,
            expired_object_delete_marker=bool(expiration.get("ExpiredObjectDeleteMarker")),
            noncurrent_days=noncurrent.get("NoncurrentDays"),
            newer_noncurrent_versions=noncurrent.get("NewerNoncurrentVersions"),
            abort_upload_days=(raw.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
        ))
    return tuple(rules)


def _first(conjunction: Mapping[str, Any], rule_filter: Mapping[str, Any], name: str) -> int | None:
    value = conjunction.get(name, rule_filter.get(name))
    return int(value) if value is not None else None


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def next_midnight(after: float) -> float:
    """The first 00:00 UTC strictly after `after`: when S3 next evaluates lifecycle rules."""
    return (math.floor(after / DAY) + 1) * DAY


def due_at(since: float, days: int) -> float:
    """When an age of `days` counted from `since` is reached, rounded up to midnight UTC as S3 does."""
    return math.ceil((since + days * DAY) / DAY) * DAY


def needs_tags(rules: Iterable[LifecycleRule]) -> bool:
    return any(rule.enabled and rule.tags for rule in rules)


def due_actions(rules: Sequence[LifecycleRule], versions: Sequence[ObjectVersion], at: float) -> list[LifecycleAction]:
    """What the enabled rules make due at sim time `at`, for `versions` grouped by key, each key's newest first
    (as ListObjectVersions lists them)."""
    active = [rule for rule in rules if rule.enabled]
    actions: list[LifecycleAction] = []
    for key, group in groupby(versions, key=lambda version: version.key):
        actions.extend(_due_for_key(active, key, list(group), at))
    return actions


def _due_for_key(rules: Sequence[LifecycleRule], key: str, line: list[ObjectVersion],
                 at: float) -> list[LifecycleAction]:
    actions: list[LifecycleAction] = []
    current = line[0] if line and line[0].is_latest else None
    if current is not None and not current.is_delete_marker:
        for rule in rules:
            if rule.selects(current) and _expired(rule, current, at):
                actions.append(LifecycleAction("expire", key, current.version_id, rule.id))
                break
    removed: set[str] = set()
    for rule in rules:
        if rule.noncurrent_days is None:
            continue
        retained = rule.newer_noncurrent_versions or 0
        # line[0] is the current version; each later one became noncurrent when the one before it was written.
        for position in range(1 + retained, len(line)):
            version = line[position]
            if (version.version_id not in removed and rule.selects(version)
                    and due_at(line[position - 1].last_modified, rule.noncurrent_days) <= at):
                removed.add(version.version_id)
                actions.append(LifecycleAction("delete-noncurrent", key, version.version_id, rule.id))
    if current is not None and current.is_delete_marker and all(v.version_id in removed for v in line[1:]):
        for rule in rules:
            if rule.expired_object_delete_marker and current.key.startswith(rule.prefix) and not rule.tags:
                actions.append(LifecycleAction("remove-delete-marker", key, current.version_id, rule.id))
                break
    return actions


def _expired(rule: LifecycleRule, version: ObjectVersion, at: float) -> bool:
    if rule.expiration_days is not None and due_at(version.last_modified, rule.expiration_days) <= at:
        return True
    return rule.expiration_date is not None and rule.expiration_date <= at


def upload_due(rule: LifecycleRule, key: str, initiated: float, at: float) -> bool:
    """AbortIncompleteMultipartUpload: the upload is old enough to be aborted at `at`."""
    return (rule.enabled and rule.abort_upload_days is not None and key.startswith(rule.prefix)
            and due_at(initiated, rule.abort_upload_days) <= at)
