"""The AWS Backup API, answered by the lab (it owns the whole service).

Each operation is an `op_<Operation>(call)` method here: it reads the call's decoded parameters, acts on the
backup engine's state (vaults, plans, selections, frameworks, jobs, recovery points: lab.services.backup.model;
the engine starts and runs the jobs on the sim clock, jobs.py) and returns the output members or raises
AwsError. Operations without such a method answer NotImplemented naming the operation. Each runs with
its call set for the vault access policies (access.CURRENT_CALL: who asks).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.api import Call, Operation, Output, ServiceApi, paginate
from lab.kernel.errors import AwsError
from lab.services.backup import access
from lab.services.backup.access import policy_problem
from lab.services.backup.audit_manager import check_controls
from lab.services.backup.config_api import (
    DEFAULT_COMPLETION_WINDOW,
    DEFAULT_SCHEDULE,
    EXISTS,
    INVALID,
    MAX_RETENTION_DAYS,
    MIN_CHANGEABLE_DAYS,
    NOT_FOUND,
    REQUEST,
    check_lifecycle,
    parse_vault_arn,
)
from lab.services.backup.engine import Backup
from lab.services.backup.jobs import DEFAULT_COMPLETE_WINDOW, DEFAULT_START_WINDOW, lock_refusal
from lab.services.backup.model import (
    BackupJob,
    CopyJob,
    Framework,
    Plan,
    PlanVersion,
    RecoveryPoint,
    RestoreJob,
    Selection,
    Vault,
    VaultLock,
    default_vault_key,
    vault_arn,
)
from lab.services.backup.reports import COMPLIANCE_TEMPLATES, FORMATS, TEMPLATES, ReportPlan, books, next_daily_run
from lab.services.backup.resources import RESOURCE_TYPES, parse_arn
from lab.services.backup.schedule import Schedule, ScheduleError, validate
from lab.services.backup.timing import restore_seconds
from lab.sim.clock import iso
from lab.sim.durations import progress

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

_VAULT_NAME = re.compile(r"^[a-zA-Z0-9\-_]{2,50}$")
_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/.+$")
_FRAMEWORK_NAME = re.compile(r"^[a-zA-Z][_a-zA-Z0-9]{0,255}$")


class BackupApi(ServiceApi):
    service = "backup"
    owns_service = True
    implemented_by = "the lab's AWS Backup"
    service_principal = Backup.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(Backup)
        assert engine is not None, "the AWS Backup API needs the backup engine"
        self.engine = engine

    def operations(self) -> dict[str, Operation]:
        return {name: _as_the_caller(operation) for name, operation in super().operations().items()}

    # -- vaults, plans, selections, frameworks, tags ----------------------------------------------

    def op_CreateBackupVault(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        name = params["BackupVaultName"]
        if not _VAULT_NAME.match(name):
            raise AwsError(INVALID, f"backup vault name {name!r} must be 2-50 letters, digits, '-' or '_'")
        state = engine.state
        if (region, name) in state.vaults:
            raise AwsError(EXISTS, f"Backup vault {name} already exists in {region}")
        key = params.get("EncryptionKeyArn")
        if key:
            key = self.require_kms_key(region, key)
        vault = Vault(name, region, engine.now(), key or default_vault_key(region), bool(key),
                      params.get("CreatorRequestId"))
        state.vaults[(region, name)] = vault
        if params.get("BackupVaultTags"):
            state.tags[vault.arn] = dict(params["BackupVaultTags"])
        engine.emit("BackupVaultCreated", region=region, resource=vault.arn, encryption_key=vault.encryption_key_arn)
        return {"BackupVaultName": name, "BackupVaultArn": vault.arn, "CreationDate": vault.creation_date}

    def op_DescribeBackupVault(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        return self.vault_view(self.vault(region, params["BackupVaultName"]))

    def op_ListBackupVaults(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        vaults = engine.state.vaults_in(region)
        if params.get("ByVaultType") not in (None, "BACKUP_VAULT"):
            vaults = []
        if params.get("ByShared"):
            vaults = []  # the lab shares nothing across accounts
        page, token = paginate(vaults, params)
        return {"BackupVaultList": [self.vault_view(v) for v in page], "NextToken": token}

    def op_DeleteBackupVault(self, call: Call) -> None:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        points = engine.state.points_in_vault(region, vault.name)
        if points:
            raise AwsError(REQUEST, f"Backup vault cannot be deleted because it contains recovery points "
                                    f"({vault.name} holds {len(points)})")
        del engine.state.vaults[(region, vault.name)]
        engine.state.tags.pop(vault.arn, None)
        engine.emit("BackupVaultDeleted", region=region, resource=vault.arn)

    def op_PutBackupVaultLockConfiguration(self, call: Call) -> None:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        now = engine.now()
        if vault.lock is not None and vault.lock.immutable(now):
            raise AwsError(REQUEST, f"Backup vault {vault.name} is locked in compliance mode since "
                                    f"{_iso(vault.lock.lock_date)}; its lock configuration cannot be changed")
        minimum, maximum = params.get("MinRetentionDays"), params.get("MaxRetentionDays")
        changeable = params.get("ChangeableForDays")
        for name, value in (("MinRetentionDays", minimum), ("MaxRetentionDays", maximum)):
            if value is not None and not 1 <= value <= MAX_RETENTION_DAYS:
                raise AwsError(INVALID, f"{name} must be between 1 and {MAX_RETENTION_DAYS}, not {value}")
        if minimum is not None and maximum is not None and minimum > maximum:
            raise AwsError(INVALID, f"MinRetentionDays ({minimum}) cannot be more than MaxRetentionDays ({maximum})")
        if changeable is not None and not MIN_CHANGEABLE_DAYS <= changeable <= MAX_RETENTION_DAYS:
            raise AwsError(INVALID, f"ChangeableForDays must be at least {MIN_CHANGEABLE_DAYS} (the compliance-mode "
                                    f"grace time), not {changeable}")
        vault.lock = VaultLock(minimum, maximum, changeable, now)
        if vault.lock.lock_date is not None:
            engine.state.schedule(vault.lock.lock_date, "lock", f"{region}|{vault.name}")
        engine.emit("BackupVaultLockConfigured", region=region, resource=vault.arn, min_retention_days=minimum,
                  max_retention_days=maximum, mode="compliance" if changeable is not None else "governance",
                  lock_date=vault.lock.lock_date)

    def op_DeleteBackupVaultLockConfiguration(self, call: Call) -> None:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        lock = vault.lock
        if lock is None:
            raise AwsError(NOT_FOUND, f"Backup vault {vault.name} has no vault lock configuration")
        if lock.immutable(engine.now()):
            raise AwsError(REQUEST, f"Backup vault {vault.name} is locked in compliance mode since "
                                    f"{_iso(lock.lock_date)}; the lock can no longer be removed")
        vault.lock = None
        engine.emit("BackupVaultLockRemoved", region=region, resource=vault.arn)

    def op_PutBackupVaultAccessPolicy(self, call: Call) -> None:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        document = params.get("Policy") or ""
        problem = policy_problem(document)
        if problem:
            raise AwsError(INVALID, f"backup vault access policy for {vault.name}: {problem}")
        vault.access_policy = document
        engine.emit("BackupVaultAccessPolicySet", region=region, resource=vault.arn)

    def op_GetBackupVaultAccessPolicy(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        if vault.access_policy is None:
            raise AwsError(NOT_FOUND, f"Backup vault {vault.name} has no access policy")
        return {"BackupVaultName": vault.name, "BackupVaultArn": vault.arn, "Policy": vault.access_policy}

    def op_DeleteBackupVaultAccessPolicy(self, call: Call) -> None:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        vault.access_policy = None
        engine.emit("BackupVaultAccessPolicyDeleted", region=region, resource=vault.arn)

    def op_CreateBackupPlan(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        state = engine.state
        request_id = params.get("CreatorRequestId")
        if request_id:
            for plan in state.plans.values():
                if plan.region == region and plan.creator_request_id == request_id and plan.deletion_date is None:
                    return self._plan_answer(plan)
        document = self._plan_document(region, params["BackupPlan"], None)
        for plan in state.plans.values():
            if (plan.region == region and plan.deletion_date is None
                    and self._comparable(plan.current.document) == self._comparable(document)):
                raise AwsError(EXISTS, f"Backup plan with the same plan document already exists ({plan.plan_id})")
        now = engine.now()
        plan = Plan(state.new_uuid(engine.seed), region, now,
                    [PlanVersion(state.new_version_id(engine.seed), document, now)], request_id)
        state.plans[plan.plan_id] = plan
        if params.get("BackupPlanTags"):
            state.tags[plan.arn] = dict(params["BackupPlanTags"])
        self.schedule_rules(plan)
        engine.emit("BackupPlanCreated", region=region, resource=plan.arn, plan_name=plan.name,
                  rules=[rule["RuleName"] for rule in document["Rules"]])
        return self._plan_answer(plan)

    def op_GetBackupPlan(self, call: Call) -> dict[str, Any]:
        params = call.params
        plan = self.plan(params["BackupPlanId"], live=False)
        wanted = params.get("VersionId") or plan.current.version_id
        version = next((v for v in plan.versions if v.version_id == wanted), None)
        if version is None:
            raise AwsError(NOT_FOUND, f"Backup plan {plan.plan_id} has no version {wanted}")
        answer = {
            "BackupPlan": version.document, "BackupPlanId": plan.plan_id, "BackupPlanArn": plan.arn,
            "VersionId": version.version_id, "CreatorRequestId": plan.creator_request_id,
            "CreationDate": version.created_at, "DeletionDate": plan.deletion_date,
            "LastExecutionDate": plan.last_execution_date,
            "AdvancedBackupSettings": version.document.get("AdvancedBackupSettings"),
        }
        preview = params.get("MaxScheduledRunsPreview")
        if preview and plan.deletion_date is None:
            answer["ScheduledRunsPreview"] = self.scheduled_runs(plan, min(preview, 10))
        return answer

    def op_UpdateBackupPlan(self, call: Call) -> dict[str, Any]:
        engine, params = self.engine, call.params
        plan = self.plan(params["BackupPlanId"])
        document = self._plan_document(plan.region, params["BackupPlan"], plan.current.document)
        now = engine.now()
        plan.versions.append(PlanVersion(engine.state.new_version_id(engine.seed), document, now))
        self.schedule_rules(plan)
        engine.emit("BackupPlanUpdated", region=plan.region, resource=plan.arn, version=plan.current.version_id)
        return self._plan_answer(plan)

    def op_DeleteBackupPlan(self, call: Call) -> dict[str, Any]:
        engine, params = self.engine, call.params
        plan = self.plan(params["BackupPlanId"])
        selections = [s for s in engine.state.selections.values() if s.plan_id == plan.plan_id]
        if selections:
            raise AwsError(REQUEST, f"Backup plan {plan.plan_id} cannot be deleted while it has resource "
                                    f"assignments; delete its {len(selections)} backup selection(s) first")
        plan.deletion_date = engine.now()
        engine.emit("BackupPlanDeleted", region=plan.region, resource=plan.arn)
        return {"BackupPlanId": plan.plan_id, "BackupPlanArn": plan.arn, "DeletionDate": plan.deletion_date,
                "VersionId": plan.current.version_id}

    def op_ListBackupPlans(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        plans = [p for p in engine.state.plans.values()
                 if p.region == region and (params.get("IncludeDeleted") or p.deletion_date is None)]
        page, token = paginate(plans, params)
        return {"BackupPlansList": [self._plan_summary(p, p.current) for p in page], "NextToken": token}

    def op_ListBackupPlanVersions(self, call: Call) -> dict[str, Any]:
        params = call.params
        plan = self.plan(params["BackupPlanId"], live=False)
        page, token = paginate(list(reversed(plan.versions)), params)
        return {"BackupPlanVersionsList": [self._plan_summary(plan, v) for v in page], "NextToken": token}

    def op_CreateBackupSelection(self, call: Call) -> dict[str, Any]:
        engine, params = self.engine, call.params
        plan = self.plan(params["BackupPlanId"])
        document = params["BackupSelection"]
        name = document["SelectionName"]
        if not re.match(r"^[a-zA-Z0-9\-_.]{1,50}$", name):
            raise AwsError(INVALID, f"selection name {name!r} must be 1-50 letters, digits, '-', '_' or '.'")
        self.require_role(document["IamRoleArn"])
        conditions = document.get("Conditions") or {}
        if not (document.get("Resources") or document.get("ListOfTags") or any(conditions.values())):
            raise AwsError(INVALID, f"selection {name} assigns nothing: give Resources, ListOfTags or Conditions")
        for pattern in (document.get("Resources") or []) + (document.get("NotResources") or []):
            if pattern != "*" and not pattern.startswith("arn:"):
                raise AwsError(INVALID, f"selection {name}: {pattern!r} is not a resource ARN or ARN pattern")
        for condition in document.get("ListOfTags") or []:
            if condition["ConditionType"] != "STRINGEQUALS":
                raise AwsError(INVALID, f"selection {name}: ListOfTags supports ConditionType STRINGEQUALS only "
                                        "(use Conditions for StringLike and the negations)")
        for kind, entries in conditions.items():
            for condition in entries or []:
                if not condition.get("ConditionKey") or condition.get("ConditionValue") is None:
                    raise AwsError(INVALID, f"selection {name}: every {kind} condition needs ConditionKey "
                                            "and ConditionValue")
        state = engine.state
        if any(s.plan_id == plan.plan_id and s.document["SelectionName"] == name for s in state.selections.values()):
            raise AwsError(EXISTS, f"Backup plan {plan.plan_id} already has a selection named {name}")
        selection = Selection(state.new_uuid(engine.seed), plan.plan_id, plan.region, document, engine.now(),
                              params.get("CreatorRequestId"))
        state.selections[selection.selection_id] = selection
        engine.emit("BackupSelectionCreated", region=plan.region, resource=plan.arn, selection=name,
                  selection_id=selection.selection_id)
        return {"SelectionId": selection.selection_id, "BackupPlanId": plan.plan_id,
                "CreationDate": selection.creation_date}

    def op_GetBackupSelection(self, call: Call) -> dict[str, Any]:
        params = call.params
        selection = self._selection(params["BackupPlanId"], params["SelectionId"])
        return {"BackupSelection": selection.document, "SelectionId": selection.selection_id,
                "BackupPlanId": selection.plan_id, "CreationDate": selection.creation_date,
                "CreatorRequestId": selection.creator_request_id}

    def op_DeleteBackupSelection(self, call: Call) -> None:
        engine, params = self.engine, call.params
        selection = self._selection(params["BackupPlanId"], params["SelectionId"])
        del engine.state.selections[selection.selection_id]
        engine.emit("BackupSelectionDeleted", region=selection.region, resource=selection.selection_id,
                  plan_id=selection.plan_id)

    def op_ListBackupSelections(self, call: Call) -> dict[str, Any]:
        engine, params = self.engine, call.params
        plan = self.plan(params["BackupPlanId"], live=False)
        selections = [s for s in engine.state.selections.values() if s.plan_id == plan.plan_id]
        page, token = paginate(selections, params)
        return {"BackupSelectionsList": [
            {"SelectionId": s.selection_id, "SelectionName": s.document["SelectionName"],
             "BackupPlanId": s.plan_id, "CreationDate": s.creation_date, "CreatorRequestId": s.creator_request_id,
             "IamRoleArn": s.document["IamRoleArn"]} for s in page], "NextToken": token}

    def op_CreateFramework(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        name = params["FrameworkName"]
        if not _FRAMEWORK_NAME.match(name):
            raise AwsError(INVALID, f"framework name {name!r} must start with a letter and hold only letters, "
                                    "digits and underscores")
        state = engine.state
        existing = state.frameworks.get((region, name))
        if existing is not None:
            if params.get("IdempotencyToken") and params.get("IdempotencyToken") == existing.idempotency_token:
                return {"FrameworkName": name, "FrameworkArn": existing.arn}
            raise AwsError(EXISTS, f"Framework {name} already exists in {region}")
        problem = check_controls(params["FrameworkControls"])
        if problem:
            raise AwsError(INVALID, problem)
        arn = f"arn:aws:backup:{region}:{config.ACCOUNT_ID}:framework:{name}-{state.new_uuid(engine.seed)}"
        framework = Framework(name, region, arn, params.get("FrameworkDescription"), params["FrameworkControls"],
                              engine.now(), params.get("IdempotencyToken"))
        state.frameworks[(region, name)] = framework
        if params.get("FrameworkTags"):
            state.tags[arn] = dict(params["FrameworkTags"])
        engine.emit("FrameworkCreated", region=region, resource=arn,
                  controls=[c["ControlName"] for c in framework.controls])
        return {"FrameworkName": name, "FrameworkArn": arn}

    def op_UpdateFramework(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        framework = self._framework(region, params["FrameworkName"])
        if params.get("FrameworkControls") is not None:
            problem = check_controls(params["FrameworkControls"])
            if problem:
                raise AwsError(INVALID, problem)
            framework.controls = params["FrameworkControls"]
        if params.get("FrameworkDescription") is not None:
            framework.description = params["FrameworkDescription"]
        engine.emit("FrameworkUpdated", region=region, resource=framework.arn)
        return {"FrameworkName": framework.name, "FrameworkArn": framework.arn,
                "CreationTime": framework.creation_time}

    def op_DescribeFramework(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        framework = self._framework(region, params["FrameworkName"])
        evaluation = engine.evaluate_framework(framework)
        evaluated = [c for c in evaluation["Controls"] if c["ComplianceStatus"] != "INSUFFICIENT_DATA"]
        # FrameworkStatus tells whether the controls are being evaluated (AWS: whether AWS Config records
        # the resources they govern): every control has something in scope, some do, or none do.
        status = ("ACTIVE" if len(evaluated) == len(evaluation["Controls"]) else
                  "PARTIALLY_ACTIVE" if evaluated else "INACTIVE")
        return {"FrameworkName": framework.name, "FrameworkArn": framework.arn,
                "FrameworkDescription": framework.description, "FrameworkControls": framework.controls,
                "CreationTime": framework.creation_time, "DeploymentStatus": "COMPLETED",
                "FrameworkStatus": status, "IdempotencyToken": framework.idempotency_token}

    def op_ListFrameworks(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        frameworks = sorted((f for (r, _), f in engine.state.frameworks.items() if r == region), key=lambda f: f.name)
        page, token = paginate(frameworks, params)
        return {"Frameworks": [
            {"FrameworkName": f.name, "FrameworkArn": f.arn, "FrameworkDescription": f.description,
             "NumberOfControls": len(f.controls), "CreationTime": f.creation_time, "DeploymentStatus": "COMPLETED"}
            for f in page], "NextToken": token}

    def op_DeleteFramework(self, call: Call) -> None:
        engine, region, params = self.engine, call.region, call.params
        framework = self._framework(region, params["FrameworkName"])
        del engine.state.frameworks[(region, framework.name)]
        engine.state.tags.pop(framework.arn, None)
        engine.emit("FrameworkDeleted", region=region, resource=framework.arn)

    # -- report plans and report jobs (Backup Audit Manager; reports.py runs them) ----------------------

    def _report_plan(self, region: str, name: str) -> ReportPlan:
        plan = books(self.engine.state).plans.get((region, name))
        if plan is None:
            raise AwsError(NOT_FOUND, f"Report plan {name} does not exist in {region}")
        return plan

    def _report_setting(self, region: str, setting: dict[str, Any]) -> dict[str, Any]:
        template = setting.get("ReportTemplate")
        if template not in TEMPLATES:
            raise AwsError(INVALID, f"ReportTemplate {template!r} is not valid; one of {', '.join(TEMPLATES)}")
        frameworks = setting.get("FrameworkArns") or []
        if template in COMPLIANCE_TEMPLATES:
            if not frameworks:
                raise AwsError(INVALID, f"a {template} needs FrameworkArns: the frameworks whose compliance it "
                                        "reports")
            known = {f.arn for f in self.engine.state.frameworks.values()}
            for arn in frameworks:
                if arn not in known:
                    raise AwsError(INVALID, f"framework {arn} does not exist")
        elif frameworks:
            raise AwsError(INVALID, f"FrameworkArns applies only to {' and '.join(COMPLIANCE_TEMPLATES)}, not "
                                    f"{template}")
        setting = {key: value for key, value in setting.items() if value not in (None, [])}
        if template in COMPLIANCE_TEMPLATES:
            setting["NumberOfFrameworks"] = len(frameworks)
        return setting

    @staticmethod
    def _report_channel(channel: dict[str, Any]) -> dict[str, Any]:
        formats = channel.get("Formats") or ["CSV"]
        for fmt in formats:
            if fmt not in FORMATS:
                raise AwsError(INVALID, f"report format {fmt!r} is not valid; CSV, JSON or both")
        if len(set(formats)) != len(formats):
            raise AwsError(INVALID, f"Formats lists a format twice: {formats}")
        found = {"S3BucketName": channel["S3BucketName"], "Formats": list(formats)}
        if channel.get("S3KeyPrefix"):
            found["S3KeyPrefix"] = channel["S3KeyPrefix"]
        return found

    def op_CreateReportPlan(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        name = params["ReportPlanName"]
        if not _FRAMEWORK_NAME.match(name):
            raise AwsError(INVALID, f"report plan name {name!r} must start with a letter and hold only letters, "
                                    "digits and underscores (1-256)")
        reports = books(engine.state)
        existing = reports.plans.get((region, name))
        if existing is not None:
            if params.get("IdempotencyToken") and params["IdempotencyToken"] == existing.idempotency_token:
                return {"ReportPlanName": name, "ReportPlanArn": existing.arn, "CreationTime": existing.creation_time}
            raise AwsError(EXISTS, f"Report plan {name} already exists in {region}")
        setting = self._report_setting(region, params["ReportSetting"])
        channel = self._report_channel(params["ReportDeliveryChannel"])
        now = engine.now()
        arn = f"arn:aws:backup:{region}:{config.ACCOUNT_ID}:report-plan:{name}-{engine.state.new_uuid(engine.seed)}"
        plan = ReportPlan(name, region, arn, params.get("ReportPlanDescription"), setting, channel, now,
                          params.get("IdempotencyToken"))
        reports.plans[(region, name)] = plan
        if params.get("ReportPlanTags"):
            engine.state.tags[arn] = dict(params["ReportPlanTags"])
        engine.state.schedule(next_daily_run(now), "report-daily", f"{region}|{name}|{now!r}")
        engine.emit("ReportPlanCreated", region=region, resource=arn, template=setting["ReportTemplate"],
                    bucket=channel["S3BucketName"])
        return {"ReportPlanName": name, "ReportPlanArn": arn, "CreationTime": now}

    def op_DescribeReportPlan(self, call: Call) -> dict[str, Any]:
        return {"ReportPlan": self._report_plan(call.region, call.params["ReportPlanName"]).view()}

    def op_ListReportPlans(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        plans = sorted((p for (r, _), p in books(self.engine.state).plans.items() if r == region),
                       key=lambda p: p.name)
        page, token = paginate(plans, params)
        return {"ReportPlans": [plan.view() for plan in page], "NextToken": token}

    def op_UpdateReportPlan(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        plan = self._report_plan(region, params["ReportPlanName"])
        setting = self._report_setting(region, params["ReportSetting"]) if params.get("ReportSetting") else None
        channel = (self._report_channel(params["ReportDeliveryChannel"])
                   if params.get("ReportDeliveryChannel") else None)
        plan.setting = setting or plan.setting
        plan.channel = channel or plan.channel
        if params.get("ReportPlanDescription") is not None:
            plan.description = params["ReportPlanDescription"]
        engine.emit("ReportPlanUpdated", region=region, resource=plan.arn)
        return {"ReportPlanName": plan.name, "ReportPlanArn": plan.arn, "CreationTime": plan.creation_time}

    def op_DeleteReportPlan(self, call: Call) -> None:
        engine, region, params = self.engine, call.region, call.params
        plan = self._report_plan(region, params["ReportPlanName"])
        del books(engine.state).plans[(region, plan.name)]
        engine.state.tags.pop(plan.arn, None)
        engine.emit("ReportPlanDeleted", region=region, resource=plan.arn)

    def op_StartReportJob(self, call: Call) -> dict[str, Any]:
        plan = self._report_plan(call.region, call.params["ReportPlanName"])
        return {"ReportJobId": self.engine.start_report_job(plan).job_id}

    def op_DescribeReportJob(self, call: Call) -> dict[str, Any]:
        job = books(self.engine.state).jobs.get(call.params["ReportJobId"])
        if job is None or job.region != call.region:
            raise AwsError(NOT_FOUND, f"Report job {call.params['ReportJobId']} does not exist in {call.region}")
        return {"ReportJob": job.view()}

    def op_ListReportJobs(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        status = params.get("ByStatus")
        if status is not None and status not in ("CREATED", "RUNNING", "COMPLETED", "FAILED"):
            raise AwsError(INVALID, f"ByStatus {status!r} is not valid; CREATED, RUNNING, COMPLETED or FAILED")
        wanted_plan = params.get("ByReportPlanName")
        jobs = [job for job in reversed(books(self.engine.state).jobs.values())
                if job.region == region and wanted_plan in (None, job.plan_name) and status in (None, job.status)
                and _within(job.creation_time, params.get("ByCreationAfter"), params.get("ByCreationBefore"))]
        page, token = paginate(jobs, params)
        return {"ReportJobs": [job.view() for job in page], "NextToken": token}

    def op_TagResource(self, call: Call) -> None:
        engine, params = self.engine, call.params
        arn = self._taggable(params["ResourceArn"])
        engine.state.tags.setdefault(arn, {}).update(params["Tags"])

    def op_UntagResource(self, call: Call) -> None:
        engine, params = self.engine, call.params
        arn = self._taggable(params["ResourceArn"])
        tags = engine.state.tags.get(arn, {})
        for key in params["TagKeyList"]:
            tags.pop(key, None)

    def op_ListTags(self, call: Call) -> dict[str, Any]:
        engine, params = self.engine, call.params
        arn = self._taggable(params["ResourceArn"])
        return {"Tags": dict(engine.state.tags.get(arn, {}))}

    def op_GetSupportedResourceTypes(self, call: Call) -> dict[str, Any]:
        return {"ResourceTypes": list(RESOURCE_TYPES)}

    # -- jobs and recovery points -----------------------------------------------------------------

    def op_StartBackupJob(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        state = engine.state
        token = params.get("IdempotencyToken")
        if token and token in state.tokens and state.tokens[token] in state.backup_jobs:
            job = state.backup_jobs[state.tokens[token]]
            return {"BackupJobId": job.job_id, "RecoveryPointArn": job.recovery_point_arn,
                    "CreationDate": job.creation_date, "IsParent": False}
        vault = self.vault(region, params["BackupVaultName"])
        arn = params["ResourceArn"]
        parsed = parse_arn(arn)
        if parsed is None:
            raise AwsError(INVALID, f"{arn!r} is not the ARN of a resource AWS Backup protects (RDS DB instance, "
                                    "DynamoDB table, EBS volume, EC2 instance or S3 bucket)")
        self.require_role(params["IamRoleArn"])
        check_lifecycle(params.get("Lifecycle"), "StartBackupJob")
        start_window = params.get("StartWindowMinutes", DEFAULT_START_WINDOW)
        complete_window = params.get("CompleteWindowMinutes", DEFAULT_COMPLETE_WINDOW)
        if start_window < 60:
            raise AwsError(INVALID, f"StartWindowMinutes must be at least 60, not {start_window}")
        if complete_window < 60:
            raise AwsError(INVALID, f"CompleteWindowMinutes must be at least 60, not {complete_window}")
        now = engine.now()
        job = engine.create_backup_job(region, vault.name, arn, params["IamRoleArn"], now,
                                     lifecycle=params.get("Lifecycle") or {},
                                     tags=params.get("RecoveryPointTags") or {}, start_window=start_window,
                                     complete_window=complete_window)
        if token:
            state.tokens[token] = job.job_id
        # An on-demand job is CREATED, then starts when AWS Backup gets to it (its RecoveryPointArn is known then).
        state.schedule(now + engine.sandbox.durations.backup_job_queue(), "backup-start", job.job_id)
        return {"BackupJobId": job.job_id, "RecoveryPointArn": job.recovery_point_arn,
                "CreationDate": job.creation_date, "IsParent": False}

    def op_StopBackupJob(self, call: Call) -> None:
        engine, region, params = self.engine, call.region, call.params
        job = self._backup_job(region, params["BackupJobId"])
        if job.state not in ("CREATED", "RUNNING"):
            raise AwsError(REQUEST, f"Backup job {job.job_id} is {job.state}; only CREATED or RUNNING jobs can stop")
        engine._end_backup(job, "ABORTED", "The backup job was stopped by StopBackupJob", engine.now())

    def op_DescribeBackupJob(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        return self.backup_job_view(self._backup_job(region, params["BackupJobId"]))

    def op_ListBackupJobs(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        def wanted(job: BackupJob) -> bool:
            return (job.region == region
                    and params.get("ByResourceArn", job.resource_arn) == job.resource_arn
                    and params.get("ByState", job.state) == job.state
                    and params.get("ByBackupVaultName", job.vault_name) == job.vault_name
                    and params.get("ByResourceType", job.resource_type) == job.resource_type
                    and params.get("ByAccountId", config.ACCOUNT_ID) == config.ACCOUNT_ID
                    and _within(job.creation_date, params.get("ByCreatedAfter"), params.get("ByCreatedBefore"))
                    and _within(job.completion_date, params.get("ByCompleteAfter"), params.get("ByCompleteBefore"))
                    and not params.get("ByParentJobId"))

        jobs = [job for job in reversed(engine.state.backup_jobs.values()) if wanted(job)]
        page, token = paginate(jobs, params)
        return {"BackupJobs": [self.backup_job_view(job) for job in page], "NextToken": token}

    def op_StartCopyJob(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["SourceBackupVaultName"])
        point = self.point_in_vault(vault, params["RecoveryPointArn"])
        parse_vault_arn(params["DestinationBackupVaultArn"])
        self.require_role(params["IamRoleArn"])
        check_lifecycle(params.get("Lifecycle"), "StartCopyJob")
        job = engine.create_copy_job(point, params["DestinationBackupVaultArn"],
                                   params.get("Lifecycle") or point.lifecycle, params["IamRoleArn"], engine.now())
        return {"CopyJobId": job.job_id, "CreationDate": job.creation_date, "IsParent": False}

    def op_DescribeCopyJob(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        job = engine.state.copy_jobs.get(params["CopyJobId"])
        if job is None or job.region != region:
            raise AwsError(NOT_FOUND, f"Copy job {params['CopyJobId']} does not exist in {region}")
        return {"CopyJob": self.copy_job_view(job)}

    def op_ListCopyJobs(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        def wanted(job: CopyJob) -> bool:
            return (job.region == region
                    and params.get("ByResourceArn", job.resource_arn) == job.resource_arn
                    and params.get("ByState", job.state) == job.state
                    and params.get("ByResourceType", job.resource_type) == job.resource_type
                    and params.get("ByDestinationVaultArn", job.destination_vault_arn) == job.destination_vault_arn
                    and params.get("BySourceRecoveryPointArn", job.source_recovery_point_arn)
                    == job.source_recovery_point_arn
                    and params.get("ByAccountId", config.ACCOUNT_ID) == config.ACCOUNT_ID
                    and _within(job.creation_date, params.get("ByCreatedAfter"), params.get("ByCreatedBefore"))
                    and _within(job.completion_date, params.get("ByCompleteAfter"), params.get("ByCompleteBefore"))
                    and not params.get("ByParentJobId"))

        jobs = [job for job in reversed(engine.state.copy_jobs.values()) if wanted(job)]
        page, token = paginate(jobs, params)
        return {"CopyJobs": [self.copy_job_view(job) for job in page], "NextToken": token}

    def op_StartRestoreJob(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        point = engine.state.recovery_points.get(params["RecoveryPointArn"])
        if point is None or point.region != region:
            raise AwsError(NOT_FOUND, f"Recovery point {params['RecoveryPointArn']} does not exist in {region}")
        if point.status != "COMPLETED":
            raise AwsError(REQUEST, f"Recovery point {point.arn} is {point.status}; only COMPLETED ones restore")
        if params.get("ResourceType") and params["ResourceType"] != point.resource_type:
            raise AwsError(INVALID, f"ResourceType {params['ResourceType']} does not match the recovery point's "
                                    f"{point.resource_type}")
        if params.get("IamRoleArn"):
            self.require_role(params["IamRoleArn"])
        if params.get("CopySourceTagsToRestoredResource"):
            raise AwsError(INVALID, "CopySourceTagsToRestoredResource is not simulated by the lab; tag the restored "
                                    "resource after the restore")
        now = engine.now()
        durations = engine.sandbox.durations
        metadata = dict(params["Metadata"])
        provider = engine.provider(point.resource_type)
        pending = durations.backup_restore_pending()
        cold = durations.backup_cold_extra() if point.storage_class == "COLD" else 0.0
        running = restore_seconds(durations, provider, point.resource_type, point.data, metadata, point.size_bytes)
        job = RestoreJob(engine.state.new_uuid(engine.seed).upper(), region, point.arn,
                         vault_arn(point.region, point.vault_name), point.resource_arn, point.resource_type,
                         metadata, params.get("IamRoleArn"), now, point.creation_date,
                         status="PENDING", size_bytes=point.size_bytes,
                         expected_minutes=math.ceil((pending + cold + running) / 60.0))
        engine.state.restore_jobs[job.job_id] = job
        engine.state.schedule(now + pending, "restore-start", job.job_id)
        engine.emit("RestoreJobPending", region=region, resource=point.arn, job_id=job.job_id,
                  source_resource=point.resource_arn, expected_minutes=job.expected_minutes)
        return {"RestoreJobId": job.job_id}

    def op_DescribeRestoreJob(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        job = engine.state.restore_jobs.get(params["RestoreJobId"])
        if job is None or job.region != region:
            raise AwsError(NOT_FOUND, f"Restore job {params['RestoreJobId']} does not exist in {region}")
        return self.restore_job_view(job)

    def op_ListRestoreJobs(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        def wanted(job: RestoreJob) -> bool:
            return (job.region == region
                    and params.get("ByStatus", job.status) == job.status
                    and params.get("ByResourceType", job.resource_type) == job.resource_type
                    and params.get("ByAccountId", config.ACCOUNT_ID) == config.ACCOUNT_ID
                    and _within(job.creation_date, params.get("ByCreatedAfter"), params.get("ByCreatedBefore"))
                    and _within(job.completion_date, params.get("ByCompleteAfter"), params.get("ByCompleteBefore"))
                    and not params.get("ByRestoreTestingPlanArn") and not params.get("ByParentJobId"))

        jobs = [job for job in reversed(engine.state.restore_jobs.values()) if wanted(job)]
        page, token = paginate(jobs, params)
        return {"RestoreJobs": [self.restore_job_view(job) for job in page], "NextToken": token}

    def op_ListRestoreJobsByProtectedResource(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        jobs = [job for job in reversed(engine.state.restore_jobs.values())
                if job.region == region and job.source_resource_arn == params["ResourceArn"]
                and params.get("ByStatus", job.status) == job.status
                and _within(job.recovery_point_creation_date, params.get("ByRecoveryPointCreationDateAfter"),
                            params.get("ByRecoveryPointCreationDateBefore"))]
        page, token = paginate(jobs, params)
        return {"RestoreJobs": [self.restore_job_view(job) for job in page], "NextToken": token}

    def op_DescribeRecoveryPoint(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        return self.point_view(self.point_in_vault(vault, params["RecoveryPointArn"]))

    def op_ListRecoveryPointsByBackupVault(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])

        def wanted(point: RecoveryPoint) -> bool:
            return (params.get("ByResourceArn", point.resource_arn) == point.resource_arn
                    and params.get("ByResourceType", point.resource_type) == point.resource_type
                    and (not params.get("ByBackupPlanId")
                         or (point.created_by or {}).get("BackupPlanId") == params["ByBackupPlanId"])
                    and _within(point.creation_date, params.get("ByCreatedAfter"), params.get("ByCreatedBefore"))
                    and not params.get("ByParentRecoveryPointArn"))

        points = sorted((p for p in engine.state.points_in_vault(region, vault.name) if wanted(p)),
                        key=lambda p: (-p.creation_date, p.arn))
        page, token = paginate(points, params)
        return {"RecoveryPoints": [self.point_view(p) for p in page], "NextToken": token}

    def op_ListRecoveryPointsByResource(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        arn = params["ResourceArn"]
        points = sorted((p for p in engine.state.recovery_points.values()
                         if p.region == region and p.resource_arn == arn), key=lambda p: (-p.creation_date, p.arn))
        page, token = paginate(points, params)
        return {"RecoveryPoints": [
            {"RecoveryPointArn": p.arn, "CreationDate": p.creation_date, "Status": p.status,
             "EncryptionKeyArn": p.encryption_key_arn, "BackupSizeBytes": p.size_bytes,
             "BackupVaultName": p.vault_name, "IsParent": False, "ResourceName": p.resource_name,
             "VaultType": "BACKUP_VAULT"} for p in page], "NextToken": token}

    def op_DeleteRecoveryPoint(self, call: Call) -> None:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        point = self.point_in_vault(vault, params["RecoveryPointArn"])
        now = engine.now()
        denied = access.refusal(engine.sandbox, vault.access_policy, "backup:DeleteRecoveryPoint", point.arn, region,
                                now)
        if denied is not None:
            reason = f"the access policy of backup vault {vault.name} denies backup:DeleteRecoveryPoint"
            engine.emit("RecoveryPointDeletionRefused", region=region, resource=point.arn, reason=reason)
            raise AwsError("AccessDeniedException", denied, 403)
        refusal = engine.deletion_refusal(point, now)
        if refusal is not None:
            engine.emit("RecoveryPointDeletionRefused", region=region, resource=point.arn, reason=refusal)
            raise AwsError(REQUEST, refusal)
        engine.remove_point(point, now, "RecoveryPointDeleted")

    def op_UpdateRecoveryPointLifecycle(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        point = self.point_in_vault(vault, params["RecoveryPointArn"])
        lifecycle = params.get("Lifecycle") or {}
        check_lifecycle(lifecycle, "UpdateRecoveryPointLifecycle")
        denied = access.refusal(engine.sandbox, vault.access_policy, "backup:UpdateRecoveryPointLifecycle", point.arn,
                                region, engine.now())
        if denied is not None:
            raise AwsError("AccessDeniedException", denied, 403)
        refusal = lock_refusal(vault, lifecycle)
        if refusal is not None:
            raise AwsError(REQUEST, refusal)
        if point.storage_class == "COLD" and lifecycle.get("MoveToColdStorageAfterDays") != point.lifecycle.get(
                "MoveToColdStorageAfterDays"):
            raise AwsError(INVALID, f"Recovery point {point.arn} is already in cold storage; its cold storage "
                                    "setting cannot change")
        point.lifecycle = dict(lifecycle)
        engine.schedule_lifecycle(point)
        engine.emit("RecoveryPointLifecycleUpdated", region=region, resource=point.arn, lifecycle=dict(lifecycle))
        view = self.point_view(point)
        return {"BackupVaultArn": vault.arn, "RecoveryPointArn": point.arn, "Lifecycle": view["Lifecycle"],
                "CalculatedLifecycle": view["CalculatedLifecycle"]}

    def op_GetRecoveryPointRestoreMetadata(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        point = self.point_in_vault(vault, params["RecoveryPointArn"])
        described = getattr(engine.provider(point.resource_type), "backup_restore_metadata", None)
        metadata = described(point.data) if described else {}
        return {"BackupVaultArn": vault.arn, "RecoveryPointArn": point.arn, "RestoreMetadata": metadata,
                "ResourceType": point.resource_type}

    def op_ListProtectedResources(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        latest = self._latest_points(region)
        page, token = paginate([latest[arn] for arn in sorted(latest)], params)
        return {"Results": [self._protected_view(p) for p in page], "NextToken": token}

    def op_ListProtectedResourcesByBackupVault(self, call: Call) -> dict[str, Any]:
        region, params = call.region, call.params
        vault = self.vault(region, params["BackupVaultName"])
        latest = self._latest_points(region, vault.name)
        page, token = paginate([latest[arn] for arn in sorted(latest)], params)
        return {"Results": [self._protected_view(p) for p in page], "NextToken": token}

    def op_DescribeProtectedResource(self, call: Call) -> dict[str, Any]:
        engine, region, params = self.engine, call.region, call.params
        arn = params["ResourceArn"]
        point = self._latest_points(region).get(arn)
        if point is None:
            raise AwsError(NOT_FOUND, f"{arn} has no recovery point in {region}")
        view = self._protected_view(point)
        restores = [j for j in engine.state.restore_jobs.values()
                    if j.region == region and j.source_resource_arn == arn and j.status == "COMPLETED"]
        if restores:
            latest = max(restores, key=lambda j: j.creation_date)
            view.update(LatestRestoreJobCreationDate=latest.creation_date,
                        LatestRestoreRecoveryPointCreationDate=latest.recovery_point_creation_date,
                        LatestRestoreExecutionTimeMinutes=round(((latest.completion_date or latest.creation_date)
                                                                 - latest.creation_date) / 60))
        return view


    # -- views and lookups the operations share --------------------------------------------------

    def vault(self, region: str, name: str) -> Vault:
        found = self.engine.state.vaults.get((region, name))
        if found is None:
            raise AwsError(NOT_FOUND, f"Backup vault {name} does not exist in {region}")
        return found

    def plan(self, plan_id: str, *, live: bool = True) -> Plan:
        plan = self.engine.state.plans.get(plan_id)
        if plan is None or (live and plan.deletion_date is not None):
            raise AwsError(NOT_FOUND, f"Backup plan {plan_id} does not exist")
        return plan

    def _taggable(self, arn: str) -> str:
        state = self.engine.state
        known = (any(v.arn == arn for v in state.vaults.values()) or arn in state.recovery_points
                 or any(p.arn == arn and p.deletion_date is None for p in state.plans.values())
                 or any(f.arn == arn for f in state.frameworks.values())
                 or any(p.arn == arn for p in books(state).plans.values()))
        if not known:
            raise AwsError(NOT_FOUND, f"no AWS Backup resource {arn} (vault, plan, recovery point, framework or "
                                      "report plan)")
        return arn

    def _plan_answer(self, plan: Plan) -> dict[str, Any]:
        answer: dict[str, Any] = {"BackupPlanId": plan.plan_id, "BackupPlanArn": plan.arn,
                                  "CreationDate": plan.current.created_at, "VersionId": plan.current.version_id}
        if plan.current.document.get("AdvancedBackupSettings"):
            answer["AdvancedBackupSettings"] = plan.current.document["AdvancedBackupSettings"]
        return answer

    def _framework(self, region: str, name: str) -> Framework:
        found = self.engine.state.frameworks.get((region, name))
        if found is None:
            raise AwsError(NOT_FOUND, f"Framework {name} does not exist in {region}")
        return found

    def _selection(self, plan_id: str, selection_id: str) -> Selection:
        selection = self.engine.state.selections.get(selection_id)
        if selection is None or selection.plan_id != plan_id:
            raise AwsError(NOT_FOUND, f"Backup plan {plan_id} has no selection {selection_id}")
        return selection

    def _plan_summary(self, plan: Plan, version: PlanVersion) -> dict[str, Any]:
        return {"BackupPlanArn": plan.arn, "BackupPlanId": plan.plan_id, "CreationDate": version.created_at,
                "DeletionDate": plan.deletion_date, "VersionId": version.version_id,
                "BackupPlanName": version.document["BackupPlanName"], "CreatorRequestId": plan.creator_request_id,
                "LastExecutionDate": plan.last_execution_date,
                "AdvancedBackupSettings": version.document.get("AdvancedBackupSettings")}

    def _plan_document(self, region: str, given: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
        """The stored BackupPlan: defaults filled in, every rule checked, rule ids kept across updates."""
        name = given.get("BackupPlanName", "")
        if not re.match(r"^[a-zA-Z0-9\-_.]{1,50}$", name):
            raise AwsError(INVALID, f"backup plan name {name!r} must be 1-50 letters, digits, '-', '_' or '.'")
        rules = given.get("Rules") or []
        if not rules:
            raise AwsError(INVALID, f"backup plan {name} needs at least one rule")
        old_ids = {rule["RuleName"]: rule["RuleId"] for rule in (previous or {}).get("Rules", [])}
        seen: set[str] = set()
        stored = []
        for rule in rules:
            rule_name = rule["RuleName"]
            where = f"rule {rule_name}"
            if rule_name in seen:
                raise AwsError(INVALID, f"backup plan {name} has two rules named {rule_name}")
            seen.add(rule_name)
            vault = rule["TargetBackupVaultName"]
            if (region, vault) not in self.engine.state.vaults:
                raise AwsError(INVALID, f"{where}: backup vault {vault} does not exist in {region}")
            if rule.get("EnableContinuousBackup"):
                raise AwsError(INVALID, f"{where}: continuous backups (EnableContinuousBackup) are not simulated "
                                        "by the lab; use a scheduled rule")
            if any(rule.get(key) for key in ("TargetLogicallyAirGappedBackupVaultArn", "ScanActions", "IndexActions")):
                raise AwsError(INVALID, f"{where}: air-gapped vaults, scan and index actions are not simulated "
                                        "by the lab")
            expression = rule.get("ScheduleExpression") or DEFAULT_SCHEDULE
            zone = rule.get("ScheduleExpressionTimezone") or "Etc/UTC"
            try:
                validate(expression, zone, now=self.engine.now())
            except ScheduleError as exc:
                raise AwsError(INVALID, f"{where}: {exc}") from exc
            start = rule.get("StartWindowMinutes", DEFAULT_START_WINDOW)
            completion = rule.get("CompletionWindowMinutes", DEFAULT_COMPLETION_WINDOW)
            if start < 60:
                raise AwsError(INVALID, f"{where}: StartWindowMinutes must be at least 60, not {start}")
            if completion < start + 60:
                raise AwsError(INVALID, f"{where}: CompletionWindowMinutes ({completion}) must be at least 60 "
                                        f"minutes more than StartWindowMinutes ({start})")
            check_lifecycle(rule.get("Lifecycle"), where)
            for action in rule.get("CopyActions") or []:
                parse_vault_arn(action["DestinationBackupVaultArn"])
                check_lifecycle(action.get("Lifecycle"), f"{where} copy action")
            entry: dict[str, Any] = {
                "RuleName": rule_name, "TargetBackupVaultName": vault, "ScheduleExpression": expression,
                "StartWindowMinutes": start, "CompletionWindowMinutes": completion,
                "RuleId": old_ids.get(rule_name) or self.engine.state.new_uuid(self.engine.seed),
                "ScheduleExpressionTimezone": zone,
            }
            for optional in ("Lifecycle", "RecoveryPointTags", "CopyActions"):
                if rule.get(optional):
                    entry[optional] = rule[optional]
            stored.append(entry)
        document: dict[str, Any] = {"BackupPlanName": name, "Rules": stored}
        if given.get("AdvancedBackupSettings"):
            document["AdvancedBackupSettings"] = given["AdvancedBackupSettings"]
        return document

    @staticmethod
    def _comparable(document: dict[str, Any]) -> str:
        rules = [{k: v for k, v in rule.items() if k != "RuleId"} for rule in document["Rules"]]
        return json.dumps({**document, "Rules": rules}, sort_keys=True)

    def _backup_job(self, region: str, job_id: str) -> BackupJob:
        job = self.engine.state.backup_jobs.get(job_id)
        if job is None or job.region != region:
            raise AwsError(NOT_FOUND, f"Backup job {job_id} does not exist in {region}")
        return job

    @staticmethod
    def _protected_view(point: RecoveryPoint) -> dict[str, Any]:
        return {"ResourceArn": point.resource_arn, "ResourceType": point.resource_type,
                "LastBackupTime": point.creation_date, "ResourceName": point.resource_name,
                "LastBackupVaultArn": vault_arn(point.region, point.vault_name),
                "LastRecoveryPointArn": point.arn}

    def _latest_points(self, region: str, vault_name: str | None = None) -> dict[str, RecoveryPoint]:
        latest: dict[str, RecoveryPoint] = {}
        for point in self.engine.state.recovery_points.values():
            if point.region != region or (vault_name and point.vault_name != vault_name):
                continue
            known = latest.get(point.resource_arn)
            if known is None or point.creation_date > known.creation_date:
                latest[point.resource_arn] = point
        return latest

    def restore_job_view(self, job: RestoreJob) -> dict[str, Any]:
        now = self.engine.now()
        percent: float | None = 100.0 if job.status == "COMPLETED" else None
        if job.status == "RUNNING" and job.started_at is not None:
            ends = job.expected_completion or job.creation_date + job.expected_minutes * 60.0
            percent = float(min(99, progress(job.started_at, max(ends, job.started_at + 1.0), now)))
        elif job.status == "PENDING":
            percent = 0.0
        return {
            "AccountId": config.ACCOUNT_ID, "RestoreJobId": job.job_id, "RecoveryPointArn": job.recovery_point_arn,
            "SourceResourceArn": job.source_resource_arn, "BackupVaultArn": job.vault_arn,
            "CreationDate": job.creation_date, "CompletionDate": job.completion_date, "Status": job.status,
            "StatusMessage": job.status_message, "PercentDone": f"{percent:.1f}" if percent is not None else None,
            "BackupSizeInBytes": job.size_bytes, "IamRoleArn": job.iam_role_arn,
            "ExpectedCompletionTimeMinutes": job.expected_minutes, "CreatedResourceArn": job.created_resource_arn,
            "ResourceType": job.resource_type, "RecoveryPointCreationDate": job.recovery_point_creation_date,
            "IsParent": False,
        }

    def point_view(self, point: RecoveryPoint) -> dict[str, Any]:
        calculated = {"MoveToColdStorageAt": self.engine.cold_at(point), "DeleteAt": point.delete_at()}
        return {
            "RecoveryPointArn": point.arn, "BackupVaultName": point.vault_name,
            "BackupVaultArn": vault_arn(point.region, point.vault_name), "SourceBackupVaultArn": point.source_vault_arn,
            "ResourceArn": point.resource_arn, "ResourceType": point.resource_type, "CreatedBy": point.created_by,
            "IamRoleArn": point.iam_role_arn, "Status": point.status, "CreationDate": point.creation_date,
            "InitiationDate": point.initiation_date, "CompletionDate": point.completion_date,
            "BackupSizeInBytes": point.size_bytes,
            "CalculatedLifecycle": {k: v for k, v in calculated.items() if v is not None} or None,
            "Lifecycle": point.lifecycle or None, "EncryptionKeyArn": point.encryption_key_arn,
            "IsEncrypted": point.encrypted, "StorageClass": point.storage_class,
            "LastRestoreTime": point.last_restore_time, "IsParent": False, "ResourceName": point.resource_name,
            "VaultType": "BACKUP_VAULT",
        }

    def vault_view(self, vault: Vault) -> dict[str, Any]:
        now = self.engine.now()
        lock = vault.lock
        view: dict[str, Any] = {
            "BackupVaultName": vault.name, "BackupVaultArn": vault.arn, "VaultType": "BACKUP_VAULT",
            "VaultState": "AVAILABLE", "EncryptionKeyArn": vault.encryption_key_arn,
            "CreationDate": vault.creation_date, "CreatorRequestId": vault.creator_request_id,
            "NumberOfRecoveryPoints": len(self.engine.state.points_in_vault(vault.region, vault.name)),
            "Locked": bool(lock and lock.locked(now)),
        }
        if vault.customer_managed_key:
            view["EncryptionKeyType"] = "CUSTOMER_MANAGED_KMS_KEY"
        if lock is not None:
            view.update(MinRetentionDays=lock.min_retention_days, MaxRetentionDays=lock.max_retention_days,
                        LockDate=lock.lock_date)
        return view

    def copy_job_view(self, job: CopyJob) -> dict[str, Any]:
        region, name = parse_vault_arn(job.destination_vault_arn)
        destination = self.engine.state.vaults.get((region, name))
        return {
            "AccountId": config.ACCOUNT_ID, "CopyJobId": job.job_id,
            "SourceBackupVaultArn": vault_arn(job.region, job.source_vault_name),
            "SourceRecoveryPointArn": job.source_recovery_point_arn,
            "DestinationBackupVaultArn": job.destination_vault_arn, "DestinationVaultType": "BACKUP_VAULT",
            "DestinationRecoveryPointArn": job.destination_recovery_point_arn,
            "DestinationEncryptionKeyArn": destination.encryption_key_arn if destination else None,
            "DestinationRecoveryPointLifecycle": job.lifecycle or None, "ResourceArn": job.resource_arn,
            "CreationDate": job.creation_date, "CompletionDate": job.completion_date, "State": job.state,
            "StatusMessage": job.status_message, "BackupSizeInBytes": job.size_bytes,
            "IamRoleArn": job.iam_role_arn, "CreatedBy": job.created_by,
            "CreatedByBackupJobId": job.created_by_backup_job_id, "ResourceType": job.resource_type,
            "IsParent": False, "ResourceName": job.resource_name,
        }

    def backup_job_view(self, job: BackupJob) -> dict[str, Any]:
        now = self.engine.now()
        percent: float | None = {"CREATED": 0.0, "COMPLETED": 100.0}.get(job.state)
        if percent is None and job.state == "RUNNING" and job.started_at is not None and job.expected_completion:
            percent = float(min(99, progress(job.started_at, job.expected_completion, now)))
        transferred = job.size_bytes if job.state == "COMPLETED" else (
            int((job.size_bytes or 0) * percent / 100) if job.state == "RUNNING" and percent is not None else None)
        return {
            "AccountId": config.ACCOUNT_ID, "BackupJobId": job.job_id, "BackupVaultName": job.vault_name,
            "BackupVaultArn": vault_arn(job.region, job.vault_name), "VaultType": "BACKUP_VAULT",
            "RecoveryPointArn": job.recovery_point_arn, "RecoveryPointLifecycle": job.lifecycle or None,
            "EncryptionKeyArn": job.encryption_key_arn, "IsEncrypted": job.encrypted,
            "ResourceArn": job.resource_arn, "CreationDate": job.creation_date, "CompletionDate": job.completion_date,
            "State": job.state, "StatusMessage": job.status_message,
            "PercentDone": f"{percent:.1f}" if percent is not None else None,
            "BackupSizeInBytes": job.size_bytes,
            "BytesTransferred": transferred,
            "IamRoleArn": job.iam_role_arn, "CreatedBy": job.created_by,
            "ExpectedCompletionDate": job.expected_completion, "StartBy": job.start_by,
            "ResourceType": job.resource_type, "IsParent": False, "ResourceName": job.resource_name,
            "InitiationDate": job.creation_date,
        }

    def schedule_rules(self, plan: Plan) -> None:
        for rule in plan.current.document["Rules"]:
            self.engine.schedule_rule(plan, rule, self.engine.now())

    def scheduled_runs(self, plan: Plan, count: int) -> list[dict[str, Any]]:
        """The plan's next `count` runs (GetBackupPlan's ScheduledRunsPreview), soonest first."""
        runs: list[dict[str, Any]] = []
        for rule in plan.current.document["Rules"]:
            schedule = Schedule(rule["ScheduleExpression"], rule["ScheduleExpressionTimezone"])
            cursor = self.engine.now()
            for _ in range(count):
                due = schedule.next_after(cursor, plan.current.created_at)
                if due is None:
                    break
                runs.append({"ExecutionTime": due, "RuleId": rule["RuleId"], "RuleExecutionType": "SNAPSHOTS"})
                cursor = due
        return sorted(runs, key=lambda run: (run["ExecutionTime"], run["RuleId"]))[:count]

    def require_kms_key(self, region: str, key: str) -> str:
        if key.startswith("arn:") and key.split(":")[3:4] != [region]:
            raise AwsError(INVALID, f"KMS key {key} is not in {region}; a vault's key must be in the vault's region")
        try:
            metadata = self.engine.sandbox.client("kms", region).describe_key(KeyId=key)["KeyMetadata"]
        except ClientError as exc:
            raise AwsError(INVALID, f"KMS key {key} does not exist in {region}") from exc
        if metadata.get("KeyState") != "Enabled":
            raise AwsError(INVALID, f"KMS key {key} is {metadata.get('KeyState')}; AWS Backup needs an enabled key")
        return metadata["Arn"]

    def point_in_vault(self, vault: Vault, arn: str) -> RecoveryPoint:
        point = self.engine.state.recovery_points.get(arn)
        if point is None or point.region != vault.region or point.vault_name != vault.name:
            raise AwsError(NOT_FOUND, f"Recovery point {arn} does not exist in backup vault {vault.name}")
        return point

    def require_role(self, arn: str) -> None:
        if not _ROLE_ARN.match(arn or ""):
            raise AwsError(INVALID, f"{arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        if self.engine.data.role_trust_policy(arn) is None:
            raise AwsError(INVALID, f"IAM role {arn} does not exist; create it (trusting backup.amazonaws.com) "
                                    "before AWS Backup can use it")


def _as_the_caller(operation: Callable[[Call], Output | None]) -> Operation:
    """The operation with its call set for the vault access policies (access.py); None answers {}."""
    def answer(call: Call) -> Output:
        token = access.CURRENT_CALL.set(call)
        try:
            return operation(call) or {}
        finally:
            access.CURRENT_CALL.reset(token)

    answer.__name__ = getattr(operation, "__name__", "operation")
    return answer


def _iso(epoch: float | None) -> str:
    return iso(epoch) if epoch is not None else "never"


def _within(moment: float | None, after: datetime | None, before: datetime | None) -> bool:
    if after is None and before is None:
        return True
    if moment is None:
        return False
    return (after is None or moment >= after.timestamp()) and (before is None or moment <= before.timestamp())
