"""S3 replication configurations as the s3 engine reads them (the ReplicationConfiguration document the gateway's
codec decoded from PutBucketReplication), checked as S3 checks them, and matched against object versions. Pure
functions, no sandbox."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from lab.kernel.errors import AwsError

S3_SERVICE_PRINCIPAL = "s3.amazonaws.com"
BUCKET_ARN_PREFIX = "arn:aws:s3:::"


class ConfigError(AwsError):
    """A configuration S3 refuses: the error code and message S3 answers with (400; InvalidBucketState 409)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, 409 if code == "InvalidBucketState" else 400)


@dataclass(frozen=True)
class ReplicationRule:
    id: str
    priority: int
    enabled: bool
    prefix: str
    tags: tuple[tuple[str, str], ...]
    delete_markers: bool  # DeleteMarkerReplication (always on for V1 rules, which have no Filter)
    destination_bucket: str
    storage_class: str | None
    replica_modifications: bool  # SourceSelectionCriteria.ReplicaModifications: replicas' changes flow back
    rtc_minutes: int | None  # ReplicationTime (RTC) threshold when enabled
    metrics: bool  # Destination.Metrics enabled: replication metrics reach CloudWatch every minute
    created_seq: int  # the engine's write sequence when the rule appeared: only later writes replicate
    created_at: float
    sse_kms: bool = False  # SourceSelectionCriteria.SseKmsEncryptedObjects: SSE-KMS objects replicate too
    replica_kms_key: str | None = None  # Destination.EncryptionConfiguration.ReplicaKmsKeyID

    def matches(self, key: str, tags: Mapping[str, str]) -> bool:
        return key.startswith(self.prefix) and all(tags.get(name) == value for name, value in self.tags)

    def same_rule(self, other: ReplicationRule) -> bool:
        """Unchanged but for when it was created (a configuration re-put with this rule as it was)."""
        return replace(other, created_seq=self.created_seq, created_at=self.created_at) == self


@dataclass(frozen=True)
class ReplicationConfig:
    role: str
    rules: tuple[ReplicationRule, ...]
    document: dict[str, Any]  # as GetBucketReplication answers it (rule IDs filled in)
    source: str = ""  # the bucket the configuration belongs to

    @property
    def uses_tags(self) -> bool:
        return any(rule.tags for rule in self.rules)

    @cached_property  # (derived: kept in the instance's dict, which a frozen dataclass still has)
    def filters_nothing(self) -> bool:
        """No rule selects by prefix or tag: where a version goes does not depend on its key."""
        return not any(rule.prefix or rule.tags for rule in self.rules)

    @cached_property
    def newest_rule_seq(self) -> int:
        return max((rule.created_seq for rule in self.rules), default=0)


class Target(NamedTuple):
    """Where one version goes: the rule that sends it and that rule's destination."""

    rule_id: str
    bucket: str
    storage_class: str | None
    rtc_minutes: int | None
    metrics: bool = False
    replica_kms_key: str | None = None  # the key that encrypts replicas of SSE-KMS objects


# -- replication configuration ---------------------------------------------------------------------

def destination_name(bucket_arn: str) -> str:
    name = bucket_arn[len(BUCKET_ARN_PREFIX):] if bucket_arn.startswith(BUCKET_ARN_PREFIX) else ""
    if not name or "/" in name or ":" in name:
        raise ConfigError("InvalidArgument", f"Invalid bucket ARN: {bucket_arn!r} (expected arn:aws:s3:::NAME)")
    return name


def check_replication(document: Mapping[str, Any]) -> None:
    """The checks S3 makes on the document itself (the buckets are checked by the engine). Raises ConfigError."""
    rules = document.get("Rules") or []
    if not document.get("Role") or not rules:
        raise ConfigError("MalformedXML", "A replication configuration needs a Role and at least one Rule")
    seen: set[str] = set()
    for rule in rules:
        if rule.get("ID") is not None:
            if rule["ID"] in seen:
                raise ConfigError("InvalidArgument", "Rule Id must be unique")
            seen.add(rule["ID"])
        destination_name((rule.get("Destination") or {}).get("Bucket", ""))
        if "Filter" in rule:  # the V2 schema
            if "DeleteMarkerReplication" not in rule:
                raise ConfigError("InvalidRequest", "DeleteMarkerReplication must be specified for this version of "
                                                    "Cross Region Replication configuration schema.")
            if rule["DeleteMarkerReplication"].get("Status") == "Enabled" and _filter_tags(rule["Filter"]):
                raise ConfigError("InvalidRequest",
                                  "Delete marker replication is not supported if any Tag filter is specified.")
        check_replication_time(rule.get("Destination") or {})
        check_replication_encryption(rule)


def check_replication_encryption(rule: Mapping[str, Any]) -> None:
    """A rule that selects SSE-KMS objects names the key for their replicas, and only such a rule names one
    (S3 User Guide: Replicating encrypted objects, replication-config-for-kms-objects.html: "If you specify
    SseKmsEncryptedObjects ... you must also specify ReplicaKmsKeyID")."""
    selected = ((rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects") or {}).get("Status")
    key = ((rule.get("Destination") or {}).get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    if selected == "Enabled" and not key:
        # (AWS's answer, as quoted in provider issues)
        raise ConfigError("InvalidRequest", "ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is "
                                            "present.")
    if key and selected != "Enabled":
        # (the converse, documented on the same page; its error text is not published: this states the rule)
        raise ConfigError("InvalidRequest", "SseKmsEncryptedObjects must be specified and Enabled if "
                                            "EncryptionConfiguration.ReplicaKmsKeyID is present.")


def check_replication_time(destination: Mapping[str, Any]) -> None:
    """Replication Time Control and replication metrics go together: ReplicationTime "Must be specified together
    with a Metrics block" (API Reference: Destination), an EventThreshold needs RTC, and both take 15 minutes."""
    rtc = (destination.get("ReplicationTime") or {}).get("Status") == "Enabled"
    metrics = destination.get("Metrics")
    for element, value in (("ReplicationTime", ((destination.get("ReplicationTime") or {}).get("Time") or {})),
                           ("EventThreshold", ((metrics or {}).get("EventThreshold") or {}))):
        minutes = value.get("Minutes")
        if minutes is not None and int(minutes) != 15:
            # ReplicationTimeValue's Minutes: "Valid value: 15" (API Reference: ReplicationTimeValue); S3 publishes
            # no error text for it: this one states the rule
            raise ConfigError("InvalidArgument", f"Invalid {element} Minutes value {minutes}: the only valid "
                                                 "value is 15")
    if rtc and (metrics or {}).get("Status") != "Enabled":
        # S3's documentation publishes no error for this one: the code and words are S3's as clients have seen
        # them (the same rule in other S3 emulators)
        raise ConfigError("InvalidRequest", "Replication destination must contain both ReplicationTime and "
                                            "Metrics or neither.")
    if not rtc and (metrics or {}).get("EventThreshold"):
        raise ConfigError("InvalidArgument",
                          "Metrics cannot contain an event threshold when ReplicationTime is not specified or Disabled")


def build_replication(bucket: str, document: dict[str, Any], previous: ReplicationConfig | None, seq: int,
                      now: float) -> ReplicationConfig:
    """The engine's view of a checked document. A rule carried over unchanged keeps its creation time, so
    re-putting the same configuration does not skip the versions written in between."""
    kept = {rule.id: rule for rule in previous.rules} if previous else {}
    stored = dict(document)
    stored["Rules"] = []
    rules = []
    for index, raw in enumerate(document.get("Rules") or []):
        raw = dict(raw)
        raw.setdefault("ID", _rule_id(bucket, seq, index))
        stored["Rules"].append(raw)
        destination = raw.get("Destination") or {}
        selection = raw.get("SourceSelectionCriteria") or {}
        rtc = destination.get("ReplicationTime") or {}
        v2 = "Filter" in raw
        rule = ReplicationRule(
            id=raw["ID"],
            priority=int(raw.get("Priority") or 0),
            enabled=raw.get("Status") == "Enabled",
            prefix=_filter_prefix(raw["Filter"]) if v2 else raw.get("Prefix") or "",
            tags=_filter_tags(raw["Filter"]) if v2 else (),
            delete_markers=(raw.get("DeleteMarkerReplication") or {}).get("Status") == "Enabled" if v2 else True,
            destination_bucket=destination_name(destination.get("Bucket", "")),
            storage_class=destination.get("StorageClass"),
            replica_modifications=(selection.get("ReplicaModifications") or {}).get("Status") == "Enabled",
            rtc_minutes=int((rtc.get("Time") or {}).get("Minutes") or 15) if rtc.get("Status") == "Enabled" else None,
            metrics=(destination.get("Metrics") or {}).get("Status") == "Enabled",
            created_seq=seq,
            created_at=now,
            sse_kms=(selection.get("SseKmsEncryptedObjects") or {}).get("Status") == "Enabled",
            replica_kms_key=(destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID") or None,
        )
        earlier = kept.get(rule.id)
        rules.append(earlier if earlier is not None and earlier.same_rule(rule) else rule)
    return ReplicationConfig(role=document["Role"], rules=tuple(rules), document=stored, source=bucket)


def _filter_prefix(rule_filter: Mapping[str, Any]) -> str:
    return (rule_filter.get("And") or {}).get("Prefix") or rule_filter.get("Prefix") or ""


def _filter_tags(rule_filter: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    tags = list((rule_filter.get("And") or {}).get("Tags") or [])
    if rule_filter.get("Tag"):
        tags.append(rule_filter["Tag"])
    return tuple(sorted((tag["Key"], tag["Value"]) for tag in tags))


def _rule_id(bucket: str, seq: int, index: int) -> str:
    """S3 names a rule without an ID itself (a base64 string); here deterministically, for the journal replay."""
    digest = hashlib.sha256(f"{bucket}:{seq}:{index}".encode()).hexdigest()[:36]
    return base64.b64encode(digest.encode()).decode().rstrip("=")


def choose_targets(rules: tuple[ReplicationRule, ...], key: str, tags: Mapping[str, str], written_seq: int,
                   delete_marker: bool = False, kms: bool = False) -> tuple[Target, ...]:
    """Where a version written at `written_seq` goes: per destination, the enabled rule of highest Priority
    (the higher the number, the higher the priority) that existed before the write and selects it. Delete
    markers go only where the rule replicates them, and never by tag (S3 refuses that combination). An SSE-KMS
    version (`kms`) goes only by rules with SseKmsEncryptedObjects: "By default, Amazon S3 doesn't replicate
    objects that are stored at rest using server-side encryption with AWS KMS keys" (S3 User Guide: Replicating
    encrypted objects)."""
    best: dict[str, ReplicationRule] = {}
    for rule in rules:
        if not rule.enabled or rule.created_seq >= written_seq or (kms and not rule.sse_kms):
            continue
        if delete_marker and (not rule.delete_markers or rule.tags):
            continue
        if not rule.matches(key, {} if delete_marker else tags):
            continue
        current = best.get(rule.destination_bucket)
        if current is None or rule.priority > current.priority:
            best[rule.destination_bucket] = rule
    return tuple(Target(rule.id, rule.destination_bucket, rule.storage_class, rule.rtc_minutes, rule.metrics,
                        rule.replica_kms_key if kms else None)
                 for _, rule in sorted(best.items()))


def draws(seed: int, bucket: str, version_id: str, kind: str) -> tuple[float, float]:
    """Two uniform numbers in [0, 1) for one piece of replication work, from the sandbox's seed: the same world
    replays the same waits."""
    digest = hashlib.blake2b(f"{seed}|{bucket}|{version_id}|{kind}".encode(), digest_size=16).digest()
    return (int.from_bytes(digest[:8], "big") / 2.0 ** 64, int.from_bytes(digest[8:], "big") / 2.0 ** 64)


# -- the replication role ----------------------------------------------------------------------------

@lru_cache(maxsize=256)
def role_document_trusts_s3(document: str) -> bool:
    """trusts_s3 for a policy document in JSON text (as IAM keeps it); cached, the role rarely changes."""
    try:
        policy = json.loads(document)
    except ValueError:
        return False
    return isinstance(policy, Mapping) and trusts_s3(policy)


def trusts_s3(policy: Mapping[str, Any] | None) -> bool:
    """True if the trust policy lets the S3 service assume the role (an Allow of sts:AssumeRole for the
    principal s3.amazonaws.com, and no Deny of it). Conditions are taken as met."""
    if not policy:
        return False
    statements = policy.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, Mapping):
            continue
        if not (_covers(statement.get("Action"), "sts:AssumeRole") and _names_s3(statement.get("Principal"))):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _covers(patterns: Any, action: str) -> bool:
    listed = [patterns] if isinstance(patterns, str) else list(patterns or [])
    return any(fnmatchcase(action.lower(), str(pattern).lower()) for pattern in listed)


def _names_s3(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    services = principal.get("Service")
    listed = [services] if isinstance(services, str) else list(services or [])
    return S3_SERVICE_PRINCIPAL in listed or principal.get("AWS") == "*"
