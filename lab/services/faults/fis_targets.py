"""FIS targets: the resource types the sandbox's actions act on, and resolving a target to resource ARNs
(by ARN, by tags, by filters and parameters, then the selection mode), as FIS does when an experiment starts.

Resources are read through the AWS APIs in-process, in the experiment's region.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.port import Sandbox

SELECTION = re.compile(r"^(ALL|COUNT\((\d+)\)|PERCENT\((\d+)\))$")


@dataclass(frozen=True)
class Resource:
    arn: str
    tags: dict[str, str]
    description: dict[str, Any]  # the Describe* output, for filters
    zone: str | None = None  # Availability Zone, for the availabilityZoneIdentifier parameter


@dataclass(frozen=True)
class ResourceType:
    id: str
    description: str
    parameters: dict[str, str]  # target parameter -> description
    lister: Callable[[Any, str], Iterator[Resource]]


def _tags(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    return {pair["Key"]: pair["Value"] for pair in pairs or []}


def _instances(sandbox: Sandbox, region: str) -> Iterator[Resource]:
    ec2 = sandbox.client("ec2", region)
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                if instance["State"]["Name"] in ("terminated", "shutting-down"):
                    continue
                yield Resource(f"arn:aws:ec2:{region}:{config.ACCOUNT_ID}:instance/{instance['InstanceId']}",
                               _tags(instance.get("Tags")), instance, instance["Placement"]["AvailabilityZone"])


def _volumes(sandbox: Sandbox, region: str) -> Iterator[Resource]:
    ec2 = sandbox.client("ec2", region)
    for page in ec2.get_paginator("describe_volumes").paginate():
        for volume in page["Volumes"]:
            yield Resource(f"arn:aws:ec2:{region}:{config.ACCOUNT_ID}:volume/{volume['VolumeId']}",
                           _tags(volume.get("Tags")), volume, volume["AvailabilityZone"])


def _subnets(sandbox: Sandbox, region: str) -> Iterator[Resource]:
    ec2 = sandbox.client("ec2", region)
    for page in ec2.get_paginator("describe_subnets").paginate():
        for subnet in page["Subnets"]:
            yield Resource(subnet.get("SubnetArn")
                           or f"arn:aws:ec2:{region}:{config.ACCOUNT_ID}:subnet/{subnet['SubnetId']}",
                           _tags(subnet.get("Tags")), subnet, subnet["AvailabilityZone"])


def _db_instances(sandbox: Sandbox, region: str) -> Iterator[Resource]:
    rds = sandbox.client("rds", region)
    for page in rds.get_paginator("describe_db_instances").paginate():
        for db in page["DBInstances"]:
            yield Resource(db["DBInstanceArn"], _tags(db.get("TagList")), db, db.get("AvailabilityZone"))


def _buckets(sandbox: Sandbox, region: str) -> Iterator[Resource]:
    s3 = sandbox.client("s3", region)
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        home = bucket.get("BucketRegion")
        if home is None:
            home = s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
        if home != region:
            continue
        try:
            tags = _tags(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
        except ClientError:
            tags = {}
        yield Resource(f"arn:aws:s3:::{name}", tags, {"Name": name, "BucketRegion": home})


def _tables(sandbox: Sandbox, region: str) -> Iterator[Resource]:
    dynamodb = sandbox.client("dynamodb", region)
    for page in dynamodb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            table = dynamodb.describe_table(TableName=name)["Table"]
            tags = _tags(dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags"))
            yield Resource(table["TableArn"], tags, table)


def _roles(sandbox: Sandbox, region: str) -> Iterator[Resource]:
    iam = sandbox.client("iam", region)
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            tags = _tags(iam.list_role_tags(RoleName=role["RoleName"]).get("Tags"))
            yield Resource(role["Arn"], tags, role)


_AZ = {"availabilityZoneIdentifier": "an Availability Zone name (us-east-1a) or id"}
RESOURCE_TYPES: dict[str, ResourceType] = {
    rt.id: rt for rt in (
        ResourceType("aws:ec2:instance", "EC2 instances", {}, _instances),
        ResourceType("aws:ec2:ebs-volume", "EBS volumes", dict(_AZ), _volumes),
        ResourceType("aws:ec2:subnet", "VPC subnets", {**_AZ, "vpc": "the VPC id"}, _subnets),
        ResourceType("aws:rds:db", "RDS DB instances", {}, _db_instances),
        ResourceType("aws:s3:bucket", "S3 buckets", {}, _buckets),
        ResourceType("aws:dynamodb:global-table", "DynamoDB global tables", {}, _tables),
        ResourceType("aws:iam:role", "IAM roles", {}, _roles),
    )
}


def validate_target(name: str, target: dict[str, Any]) -> None:
    """ValueError naming what is wrong with a template's target (FIS's ValidationException)."""
    resource_type = target.get("resourceType")
    if resource_type not in RESOURCE_TYPES:
        raise ValueError(f"Target {name}: resource type {resource_type!r} is not supported by the sandbox; "
                         f"supported: {', '.join(sorted(RESOURCE_TYPES))}")
    arns, tags, parameters = target.get("resourceArns"), target.get("resourceTags"), target.get("parameters")
    if arns and tags:
        raise ValueError(f"Target {name}: specify resourceArns or resourceTags, not both")
    if not (arns or tags or parameters or target.get("filters")):
        raise ValueError(f"Target {name}: specify resourceArns, resourceTags, filters or parameters")
    known = RESOURCE_TYPES[resource_type].parameters
    for key in parameters or {}:
        if key not in known:
            raise ValueError(f"Target {name}: unknown parameter {key!r} for {resource_type}"
                             + (f"; known: {', '.join(known)}" if known else "; it takes none"))
    if not SELECTION.match(str(target.get("selectionMode", ""))):
        raise ValueError(f"Target {name}: selectionMode must be ALL, COUNT(n) or PERCENT(n), "
                         f"not {target.get('selectionMode')!r}")
    for item in target.get("filters") or []:
        if not item.get("path") or not item.get("values"):
            raise ValueError(f"Target {name}: every filter needs a path and values")


def resolve(sandbox: Sandbox, region: str, name: str, target: dict[str, Any], seed: str) -> list[str]:
    """The ARNs `target` selects now, in a stable order; COUNT and PERCENT pick deterministically from `seed`."""
    spec = RESOURCE_TYPES[target["resourceType"]]
    wanted_arns = set(target.get("resourceArns") or [])
    wanted_tags = target.get("resourceTags") or {}
    parameters = target.get("parameters") or {}
    zone = parameters.get("availabilityZoneIdentifier")
    vpc = parameters.get("vpc")
    chosen = []
    for resource in spec.lister(sandbox, region):
        if wanted_arns and resource.arn not in wanted_arns:
            continue
        if any(resource.tags.get(key) != value for key, value in wanted_tags.items()):
            continue
        if zone and resource.zone != zone and resource.description.get("AvailabilityZoneId") != zone:
            continue
        if vpc and resource.description.get("VpcId") != vpc:
            continue
        if not all(_matches_filter(resource.description, item) for item in target.get("filters") or []):
            continue
        chosen.append(resource.arn)
    missing = wanted_arns - set(chosen)
    if missing:
        raise LookupError(f"Target {name}: {', '.join(sorted(missing))} not found in {region}")
    chosen.sort()
    return _select(chosen, str(target.get("selectionMode", "ALL")), seed)


def _select(arns: list[str], mode: str, seed: str) -> list[str]:
    match = SELECTION.match(mode)
    assert match is not None  # validated when the template was created
    if mode == "ALL":
        return arns
    # COUNT(n), or PERCENT(p) rounded up, as FIS rounds
    count = int(match.group(2)) if match.group(2) is not None else -(-len(arns) * int(match.group(3)) // 100)
    count = min(count, len(arns))
    return sorted(random.Random(seed).sample(arns, count))


def _matches_filter(description: dict[str, Any], item: dict[str, Any]) -> bool:
    values = {str(value) for value in item["values"]}
    return any(str(found) in values for found in _walk(description, item["path"].split(".")))


def _walk(value: Any, path: list[str]) -> Iterator[Any]:
    if not path:
        if isinstance(value, list):
            yield from value
        else:
            yield value
        return
    if isinstance(value, list):
        for element in value:
            yield from _walk(element, path)
    elif isinstance(value, dict) and path[0] in value:
        yield from _walk(value[path[0]], path[1:])


def resource_id(arn: str) -> str:
    """The resource's own id or name from its ARN (i-..., vol-..., a bucket or table name, a DB identifier)."""
    if arn.startswith("arn:aws:s3:::"):
        return arn[len("arn:aws:s3:::"):]
    tail = arn.split(":", 5)[5] if arn.count(":") >= 5 else arn
    for separator in ("/", ":"):
        if separator in tail:
            return tail.split(separator, 1)[1]
    return tail
