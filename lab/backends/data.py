"""Data writes the engines make in bulk, behind one interface: moto's models directly for the embedded
backend (fast), the AWS APIs through the sandbox for any other backend (works everywhere)."""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.data import (
    BucketState,
    DataAccess,
    EbsSnapshot,
    KeyHead,
    ObjectEventListener,
    ObjectVersion,
    WriteGuard,
    heads_of,
)
from lab.kernel.port import Sandbox


class ApiData:
    """The same operations as AWS API calls through the sandbox's own gateway (in-process)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def put_object(self, region: str, bucket: str, key: str, body: bytes, content_type: str | None = None,
                   storage_class: str | None = None, metadata: dict[str, str] | None = None) -> str | None:
        extra: dict[str, Any] = {}
        if metadata:
            extra["Metadata"] = metadata
        if content_type:
            extra["ContentType"] = content_type
        if storage_class:
            extra["StorageClass"] = storage_class
        answer = self.sandbox.client("s3", region).put_object(Bucket=bucket, Key=key, Body=body, **extra)
        version = answer.get("VersionId")
        return version if version and version != "null" else None

    def put_item(self, region: str, table: str, item: dict[str, Any]) -> None:
        self.sandbox.client("dynamodb", region).put_item(TableName=table, Item=item)

    # -- S3 versions, for replication and lifecycle ------------------------------------------------

    def bucket_state(self, bucket: str) -> BucketState | None:
        s3 = self.sandbox.client("s3")
        try:
            location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
            versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchBucket", "404"):
                return None
            raise
        try:
            lock = s3.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration") or {}
        except ClientError:  # (ObjectLockConfigurationNotFoundError: a bucket without Object Lock)
            lock = {}
        return BucketState(location or "us-east-1", versioning, lock.get("ObjectLockEnabled") == "Enabled")

    def replicate_version(self, region: str, bucket: str, key: str, version_id: str, target_region: str,
                          target_bucket: str, storage_class: str | None, kms_key_id: str | None = None) -> str:
        source = self.sandbox.client("s3", region)
        try:
            found = source.head_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            if _is_missing(exc):
                raise LookupError(f"s3://{bucket}/{key} has no version {version_id}") from exc
            raise
        # A server-side copy carries the body, metadata and tags (S3's COPY directives) without reading it here.
        extra: dict[str, Any] = {}
        if kms_key_id is not None:
            extra.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_id)
        for member in ("ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus"):
            if found.get(member):  # (a copy does not carry Object Lock settings unless asked to)
                extra[member] = found[member]
        answer = self.sandbox.client("s3", target_region).copy_object(
            Bucket=target_bucket, Key=key, CopySource={"Bucket": bucket, "Key": key, "VersionId": version_id},
            StorageClass=storage_class or found.get("StorageClass") or "STANDARD", **extra)
        return answer["VersionId"]

    def set_storage_class(self, region: str, bucket: str, key: str, version_id: str, storage_class: str) -> None:
        # Through the API a class changes only by a copy, which makes a new version of a versioned bucket's key:
        # in place only for an object written while versioning was off.
        if version_id != "null":
            raise LookupError(f"s3://{bucket}/{key} version {version_id}: this backend cannot change a version's "
                              "storage class in place")
        self.sandbox.client("s3", region).copy_object(
            Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key}, StorageClass=storage_class,
            MetadataDirective="COPY")

    def set_restored(self, region: str, bucket: str, key: str, version_id: str, expiry: float | None) -> None:
        if expiry is None:
            return  # (the backend expires its own restored copy)
        days = max(1, math.ceil((expiry - time.time()) / 86400))
        try:
            self.sandbox.client("s3", region).restore_object(Bucket=bucket, Key=key, VersionId=version_id,
                                                             RestoreRequest={"Days": days})
        except ClientError as exc:
            if _is_missing(exc):
                raise LookupError(f"s3://{bucket}/{key} has no version {version_id}") from exc
            raise

    def replicate_delete_marker(self, region: str, bucket: str, key: str, version_id: str, target_region: str,
                                target_bucket: str) -> str:
        source = self.sandbox.client("s3", region)
        markers = source.list_object_versions(Bucket=bucket, Prefix=key).get("DeleteMarkers", [])
        if not any(m["Key"] == key and m["VersionId"] == version_id for m in markers):
            raise LookupError(f"s3://{bucket}/{key} has no delete marker {version_id}")
        return self.sandbox.client("s3", target_region).delete_object(Bucket=target_bucket, Key=key)["VersionId"]

    def object_tags(self, region: str, bucket: str, key: str, version_id: str) -> dict[str, str]:
        s3 = self.sandbox.client("s3", region)
        try:
            tag_set = s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=version_id)["TagSet"]
        except ClientError as exc:
            if _is_missing(exc):
                raise LookupError(f"s3://{bucket}/{key} has no version {version_id}") from exc
            raise
        return {tag["Key"]: tag["Value"] for tag in tag_set}

    def put_object_tags(self, region: str, bucket: str, key: str, version_id: str, tags: dict[str, str]) -> None:
        s3 = self.sandbox.client("s3", region)
        try:
            if tags:
                s3.put_object_tagging(Bucket=bucket, Key=key, VersionId=version_id, Tagging={
                    "TagSet": [{"Key": name, "Value": value} for name, value in tags.items()]})
            else:
                s3.delete_object_tagging(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            if _is_missing(exc):
                raise LookupError(f"s3://{bucket}/{key} has no version {version_id}") from exc
            raise

    def list_object_versions(self, region: str, bucket: str, prefix: str = "",
                             with_tags: bool = False) -> list[ObjectVersion]:
        s3 = self.sandbox.client("s3", region)
        by_key: dict[str, list[ObjectVersion]] = {}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            entries = [(entry, False) for entry in page.get("Versions", [])]
            entries += [(entry, True) for entry in page.get("DeleteMarkers", [])]
            for entry, marker in entries:
                tags = (self.object_tags(region, bucket, entry["Key"], entry["VersionId"])
                        if with_tags and not marker else None)
                by_key.setdefault(entry["Key"], []).append(ObjectVersion(
                    entry["Key"], entry["VersionId"], entry["IsLatest"], marker,
                    entry["LastModified"].timestamp(), entry.get("Size", 0), tags,
                    None if marker else entry.get("ETag", "").strip('"') or None,
                    "STANDARD" if marker else entry.get("StorageClass") or "STANDARD"))
        # The API lists versions and delete markers apart: put each key's back in one newest-first line.
        return [version for versions in by_key.values()
                for version in sorted(versions, key=lambda v: (v.is_latest, v.last_modified), reverse=True)]

    def key_heads(self, region: str, bucket: str) -> list[KeyHead]:
        try:
            return heads_of(self.list_object_versions(region, bucket))
        except ClientError as exc:
            if _error_code(exc) == "NoSuchBucket":
                raise LookupError(f"no bucket {bucket}") from exc
            raise

    def key_head_changes(self, region: str, bucket: str, watcher: str) -> tuple[bool, list[KeyHead], list[str]]:
        return True, self.key_heads(region, bucket), []  # (through the API no change can be seen: every key)

    def delete_object_version(self, region: str, bucket: str, key: str, version_id: str) -> None:
        self.sandbox.client("s3", region).delete_object(Bucket=bucket, Key=key, VersionId=version_id)

    def delete_object(self, region: str, bucket: str, key: str) -> str | None:
        answer = self.sandbox.client("s3", region).delete_object(Bucket=bucket, Key=key)
        return answer.get("VersionId") if answer.get("DeleteMarker") else None

    def abort_multipart_upload(self, region: str, bucket: str, key: str, upload_id: str) -> None:
        s3 = self.sandbox.client("s3", region)
        try:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if _error_code(exc) == "NoSuchUpload":
                raise LookupError(f"s3://{bucket}/{key} has no upload {upload_id}") from exc
            raise

    def role_trust_policy(self, role_arn: str) -> str | None:
        iam = self.sandbox.client("iam")
        try:
            role = iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
        except iam.exceptions.NoSuchEntityException:
            return None
        if role["Arn"] != role_arn:
            return None
        document = role["AssumeRolePolicyDocument"]  # botocore decodes it into a dict
        return document if isinstance(document, str) else json.dumps(document, sort_keys=True)

    def subscribe_object_events(self, listener: ObjectEventListener) -> bool:
        return False

    # -- DynamoDB items ----------------------------------------------------------------------------

    def subscribe_item_writes(self, listener: Callable[[str, str, dict[str, Any]], None]) -> bool:
        return False

    def get_item(self, region: str, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        dynamodb = self.sandbox.client("dynamodb", region)
        try:
            found = dynamodb.get_item(TableName=table, Key=_client_item(key), ConsistentRead=True).get("Item")
        except dynamodb.exceptions.ResourceNotFoundException as exc:
            raise LookupError(f"no DynamoDB table {table} in {region}") from exc
        return wire_item(found) if found is not None else None

    def put_items(self, region: str, table: str, items: list[dict[str, Any]]) -> None:
        self._batch_write(region, table, [{"PutRequest": {"Item": _client_item(item)}} for item in items])

    def delete_items(self, region: str, table: str, keys: list[dict[str, Any]]) -> None:
        self._batch_write(region, table, [{"DeleteRequest": {"Key": _client_item(key)}} for key in keys])

    def _batch_write(self, region: str, table: str, requests: list[dict[str, Any]]) -> None:
        dynamodb = self.sandbox.client("dynamodb", region)
        for start in range(0, len(requests), 25):
            pending = {table: requests[start:start + 25]}
            for _ in range(10):  # bounded: a backend that keeps returning unprocessed items is an error
                try:
                    pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                except dynamodb.exceptions.ResourceNotFoundException as exc:
                    raise LookupError(f"no DynamoDB table {table} in {region}") from exc
                if not pending:
                    break
            else:
                raise RuntimeError(f"DynamoDB kept {len(pending.get(table, []))} writes to {table} unprocessed")

    def scan_items(self, region: str, table: str) -> list[dict[str, Any]]:
        dynamodb = self.sandbox.client("dynamodb", region)
        try:
            return [wire_item(item) for page in dynamodb.get_paginator("scan").paginate(TableName=table)
                    for item in page.get("Items", [])]
        except dynamodb.exceptions.ResourceNotFoundException as exc:
            raise LookupError(f"no DynamoDB table {table} in {region}") from exc

    def key_values(self, region: str, table: str, attribute: str) -> list[Any]:
        dynamodb = self.sandbox.client("dynamodb", region)
        try:
            keys = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
            if attribute not in {key["AttributeName"] for key in keys}:
                raise ValueError(f"{attribute} is not a key of DynamoDB table {table}")
            pages = dynamodb.get_paginator("scan").paginate(
                TableName=table, ProjectionExpression="#k", ExpressionAttributeNames={"#k": attribute})
            return [next(iter(item[attribute].values())) for page in pages for item in page.get("Items", [])
                    if attribute in item]
        except dynamodb.exceptions.ResourceNotFoundException as exc:
            raise LookupError(f"no DynamoDB table {table} in {region}") from exc

    def count_objects(self, region: str, bucket: str) -> int:
        s3 = self.sandbox.client("s3", region)
        try:
            return sum(page.get("KeyCount", 0)
                       for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket))
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchBucket", "404"):
                raise LookupError(f"no bucket {bucket}") from exc
            raise

    def count_items(self, region: str, table: str) -> int:
        dynamodb = self.sandbox.client("dynamodb", region)
        try:
            return sum(page.get("Count", 0)
                       for page in dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT"))
        except dynamodb.exceptions.ResourceNotFoundException as exc:
            raise LookupError(f"no DynamoDB table {table} in {region}") from exc

    # -- RDS ---------------------------------------------------------------------------------------

    def create_automated_db_snapshot(self, region: str, instance_id: str, snapshot_id: str) -> bool:
        # The API has no call that makes an automated snapshot: a backend reached through it (a real
        # RDS emulation) takes its own automated backups.
        return False

    # -- AWS Backup and DLM ------------------------------------------------------------------------

    def read_object_version(self, region: str, bucket: str, key: str, version_id: str) -> tuple[bytes, str | None]:
        try:
            found = self.sandbox.client("s3", region).get_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            if _is_missing(exc):
                raise LookupError(f"s3://{bucket}/{key} has no version {version_id}") from exc
            raise
        return found["Body"].read(), found.get("ContentType")

    def object_history(self, region: str, bucket: str, key: str) -> list[ObjectVersion]:
        try:
            listed = self.list_object_versions(region, bucket, prefix=key)
        except ClientError as exc:
            if _error_code(exc) == "NoSuchBucket":
                raise LookupError(f"no bucket {bucket}") from exc
            raise
        return [version for version in reversed(listed) if version.key == key]

    def version_facts(self, region: str, bucket: str, key: str, version_id: str) -> tuple[int, str | None]:
        try:
            found = self.sandbox.client("s3", region).head_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            # (a HEAD's 404 has no body to say whether the bucket or the version is missing)
            if _error_code(exc) == "NoSuchBucket" or (_error_code(exc) == "404" and self.bucket_state(bucket) is None):
                raise LookupError(f"no bucket {bucket}") from exc
            if _is_missing(exc):
                return 0, None
            raise
        return int(found.get("ContentLength") or 0), found.get("ServerSideEncryption")

    def subscribe_version_deletes(self, listener: Callable[[str, str, str], None]) -> bool:
        return False

    def ebs_snapshots(self, region: str) -> list[EbsSnapshot]:
        ec2 = self.sandbox.client("ec2", region)
        found = []
        owned = [{"Name": "owner-id", "Values": [config.ACCOUNT_ID]}]
        for page in ec2.get_paginator("describe_snapshots").paginate(Filters=owned):
            for snap in page.get("Snapshots", []):
                found.append(EbsSnapshot(
                    snap["SnapshotId"], snap.get("VolumeId"), snap.get("State"), snap.get("Progress"),
                    snap["StartTime"].timestamp(), bool(snap.get("Encrypted")), snap.get("Description"),
                    {tag["Key"]: tag["Value"] for tag in snap.get("Tags", [])}, snap.get("VolumeSize")))
        return found

    def create_snapshot(self, region: str, volume_id: str, description: str,
                        tags: dict[str, str]) -> dict[str, Any]:
        ec2 = self.sandbox.client("ec2", region)
        try:
            volume = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
        except ClientError as exc:
            if _error_code(exc) in ("InvalidVolume.NotFound", "InvalidVolume.Malformed"):
                raise LookupError(f"no EBS volume {volume_id} in {region}") from exc
            raise
        spec = [{"ResourceType": "snapshot", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
        snapshot = ec2.create_snapshot(VolumeId=volume_id, Description=description, TagSpecifications=spec)
        return {"SnapshotId": snapshot["SnapshotId"], "VolumeSize": volume["Size"],
                "VolumeType": volume.get("VolumeType"), "AvailabilityZone": volume["AvailabilityZone"],
                "Encrypted": bool(volume.get("Encrypted")), "KmsKeyId": volume.get("KmsKeyId"),
                "Iops": volume.get("Iops"), "Throughput": volume.get("Throughput")}

    def copy_snapshot(self, region: str, source_region: str, snapshot_id: str, description: str,
                      tags: dict[str, str]) -> str:
        ec2 = self.sandbox.client("ec2", region)
        try:
            copied = ec2.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion=source_region,
                                       Description=description)["SnapshotId"]
        except ClientError as exc:
            if _error_code(exc) in ("InvalidSnapshot.NotFound", "InvalidSnapshot.Malformed"):
                raise LookupError(f"no EBS snapshot {snapshot_id} in {source_region}") from exc
            raise
        if tags:
            ec2.create_tags(Resources=[copied], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return copied

    def delete_snapshot(self, region: str, snapshot_id: str) -> None:
        try:
            self.sandbox.client("ec2", region).delete_snapshot(SnapshotId=snapshot_id)
        except ClientError as exc:
            if _error_code(exc) != "InvalidSnapshot.NotFound":
                raise

    def create_image(self, region: str, instance_id: str, name: str, tags: dict[str, str]) -> str:
        ec2 = self.sandbox.client("ec2", region)
        spec = [{"ResourceType": "image", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
        try:
            return ec2.create_image(InstanceId=instance_id, Name=name, TagSpecifications=spec)["ImageId"]
        except ClientError as exc:
            if _error_code(exc) in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
                raise LookupError(f"no EC2 instance {instance_id} in {region}") from exc
            raise

    def copy_image(self, region: str, source_region: str, image_id: str, name: str) -> str:
        try:
            return self.sandbox.client("ec2", region).copy_image(
                SourceImageId=image_id, SourceRegion=source_region, Name=name)["ImageId"]
        except ClientError as exc:
            if _error_code(exc) in ("InvalidAMIID.NotFound", "InvalidAMIID.Malformed"):
                raise LookupError(f"no AMI {image_id} in {source_region}") from exc
            raise

    def deregister_image(self, region: str, image_id: str) -> None:
        try:
            self.sandbox.client("ec2", region).deregister_image(ImageId=image_id)
        except ClientError as exc:
            if _error_code(exc) != "InvalidAMIID.NotFound":
                raise


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _is_missing(exc: Exception) -> bool:
    """The version asked for is gone (or is a delete marker, which S3 answers with MethodNotAllowed)."""
    return _error_code(exc) in ("NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404", "MethodNotAllowed", "405")


def wire_item(value: Any) -> Any:
    """A boto3 client's DynamoDB JSON (binary as bytes) -> the wire's (binary base64-encoded)."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: wire_item(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_item(item) for item in value]
    return value


def _client_item(value: Any, binary: bool = False) -> Any:
    """The wire's DynamoDB JSON -> what a boto3 client takes (binary as bytes)."""
    if isinstance(value, dict):
        return {key: _client_item(item, key in ("B", "BS")) for key, item in value.items()}
    if isinstance(value, list):
        return [_client_item(item, binary) for item in value]
    if binary and isinstance(value, str):
        return base64.b64decode(value)
    return value


#: Run before every data write as guard(sandbox, region, method name); a guard raises (botocore's ClientError,
#: as the API would) to refuse the write. The fault layer registers one: a region outage refuses writes there.
_GUARDED_WRITES = frozenset({"put_object", "put_item", "put_items", "delete_items", "delete_object",
                             "delete_object_version", "set_storage_class"})


class GuardedData:
    """A data layer whose writes pass the fault layer's guard first (a region that is down refuses them)."""

    def __init__(self, inner: Any, guard: WriteGuard) -> None:
        self._inner, self._guard = inner, guard

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name not in _GUARDED_WRITES:
            setattr(self, name, method)  # (found once: the engines' bulk work calls these per object)
            return method

        def guarded(region: str, *args: Any, **kwargs: Any) -> Any:
            self._guard(region, name)
            return method(region, *args, **kwargs)

        setattr(self, name, guarded)  # made once: the engines' bulk writes call these per object
        return guarded


def data_layer(sandbox: Sandbox, backend: Any, guard: WriteGuard) -> DataAccess:
    """The sandbox's data layer: the backend's own (moto's models) where it has one, else AWS API calls through
    the sandbox; every write passed through `guard` first."""
    inner = getattr(backend, "data", None) or ApiData(sandbox)
    return GuardedData(inner, guard)  # every DataAccess member, by delegation
