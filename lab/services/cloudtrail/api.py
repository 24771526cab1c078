"""The CloudTrail API, answered by the lab (it owns the whole service): trails, event selectors, logging, tags,
and LookupEvents over the calls the CloudTrail engine recorded. Operations the lab does not simulate answer
NotImplemented."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lab.gateway import audit
from lab.gateway.audit import ApiCall
from lab.kernel.api import Call, ServiceApi
from lab.kernel.errors import AwsError
from lab.services.cloudtrail.engine import (
    ACCOUNT_ID,
    ADVANCED_FIELDS,
    ADVANCED_OPERATORS,
    DATA_RESOURCE_TYPES,
    EVENT_HISTORY_SECONDS,
    LOOKUP_KEYS,
    MAX_LOOKUP_RESULTS,
    MAX_TRAILS_PER_REGION,
    SERVICE,
    SERVICE_PRINCIPAL,
    CloudTrail,
    CloudTrailState,
    Trail,
    _log_folder,
    _next_boundary,
    trail_arn,
)
from lab.services.s3.api import bucket_name_problem
from lab.sim.clock import iso

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

_TRAIL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]")


class CloudTrailApi(ServiceApi):
    service = SERVICE
    owns_service = True
    implemented_by = "the lab's CloudTrail"
    service_principal = SERVICE_PRINCIPAL

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(CloudTrail)
        assert engine is not None, "the CloudTrail API needs the CloudTrail engine"
        self.engine = engine

    def _find(self, name: str | None, region: str, *, home_only: bool) -> Trail:
        """A trail by name (in its home region) or ARN (anywhere; changes only from its home region)."""
        if not name:
            raise AwsError("TrailNotProvidedException", "Trail name or ARN was not provided.")
        state: CloudTrailState = self.engine.state
        if name.startswith("arn:"):
            match = re.fullmatch(r"arn:aws:cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)", name)
            if match is None:
                raise AwsError("CloudTrailARNInvalidException", f"Invalid CloudTrail ARN: {name}")
            trail = state.trails.get(name)
            if trail is None:
                raise AwsError("TrailNotFoundException", f"Unknown trail: {name} for the user: {ACCOUNT_ID}")
            if home_only and trail.home_region != region:
                raise AwsError("InvalidHomeRegionException",
                                      f"This operation must be called from the trail's home region "
                                      f"{trail.home_region}, not {region}.")
            return trail
        _check_trail_name(name)
        trail = state.trails.get(trail_arn(region, name))
        if trail is None:
            raise AwsError("TrailNotFoundException",
                                  f"Unknown trail: {trail_arn(region, name)} for the user: {ACCOUNT_ID}")
        return trail


    def _check_bucket(self, bucket: str, prefix: str | None, region: str) -> None:
        """CloudTrail's check when a trail is created or moved: the bucket exists and lets CloudTrail write."""
        if prefix is not None and (len(prefix) > 200 or prefix.startswith("/")):
            raise AwsError("InvalidS3PrefixException", f"Invalid S3 key prefix: {prefix!r}")
        naming = bucket_name_problem(bucket)
        if naming:  # (CloudTrail's own exception for it: API Reference, CreateTrail, Errors)
            raise AwsError("InvalidS3BucketNameException", f"Bucket name {bucket[:100]!r} is not valid: {naming}")
        problem = self.engine.bucket_problem(bucket, prefix, region)
        if problem == "NoSuchBucket":
            raise AwsError("S3BucketDoesNotExistException", f"S3 bucket does not exist: {bucket}")
        if problem:
            raise AwsError(
                "InsufficientS3BucketPolicyException",
                f"Incorrect S3 bucket policy is detected for bucket: {bucket}. The bucket policy must allow the "
                f"service principal {SERVICE_PRINCIPAL} s3:GetBucketAcl on arn:aws:s3:::{bucket} and "
                f"s3:PutObject on {_log_folder(bucket, prefix)}*")

    def _check_topic(self, topic: str | None, region: str) -> None:
        """CloudTrail's check of SnsTopicName: the topic exists and its policy lets CloudTrail publish.

        https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-permissions-for-sns-notifications.html
        """
        if not topic:
            return
        arn = Trail(name="", home_region=region, bucket="", sns_topic=topic).sns_topic_arn
        assert arn is not None
        if not re.fullmatch(r"arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}", arn):
            raise AwsError("InvalidSnsTopicNameException", f"Invalid SNS topic name or ARN: {topic}")
        problem = self.engine.topic_problem(arn)
        if problem == "NotFound":
            raise AwsError("InsufficientSnsTopicPolicyException",
                           f"SNS topic {arn} does not exist or CloudTrail cannot publish to it.")
        if problem:
            raise AwsError("InsufficientSnsTopicPolicyException",
                           f"Incorrect SNS topic policy is detected for topic: {arn}. The topic policy must allow "
                           f"the service principal {SERVICE_PRINCIPAL} SNS:Publish on {arn}")

    def op_CreateTrail(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        name = params.get("Name", "")
        _check_trail_name(name)
        state: CloudTrailState = self.engine.state
        arn = trail_arn(region, name)
        if arn in state.trails:
            raise AwsError("TrailAlreadyExistsException", f"Trail {arn} already exists for customer: "
                                                                 f"{ACCOUNT_ID}")
        if sum(1 for trail in state.trails.values() if trail.home_region == region) >= MAX_TRAILS_PER_REGION:
            raise AwsError("MaximumNumberOfTrailsExceededException",
                                  f"User: {ACCOUNT_ID} already has {MAX_TRAILS_PER_REGION} trails in {region}.")
        if params.get("IsOrganizationTrail"):
            raise AwsError("OrganizationsNotInUseException",
                                  "This account is not part of an organization: organization trails are not available.")
        if params.get("IsMultiRegionTrail") and params.get("IncludeGlobalServiceEvents") is False:
            raise AwsError("InvalidParameterCombinationException",
                                  "Multi-Region trail must include global service events.")
        bucket = params.get("S3BucketName", "")
        self._check_bucket(bucket, params.get("S3KeyPrefix"), region)
        self._check_topic(params.get("SnsTopicName"), region)
        trail = Trail(name=name, home_region=region, bucket=bucket, prefix=params.get("S3KeyPrefix") or None,
                      sns_topic=params.get("SnsTopicName"),
                      include_global_events=params.get("IncludeGlobalServiceEvents", True),
                      multi_region=bool(params.get("IsMultiRegionTrail", False)),
                      log_file_validation=bool(params.get("EnableLogFileValidation", False)),
                      kms_key_id=params.get("KmsKeyId"), log_group_arn=params.get("CloudWatchLogsLogGroupArn"),
                      log_role_arn=params.get("CloudWatchLogsRoleArn"),
                      tags={tag["Key"]: tag.get("Value", "") for tag in params.get("TagsList") or []})
        state.trails[arn] = trail
        self.engine.emit("TrailCreated", region=region, resource=arn)
        return _trail_output(trail)

    def op_UpdateTrail(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        trail = self._find(params.get("Name"), region, home_only=True)
        bucket = params.get("S3BucketName", trail.bucket)
        prefix = (params["S3KeyPrefix"] or None) if "S3KeyPrefix" in params else trail.prefix
        multi_region = params.get("IsMultiRegionTrail", trail.multi_region)
        include_global = params.get("IncludeGlobalServiceEvents", trail.include_global_events)
        if multi_region and not include_global:
            raise AwsError("InvalidParameterCombinationException",
                                  "Multi-Region trail must include global service events.")
        if bucket != trail.bucket or prefix != trail.prefix:
            self._check_bucket(bucket, prefix, region)
        if params.get("SnsTopicName") and params["SnsTopicName"] != trail.sns_topic:
            self._check_topic(params["SnsTopicName"], region)
        trail.bucket, trail.prefix = bucket, prefix
        trail.multi_region, trail.include_global_events = bool(multi_region), bool(include_global)
        trail.sns_topic = params.get("SnsTopicName", trail.sns_topic) or None
        trail.log_file_validation = bool(params.get("EnableLogFileValidation", trail.log_file_validation))
        trail.kms_key_id = params.get("KmsKeyId", trail.kms_key_id) or None
        trail.log_group_arn = params.get("CloudWatchLogsLogGroupArn", trail.log_group_arn) or None
        trail.log_role_arn = params.get("CloudWatchLogsRoleArn", trail.log_role_arn) or None
        self.engine.schedule_digests()
        self.engine.emit("TrailUpdated", region=region, resource=trail.arn)
        return _trail_output(trail)

    def op_DeleteTrail(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        trail = self._find(params.get("Name"), region, home_only=True)
        del self.engine.state.trails[trail.arn]
        self.engine.emit("TrailDeleted", region=region, resource=trail.arn)
        return {}

    def op_GetTrail(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        return {"Trail": self._find(params.get("Name"), region, home_only=False).describe()}

    def op_DescribeTrails(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        include_shadows = params.get("includeShadowTrails", True)
        visible = [trail for trail in self.engine.state.trails.values()
                   if trail.home_region == region or (include_shadows and trail.multi_region)]
        wanted = params.get("trailNameList") or []
        if wanted:
            visible = [trail for trail in visible if trail.name in wanted or trail.arn in wanted]
        return {"trailList": [trail.describe() for trail in sorted(visible, key=lambda t: t.arn)]}

    def op_ListTrails(self, call: Call) -> dict[str, Any]:
        return {"Trails": [{"TrailARN": trail.arn, "Name": trail.name, "HomeRegion": trail.home_region}
                           for trail in sorted(self.engine.state.trails.values(), key=lambda t: t.arn)]}

    def op_GetTrailStatus(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        trail = self._find(params.get("Name"), region, home_only=False)
        status: dict[str, Any] = {"IsLogging": trail.logging}
        if trail.start_logging_time is not None:
            status["StartLoggingTime"] = trail.start_logging_time
            status["TimeLoggingStarted"] = iso(trail.start_logging_time)
        if trail.stop_logging_time is not None:
            status["StopLoggingTime"] = trail.stop_logging_time
            status["TimeLoggingStopped"] = iso(trail.stop_logging_time)
        if trail.latest_delivery_time is not None:
            status["LatestDeliveryTime"] = trail.latest_delivery_time
        if trail.latest_delivery_attempt_time is not None:
            status["LatestDeliveryAttemptTime"] = iso(trail.latest_delivery_attempt_time)
        if trail.latest_delivery_succeeded is not None:
            status["LatestDeliveryAttemptSucceeded"] = iso(trail.latest_delivery_succeeded)
        if trail.latest_delivery_error:
            status["LatestDeliveryError"] = trail.latest_delivery_error
        if trail.latest_digest_delivery_time is not None:
            status["LatestDigestDeliveryTime"] = trail.latest_digest_delivery_time
        if trail.latest_digest_delivery_error:
            status["LatestDigestDeliveryError"] = trail.latest_digest_delivery_error
        if trail.latest_notification_time is not None:
            status["LatestNotificationTime"] = trail.latest_notification_time
        if trail.latest_notification_attempt_time is not None:
            status["LatestNotificationAttemptTime"] = iso(trail.latest_notification_attempt_time)
            if trail.latest_notification_time == trail.latest_notification_attempt_time:
                status["LatestNotificationAttemptSucceeded"] = iso(trail.latest_notification_time)
        if trail.latest_notification_error:
            status["LatestNotificationError"] = trail.latest_notification_error
        return status

    def op_ListPublicKeys(self, call: Call) -> dict[str, Any]:
        """The region's digest signing keys valid in [StartTime, EndTime] (default: the current key)."""
        params, region = call.params, call.region
        now = self.engine.now()
        start = _epoch(params["StartTime"]) if params.get("StartTime") is not None else now
        end = _epoch(params["EndTime"]) if params.get("EndTime") is not None else now
        if start > end:
            raise AwsError("InvalidTimeRangeException", "StartTime must be before EndTime.")
        key = self.engine.signing_key(region)
        keys = [key.public_key_entry()] if key.valid_from <= end else []
        return {"PublicKeyList": keys}

    def op_StartLogging(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        trail = self._find(params.get("Name"), region, home_only=True)
        if not trail.logging:
            now = self.engine.now()
            trail.logging = True
            trail.start_logging_time = now
            trail.logging_periods = [*trail.logging_periods[-99:], [now, None]]
            state: CloudTrailState = self.engine.state
            if state.next_delivery is None:
                state.next_delivery = _next_boundary(now)
            self.engine.schedule_digests()
            self.engine.emit("TrailLoggingStarted", region=region, resource=trail.arn)
        return {}

    def op_StopLogging(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        trail = self._find(params.get("Name"), region, home_only=True)
        if trail.logging:
            now = self.engine.now()
            trail.logging = False
            trail.stop_logging_time = now
            trail.logging_periods[-1][1] = now
            self.engine.emit("TrailLoggingStopped", region=region, resource=trail.arn)
        return {}

    def op_PutEventSelectors(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        trail = self._find(params.get("TrailName"), region, home_only=True)
        basic, advanced = params.get("EventSelectors"), params.get("AdvancedEventSelectors")
        if (basic is None) == (advanced is None):
            raise AwsError("InvalidEventSelectorsException",
                                  "Specify either EventSelectors or AdvancedEventSelectors, not both and not neither.")
        if basic is not None:
            _check_basic_selectors(basic)
            trail.event_selectors = [_normalised_basic(selector) for selector in basic]
            trail.advanced_event_selectors = None
        else:
            _check_advanced_selectors(advanced)
            trail.advanced_event_selectors = advanced
            trail.event_selectors = None
        self.engine.emit("EventSelectorsChanged", region=region, resource=trail.arn)
        return self._event_selectors(trail)

    def op_GetEventSelectors(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        return self._event_selectors(self._find(params.get("TrailName"), region, home_only=False))

    def _event_selectors(self, trail: Trail) -> dict[str, Any]:
        output: dict[str, Any] = {"TrailARN": trail.arn}
        if trail.advanced_event_selectors is not None:
            output["AdvancedEventSelectors"] = trail.advanced_event_selectors
        else:
            output["EventSelectors"] = trail.event_selectors
        return output


    def op_AddTags(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        trail = self._find(params.get("ResourceId"), region, home_only=True)
        tags = params.get("TagsList") or []
        if len({**trail.tags, **{tag["Key"]: "" for tag in tags}}) > 50:
            raise AwsError("TagsLimitExceededException", "A trail can have at most 50 tags.")
        trail.tags.update({tag["Key"]: tag.get("Value", "") for tag in tags})
        return {}

    def op_RemoveTags(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        trail = self._find(params.get("ResourceId"), region, home_only=True)
        for tag in params.get("TagsList") or []:
            trail.tags.pop(tag["Key"], None)
        return {}

    def op_ListTags(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        found = [self._find(name, region, home_only=False) for name in params.get("ResourceIdList") or []]
        return {"ResourceTagList": [{"ResourceId": trail.arn,
                                     "TagsList": [{"Key": k, "Value": v} for k, v in sorted(trail.tags.items())]}
                                    for trail in found]}

    # -- LookupEvents --------------------------------------------------------------------------------

    def op_LookupEvents(self, call: Call) -> dict[str, Any]:
        params, region = call.params, call.region
        now = self.engine.now()
        attributes = params.get("LookupAttributes") or []
        if len(attributes) > 1:
            raise AwsError("InvalidLookupAttributesException",
                                  "You can specify only one lookup attribute; got "
                                  f"{len(attributes)}: {', '.join(a.get('AttributeKey', '?') for a in attributes)}")
        match = self._attribute_matcher(attributes[0]) if attributes else None
        max_results = params.get("MaxResults", MAX_LOOKUP_RESULTS)
        if not 1 <= max_results <= MAX_LOOKUP_RESULTS:
            raise AwsError("InvalidMaxResultsException",
                                  f"MaxResults must be between 1 and {MAX_LOOKUP_RESULTS}, not {max_results}.")
        category = params.get("EventCategory")
        if category not in (None, "insight"):
            raise AwsError("InvalidEventCategoryException",
                                  f"EventCategory must be 'insight', not {category!r}.")
        start = _epoch(params["StartTime"]) if params.get("StartTime") is not None else now - EVENT_HISTORY_SECONDS
        end = _epoch(params["EndTime"]) if params.get("EndTime") is not None else now
        if start > end:
            raise AwsError("InvalidTimeRangeException", "StartTime must be before EndTime.")
        before = _decode_token(params["NextToken"]) if params.get("NextToken") else None
        start = max(start, now - EVENT_HISTORY_SECONDS)
        events: list[dict[str, Any]] = []
        last_number = 0
        next_token = None
        if category is None:  # Insights events: the sandbox raises none
            for call in reversed(self.engine.state.calls):
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
            raise AwsError("InvalidLookupAttributesException",
                                  f"Unknown lookup attribute key {key!r}; one of {', '.join(LOOKUP_KEYS)}.")
        if not value:
            raise AwsError("InvalidLookupAttributesException",
                                  f"The value of lookup attribute {key} must not be empty.")
        if key == "EventId":
            return lambda call: call.event_id == value
        if key == "EventName":
            return lambda call: call.operation == value
        if key == "ReadOnly":
            if value not in ("true", "false"):
                raise AwsError("InvalidLookupAttributesException", "ReadOnly must be 'true' or 'false'.")
            return lambda call: call.read_only == (value == "true")
        if key == "Username":
            return lambda call: call.principal.user_name == value
        if key == "EventSource":
            return lambda call: call.event_source == value
        if key == "AccessKeyId":
            return lambda call: call.access_key == value
        index = 0 if key == "ResourceType" else 1
        return lambda call: any(pair[index] == value for pair in audit.lookup_resources(call, self.engine.params(call)))

    def _history_event(self, call: ApiCall) -> dict[str, Any]:
        params = self.engine.params(call)
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


# -- checks and tokens ----------------------------------------------------------------------------------


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
        raise AwsError("InvalidNextTokenException", "Invalid NextToken: pass the one the last "
                                                           "LookupEvents answer returned.") from exc


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
        raise AwsError("InvalidTrailNameException", f"Trail name {name!r} is not valid: {problem}.")


def _check_basic_selectors(selectors: list[dict[str, Any]]) -> None:
    if not 1 <= len(selectors) <= 5:
        raise AwsError("InvalidEventSelectorsException", "A trail takes 1 to 5 event selectors.")
    values = 0
    for selector in selectors:
        if selector.get("ReadWriteType", "All") not in ("ReadOnly", "WriteOnly", "All"):
            raise AwsError("InvalidEventSelectorsException", "ReadWriteType must be ReadOnly, WriteOnly or "
                                                                    f"All, not {selector['ReadWriteType']!r}.")
        for resource in selector.get("DataResources") or []:
            kind = resource.get("Type")
            if kind not in DATA_RESOURCE_TYPES:
                raise AwsError("InvalidEventSelectorsException",
                                      f"Data resource type {kind!r} is not valid in EventSelectors; one of "
                                      f"{', '.join(DATA_RESOURCE_TYPES)} (use AdvancedEventSelectors for others).")
            for value in resource.get("Values") or []:
                values += 1
                if not _valid_data_value(kind, value):
                    raise AwsError("InvalidEventSelectorsException",
                                          f"Value {value} for data resource type {kind} is not valid: use "
                                          f"{_data_value_hint(kind)}.")
    if values > 250:
        raise AwsError("InvalidEventSelectorsException",
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
        raise AwsError("InvalidEventSelectorsException", "A trail takes 1 to 500 advanced event selectors.")
    for selector in selectors:
        fields = selector.get("FieldSelectors") or []
        names = [field_selector.get("Field") for field_selector in fields]
        if "eventCategory" not in names:
            label = selector.get("Name") or ""
            raise AwsError("InvalidEventSelectorsException",
                                  f"Advanced event selector {label!r} needs an eventCategory field.")
        for field_selector in fields:
            if field_selector.get("Field") not in ADVANCED_FIELDS:
                raise AwsError("InvalidEventSelectorsException", f"Unknown field {field_selector.get('Field')!r}"
                                                                        f"; one of {', '.join(ADVANCED_FIELDS)}.")
            if not any(field_selector.get(operator) for operator in ADVANCED_OPERATORS):
                raise AwsError("InvalidEventSelectorsException",
                                      f"Field selector {field_selector['Field']} needs an operator: "
                                      f"{', '.join(ADVANCED_OPERATORS)}.")
        category = next(f for f in fields if f.get("Field") == "eventCategory")
        if "Data" in (category.get("Equals") or []) and "resources.type" not in names:
            raise AwsError("InvalidEventSelectorsException",
                                  "An advanced event selector for data events needs a resources.type field.")


def _trail_output(trail: Trail) -> dict[str, Any]:
    described = trail.describe()
    for key in ("HomeRegion", "HasCustomEventSelectors", "HasInsightSelectors"):
        described.pop(key, None)
    return described
