"""CloudTrail, owned by the lab: the record of every API call, LookupEvents, and trails that deliver log files.

moto stores trails but records nothing and has no LookupEvents, so the lab owns the whole service (one
store: trails, event selectors, logging status and the calls themselves). The audit handler
(lab.gateway.handlers.audit) hands every call through the gateway to `record`; LookupEvents reads them as
AWS's event history does (management events of the region, newest first, 90 days); trails that are logging
deliver gzipped JSON log files to their S3 bucket every 5 minutes of sim time, at
`[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<stamp>_<id>.json.gz`.

Like AWS, CreateTrail and UpdateTrail refuse a bucket that does not exist or whose policy does not let
cloudtrail.amazonaws.com read its ACL and put objects under AWSLogs/<account>/; a trail starts logging only
after StartLogging.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import gzip
import hashlib
import ipaddress
import json
import re
import string
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lab import config
from lab.gateway import audit
from lab.gateway.audit import ApiCall, Principal
from lab.gateway.codec import wire
from lab.gateway.codec.errors import aws_error, not_implemented
from lab.kernel.context import RequestContext, Response
from lab.kernel.engine import Engine

ACCOUNT_ID = config.ACCOUNT_ID
SERVICE = "cloudtrail"
DELIVERY_INTERVAL = 300.0  # CloudTrail delivers log files about every 5 minutes
EVENT_HISTORY_SECONDS = 90 * 86400  # LookupEvents covers the last 90 days
MAX_CALLS = 50_000  # records kept (oldest dropped first), like the event log's bound
MAX_TRAILS_PER_REGION = 5
MAX_LOOKUP_RESULTS = 50
LOOKUP_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource",
               "AccessKeyId")
DATA_RESOURCE_TYPES = ("AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table")
ADVANCED_FIELDS = ("eventCategory", "eventSource", "eventName", "eventType", "readOnly", "resources.type",
                   "resources.ARN", "errorCode", "userIdentity.arn", "sessionCredentialFromConsole")
ADVANCED_OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com"
_TRAIL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]")
_UNIQUE_ALPHABET = string.ascii_letters + string.digits


class CloudTrailError(Exception):
    """A refusal in CloudTrail's words: answered as an AWS error of the request's protocol."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def default_event_selectors() -> list[dict[str, Any]]:
    return [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
             "ExcludeManagementEventSources": []}]


@dataclass
class Trail:
    name: str
    home_region: str
    bucket: str
    prefix: str | None = None
    sns_topic: str | None = None
    include_global_events: bool = True
    multi_region: bool = False
    log_file_validation: bool = False
    kms_key_id: str | None = None
    log_group_arn: str | None = None
    log_role_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    logging: bool = False
    logging_periods: list[list[float | None]] = field(default_factory=list)  # [start, stop or None]
    start_logging_time: float | None = None
    stop_logging_time: float | None = None
    latest_delivery_time: float | None = None
    latest_delivery_attempt_time: float | None = None
    latest_delivery_succeeded: float | None = None
    latest_delivery_error: str | None = None
    event_selectors: list[dict[str, Any]] | None = field(default_factory=default_event_selectors)
    advanced_event_selectors: list[dict[str, Any]] | None = None

    @property
    def arn(self) -> str:
        return trail_arn(self.home_region, self.name)

    def logged_at(self, moment: float) -> bool:
        return any(start <= moment and (stop is None or moment < stop)  # type: ignore[operator]
                   for start, stop in self.logging_periods)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "Name": self.name, "S3BucketName": self.bucket, "S3KeyPrefix": self.prefix,
            "SnsTopicName": self.sns_topic,
            "SnsTopicARN": (f"arn:aws:sns:{self.home_region}:{ACCOUNT_ID}:{self.sns_topic}"
                            if self.sns_topic else None),
            "IncludeGlobalServiceEvents": self.include_global_events, "IsMultiRegionTrail": self.multi_region,
            "HomeRegion": self.home_region, "TrailARN": self.arn, "LogFileValidationEnabled": self.log_file_validation,
            "CloudWatchLogsLogGroupArn": self.log_group_arn, "CloudWatchLogsRoleArn": self.log_role_arn,
            "KmsKeyId": self.kms_key_id,
            "HasCustomEventSelectors": self.advanced_event_selectors is not None
            or self.event_selectors != default_event_selectors(),
            "HasInsightSelectors": False, "IsOrganizationTrail": False,
        }
        return {key: value for key, value in described.items() if value is not None}


def trail_arn(region: str, name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{ACCOUNT_ID}:trail/{name}"


@dataclass
class CloudTrailState:
    calls: deque[ApiCall] = field(default_factory=lambda: deque(maxlen=MAX_CALLS))
    recorded: int = 0  # calls recorded since the world began (numbers the records)
    trails: dict[str, Trail] = field(default_factory=dict)  # by ARN
    principals: dict[str, Principal] = field(default_factory=dict)  # access key id -> who it belongs to
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # IAM user name -> (user id, arn)
    instant: float | None = None  # sim time of the last record, and how many records per call
    ordinals: dict[tuple[str, str, str], int] = field(default_factory=dict)  # identity at that instant
    delivered: int = 0  # records up to this number are in log files (or were due before any trail logged)
    next_delivery: float | None = None


class CloudTrail(Engine):
    name = "cloudtrail"
    order = 200  # log files gather what the other engines did at the same instant
    service_principal = SERVICE_PRINCIPAL

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        # Parsed parameters of recent records, so lookups by resource do not parse a call twice. Not state:
        # a pure function of the records, rebuilt on demand.
        self._params: OrderedDict[tuple[int, float], dict[str, Any] | None] = OrderedDict()

    def initial_state(self) -> CloudTrailState:
        return CloudTrailState()

    # -- the record of calls -------------------------------------------------------------------------

    def record(self, call: ApiCall, resolve_principal: bool = True) -> None:
        """Keep one call (the audit handler calls this under the sandbox lock)."""
        state: CloudTrailState = self.state
        if state.instant != call.at:
            state.instant = call.at
            state.ordinals.clear()
        identity = (call.service, call.operation, call.region)
        call.ordinal = state.ordinals.get(identity, 0)
        state.ordinals[identity] = call.ordinal + 1
        state.recorded += 1
        call.number = state.recorded
        if resolve_principal:
            call.principal = state.principals.get(call.access_key or "", audit.DEFAULT_PRINCIPAL)
        state.calls.append(call)
        if state.next_delivery is None and any(trail.logging for trail in state.trails.values()):
            state.next_delivery = _next_boundary(call.at)
        detail: dict[str, Any] = {"sourceIPAddress": call.source, "readOnly": call.read_only, "status": call.status}
        if call.error_code:
            detail["errorCode"] = call.error_code
        self.sandbox.events.emit(call.at, "api", call.event_source, call.operation, region=call.region,
                                 resource=f"{call.bucket}/{call.key}" if call.key else call.bucket, **detail)

    def params(self, call: ApiCall) -> dict[str, Any] | None:
        key = (call.number, call.at)  # numbers restart with a new world (reset); the instant tells them apart
        if key in self._params:
            self._params.move_to_end(key)
            return self._params[key]
        found = audit.request_params(call)
        self._params[key] = found
        if len(self._params) > MAX_CALLS:
            self._params.popitem(last=False)
        return found

    def render(self, call: ApiCall) -> dict[str, Any]:
        return audit.render(call, self.params(call))

    # -- the request path ----------------------------------------------------------------------------

    def handles(self, ctx: RequestContext) -> bool:
        return ctx.identity is not None and ctx.identity.service == SERVICE

    def serve(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        assert identity is not None  # handles() said so
        operation = identity.operation or ""
        handler = self._operations().get(operation)
        if handler is None:
            error = not_implemented(identity, detail="the lab's CloudTrail")
            ctx.response = Response(error.status, list(error.headers), error.body)
            return
        ctx.environ[audit.APPLIED_AT_KEY] = self.now()
        try:
            params = wire.request_params(SERVICE, operation, identity.protocol, ctx.path, ctx.query_string,
                                         dict(ctx.headers.items()), ctx.body)
            output = handler(params, identity.region)
        except ValueError as exc:
            output = CloudTrailError("InvalidParameterException", str(exc))
        except CloudTrailError as exc:
            output = exc
        if isinstance(output, CloudTrailError):
            error = aws_error(identity, output.status, output.code, str(output))
            ctx.response = Response(error.status, list(error.headers), error.body)
            return
        status, headers, body = wire.serialize_response(SERVICE, operation, identity.protocol, output)
        ctx.response = Response(status, headers, body)

    def observe(self, ctx: RequestContext) -> None:
        # The instant the call was applied: its eventTime, exactly as the journal replays it.
        ctx.environ.setdefault(audit.APPLIED_AT_KEY, self.now())
        identity = ctx.identity
        if identity is None or identity.service not in ("sts", "iam"):
            return
        if identity.operation in ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML",
                                  "GetSessionToken", "GetFederationToken", "CreateAccessKey", "CreateUser"):
            self._learn_principal(ctx)

    def _learn_principal(self, ctx: RequestContext) -> None:
        """Remember whose access key a call handed out, so later calls with it show that identity."""
        identity = ctx.identity
        assert identity is not None and identity.operation is not None and ctx.response is not None
        answer = wire.response_params(identity.service, identity.operation, identity.protocol,  # type: ignore[arg-type]
                                      ctx.response.status, ctx.response.headers, ctx.response.body_bytes())
        state: CloudTrailState = self.state
        if identity.operation == "CreateUser":
            user = answer.get("User") or {}
            if user.get("UserName"):
                state.users[user["UserName"]] = (user.get("UserId", ""), user.get("Arn", ""))
            return
        if identity.operation == "CreateAccessKey":
            key = answer.get("AccessKey") or {}
            name = key.get("UserName")
            if key.get("AccessKeyId") and name:
                user_id, arn = state.users.get(name, ("", f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"))
                state.principals[key["AccessKeyId"]] = Principal("IAMUser", arn=arn, principal_id=user_id or None,
                                                                 user_name=name)
            return
        access_key = (answer.get("Credentials") or {}).get("AccessKeyId")
        if not access_key:
            return
        assumed = answer.get("AssumedRoleUser") or answer.get("FederatedUser")
        if identity.operation == "GetSessionToken" or not assumed:
            caller = audit.access_key_of(ctx.headers.get("Authorization"), ctx.query_string) or ""
            state.principals[access_key] = state.principals.get(caller, audit.DEFAULT_PRINCIPAL)
            return
        request = wire.request_params(identity.service, identity.operation, identity.protocol,  # type: ignore[arg-type]
                                      ctx.path, ctx.query_string, dict(ctx.headers.items()), ctx.body)
        role_arn = request.get("RoleArn", "")
        role_id = assumed.get("AssumedRoleId", "").split(":", 1)[0] or None
        state.principals[access_key] = Principal(
            "AssumedRole", arn=assumed.get("Arn"), principal_id=assumed.get("AssumedRoleId"),
            user_name=request.get("RoleSessionName"), issuer_arn=role_arn, issuer_id=role_id, issued_at=self.now())

    # -- operations ----------------------------------------------------------------------------------

    def _operations(self) -> dict[str, Callable[[dict[str, Any], str], Any]]:
        return {
            "CreateTrail": self._create_trail, "UpdateTrail": self._update_trail, "DeleteTrail": self._delete_trail,
            "GetTrail": self._get_trail, "DescribeTrails": self._describe_trails, "ListTrails": self._list_trails,
            "GetTrailStatus": self._get_trail_status, "StartLogging": self._start_logging,
            "StopLogging": self._stop_logging, "PutEventSelectors": self._put_event_selectors,
            "GetEventSelectors": self._get_event_selectors, "LookupEvents": self._lookup_events,
            "AddTags": self._add_tags, "RemoveTags": self._remove_tags, "ListTags": self._list_tags,
        }

    def _find(self, name: str | None, region: str, *, home_only: bool) -> Trail:
        """A trail by name (in its home region) or ARN (anywhere; changes only from its home region)."""
        if not name:
            raise CloudTrailError("TrailNotProvidedException", "Trail name or ARN was not provided.")
        state: CloudTrailState = self.state
        if name.startswith("arn:"):
            match = re.fullmatch(r"arn:aws:cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)", name)
            if match is None:
                raise CloudTrailError("CloudTrailARNInvalidException", f"Invalid CloudTrail ARN: {name}")
            trail = state.trails.get(name)
            if trail is None:
                raise CloudTrailError("TrailNotFoundException", f"Unknown trail: {name} for the user: {ACCOUNT_ID}")
            if home_only and trail.home_region != region:
                raise CloudTrailError("InvalidHomeRegionException",
                                      f"This operation must be called from the trail's home region "
                                      f"{trail.home_region}, not {region}.")
            return trail
        _check_trail_name(name)
        trail = state.trails.get(trail_arn(region, name))
        if trail is None:
            raise CloudTrailError("TrailNotFoundException",
                                  f"Unknown trail: {trail_arn(region, name)} for the user: {ACCOUNT_ID}")
        return trail

    def _bucket_problem(self, bucket: str, prefix: str | None, region: str) -> str | None:
        """What stops CloudTrail writing to the log bucket: "NoSuchBucket", "AccessDenied" (its policy), or None.

        A look at the sandbox's own state, as CloudTrail's check is: not API activity of the account.
        """
        from botocore.exceptions import ClientError

        s3 = self.sandbox.client("s3", region)
        with audit.unrecorded():
            try:
                s3.head_bucket(Bucket=bucket)
            except ClientError:
                return "NoSuchBucket"
            try:
                policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
            except (ClientError, ValueError):
                policy = {}
        logs = _log_folder(bucket, prefix)
        if _policy_allows(policy, "s3:GetBucketAcl", f"arn:aws:s3:::{bucket}") \
                and _policy_allows(policy, "s3:PutObject", logs + "CloudTrail/us-east-1/log.json.gz"):
            return None
        return "AccessDenied"

    def _check_bucket(self, bucket: str, prefix: str | None, region: str) -> None:
        """CloudTrail's check when a trail is created or moved: the bucket exists and lets CloudTrail write."""
        if prefix is not None and (len(prefix) > 200 or prefix.startswith("/")):
            raise CloudTrailError("InvalidS3PrefixException", f"Invalid S3 key prefix: {prefix!r}")
        problem = self._bucket_problem(bucket, prefix, region)
        if problem == "NoSuchBucket":
            raise CloudTrailError("S3BucketDoesNotExistException", f"S3 bucket does not exist: {bucket}")
        if problem:
            raise CloudTrailError(
                "InsufficientS3BucketPolicyException",
                f"Incorrect S3 bucket policy is detected for bucket: {bucket}. The bucket policy must allow the "
                f"service principal {SERVICE_PRINCIPAL} s3:GetBucketAcl on arn:aws:s3:::{bucket} and "
                f"s3:PutObject on {_log_folder(bucket, prefix)}*")

    def _create_trail(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        name = params.get("Name", "")
        _check_trail_name(name)
        state: CloudTrailState = self.state
        arn = trail_arn(region, name)
        if arn in state.trails:
            raise CloudTrailError("TrailAlreadyExistsException", f"Trail {arn} already exists for customer: "
                                                                 f"{ACCOUNT_ID}")
        if sum(1 for trail in state.trails.values() if trail.home_region == region) >= MAX_TRAILS_PER_REGION:
            raise CloudTrailError("MaximumNumberOfTrailsExceededException",
                                  f"User: {ACCOUNT_ID} already has {MAX_TRAILS_PER_REGION} trails in {region}.")
        if params.get("IsOrganizationTrail"):
            raise CloudTrailError("OrganizationsNotInUseException",
                                  "This account is not part of an organization: organization trails are not available.")
        if params.get("IsMultiRegionTrail") and params.get("IncludeGlobalServiceEvents") is False:
            raise CloudTrailError("InvalidParameterCombinationException",
                                  "Multi-Region trail must include global service events.")
        bucket = params.get("S3BucketName", "")
        self._check_bucket(bucket, params.get("S3KeyPrefix"), region)
        trail = Trail(name=name, home_region=region, bucket=bucket, prefix=params.get("S3KeyPrefix") or None,
                      sns_topic=params.get("SnsTopicName"),
                      include_global_events=params.get("IncludeGlobalServiceEvents", True),
                      multi_region=bool(params.get("IsMultiRegionTrail", False)),
                      log_file_validation=bool(params.get("EnableLogFileValidation", False)),
                      kms_key_id=params.get("KmsKeyId"), log_group_arn=params.get("CloudWatchLogsLogGroupArn"),
                      log_role_arn=params.get("CloudWatchLogsRoleArn"),
                      tags={tag["Key"]: tag.get("Value", "") for tag in params.get("TagsList") or []})
        state.trails[arn] = trail
        self.emit("TrailCreated", region=region, resource=arn)
        return _trail_output(trail)

    def _update_trail(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        trail = self._find(params.get("Name"), region, home_only=True)
        bucket = params.get("S3BucketName", trail.bucket)
        prefix = (params["S3KeyPrefix"] or None) if "S3KeyPrefix" in params else trail.prefix
        multi_region = params.get("IsMultiRegionTrail", trail.multi_region)
        include_global = params.get("IncludeGlobalServiceEvents", trail.include_global_events)
        if multi_region and not include_global:
            raise CloudTrailError("InvalidParameterCombinationException",
                                  "Multi-Region trail must include global service events.")
        if bucket != trail.bucket or prefix != trail.prefix:
            self._check_bucket(bucket, prefix, region)
        trail.bucket, trail.prefix = bucket, prefix
        trail.multi_region, trail.include_global_events = bool(multi_region), bool(include_global)
        trail.sns_topic = params.get("SnsTopicName", trail.sns_topic) or None
        trail.log_file_validation = bool(params.get("EnableLogFileValidation", trail.log_file_validation))
        trail.kms_key_id = params.get("KmsKeyId", trail.kms_key_id) or None
        trail.log_group_arn = params.get("CloudWatchLogsLogGroupArn", trail.log_group_arn) or None
        trail.log_role_arn = params.get("CloudWatchLogsRoleArn", trail.log_role_arn) or None
        self.emit("TrailUpdated", region=region, resource=trail.arn)
        return _trail_output(trail)

    def _delete_trail(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        trail = self._find(params.get("Name"), region, home_only=True)
        del self.state.trails[trail.arn]
        self.emit("TrailDeleted", region=region, resource=trail.arn)
        return {}

    def _get_trail(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        return {"Trail": self._find(params.get("Name"), region, home_only=False).describe()}

    def _describe_trails(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        include_shadows = params.get("includeShadowTrails", True)
        visible = [trail for trail in self.state.trails.values()
                   if trail.home_region == region or (include_shadows and trail.multi_region)]
        wanted = params.get("trailNameList") or []
        if wanted:
            visible = [trail for trail in visible if trail.name in wanted or trail.arn in wanted]
        return {"trailList": [trail.describe() for trail in sorted(visible, key=lambda t: t.arn)]}

    def _list_trails(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        return {"Trails": [{"TrailARN": trail.arn, "Name": trail.name, "HomeRegion": trail.home_region}
                           for trail in sorted(self.state.trails.values(), key=lambda t: t.arn)]}

    def _get_trail_status(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        trail = self._find(params.get("Name"), region, home_only=False)
        status: dict[str, Any] = {"IsLogging": trail.logging}
        if trail.start_logging_time is not None:
            status["StartLoggingTime"] = trail.start_logging_time
            status["TimeLoggingStarted"] = audit.iso_time(trail.start_logging_time)
        if trail.stop_logging_time is not None:
            status["StopLoggingTime"] = trail.stop_logging_time
            status["TimeLoggingStopped"] = audit.iso_time(trail.stop_logging_time)
        if trail.latest_delivery_time is not None:
            status["LatestDeliveryTime"] = trail.latest_delivery_time
        if trail.latest_delivery_attempt_time is not None:
            status["LatestDeliveryAttemptTime"] = audit.iso_time(trail.latest_delivery_attempt_time)
        if trail.latest_delivery_succeeded is not None:
            status["LatestDeliveryAttemptSucceeded"] = audit.iso_time(trail.latest_delivery_succeeded)
        if trail.latest_delivery_error:
            status["LatestDeliveryError"] = trail.latest_delivery_error
        return status

    def _start_logging(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        trail = self._find(params.get("Name"), region, home_only=True)
        if not trail.logging:
            now = self.now()
            trail.logging = True
            trail.start_logging_time = now
            trail.logging_periods = [*trail.logging_periods[-99:], [now, None]]
            state: CloudTrailState = self.state
            if state.next_delivery is None:
                state.next_delivery = _next_boundary(now)
            self.emit("TrailLoggingStarted", region=region, resource=trail.arn)
        return {}

    def _stop_logging(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        trail = self._find(params.get("Name"), region, home_only=True)
        if trail.logging:
            now = self.now()
            trail.logging = False
            trail.stop_logging_time = now
            trail.logging_periods[-1][1] = now
            self.emit("TrailLoggingStopped", region=region, resource=trail.arn)
        return {}

    def _put_event_selectors(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        trail = self._find(params.get("TrailName"), region, home_only=True)
        basic, advanced = params.get("EventSelectors"), params.get("AdvancedEventSelectors")
        if (basic is None) == (advanced is None):
            raise CloudTrailError("InvalidEventSelectorsException",
                                  "Specify either EventSelectors or AdvancedEventSelectors, not both and not neither.")
        if basic is not None:
            _check_basic_selectors(basic)
            trail.event_selectors = [_normalised_basic(selector) for selector in basic]
            trail.advanced_event_selectors = None
        else:
            _check_advanced_selectors(advanced)
            trail.advanced_event_selectors = advanced
            trail.event_selectors = None
        self.emit("EventSelectorsChanged", region=region, resource=trail.arn)
        return self._get_event_selectors({"TrailName": trail.arn}, region)

    def _get_event_selectors(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        trail = self._find(params.get("TrailName"), region, home_only=False)
        output: dict[str, Any] = {"TrailARN": trail.arn}
        if trail.advanced_event_selectors is not None:
            output["AdvancedEventSelectors"] = trail.advanced_event_selectors
        else:
            output["EventSelectors"] = trail.event_selectors
        return output

    def _add_tags(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        trail = self._find(params.get("ResourceId"), region, home_only=True)
        tags = params.get("TagsList") or []
        if len({**trail.tags, **{tag["Key"]: "" for tag in tags}}) > 50:
            raise CloudTrailError("TagsLimitExceededException", "A trail can have at most 50 tags.")
        trail.tags.update({tag["Key"]: tag.get("Value", "") for tag in tags})
        return {}

    def _remove_tags(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        trail = self._find(params.get("ResourceId"), region, home_only=True)
        for tag in params.get("TagsList") or []:
            trail.tags.pop(tag["Key"], None)
        return {}

    def _list_tags(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        found = [self._find(name, region, home_only=False) for name in params.get("ResourceIdList") or []]
        return {"ResourceTagList": [{"ResourceId": trail.arn,
                                     "TagsList": [{"Key": k, "Value": v} for k, v in sorted(trail.tags.items())]}
                                    for trail in found]}

    # -- LookupEvents --------------------------------------------------------------------------------

    def _lookup_events(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        now = self.now()
        attributes = params.get("LookupAttributes") or []
        if len(attributes) > 1:
            raise CloudTrailError("InvalidLookupAttributesException",
                                  "You can specify only one lookup attribute; got "
                                  f"{len(attributes)}: {', '.join(a.get('AttributeKey', '?') for a in attributes)}")
        match = self._attribute_matcher(attributes[0]) if attributes else None
        max_results = params.get("MaxResults", MAX_LOOKUP_RESULTS)
        if not 1 <= max_results <= MAX_LOOKUP_RESULTS:
            raise CloudTrailError("InvalidMaxResultsException",
                                  f"MaxResults must be between 1 and {MAX_LOOKUP_RESULTS}, not {max_results}.")
        category = params.get("EventCategory")
        if category not in (None, "insight"):
            raise CloudTrailError("InvalidEventCategoryException",
                                  f"EventCategory must be 'insight', not {category!r}.")
        start = _epoch(params["StartTime"]) if params.get("StartTime") is not None else now - EVENT_HISTORY_SECONDS
        end = _epoch(params["EndTime"]) if params.get("EndTime") is not None else now
        if start > end:
            raise CloudTrailError("InvalidTimeRangeException", "StartTime must be before EndTime.")
        before = _decode_token(params["NextToken"]) if params.get("NextToken") else None
        start = max(start, now - EVENT_HISTORY_SECONDS)
        events: list[dict[str, Any]] = []
        last_number = 0
        next_token = None
        if category is None:  # Insights events: the sandbox raises none
            for call in reversed(self.state.calls):
                if before is not None and call.number >= before:
                    continue
                if call.data_event or call.region != region or not start <= call.at <= end:
                    continue
                if match is not None and not match(call):
                    continue
                if len(events) == max_results:
                    next_token = _encode_token(last_number)
                    break
                events.append(self._history_event(call))
                last_number = call.number
        output: dict[str, Any] = {"Events": events}
        if next_token:
            output["NextToken"] = next_token
        return output

    def _attribute_matcher(self, attribute: dict[str, Any]) -> Callable[[ApiCall], bool]:
        key, value = attribute.get("AttributeKey"), attribute.get("AttributeValue", "")
        if key not in LOOKUP_KEYS:
            raise CloudTrailError("InvalidLookupAttributesException",
                                  f"Unknown lookup attribute key {key!r}; one of {', '.join(LOOKUP_KEYS)}.")
        if not value:
            raise CloudTrailError("InvalidLookupAttributesException",
                                  f"The value of lookup attribute {key} must not be empty.")
        if key == "EventId":
            return lambda call: call.event_id == value
        if key == "EventName":
            return lambda call: call.operation == value
        if key == "ReadOnly":
            if value not in ("true", "false"):
                raise CloudTrailError("InvalidLookupAttributesException", "ReadOnly must be 'true' or 'false'.")
            return lambda call: call.read_only == (value == "true")
        if key == "Username":
            return lambda call: call.principal.user_name == value
        if key == "EventSource":
            return lambda call: call.event_source == value
        if key == "AccessKeyId":
            return lambda call: call.access_key == value
        index = 0 if key == "ResourceType" else 1
        return lambda call: any(pair[index] == value for pair in audit.lookup_resources(call, self.params(call)))

    def _history_event(self, call: ApiCall) -> dict[str, Any]:
        params = self.params(call)
        event: dict[str, Any] = {
            "EventId": call.event_id, "EventName": call.operation, "ReadOnly": "true" if call.read_only else "false",
            "EventTime": float(int(call.at)), "EventSource": call.event_source,  # whole seconds, as eventTime
            "Resources": [{"ResourceType": kind, "ResourceName": name}
                          for kind, name in audit.lookup_resources(call, params)],
            "CloudTrailEvent": json.dumps(audit.render(call, params), separators=(",", ":")),
        }
        if call.access_key:
            event["AccessKeyId"] = call.access_key
        if call.principal.user_name:
            event["Username"] = call.principal.user_name
        return event

    # -- delivery ------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        return self.state.next_delivery

    def run_due(self, now: float) -> None:
        state: CloudTrailState = self.state
        while state.next_delivery is not None and state.next_delivery <= now:
            boundary = state.next_delivery
            self._deliver(boundary)
            pending = state.calls and state.calls[-1].number > state.delivered
            logging = any(trail.logging for trail in state.trails.values())
            # Wait for the next record rather than waking every 5 minutes over an idle month.
            state.next_delivery = boundary + DELIVERY_INTERVAL if pending and logging else None

    def _deliver(self, boundary: float) -> None:
        """One delivery round: every record made before `boundary` goes into its trails' log files."""
        state: CloudTrailState = self.state
        batch: list[ApiCall] = []
        for call in _after(state.calls, state.delivered):
            if call.at >= boundary:
                break
            batch.append(call)
        if not batch:
            return
        state.delivered = batch[-1].number
        for trail in sorted(state.trails.values(), key=lambda t: t.arn):
            by_region: dict[str, list[ApiCall]] = {}
            for call in batch:
                if trail.logged_at(call.at) and self._trail_logs(trail, call):
                    by_region.setdefault(call.region, []).append(call)
            for region, calls in sorted(by_region.items()):
                self._write_log_file(trail, region, calls, boundary)

    def _trail_logs(self, trail: Trail, call: ApiCall) -> bool:
        if _is_global(call.service):
            if not trail.include_global_events:
                return False
        elif call.region != trail.home_region and not trail.multi_region:
            return False
        if trail.advanced_event_selectors is not None:
            return any(_advanced_matches(selector, call, self.params(call))
                       for selector in trail.advanced_event_selectors)
        return any(_basic_matches(selector, call, self.params(call)) for selector in trail.event_selectors or [])

    def _write_log_file(self, trail: Trail, region: str, calls: list[ApiCall], boundary: float) -> None:
        moment = datetime.fromtimestamp(boundary, tz=UTC)
        unique = _unique_id(f"{self.sandbox.lab.seed}|{trail.arn}|{region}|{boundary!r}")
        key = (f"{trail.prefix + '/' if trail.prefix else ''}AWSLogs/{ACCOUNT_ID}/CloudTrail/{region}/"
               f"{moment:%Y/%m/%d}/{ACCOUNT_ID}_CloudTrail_{region}_{moment:%Y%m%dT%H%MZ}_{unique}.json.gz")
        document = json.dumps({"Records": [self.render(call) for call in calls]}, separators=(",", ":"))
        body = gzip.compress(document.encode(), mtime=0)
        trail.latest_delivery_attempt_time = boundary
        problem = self._bucket_problem(trail.bucket, trail.prefix, trail.home_region)
        if problem is None:
            try:
                self.sandbox.data.put_object(trail.home_region, trail.bucket, key, body, "application/json")
            except Exception as exc:  # noqa: BLE001 -- a bucket that refuses the object is a delivery error
                problem = _delivery_error(exc)
        if problem:
            trail.latest_delivery_error = problem
            self.emit("LogFileDeliveryFailed", region=trail.home_region, resource=trail.arn,
                      bucket=trail.bucket, error=trail.latest_delivery_error)
            return
        trail.latest_delivery_time = boundary
        trail.latest_delivery_succeeded = boundary
        trail.latest_delivery_error = None
        self.emit("LogFileDelivered", region=trail.home_region, resource=trail.arn, bucket=trail.bucket, key=key,
                  records=len(calls))

    def describe(self) -> dict[str, Any]:
        state: CloudTrailState = self.state
        return {"calls_recorded": state.recorded, "calls_kept": len(state.calls), "trails": len(state.trails),
                "logging": sorted(trail.arn for trail in state.trails.values() if trail.logging)}


# -- helpers ------------------------------------------------------------------------------------------


def _after(calls: deque[ApiCall], number: int) -> Iterable[ApiCall]:
    """Records numbered above `number`, oldest first (they sit at the end of the deque)."""
    pending: list[ApiCall] = []
    for call in reversed(calls):
        if call.number <= number:
            break
        pending.append(call)
    return reversed(pending)


def _log_folder(bucket: str, prefix: str | None) -> str:
    return f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}AWSLogs/{ACCOUNT_ID}/"


def _next_boundary(moment: float) -> float:
    return (int(moment // DELIVERY_INTERVAL) + 1) * DELIVERY_INTERVAL


def _unique_id(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_UNIQUE_ALPHABET[byte % len(_UNIQUE_ALPHABET)] for byte in digest[:16])


def _delivery_error(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or "AccessDenied")
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return "NoSuchBucket" if code == "MissingBucket" else code
    return "NoSuchBucket" if "bucket" in type(exc).__name__.lower() else "AccessDenied"


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def _encode_token(number: int) -> str:
    return base64.urlsafe_b64encode(f"lab-lookup:{number}".encode()).decode()


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        label, number = text.split(":", 1)
        if label != "lab-lookup":
            raise ValueError(label)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise CloudTrailError("InvalidNextTokenException", "Invalid NextToken: pass the one the last "
                                                           "LookupEvents answer returned.") from exc


def _is_global(service: str) -> bool:
    return service in ("iam", "route53", "cloudfront", "organizations", "route53domains")


def _check_trail_name(name: str) -> None:
    problem = None
    if not 3 <= len(name) <= 128:
        problem = "it must be 3 to 128 characters long"
    elif not _TRAIL_NAME.fullmatch(name):
        problem = ("it may contain only letters, numbers, periods, underscores and dashes, and must start and end "
                   "with a letter or number")
    elif re.search(r"[._-]{2}", name):
        problem = "it must not have adjacent periods, underscores or dashes"
    else:
        try:
            ipaddress.ip_address(name)
            problem = "it must not look like an IP address"
        except ValueError:
            pass
    if problem:
        raise CloudTrailError("InvalidTrailNameException", f"Trail name {name!r} is not valid: {problem}.")


def _policy_allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    statements = policy.get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else None
        if principal != "*" and SERVICE_PRINCIPAL not in _as_list(services):
            continue
        actions = _as_list(statement.get("Action"))
        if not any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in actions):
            continue
        if any(fnmatch.fnmatchcase(resource, pattern) for pattern in _as_list(statement.get("Resource"))):
            return True
    return False


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _check_basic_selectors(selectors: list[dict[str, Any]]) -> None:
    if not 1 <= len(selectors) <= 5:
        raise CloudTrailError("InvalidEventSelectorsException", "A trail takes 1 to 5 event selectors.")
    values = 0
    for selector in selectors:
        if selector.get("ReadWriteType", "All") not in ("ReadOnly", "WriteOnly", "All"):
            raise CloudTrailError("InvalidEventSelectorsException", "ReadWriteType must be ReadOnly, WriteOnly or "
                                                                    f"All, not {selector['ReadWriteType']!r}.")
        for resource in selector.get("DataResources") or []:
            kind = resource.get("Type")
            if kind not in DATA_RESOURCE_TYPES:
                raise CloudTrailError("InvalidEventSelectorsException",
                                      f"Data resource type {kind!r} is not valid in EventSelectors; one of "
                                      f"{', '.join(DATA_RESOURCE_TYPES)} (use AdvancedEventSelectors for others).")
            for value in resource.get("Values") or []:
                values += 1
                if not _valid_data_value(kind, value):
                    raise CloudTrailError("InvalidEventSelectorsException",
                                          f"Value {value} for data resource type {kind} is not valid: use "
                                          f"{_data_value_hint(kind)}.")
    if values > 250:
        raise CloudTrailError("InvalidEventSelectorsException",
                              "Event selectors take at most 250 data resource values.")


def _valid_data_value(kind: str, value: str) -> bool:
    if kind == "AWS::S3::Object":
        return value in ("arn:aws:s3", "arn:aws:s3:::") or \
            re.fullmatch(r"arn:aws:s3:::[a-z0-9.-]{3,63}/.*", value) is not None
    if kind == "AWS::DynamoDB::Table":
        return value == "arn:aws:dynamodb" or \
            re.fullmatch(r"arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table/.+", value) is not None
    return value == "arn:aws:lambda" or value.startswith("arn:aws:lambda:")


def _data_value_hint(kind: str) -> str:
    return {"AWS::S3::Object": "arn:aws:s3 (all buckets) or arn:aws:s3:::BUCKET/ (a bucket, optionally with a "
                               "prefix)",
            "AWS::DynamoDB::Table": "arn:aws:dynamodb (all tables) or a table ARN",
            }.get(kind, "arn:aws:lambda (all functions) or a function ARN")


def _normalised_basic(selector: dict[str, Any]) -> dict[str, Any]:
    return {"ReadWriteType": selector.get("ReadWriteType", "All"),
            "IncludeManagementEvents": selector.get("IncludeManagementEvents", True),
            "DataResources": selector.get("DataResources") or [],
            "ExcludeManagementEventSources": selector.get("ExcludeManagementEventSources") or []}


def _check_advanced_selectors(selectors: list[dict[str, Any]]) -> None:
    if not 1 <= len(selectors) <= 500:
        raise CloudTrailError("InvalidEventSelectorsException", "A trail takes 1 to 500 advanced event selectors.")
    for selector in selectors:
        fields = selector.get("FieldSelectors") or []
        names = [field_selector.get("Field") for field_selector in fields]
        if "eventCategory" not in names:
            label = selector.get("Name") or ""
            raise CloudTrailError("InvalidEventSelectorsException",
                                  f"Advanced event selector {label!r} needs an eventCategory field.")
        for field_selector in fields:
            if field_selector.get("Field") not in ADVANCED_FIELDS:
                raise CloudTrailError("InvalidEventSelectorsException", f"Unknown field {field_selector.get('Field')!r}"
                                                                        f"; one of {', '.join(ADVANCED_FIELDS)}.")
            if not any(field_selector.get(operator) for operator in ADVANCED_OPERATORS):
                raise CloudTrailError("InvalidEventSelectorsException",
                                      f"Field selector {field_selector['Field']} needs an operator: "
                                      f"{', '.join(ADVANCED_OPERATORS)}.")
        category = next(f for f in fields if f.get("Field") == "eventCategory")
        if "Data" in (category.get("Equals") or []) and "resources.type" not in names:
            raise CloudTrailError("InvalidEventSelectorsException",
                                  "An advanced event selector for data events needs a resources.type field.")


def _read_write_matches(read_write: str, read_only: bool) -> bool:
    return read_write == "All" or (read_write == "ReadOnly") == read_only


def _basic_matches(selector: dict[str, Any], call: ApiCall, params: dict[str, Any] | None) -> bool:
    if not _read_write_matches(selector.get("ReadWriteType", "All"), call.read_only):
        return False
    if not call.data_event:
        source = call.event_source
        return bool(selector.get("IncludeManagementEvents", True)) and \
            source not in (selector.get("ExcludeManagementEventSources") or [])
    touched = audit.data_resources(call, params)
    for resource in selector.get("DataResources") or []:
        kind = resource.get("Type")
        for value in resource.get("Values") or []:
            for touched_kind, arn in touched:
                if kind == "AWS::S3::Object" and touched_kind in ("AWS::S3::Object", "AWS::S3::Bucket"):
                    target = arn if touched_kind == "AWS::S3::Object" else arn + "/"
                    if value in ("arn:aws:s3", "arn:aws:s3:::") or target.startswith(value):
                        return True
                elif kind == touched_kind and (value in ("arn:aws:dynamodb", "arn:aws:lambda") or arn == value):
                    return True
    return False


def _advanced_matches(selector: dict[str, Any], call: ApiCall, params: dict[str, Any] | None) -> bool:
    resources = audit.data_resources(call, params) if call.data_event else []
    facts: dict[str, list[str]] = {
        "eventCategory": ["Data" if call.data_event else "Management"],
        "eventSource": [call.event_source],
        "eventName": [call.operation],
        "eventType": ["AwsApiCall"],
        "readOnly": ["true" if call.read_only else "false"],
        "resources.type": [kind for kind, _ in resources[:1]],
        "resources.ARN": [arn for _, arn in resources[:1]],
        "errorCode": [call.error_code] if call.error_code else [],
        "userIdentity.arn": [call.principal.arn] if call.principal.arn else [],
        "sessionCredentialFromConsole": ["false"],
    }
    for field_selector in selector.get("FieldSelectors") or []:
        values = facts.get(field_selector.get("Field", ""), [])
        if not _field_matches(field_selector, values):
            return False
    return True


def _field_matches(field_selector: dict[str, Any], values: list[str]) -> bool:
    checks = {
        "Equals": lambda v, x: v == x, "StartsWith": lambda v, x: v.startswith(x),
        "EndsWith": lambda v, x: v.endswith(x),
    }
    for operator, check in checks.items():
        wanted = field_selector.get(operator)
        if wanted and not any(check(value, item) for value in values for item in wanted):
            return False
        negated = field_selector.get("Not" + operator)
        if negated and any(check(value, item) for value in values for item in negated):
            return False
    return True


def _trail_output(trail: Trail) -> dict[str, Any]:
    described = trail.describe()
    for key in ("HomeRegion", "HasCustomEventSelectors", "HasInsightSelectors"):
        described.pop(key, None)
    return described
