"""CloudTrail, owned by the lab: the record of every API call, LookupEvents, and trails that deliver log files.

moto stores trails but records nothing and has no LookupEvents, so the lab owns the whole service (one
store: trails, event selectors, logging status and the calls themselves). The audit handler
(lab.gateway.handlers.audit) hands every call through the gateway to `record`; LookupEvents reads them as
AWS's event history does (management events of the region, newest first, 90 days); trails that are logging
deliver gzipped JSON log files to their S3 bucket every 5 minutes of sim time, at
`[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<stamp>_<id>.json.gz`.
A trail with log file validation also delivers a signed digest file every hour per region (digest.py), and a
trail with an SNS topic publishes `{"s3Bucket": ..., "s3ObjectKey": [...]}` to it for every log file delivered
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/configure-sns-notifications-for-cloudtrail.html).

Like AWS, CreateTrail and UpdateTrail refuse a bucket that does not exist or whose policy does not let
cloudtrail.amazonaws.com read its ACL and put objects under AWSLogs/<account>/; a trail starts logging only
after StartLogging.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import json
import string
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lab import config
from lab.gateway import audit
from lab.gateway.audit import ApiCall, Principal
from lab.kernel.context import RequestContext
from lab.kernel.engine import Engine
from lab.kernel.port import Sandbox
from lab.services.cloudtrail.digest import (
    DIGEST_INTERVAL,
    DeliveredLog,
    DigestLink,
    SigningKey,
    build_digest,
    derived_signing_key,
    digest_key,
)

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
_UNIQUE_ALPHABET = string.ascii_letters + string.digits


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
    # Log file validation: per region, the last digest delivered and the log files the next one lists.
    digest_links: dict[str, DigestLink] | None = None
    undigested: dict[str, list[DeliveredLog]] | None = None
    latest_digest_delivery_time: float | None = None
    latest_digest_delivery_error: str | None = None
    latest_notification_time: float | None = None
    latest_notification_attempt_time: float | None = None
    latest_notification_error: str | None = None

    @property
    def arn(self) -> str:
        return trail_arn(self.home_region, self.name)

    @property
    def sns_topic_arn(self) -> str | None:
        """SnsTopicName takes a name or an ARN; a name is a topic of the trail's home region."""
        if not self.sns_topic:
            return None
        if self.sns_topic.startswith("arn:"):
            return self.sns_topic
        return f"arn:aws:sns:{self.home_region}:{ACCOUNT_ID}:{self.sns_topic}"

    def digest_regions(self) -> tuple[str, ...]:
        return config.REGIONS if self.multi_region else (self.home_region,)

    def logged_at(self, moment: float) -> bool:
        return any(start <= moment and (stop is None or moment < stop)
                   for start, stop in self.logging_periods)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "Name": self.name, "S3BucketName": self.bucket, "S3KeyPrefix": self.prefix,
            "SnsTopicName": self.sns_topic.rsplit(":", 1)[-1] if self.sns_topic else None,
            "SnsTopicARN": self.sns_topic_arn,
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
    next_digest: float | None = None  # the next hourly digest round, while a trail validates its log files
    signing_keys: dict[str, SigningKey] | None = None  # per region: the digest signing key


class CloudTrail(Engine):
    name = "cloudtrail"
    order = 200  # log files gather what the other engines did at the same instant
    service_principal = SERVICE_PRINCIPAL

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        # Parsed parameters of recent records, so lookups by resource do not parse a call twice. Not state:
        # a pure function of the records, rebuilt on demand.
        self._params: OrderedDict[tuple[int, float], dict[str, Any] | None] = OrderedDict()
        # The last answer of the digest rounds' bucket check, by (bucket, prefix, region), with the number of calls
        # recorded when it was asked (not state: a function of the world, asked again after a restart).
        self._bucket_checks: dict[tuple[str, str | None, str], tuple[int, str | None]] = {}

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

    def principal_for(self, access_key: str | None) -> Principal:
        """Who calls with `access_key`: the user or role session it was issued to, else the lab's own user."""
        return self.state.principals.get(access_key or "", audit.DEFAULT_PRINCIPAL)

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
        answer = self.sandbox.call_output(ctx)
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
        request = self.sandbox.call_params(ctx)
        role_arn = request.get("RoleArn", "")
        role_id = assumed.get("AssumedRoleId", "").split(":", 1)[0] or None
        state.principals[access_key] = Principal(
            "AssumedRole", arn=assumed.get("Arn"), principal_id=assumed.get("AssumedRoleId"),
            user_name=request.get("RoleSessionName"), issuer_arn=role_arn, issuer_id=role_id, issued_at=self.now())

    def bucket_problem(self, bucket: str, prefix: str | None, region: str) -> str | None:
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

    # -- delivery ------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        state: CloudTrailState = self.state
        dues = [due for due in (state.next_delivery, state.next_digest) if due is not None]
        return min(dues) if dues else None

    def run_due(self, now: float) -> None:
        state: CloudTrailState = self.state
        while True:
            delivery, digest = state.next_delivery, state.next_digest
            if delivery is not None and delivery <= now and (digest is None or delivery <= digest):
                # Log files first at a shared instant: the digest of that hour lists them.
                self._deliver(delivery)
                pending = state.calls and state.calls[-1].number > state.delivered
                logging = any(trail.logging for trail in state.trails.values())
                # Wait for the next record rather than waking every 5 minutes over an idle month.
                state.next_delivery = delivery + DELIVERY_INTERVAL if pending and logging else None
            elif digest is not None and digest <= now:
                self._digest_round(digest)
                # AWS delivers a digest every hour even when no log file was delivered in it.
                state.next_digest = digest + DIGEST_INTERVAL if self._validating() else None
            else:
                return

    def _validating(self) -> bool:
        return any(trail.logging and trail.log_file_validation for trail in self.state.trails.values())

    def schedule_digests(self) -> None:
        """Start the hourly digest rounds once a logging trail validates its log files (API calls this)."""
        state: CloudTrailState = self.state
        if state.next_digest is None and self._validating():
            state.next_digest = (int(self.now() // DIGEST_INTERVAL) + 1) * DIGEST_INTERVAL

    def signing_key(self, region: str) -> SigningKey:
        """The region's digest signing key, made the first time it is needed (ListPublicKeys or a digest)."""
        state: CloudTrailState = self.state
        if state.signing_keys is None:
            state.signing_keys = {}
        key = state.signing_keys.get(region)
        if key is None:
            valid_from = float(int(self.now() // 86400) * 86400)
            key = state.signing_keys[region] = derived_signing_key(
                region, valid_from, f"{self.sandbox.lab.seed}|cloudtrail-digest-key|{region}")
        return key

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
        problem = self.bucket_problem(trail.bucket, trail.prefix, trail.home_region)
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
        if trail.log_file_validation:
            if trail.undigested is None:
                trail.undigested = {}
            trail.undigested.setdefault(region, []).append(DeliveredLog(
                trail.bucket, key, hashlib.sha256(document.encode()).hexdigest(), boundary,
                float(int(min(call.at for call in calls))), float(int(max(call.at for call in calls)))))
        if trail.sns_topic:
            self._notify(trail, [key], boundary)

    def _notify(self, trail: Trail, keys: list[str], moment: float) -> None:
        """Publish the delivery to the trail's SNS topic, as CloudTrail's notification reads."""
        from botocore.exceptions import ClientError

        topic = trail.sns_topic_arn
        assert topic is not None
        trail.latest_notification_attempt_time = moment
        message = json.dumps({"s3Bucket": trail.bucket, "s3ObjectKey": keys})
        try:
            with audit.unrecorded():
                self.sandbox.client("sns", topic.split(":")[3]).publish(TopicArn=topic, Message=message)
        except ClientError as exc:
            trail.latest_notification_error = _delivery_error(exc)
            self.emit("NotificationFailed", region=trail.home_region, resource=trail.arn, topic=topic,
                      error=trail.latest_notification_error)
            return
        trail.latest_notification_time = moment
        trail.latest_notification_error = None
        self.emit("NotificationPublished", region=trail.home_region, resource=trail.arn, topic=topic, keys=keys)

    def _digest_round(self, end: float) -> None:
        """One hour's digest files: per validating trail and region, the log files delivered since the last."""
        for trail in sorted(self.state.trails.values(), key=lambda t: t.arn):
            if not (trail.logging and trail.log_file_validation):
                # A trail that stopped logging or validating breaks its chain; the next digest starts a new one.
                trail.digest_links, trail.undigested = None, None
                continue
            problem = self._digest_bucket_problem(trail)
            for region in trail.digest_regions():
                self._write_digest(trail, region, end, problem)

    def _digest_bucket_problem(self, trail: Trail) -> str | None:
        """`bucket_problem`, asked again only after some call was made: a bucket and its policy change only by
        calls (all recorded), and an idle month has a digest round every hour."""
        asked = (trail.bucket, trail.prefix, trail.home_region)
        recorded = self.state.recorded
        known = self._bucket_checks.get(asked)
        if known is not None and known[0] == recorded:
            return known[1]
        problem = self.bucket_problem(*asked)
        self._bucket_checks[asked] = (recorded, problem)
        return problem

    def _write_digest(self, trail: Trail, region: str, end: float, problem: str | None) -> None:
        links = trail.digest_links if trail.digest_links is not None else {}
        undigested = trail.undigested if trail.undigested is not None else {}
        trail.digest_links, trail.undigested = links, undigested
        previous = links.get(region)
        if previous is not None and (trail.start_logging_time or 0) > previous.end:
            previous = None  # logging stopped and started again since: a new chain
        logs = undigested.get(region, [])
        key = digest_key(ACCOUNT_ID, trail.prefix, region, trail.name, trail.home_region, end)
        signed = build_digest(account=ACCOUNT_ID, bucket=trail.bucket, key=key, start=end - DIGEST_INTERVAL,
                              end=end, logs=logs, previous=previous, signing_key=self.signing_key(region))
        if problem is None:
            try:
                self.sandbox.data.put_object(trail.home_region, trail.bucket, key, signed.body, "application/json",
                                             metadata=signed.metadata)
            except Exception as exc:  # noqa: BLE001 -- a bucket that refuses the object is a delivery error
                problem = _delivery_error(exc)
        if problem:
            # The log files wait for the next digest; the chain goes on from the last one delivered.
            trail.latest_digest_delivery_error = problem
            self.emit("DigestDeliveryFailed", region=trail.home_region, resource=trail.arn, error=problem)
            return
        undigested.pop(region, None)
        links[region] = signed.link
        trail.latest_digest_delivery_time = end
        trail.latest_digest_delivery_error = None
        self.emit("DigestFileDelivered", region=trail.home_region, resource=trail.arn, bucket=trail.bucket, key=key,
                  log_files=len(logs))

    def topic_problem(self, topic_arn: str) -> str | None:
        """What stops CloudTrail publishing to the topic: "NotFound", "AccessDenied" (its policy), or None."""
        from botocore.exceptions import ClientError

        sns = self.sandbox.client("sns", topic_arn.split(":")[3])
        with audit.unrecorded():
            try:
                attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
            except ClientError:
                return "NotFound"
        try:
            policy = json.loads(attributes.get("Policy") or "{}")
        except ValueError:
            policy = {}
        return None if _policy_allows(policy, "sns:Publish", topic_arn) else "AccessDenied"

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





def _is_global(service: str) -> bool:
    return service in ("iam", "route53", "cloudfront", "organizations", "route53domains")



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
