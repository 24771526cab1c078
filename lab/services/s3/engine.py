"""S3 replication and lifecycle, acted out on the sim clock (moto only stores both configurations).

Replication: every object version written after a rule exists and selected by it is copied to the rule's
destination bucket a few seconds to a couple of minutes later (sim time), in write order. Source versions show
ReplicationStatus PENDING, then COMPLETED or FAILED (destination bucket missing or not versioned, or a role
S3 cannot assume); replicas show REPLICA (header x-amz-replication-status on HeadObject and GetObject). Delete
markers follow where DeleteMarkerReplication is on; tag changes follow to the replicas, and from replicas back
where ReplicaModifications is on. Replication can be paused per bucket or everywhere (fault injection): writes
then stay PENDING and replicate after resume.

Writes are seen two ways: the gateway's calls through observe(), and writes engines make straight into the
backend (the workload's invoices) through the data layer's object events. Both are noted once per version.

Lifecycle: Expiration (Days, Date, ExpiredObjectDeleteMarker), NoncurrentVersionExpiration (NoncurrentDays,
NewerNoncurrentVersions), Transitions and NoncurrentVersionTransitions (the version changes storage class in place)
and AbortIncompleteMultipartUpload, evaluated every day at 00:00 UTC sim time.

Restores: RestoreObject of a GLACIER or DEEP_ARCHIVE version takes the duration model's time for its tier
(x-amz-restore: ongoing-request="true" meanwhile, and the version stays unreadable); then the restored copy is
readable until its expiry date, Days after the restore finished rounded up to midnight UTC, when it goes again
(S3 User Guide: Restoring an archived object, restoring-objects.html).

Replication of SSE-KMS objects only by rules with SourceSelectionCriteria.SseKmsEncryptedObjects, the replica
encrypted under the rule's ReplicaKmsKeyID; replicas keep the source's Object Lock retention and legal hold, and a
destination without Object Lock cannot take a version that has them (S3 User Guide: Replicating encrypted objects,
replication-config-for-kms-objects.html; Object Lock considerations, object-lock-managing.html).
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from botocore.exceptions import ClientError

from lab.gateway import audit
from lab.kernel.context import RequestContext
from lab.kernel.data import BucketState, DataAccess
from lab.kernel.engine import Engine
from lab.kernel.port import Sandbox
from lab.services.s3.lifecycle import (
    ALL_128K,
    LifecycleAction,
    LifecycleRule,
    due_actions,
    due_at,
    needs_tags,
    next_midnight,
    parse_lifecycle,
    upload_due,
)
from lab.services.s3.metrics import (
    METRICS_PERIOD,
    RuleMetrics,
    minute_datums,
    next_minute,
    sync_rule_metrics,
)
from lab.services.s3.replication import (
    ConfigError,
    ReplicationConfig,
    Target,
    build_replication,
    check_replication,
    choose_targets,
    destination_name,
    draws,
    role_document_trusts_s3,
)

PENDING, COMPLETED, FAILED, REPLICA = "PENDING", "COMPLETED", "FAILED", "REPLICA"
_VERSION_WRITES = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload"})
_TAG_WRITES = frozenset({"PutObjectTagging", "DeleteObjectTagging"})
_LIFECYCLE_PUTS = frozenset({"PutBucketLifecycleConfiguration", "PutBucketLifecycle"})
_OBSERVED = frozenset({*_VERSION_WRITES, *_TAG_WRITES, *_LIFECYCLE_PUTS, "DeleteObject", "DeleteObjects",
                       "PutBucketReplication", "DeleteBucketReplication", "DeleteBucketLifecycle", "DeleteBucket",
                       "CreateMultipartUpload", "AbortMultipartUpload"})
log = logging.getLogger("lab.services.s3.engine")
_LIFECYCLE_EVENTS = {"expire": "LifecycleExpiration", "delete-noncurrent": "LifecycleNoncurrentVersionExpiration",
                     "remove-delete-marker": "LifecycleExpiredDeleteMarkerRemoved", "transition": "LifecycleTransition"}
KMS_ENCRYPTIONS = frozenset({"aws:kms", "aws:kms:dsse"})  # what SseKmsEncryptedObjects selects


class VersionStatus:
    """A version's replication status (PENDING | COMPLETED | FAILED | REPLICA) and its peers: the replicas
    (bucket, version id) of a source, the source of a replica. One is kept for every version of a bucket that
    replicates -- a month of orders is 100,000 -- so a single peer, the usual case, is held in two slots rather
    than a tuple of tuples (a third of the size). Saved and compared as (status, peers), as it was when it was
    a named tuple: states saved then load as they are."""

    __slots__ = ("_bucket", "_version", "status")

    def __new__(cls, status: str, peers: tuple[tuple[str, str], ...]) -> VersionStatus:
        # (__new__, not __init__: a named tuple's pickle makes the object with these arguments, and no more)
        made = object.__new__(cls)
        made.status = status
        if len(peers) == 1:
            made._bucket, made._version = peers[0]
        else:
            made._bucket, made._version = tuple(peers), None
        return made

    @property
    def peers(self) -> tuple[tuple[str, str], ...]:
        return ((self._bucket, self._version),) if self._version is not None else self._bucket

    def __reduce__(self) -> tuple[Any, ...]:
        return VersionStatus, (self.status, self.peers)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionStatus):
            return NotImplemented
        return (self.status, self.peers) == (other.status, other.peers)

    def __hash__(self) -> int:
        return hash((self.status, self.peers))

    def __repr__(self) -> str:
        return f"VersionStatus({self.status!r}, {self.peers!r})"


@dataclass(slots=True)
class Task:
    """One piece of replication work: a version, a delete marker, or a tag change to pass on."""

    kind: str  # "version" | "delete-marker" | "tags"
    bucket: str  # the bucket it replicates from
    key: str
    version_id: str
    seq: int  # the engine's write sequence: orders writes against rule creation, and the work itself
    written_at: float
    targets: tuple[Target, ...] | None = None  # decided destinations (None: not decided yet)
    peers: tuple[tuple[str, str], ...] = ()  # "tags": the versions that take the tags
    size: int = 0  # bytes to copy (a version's; 0 for a delete marker or tags)
    wait: float = 0.0  # seconds from the write (or the end of a pause) to the copy: the duration model's draw
    due: float = 0.0  # when the copy is made
    kms: bool = False  # the version is SSE-KMS encrypted (only rules selecting SseKmsEncryptedObjects take it)


@dataclass
class Restore:
    """A RestoreObject of one archived version: in progress until `ready`, then readable until `expiry`."""

    key: str
    storage_class: str
    tier: str
    days: int
    requested: float
    ready: float
    expiry: float | None = None  # set when the restore finishes

    @property
    def ongoing(self) -> bool:
        return self.expiry is None

    @property
    def next_change(self) -> float:
        """When the restore finishes, or (finished) when its copy expires."""
        return self.ready if self.expiry is None else self.expiry

    def header(self) -> str:
        """x-amz-restore as HeadObject and GetObject show it."""
        if self.expiry is None:
            return 'ongoing-request="true"'
        return f'ongoing-request="false", expiry-date="{formatdate(self.expiry, usegmt=True)}"'


@dataclass
class S3State:
    seq: int = 0
    replication: dict[str, ReplicationConfig] = field(default_factory=dict)  # source bucket -> configuration
    lifecycle: dict[str, tuple[LifecycleRule, ...]] = field(default_factory=dict)
    # bucket -> (PutBucketLifecycleConfiguration's document, its transition minimum): what Get... answers
    lifecycle_documents: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    uploads: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)  # bucket -> id -> (key, started)
    # the work waiting, by when it is due: (due, seq, kind, bucket, version id), a heap
    schedule: list[tuple[float, int, str, str, str]] = field(default_factory=list)
    key_due: dict[tuple[str, str], float] = field(default_factory=dict)  # (bucket, key) -> its latest work's due
    queued: dict[tuple[str, str, str], Task] = field(default_factory=dict)  # (kind, bucket, version) -> task
    held: list[Task] = field(default_factory=list)  # passed over while paused, in write order
    pauses: dict[str | None, float | None] = field(default_factory=dict)  # bucket (None: all) -> until (None: resume)
    versions: dict[str, dict[str, VersionStatus]] = field(default_factory=dict)  # bucket -> version id -> status
    lifecycle_next: float | None = None
    completed: int = 0
    failed: int = 0
    lifecycle_actions: int = 0
    metrics: dict[tuple[str, str, str], RuleMetrics] = field(default_factory=dict)  # (source, rule, destination)
    metrics_next: float | None = None  # the end of the minute measured now, while a rule has metrics
    metric_data: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # region -> datums to put
    restores: dict[tuple[str, str], Restore] = field(default_factory=dict)  # (bucket, version id) -> restore
    restores_done: int = 0

    def __setstate__(self, saved: dict[str, Any]) -> None:
        # A state saved before a field existed gets the field's default; work saved in the lines of the
        # two-minute passes that came before the duration model is due at once.
        waiting = saved.pop("waiting", None)
        saved.pop("next_pass", None)
        self.__dict__.update(S3State().__dict__)
        self.__dict__.update(saved)
        for task in [*self.queued.values(), *self.held]:
            for name, default in (("size", 0), ("wait", 0.0), ("due", task.written_at), ("kms", False)):
                if not hasattr(task, name):
                    object.__setattr__(task, name, default)
        for line in (waiting or {}).values():
            for task in line:
                heapq.heappush(self.schedule, (task.due, task.seq, task.kind, task.bucket, task.version_id))


class S3(Engine):
    name = "s3"
    service_principal = "s3.amazonaws.com"  # CloudTrail shows its calls as made by this AWS service
    replication_service = "s3"  # the replication a fault can pause (kernel.engine.Pausable)
    order = 50  # after the workload: an order placed at an instant is written before replication looks

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        # Set while the engine acts (run_due): its own writes are not users' writes to replicate.
        self._acting = False
        # Buckets as the engine's steps read them, until a state-changing call (the lab's sequence number moves;
        # nothing else creates, deletes or versions a bucket), and roles' trust policies until an IAM call
        # changes something (neither is part of the state: re-read after a restart).
        self._buckets: dict[str, BucketState | None] = {}
        self._buckets_as_of: tuple[Any, int] | None = None
        self._roles: dict[str, str | None] = {}
        self._uniform_targets: dict[tuple[str, str, bool], tuple[ReplicationConfig, tuple[Target, ...]]] = {}
        # bucket -> (its version records, how many have each status): replication_counts without a pass over a
        # month of records; kept for that very dict (a restore or a reset brings other dicts: counted again)
        self._status_counts: dict[str, tuple[dict[str, VersionStatus], dict[str, int]]] = {}
        self.data.subscribe_object_events(self._on_object_event)

    def initial_state(self) -> S3State:
        return S3State()

    @property
    def data(self) -> DataAccess:
        return self.sandbox.data

    # -- the request path ----------------------------------------------------------------------------

    def replication_refusal(self, bucket: str, document: dict[str, Any]) -> ConfigError | None:
        """What S3 says to a PutBucketReplication of `document` beyond what the backend checks (None: let it
        through)."""
        source = self.data.bucket_state(bucket)
        if source is None or source.versioning != "Enabled":
            return None  # the backend answers NoSuchBucket or the versioning refusal, as S3 does
        try:
            check_replication(document)
            for rule in document["Rules"]:
                destination = self.data.bucket_state(destination_name(rule["Destination"]["Bucket"]))
                if destination is None:
                    raise ConfigError("InvalidRequest", "Destination bucket must exist.")
                if destination.versioning != "Enabled":
                    raise ConfigError("InvalidRequest", "Destination bucket must have versioning enabled.")
        except ConfigError as refusal:
            return refusal
        return None

    def observe(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        if identity is not None and identity.service == "iam" and ctx.mutating:
            self._roles.clear()  # a role may have changed
        if self._acting or identity is None or identity.service != "s3" or identity.operation not in _OBSERVED:
            return  # (the engine's own calls, on a backend reached through the API, are not users' writes)
        operation, bucket, key = identity.operation, identity.bucket or "", identity.key or ""
        sandbox = self.sandbox
        if operation in _VERSION_WRITES:
            version_id = sandbox.call_output(ctx, "VersionId").get("VersionId")
            if version_id and version_id != "null":
                task = self._note_version(bucket, key, version_id)
                if task is not None:
                    self._decide(task)  # at the write, with the tags the request set
        elif operation in _TAG_WRITES:
            version_id = sandbox.call_output(ctx, "VersionId").get("VersionId")
            if version_id and version_id != "null":
                self._note_tags(bucket, key, version_id)
        elif operation == "DeleteObject":
            self._observe_delete(bucket, key, sandbox.call_params(ctx).get("VersionId"), sandbox.call_output(ctx))
        elif operation == "DeleteObjects":
            self._observe_deletes(bucket, sandbox.call_output(ctx))
        elif operation in ("PutBucketReplication", "DeleteBucketReplication", "DeleteBucket"):
            self._observe_replication_config(operation, bucket, ctx)
        if operation in _LIFECYCLE_PUTS or operation in ("DeleteBucketLifecycle", "DeleteBucket"):
            self._observe_lifecycle_config(operation, bucket, ctx)
        elif operation in ("CreateMultipartUpload", "CompleteMultipartUpload", "AbortMultipartUpload"):
            self._observe_upload(operation, bucket, key, ctx)

    def _on_object_event(self, event: str, bucket: str, key: str, version_id: str) -> None:
        """The data layer's report of a write, from the gateway or straight from an engine."""
        if self._acting or version_id == "null":
            return
        if event == "created":
            self._note_version(bucket, key, version_id)
        elif event == "tagged":
            self._note_tags(bucket, key, version_id)

    def _observe_replication_config(self, operation: str, bucket: str, ctx: RequestContext) -> None:
        state = self.state
        if operation != "PutBucketReplication":
            if state.replication.pop(bucket, None) is not None:
                self.emit("ReplicationConfigurationDeleted", resource=f"s3://{bucket}")
                self._sync_metrics(bucket, None)
            if operation == "DeleteBucket":
                state.versions.pop(bucket, None)
            return
        document = self.sandbox.call_params(ctx).get("ReplicationConfiguration") or {}
        self._roles.clear()  # read the role afresh (a reset may have taken it without an IAM call)
        state.seq += 1
        config = build_replication(bucket, document, state.replication.get(bucket), state.seq, self.now())
        state.replication[bucket] = config
        self._sync_metrics(bucket, config)
        self.emit("ReplicationConfigured", resource=f"s3://{bucket}",
                  rules=[{"id": rule.id, "enabled": rule.enabled, "destination": rule.destination_bucket}
                         for rule in config.rules])

    def _observe_delete(self, bucket: str, key: str, requested_version: str | None, answer: dict[str, Any]) -> None:
        if requested_version:  # a version removed for good: S3 never replicates that
            self._forget(bucket, requested_version)
        elif answer.get("DeleteMarker") and answer.get("VersionId"):
            self._note_delete_marker(bucket, key, answer["VersionId"])

    def _observe_deletes(self, bucket: str, answer: dict[str, Any]) -> None:
        for deleted in answer.get("Deleted") or []:
            if deleted.get("VersionId"):
                self._forget(bucket, deleted["VersionId"])
            elif deleted.get("DeleteMarker") and deleted.get("DeleteMarkerVersionId"):
                self._note_delete_marker(bucket, deleted["Key"], deleted["DeleteMarkerVersionId"])

    def _observe_lifecycle_config(self, operation: str, bucket: str, ctx: RequestContext) -> None:
        state = self.state
        state.lifecycle_documents.pop(bucket, None)
        if operation in _LIFECYCLE_PUTS:
            params = self.sandbox.call_params(ctx)
            document = params.get("LifecycleConfiguration") or {}
            state.lifecycle[bucket] = parse_lifecycle(document)
            if operation == "PutBucketLifecycleConfiguration":  # (moto answers Get... without some members)
                minimum = params.get("TransitionDefaultMinimumObjectSize") or "all_storage_classes_128K"
                state.lifecycle_documents[bucket] = ({"Rules": document.get("Rules") or []}, minimum)
            if state.lifecycle_next is None or state.lifecycle_next <= self.now():
                state.lifecycle_next = next_midnight(self.now())
        else:
            state.lifecycle.pop(bucket, None)
            if operation == "DeleteBucket":
                state.uploads.pop(bucket, None)

    def _observe_upload(self, operation: str, bucket: str, key: str, ctx: RequestContext) -> None:
        uploads = self.state.uploads
        if operation == "CreateMultipartUpload":
            upload_id = self.sandbox.call_output(ctx).get("UploadId")
            if upload_id:  # (AbortIncompleteMultipartUpload counts from here)
                uploads.setdefault(bucket, {})[upload_id] = (key, self.now())
            return
        upload_id = self.sandbox.call_params(ctx).get("UploadId", "")
        if upload_id in uploads.get(bucket, {}):
            del uploads[bucket][upload_id]

    # -- noting writes -------------------------------------------------------------------------------

    def _note_version(self, bucket: str, key: str, version_id: str) -> Task | None:
        """Queue a new version of a bucket that replicates (once, however many ways it was seen)."""
        state = self.state
        if bucket not in state.replication:
            return None
        found = state.queued.get(("version", bucket, version_id))
        if found is not None or version_id in state.versions.get(bucket, ()):
            return found  # already queued, or already replicated (or it is itself a replica)
        return self._enqueue(state, "version", bucket, key, version_id)

    def _note_delete_marker(self, bucket: str, key: str, version_id: str) -> None:
        state = self.state
        if bucket in state.replication and ("delete-marker", bucket, version_id) not in state.queued:
            self._decide(self._enqueue(state, "delete-marker", bucket, key, version_id))

    def _note_tags(self, bucket: str, key: str, version_id: str) -> None:
        """A version's tags changed: pass them to its replicas, or from a replica back to its source where the
        replica's bucket has a rule with ReplicaModifications for that source."""
        state = self.state
        record = state.versions.get(bucket, {}).get(version_id)
        if record is None or ("tags", bucket, version_id) in state.queued:
            return
        peers = record.peers if record.status == COMPLETED else ()
        if record.status == REPLICA:
            config = state.replication.get(bucket)
            source_bucket = record.peers[0][0]
            if config is not None and any(rule.enabled and rule.replica_modifications and rule.matches(key, {})
                                          and rule.destination_bucket == source_bucket for rule in config.rules):
                peers = record.peers
        if peers:
            self._enqueue(state, "tags", bucket, key, version_id).peers = peers

    def _enqueue(self, state: S3State, kind: str, bucket: str, key: str, version_id: str) -> Task:
        state.seq += 1
        now = self.now()
        task = Task(kind, bucket, key, version_id, state.seq, now)
        state.queued[(kind, bucket, version_id)] = task
        if kind == "version":
            task.size, task.kms = self._version_facts(bucket, key, version_id)
        config = state.replication.get(bucket)
        if kind != "tags" and config is not None and not config.uses_tags:
            self._decide(task)  # (with tag filters: once the write's tags are set, see observe)
        self._schedule(state, task, now, self._rtc_for(config, key))
        return task

    def _schedule(self, state: S3State, task: Task, start: float, rtc: bool) -> None:
        """When the task is due: `start` plus the duration model's wait for it, never before earlier work of the
        same key (a key's versions replicate in the order they were written)."""
        seed = self.sandbox.lab.seed
        task.wait = self.sandbox.durations.s3_replication(task.size, rtc,
                                                          draws(seed, task.bucket, task.version_id, task.kind))
        line = (task.bucket, task.key)
        task.due = max(start + task.wait, state.key_due.get(line, 0.0))
        state.key_due[line] = task.due
        heapq.heappush(state.schedule, (task.due, task.seq, task.kind, task.bucket, task.version_id))

    @staticmethod
    def _rtc_for(config: ReplicationConfig | None, key: str) -> bool:
        """Whether the work on `key` has Replication Time Control: every enabled rule that could select it has."""
        if config is None:
            return False
        rules = [rule for rule in config.rules if rule.enabled and key.startswith(rule.prefix)]
        return bool(rules) and all(rule.rtc_minutes is not None for rule in rules)

    def _version_facts(self, bucket: str, key: str, version_id: str) -> tuple[int, bool]:
        """A version's size, and whether it is SSE-KMS encrypted."""
        try:
            size, encryption = self.data.version_facts(self._region(bucket), bucket, key, version_id)
        except LookupError:
            return 0, False
        return size, encryption in KMS_ENCRYPTIONS

    def _decide(self, task: Task) -> tuple[Target, ...]:
        """The task's targets, decided once; a rule with metrics counts it as pending from here on."""
        if task.targets is None:
            task.targets = self._targets(task)
            if task.targets and self.state.metrics:
                self._count_pending(task, +1)
        return task.targets

    def _count_pending(self, task: Task, sign: int) -> None:
        metrics = self.state.metrics
        for target in task.targets or ():
            if target.metrics:
                found = metrics.get((task.bucket, target.rule_id, target.bucket))
                if found is not None:
                    found.pend(sign, task.size)

    def _targets(self, task: Task) -> tuple[Target, ...]:
        config = self.state.replication.get(task.bucket)
        if config is None:
            return ()
        if config.filters_nothing and task.seq > config.newest_rule_seq:
            # Every write after the newest rule goes the same way, whatever its key: decide once per kind.
            memo = self._uniform_targets.get((task.bucket, task.kind, task.kms))
            if memo is None or memo[0] is not config:
                memo = self._uniform_targets[(task.bucket, task.kind, task.kms)] = (config, choose_targets(
                    config.rules, task.key, {}, task.seq, delete_marker=task.kind == "delete-marker",
                    kms=task.kms))
            return memo[1]
        tags: dict[str, str] = {}
        if task.kind == "version" and config.uses_tags:
            try:
                tags = self.data.object_tags(self._region(task.bucket), task.bucket, task.key, task.version_id)
            except LookupError:
                return ()
        return choose_targets(config.rules, task.key, tags, task.seq, delete_marker=task.kind == "delete-marker",
                              kms=task.kms)

    def replication_status(self, bucket: str, version_id: str) -> str | None:
        """What HeadObject/GetObject show as ReplicationStatus for a version (None: no header)."""
        record = self.state.versions.get(bucket, {}).get(version_id)
        if record is not None:
            return record.status
        task = self.state.queued.get(("version", bucket, version_id))
        if task is None:
            return None
        # Not decided yet (tags not seen yet): decide without keeping it, a read changes nothing.
        targets = task.targets if task.targets is not None else self._targets(task)
        return PENDING if targets else None

    def replication_counts(self, bucket: str) -> dict[str, int]:
        """How many of the bucket's versions show each ReplicationStatus (what replication_status answers for
        each of them), counted without going through every version of the bucket."""
        known = self.state.versions.get(bucket, {})
        counts = dict(self._status_counts_of(bucket, known))
        for (kind, queued_bucket, version_id), task in self.state.queued.items():
            if (kind == "version" and queued_bucket == bucket and version_id not in known
                    and task.targets is None and self._targets(task)):
                counts[PENDING] = counts.get(PENDING, 0) + 1
        return counts

    def _status_counts_of(self, bucket: str, known: dict[str, VersionStatus]) -> dict[str, int]:
        """How many of `known` (the bucket's version records) have each status: counted once, then kept up to
        date by _set_status and _forget (a month of replication is 100,000 records)."""
        cached = self._status_counts.get(bucket)
        if cached is None or cached[0] is not known:
            counts: dict[str, int] = {}
            for record in known.values():
                counts[record.status] = counts.get(record.status, 0) + 1
            cached = self._status_counts[bucket] = (known, counts)
        return cached[1]

    def _count_status(self, bucket: str, known: dict[str, VersionStatus], status: str, sign: int) -> None:
        cached = self._status_counts.get(bucket)
        if cached is not None and cached[0] is known:
            cached[1][status] = cached[1].get(status, 0) + sign

    def _set_status(self, state: S3State, bucket: str, version_id: str, record: VersionStatus) -> None:
        known = state.versions.setdefault(bucket, {})
        old = known.get(version_id)
        if old is not None:
            self._count_status(bucket, known, old.status, -1)
        known[version_id] = record
        self._count_status(bucket, known, record.status, +1)

    def _forget(self, bucket: str, version_id: str) -> None:
        known = self.state.versions.get(bucket, {})
        old = known.pop(version_id, None)
        if old is not None:
            self._count_status(bucket, known, old.status, -1)
        self.state.restores.pop((bucket, version_id), None)

    # -- time ----------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        state = self.state
        candidates = [until for until in state.pauses.values() if until is not None] if state.pauses else []
        if state.schedule:
            candidates.append(state.schedule[0][0])
        if state.lifecycle and state.lifecycle_next is not None:
            candidates.append(state.lifecycle_next)
        if state.metrics_next is not None:
            candidates.append(state.metrics_next)
        candidates.extend(restore.next_change for restore in state.restores.values())
        return min(candidates) if candidates else None

    def run_due(self, now: float) -> None:
        lab = self.sandbox.lab
        if (lab, lab.seq) != self._buckets_as_of:  # a call changed something since: buckets may have changed
            self._buckets.clear()
            self._buckets_as_of = (lab, lab.seq)
        self._acting = True
        try:
            self._run_due(self.state, now)
        finally:
            self._acting = False

    def _run_due(self, state: S3State, now: float) -> None:
        expired = [bucket for bucket, until in state.pauses.items() if until is not None and until <= now]
        for bucket in expired:
            del state.pauses[bucket]
            self.emit("ReplicationResumed", resource=f"s3://{bucket}" if bucket else None, reason="pause ended")
        if expired:
            self._release_held(now)
        reasons: dict[Target, str | None] = {}  # (nothing done at one instant changes a destination or the role)
        schedule = state.schedule
        while schedule and schedule[0][0] <= now:
            due, _, kind, bucket, version_id = heapq.heappop(schedule)
            task = state.queued.get((kind, bucket, version_id))
            if task is None or task.due != due:
                continue  # (done otherwise meanwhile, or moved by a pause)
            line = (bucket, task.key)
            if state.key_due.get(line) == due:
                del state.key_due[line]
            self._run(state, task, due, reasons)
        if state.metrics_next is not None and state.metrics_next <= now:
            self._measure(state, now)
        if state.restores:
            self._run_restores(state, now)
        if state.lifecycle and state.lifecycle_next is not None and state.lifecycle_next <= now:
            midnight = state.lifecycle_next
            state.lifecycle_next = next_midnight(midnight)
            self._run_lifecycle(midnight)

    def _run(self, state: S3State, task: Task, now: float, reasons: dict[Target, str | None] | None = None) -> None:
        targets = () if task.kind == "tags" else self._decide(task)
        if (targets or task.peers) and self._paused(task, targets, now):
            state.held.append(task)
            return
        del state.queued[(task.kind, task.bucket, task.version_id)]
        if task.kind == "tags":
            self._sync_tags(task)
        elif targets:
            self._count_pending(task, -1)
            self._replicate(state, task, targets, now, {} if reasons is None else reasons)

    def _replicate(self, state: S3State, task: Task, targets: tuple[Target, ...], now: float,
                   reasons: dict[Target, str | None]) -> None:
        """Copy the task's version (or delete marker) to each target; `reasons` memoizes why a target
        cannot take copies, for the rest of one instant's work."""
        config = state.replication.get(task.bucket)
        source_region = self._region(task.bucket)
        resource = f"s3://{task.bucket}/{task.key}"
        lag = round(now - task.written_at, 3)
        replicas: list[tuple[str, str]] = []
        for target in targets:
            destination = self._bucket(target.bucket)
            if target in reasons:
                reason = reasons[target]
            else:
                reason = reasons[target] = self._failure_reason(config, target, destination)
            replica_version = ""
            if reason is None:
                try:
                    if task.kind == "version":
                        replica_version = self.data.replicate_version(
                            source_region, task.bucket, task.key, task.version_id, destination.region,
                            target.bucket, target.storage_class, target.replica_kms_key)
                    else:
                        replica_version = self.data.replicate_delete_marker(
                            source_region, task.bucket, task.key, task.version_id, destination.region,
                            target.bucket)
                except LookupError as exc:
                    reason = f"the source version is gone: {exc}"
                except ClientError as exc:  # a backend reached through the API refused the copy
                    reason = f"the copy was refused: {exc}"
            detail: dict[str, Any] = {"version_id": task.version_id, "destination": target.bucket,
                                      "rule": target.rule_id, "delete_marker": task.kind == "delete-marker"}
            measured = state.metrics.get((task.bucket, target.rule_id, target.bucket)) if target.metrics else None
            if reason is not None:
                state.failed += 1
                if measured is not None:
                    measured.failed += 1
                self.emit("ReplicationFailed", region=source_region, resource=resource, reason=reason, **detail)
                continue
            replicas.append((target.bucket, replica_version))
            if task.kind == "version":
                self._set_status(state, target.bucket, replica_version, VersionStatus(
                    REPLICA, ((task.bucket, task.version_id),)))
            if measured is not None:
                measured.max_latency = max(measured.max_latency, lag)
            if target.rtc_minutes is not None and lag > target.rtc_minutes * 60:
                detail["replication_time_missed"] = True
            state.completed += 1
            self.emit("ReplicationCompleted", region=source_region, resource=resource, lag_seconds=lag,
                      replica_version_id=replica_version, **detail)
        if task.kind == "version":
            self._set_status(state, task.bucket, task.version_id, VersionStatus(
                COMPLETED if len(replicas) == len(targets) else FAILED, tuple(replicas)))

    # -- replication metrics (S3 User Guide: Using S3 Replication metrics) ------------------------------

    def _sync_metrics(self, bucket: str, config: ReplicationConfig | None) -> None:
        """Keep a figure per metrics-enabled rule of `bucket` (None: it has none any more); start or stop the
        minute-by-minute measurement."""
        state = self.state
        sync_rule_metrics(state.metrics, bucket, config, self.sandbox.durations["s3.rtc.metrics_delay"],
                          self.now())
        mine = [figures for (source, _, _), figures in state.metrics.items() if source == bucket]
        for figures in mine:  # counted afresh: work already waiting counts for a rule that now has metrics
            figures.pending_ops = figures.pending_bytes = 0
        for task in state.queued.values():
            if task.bucket == bucket and task.targets and mine:
                self._count_pending(task, +1)
        if state.metrics and state.metrics_next is None:
            state.metrics_next = next_minute(self.now())
        elif not state.metrics and state.metrics_next is not None:
            state.metrics_next = None
            self._put_metric_data(state)

    def _measure(self, state: S3State, now: float) -> None:
        """Each minute ended by `now`: the figures of every metrics-enabled rule, as S3 publishes them."""
        while state.metrics_next is not None and state.metrics_next <= now:
            end = state.metrics_next
            oldest = self._oldest_pending()
            for (source, rule_id, destination), figures in sorted(state.metrics.items()):
                source_region, destination_region = self._region(source), self._region(destination)
                name = (source, rule_id, destination)
                for region, datum in minute_datums(name, figures, end, oldest.get(name), source_region,
                                                   destination_region):
                    state.metric_data.setdefault(region, []).append(datum)
                figures.next_minute()
            state.metrics_next = end + METRICS_PERIOD
            if end % (5 * METRICS_PERIOD) == 0 or sum(map(len, state.metric_data.values())) >= 900:
                self._put_metric_data(state)

    def _oldest_pending(self) -> dict[tuple[str, str, str], float]:
        """(source, rule, destination) -> when its oldest waiting work was written."""
        oldest: dict[tuple[str, str, str], float] = {}
        for task in self.state.queued.values():
            for target in task.targets or ():
                if target.metrics:
                    name = (task.bucket, target.rule_id, target.bucket)
                    oldest[name] = min(oldest.get(name, task.written_at), task.written_at)
        return oldest

    def _put_metric_data(self, state: S3State) -> None:
        """Hand the measured minutes to CloudWatch (its in-process API; S3's own doing, not the account's
        activity, so CloudTrail leaves it out). A region that refuses them loses them, as an outage would."""
        batches, state.metric_data = state.metric_data, {}
        for region, datums in sorted(batches.items()):
            for start in range(0, len(datums), 1000):
                chunk = [{**datum, "Timestamp": datetime.fromtimestamp(datum["Timestamp"], tz=UTC)}
                         for datum in datums[start:start + 1000]]
                try:
                    with audit.unrecorded():
                        self.sandbox.client("cloudwatch", region).put_metric_data(Namespace="AWS/S3",
                                                                                  MetricData=chunk)
                except ClientError as exc:
                    log.info("replication metrics for %s not delivered: %s", region, exc)

    def _failure_reason(self, config: ReplicationConfig | None, target: Target,
                        destination: BucketState | None) -> str | None:
        """Why S3 could not replicate to `target` (whose bucket is in state `destination`) now, or None."""
        if config is None or not any(rule.id == target.rule_id for rule in config.rules):
            return "the replication rule was removed before the version replicated"
        if destination is None:
            return f"destination bucket {target.bucket} does not exist"
        if destination.versioning != "Enabled":
            return f"destination bucket {target.bucket} does not have versioning enabled"
        source = self._bucket(config.source) if config.source else None
        if source is not None and source.object_lock and not destination.object_lock:
            # S3's failure reason DstBucketObjectLockConfigMissing: "To replicate objects from a source bucket with
            # Object Lock enabled, the destination bucket must also have Object Lock enabled" (S3 User Guide:
            # Replication failure reasons, replication-failure-codes.html)
            return (f"DstBucketObjectLockConfigMissing: destination bucket {target.bucket} does not have Object "
                    "Lock enabled, and the source bucket does")
        if config.role not in self._roles:
            self._roles[config.role] = self.data.role_trust_policy(config.role)
        document = self._roles[config.role]
        if document is None:
            return f"S3 cannot assume role {config.role}: the role does not exist"
        if not role_document_trusts_s3(document):
            return (f"S3 cannot assume role {config.role}: its trust policy does not allow sts:AssumeRole "
                    "for the service principal s3.amazonaws.com")
        return None

    def _sync_tags(self, task: Task) -> None:
        region = self._region(task.bucket)
        resource = f"s3://{task.bucket}/{task.key}"
        try:
            tags = self.data.object_tags(region, task.bucket, task.key, task.version_id)
        except LookupError:
            return
        for bucket, version_id in task.peers:
            try:
                self.data.put_object_tags(self._region(bucket), bucket, task.key, version_id, tags)
            except LookupError as exc:
                self.emit("ReplicationFailed", region=region, resource=resource, version_id=task.version_id,
                          destination=bucket, reason=f"tags not passed on: {exc}")
                continue
            self.emit("ReplicationTagsSynced", region=region, resource=resource, version_id=task.version_id,
                      destination=bucket, tags=tags)

    def _bucket(self, bucket: str) -> BucketState | None:
        if not self._acting:
            return self.data.bucket_state(bucket)
        if bucket not in self._buckets:
            self._buckets[bucket] = self.data.bucket_state(bucket)
        return self._buckets[bucket]

    def _region(self, bucket: str) -> str:
        found = self._bucket(bucket)
        return found.region if found is not None else "us-east-1"

    # -- pausing (fault injection) -------------------------------------------------------------------

    def _paused(self, task: Task, targets: tuple[Target, ...], now: float) -> bool:
        pauses = self.state.pauses
        if not pauses:
            return False
        buckets = [None, task.bucket, *(target.bucket for target in targets), *(bucket for bucket, _ in task.peers)]
        return any(bucket in pauses and (pauses[bucket] is None or pauses[bucket] > now)
                   for bucket in buckets)

    def pause(self, bucket: str | None, until: float | None = None) -> None:
        """Hold replication from or to `bucket` (every bucket when None) until sim time `until` (None: until
        resume). Writes meanwhile stay PENDING."""
        self.state.pauses[bucket] = until
        self.emit("ReplicationPaused", resource=f"s3://{bucket}" if bucket else None, until=until)

    def resume(self, bucket: str | None) -> None:
        """Lift the pause on `bucket`, or every pause when None; what waited replicates from the next pass on."""
        state = self.state
        if bucket is None:
            state.pauses.clear()
        else:
            state.pauses.pop(bucket, None)
        self.emit("ReplicationResumed", resource=f"s3://{bucket}" if bucket else None)
        self._release_held(self.now())

    def _release_held(self, now: float) -> None:
        """Put the held work no pause holds any more back on the schedule, in write order, each after its wait
        again from now."""
        state = self.state
        released: list[Task] = []
        still_held = []
        for task in state.held:
            if self._paused(task, task.targets or (), now):
                still_held.append(task)
            else:
                released.append(task)
        state.held = still_held
        for task in sorted(released, key=lambda task: task.seq):
            line = (task.bucket, task.key)
            task.due = max(now + task.wait, state.key_due.get(line, 0.0))
            state.key_due[line] = task.due
            heapq.heappush(state.schedule, (task.due, task.seq, task.kind, task.bucket, task.version_id))

    # -- lifecycle -----------------------------------------------------------------------------------

    def _run_lifecycle(self, at: float) -> None:
        state = self.state
        for bucket, rules in sorted(state.lifecycle.items()):
            found = self._bucket(bucket)
            if found is None:
                continue
            for upload_id, (key, started) in sorted(state.uploads.get(bucket, {}).items()):
                rule = next((rule for rule in rules if upload_due(rule, key, started, at)), None)
                if rule is not None:
                    self._abort_upload(found.region, bucket, key, upload_id, rule)
            if not any(rule.acts for rule in rules):
                continue
            versions = self.data.list_object_versions(found.region, bucket, with_tags=needs_tags(rules))
            minimum = state.lifecycle_documents.get(bucket, ({}, ALL_128K))[1]
            for action in due_actions(rules, versions, at, minimum):
                self._apply_lifecycle(found.region, bucket, action)

    def _apply_lifecycle(self, region: str, bucket: str, action: LifecycleAction) -> None:
        detail: dict[str, Any] = {"version_id": action.version_id, "rule": action.rule_id}
        try:
            if action.kind == "expire":
                marker = self.data.delete_object(region, bucket, action.key)
                if marker:
                    detail["delete_marker_version_id"] = marker
            elif action.kind == "transition":
                assert action.storage_class is not None
                self.data.set_storage_class(region, bucket, action.key, action.version_id, action.storage_class)
                self.state.restores.pop((bucket, action.version_id), None)  # (a restored copy goes with the move)
                detail["storage_class"] = action.storage_class
            else:
                self.data.delete_object_version(region, bucket, action.key, action.version_id)
                self._forget(bucket, action.version_id)
        except Exception as exc:  # noqa: BLE001 -- e.g. an Object Lock retention S3 lifecycle also respects
            self.emit("LifecycleActionSkipped", region=region, resource=f"s3://{bucket}/{action.key}",
                      action=action.kind, reason=str(exc), **detail)
            return
        self.state.lifecycle_actions += 1
        self.emit(_LIFECYCLE_EVENTS[action.kind], region=region, resource=f"s3://{bucket}/{action.key}", **detail)

    def _abort_upload(self, region: str, bucket: str, key: str, upload_id: str, rule: LifecycleRule) -> None:
        del self.state.uploads[bucket][upload_id]
        try:
            self.data.abort_multipart_upload(region, bucket, key, upload_id)
        except LookupError:
            return  # completed or aborted meanwhile by a path the engine does not see
        self.state.lifecycle_actions += 1
        self.emit("LifecycleMultipartUploadAborted", region=region, resource=f"s3://{bucket}/{key}",
                  upload_id=upload_id, rule=rule.id)

    # -- restores of archived objects (S3 User Guide: Restoring an archived object) ---------------------

    def restore_of(self, bucket: str, version_id: str) -> Restore | None:
        return self.state.restores.get((bucket, version_id))

    def start_restore(self, bucket: str, key: str, version_id: str, storage_class: str, tier: str,
                      days: int) -> Restore:
        """Begin restoring an archived version: readable after the duration model's time for its tier."""
        now = self.now()
        restore = Restore(key, storage_class, tier, days, now, now + self.sandbox.durations.s3_restore(storage_class,
                                                                                                       tier))
        self.state.restores[(bucket, version_id)] = restore
        self.emit("ObjectRestoreStarted", region=self._region(bucket), resource=f"s3://{bucket}/{key}",
                  version_id=version_id, storage_class=storage_class, tier=tier, days=days, ready_at=restore.ready)
        return restore

    def extend_restore(self, bucket: str, version_id: str, days: int) -> Restore:
        """A RestoreObject of a version already restored: its copy stays `days` from now ("you can extend the
        expiration period of a restored copy", S3 User Guide: Restoring an archived object)."""
        restore = self.state.restores[(bucket, version_id)]
        restore.days = days
        restore.expiry = due_at(self.now(), days)
        self.data.set_restored(self._region(bucket), bucket, restore.key, version_id, restore.expiry)
        return restore

    def _run_restores(self, state: S3State, now: float) -> None:
        for (bucket, version_id), restore in sorted(state.restores.items(), key=lambda item: item[1].ready):
            region = self._region(bucket)
            resource = f"s3://{bucket}/{restore.key}"
            if restore.ongoing and restore.ready <= now:
                # The copy lives Days from when the restore finished, rounded up to the next midnight UTC.
                restore.expiry = due_at(restore.ready, restore.days)
                try:
                    self.data.set_restored(region, bucket, restore.key, version_id, restore.expiry)
                except LookupError:
                    del state.restores[(bucket, version_id)]
                    continue
                state.restores_done += 1
                self.emit("ObjectRestoreCompleted", region=region, resource=resource, version_id=version_id,
                          tier=restore.tier, expiry=restore.expiry)
            if not restore.ongoing and restore.expiry is not None and restore.expiry <= now:
                del state.restores[(bucket, version_id)]
                try:
                    self.data.set_restored(region, bucket, restore.key, version_id, None)
                except LookupError:
                    continue
                self.emit("ObjectRestoreExpired", region=region, resource=resource, version_id=version_id)

    # -- summary ---------------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        state = self.state
        return {
            "replication_buckets": sorted(state.replication),
            "queued": len(state.queued),
            "metrics_rules": len(state.metrics),
            "held_by_pause": len(state.held),
            "paused": sorted("*" if bucket is None else bucket for bucket in state.pauses),
            "completed": state.completed,
            "failed": state.failed,
            "lifecycle_buckets": sorted(state.lifecycle),
            "lifecycle_actions": state.lifecycle_actions,
            "restores_in_progress": sum(1 for restore in state.restores.values() if restore.ongoing),
            "restored_copies": sum(1 for restore in state.restores.values() if not restore.ongoing),
        }

