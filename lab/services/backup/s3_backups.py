"""S3 recovery points: a reference to a moment in a versioned bucket's history, made durable.

AWS Backup needs versioning on a bucket it backs up; a versioned bucket is its own change journal, so a
recovery point holds only (bucket, moment) and a restore writes, for every key, the version that was
current at that moment. The one way history is lost -- a version deleted for good through the API --
is watched: before such a call runs, every version a recovery point still needs is pinned (its bytes
copied into the lab state), so the recovery point keeps a real copy of its data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import defusedxml.ElementTree as DefusedElementTree
from botocore.exceptions import ClientError
from defusedxml import DefusedXmlException

from lab.kernel.port import Sandbox

# A version belongs to a moment when written at or before it; sim times are exact to the microsecond.
_SAME_INSTANT = 1e-6


@dataclass(frozen=True)
class S3Snapshot:
    """The recovery data of an S3 backup."""

    bucket: str
    region: str
    taken_at: float


@dataclass
class PinnedVersion:
    key: str
    version_id: str
    last_modified: float
    until: float  # when the next version of the key was written (inf: none was)
    body: bytes | None  # None for a delete marker
    content_type: str | None


@dataclass
class S3Books:
    """Which moments of which buckets recovery data still refers to, and the versions pinned for them."""

    refs: dict[str, dict[float, int]] = field(default_factory=dict)  # bucket -> taken_at -> holders
    pins: dict[str, dict[tuple[str, str], PinnedVersion]] = field(default_factory=dict)  # bucket -> (key, version)

    def hold(self, data: S3Snapshot) -> None:
        moments = self.refs.setdefault(data.bucket, {})
        moments[data.taken_at] = moments.get(data.taken_at, 0) + 1

    def release(self, data: S3Snapshot) -> None:
        moments = self.refs.get(data.bucket, {})
        if data.taken_at in moments:
            moments[data.taken_at] -= 1
            if moments[data.taken_at] <= 0:
                del moments[data.taken_at]
        if not moments:
            self.refs.pop(data.bucket, None)
            self.pins.pop(data.bucket, None)
            return
        pins = self.pins.get(data.bucket, {})
        for name, pin in list(pins.items()):
            if not any(pin.last_modified <= t + _SAME_INSTANT < pin.until for t in moments):
                del pins[name]


def capture(sandbox: Sandbox, books: S3Books, bucket: str, region: str, now: float) -> S3Snapshot:
    """The recovery data of `bucket` now; refuses as AWS Backup does when versioning is not enabled."""
    found = sandbox.data.bucket_state(bucket)
    if found is None or found.region != region:
        raise ValueError(f"bucket {bucket} does not exist in {region}")
    status = found.versioning
    if status != "Enabled":
        raise ValueError(f"AWS Backup requires versioning on bucket {bucket}; its versioning is "
                         f"{status or 'not enabled'} (aws s3api put-bucket-versioning --bucket {bucket} "
                         "--versioning-configuration Status=Enabled)")
    snapshot = S3Snapshot(bucket, region, now)
    books.hold(snapshot)
    return snapshot


def contents(sandbox: Sandbox, books: S3Books, snapshot: S3Snapshot,
             prefixes: list[str] | None = None) -> list[tuple[str, str, bool]]:
    """(key, version id, pinned?) of every object the bucket held at the snapshot's moment."""
    moment = snapshot.taken_at + _SAME_INSTANT
    candidates: dict[str, list[tuple[float, int, str, bool, bool]]] = {}
    try:
        versions = sandbox.data.list_object_versions(snapshot.region, snapshot.bucket)
    except LookupError:
        versions = []  # the bucket is gone; what the recovery point needs was pinned before
    for order, version in enumerate(reversed(versions)):  # each key's oldest first
        if version.last_modified <= moment:
            candidates.setdefault(version.key, []).append(
                (version.last_modified, order, version.version_id, version.is_delete_marker, False))
    for pin in books.pins.get(snapshot.bucket, {}).values():
        if pin.last_modified <= moment:
            candidates.setdefault(pin.key, []).append(
                (pin.last_modified, -1, pin.version_id, pin.body is None, True))
    found = []
    for key in sorted(candidates):
        if prefixes and not any(key.startswith(prefix) for prefix in prefixes):
            continue
        _, _, version_id, is_marker, pinned = max(candidates[key])
        if not is_marker:
            found.append((key, version_id, pinned))
    return found


def restore(sandbox: Sandbox, books: S3Books, snapshot: S3Snapshot, metadata: dict[str, str], region: str) -> str:
    """Write the snapshot's objects into the bucket the restore metadata names; returns its ARN."""
    target = metadata.get("DestinationBucketName") or metadata.get("destinationBucketName")
    if not target:
        raise ValueError("S3 restore metadata needs DestinationBucketName (and NewBucket=true to create it)")
    new_bucket = str(metadata.get("NewBucket", metadata.get("newBucket", "false"))).lower() == "true"
    s3 = sandbox.client("s3", region)
    data = sandbox.data
    if new_bucket:
        if data.bucket_state(target) is not None:
            raise ValueError(f"bucket {target} already exists; restore into it with NewBucket=false, or name a new one")
        kwargs: dict[str, Any] = {"Bucket": target}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**kwargs)
        except ClientError as exc:
            raise ValueError(f"cannot create bucket {target}: {exc.response['Error']['Message']}") from exc
        s3.put_bucket_versioning(Bucket=target, VersioningConfiguration={"Status": "Enabled"})
    else:
        found = data.bucket_state(target)
        if found is None or found.region != region:
            raise ValueError(f"destination bucket {target} does not exist in {region} (set NewBucket=true to "
                             "create it)")
        if found.versioning != "Enabled":
            raise ValueError(f"destination bucket {target} must have versioning enabled for an S3 restore")
    pins = books.pins.get(snapshot.bucket, {})
    for key, version_id, pinned in contents(sandbox, books, snapshot, _prefixes(metadata, snapshot.bucket)):
        if pinned:
            pin = pins[(key, version_id)]
            body, content_type = pin.body or b"", pin.content_type
        else:
            body, content_type = data.read_object_version(snapshot.region, snapshot.bucket, key, version_id)
        data.put_object(region, target, key, body, content_type)
    return f"arn:aws:s3:::{target}"


def _prefixes(metadata: dict[str, str], bucket: str) -> list[str] | None:
    """ItemsToRestore: a JSON list of s3://bucket/key-or-prefix (AWS allows up to five)."""
    raw = metadata.get("ItemsToRestore")
    if not raw:
        return None
    try:
        items = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"ItemsToRestore must be a JSON list of s3:// paths, not {raw!r}") from exc
    if not isinstance(items, list) or not items or len(items) > 5:
        raise ValueError("ItemsToRestore must list one to five s3:// paths")
    prefixes = []
    for item in items:
        head = f"s3://{bucket}/"
        if not isinstance(item, str) or not item.startswith(head):
            raise ValueError(f"ItemsToRestore entry {item!r} must start with {head}")
        prefixes.append(item[len(head):])
    return prefixes


# -- keeping history that recovery points need ------------------------------------------------------


def versions_to_delete(operation: str, key: str | None, query: dict[str, list[str]],
                       body: bytes) -> list[tuple[str, str]]:
    """(key, version id) pairs a DeleteObject/DeleteObjects call deletes for good (it names versions)."""
    if operation == "DeleteObject":
        version = (query.get("versionId") or [None])[0]
        return [(key, version)] if key and version else []
    if operation == "DeleteObjects" and body:
        try:
            root = DefusedElementTree.fromstring(body, forbid_dtd=True)
        except (DefusedElementTree.ParseError, DefusedXmlException):
            return []  # the call itself is refused (the gateway refuses a DOCTYPE; the service, bad XML)
        named = []
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] != "Object":
                continue
            fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in element}
            if fields.get("Key") and fields.get("VersionId"):
                named.append((fields["Key"], fields["VersionId"]))
        return named
    return []


def pin_before_delete(sandbox: Sandbox, books: S3Books, bucket: str, key: str, version_id: str) -> bool:
    """Copy into `books` a version about to be deleted for good, if a held moment still needs it."""
    moments = books.refs.get(bucket)
    pins = books.pins.setdefault(bucket, {}) if moments else {}
    if not moments or (key, version_id) in pins:
        return False
    data = sandbox.data
    found = data.bucket_state(bucket)
    if found is None:
        return False
    history = data.object_history(found.region, bucket, key)
    for index, version in enumerate(history):
        if version.version_id != version_id:
            continue
        until = history[index + 1].last_modified if index + 1 < len(history) else float("inf")
        if not any(version.last_modified <= t + _SAME_INSTANT < until for t in moments):
            return False
        body, content_type = ((None, None) if version.is_delete_marker
                              else data.read_object_version(found.region, bucket, key, version_id))
        pins[(key, version_id)] = PinnedVersion(key, version_id, version.last_modified, until, body, content_type)
        return True
    return False
