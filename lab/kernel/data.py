"""The data port: the bulk reads and writes engines make in the backend's resources, behind one Protocol.

The embedded backend implements it on moto's models directly (fast: a month of orders is 100,000 objects);
`lab.backends.data.ApiData` implements it with AWS API calls through the sandbox (works with any backend).
Writes go through the fault layer's guard first (a region that is down refuses them), and writes that bypass
the gateway are published on the sandbox's event bus (`lab.kernel.bus`) so that engines see them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol


class BucketState(NamedTuple):
    region: str
    versioning: str | None  # "Enabled" | "Suspended" | None (never enabled)
    object_lock: bool = False  # Object Lock enabled on the bucket


class ObjectVersion(NamedTuple):
    key: str
    version_id: str  # "null" for an object written while versioning was off
    is_latest: bool
    is_delete_marker: bool
    last_modified: float  # epoch seconds
    size: int
    tags: dict[str, str] | None  # None when not asked for
    etag: str | None = None  # without quotes; None for a delete marker (and where the lister does not know it)
    storage_class: str = "STANDARD"  # the version's storage class ("STANDARD" for a delete marker)
    encryption: str | None = None  # ServerSideEncryption (AES256, aws:kms, aws:kms:dsse); None where not known


class KeyHead(NamedTuple):
    """One key of a bucket as a listing shows it now: its latest version, and how many versions it has."""

    key: str
    version_id: str | None
    etag: str | None  # the latest version's ETag, without quotes; None when the latest is a delete marker
    size: int
    last_modified: int  # epoch seconds (whole: as listings show it)
    versions: int  # object versions of the key (delete markers not counted)
    markers: int  # delete markers of the key


class EbsSnapshot(NamedTuple):
    """An EBS snapshot the account owns, as DescribeSnapshots shows it."""

    snapshot_id: str
    volume_id: str | None
    state: str | None
    progress: str | None
    start_time: float  # epoch seconds
    encrypted: bool
    description: str | None
    tags: dict[str, str]
    volume_size: int | None


def heads_of(versions: list[ObjectVersion]) -> list[KeyHead]:
    """Each key's head from a listing of versions (any order)."""
    by_key: dict[str, list[ObjectVersion]] = {}
    for version in versions:
        by_key.setdefault(version.key, []).append(version)
    heads = []
    for key, listed in by_key.items():
        latest = max(listed, key=lambda v: (v.is_latest, v.last_modified))
        markers = sum(1 for v in listed if v.is_delete_marker)
        heads.append(KeyHead(key, latest.version_id, None if latest.is_delete_marker else latest.etag,
                             0 if latest.is_delete_marker else latest.size, int(latest.last_modified // 1),
                             len(listed) - markers, markers))
    return heads


#: listener(event, bucket, key, version_id), event "created" (a new object version) or "tagged" (its tags changed)
ObjectEventListener = Callable[[str, str, str, str], None]


class DataAccess(Protocol):
    def put_object(self, region: str, bucket: str, key: str, body: bytes, content_type: str | None = None,
                   storage_class: str | None = None, metadata: dict[str, str] | None = None) -> str | None:
        """Store an object (with user `metadata`, names without x-amz-meta-); return its version id (None when
        the bucket is not versioned)."""

    def put_item(self, region: str, table: str, item: dict[str, Any]) -> None:
        """Store a DynamoDB item given in DynamoDB JSON."""

    # -- S3 versions, for replication and lifecycle ------------------------------------------------

    def bucket_state(self, bucket: str) -> BucketState | None:
        """The bucket's region and versioning status; None when there is no such bucket."""

    def replicate_version(self, region: str, bucket: str, key: str, version_id: str, target_region: str,
                          target_bucket: str, storage_class: str | None, kms_key_id: str | None = None) -> str:
        """Copy one object version (body, metadata, tags, Object Lock retention and legal hold) into
        `target_bucket` as a replica, encrypted with SSE-KMS under `kms_key_id` when given; return the replica's
        version id. Raises LookupError when the source version is gone."""

    def set_storage_class(self, region: str, bucket: str, key: str, version_id: str, storage_class: str) -> None:
        """Move one object version to `storage_class` in place (a lifecycle transition: same version, same bytes).
        Raises LookupError when the version is gone or the backend cannot move it in place."""

    def set_restored(self, region: str, bucket: str, key: str, version_id: str, expiry: float | None) -> None:
        """Make an archived version readable until `expiry` (epoch seconds; a finished RestoreObject), or take
        the restored copy away (None). Raises LookupError when the version is gone."""

    def replicate_delete_marker(self, region: str, bucket: str, key: str, version_id: str, target_region: str,
                                target_bucket: str) -> str:
        """Put a delete marker for `key` into `target_bucket` mirroring the source's; return its version id.
        Raises LookupError when the source marker is gone."""

    def object_tags(self, region: str, bucket: str, key: str, version_id: str) -> dict[str, str]:
        """The tags of one object version. Raises LookupError when the version is gone."""

    def put_object_tags(self, region: str, bucket: str, key: str, version_id: str, tags: dict[str, str]) -> None:
        """Replace the tags of one object version. Raises LookupError when the version is gone."""

    def list_object_versions(self, region: str, bucket: str, prefix: str = "",
                             with_tags: bool = False) -> list[ObjectVersion]:
        """Every version and delete marker under `prefix`, each key's newest first."""

    def key_heads(self, region: str, bucket: str) -> list[KeyHead]:
        """Every key of the bucket with its latest version and its version counts: what a summary of the bucket
        needs, without making a record of every version (a month of orders is 100,000). LookupError: no bucket."""

    def key_head_changes(self, region: str, bucket: str, watcher: str) -> tuple[bool, list[KeyHead], list[str]]:
        """What changed in the bucket since `watcher` (a name its reader chose) last asked: (whole, heads, gone).
        whole: `heads` is every key (the first question, or the bucket is not the one the watcher knew: made
        again, restored, reset); else the heads of the keys changed since, and the keys gone since. A summary
        kept up to date with this costs what changed, not the bucket's age. LookupError: no bucket."""

    def delete_object_version(self, region: str, bucket: str, key: str, version_id: str) -> None:
        """Remove one version (or delete marker) for good."""

    def delete_object(self, region: str, bucket: str, key: str) -> str | None:
        """Delete `key` as a DELETE without a version does: a delete marker's version id in a versioned bucket,
        None where the object itself is removed."""

    def abort_multipart_upload(self, region: str, bucket: str, key: str, upload_id: str) -> None:
        """Abort an incomplete multipart upload. Raises LookupError when there is no such upload."""

    def role_trust_policy(self, role_arn: str) -> str | None:
        """The IAM role's trust (assume-role) policy document, as JSON text; None when there is no such role."""

    def subscribe_object_events(self, listener: ObjectEventListener) -> bool:
        """Report object writes that bypass the gateway (engines' direct writes) to `listener`; False when
        every write of this data layer is an AWS call through the gateway, which engines already observe."""

    # -- DynamoDB items, for point-in-time recovery and global tables (items in DynamoDB JSON) -------

    def subscribe_item_writes(self, listener: Callable[[str, str, dict[str, Any]], None]) -> bool:
        """Report put_item writes that bypass the gateway to listener(region, table, item); False when every
        write of this data layer is an AWS call through the gateway, which engines already observe."""

    def get_item(self, region: str, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        """The item with this key (strongly consistent), None when there is none. LookupError: no table."""

    def put_items(self, region: str, table: str, items: list[dict[str, Any]]) -> None:
        """Store items in bulk (restores, replication). LookupError: no such table."""

    def delete_items(self, region: str, table: str, keys: list[dict[str, Any]]) -> None:
        """Delete the items with these keys (missing ones are fine). LookupError: no such table."""

    def scan_items(self, region: str, table: str) -> list[dict[str, Any]]:
        """Every item of the table. LookupError: no such table."""

    def key_values(self, region: str, table: str, attribute: str) -> list[Any]:
        """The values of one key attribute (the partition or the sort key) of every item, without reading the
        items. LookupError: no such table; ValueError: `attribute` is not one of the table's keys."""

    # -- counts, for `lab status` (a month of orders is 100,000 objects: counting must not list them) -----

    def count_objects(self, region: str, bucket: str) -> int:
        """How many objects the bucket holds (current versions, not delete markers). LookupError: no bucket."""

    def count_items(self, region: str, table: str) -> int:
        """How many items the table holds. LookupError: no such table."""

    # -- RDS ---------------------------------------------------------------------------------------

    def create_automated_db_snapshot(self, region: str, instance_id: str, snapshot_id: str) -> bool:
        """Take an automated (SnapshotType automated) DB snapshot; False where the backend takes its own."""

    # -- AWS Backup and DLM (lab.services.backup.engine, lab.services.ebs.engine) ----------------------------------

    def read_object_version(self, region: str, bucket: str, key: str, version_id: str) -> tuple[bytes, str | None]:
        """Body and Content-Type of one object version. LookupError when the version is gone."""

    def object_history(self, region: str, bucket: str, key: str) -> list[ObjectVersion]:
        """Every version and delete marker of one key, oldest first (no tags). LookupError: no bucket."""

    def version_facts(self, region: str, bucket: str, key: str, version_id: str) -> tuple[int, str | None]:
        """(bytes, server-side encryption) of one object version; (0, None) for a delete marker or a version that
        is gone. LookupError: no bucket. (Replication asks it of every version it queues: a month of orders is
        50,000 of them.)"""

    def subscribe_version_deletes(self, listener: Callable[[str, str, str], None]) -> bool:
        """Call listener(bucket, key, version_id) BEFORE a version is deleted for good, whoever deletes it;
        False when every deletion of this data layer is an AWS call through the gateway (seen there)."""

    def ebs_snapshots(self, region: str) -> list[EbsSnapshot]:
        """Every EBS snapshot the account owns in `region` (a month of hourly AWS Backup is hundreds)."""

    def create_snapshot(self, region: str, volume_id: str, description: str,
                        tags: dict[str, str]) -> dict[str, Any]:
        """Snapshot an EBS volume: SnapshotId plus the volume's VolumeSize, VolumeType, AvailabilityZone,
        Encrypted, KmsKeyId, Iops, Throughput. LookupError: no such volume."""

    def copy_snapshot(self, region: str, source_region: str, snapshot_id: str, description: str,
                      tags: dict[str, str]) -> str:
        """Copy a snapshot from `source_region` into `region`; the copy's id. LookupError: no such snapshot."""

    def delete_snapshot(self, region: str, snapshot_id: str) -> None:
        """Delete a snapshot (one already gone is fine)."""

    def create_image(self, region: str, instance_id: str, name: str, tags: dict[str, str]) -> str:
        """An AMI of an EC2 instance; its id. LookupError: no such instance."""

    def copy_image(self, region: str, source_region: str, image_id: str, name: str) -> str:
        """Copy an AMI from `source_region` into `region`; the copy's id. LookupError: no such image."""

    def deregister_image(self, region: str, image_id: str) -> None:
        """Deregister an AMI (one already gone is fine)."""


class WriteGuard(Protocol):
    def __call__(self, region: str, operation: str) -> None:
        """Raise (botocore's ClientError, as the API would) to refuse a data write in `region`."""
