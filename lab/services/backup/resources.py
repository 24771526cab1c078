"""What AWS Backup can protect in the sandbox: resource ARNs, the inventory of resources with their tags,
and how a backup selection (Resources, ListOfTags, Conditions, NotResources) picks from it.

The inventory is read through the AWS APIs (in-process) and kept until an answered call may have changed
resources or their tags, so hourly schedules cost nothing while the world stands still.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError

from lab import config
from lab.backends.support import unsupported_error

log = logging.getLogger("lab.services.backup.engine")
#: AWS Backup ResourceType values the lab's inventory knows, with the ARN shapes that name them
RESOURCE_TYPES = ("RDS", "DynamoDB", "EBS", "EC2", "S3")
_ARN_TYPES = (
    (re.compile(r"^arn:aws:rds:([a-z0-9-]+):(\d{12}):db:([A-Za-z0-9-]+)$"), "RDS"),
    (re.compile(r"^arn:aws:rds:([a-z0-9-]+):(\d{12}):cluster:([A-Za-z0-9-]+)$"), "Aurora"),
    (re.compile(r"^arn:aws:dynamodb:([a-z0-9-]+):(\d{12}):table/([A-Za-z0-9_.-]+)$"), "DynamoDB"),
    (re.compile(r"^arn:aws:ec2:([a-z0-9-]+):(\d{12}):volume/(vol-[0-9a-f]+)$"), "EBS"),
    (re.compile(r"^arn:aws:ec2:([a-z0-9-]+):(\d{12}):instance/(i-[0-9a-f]+)$"), "EC2"),
    (re.compile(r"^arn:aws:s3:::()()([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$"), "S3"),
    (re.compile(r"^arn:aws:elasticfilesystem:([a-z0-9-]+):(\d{12}):file-system/(fs-[0-9a-f]+)$"), "EFS"),
)
TAG_CONDITION_PREFIX = "aws:ResourceTag/"
# Substrings of operation names (per service) that can add, remove or retag protectable resources.
_INVENTORY_CHANGES = {
    "ec2": ("Volume", "Instances", "Tags"),
    "rds": ("DBInstance", "DBCluster", "Tags"),
    "dynamodb": ("Table", "TagResource", "UntagResource"),
    "s3": ("CreateBucket", "DeleteBucket", "BucketTagging"),
}


@dataclass(frozen=True)
class ResourceArn:
    arn: str
    resource_type: str
    region: str | None  # None for S3 buckets (their ARNs name no region)
    resource_id: str


def parse_arn(arn: str) -> ResourceArn | None:
    for pattern, kind in _ARN_TYPES:
        found = pattern.match(arn or "")
        if found:
            return ResourceArn(arn, kind, found.group(1) or None, found.group(3))
    return None


@dataclass
class Resource:
    arn: str
    resource_type: str
    region: str
    resource_id: str
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    encrypted: bool = False
    kms_key_id: str | None = None


class Inventory:
    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self._by_region: dict[str, list[Resource]] = {}
        self._by_arn: dict[str, dict[str, Resource]] = {}  # region -> ARN -> resource
        self._lab: Any = None

    def invalidate(self) -> None:
        self._by_region.clear()
        self._by_arn.clear()

    def observe(self, service: str | None, operation: str | None, form: dict[str, list[str]]) -> None:
        """An answered state-changing call; `form` is its query-protocol parameters (EC2's)."""
        words = _INVENTORY_CHANGES.get(service or "")
        if not (words and operation and any(word in operation for word in words)):
            return
        if operation in ("CreateTags", "DeleteTags"):
            tagged = [v for key, values in form.items() if key.startswith("ResourceId") for v in values]
            if tagged and not any(v.startswith(("vol-", "i-")) for v in tagged):
                return  # snapshots or images retagged: nothing AWS Backup protects changed
        self.invalidate()

    def resources(self, region: str) -> list[Resource]:
        if self._lab is not self.sandbox.lab:  # a reset or a restore: nothing cached is valid
            self._lab = self.sandbox.lab
            self.invalidate()
        found = self._by_region.get(region)
        if found is None:
            found, failures = [], 0
            for read in (self._rds, self._dynamodb, self._ec2, self._s3):
                try:
                    found.extend(read(region))
                except ClientError as exc:  # one service failing to answer must not stop the others' backups
                    if unsupported_error(exc):
                        continue  # the backend has no such service (RDS on LocalStack's free build): nothing to back up
                    log.warning("AWS Backup could not list %s resources in %s", read.__name__[1:], region,
                                exc_info=True)
                    failures += 1
            found.sort(key=lambda r: r.arn)
            if not failures:
                self._by_region[region] = found
        return found

    def find(self, arn: str, region: str) -> Resource | None:
        resources = self.resources(region)
        index = self._by_arn.get(region)
        if index is None or region not in self._by_region:
            index = {resource.arn: resource for resource in resources}
            if region in self._by_region:
                self._by_arn[region] = index
        return index.get(arn)

    def _rds(self, region: str) -> list[Resource]:
        return [Resource(db["DBInstanceArn"], "RDS", region, db["DBInstanceIdentifier"], db["DBInstanceIdentifier"],
                         _tags(db.get("TagList")), bool(db.get("StorageEncrypted")), db.get("KmsKeyId"))
                for db in _all(self.sandbox.client("rds", region), "describe_db_instances", "DBInstances")]

    def _dynamodb(self, region: str) -> Iterable[Resource]:
        dynamodb = self.sandbox.client("dynamodb", region)
        for name in _all(dynamodb, "list_tables", "TableNames"):
            try:
                table = dynamodb.describe_table(TableName=name)["Table"]
                tags = dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
            except ClientError:
                continue  # deleted between the two calls
            # DynamoDB always encrypts at rest, with an AWS owned key unless a KMS key is named
            sse = table.get("SSEDescription") or {}
            yield Resource(table["TableArn"], "DynamoDB", region, name, name, _tags(tags), True,
                           sse.get("KMSMasterKeyArn"))

    def _ec2(self, region: str) -> Iterable[Resource]:
        account = config.ACCOUNT_ID
        ec2 = self.sandbox.client("ec2", region)
        for volume in _all(ec2, "describe_volumes", "Volumes"):
            tags = _tags(volume.get("Tags"))
            yield Resource(f"arn:aws:ec2:{region}:{account}:volume/{volume['VolumeId']}", "EBS", region,
                           volume["VolumeId"], tags.get("Name", volume["VolumeId"]), tags,
                           bool(volume.get("Encrypted")), volume.get("KmsKeyId"))
        reservations = _all(ec2, "describe_instances", "Reservations", Filters=[
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
        for reservation in reservations:
            for instance in reservation["Instances"]:
                tags = _tags(instance.get("Tags"))
                yield Resource(f"arn:aws:ec2:{region}:{account}:instance/{instance['InstanceId']}", "EC2", region,
                               instance["InstanceId"], tags.get("Name", instance["InstanceId"]), tags)

    def _s3(self, region: str) -> Iterable[Resource]:
        s3 = self.sandbox.client("s3", region)
        for bucket in s3.list_buckets(BucketRegion=region).get("Buckets", []):
            name = bucket["Name"]
            try:
                tags = s3.get_bucket_tagging(Bucket=name).get("TagSet", [])
            except ClientError:
                tags = []  # NoSuchTagSet
            # AWS Backup encrypts S3 recovery points with the vault's key whatever the bucket uses
            yield Resource(f"arn:aws:s3:::{name}", "S3", region, name, name, _tags(tags), True)


def _all(client: Any, method: str, key: str, **kwargs: Any) -> list[Any]:
    if client.can_paginate(method):
        return [item for page in client.get_paginator(method).paginate(**kwargs) for item in page.get(key, [])]
    return list(getattr(client, method)(**kwargs).get(key, []))


def _tags(tag_list: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in tag_list or []}


# -- selections ------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    """AWS Backup patterns know one wildcard, '*' (any characters)."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def wildcard_match(pattern: str, value: str) -> bool:
    return _wildcard(pattern).fullmatch(value) is not None


def tag_key(condition_key: str) -> str:
    return condition_key.removeprefix(TAG_CONDITION_PREFIX)


def selects(selection: dict[str, Any], resource: Resource) -> bool:
    """Whether a backup selection (BackupSelection shape) assigns `resource`, as AWS Backup decides:
    (Resources or ListOfTags) and every Conditions entry, minus NotResources."""
    resources = selection.get("Resources") or []
    list_of_tags = selection.get("ListOfTags") or []
    conditions = selection.get("Conditions") or {}
    if any(wildcard_match(pattern, resource.arn) for pattern in selection.get("NotResources") or []):
        return False
    if resources or list_of_tags:
        chosen = any(wildcard_match(pattern, resource.arn) for pattern in resources) or any(
            resource.tags.get(tag_key(c["ConditionKey"])) == c["ConditionValue"] for c in list_of_tags)
        if not chosen:
            return False
    elif not any(conditions.get(kind) for kind in ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")):
        return False
    for condition in conditions.get("StringEquals") or []:
        if resource.tags.get(tag_key(condition["ConditionKey"])) != condition["ConditionValue"]:
            return False
    for condition in conditions.get("StringNotEquals") or []:
        if resource.tags.get(tag_key(condition["ConditionKey"])) == condition["ConditionValue"]:
            return False
    for condition in conditions.get("StringLike") or []:
        value = resource.tags.get(tag_key(condition["ConditionKey"]))
        if value is None or not wildcard_match(condition["ConditionValue"], value):
            return False
    for condition in conditions.get("StringNotLike") or []:
        value = resource.tags.get(tag_key(condition["ConditionKey"]))
        if value is not None and wildcard_match(condition["ConditionValue"], value):
            return False
    return True
