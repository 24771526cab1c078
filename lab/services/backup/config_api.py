"""AWS Backup configuration operations: vaults (encryption, lock, access policy), plans, selections,
Audit Manager frameworks and tags. Mixed into the backup engine, which supplies state, time and checks."""

from __future__ import annotations

import json
import re
from typing import Any

from lab import config
from lab.kernel.api import paginate
from lab.kernel.errors import AwsError
from lab.services.backup.access import policy_problem
from lab.services.backup.audit_manager import check_controls
from lab.services.backup.model import Framework, Plan, PlanVersion, Selection, Vault, VaultLock, default_vault_key
from lab.services.backup.resources import RESOURCE_TYPES
from lab.services.backup.schedule import ScheduleError, validate
from lab.sim.clock import iso

DEFAULT_SCHEDULE = "cron(0 5 ? * * *)"  # what AWS Backup runs when a rule names no schedule
DEFAULT_START_WINDOW = 480
DEFAULT_COMPLETION_WINDOW = 10080
MAX_RETENTION_DAYS = 36500
MIN_CHANGEABLE_DAYS = 3
_VAULT_NAME = re.compile(r"^[a-zA-Z0-9\-_]{2,50}$")
_VAULT_ARN = re.compile(r"^arn:aws:backup:([a-z0-9-]+):(\d{12}):backup-vault:([a-zA-Z0-9\-_]{2,50})$")
_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/.+$")
_FRAMEWORK_NAME = re.compile(r"^[a-zA-Z][_a-zA-Z0-9]{0,255}$")

INVALID = "InvalidParameterValueException"
NOT_FOUND = "ResourceNotFoundException"
EXISTS = "AlreadyExistsException"
REQUEST = "InvalidRequestException"


def parse_vault_arn(arn: str) -> tuple[str, str]:
    found = _VAULT_ARN.match(arn or "")
    if not found:
        raise AwsError(INVALID, f"{arn!r} is not a backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME)")
    if found.group(2) != config.ACCOUNT_ID:
        raise AwsError(INVALID, f"backup vault {arn} belongs to account {found.group(2)}; the lab has only "
                                f"account {config.ACCOUNT_ID}")
    return found.group(1), found.group(3)


def check_lifecycle(lifecycle: dict[str, Any] | None, where: str) -> None:
    if not lifecycle:
        return
    delete = lifecycle.get("DeleteAfterDays")
    cold = lifecycle.get("MoveToColdStorageAfterDays")
    for name, value in (("DeleteAfterDays", delete), ("MoveToColdStorageAfterDays", cold)):
        if value is not None and not 1 <= value <= MAX_RETENTION_DAYS:
            raise AwsError(INVALID, f"{where}: {name} must be between 1 and {MAX_RETENTION_DAYS}, not {value}")
    if delete is not None and cold is not None and delete < cold + 90:
        raise AwsError(INVALID, f"{where}: DeleteAfterDays ({delete}) must be at least 90 days more than "
                                f"MoveToColdStorageAfterDays ({cold})")
    if lifecycle.get("DeleteAfterEvent"):
        raise AwsError(INVALID, f"{where}: DeleteAfterEvent applies to continuous backups, which the lab does "
                                "not simulate")


class BackupConfigApi:
    """Handlers `op_<Operation>(region, params) -> output` for configuration; see the engine for helpers."""

    # -- vaults -----------------------------------------------------------------------------------

    def op_CreateBackupVault(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        name = params["BackupVaultName"]
        if not _VAULT_NAME.match(name):
            raise AwsError(INVALID, f"backup vault name {name!r} must be 2-50 letters, digits, '-' or '_'")
        state = self.state
        if (region, name) in state.vaults:
            raise AwsError(EXISTS, f"Backup vault {name} already exists in {region}")
        key = params.get("EncryptionKeyArn")
        if key:
            key = self.require_kms_key(region, key)
        vault = Vault(name, region, self.now(), key or default_vault_key(region), bool(key),
                      params.get("CreatorRequestId"))
        state.vaults[(region, name)] = vault
        if params.get("BackupVaultTags"):
            state.tags[vault.arn] = dict(params["BackupVaultTags"])
        self.emit("BackupVaultCreated", region=region, resource=vault.arn, encryption_key=vault.encryption_key_arn)
        return {"BackupVaultName": name, "BackupVaultArn": vault.arn, "CreationDate": vault.creation_date}

    def vault_view(self, vault: Vault) -> dict[str, Any]:
        now = self.now()
        lock = vault.lock
        view: dict[str, Any] = {
            "BackupVaultName": vault.name, "BackupVaultArn": vault.arn, "VaultType": "BACKUP_VAULT",
            "VaultState": "AVAILABLE", "EncryptionKeyArn": vault.encryption_key_arn,
            "CreationDate": vault.creation_date, "CreatorRequestId": vault.creator_request_id,
            "NumberOfRecoveryPoints": len(self.state.points_in_vault(vault.region, vault.name)),
            "Locked": bool(lock and lock.locked(now)),
        }
        if vault.customer_managed_key:
            view["EncryptionKeyType"] = "CUSTOMER_MANAGED_KMS_KEY"
        if lock is not None:
            view.update(MinRetentionDays=lock.min_retention_days, MaxRetentionDays=lock.max_retention_days,
                        LockDate=lock.lock_date)
        return view

    def op_DescribeBackupVault(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.vault_view(self.vault(region, params["BackupVaultName"]))

    def op_ListBackupVaults(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        vaults = self.state.vaults_in(region)
        if params.get("ByVaultType") not in (None, "BACKUP_VAULT"):
            vaults = []
        if params.get("ByShared"):
            vaults = []  # the lab shares nothing across accounts
        page, token = paginate(vaults, params)
        return {"BackupVaultList": [self.vault_view(v) for v in page], "NextToken": token}

    def op_DeleteBackupVault(self, region: str, params: dict[str, Any]) -> None:
        vault = self.vault(region, params["BackupVaultName"])
        points = self.state.points_in_vault(region, vault.name)
        if points:
            raise AwsError(REQUEST, f"Backup vault cannot be deleted because it contains recovery points "
                                    f"({vault.name} holds {len(points)})")
        del self.state.vaults[(region, vault.name)]
        self.state.tags.pop(vault.arn, None)
        self.emit("BackupVaultDeleted", region=region, resource=vault.arn)

    def op_PutBackupVaultLockConfiguration(self, region: str, params: dict[str, Any]) -> None:
        vault = self.vault(region, params["BackupVaultName"])
        now = self.now()
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
            self.state.schedule(vault.lock.lock_date, "lock", f"{region}|{vault.name}")
        self.emit("BackupVaultLockConfigured", region=region, resource=vault.arn, min_retention_days=minimum,
                  max_retention_days=maximum, mode="compliance" if changeable is not None else "governance",
                  lock_date=vault.lock.lock_date)

    def op_DeleteBackupVaultLockConfiguration(self, region: str, params: dict[str, Any]) -> None:
        vault = self.vault(region, params["BackupVaultName"])
        lock = vault.lock
        if lock is None:
            raise AwsError(NOT_FOUND, f"Backup vault {vault.name} has no vault lock configuration")
        if lock.immutable(self.now()):
            raise AwsError(REQUEST, f"Backup vault {vault.name} is locked in compliance mode since "
                                    f"{_iso(lock.lock_date)}; the lock can no longer be removed")
        vault.lock = None
        self.emit("BackupVaultLockRemoved", region=region, resource=vault.arn)

    def op_PutBackupVaultAccessPolicy(self, region: str, params: dict[str, Any]) -> None:
        vault = self.vault(region, params["BackupVaultName"])
        document = params.get("Policy") or ""
        problem = policy_problem(document)
        if problem:
            raise AwsError(INVALID, f"backup vault access policy for {vault.name}: {problem}")
        vault.access_policy = document
        self.emit("BackupVaultAccessPolicySet", region=region, resource=vault.arn)

    def op_GetBackupVaultAccessPolicy(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        vault = self.vault(region, params["BackupVaultName"])
        if vault.access_policy is None:
            raise AwsError(NOT_FOUND, f"Backup vault {vault.name} has no access policy")
        return {"BackupVaultName": vault.name, "BackupVaultArn": vault.arn, "Policy": vault.access_policy}

    def op_DeleteBackupVaultAccessPolicy(self, region: str, params: dict[str, Any]) -> None:
        vault = self.vault(region, params["BackupVaultName"])
        vault.access_policy = None
        self.emit("BackupVaultAccessPolicyDeleted", region=region, resource=vault.arn)

    # -- plans ------------------------------------------------------------------------------------

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
            if (region, vault) not in self.state.vaults:
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
                validate(expression, zone, now=self.now())
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
                "RuleId": old_ids.get(rule_name) or self.state.new_uuid(self.seed),
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

    def op_CreateBackupPlan(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state
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
        now = self.now()
        plan = Plan(state.new_uuid(self.seed), region, now,
                    [PlanVersion(state.new_version_id(self.seed), document, now)], request_id)
        state.plans[plan.plan_id] = plan
        if params.get("BackupPlanTags"):
            state.tags[plan.arn] = dict(params["BackupPlanTags"])
        self.schedule_rules(plan)
        self.emit("BackupPlanCreated", region=region, resource=plan.arn, plan_name=plan.name,
                  rules=[rule["RuleName"] for rule in document["Rules"]])
        return self._plan_answer(plan)

    def _plan_answer(self, plan: Plan) -> dict[str, Any]:
        answer: dict[str, Any] = {"BackupPlanId": plan.plan_id, "BackupPlanArn": plan.arn,
                                  "CreationDate": plan.current.created_at, "VersionId": plan.current.version_id}
        if plan.current.document.get("AdvancedBackupSettings"):
            answer["AdvancedBackupSettings"] = plan.current.document["AdvancedBackupSettings"]
        return answer

    def plan(self, plan_id: str, *, live: bool = True) -> Plan:
        plan = self.state.plans.get(plan_id)
        if plan is None or (live and plan.deletion_date is not None):
            raise AwsError(NOT_FOUND, f"Backup plan {plan_id} does not exist")
        return plan

    def op_GetBackupPlan(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
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

    def op_UpdateBackupPlan(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(params["BackupPlanId"])
        document = self._plan_document(plan.region, params["BackupPlan"], plan.current.document)
        now = self.now()
        plan.versions.append(PlanVersion(self.state.new_version_id(self.seed), document, now))
        self.schedule_rules(plan)
        self.emit("BackupPlanUpdated", region=plan.region, resource=plan.arn, version=plan.current.version_id)
        return self._plan_answer(plan)

    def op_DeleteBackupPlan(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(params["BackupPlanId"])
        selections = [s for s in self.state.selections.values() if s.plan_id == plan.plan_id]
        if selections:
            raise AwsError(REQUEST, f"Backup plan {plan.plan_id} cannot be deleted while it has resource "
                                    f"assignments; delete its {len(selections)} backup selection(s) first")
        plan.deletion_date = self.now()
        self.emit("BackupPlanDeleted", region=plan.region, resource=plan.arn)
        return {"BackupPlanId": plan.plan_id, "BackupPlanArn": plan.arn, "DeletionDate": plan.deletion_date,
                "VersionId": plan.current.version_id}

    def _plan_summary(self, plan: Plan, version: PlanVersion) -> dict[str, Any]:
        return {"BackupPlanArn": plan.arn, "BackupPlanId": plan.plan_id, "CreationDate": version.created_at,
                "DeletionDate": plan.deletion_date, "VersionId": version.version_id,
                "BackupPlanName": version.document["BackupPlanName"], "CreatorRequestId": plan.creator_request_id,
                "LastExecutionDate": plan.last_execution_date,
                "AdvancedBackupSettings": version.document.get("AdvancedBackupSettings")}

    def op_ListBackupPlans(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        plans = [p for p in self.state.plans.values()
                 if p.region == region and (params.get("IncludeDeleted") or p.deletion_date is None)]
        page, token = paginate(plans, params)
        return {"BackupPlansList": [self._plan_summary(p, p.current) for p in page], "NextToken": token}

    def op_ListBackupPlanVersions(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(params["BackupPlanId"], live=False)
        page, token = paginate(list(reversed(plan.versions)), params)
        return {"BackupPlanVersionsList": [self._plan_summary(plan, v) for v in page], "NextToken": token}

    # -- selections -------------------------------------------------------------------------------

    def op_CreateBackupSelection(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
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
        state = self.state
        if any(s.plan_id == plan.plan_id and s.document["SelectionName"] == name for s in state.selections.values()):
            raise AwsError(EXISTS, f"Backup plan {plan.plan_id} already has a selection named {name}")
        selection = Selection(state.new_uuid(self.seed), plan.plan_id, plan.region, document, self.now(),
                              params.get("CreatorRequestId"))
        state.selections[selection.selection_id] = selection
        self.emit("BackupSelectionCreated", region=plan.region, resource=plan.arn, selection=name,
                  selection_id=selection.selection_id)
        return {"SelectionId": selection.selection_id, "BackupPlanId": plan.plan_id,
                "CreationDate": selection.creation_date}

    def _selection(self, plan_id: str, selection_id: str) -> Selection:
        selection = self.state.selections.get(selection_id)
        if selection is None or selection.plan_id != plan_id:
            raise AwsError(NOT_FOUND, f"Backup plan {plan_id} has no selection {selection_id}")
        return selection

    def op_GetBackupSelection(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        selection = self._selection(params["BackupPlanId"], params["SelectionId"])
        return {"BackupSelection": selection.document, "SelectionId": selection.selection_id,
                "BackupPlanId": selection.plan_id, "CreationDate": selection.creation_date,
                "CreatorRequestId": selection.creator_request_id}

    def op_DeleteBackupSelection(self, region: str, params: dict[str, Any]) -> None:
        selection = self._selection(params["BackupPlanId"], params["SelectionId"])
        del self.state.selections[selection.selection_id]
        self.emit("BackupSelectionDeleted", region=selection.region, resource=selection.selection_id,
                  plan_id=selection.plan_id)

    def op_ListBackupSelections(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(params["BackupPlanId"], live=False)
        selections = [s for s in self.state.selections.values() if s.plan_id == plan.plan_id]
        page, token = paginate(selections, params)
        return {"BackupSelectionsList": [
            {"SelectionId": s.selection_id, "SelectionName": s.document["SelectionName"],
             "BackupPlanId": s.plan_id, "CreationDate": s.creation_date, "CreatorRequestId": s.creator_request_id,
             "IamRoleArn": s.document["IamRoleArn"]} for s in page], "NextToken": token}

    # -- Audit Manager frameworks -----------------------------------------------------------------

    def _framework(self, region: str, name: str) -> Framework:
        found = self.state.frameworks.get((region, name))
        if found is None:
            raise AwsError(NOT_FOUND, f"Framework {name} does not exist in {region}")
        return found

    def op_CreateFramework(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        name = params["FrameworkName"]
        if not _FRAMEWORK_NAME.match(name):
            raise AwsError(INVALID, f"framework name {name!r} must start with a letter and hold only letters, "
                                    "digits and underscores")
        state = self.state
        existing = state.frameworks.get((region, name))
        if existing is not None:
            if params.get("IdempotencyToken") and params.get("IdempotencyToken") == existing.idempotency_token:
                return {"FrameworkName": name, "FrameworkArn": existing.arn}
            raise AwsError(EXISTS, f"Framework {name} already exists in {region}")
        problem = check_controls(params["FrameworkControls"])
        if problem:
            raise AwsError(INVALID, problem)
        arn = f"arn:aws:backup:{region}:{config.ACCOUNT_ID}:framework:{name}-{state.new_uuid(self.seed)}"
        framework = Framework(name, region, arn, params.get("FrameworkDescription"), params["FrameworkControls"],
                              self.now(), params.get("IdempotencyToken"))
        state.frameworks[(region, name)] = framework
        if params.get("FrameworkTags"):
            state.tags[arn] = dict(params["FrameworkTags"])
        self.emit("FrameworkCreated", region=region, resource=arn,
                  controls=[c["ControlName"] for c in framework.controls])
        return {"FrameworkName": name, "FrameworkArn": arn}

    def op_UpdateFramework(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        framework = self._framework(region, params["FrameworkName"])
        if params.get("FrameworkControls") is not None:
            problem = check_controls(params["FrameworkControls"])
            if problem:
                raise AwsError(INVALID, problem)
            framework.controls = params["FrameworkControls"]
        if params.get("FrameworkDescription") is not None:
            framework.description = params["FrameworkDescription"]
        self.emit("FrameworkUpdated", region=region, resource=framework.arn)
        return {"FrameworkName": framework.name, "FrameworkArn": framework.arn,
                "CreationTime": framework.creation_time}

    def op_DescribeFramework(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        framework = self._framework(region, params["FrameworkName"])
        evaluation = self.evaluate_framework(framework)
        evaluated = [c for c in evaluation["Controls"] if c["ComplianceStatus"] != "INSUFFICIENT_DATA"]
        # FrameworkStatus tells whether the controls are being evaluated (AWS: whether AWS Config records
        # the resources they govern): every control has something in scope, some do, or none do.
        status = ("ACTIVE" if len(evaluated) == len(evaluation["Controls"]) else
                  "PARTIALLY_ACTIVE" if evaluated else "INACTIVE")
        return {"FrameworkName": framework.name, "FrameworkArn": framework.arn,
                "FrameworkDescription": framework.description, "FrameworkControls": framework.controls,
                "CreationTime": framework.creation_time, "DeploymentStatus": "COMPLETED",
                "FrameworkStatus": status, "IdempotencyToken": framework.idempotency_token}

    def op_ListFrameworks(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        frameworks = sorted((f for (r, _), f in self.state.frameworks.items() if r == region), key=lambda f: f.name)
        page, token = paginate(frameworks, params)
        return {"Frameworks": [
            {"FrameworkName": f.name, "FrameworkArn": f.arn, "FrameworkDescription": f.description,
             "NumberOfControls": len(f.controls), "CreationTime": f.creation_time, "DeploymentStatus": "COMPLETED"}
            for f in page], "NextToken": token}

    def op_DeleteFramework(self, region: str, params: dict[str, Any]) -> None:
        framework = self._framework(region, params["FrameworkName"])
        del self.state.frameworks[(region, framework.name)]
        self.state.tags.pop(framework.arn, None)
        self.emit("FrameworkDeleted", region=region, resource=framework.arn)

    # -- tags -------------------------------------------------------------------------------------

    def _taggable(self, arn: str) -> str:
        state = self.state
        known = (any(v.arn == arn for v in state.vaults.values()) or arn in state.recovery_points
                 or any(p.arn == arn and p.deletion_date is None for p in state.plans.values())
                 or any(f.arn == arn for f in state.frameworks.values()))
        if not known:
            raise AwsError(NOT_FOUND, f"no AWS Backup resource {arn} (vault, plan, recovery point or framework)")
        return arn

    def op_TagResource(self, region: str, params: dict[str, Any]) -> None:
        arn = self._taggable(params["ResourceArn"])
        self.state.tags.setdefault(arn, {}).update(params["Tags"])

    def op_UntagResource(self, region: str, params: dict[str, Any]) -> None:
        arn = self._taggable(params["ResourceArn"])
        tags = self.state.tags.get(arn, {})
        for key in params["TagKeyList"]:
            tags.pop(key, None)

    def op_ListTags(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._taggable(params["ResourceArn"])
        return {"Tags": dict(self.state.tags.get(arn, {}))}

    def op_GetSupportedResourceTypes(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"ResourceTypes": list(RESOURCE_TYPES)}


def _iso(epoch: float | None) -> str:
    return iso(epoch) if epoch is not None else "never"
