"""The Data Lifecycle Manager API, answered by the lab (moto has no DLM; the lab owns the whole service):
lifecycle policies checked as DLM checks them, then run on the sim clock by the EBS engine. Operations the lab
does not simulate answer NotImplemented."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from lab import config
from lab.kernel.api import Call, ServiceApi
from lab.kernel.errors import AwsError
from lab.services.backup.schedule import ScheduleError, validate
from lab.services.ebs.engine import INTERVAL_HOURS, RETAIN_UNIT_SECONDS, Ebs, Policy
from lab.sim.clock import iso

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_INVALID = "InvalidRequestException"
_NOT_FOUND = "ResourceNotFoundException"


class DlmApi(ServiceApi):
    service = "dlm"
    owns_service = True
    implemented_by = "the lab's Data Lifecycle Manager"
    service_principal = Ebs.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(Ebs)
        assert engine is not None, "the DLM API needs the EBS engine"
        self.engine = engine

    def _policy(self, region: str, policy_id: str) -> Policy:
        policy = self.engine.state.policies.get(policy_id)
        if policy is None or policy.region != region:
            raise AwsError(_NOT_FOUND, f"Lifecycle policy {policy_id} does not exist in {region}", 404)
        return policy

    def _check_role(self, arn: str) -> None:
        if not re.match(r"^arn:aws:iam::\d{12}:role/.+$", arn or ""):
            raise AwsError(_INVALID, f"{arn!r} is not an IAM role ARN")
        if self.sandbox.data.role_trust_policy(arn) is None:
            raise AwsError(_INVALID, f"IAM role {arn} does not exist; create it (trusting dlm.amazonaws.com) first")

    def _details(self, region: str, details: dict[str, Any] | None) -> dict[str, Any]:
        """PolicyDetails checked as DLM checks them, with defaults filled in."""
        if not details:
            raise AwsError(_INVALID, "PolicyDetails is required (default policies are not simulated by the lab)")
        policy_type = details.get("PolicyType", "EBS_SNAPSHOT_MANAGEMENT")
        if policy_type != "EBS_SNAPSHOT_MANAGEMENT":
            raise AwsError(_INVALID, f"PolicyType {policy_type} is not simulated by the lab; "
                                     "use EBS_SNAPSHOT_MANAGEMENT")
        resource_types = details.get("ResourceTypes") or ["VOLUME"]
        if len(resource_types) != 1 or resource_types[0] not in ("VOLUME", "INSTANCE"):
            raise AwsError(_INVALID, "ResourceTypes must be [\"VOLUME\"] or [\"INSTANCE\"]")
        if any(location != "CLOUD" for location in details.get("ResourceLocations") or ["CLOUD"]):
            raise AwsError(_INVALID, "ResourceLocations other than CLOUD (Outposts, Local Zones) are not simulated")
        targets = details.get("TargetTags") or []
        if not targets:
            raise AwsError(_INVALID, "TargetTags needs at least one Key/Value tag identifying the volumes to snapshot")
        schedules = details.get("Schedules") or []
        if not 1 <= len(schedules) <= 4:
            raise AwsError(_INVALID, f"a policy needs one to four Schedules, not {len(schedules)}")
        checked = []
        for index, schedule in enumerate(schedules):
            name = schedule.get("Name") or f"Schedule {index + 1}"
            checked.append({**schedule, "Name": name, "CreateRule": self._create_rule(name, schedule.get("CreateRule")),
                            "RetainRule": _retain_rule(name, schedule.get("RetainRule"), counts=True)})
            for rule in schedule.get("CrossRegionCopyRules") or []:
                target = rule.get("TargetRegion") or rule.get("Target")
                if target not in config.REGIONS or target == region:
                    raise AwsError(_INVALID, f"schedule {name}: cross-region copy target {target!r} must be another "
                                             f"lab region ({', '.join(r for r in config.REGIONS if r != region)})")
                if rule.get("RetainRule"):
                    _retain_rule(name, rule["RetainRule"], counts=False)
            if len(schedule.get("CrossRegionCopyRules") or []) > 3:
                raise AwsError(_INVALID, f"schedule {name}: at most three CrossRegionCopyRules")
            for unsupported in ("FastRestoreRule", "ShareRules", "ArchiveRule", "DeprecateRule"):
                if schedule.get(unsupported):
                    raise AwsError(_INVALID, f"schedule {name}: {unsupported} is not simulated by the lab")
        return {**details, "PolicyType": policy_type, "ResourceTypes": resource_types, "Schedules": checked}

    def _create_rule(self, name: str, rule: dict[str, Any] | None) -> dict[str, Any]:
        if not rule:
            raise AwsError(_INVALID, f"schedule {name} needs a CreateRule")
        if rule.get("CronExpression"):
            if rule.get("Interval") or rule.get("Times"):
                raise AwsError(_INVALID, f"schedule {name}: CronExpression and Interval/Times are mutually exclusive")
            try:
                validate(rule["CronExpression"], now=self.engine.now())
            except ScheduleError as exc:
                raise AwsError(_INVALID, f"schedule {name}: {exc}") from exc
            return dict(rule)
        interval = rule.get("Interval")
        if interval not in INTERVAL_HOURS or rule.get("IntervalUnit", "HOURS") != "HOURS":
            raise AwsError(_INVALID, f"schedule {name}: Interval must be one of {INTERVAL_HOURS} with IntervalUnit "
                                     f"HOURS, or give a CronExpression")
        times = rule.get("Times") or [iso(self.engine.now())[11:16]]  # DLM picks a start time when none is given
        if len(times) != 1 or not _TIME.match(times[0]):
            raise AwsError(_INVALID, f"schedule {name}: Times must hold one hh:mm start time (UTC), not {times}")
        return {**rule, "IntervalUnit": "HOURS", "Times": times}

    def op_CreateLifecyclePolicy(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        self._check_role(params["ExecutionRoleArn"])
        if params.get("DefaultPolicy"):
            raise AwsError(_INVALID, "default policies are not simulated by the lab; give PolicyDetails")
        details = self._details(region, params.get("PolicyDetails"))
        state = self.engine.state
        state.counter += 1
        policy_id = "policy-" + hashlib.sha256(f"{self.sandbox.lab.seed}:dlm:{state.counter}".encode()).hexdigest()[:17]
        now = self.engine.now()
        policy = Policy(policy_id, region, params["Description"], params["State"], params["ExecutionRoleArn"],
                        details, now, now)
        state.policies[policy_id] = policy
        if params.get("Tags"):
            state.tags[policy.arn] = dict(params["Tags"])
        self.engine.schedule_all(policy)
        self.engine.emit("LifecyclePolicyCreated", region=region, resource=policy.arn, state=policy.state)
        return {"PolicyId": policy_id}

    def op_UpdateLifecyclePolicy(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        policy = self._policy(region, params["PolicyId"])
        if params.get("ExecutionRoleArn"):
            self._check_role(params["ExecutionRoleArn"])
            policy.execution_role_arn = params["ExecutionRoleArn"]
        if params.get("PolicyDetails"):
            policy.details = self._details(region, params["PolicyDetails"])
        if params.get("State"):
            policy.state = params["State"]
        if params.get("Description"):
            policy.description = params["Description"]
        policy.modified = self.engine.now()
        policy.version += 1
        self.engine.schedule_all(policy)
        self.engine.emit("LifecyclePolicyUpdated", region=region, resource=policy.arn, state=policy.state)
        return {}

    def op_DeleteLifecyclePolicy(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        policy = self._policy(region, params["PolicyId"])
        del self.engine.state.policies[policy.policy_id]
        self.engine.state.tags.pop(policy.arn, None)
        self.engine.emit("LifecyclePolicyDeleted", region=region, resource=policy.arn)
        return {}  # its snapshots stay, as on AWS

    def _view(self, policy: Policy) -> dict[str, Any]:
        return {"PolicyId": policy.policy_id, "Description": policy.description, "State": policy.state,
                "StatusMessage": policy.status_message or "ENABLED", "ExecutionRoleArn": policy.execution_role_arn,
                "DateCreated": policy.created, "DateModified": policy.modified, "PolicyDetails": policy.details,
                "Tags": dict(self.engine.state.tags.get(policy.arn, {})), "PolicyArn": policy.arn,
                "DefaultPolicy": False}

    def op_GetLifecyclePolicy(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        return {"Policy": self._view(self._policy(region, params["PolicyId"]))}

    def op_GetLifecyclePolicies(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        def tag_pairs(values: list[str] | None) -> set[tuple[str, str]]:
            return {tuple(value.split("=", 1)) for value in values or [] if "=" in value}  # type: ignore[misc]

        wanted_targets, wanted_added = tag_pairs(params.get("TargetTags")), tag_pairs(params.get("TagsToAdd"))
        found = []
        for policy in sorted(self.engine.state.policies.values(), key=lambda p: p.policy_id):
            details = policy.details
            targets = {(t["Key"], t["Value"]) for t in details.get("TargetTags", [])}
            added = {(t["Key"], t["Value"]) for s in details["Schedules"] for t in s.get("TagsToAdd") or []}
            if (policy.region == region
                    and (not params.get("PolicyIds") or policy.policy_id in params["PolicyIds"])
                    and params.get("State", policy.state) == policy.state
                    and (not params.get("ResourceTypes")
                         or set(params["ResourceTypes"]) & set(details["ResourceTypes"]))
                    and (not wanted_targets or wanted_targets & targets)
                    and (not wanted_added or wanted_added & added)
                    and params.get("DefaultPolicyType") in (None, "ALL")):
                found.append({"PolicyId": policy.policy_id, "Description": policy.description, "State": policy.state,
                              "Tags": dict(self.engine.state.tags.get(policy.arn, {})),
                              "PolicyType": details["PolicyType"], "DefaultPolicy": False})
        return {"Policies": found}

    def _policy_by_arn(self, arn: str) -> Policy:
        policy = next((p for p in self.engine.state.policies.values() if p.arn == arn), None)
        if policy is None:
            raise AwsError(_NOT_FOUND, f"no lifecycle policy {arn}", 404)
        return policy

    def op_TagResource(self, call: Call) -> dict[str, Any]:
        params = call.params
        policy = self._policy_by_arn(params["ResourceArn"])
        self.engine.state.tags.setdefault(policy.arn, {}).update(params["Tags"])
        return {}

    def op_UntagResource(self, call: Call) -> dict[str, Any]:
        params = call.params
        policy = self._policy_by_arn(params["ResourceArn"])
        for key in params["TagKeys"]:
            self.engine.state.tags.get(policy.arn, {}).pop(key, None)
        return {}

    def op_ListTagsForResource(self, call: Call) -> dict[str, Any]:
        params = call.params
        return {"Tags": dict(self.engine.state.tags.get(self._policy_by_arn(params["ResourceArn"]).arn, {}))}


def _retain_rule(schedule: str, rule: dict[str, Any] | None, *, counts: bool) -> dict[str, Any]:
    if not rule:
        raise AwsError(_INVALID, f"schedule {schedule} needs a RetainRule")
    count, interval, unit = rule.get("Count"), rule.get("Interval"), rule.get("IntervalUnit")
    if counts and count is not None:
        if interval is not None or not 1 <= count <= 1000:
            raise AwsError(_INVALID, f"schedule {schedule}: RetainRule Count must be 1-1000, without Interval")
        return dict(rule)
    if interval is None or unit not in RETAIN_UNIT_SECONDS or interval < 1:
        raise AwsError(_INVALID, f"schedule {schedule}: RetainRule needs "
                                 f"{'Count, or ' if counts else ''}Interval with IntervalUnit "
                                 f"({', '.join(RETAIN_UNIT_SECONDS)})")
    return dict(rule)
