"""S3 lifecycle rules and what they make due, as S3 evaluates them once a day at midnight UTC. Pure functions
over object versions (lab.backends.data.ObjectVersion), no sandbox.

S3 counts an object's age from its creation time plus the rule's days, rounded up to the next midnight UTC;
a noncurrent version's age from the moment it became noncurrent (its successor's creation).

Transitions move versions down S3's waterfall of storage classes (STANDARD -> STANDARD_IA -> INTELLIGENT_TIERING
-> ONEZONE_IA -> GLACIER_IR -> GLACIER -> DEEP_ARCHIVE), never up, and skip small objects as the bucket's
TransitionDefaultMinimumObjectSize says unless the rule's own size filter decides (S3 User Guide: Transitioning
objects using Amazon S3 Lifecycle, lifecycle-transition-general-considerations.html)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby, pairwise
from typing import Any, NamedTuple

from lab.kernel.data import ObjectVersion
from lab.kernel.errors import AwsError
from lab.sim.clock import utc_midnight

DAY = 86400.0
KIB = 1024

#: the storage classes in S3's transition waterfall, highest first: lifecycle moves a version only further down
#: (REDUCED_REDUNDANCY transitions as STANDARD does)
WATERFALL = ("STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
TRANSITION_CLASSES = WATERFALL[1:]  # the Transition/NoncurrentVersionTransition StorageClass enum
ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})  # read only after RestoreObject
INFREQUENT_ACCESS = frozenset({"STANDARD_IA", "ONEZONE_IA"})  # at least 30 days after creation, and 30 days there
SMALL_OBJECT = 128 * KIB
ALL_128K, VARIES = "all_storage_classes_128K", "varies_by_storage_class"


@dataclass(frozen=True)
class Transition:
    """One Transition (days after creation, or a date) or NoncurrentVersionTransition (days after becoming
    noncurrent, keeping the newest `newer` noncurrent versions where they are) of a rule."""

    storage_class: str
    days: int | None
    date: float | None = None  # epoch seconds (Transition only)
    newer: int | None = None  # NewerNoncurrentVersions (NoncurrentVersionTransition only)


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
    transitions: tuple[Transition, ...] = ()
    noncurrent_transitions: tuple[Transition, ...] = ()

    @property
    def sized(self) -> bool:
        """The rule's filter names an object size: it, not the bucket's default minimum, decides transitions."""
        return self.size_greater_than is not None or self.size_less_than is not None

    @property
    def expires(self) -> bool:
        """The rule is enabled and expires current versions (Expiration's Days or Date)."""
        return self.enabled and (self.expiration_days is not None or self.expiration_date is not None)

    @property
    def acts(self) -> bool:
        """The rule has an action lifecycle runs on object versions (other than aborting uploads)."""
        return self.expires or (self.enabled and (self.expired_object_delete_marker or self.noncurrent_days is not None
                                                  or bool(self.transitions) or bool(self.noncurrent_transitions)))

    def selects(self, version: ObjectVersion) -> bool:
        if not version.key.startswith(self.prefix):
            return False
        if self.tags and not all((version.tags or {}).get(name) == value for name, value in self.tags):
            return False
        if self.size_greater_than is not None and not version.size > self.size_greater_than:
            return False
        return self.size_less_than is None or version.size < self.size_less_than


class LifecycleAction(NamedTuple):
    kind: str  # "expire" (current version), "delete-noncurrent", "remove-delete-marker", "transition"
    key: str
    version_id: str
    rule_id: str
    storage_class: str | None = None  # "transition": the class the version moves to


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
            transitions=tuple(
                Transition(item.get("StorageClass") or "", item.get("Days"),
                           _epoch(item["Date"]) if item.get("Date") is not None else None)
                for item in raw.get("Transitions") or ([raw["Transition"]] if raw.get("Transition") else [])),
            noncurrent_transitions=tuple(
                Transition(item.get("StorageClass") or "", item.get("NoncurrentDays"),
                           newer=item.get("NewerNoncurrentVersions"))
                for item in raw.get("NoncurrentVersionTransitions")
                or ([raw["NoncurrentVersionTransition"]] if raw.get("NoncurrentVersionTransition") else [])),
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
    return utc_midnight(after) + DAY


def due_at(since: float, days: int) -> float:
    """When an age of `days` counted from `since` is reached, rounded up to midnight UTC as S3 does."""
    return math.ceil((since + days * DAY) / DAY) * DAY


def needs_tags(rules: Iterable[LifecycleRule]) -> bool:
    return any(rule.enabled and rule.tags for rule in rules)


def due_actions(rules: Sequence[LifecycleRule], versions: Sequence[ObjectVersion], at: float,
                minimum: str = ALL_128K) -> list[LifecycleAction]:
    """What the enabled rules make due at sim time `at`, for `versions` grouped by key, each key's newest first
    (as ListObjectVersions lists them); `minimum` is the bucket's TransitionDefaultMinimumObjectSize."""
    active = [rule for rule in rules if rule.enabled]
    actions: list[LifecycleAction] = []
    for key, group in groupby(versions, key=lambda version: version.key):
        actions.extend(_due_for_key(active, key, list(group), at, minimum))
    return actions


def _due_for_key(rules: Sequence[LifecycleRule], key: str, line: list[ObjectVersion],
                 at: float, minimum: str) -> list[LifecycleAction]:
    actions: list[LifecycleAction] = []
    current = line[0] if line and line[0].is_latest else None
    expired = False
    if current is not None and not current.is_delete_marker:
        for rule in rules:
            if rule.selects(current) and _expired(rule, current, at):
                actions.append(LifecycleAction("expire", key, current.version_id, rule.id))
                expired = True
                break
        if not expired:  # (an expiration due takes precedence over a transition due the same day)
            moved = _transition_due(current, [(rule, item) for rule in rules if rule.selects(current)
                                              for item in rule.transitions if _reached(item, current, at)], minimum)
            if moved is not None:
                actions.append(moved)
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
    for position in range(1, len(line)):
        version = line[position]
        if version.is_delete_marker or version.version_id in removed:
            continue
        became_noncurrent = line[position - 1].last_modified
        candidates = [(rule, item) for rule in rules if rule.selects(version)
                      for item in rule.noncurrent_transitions
                      if position > (item.newer or 0) and item.days is not None
                      and due_at(became_noncurrent, item.days) <= at]
        moved = _transition_due(version, candidates, minimum)
        if moved is not None:
            actions.append(moved)
    if current is not None and current.is_delete_marker and all(v.version_id in removed for v in line[1:]):
        for rule in rules:
            if rule.expired_object_delete_marker and current.key.startswith(rule.prefix) and not rule.tags:
                actions.append(LifecycleAction("remove-delete-marker", key, current.version_id, rule.id))
                break
    return actions


def _reached(item: Transition, version: ObjectVersion, at: float) -> bool:
    if item.days is not None:
        return due_at(version.last_modified, item.days) <= at
    return item.date is not None and item.date <= at


def waterfall_level(storage_class: str | None) -> int | None:
    """Where a storage class stands in the waterfall (0: STANDARD); None for a class lifecycle never moves."""
    if storage_class in (None, "", "REDUCED_REDUNDANCY"):
        return 0
    return WATERFALL.index(storage_class) if storage_class in WATERFALL else None


def transition_allowed(rule: LifecycleRule, storage_class: str, size: int, minimum: str) -> bool:
    """Whether a version of `size` bytes may move to `storage_class`: a rule with a size filter decides for itself;
    otherwise objects under 128 KiB stay, or with varies_by_storage_class go only to the archive classes."""
    if rule.sized or size >= SMALL_OBJECT:
        return True
    return minimum == VARIES and storage_class in ARCHIVE_CLASSES


def _transition_due(version: ObjectVersion, candidates: list[tuple[LifecycleRule, Transition]],
                    minimum: str) -> LifecycleAction | None:
    """Of the transitions due for `version`, the one to the lowest class of the waterfall, if it lies below the
    version's class (S3 resolves conflicting transitions to the lowest-cost class)."""
    here = waterfall_level(version.storage_class)
    if here is None:
        return None
    best: tuple[int, LifecycleRule, str] | None = None
    for rule, item in candidates:
        level = waterfall_level(item.storage_class)
        if level is None or level <= here or not transition_allowed(rule, item.storage_class, version.size, minimum):
            continue
        if best is None or level > best[0]:
            best = (level, rule, item.storage_class)
    if best is None:
        return None
    return LifecycleAction("transition", version.key, version.version_id, best[1].id, best[2])


def expires_at(rule: LifecycleRule, version: ObjectVersion) -> float | None:
    """When the rule's Expiration expires `version` (the earlier of its Days and its Date), or None."""
    moments = [due_at(version.last_modified, rule.expiration_days)] if rule.expiration_days is not None else []
    if rule.expiration_date is not None:
        moments.append(rule.expiration_date)
    return min(moments, default=None)


def _expired(rule: LifecycleRule, version: ObjectVersion, at: float) -> bool:
    when = expires_at(rule, version)
    return when is not None and when <= at


def upload_due(rule: LifecycleRule, key: str, initiated: float, at: float) -> bool:
    """AbortIncompleteMultipartUpload: the upload is old enough to be aborted at `at`."""
    return (rule.enabled and rule.abort_upload_days is not None and key.startswith(rule.prefix)
            and due_at(initiated, rule.abort_upload_days) <= at)


# -- PutBucketLifecycleConfiguration: what S3 refuses in the transitions -----------------------------------

def lifecycle_refusal(document: Mapping[str, Any]) -> AwsError | None:
    """S3's refusal of a lifecycle configuration's transitions (None: S3 accepts them), as the S3 User Guide's
    "Constraints and considerations for transitions" and the API Reference's Transition state them: Days of at least
    30 for STANDARD_IA and ONEZONE_IA, 30 days in those before a later transition, no two transitions of a rule
    to one class, an expiration after every transition; and a rule's Status (Enabled or Disabled) and expirations
    of a positive number of days."""
    for raw in document.get("Rules") or []:
        if raw.get("Status") not in ("Enabled", "Disabled"):
            # (outside the schema's ExpirationStatus enum, API Reference: LifecycleRule)
            return AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                                            "our published schema")
        for action, days_name in (("Expiration", "Days"), ("NoncurrentVersionExpiration", "NoncurrentDays")):
            days = (raw.get(action) or {}).get(days_name)
            if days is not None and int(days) < 1:
                # "the number of days ... The value must be a non-zero positive integer" (API Reference:
                # LifecycleExpiration, NoncurrentVersionExpiration); the words are S3's as clients see them
                return AwsError("InvalidArgument", f"'{days_name}' in {action} action must be a positive integer")
        described = _described_filter(raw)
        transitions = list(raw.get("Transitions") or ([raw["Transition"]] if raw.get("Transition") else []))
        noncurrent = list(raw.get("NoncurrentVersionTransitions")
                          or ([raw["NoncurrentVersionTransition"]] if raw.get("NoncurrentVersionTransition") else []))
        for action, days_name, items in (("Transition", "Days", transitions),
                                          ("NoncurrentVersionTransition", "NoncurrentDays", noncurrent)):
            seen: set[str] = set()
            for item in items:
                storage_class = item.get("StorageClass")
                if storage_class not in TRANSITION_CLASSES:
                    # (outside the schema's TransitionStorageClass enum)
                    return AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                                                    "against our published schema")
                if storage_class in seen:
                    return AwsError("InvalidArgument", f"'StorageClass' must be different for '{action}' actions "
                                                       f"in same 'Rule' with {described}")
                seen.add(storage_class)
                days = item.get(days_name)
                if days is not None and int(days) < 0:
                    return AwsError("InvalidArgument", f"'{days_name}' in {action} action must be nonnegative")
                if action == "Transition" and (days is None) == (item.get("Date") is None):
                    return AwsError("InvalidArgument", "Exactly one of 'Days' or 'Date' must be specified in a "
                                                       f"Transition action for {described}")
                if days is not None and storage_class in INFREQUENT_ACCESS and int(days) < 30:
                    return AwsError("InvalidArgument", f"'{days_name}' in {action} action must be greater than or "
                                                       f"equal to 30 for storageClass '{storage_class}'")
            refusal = _spacing_refusal(action, days_name, items, described)
            if refusal is not None:
                return refusal
        expiration_days = (raw.get("Expiration") or {}).get("Days")
        latest = max((int(item["Days"]) for item in transitions if item.get("Days") is not None), default=None)
        if expiration_days is not None and latest is not None and int(expiration_days) <= latest:
            return AwsError("InvalidArgument", f"'Days' in the Expiration action for {described} must be greater "
                                               "than 'Days' in the Transition action")
        noncurrent_days = (raw.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")
        latest = max((int(item["NoncurrentDays"]) for item in noncurrent if item.get("NoncurrentDays") is not None),
                     default=None)
        if noncurrent_days is not None and latest is not None and int(noncurrent_days) <= latest:
            return AwsError("InvalidArgument", f"'NoncurrentDays' in the NoncurrentVersionExpiration action for "
                                               f"{described} must be greater than 'NoncurrentDays' in the "
                                               "NoncurrentVersionTransition action")
    return None


def _spacing_refusal(action: str, days_name: str, items: list[Mapping[str, Any]], described: str) -> AwsError | None:
    """A version must stay 30 days in STANDARD_IA or ONEZONE_IA before a rule moves it further down."""
    timed = sorted((int(item[days_name]), item["StorageClass"]) for item in items if item.get(days_name) is not None)
    for (days, storage_class), (later_days, later_class) in pairwise(timed):
        if storage_class in INFREQUENT_ACCESS and later_days - days < 30:
            return AwsError("InvalidArgument", f"'{days_name}' in {action} action for StorageClass {later_class} for "
                                               f"{described} must be 30 days more than '{days_name}' in the "
                                               f"{action} action for StorageClass {storage_class}")
    return None


def _described_filter(raw: Mapping[str, Any]) -> str:
    """How S3's messages name a rule's filter: filter '(prefix=logs/)'."""
    rule_filter = raw.get("Filter") or {}
    prefix = (rule_filter.get("And") or {}).get("Prefix") or rule_filter.get("Prefix") or raw.get("Prefix") or ""
    return f"filter '(prefix={prefix})'"
