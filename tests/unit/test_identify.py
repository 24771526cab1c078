"""Tests for lab.gateway.codec.identify, driven by requests that botocore really builds.

Every request is produced by a boto3 client (endpoint http://127.0.0.1:4566 or
http://localhost:4566, dummy credentials) and intercepted in ``before-send``,
so it carries exactly the method, path, query, headers and body that would go
on the wire; nothing is sent anywhere.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore
import botocore.model
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from lab.gateway.codec.identify import identify, service_model
from lab.kernel.context import Identity

ENDPOINT = "http://127.0.0.1:4566"
VHOST_ENDPOINT = "http://localhost:4566"  # virtual-host S3 -> Host: bucket.localhost:4566
REGIONS = ("us-east-1", "us-west-2")
BUCKET = "lab-bucket"
KEY = "dir/sub dir/file name+1.txt"  # slashes, spaces and a plus sign


# --------------------------------------------------------------------------
# Capturing botocore's requests


@dataclass(frozen=True)
class Wire:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    url: str

    def identify(self, default_region: str = "us-east-1") -> Identity:
        return identify(self.method, self.path, self.query, self.headers, self.body, default_region)


class _CapturedError(Exception):
    # Raised from before-send: nothing is sent, and no (meaningless) fake
    # response has to be parsed for every operation.
    def __init__(self, wire: Wire) -> None:
        super().__init__(wire.url)
        self.wire = wire


def _to_wire(request: Any) -> Wire:
    url = urlsplit(request.url)
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = {
        k: v.decode("latin-1") if isinstance(v, bytes) else v for k, v in request.headers.items()
    }
    headers["Host"] = url.netloc  # added by the HTTP layer, as a server would see it
    return Wire(request.method, url.path, url.query, headers, body, request.url)


def _raise_captured(request: Any, **_: Any) -> None:
    raise _CapturedError(_to_wire(request))


_session = boto3.session.Session()


@cache
def client(service: str, region: str, style: str = "path", signed: bool = True) -> Any:
    config = Config(
        retries={"max_attempts": 1},
        s3={"addressing_style": style},
        signature_version=None if signed else UNSIGNED,
    )
    c = _session.client(
        service,
        region_name=region,
        endpoint_url=VHOST_ENDPOINT if style == "virtual" else ENDPOINT,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )
    c.meta.events.register("before-send", _raise_captured)
    return c


def capture(c: Any, operation: str, params: dict[str, Any]) -> Wire:
    method = getattr(c, botocore.xform_name(operation))
    with pytest.raises(_CapturedError) as captured:
        method(**params)
    return captured.value.wire


# --------------------------------------------------------------------------
# Minimal valid parameters from an input shape

_NAMED_VALUES: dict[str, Any] = {
    "Bucket": BUCKET,
    "Key": KEY,
    "CopySource": "src-bucket/src key.txt",
    "RequestRoute": "route-1",
    "RequestToken": "token-1",
}


def placeholder(shape: botocore.model.Shape, name: str = "", depth: int = 0) -> Any:
    """A value of the right type that passes botocore's parameter validation."""
    if name in _NAMED_VALUES and shape.type_name == "string":
        return _NAMED_VALUES[name]
    minimum = shape.metadata.get("min", 0)
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return {}
        members = shape.members
        if shape.is_tagged_union:
            first = next(iter(members))
            return {first: placeholder(members[first], first, depth + 1)}
        return {m: placeholder(members[m], m, depth + 1) for m in shape.required_members}
    if kind == "list":
        # One element at least: botocore omits an empty list bound to a header
        # (S3 GetObjectAttributes' required x-amz-object-attributes).
        count = max(int(minimum), 1) if depth < 6 else int(minimum)
        return [placeholder(shape.member, name, depth + 1) for _ in range(count)]
    if kind == "map":
        return {
            f"k{i}": placeholder(shape.value, name, depth + 1) for i in range(int(minimum))
        }
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        return "placeholder".ljust(int(minimum), "x")
    if kind in ("integer", "long"):
        return max(int(minimum), 1)
    if kind in ("float", "double"):
        return max(float(minimum), 1.0)
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    if kind == "blob":
        return io.BytesIO(b"data") if shape.serialization.get("streaming") else b"data"
    raise AssertionError(f"unhandled shape type {kind}")


def minimal_params(service: str, operation: str) -> dict[str, Any]:
    shape = service_model(service).operation_model(operation).input_shape
    return placeholder(shape) if shape is not None else {}


# --------------------------------------------------------------------------
# Named scenarios, in both regions

PUT_BODY = b"hello"
LIFECYCLE = {
    "Rules": [
        {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}
    ]
}
REPLICATION = {
    "Role": "arn:aws:iam::000000000000:role/replication",
    "Rules": [
        {
            "Status": "Enabled",
            "Priority": 1,
            "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": "arn:aws:s3:::dr-bucket"},
        }
    ],
}

S3_SCENARIOS: list[tuple[str, dict[str, Any]]] = [
    ("ListBuckets", {}),
    ("CreateBucket", {"Bucket": BUCKET, "CreateBucketConfiguration": {"LocationConstraint": "us-west-2"}}),
    ("PutObject", {"Bucket": BUCKET, "Key": KEY, "Body": PUT_BODY}),
    ("GetObject", {"Bucket": BUCKET, "Key": KEY}),
    ("HeadObject", {"Bucket": BUCKET, "Key": KEY}),
    ("DeleteObject", {"Bucket": BUCKET, "Key": KEY}),
    ("ListObjectVersions", {"Bucket": BUCKET, "Prefix": "dir/"}),
    ("ListObjectsV2", {"Bucket": BUCKET}),
    ("ListObjects", {"Bucket": BUCKET}),
    ("PutBucketVersioning", {"Bucket": BUCKET, "VersioningConfiguration": {"Status": "Enabled"}}),
    ("GetBucketVersioning", {"Bucket": BUCKET}),
    ("PutBucketReplication", {"Bucket": BUCKET, "ReplicationConfiguration": REPLICATION}),
    ("GetBucketReplication", {"Bucket": BUCKET}),
    ("PutBucketLifecycleConfiguration", {"Bucket": BUCKET, "LifecycleConfiguration": LIFECYCLE}),
    ("CreateMultipartUpload", {"Bucket": BUCKET, "Key": KEY}),
    ("UploadPart", {"Bucket": BUCKET, "Key": KEY, "UploadId": "u-1", "PartNumber": 1, "Body": PUT_BODY}),
    (
        "CompleteMultipartUpload",
        {
            "Bucket": BUCKET,
            "Key": KEY,
            "UploadId": "u-1",
            "MultipartUpload": {"Parts": [{"ETag": '"etag"', "PartNumber": 1}]},
        },
    ),
    ("ListParts", {"Bucket": BUCKET, "Key": KEY, "UploadId": "u-1"}),
    ("CopyObject", {"Bucket": BUCKET, "Key": KEY, "CopySource": {"Bucket": "src", "Key": "a/b c"}}),
    ("DeleteObjects", {"Bucket": BUCKET, "Delete": {"Objects": [{"Key": KEY}, {"Key": "other"}]}}),
    (
        "PutObjectLockConfiguration",
        {
            "Bucket": BUCKET,
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
            },
        },
    ),
]

_BUCKET_LESS = {"ListBuckets"}


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("style", ["path", "virtual"])
@pytest.mark.parametrize(("operation", "params"), S3_SCENARIOS, ids=[s[0] for s in S3_SCENARIOS])
def test_s3(operation: str, params: dict[str, Any], style: str, region: str) -> None:
    wire = capture(client("s3", region, style), operation, params)
    if style == "virtual" and operation not in _BUCKET_LESS:
        assert wire.headers["Host"] == f"{BUCKET}.localhost:4566"  # really virtual-hosted
    ident = wire.identify()
    assert (ident.service, ident.operation, ident.region) == ("s3", operation, region)
    assert (ident.protocol, ident.signing_name) == ("rest-xml", "s3")
    assert ident.bucket == (None if operation in _BUCKET_LESS else BUCKET)
    assert ident.key == params.get("Key")


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("style", ["path", "virtual"])
def test_s3_presigned_get(region: str, style: str) -> None:
    c = _session.client(
        "s3",
        region_name=region,
        endpoint_url=VHOST_ENDPOINT if style == "virtual" else ENDPOINT,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4", s3={"addressing_style": style}),
    )
    url = c.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=60)
    parts = urlsplit(url)
    assert "X-Amz-Credential=" in parts.query
    ident = identify("GET", parts.path, parts.query, {"Host": parts.netloc}, b"", "eu-central-1")
    assert (ident.service, ident.operation, ident.region) == ("s3", "GetObject", region)
    assert (ident.bucket, ident.key, ident.signing_name) == (BUCKET, KEY, "s3")


def test_s3_presigned_sigv2_url_uses_default_region() -> None:
    # botocore still presigns with SigV2 ("AWSAccessKeyId=...&Signature=...")
    # when no signature version is configured: no region in it.
    url = client("s3", "us-east-1").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}
    )
    parts = urlsplit(url)
    assert "AWSAccessKeyId=" in parts.query
    ident = identify("GET", parts.path, parts.query, {"Host": parts.netloc}, b"", "eu-central-1")
    assert (ident.service, ident.operation, ident.region) == ("s3", "GetObject", "eu-central-1")
    assert (ident.bucket, ident.key, ident.signing_name) == (BUCKET, KEY, "s3")


@pytest.mark.parametrize(
    "host",
    [
        f"{BUCKET}.s3.localhost.localstack.cloud:4566",
        f"{BUCKET}.localhost:4566",
        f"{BUCKET}.s3.amazonaws.com",
        f"{BUCKET}.s3.us-west-2.amazonaws.com",
        f"{BUCKET}.s3-us-west-2.amazonaws.com",
    ],
)
def test_s3_virtual_host_names(host: str) -> None:
    wire = capture(client("s3", "us-west-2"), "GetObject", {"Bucket": BUCKET, "Key": KEY})
    path = wire.path.removeprefix(f"/{BUCKET}")  # rewrite the path-style request as vhost
    ident = identify(wire.method, path, wire.query, {**wire.headers, "Host": host}, b"")
    assert (ident.operation, ident.bucket, ident.key) == ("GetObject", BUCKET, KEY)


@pytest.mark.parametrize(
    "host", ["s3.localhost.localstack.cloud:4566", "localhost:4566", "127.0.0.1:4566", "s3.amazonaws.com"]
)
def test_s3_endpoint_hosts_are_not_buckets(host: str) -> None:
    wire = capture(client("s3", "us-west-2"), "ListBuckets", {})
    ident = identify(wire.method, wire.path, wire.query, {**wire.headers, "Host": host}, b"")
    assert (ident.operation, ident.bucket) == ("ListBuckets", None)


SCENARIOS: list[tuple[str, str, dict[str, Any]]] = [
    ("dynamodb", "CreateTable", {
        "TableName": "orders",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }),
    ("dynamodb", "PutItem", {"TableName": "orders", "Item": {"pk": {"S": "1"}}}),
    ("dynamodb", "GetItem", {"TableName": "orders", "Key": {"pk": {"S": "1"}}}),
    ("dynamodb", "Query", {
        "TableName": "orders",
        "KeyConditionExpression": "pk = :v",
        "ExpressionAttributeValues": {":v": {"S": "1"}},
    }),
    ("dynamodb", "UpdateTable", {"TableName": "orders", "StreamSpecification": {
        "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}),
    ("dynamodb", "DescribeContinuousBackups", {"TableName": "orders"}),
    ("dynamodb", "UpdateContinuousBackups", {
        "TableName": "orders",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }),
    ("dynamodb", "RestoreTableToPointInTime", {
        "SourceTableName": "orders", "TargetTableName": "orders-restored", "UseLatestRestorableTime": True}),
    ("dynamodbstreams", "ListStreams", {"TableName": "orders"}),
    ("rds", "DescribeDBInstances", {}),
    ("rds", "CreateDBSnapshot", {"DBSnapshotIdentifier": "snap-1", "DBInstanceIdentifier": "db-1"}),
    ("rds", "RestoreDBInstanceToPointInTime", {
        "SourceDBInstanceIdentifier": "db-1", "TargetDBInstanceIdentifier": "db-2", "UseLatestRestorableTime": True}),
    ("rds", "CopyDBSnapshot", {
        "SourceDBSnapshotIdentifier": "arn:aws:rds:us-east-1:000000000000:snapshot:snap-1",
        "TargetDBSnapshotIdentifier": "snap-1-copy",
        "SourceRegion": "us-east-1",  # makes botocore inject a presigned URL
    }),
    ("ec2", "DescribeVolumes", {"VolumeIds": ["vol-1"]}),
    ("ec2", "CreateSnapshot", {"VolumeId": "vol-1", "Description": "before drill"}),
    ("ec2", "CopySnapshot", {"SourceRegion": "us-east-1", "SourceSnapshotId": "snap-1"}),
    ("backup", "CreateBackupVault", {"BackupVaultName": "vault"}),
    ("backup", "CreateBackupPlan", {"BackupPlan": {"BackupPlanName": "daily", "Rules": [
        {"RuleName": "r", "TargetBackupVaultName": "vault", "ScheduleExpression": "cron(0 5 ? * * *)"}]}}),
    ("backup", "GetBackupPlan", {"BackupPlanId": "plan-1"}),
    ("backup", "CreateBackupSelection", {"BackupPlanId": "plan-1", "BackupSelection": {
        "SelectionName": "all", "IamRoleArn": "arn:aws:iam::000000000000:role/backup",
        "Resources": ["arn:aws:dynamodb:us-east-1:000000000000:table/orders"]}}),
    ("backup", "StartBackupJob", {
        "BackupVaultName": "vault",
        "ResourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/orders",
        "IamRoleArn": "arn:aws:iam::000000000000:role/backup"}),
    ("backup", "ListRecoveryPointsByBackupVault", {"BackupVaultName": "vault"}),
    ("backup", "DescribeRecoveryPoint", {
        "BackupVaultName": "vault", "RecoveryPointArn": "arn:aws:backup:us-east-1:000000000000:recovery-point:1"}),
    ("backup", "DeleteRecoveryPoint", {
        "BackupVaultName": "vault", "RecoveryPointArn": "arn:aws:backup:us-east-1:000000000000:recovery-point:1"}),
    ("backup", "PutBackupVaultLockConfiguration", {"BackupVaultName": "vault", "MinRetentionDays": 7}),
    ("backup", "CreateFramework", {"FrameworkName": "fw", "FrameworkControls": [
        {"ControlName": "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK"}]}),
    ("backup", "DescribeFramework", {"FrameworkName": "fw"}),
    ("backup", "StartRestoreJob", {
        "RecoveryPointArn": "arn:aws:backup:us-east-1:000000000000:recovery-point:1",
        "Metadata": {"TargetTableName": "orders-restored"},
        "IamRoleArn": "arn:aws:iam::000000000000:role/backup"}),
    ("fis", "CreateExperimentTemplate", {
        "clientToken": "t", "description": "az outage", "stopConditions": [{"source": "none"}],
        "actions": {"stop": {"actionId": "aws:ec2:stop-instances"}},
        "roleArn": "arn:aws:iam::000000000000:role/fis"}),
    ("fis", "StartExperiment", {"experimentTemplateId": "EXT1", "clientToken": "t"}),
    ("fis", "GetExperiment", {"id": "EXP1"}),
    ("fis", "StopExperiment", {"id": "EXP1"}),
    ("fis", "ListExperiments", {}),
    ("route53", "CreateHostedZone", {"Name": "lab.example.", "CallerReference": "ref-1"}),
    ("route53", "ChangeResourceRecordSets", {"HostedZoneId": "/hostedzone/Z1", "ChangeBatch": {"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": "app.lab.example.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.1"}]}}]}}),
    ("route53", "CreateHealthCheck", {"CallerReference": "hc-1", "HealthCheckConfig": {
        "Type": "HTTP", "FullyQualifiedDomainName": "app.lab.example", "Port": 80}}),
    ("route53", "GetHealthCheckStatus", {"HealthCheckId": "hc-1"}),
    ("route53", "TestDNSAnswer", {"HostedZoneId": "Z1", "RecordName": "app.lab.example.", "RecordType": "A"}),
    ("cloudtrail", "CreateTrail", {"Name": "trail", "S3BucketName": "trail-bucket"}),
    ("cloudtrail", "LookupEvents", {}),
    ("sts", "GetCallerIdentity", {}),
    ("iam", "CreateRole", {"RoleName": "dr", "AssumeRolePolicyDocument": "{}"}),
    ("kms", "CreateKey", {}),
    ("dlm", "CreateLifecyclePolicy", {
        "ExecutionRoleArn": "arn:aws:iam::000000000000:role/dlm", "Description": "daily", "State": "ENABLED",
        "PolicyDetails": {"ResourceTypes": ["VOLUME"], "TargetTags": [{"Key": "dr", "Value": "yes"}]}}),
    ("cloudwatch", "PutMetricData", {"Namespace": "Lab", "MetricData": [{"MetricName": "m", "Value": 1.0}]}),
    ("logs", "CreateLogGroup", {"logGroupName": "/lab/app"}),
    ("logs", "PutLogEvents", {"logGroupName": "/lab/app", "logStreamName": "s", "logEvents": [
        {"timestamp": 1, "message": "hi"}]}),
]


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(
    ("service", "operation", "params"), SCENARIOS, ids=[f"{s}.{o}" for s, o, _ in SCENARIOS]
)
def test_scenarios(service: str, operation: str, params: dict[str, Any], region: str) -> None:
    wire = capture(client(service, region), operation, params)
    ident = wire.identify()
    assert (ident.service, ident.operation, ident.region) == (service, operation, region)
    model = service_model(service)
    assert ident.signing_name == model.signing_name
    assert ident.protocol == model.resolved_protocol  # what botocore 1.43 sends
    assert (ident.bucket, ident.key) == (None, None)


# --------------------------------------------------------------------------
# Every operation of the DR services


EXHAUSTIVE = ("s3", "dynamodb", "rds", "ec2", "backup", "fis", "route53", "cloudtrail", "dlm")

# Operations whose requests are byte-for-byte indistinguishable from another
# operation's (same method, URI template and required members; the difference
# lies only in the body or in optional members).  identify() returns the
# non-deprecated / alphabetically first operation; values say which.
KNOWN_AMBIGUITIES: dict[tuple[str, str], str] = {
    # Deprecated S3 aliases with the same wire format as their successors.
    ("s3", "GetBucketLifecycle"): "GetBucketLifecycleConfiguration",
    ("s3", "PutBucketLifecycle"): "PutBucketLifecycleConfiguration",
    ("s3", "GetBucketNotification"): "GetBucketNotificationConfiguration",
    ("s3", "PutBucketNotification"): "PutBucketNotificationConfiguration",
    # Same "GET /"; directory buckets only differ by endpoint (s3express-control).
    ("s3", "ListDirectoryBuckets"): "ListBuckets",
}


def _check_operation(service: str, operation: str, style: str, region: str) -> str | None:
    """None if identify() recognises botocore's request for the operation, else why not."""
    params = minimal_params(service, operation)
    wire = capture(client(service, region, style), operation, params)
    ident = wire.identify()
    expected = (
        service,
        KNOWN_AMBIGUITIES.get((service, operation), operation),
        region,
        service_model(service).resolved_protocol,
        BUCKET if service == "s3" and "Bucket" in params else None,
        KEY if service == "s3" and "Key" in params else None,
    )
    got = (ident.service, ident.operation, ident.region, ident.protocol, ident.bucket, ident.key)
    if got == expected:
        return None
    return f"{operation}: expected {expected}, got {got} for {wire.method} {wire.url} {wire.headers}"


# One test per service (not per operation): ~1,500 pytest items would cost
# more in per-test overhead than the checks themselves.  Every mismatch is
# reported, one line per operation.
@pytest.mark.parametrize(
    ("service", "style"),
    [(s, "path") for s in EXHAUSTIVE] + [("s3", "virtual")],
)
def test_every_operation(service: str, style: str) -> None:
    operations = sorted(service_model(service).operation_names)
    mismatches = []
    for i, operation in enumerate(operations):
        region = REGIONS[i % 2]  # alternate regions across operations
        problem = _check_operation(service, operation, style, region)
        if problem:
            mismatches.append(problem)
    assert not mismatches, f"{len(mismatches)}/{len(operations)} not identified:\n" + "\n".join(
        mismatches
    )


def test_known_ambiguities_are_real() -> None:
    # Each listed pair must really share method and URI; otherwise the entry is stale.
    for (service, op), winner in KNOWN_AMBIGUITIES.items():
        model = service_model(service)
        a, b = model.operation_model(op).http, model.operation_model(winner).http
        assert (a["method"], a["requestUri"]) == (b["method"], b["requestUri"]), op


# --------------------------------------------------------------------------
# Signing-name sharing, protocol variants, unsigned requests


def test_dynamodbstreams_shares_the_dynamodb_signing_name() -> None:
    wire = capture(
        client("dynamodbstreams", "us-west-2"), "DescribeStream", {"StreamArn": "a" * 37})
    assert "/dynamodb/aws4_request" in wire.headers["Authorization"]
    ident = wire.identify()
    assert (ident.service, ident.operation, ident.signing_name) == (
        "dynamodbstreams", "DescribeStream", "dynamodb")


@pytest.mark.parametrize("service", ["neptune", "docdb"])
def test_neptune_and_docdb_are_indistinguishable_from_rds(service: str) -> None:
    # Same signing name ("rds"), same query API version, and every one of their
    # operations exists in rds: the request carries nothing else to tell them apart.
    wire = capture(client(service, "us-west-2"), "DescribeDBClusters", {})
    ident = wire.identify()
    assert (ident.service, ident.operation, ident.protocol) == ("rds", "DescribeDBClusters", "query")


def test_s3control_with_account_host_prefix_is_not_a_bucket() -> None:
    # s3control signs as "s3" and botocore puts the account id in front of the
    # host (123456789012.localhost:4566), which looks like a virtual-host bucket.
    c = client("s3control", "us-west-2", "virtual")
    wire = capture(c, "GetPublicAccessBlock", {"AccountId": "123456789012"})
    assert wire.headers["Host"].startswith("123456789012.")
    ident = wire.identify()
    assert (ident.service, ident.operation, ident.signing_name) == (
        "s3control", "GetPublicAccessBlock", "s3")
    assert ident.bucket is None


def test_timestream_services_share_a_target_prefix() -> None:
    wire = capture(client("timestream-write", "us-west-2"), "DescribeDatabase", {"DatabaseName": "d"})
    ident = wire.identify()
    assert (ident.service, ident.operation) == ("timestream-write", "DescribeDatabase")


def _protocol_client(service: str, protocol: str, region: str) -> Any:
    """A client forced to one of the service's protocols (botocore picks json first)."""
    session = boto3.session.Session()  # its own botocore loader
    loader = session._session.get_component("data_loader")
    original = loader.load_service_model(service, "service-2")
    # A changed copy, never the loaded dict itself: parsed models may be shared across the process.
    service_data = {**original, "metadata": {**original["metadata"], "protocols": [protocol]}}
    load_service_model = loader.load_service_model

    def forced(name: str, type_name: str, api_version: str | None = None) -> Any:
        if (name, type_name) == (service, "service-2"):
            return service_data
        return load_service_model(name, type_name, api_version)

    loader.load_service_model = forced
    c = session.client(
        service, region_name=region, endpoint_url=ENDPOINT,
        aws_access_key_id="test", aws_secret_access_key="test",
    )
    c.meta.events.register("before-send", _raise_captured)
    return c


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "json", "query"])
def test_cloudwatch_in_each_of_its_protocols(protocol: str, region: str) -> None:
    assert protocol in service_model("cloudwatch").metadata["protocols"]
    c = _protocol_client("cloudwatch", protocol, region)
    params = {"Namespace": "Lab", "MetricData": [{"MetricName": "m", "Value": 1.0}]}
    wire = capture(c, "PutMetricData", params)
    ident = wire.identify()
    assert (ident.service, ident.operation, ident.region) == ("cloudwatch", "PutMetricData", region)
    assert (ident.protocol, ident.signing_name) == (protocol, "monitoring")


@pytest.mark.parametrize(
    ("protocol", "headers", "path", "body"),
    [
        ("smithy-rpc-v2-cbor", {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"},
         "/service/GraniteServiceVersion20100801/operation/NoSuchThing", b"\xa0"),
        ("json", {"X-Amz-Target": "GraniteServiceVersion20100801.NoSuchThing",
                  "Content-Type": "application/x-amz-json-1.0"}, "/", b"{}"),
        ("query", {"Content-Type": "application/x-www-form-urlencoded"}, "/",
         b"Action=NoSuchThing&Version=2010-08-01"),
    ],
)
def test_unknown_operation_keeps_the_request_protocol(
    protocol: str, headers: dict[str, str], path: str, body: bytes
) -> None:
    auth = ("AWS4-HMAC-SHA256 Credential=test/20240101/eu-west-1/monitoring/aws4_request, "
            "SignedHeaders=host, Signature=0")
    ident = identify("POST", path, "", {**headers, "Authorization": auth}, body)
    assert (ident.service, ident.operation, ident.protocol) == ("cloudwatch", None, protocol)
    assert ident.region == "eu-west-1"


def test_unknown_json_operation() -> None:
    wire = capture(client("dynamodb", "us-west-2"), "ListTables", {})
    headers = {**wire.headers, "X-Amz-Target": "DynamoDB_20120810.NoSuchThing"}
    ident = identify(wire.method, wire.path, wire.query, headers, wire.body)
    assert (ident.service, ident.operation, ident.protocol, ident.region) == (
        "dynamodb", None, "json", "us-west-2")


def test_unknown_s3_request_still_names_the_bucket() -> None:
    wire = capture(client("s3", "us-west-2"), "GetObject", {"Bucket": BUCKET, "Key": KEY})
    ident = identify("PATCH", wire.path, wire.query, wire.headers, b"")
    assert (ident.service, ident.operation, ident.protocol, ident.bucket) == (
        "s3", None, "rest-xml", BUCKET)


def test_unsigned_s3() -> None:
    wire = capture(client("s3", "us-west-2", signed=False), "GetObject", {"Bucket": BUCKET, "Key": KEY})
    assert "Authorization" not in wire.headers
    ident = wire.identify(default_region="eu-north-1")
    assert (ident.service, ident.operation, ident.region, ident.signing_name) == (
        "s3", "GetObject", "eu-north-1", None)
    assert (ident.bucket, ident.key) == (BUCKET, KEY)


def test_unsigned_sts_assume_role_with_web_identity() -> None:
    # Modeled as noAuth: botocore sends it unsigned; the query Action names STS.
    params = {"RoleArn": "arn:aws:iam::000000000000:role/r", "RoleSessionName": "session",
              "WebIdentityToken": "token"}
    wire = capture(client("sts", "us-west-2"), "AssumeRoleWithWebIdentity", params)
    assert "Authorization" not in wire.headers
    ident = wire.identify()
    assert (ident.service, ident.operation, ident.protocol) == ("sts", "AssumeRoleWithWebIdentity", "query")


def test_unsigned_json_target() -> None:
    wire = capture(client("cognito-identity", "us-west-2"), "GetId", {"IdentityPoolId": "us-west-2:1"})
    assert "Authorization" not in wire.headers
    ident = wire.identify()
    assert (ident.service, ident.operation, ident.protocol) == ("cognito-identity", "GetId", "json")


def test_unsigned_shared_query_action_prefers_the_signing_name_service() -> None:
    wire = capture(client("rds", "us-west-2", signed=False), "DescribeDBInstances", {})
    ident = wire.identify()
    assert (ident.service, ident.operation, ident.signing_name) == ("rds", "DescribeDBInstances", None)


def test_unsigned_ambiguous_query_action_falls_back_to_s3() -> None:
    # "DescribeTags" exists in several query services with different signing names.
    ident = identify("POST", "/", "", {"Content-Type": "application/x-www-form-urlencoded"},
                     b"Action=DescribeTags&Version=2012-06-01")
    assert ident.service == "s3"


def test_sigv4a_region_set() -> None:
    headers = {
        "Authorization": "AWS4-ECDSA-P256-SHA256 Credential=test/20240101/s3/aws4_request, "
                         "SignedHeaders=host;x-amz-region-set, Signature=0",
        "X-Amz-Region-Set": "eu-west-3",
        "Host": "127.0.0.1:4566",
    }
    ident = identify("GET", f"/{BUCKET}", "versioning", headers, b"")
    assert (ident.service, ident.operation, ident.region) == ("s3", "GetBucketVersioning", "eu-west-3")


def test_headers_are_case_insensitive_and_may_be_bytes() -> None:
    wire = capture(client("dynamodb", "us-west-2"), "ListTables", {})
    for headers in (
        {k.lower(): v for k, v in wire.headers.items()},
        {k.upper(): v for k, v in wire.headers.items()},
        {k.encode(): v.encode() for k, v in wire.headers.items()},
    ):
        ident = identify(wire.method, wire.path, wire.query, headers, wire.body)
        assert (ident.service, ident.operation) == ("dynamodb", "ListTables")


def test_unknown_signing_name() -> None:
    auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-west-2/nosuchservice/aws4_request, Signature=0"
    ident = identify("POST", "/", "", {"Authorization": auth}, b"{}")
    assert ident == Identity(None, "us-west-2", None, None, "nosuchservice")


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "body"),
    [
        ("", "", "", {}, b""),
        ("GET", "/%zz/%", "a=%zz&&=&x", {"Host": ""}, b""),
        ("POST", "/", "", {"Authorization": "garbage"}, b"\xff\xfe"),
        ("POST", "/", "", {"Authorization": "AWS4-HMAC-SHA256 Credential=, Signature="}, b""),
        ("POST", "/", "", {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g"}, b""),
        ("POST", "/service//operation/", "", {"smithy-protocol": "rpc-v2-cbor"}, b"\x00"),
        ("POST", "/", "X-Amz-Credential=%", {"X-Amz-Target": "."}, b"Action="),
        ("GET", "/", "", {"Host": "[::1]:4566"}, b""),
        ("GET", "/", "", {"Host": ".localhost"}, b""),
        ("POST", "/", "", {"Content-Type": "application/x-www-form-urlencoded"}, b"Action=%ff%fe"),
    ],
)
def test_never_raises(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> None:
    ident = identify(method, path, query, headers, body)
    assert isinstance(ident, Identity)
    assert ident.region


def _long_target_prefix_services() -> list[str]:
    """JSON services whose botocore targetPrefix is a dotted legacy name (CloudTrail's
    com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101) rather than the Smithy service shape name."""
    found = []
    for name in _session.get_available_services():
        prefix = service_model(name).metadata.get("targetPrefix") or ""
        if "." in prefix:
            found.append(name)
    return sorted(found)


def test_the_long_target_prefixes_are_known() -> None:
    # If botocore adds one, the parametrised tests below cover it too; this only keeps the list honest.
    assert "cloudtrail" in _long_target_prefix_services()


@pytest.mark.parametrize("service", _long_target_prefix_services())
@pytest.mark.parametrize("form", ["long", "short"])
def test_json_target_in_both_forms(service: str, form: str) -> None:
    """SDKs generated from the Smithy models (JS v3, Go v2, ...) send X-Amz-Target as
    "{service shape name}.{operation}": CloudTrail_20131101.LookupEvents where botocore sends the long
    com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents. AWS answers both."""
    model = service_model(service)
    if "json" not in model.metadata.get("protocols", [model.protocol]):
        pytest.skip(f"{service} speaks no JSON protocol")
    c = _protocol_client(service, "json", "us-west-2")
    operation = sorted(model.operation_names)[0]
    wire = capture(c, operation, minimal_params(service, operation))
    prefix = model.metadata["targetPrefix"]
    target = f"{prefix}.{operation}" if form == "long" else f"{prefix.rpartition('.')[2]}.{operation}"
    headers = {**wire.headers, "X-Amz-Target": target}
    ident = identify(wire.method, wire.path, wire.query, headers, wire.body)
    assert (ident.service, ident.operation, ident.protocol, ident.region) == (
        service, operation, "json", "us-west-2")
    # Unsigned, the target alone names the service.
    unsigned = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    ident = identify(wire.method, wire.path, wire.query, unsigned, wire.body)
    assert (ident.service, ident.operation) == (service, operation)


@pytest.mark.parametrize("service", [s for s in _long_target_prefix_services()
                                     if "smithy-rpc-v2-cbor" in service_model(s).metadata.get("protocols", [])])
def test_rpc_v2_cbor_path_in_both_forms(service: str) -> None:
    """The RPCv2 CBOR path names the service as /service/{service shape name}/operation/{operation};
    botocore puts its targetPrefix there."""
    model = service_model(service)
    operation = sorted(model.operation_names)[0]
    short = model.metadata["targetPrefix"].rpartition(".")[2]
    auth = (f"AWS4-HMAC-SHA256 Credential=test/20240101/us-west-2/{model.signing_name}/aws4_request, "
            "SignedHeaders=host, Signature=0")
    headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Authorization": auth}
    for prefix in (model.metadata["targetPrefix"], short):
        ident = identify("POST", f"/service/{prefix}/operation/{operation}", "", headers, b"\xa0")
        assert (ident.service, ident.operation, ident.protocol) == (service, operation, "smithy-rpc-v2-cbor")


def test_a_target_prefix_is_matched_whole() -> None:
    # Only the last dotted label of a long prefix is its short form; any other fragment names nothing.
    wire = capture(_protocol_client("cloudtrail", "json", "us-west-2"), "LookupEvents", {})
    for target in ("v20131101.CloudTrail_20131101.LookupEvents", "CloudTrail.LookupEvents",
                   "Nonsense.CloudTrail_20131101.LookupEvents"):
        ident = identify(wire.method, wire.path, wire.query, {**wire.headers, "X-Amz-Target": target}, wire.body)
        assert (ident.service, ident.operation) == ("cloudtrail", None), target


# -- the catalog kept between starts ------------------------------------------------------------------------

def test_the_catalog_is_kept_between_starts_and_a_damaged_one_is_made_again(tmp_path, monkeypatch) -> None:
    """The catalog made from the heads of botocore's models is kept in the cache dir; the next process reads it
    back instead of the models, with the same answers, and an entry that is damaged or of another shape is
    made again from the models."""
    import json

    from lab.gateway.codec import identify as module
    from lab.kernel import disk_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    read_heads: list[str] = []
    heads = module._read_head_metadata
    monkeypatch.setattr(module, "_read_head_metadata", lambda path: read_heads.append(path) or heads(path))
    made = module._Catalog()
    assert len(read_heads) > 300
    entries = list((disk_cache.root() / module._CATALOG_FOLDER).glob("*.json"))
    assert len(entries) == 1
    read_heads.clear()
    again = module._Catalog()
    assert read_heads == []
    for part in module._CATALOG_PARTS:
        assert getattr(again, part) == getattr(made, part), part
    assert again.services_for_signing_name("dynamodb")[0] == "dynamodb"
    assert "s3" in again.services_for_signing_name("s3")
    for damage in (b"{", json.dumps({"signing_name_of": {"s3": 3}}).encode(),
                   json.dumps({**json.loads(entries[0].read_bytes()), "query_services": "ec2"}).encode()):
        entries[0].write_bytes(damage)
        read_heads.clear()
        remade = module._Catalog()
        assert len(read_heads) > 300 and remade.by_signing_name == made.by_signing_name
