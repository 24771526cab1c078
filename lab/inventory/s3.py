"""S3 into the inventory (checks.inventory.s3): each bucket's configuration, and with part "s3.objects" a
summary of its objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from checks.inventory.s3 import S3, Bucket, Invoices, ObjectLock, Objects, Replication, ReplicationRule
from lab.inventory.convert import by_key, iso, tag_dict

if TYPE_CHECKING:
    from lab.inventory.collector import Collector


def collect(c: Collector, region: str) -> S3:
    s3 = c.client("s3", region)
    listed = s3.list_buckets(BucketRegion=region)["Buckets"]
    return S3(buckets=by_key((entry["Name"], bucket(c, s3, region, entry["Name"], entry.get("CreationDate")))
                             for entry in listed))


def bucket(c: Collector, s3: Any, region: str, name: str, created: Any) -> Bucket:
    part = f"bucket {name}"
    versioning = c.attempt("s3", region, part, lambda: s3.get_bucket_versioning(Bucket=name), {})
    replication = c.attempt("s3", region, part, lambda: c.optional(
        lambda: s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"],
        "ReplicationConfigurationNotFoundError"), None)
    lock = c.attempt("s3", region, part, lambda: c.optional(
        lambda: s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"],
        "ObjectLockConfigurationNotFoundError"), None)
    lifecycle = c.attempt("s3", region, part, lambda: c.optional(
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"], "NoSuchLifecycleConfiguration"), None)
    tags = c.attempt("s3", region, part, lambda: c.optional(
        lambda: s3.get_bucket_tagging(Bucket=name)["TagSet"], "NoSuchTagSet"), None)
    retention = ((lock or {}).get("Rule") or {}).get("DefaultRetention") or {}
    objects = None
    if c.wants("s3.objects"):
        # (unreadable objects count as an empty bucket, as a listing that failed half-way would show it)
        objects = c.attempt("s3", region, f"objects of {name}", lambda: c.source.objects(region, name),
                            Objects(invoices=Invoices()))
    return Bucket(
        name=name, region=region, arn=f"arn:aws:s3:::{name}", created=iso(created), tags=tag_dict(tags),
        versioning=versioning.get("Status") or "Off", mfa_delete=versioning.get("MFADelete"),
        replication=replication_of(replication) if replication else None,
        object_lock=ObjectLock(enabled=(lock or {}).get("ObjectLockEnabled") == "Enabled",
                               mode=retention.get("Mode"), days=retention.get("Days"), years=retention.get("Years")),
        lifecycle=list(lifecycle or []), objects=objects)


def replication_of(configuration: Mapping[str, Any]) -> Replication:
    rules = []
    for rule in configuration.get("Rules", []):
        filter_ = rule.get("Filter")
        tags: dict[str, str] = {}
        if filter_ is None:
            prefix = rule.get("Prefix")  # the V1 schema: a prefix on the rule itself
        else:
            conjunction = filter_.get("And") or {}
            prefix = filter_.get("Prefix", conjunction.get("Prefix"))
            tags = tag_dict([filter_["Tag"]] if filter_.get("Tag") else conjunction.get("Tags"))
        destination = rule.get("Destination") or {}
        bucket_arn = destination.get("Bucket", "")
        replication_time = destination.get("ReplicationTime") or {}
        rules.append(ReplicationRule(
            id=rule.get("ID"), status=rule.get("Status"), priority=rule.get("Priority"), prefix=prefix or None,
            tags=tags, destination_arn=bucket_arn,
            destination_bucket=bucket_arn.split(":::")[-1] if bucket_arn else None,
            storage_class=destination.get("StorageClass"),
            delete_marker_replication=(rule.get("DeleteMarkerReplication") or {}).get(
                "Status", "Enabled" if filter_ is None else "Disabled"),
            replication_time=replication_time.get("Status") == "Enabled",
            replication_time_minutes=(replication_time.get("Time") or {}).get("Minutes"),
            metrics=(destination.get("Metrics") or {}).get("Status") == "Enabled",
            existing_objects=(rule.get("ExistingObjectReplication") or {}).get("Status") == "Enabled"))
    return Replication(role=configuration.get("Role"), rules=rules)
