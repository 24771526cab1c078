"""S3 replication and lifecycle, acted out on the sim clock (moto only stores both configurations).

Replication: every object version written after a rule exists and selected by it is copied to the rule's
destination bucket a few seconds to a couple of minutes later (sim time), versions of one key in order.
Source versions show ReplicationStatus PENDING, then COMPLETED or FAILED (destination bucket missing or not
versioned, or a role S3 cannot assume); replicas show REPLICA (header x-amz-replication-status on HeadObject and
GetObject). Delete markers follow where DeleteMarkerReplication is on; tag changes follow to the replicas, and
from replicas back where ReplicaModifications is on. Replication can be paused per bucket or everywhere (fault
injection): writes then stay PENDING and replicate after resume.

Writes are seen two ways: the gateway's calls through observe(), and writes engines make straight into the
backend (the workload's invoices) through the data layer's object events. Both are noted once per version.

Lifecycle: Expiration (Days, Date, ExpiredObjectDeleteMarker), NoncurrentVersionExpiration (NoncurrentDays,
NewerNoncurrentVersions) and AbortIncompleteMultipartUpload, evaluated every day at 00:00 UTC sim time.
"""

from __future__ import annotations

import contextlib
import heapq
from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple

from lab.backends.data import DataAccess, data_access
from lab.engines import Engine
from lab.engines._s3_config import (
    ConfigError, ReplicationConfig, Target, build_replication, check_replication, choose_targets, destination_name,
    parse_document, replication_lag, replication_response_body, trusts_s3,
)
from lab.engines._s3_lifecycle import (
    LifecycleAction, LifecycleRule, due_actions, needs_tags, next_midnight, parse_lifecycle, upload_due,
)
from lab.gateway.context import RequestContext, Response
from lab.gateway.errors import aws_error
from lab.gateway.handlers.admin import json_body, route
from lab.sim.clock import parse_duration

STATUS_HEADER = "x-amz-replication-status"
PENDING, COMPLETED, FAILED, REPLICA = "PENDING", "COMPLETED", "FAILED", "REPLICA"
_VERSION_WRITES = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload"})
_TAG_WRITES = frozenset({"PutObjectTagging", "DeleteObjectTagging"})
_SERVED = frozenset({"PutBucketReplication", "GetBucketReplication", "PutBucketVersioning"})
_LIFECYCLE_PUTS = {"PutBucketLifecycleConfiguration": "GetBucketLifecycleConfiguration",
                   "PutBucketLifecycle": "GetBucketLifecycle"}
_OBSERVED = frozenset({*_VERSION_WRITES, *_TAG_WRITES, *_LIFECYCLE_PUTS, "HeadObject", "GetObject",
                       "DeleteObject", "DeleteObjects", "PutBucketReplication", "DeleteBucketReplication",
                       "DeleteBucketLifecycle", "DeleteBucket", "CreateMultipartUpload", "AbortMultipartUpload"})
_LIFECYCLE_EVENTS = {"expire": "LifecycleExpiration", "delete-noncurrent": "LifecycleNoncurrentVersionExpiration",
                     "remove-delete-marker": "LifecycleExpiredDeleteMarkerRemoved"}


class VersionStatus(NamedTuple):
    status: str  # PENDING | COMPLETED | FAILED | REPLICA
    peers: tuple[tuple[str, str], ...]  # replicas (bucket, version id) of a source; the source of a replica


@dataclass(slots=True)
class Task:
    """One piece of replication work: a version, a delete marker, or a tag change to pass on."""

    kind: str  # "version" | "delete-marker" | "tags"
    bucket: str
    key: str
    version_id: str
    seq: int  # the engine's write sequence: orders writes against rule creation, and ties in the queue
    written_at: float
    due: float
    targets: tuple[Target, ...] | None = None  # decided destinations (None: not decided yet)
    peers: tuple[tuple[str, str], ...] = ()  # "tags": the versions that take the tags


@dataclass
class S3State:
    seq: int = 0
    replication: dict[str, ReplicationConfig] = field(default_factory=dict)  # source bucket -> configuration
    lifecycle: dict[str, tuple[LifecycleRule, ...]] = field(default_factory=dict)
    uploads: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)  # bucket -> id -> (key, started)
    queue: list[tuple[float, int, Task]] = field(default_factory=list)  # heap by (due, seq)
    queued: dict[tuple[str, str, str], Task] = field(default_factory=dict)  # (kind, bucket, version) -> task
    held: list[Task] = field(default_factory=list)  # due while paused, in order
    pauses: dict[str | None, float | None] = field(default_factory=dict)  # bucket (None: all) -> until (None: resume)
    key_due: dict[tuple[str, str], float] = field(default_factory=dict)  # (bucket, key) -> due of its last task
    versions: dict[str, dict[str, VersionStatus]] = field(default_factory=dict)  # bucket -> version id -> status
    lifecycle_next: float | None = None
    completed: int = 0
    failed: int = 0
    lifecycle_actions: int = 0


class S3(Engine):
    name = "s3"
    order = 50  # after the workload: an order placed at an instant is written before replication looks

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._acting = False  # set while the engine itself writes (its own writes are not new user writes)
        self.data.subscribe_object_events(self._on_object_event)

    def initial_state(self) -> S3State:
        return S3State()

    @property
    def data(self) -> DataAccess:
        return data_access(self.sandbox)

    @contextlib.contextmanager
    def _engine_writes(self) -> Iterator[None]:
        self._acting = True
        try:
            yield
        finally:
            self._acting = False

    # -- the request path ----------------------------------------------------------------------------

    def handles(self, ctx: RequestContext) -> bool:
        identity = ctx.identity
        return identity is not None and identity.service == "s3" and identity.operation in _SERVED

    def serve(self, ctx: RequestContext) -> None:
        operation = ctx.identity.operation  # type: ignore[union-attr]
        bucket = ctx.identity.bucket or ""  # type: ignore[union-attr]
        self.sandbox.backend.materialize_all()  # a restored S3 may still wait as bytes; the checks read it
        if operation == "GetBucketReplication" and bucket in self.state.replication:
            body = replication_response_body(self.state.replication[bucket].document)
            ctx.response = Response(200, [("Content-Type", "application/xml")], body)
            return
        refusal = None
        if operation == "PutBucketReplication":
            refusal = self._replication_refusal(bucket, ctx.body)
        elif operation == "PutBucketVersioning" and bucket in self.state.replication:
            refusal = _versioning_refusal(ctx.body)
        if refusal is not None:
            error = aws_error(ctx.identity, 409 if refusal.code == "InvalidBucketState" else 400,
                              refusal.code, refusal.message)
            ctx.response = Response(error.status, list(error.headers), error.body)
            return
        self.sandbox.backend.dispatch(ctx)

    def _replication_refusal(self, bucket: str, body: bytes) -> ConfigError | None:
        """What S3 says to this PutBucketReplication beyond what the backend checks (None: let it through)."""
        source = self.data.bucket_state(bucket)
        if source is None or source.versioning != "Enabled":
            return None  # the backend answers NoSuchBucket or the versioning refusal, as S3 does
        try:
            document = parse_document("GetBucketReplication", body).get("ReplicationConfiguration") or {}
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
        if identity is None or identity.service != "s3" or identity.operation not in _OBSERVED:
            return
        operation, bucket, key = identity.operation, identity.bucket or "", identity.key or ""
        response = ctx.response
        assert response is not None
        headers = {name.lower(): value for name, value in response.headers}
        version_id = headers.get("x-amz-version-id", "")
        if operation in ("HeadObject", "GetObject"):
            status = self.replication_status(bucket, version_id)
            if status is not None:
                response.headers.append((STATUS_HEADER, status))
        elif operation in _VERSION_WRITES:
            if version_id and version_id != "null":
                task = self._note_version(bucket, key, version_id)
                if task is not None:
                    self._decide(task)  # at the write, with the tags the request set
        elif operation in _TAG_WRITES:
            if version_id and version_id != "null":
                self._note_tags(bucket, key, version_id)
        elif operation == "DeleteObject":
            self._observe_delete(bucket, key, ctx.query_params().get("versionId", [None])[0], headers)
        elif operation == "DeleteObjects":
            self._observe_deletes(bucket, response.body_bytes())
        elif operation in ("PutBucketReplication", "DeleteBucketReplication", "DeleteBucket"):
            self._observe_replication_config(operation, bucket, ctx.body)
        if operation in _LIFECYCLE_PUTS or operation in ("DeleteBucketLifecycle", "DeleteBucket"):
            self._observe_lifecycle_config(operation, bucket, ctx.body)
        elif operation in ("CreateMultipartUpload", "CompleteMultipartUpload", "AbortMultipartUpload"):
            self._observe_upload(operation, bucket, key, ctx, response)

    def _on_object_event(self, event: str, bucket: str, key: str, version_id: str) -> None:
        """The data layer's report of a write, from the gateway or straight from an engine."""
        if self._acting or version_id == "null":
            return
        if event == "created":
            self._note_version(bucket, key, version_id)
        elif event == "tagged":
            self._note_tags(bucket, key, version_id)

    def _observe_replication_config(self, operation: str, bucket: str, body: bytes) -> None:
        state = self.state
        if operation != "PutBucketReplication":
            if state.replication.pop(bucket, None) is not None:
                self.emit("ReplicationConfigurationDeleted", resource=f"s3://{bucket}")
            if operation == "DeleteBucket":
                state.versions.pop(bucket, None)
            return
        document = parse_document("GetBucketReplication", body).get("ReplicationConfiguration") or {}
        state.seq += 1
        config = build_replication(bucket, document, state.replication.get(bucket), state.seq, self.now())
        state.replication[bucket] = config
        self.emit("ReplicationConfigured", resource=f"s3://{bucket}",
                  rules=[{"id": rule.id, "enabled": rule.enabled, "destination": rule.destination_bucket}
                         for rule in config.rules])

    def _observe_delete(self, bucket: str, key: str, requested_version: str | None, headers: dict[str, str]) -> None:
        if requested_version:  # a version removed for good: S3 never replicates that
            self._forget(bucket, requested_version)
        elif headers.get("x-amz-delete-marker") == "true" and headers.get("x-amz-version-id"):
            self._note_delete_marker(bucket, key, headers["x-amz-version-id"])

    def _observe_deletes(self, bucket: str, body: bytes) -> None:
        try:
            answer = parse_document("DeleteObjects", body)
        except ConfigError:
            return
        for deleted in answer.get("Deleted") or []:
            if deleted.get("VersionId"):
                self._forget(bucket, deleted["VersionId"])
            elif deleted.get("DeleteMarker") and deleted.get("DeleteMarkerVersionId"):
                self._note_delete_marker(bucket, deleted["Key"], deleted["DeleteMarkerVersionId"])

    def _observe_lifecycle_config(self, operation: str, bucket: str, body: bytes) -> None:
        state = self.state
        if operation in _LIFECYCLE_PUTS:
            state.lifecycle[bucket] = parse_lifecycle(parse_document(_LIFECYCLE_PUTS[operation], body))
            if state.lifecycle_next is None:
                state.lifecycle_next = next_midnight(self.now())
        else:
            state.lifecycle.pop(bucket, None)
            if operation == "DeleteBucket":
                state.uploads.pop(bucket, None)

    def _observe_upload(self, operation: str, bucket: str, key: str, ctx: RequestContext,
                        response: Response) -> None:
        uploads = self.state.uploads
        if operation == "CreateMultipartUpload":
            upload_id = parse_document("CreateMultipartUpload", response.body_bytes()).get("UploadId")
            if upload_id:
                uploads.setdefault(bucket, {})[upload_id] = (key, self.now())
            return
        upload_id = ctx.query_params().get("uploadId", [""])[0]
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
        return self._enqueue("version", bucket, key, version_id)

    def _note_delete_marker(self, bucket: str, key: str, version_id: str) -> None:
        if bucket in self.state.replication and ("delete-marker", bucket, version_id) not in self.state.queued:
            self._decide(self._enqueue("delete-marker", bucket, key, version_id))

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
            self._enqueue("tags", bucket, key, version_id).peers = peers

    def _enqueue(self, kind: str, bucket: str, key: str, version_id: str) -> Task:
        state = self.state
        state.seq += 1
        now = self.now()
        # Versions of one key replicate in the order they were written.
        due = max(now + replication_lag(self.sandbox.lab.seed, bucket, version_id), state.key_due.get((bucket, key), 0.0))
        state.key_due[(bucket, key)] = due
        task = Task(kind, bucket, key, version_id, state.seq, now, due)
        state.queued[(kind, bucket, version_id)] = task
        heapq.heappush(state.queue, (due, task.seq, task))
        return task

    def _decide(self, task: Task) -> tuple[Target, ...]:
        if task.targets is None:
            task.targets = self._targets(task)
            if task.targets and task.kind == "version":
                self.state.versions.setdefault(task.bucket, {})[task.version_id] = VersionStatus(PENDING, ())
        return task.targets

    def _targets(self, task: Task) -> tuple[Target, ...]:
        config = self.state.replication.get(task.bucket)
        if config is None:
            return ()
        tags: dict[str, str] = {}
        if task.kind == "version" and config.uses_tags:
            try:
                tags = self.data.object_tags(self._region(task.bucket), task.bucket, task.key, task.version_id)
            except LookupError:
                return ()
        return choose_targets(config.rules, task.key, tags, task.seq, delete_marker=task.kind == "delete-marker")

    def replication_status(self, bucket: str, version_id: str) -> str | None:
        """What HeadObject/GetObject show as ReplicationStatus for a version (None: no header)."""
        record = self.state.versions.get(bucket, {}).get(version_id)
        if record is not None:
            return record.status
        task = self.state.queued.get(("version", bucket, version_id))
        # Not decided yet (a direct write not reached yet): decide without keeping it, a read changes nothing.
        if task is not None and task.targets is None and self._targets(task):
            return PENDING
        return None

    def _forget(self, bucket: str, version_id: str) -> None:
        self.state.versions.get(bucket, {}).pop(version_id, None)

    # -- time ----------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        state = self.state
        candidates = [until for until in state.pauses.values() if until is not None]
        if state.queue:
            candidates.append(state.queue[0][0])
        if state.lifecycle and state.lifecycle_next is not None:
            candidates.append(state.lifecycle_next)
        return min(candidates) if candidates else None

    def run_due(self, now: float) -> None:
        state = self.state
        expired = [bucket for bucket, until in state.pauses.items() if until is not None and until <= now]
        if expired:
            for bucket in expired:
                del state.pauses[bucket]
                self.emit("ReplicationResumed", resource=f"s3://{bucket}" if bucket else None, reason="pause ended")
            self._release_held(now)
        while state.queue and state.queue[0][0] <= now:
            _, _, task = heapq.heappop(state.queue)
            self._run(task, now)
        if state.lifecycle and state.lifecycle_next is not None and state.lifecycle_next <= now:
            midnight = state.lifecycle_next
            state.lifecycle_next = next_midnight(midnight)
            self._run_lifecycle(midnight)

    def _run(self, task: Task, now: float) -> None:
        state = self.state
        targets = self._decide(task)
        if targets and self._paused(task, targets, now):
            state.held.append(task)
            return
        del state.queued[(task.kind, task.bucket, task.version_id)]
        if state.key_due.get((task.bucket, task.key)) == task.due:
            del state.key_due[(task.bucket, task.key)]
        if task.kind == "tags":
            self._sync_tags(task, now)
        elif targets:
            self._replicate(task, targets, now)

    def _replicate(self, task: Task, targets: tuple[Target, ...], now: float) -> None:
        state = self.state
        config = state.replication.get(task.bucket)
        source_region = self._region(task.bucket)
        replicas: list[tuple[str, str]] = []
        failures = 0
        for target in targets:
            reason = self._failure_reason(config, target)
            replica_version = ""
            if reason is None:
                region = self._region(target.bucket)
                try:
                    with self._engine_writes():
                        if task.kind == "version":
                            replica_version = self.data.replicate_version(
                                source_region, task.bucket, task.key, task.version_id, region, target.bucket,
                                target.storage_class)
                        else:
                            replica_version = self.data.replicate_delete_marker(
                                source_region, task.bucket, task.key, task.version_id, region, target.bucket)
                except LookupError as exc:
                    reason = f"the source version is gone: {exc}"
            lag = now - task.written_at
            detail: dict[str, Any] = {"version_id": task.version_id, "destination": target.bucket,
                                      "rule": target.rule_id, "delete_marker": task.kind == "delete-marker"}
            if reason is None:
                replicas.append((target.bucket, replica_version))
                if task.kind == "version":
                    state.versions.setdefault(target.bucket, {})[replica_version] = VersionStatus(
                        REPLICA, ((task.bucket, task.version_id),))
                if target.rtc_minutes is not None and lag > target.rtc_minutes * 60:
                    detail["replication_time_missed"] = True
                state.completed += 1
                self.emit("ReplicationCompleted", region=source_region, resource=f"s3://{task.bucket}/{task.key}",
                          lag_seconds=round(lag, 3), replica_version_id=replica_version, **detail)
            else:
                failures += 1
                state.failed += 1
                self.emit("ReplicationFailed", region=source_region, resource=f"s3://{task.bucket}/{task.key}",
                          reason=reason, **detail)
        if task.kind == "version":
            state.versions.setdefault(task.bucket, {})[task.version_id] = VersionStatus(
                FAILED if failures else COMPLETED, tuple(replicas))

    def _failure_reason(self, config: ReplicationConfig | None, target: Target) -> str | None:
        """Why S3 could not replicate to `target` now, or None."""
        if config is None or not any(rule.id == target.rule_id for rule in config.rules):
            return "the replication rule was removed before the version replicated"
        destination = self.data.bucket_state(target.bucket)
        if destination is None:
            return f"destination bucket {target.bucket} does not exist"
        if destination.versioning != "Enabled":
            return f"destination bucket {target.bucket} does not have versioning enabled"
        policy = self.data.role_trust_policy(config.role)
        if policy is None:
            return f"S3 cannot assume role {config.role}: the role does not exist"
        if not trusts_s3(policy):
            return (f"S3 cannot assume role {config.role}: its trust policy does not allow sts:AssumeRole "
                    "for the service principal s3.amazonaws.com")
        return None

    def _sync_tags(self, task: Task, now: float) -> None:
        region = self._region(task.bucket)
        try:
            tags = self.data.object_tags(region, task.bucket, task.key, task.version_id)
        except LookupError:
            return
        for bucket, version_id in task.peers:
            try:
                with self._engine_writes():
                    self.data.put_object_tags(self._region(bucket), bucket, task.key, version_id, tags)
            except LookupError as exc:
                self.emit("ReplicationFailed", region=region, resource=f"s3://{task.bucket}/{task.key}",
                          version_id=task.version_id, destination=bucket, reason=f"tags not passed on: {exc}")
                continue
            self.emit("ReplicationTagsSynced", region=region, resource=f"s3://{task.bucket}/{task.key}",
                      version_id=task.version_id, destination=bucket, tags=tags)

    def _region(self, bucket: str) -> str:
        found = self.data.bucket_state(bucket)
        return found.region if found is not None else "us-east-1"

    # -- pausing (fault injection) -------------------------------------------------------------------

    def _paused(self, task: Task, targets: tuple[Target, ...], now: float) -> bool:
        pauses = self.state.pauses
        if not pauses:
            return False
        buckets = [None, task.bucket, *(target.bucket for target in targets), *(bucket for bucket, _ in task.peers)]
        return any(bucket in pauses and (pauses[bucket] is None or pauses[bucket] > now)  # type: ignore[operator]
                   for bucket in buckets)

    def pause(self, bucket: str | None, until: float | None) -> None:
        """Hold replication from or to `bucket` (every bucket when None) until sim time `until` (None: until
        resume). Writes meanwhile stay PENDING."""
        self.state.pauses[bucket] = until
        self.emit("ReplicationPaused", resource=f"s3://{bucket}" if bucket else None, until=until)

    def resume(self, bucket: str | None) -> None:
        """Lift the pause on `bucket`, or every pause when None; what waited replicates from now on."""
        state = self.state
        if bucket is None:
            state.pauses.clear()
        else:
            state.pauses.pop(bucket, None)
        self.emit("ReplicationResumed", resource=f"s3://{bucket}" if bucket else None)
        self._release_held(self.now())

    def _release_held(self, now: float) -> None:
        state = self.state
        held, state.held = state.held, []
        for task in held:
            if self._paused(task, task.targets or (), now):
                state.held.append(task)
            else:
                task.due = max(task.due, now)
                heapq.heappush(state.queue, (task.due, task.seq, task))

    # -- lifecycle -----------------------------------------------------------------------------------

    def _run_lifecycle(self, at: float) -> None:
        state = self.state
        for bucket, rules in sorted(state.lifecycle.items()):
            found = self.data.bucket_state(bucket)
            if found is None:
                continue
            for upload_id, (key, started) in sorted(state.uploads.get(bucket, {}).items()):
                rule = next((rule for rule in rules if upload_due(rule, key, started, at)), None)
                if rule is not None:
                    self._abort_upload(found.region, bucket, key, upload_id, rule)
            if not any(rule.enabled and (rule.expiration_days is not None or rule.expiration_date is not None
                                         or rule.expired_object_delete_marker or rule.noncurrent_days is not None)
                       for rule in rules):
                continue
            versions = self.data.list_object_versions(found.region, bucket, with_tags=needs_tags(rules))
            for action in due_actions(rules, versions, at):
                self._apply_lifecycle(found.region, bucket, action)

    def _apply_lifecycle(self, region: str, bucket: str, action: LifecycleAction) -> None:
        detail: dict[str, Any] = {"version_id": action.version_id, "rule": action.rule_id}
        try:
            with self._engine_writes():
                if action.kind == "expire":
                    marker = self.data.delete_object(region, bucket, action.key)
                    if marker:
                        detail["delete_marker_version_id"] = marker
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
            with self._engine_writes():
                self.data.abort_multipart_upload(region, bucket, key, upload_id)
        except LookupError:
            return  # completed or aborted meanwhile by a path the engine does not see
        self.state.lifecycle_actions += 1
        self.emit("LifecycleMultipartUploadAborted", region=region, resource=f"s3://{bucket}/{key}",
                  upload_id=upload_id, rule=rule.id)

    # -- summary ---------------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        state = self.state
        return {
            "replication_buckets": sorted(state.replication),
            "pending": len(state.queued),
            "held_by_pause": len(state.held),
            "paused": sorted("*" if bucket is None else bucket for bucket in state.pauses),
            "completed": state.completed,
            "failed": state.failed,
            "lifecycle_buckets": sorted(state.lifecycle),
            "lifecycle_actions": state.lifecycle_actions,
        }


def _versioning_refusal(body: bytes) -> ConfigError | None:
    try:
        status = parse_document("GetBucketVersioning", body).get("Status")
    except ConfigError:
        return None  # the backend answers malformed XML itself
    if status == "Suspended":
        return ConfigError("InvalidBucketState", "A replication configuration is present on this bucket, so you "
                                                 "cannot change the versioning state. To change the versioning "
                                                 "state, first delete the replication configuration.")
    return None


@route("GET", "s3/replication")
def replication_show(sandbox: Any, ctx: RequestContext) -> tuple[int, Any]:
    return 200, sandbox.engines["s3"].describe()


@route("POST", "s3/replication", journal=True)
def replication_change(sandbox: Any, ctx: RequestContext) -> tuple[int, Any]:
    """{"action": "pause", "bucket"?: NAME, "duration"?: "30m"} | {"action": "resume", "bucket"?: NAME}"""
    engine: S3 = sandbox.engines["s3"]
    request = json_body(ctx)
    bucket = request.get("bucket") or None
    if bucket is not None and not isinstance(bucket, str):
        raise ValueError(f"bucket must be a bucket name, not {bucket!r}")
    action = request.get("action")
    if action == "pause":
        duration = request.get("duration")
        engine.pause(bucket, engine.now() + parse_duration(str(duration)) if duration else None)
    elif action == "resume":
        engine.resume(bucket)
    else:
        raise ValueError(f"unknown replication action {action!r}; one of pause, resume")
    return 200, engine.describe()
