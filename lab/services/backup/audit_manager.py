"""Backup Audit Manager controls, evaluated against the lab's state (plans, recovery points, vaults, restore
jobs and the resources the sandbox holds), as AWS evaluates them through AWS Config rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from checks import iam_policy
from checks.backup import MAX_PROBED_POINTS, any_recovery_point, deletion_gaps, deletion_requests
from lab import config
from lab.services.backup.model import DAY, BackupState, Framework, RecoveryPoint, Vault
from lab.services.backup.resources import Resource, selects, wildcard_match
from lab.services.backup.schedule import Schedule, ScheduleError

COMPLIANT, NON_COMPLIANT, INSUFFICIENT_DATA = "COMPLIANT", "NON_COMPLIANT", "INSUFFICIENT_DATA"
# The actions a vault access policy must deny for BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED.
DELETION_ACTIONS = ("backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle",
                    "backup:PutBackupVaultAccessPolicy")

#: control name -> {parameter name: default value (None: optional, no default)}
CONTROLS: dict[str, dict[str, str | None]] = {
    "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": {
        "requiredFrequencyUnit": "days", "requiredFrequencyValue": "1", "requiredRetentionDays": "35"},
    "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK": {"requiredRetentionDays": "35"},
    "BACKUP_RECOVERY_POINT_ENCRYPTED": {},
    "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": {"principalArnList": None},
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN": {},
    "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION": {"crossRegionList": None},
    "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT": {"crossAccountList": None},
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK": {"minRetentionDays": None, "maxRetentionDays": None},
    "BACKUP_LAST_RECOVERY_POINT_CREATED": {"recoveryPointAgeUnit": "days", "recoveryPointAgeValue": "1"},
    "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET": {"maxRestoreTime": "720"},
}
_NUMERIC = {"requiredFrequencyValue", "requiredRetentionDays", "minRetentionDays", "maxRetentionDays",
            "recoveryPointAgeValue", "maxRestoreTime"}
_UNITS = {"requiredFrequencyUnit": ("hours", "days"), "recoveryPointAgeUnit": ("hours", "days")}


def check_controls(controls: list[dict[str, Any]]) -> str | None:
    """Why these FrameworkControls are not acceptable (None: they are)."""
    if not controls:
        return "FrameworkControls needs at least one control"
    for control in controls:
        name = control.get("ControlName", "")
        known = CONTROLS.get(name)
        if known is None:
            return f"unknown control {name!r}; known controls: {', '.join(sorted(CONTROLS))}"
        for parameter in control.get("ControlInputParameters") or []:
            key, value = parameter.get("ParameterName"), str(parameter.get("ParameterValue", ""))
            if key not in known:
                return f"control {name} has no parameter {key!r} (it takes {', '.join(known) or 'none'})"
            if key in _NUMERIC and not (value.isascii() and value.isdigit() and int(value) > 0):
                return f"control {name}: {key} must be a positive whole number, not {value!r}"
            if key in _UNITS and value.lower() not in _UNITS[key]:
                return f"control {name}: {key} must be one of {', '.join(_UNITS[key])}, not {value!r}"
    return None


@dataclass
class AuditInputs:
    state: BackupState
    region: str
    now: float
    resources: list[Resource]  # what the sandbox holds in the region


def evaluate(framework: Framework, inputs: AuditInputs) -> dict[str, Any]:
    controls = [_evaluate_control(control, inputs) for control in framework.controls]
    statuses = {c["ComplianceStatus"] for c in controls}
    overall = (NON_COMPLIANT if NON_COMPLIANT in statuses else
               INSUFFICIENT_DATA if statuses == {INSUFFICIENT_DATA} else COMPLIANT)
    return {"FrameworkName": framework.name, "FrameworkArn": framework.arn, "Region": framework.region,
            "EvaluatedAt": inputs.now, "ComplianceStatus": overall,
            "CompliantControls": sum(c["ComplianceStatus"] == COMPLIANT for c in controls),
            "NonCompliantControls": sum(c["ComplianceStatus"] == NON_COMPLIANT for c in controls),
            "Controls": controls}


def _evaluate_control(control: dict[str, Any], inputs: AuditInputs) -> dict[str, Any]:
    name = control["ControlName"]
    params = dict(CONTROLS[name])
    params.update({p["ParameterName"]: str(p["ParameterValue"]) for p in control.get("ControlInputParameters") or []})
    scope = control.get("ControlScope") or {}
    results = list(_EVALUATORS[name](params, scope, inputs))
    statuses = {r["ComplianceStatus"] for r in results}
    status = (INSUFFICIENT_DATA if not results else NON_COMPLIANT if NON_COMPLIANT in statuses else COMPLIANT)
    return {"ControlName": name, "ComplianceStatus": status, "Parameters": params,
            "EvaluatedResources": len(results),
            "NonCompliantResources": sum(r["ComplianceStatus"] == NON_COMPLIANT for r in results),
            "Results": results}


def _result(arn: str, kind: str, ok: bool, reason: str) -> dict[str, Any]:
    return {"ResourceArn": arn, "ResourceType": kind, "ComplianceStatus": COMPLIANT if ok else NON_COMPLIANT,
            "Reason": reason}


# -- scope -----------------------------------------------------------------------------------------


def _in_scope(resource_type: str, resource_arn: str, resource_id: str, tags: dict[str, str],
              scope: dict[str, Any]) -> bool:
    types = scope.get("ComplianceResourceTypes")
    if types and resource_type not in types:
        return False
    ids = scope.get("ComplianceResourceIds")
    if ids and not any(given in (resource_id, resource_arn) or wildcard_match(given, resource_arn) for given in ids):
        return False
    wanted = scope.get("Tags") or {}
    return all(tags.get(key) == value for key, value in wanted.items())


def _scoped_resources(scope: dict[str, Any], inputs: AuditInputs) -> list[Resource]:
    return [r for r in inputs.resources if _in_scope(r.resource_type, r.arn, r.resource_id, r.tags, scope)]


def _scoped_points(scope: dict[str, Any], inputs: AuditInputs) -> list[RecoveryPoint]:
    tags = inputs.state.tags
    return [rp for rp in inputs.state.recovery_points.values()
            if rp.region == inputs.region and rp.status == "COMPLETED"
            and _in_scope(rp.resource_type, rp.resource_arn, rp.resource_arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1],
                          tags.get(rp.arn, {}), scope)]


def _points_by_resource(state: BackupState) -> dict[str, list[RecoveryPoint]]:
    found: dict[str, list[RecoveryPoint]] = {}
    for rp in state.recovery_points.values():
        if rp.status == "COMPLETED":
            found.setdefault(rp.resource_arn, []).append(rp)
    return found


# -- the controls ----------------------------------------------------------------------------------


def _plan_frequency(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    unit = 3600.0 if (params["requiredFrequencyUnit"] or "days").lower() == "hours" else DAY
    required_interval = int(params["requiredFrequencyValue"] or 1) * unit
    required_days = int(params["requiredRetentionDays"] or 35)
    for plan in inputs.state.plans.values():
        if plan.region != inputs.region or plan.deletion_date is not None:
            continue
        reasons = []
        ok = False
        for rule in plan.current.document["Rules"]:
            try:
                schedule = Schedule(rule["ScheduleExpression"], rule.get("ScheduleExpressionTimezone") or "UTC")
                interval = schedule.shortest_interval(inputs.now, plan.current.created_at, samples=60)
            except ScheduleError:
                interval = None
            days = (rule.get("Lifecycle") or {}).get("DeleteAfterDays")
            frequent = interval is not None and interval <= required_interval
            kept = days is None or days >= required_days
            if frequent and kept:
                ok = True
            reasons.append(f"rule {rule['RuleName']}: runs every {_hours(interval)}, keeps "
                           f"{'forever' if days is None else f'{days} days'}")
        need = (f"needs a rule running at least every {_hours(required_interval)} and keeping recovery points "
                f"at least {required_days} days")
        yield _result(plan.arn, "AWS::Backup::BackupPlan", ok, ("compliant: " if ok else f"{need}; ") +
                      "; ".join(reasons))


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return f"{seconds / 3600:g} h" if seconds < DAY else f"{seconds / DAY:g} d"


def _point_retention(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    required = int(params["requiredRetentionDays"] or 35)
    for rp in _scoped_points(scope, inputs):
        days = rp.lifecycle.get("DeleteAfterDays")
        ok = days is None or days >= required
        yield _result(rp.arn, rp.resource_type, ok,
                      f"retained {'until deleted' if days is None else f'{days} days'} (required {required})")


def _point_encrypted(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    for rp in _scoped_points(scope, inputs):
        yield _result(rp.arn, rp.resource_type, rp.encrypted,
                      f"encrypted with {rp.encryption_key_arn}" if rp.encrypted else
                      f"not encrypted (the source {rp.resource_type} resource is not encrypted)")


def _manual_deletion(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    """Every caller but those of principalArnList is denied the three actions by the vault's access policy,
    evaluated as IAM does: the judge's own question (checks.backup.deletion_gaps)."""
    exempt = [arn.strip() for arn in (params.get("principalArnList") or "").split(",") if arn.strip()]
    for vault in inputs.state.vaults_in(inputs.region):
        points = sorted(p.arn for p in inputs.state.recovery_points.values()
                        if p.region == vault.region and p.vault_name == vault.name)[:MAX_PROBED_POINTS]
        points = points or [any_recovery_point(vault.region, config.ACCOUNT_ID)]
        requests = deletion_requests(config.ACCOUNT_ID, vault.region, points, inputs.now, list(DELETION_ACTIONS),
                                     exempt)
        try:
            policy = iam_policy.parse(vault.access_policy) if vault.access_policy else None
        except iam_policy.PolicyError as exc:
            yield _result(vault.arn, "AWS::Backup::BackupVault", False, f"the vault's access policy is invalid: {exc}")
            continue
        gaps = deletion_gaps(policy, requests)
        missing = sorted({gap.request.action for gap in gaps})
        yield _result(vault.arn, "AWS::Backup::BackupVault", not gaps,
                      "the vault's access policy denies manual deletion" if not gaps else
                      f"the vault's access policy does not deny {', '.join(missing)} to every principal "
                      f"(e.g. {gaps[0].describe()})")


def _protected_by_plan(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    state = inputs.state
    live_plans = {p.plan_id for p in state.plans.values() if p.region == inputs.region and p.deletion_date is None}
    selections = [s for s in state.selections.values() if s.plan_id in live_plans]
    for resource in _scoped_resources(scope, inputs):
        chosen = [s for s in selections if selects(s.document, resource)]
        yield _result(resource.arn, resource.resource_type, bool(chosen),
                      f"selected by {', '.join(s.document['SelectionName'] for s in chosen)}" if chosen
                      else "no backup plan selects this resource")


def _cross_region(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    wanted = [r.strip() for r in (params.get("crossRegionList") or "").split(",") if r.strip()]
    points = _points_by_resource(inputs.state)
    for resource in _scoped_resources(scope, inputs):
        regions = sorted({rp.region for rp in points.get(resource.arn, []) if rp.region != resource.region})
        ok = any(region in wanted for region in regions) if wanted else bool(regions)
        yield _result(resource.arn, resource.resource_type, ok,
                      f"recovery points in {', '.join(regions) or 'no other region'}"
                      + (f" (required: one of {', '.join(wanted)})" if wanted else ""))


def _cross_account(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    for resource in _scoped_resources(scope, inputs):
        yield _result(resource.arn, resource.resource_type, False,
                      "no recovery point in another account (the lab has a single account)")


def _vault_lock(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    minimum = int(params["minRetentionDays"]) if params.get("minRetentionDays") else None
    maximum = int(params["maxRetentionDays"]) if params.get("maxRetentionDays") else None
    vaults = inputs.state.vaults
    points = _points_by_resource(inputs.state)

    def qualifies(vault: Vault | None) -> bool:
        lock = vault.lock if vault else None
        if lock is None:
            return False
        if minimum is not None and (lock.min_retention_days or 0) < minimum:
            return False
        return maximum is None or (lock.max_retention_days is not None and lock.max_retention_days <= maximum)

    for resource in _scoped_resources(scope, inputs):
        locked = sorted({rp.vault_name for rp in points.get(resource.arn, [])
                         if qualifies(vaults.get((rp.region, rp.vault_name)))})
        yield _result(resource.arn, resource.resource_type, bool(locked),
                      f"recovery points in locked vault(s) {', '.join(locked)}" if locked else
                      "no recovery point in a vault whose Backup Vault Lock meets the control")


def _last_point(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    unit = 3600.0 if (params["recoveryPointAgeUnit"] or "days").lower() == "hours" else DAY
    max_age = int(params["recoveryPointAgeValue"] or 1) * unit
    points = _points_by_resource(inputs.state)
    for resource in _scoped_resources(scope, inputs):
        own = [rp.creation_date for rp in points.get(resource.arn, []) if rp.region == resource.region]
        newest = max(own) if own else None
        ok = newest is not None and inputs.now - newest <= max_age
        yield _result(resource.arn, resource.resource_type, ok,
                      f"newest recovery point is {_hours(inputs.now - newest)} old" if newest is not None
                      else "no recovery point")


def _restore_time(params: dict[str, str | None], scope: dict[str, Any], inputs: AuditInputs) -> Iterable[dict]:
    limit = int(params["maxRestoreTime"] or 720) * 60
    for resource in _scoped_resources(scope, inputs):
        done = [job for job in inputs.state.restore_jobs.values()
                if job.source_resource_arn == resource.arn and job.status == "COMPLETED" and job.completion_date]
        if not done:
            continue  # nothing to judge: AWS reports no evaluation for resources never restored
        latest = max(done, key=lambda job: job.completion_date or 0.0)
        took = (latest.completion_date or 0.0) - latest.creation_date
        yield _result(resource.arn, resource.resource_type, took <= limit,
                      f"latest restore took {took / 60:.0f} min (target {limit // 60} min)")


_EVALUATORS: dict[str, Callable[[dict[str, str | None], dict[str, Any], AuditInputs], Iterable[dict]]] = {
    "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": _plan_frequency,
    "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK": _point_retention,
    "BACKUP_RECOVERY_POINT_ENCRYPTED": _point_encrypted,
    "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": _manual_deletion,
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN": _protected_by_plan,
    "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION": _cross_region,
    "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT": _cross_account,
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK": _vault_lock,
    "BACKUP_LAST_RECOVERY_POINT_CREATED": _last_point,
    "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET": _restore_time,
}
