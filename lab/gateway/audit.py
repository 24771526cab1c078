"""The audit's records of API calls, and the CloudTrail events they stand for.

Recording must not slow the request path, so a call is kept as a compact `ApiCall` (the raw parts of
the request that hold its parameters, the small answer of a change, the error) and rendered as a
CloudTrail event only when someone asks (LookupEvents, a trail's log file). Rendering is a pure function of
the record, so the same call always renders the same event.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import botocore.model

from lab import config
from lab.gateway.codec.decode import decode_answer, decode_request
from lab.gateway.codec.identify import service_model
from lab.gateway.codec.model import operation_model

ACCOUNT_ID = config.ACCOUNT_ID
APPLIED_AT_KEY = "lab.audit.applied_at"  # WSGI environ: the sim instant Sandbox.apply ran the call at
EVENT_VERSION = "1.11"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"  # what CloudTrail shows for a secret parameter
MAX_KEPT_BODY = 64 * 1024  # larger request bodies are not kept: their parameters render as null
MAX_KEPT_ANSWER = 8 * 1024  # answers of changes up to this size render as responseElements

# Item- and object-level operations: CloudTrail data events (not in LookupEvents; trails log them only
# when an event selector asks for them).
_DATA_OPERATIONS = {
    "s3": frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads", "DeleteObjects"}),
    "dynamodb": frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem",
                           "Query", "Scan", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
                           "BatchExecuteStatement", "ExecuteTransaction"}),
    "lambda": frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"}),
}
_DATA_SERVICES = frozenset({"ebs"})  # EBS direct APIs: every call is a data event
_EVENT_SOURCE_NAMES = {"email": "ses"}  # endpoint prefixes CloudTrail names differently

# Input members that name the resource a call acts on: LookupEvents' Resources (type, name).
_RESOURCE_MEMBERS: dict[str, dict[str, str]] = {
    "s3": {"Bucket": "AWS::S3::Bucket"},
    "dynamodb": {"TableName": "AWS::DynamoDB::Table", "TargetTableName": "AWS::DynamoDB::Table",
                 "SourceTableArn": "AWS::DynamoDB::Table", "BackupArn": "AWS::DynamoDB::Backup",
                 "GlobalTableName": "AWS::DynamoDB::GlobalTable"},
    "rds": {"DBInstanceIdentifier": "AWS::RDS::DBInstance", "SourceDBInstanceIdentifier": "AWS::RDS::DBInstance",
            "TargetDBInstanceIdentifier": "AWS::RDS::DBInstance", "DBSnapshotIdentifier": "AWS::RDS::DBSnapshot",
            "SourceDBSnapshotIdentifier": "AWS::RDS::DBSnapshot", "TargetDBSnapshotIdentifier": "AWS::RDS::DBSnapshot",
            "DBClusterIdentifier": "AWS::RDS::DBCluster"},
    "ec2": {"InstanceId": "AWS::EC2::Instance", "InstanceIds": "AWS::EC2::Instance", "VolumeId": "AWS::EC2::Volume",
            "VolumeIds": "AWS::EC2::Volume", "SnapshotId": "AWS::EC2::Snapshot", "SnapshotIds": "AWS::EC2::Snapshot",
            "SourceSnapshotId": "AWS::EC2::Snapshot"},
    "backup": {"BackupVaultName": "AWS::Backup::BackupVault", "BackupPlanId": "AWS::Backup::BackupPlan",
               "RecoveryPointArn": "AWS::Backup::RecoveryPoint", "SelectionId": "AWS::Backup::BackupSelection",
               "FrameworkName": "AWS::Backup::Framework", "ReportPlanName": "AWS::Backup::ReportPlan"},
    "cloudtrail": {"Name": "AWS::CloudTrail::Trail", "TrailName": "AWS::CloudTrail::Trail"},
    "iam": {"RoleName": "AWS::IAM::Role", "UserName": "AWS::IAM::User", "GroupName": "AWS::IAM::Group",
            "PolicyArn": "AWS::IAM::Policy", "InstanceProfileName": "AWS::IAM::InstanceProfile"},
    "sts": {"RoleArn": "AWS::IAM::Role"},
    "kms": {"KeyId": "AWS::KMS::Key", "AliasName": "AWS::KMS::Alias"},
    "route53": {"HostedZoneId": "AWS::Route53::HostedZone", "HealthCheckId": "AWS::Route53::HealthCheck"},
    "lambda": {"FunctionName": "AWS::Lambda::Function"},
    "sns": {"TopicArn": "AWS::SNS::Topic"},
    "dlm": {"PolicyId": "AWS::DLM::LifecyclePolicy"},
}

_quiet = threading.local()


@contextlib.contextmanager
def unrecorded() -> Iterator[None]:
    """Calls the lab makes in this block to look at its own state (a health checker's probe) are not API
    activity of the account: the audit leaves them out."""
    depth = getattr(_quiet, "depth", 0)
    _quiet.depth = depth + 1
    try:
        yield
    finally:
        _quiet.depth = depth


def is_unrecorded() -> bool:
    return getattr(_quiet, "depth", 0) > 0


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a call, as CloudTrail's userIdentity shows it."""

    type: str  # "Root" | "IAMUser" | "AssumedRole" | "AWSService"
    arn: str | None = None
    principal_id: str | None = None
    user_name: str | None = None  # LookupEvents' Username
    invoked_by: str | None = None  # AWSService: the service principal
    issuer_arn: str | None = None  # AssumedRole: the role
    issuer_id: str | None = None
    issued_at: float | None = None

    def user_identity(self, access_key: str | None) -> dict[str, Any]:
        if self.type == "AWSService":
            return {"type": "AWSService", "invokedBy": self.invoked_by}
        identity: dict[str, Any] = {"type": self.type, "principalId": self.principal_id, "arn": self.arn,
                                    "accountId": ACCOUNT_ID}
        if access_key:
            identity["accessKeyId"] = access_key
        if self.type == "IAMUser":
            identity["userName"] = self.user_name
        elif self.type == "AssumedRole":
            role_name = (self.issuer_arn or "").rsplit("/", 1)[-1]
            identity["sessionContext"] = {
                "sessionIssuer": {"type": "Role", "principalId": self.issuer_id, "arn": self.issuer_arn,
                                  "accountId": ACCOUNT_ID, "userName": role_name},
                "attributes": {"creationDate": iso_time(self.issued_at or 0), "mfaAuthenticated": "false"},
            }
        return identity


# A key no IAM call issued -- the lab's `test` key -- acts as the account's root, as the lab's policy checks
# and LocalStack take it. CloudTrail's form for a call made with root access keys: type Root, the account id as
# principalId, no userName without an account alias; event history names the user "root" (CloudTrail User
# Guide: CloudTrail userIdentity element, cloudtrail-event-reference-user-identity.html).
ROOT_PRINCIPAL = Principal("Root", arn=f"arn:aws:iam::{ACCOUNT_ID}:root", principal_id=ACCOUNT_ID, user_name="root")
DEFAULT_PRINCIPAL = ROOT_PRINCIPAL
INTERNAL_SOURCE = "AWS Internal"


def service_principal(name: str) -> Principal:
    return _service_principal(name)


@lru_cache(maxsize=64)
def _service_principal(name: str) -> Principal:
    return Principal("AWSService", invoked_by=name)


@dataclass(slots=True)
class ApiCall:
    """One call through the gateway, as the audit keeps it."""

    number: int  # position in the audit's record, from 1
    ordinal: int  # calls of this operation and region at this same instant before this one
    at: float  # sim time the call was applied
    service: str
    operation: str
    region: str
    event_source: str
    protocol: str | None
    read_only: bool
    data_event: bool
    source: str  # sourceIPAddress: the caller's address, or the AWS service that made the call
    principal: Principal
    access_key: str | None
    user_agent: str
    request_id: str
    status: int
    error_code: str | None
    error_message: str | None
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]  # request headers that carry input members
    body: bytes | None  # request body when it carries parameters (never an object's bytes)
    answer_headers: tuple[tuple[str, str], ...]
    answer: bytes | None  # the answer of a successful change, when small
    bucket: str | None = None  # S3
    key: str | None = None  # S3

    @property
    def event_id(self) -> str:
        return event_id(self.at, self.service, self.operation, self.region, self.ordinal)


@dataclass(frozen=True, slots=True)
class OperationTraits:
    """What the audit needs to know about an operation, computed once from its model."""

    event_source: str
    data_event: bool
    keeps_body: bool  # the body carries parameters, not an object's bytes
    header_keys: tuple[tuple[str, str], ...]  # (WSGI environ key, header name) of input members in headers
    header_prefixes: tuple[tuple[str, str], ...]  # (environ key prefix, header prefix) of header-map members


def operation_traits(service: str, operation: str) -> OperationTraits:
    return _operation_traits(service, operation)


@lru_cache(maxsize=4096)
def _operation_traits(service: str, operation: str) -> OperationTraits:
    metadata = service_model(service).metadata
    prefix = metadata.get("endpointPrefix") or service
    source = f"{_EVENT_SOURCE_NAMES.get(prefix, prefix)}.amazonaws.com"
    shape = operation_model(service, operation).input_shape
    members = shape.members if shape is not None else {}
    keeps_body = True
    payload = shape.serialization.get("payload") if shape is not None else None
    if payload and members[payload].type_name in ("blob", "string"):
        keeps_body = False
    header_keys: list[tuple[str, str]] = []
    header_prefixes: list[tuple[str, str]] = []
    for name, member in members.items():
        location = member.serialization.get("location")
        header = member.serialization.get("name", name)
        if location == "header":
            header_keys.append((_environ_key(header), header))
        elif location == "headers":
            header_prefixes.append((_environ_key(header), header))
    data_event = service in _DATA_SERVICES or operation in _DATA_OPERATIONS.get(service, ()) or (
        service == "s3" and "Key" in members)
    return OperationTraits(source, data_event, keeps_body, tuple(header_keys), tuple(header_prefixes))


def _environ_key(header: str) -> str:
    key = header.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"


@lru_cache(maxsize=65536)
def event_id(at: float, service: str, operation: str, region: str, ordinal: int) -> str:
    """A UUID that is a function of the call: the same journal replays to the same event ids."""
    digest = hashlib.blake2b(f"{at!r}|{service}|{operation}|{region}|{ordinal}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def access_key_of(authorization: str | None, query_string: str) -> str | None:
    """The access key id a request was signed with."""
    # SigV4: "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ..."; presigned URLs carry
    # X-Amz-Credential in the query string instead.
    text = authorization or ""
    start = text.find("Credential=")
    if start >= 0:
        return text[start + 11:].split("/", 1)[0] or None
    start = query_string.find("X-Amz-Credential=")
    if start >= 0:
        return unquote(query_string[start + 17:].split("&", 1)[0]).split("/", 1)[0] or None
    return None


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- rendering -----------------------------------------------------------------------------------------


def request_params(call: ApiCall) -> dict[str, Any] | None:
    """The call's input by botocore member name, or None when the audit did not keep what holds it."""
    try:
        params = decode_request(call.service, call.operation, call.protocol, call.path, call.query,
                                dict(call.headers), call.body or b"", strict=False)
    except ValueError:
        return None
    if call.service == "s3":
        if call.bucket:
            params["Bucket"] = call.bucket
        if call.key:
            params["Key"] = call.key
    return params


def render(call: ApiCall, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The call as a CloudTrail event record."""
    if params is None:
        params = request_params(call)
    model = operation_model(call.service, call.operation)
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": call.principal.user_identity(call.access_key),
        "eventTime": iso_time(call.at),
        "eventSource": call.event_source,
        "eventName": call.operation,
        "awsRegion": call.region,
        "sourceIPAddress": call.source,
        "userAgent": call.user_agent,
    }
    if call.error_code:
        event["errorCode"] = call.error_code
        event["errorMessage"] = call.error_message
    request = cloudtrail_view(model.input_shape, params) if params is not None and model.input_shape else None
    if request is not None and call.service == "s3" and "bucket" in request:
        request["bucketName"] = request.pop("bucket")
    event["requestParameters"] = request or None
    event["responseElements"] = _response_elements(call, model)
    event["requestID"] = call.request_id
    event["eventID"] = call.event_id
    event["readOnly"] = call.read_only
    if call.data_event:
        event["resources"] = [{"accountId": ACCOUNT_ID, "type": kind, "ARN": arn}
                              for kind, arn in data_resources(call, params)]
    event["eventType"] = "AwsApiCall"
    event["managementEvent"] = not call.data_event
    event["recipientAccountId"] = ACCOUNT_ID
    event["eventCategory"] = "Data" if call.data_event else "Management"
    return event


def _response_elements(call: ApiCall, model: botocore.model.OperationModel) -> dict[str, Any] | None:
    # CloudTrail keeps the answer of changes only; reads and failures show null.
    if call.read_only or call.error_code or model.output_shape is None or (call.answer is None
                                                                           and not call.answer_headers):
        return None
    try:
        output = decode_answer(call.service, call.operation, call.protocol, call.status,
                               call.answer_headers, call.answer or b"")
    except Exception:  # noqa: BLE001 -- an answer botocore cannot read renders as null, as a large one does
        return None
    return cloudtrail_view(model.output_shape, output) or None


def cloudtrail_view(shape: botocore.model.Shape, value: Any) -> Any:
    """Parameters as CloudTrail shows them: member names in lowerCamelCase, bodies and blobs left out,
    secrets hidden."""
    if value is None or isinstance(value, (bytes, bytearray)):
        return None
    if shape.metadata.get("sensitive"):
        return HIDDEN
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        view: dict[str, Any] = {}
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None or member.type_name == "blob" or member.serialization.get("streaming"):
                continue
            shown = cloudtrail_view(member, item)
            if shown is not None and shown != {}:
                view[name[0].lower() + name[1:] if len(name) > 1 else name] = shown
        return view
    if kind == "list" and isinstance(value, list):
        return [cloudtrail_view(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {str(key): cloudtrail_view(shape.value, item) for key, item in value.items()}
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def lookup_resources(call: ApiCall, params: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(ResourceType, ResourceName) pairs for LookupEvents."""
    members = _RESOURCE_MEMBERS.get(call.service)
    if not members or not params:
        return []
    found: list[tuple[str, str]] = []
    for member, kind in members.items():
        value = params.get(member)
        for name in (value if isinstance(value, list) else [value]):
            if isinstance(name, str) and name:
                found.append((kind, name))
    return found


def data_resources(call: ApiCall, params: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(type, ARN) of what a data event touched, as its `resources` field and event selectors name them."""
    if call.service == "s3":
        bucket = call.bucket or (params or {}).get("Bucket")
        if not bucket:
            return []
        resources = []
        if call.key:
            resources.append(("AWS::S3::Object", f"arn:aws:s3:::{bucket}/{call.key}"))
        return [*resources, ("AWS::S3::Bucket", f"arn:aws:s3:::{bucket}")]
    if call.service == "dynamodb":
        tables: list[str] = []
        if params:
            if isinstance(params.get("TableName"), str):
                tables.append(params["TableName"])
            for batch in ("RequestItems",):
                if isinstance(params.get(batch), dict):
                    tables.extend(str(name) for name in params[batch])
        return [("AWS::DynamoDB::Table", name if name.startswith("arn:")
                 else f"arn:aws:dynamodb:{call.region}:{ACCOUNT_ID}:table/{name}") for name in dict.fromkeys(tables)]
    if call.service == "lambda" and params and isinstance(params.get("FunctionName"), str):
        name = params["FunctionName"]
        return [("AWS::Lambda::Function", name if name.startswith("arn:")
                 else f"arn:aws:lambda:{call.region}:{ACCOUNT_ID}:function:{name}")]
    return []
