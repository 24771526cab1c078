"""AWS Backup into the inventory (checks.inventory.backup): vaults, plans, recovery points, jobs, frameworks.
Inside the sandbox the client is the Backup engine's own operations (lab.inventory.sources.OperationsClient)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from checks.inventory.backup import (
    Backup,
    BackupJob,
    Condition,
    Control,
    CopyAction,
    CopyJob,
    Framework,
    Lifecycle,
    Plan,
    RecoveryPoint,
    RestoreJob,
    Rule,
    Selection,
    TagCondition,
    Vault,
    VaultLock,
)
from lab.inventory.convert import by_key, iso, policy_document

if TYPE_CHECKING:
    from lab.inventory.collector import Collector

J = TypeVar("J", BackupJob, CopyJob, RestoreJob)

MAX_JOBS = 1_000  # newest backup/copy/restore jobs kept per region


def collect(c: Collector, region: str) -> Backup:
    backup = c.client("backup", region)
    vaults, points = {}, []
    for page in backup.get_paginator("list_backup_vaults").paginate():
        for vault in page.get("BackupVaultList", []):
            name = vault["BackupVaultName"]
            policy = c.attempt("backup", region, f"vault {name}", lambda name=name: c.optional(
                lambda: backup.get_backup_vault_access_policy(BackupVaultName=name).get("Policy"),
                "ResourceNotFoundException"), None)
            vaults[name] = Vault(
                name=name, region=region, arn=vault.get("BackupVaultArn") or "", created=iso(vault.get("CreationDate")),
                encryption_key=vault.get("EncryptionKeyArn"), recovery_points=vault.get("NumberOfRecoveryPoints", 0),
                locked=bool(vault.get("Locked")),
                lock=VaultLock(min_retention_days=vault.get("MinRetentionDays"),
                               max_retention_days=vault.get("MaxRetentionDays"), lock_date=iso(vault.get("LockDate"))),
                access_policy=policy_document(policy))
            # (a month of hourly backups is thousands of points; they change only with the world, not with time)
            points.extend(c.attempt("backup", region, f"recovery points of {name}", lambda name=name: c.source.stable(
                ("backup.points", region, name), lambda: recovery_points(backup, region, name)), []))
    return Backup(
        vaults=by_key(vaults.items()),
        plans=c.attempt("backup", region, "plans", lambda: plans(backup, region), {}),
        recovery_points=sorted(points, key=lambda p: (p.created or "", p.arn or "")),
        jobs=c.attempt("backup", region, "backup jobs", lambda: jobs(backup, "list_backup_jobs", "BackupJobs",
                                                                     backup_job), []),
        copy_jobs=c.attempt("backup", region, "copy jobs", lambda: jobs(backup, "list_copy_jobs", "CopyJobs",
                                                                        copy_job), []),
        restore_jobs=c.attempt("backup", region, "restore jobs", lambda: jobs(
            backup, "list_restore_jobs", "RestoreJobs", restore_job), []),
        frameworks=c.attempt("backup", region, "frameworks", lambda: frameworks(backup, region), []))


def lifecycle(value: Mapping[str, Any] | None) -> Lifecycle:
    value = value or {}
    return Lifecycle(delete_after_days=value.get("DeleteAfterDays"),
                     move_to_cold_after_days=value.get("MoveToColdStorageAfterDays"))


def recovery_points(backup: Any, region: str, vault: str) -> list[RecoveryPoint]:
    found = []
    for page in backup.get_paginator("list_recovery_points_by_backup_vault").paginate(BackupVaultName=vault):
        for point in page.get("RecoveryPoints", []):
            found.append(RecoveryPoint(
                arn=point.get("RecoveryPointArn") or "", region=region, vault=vault,
                resource_arn=point.get("ResourceArn"), resource_type=point.get("ResourceType"),
                status=point.get("Status"), created=iso(point.get("CreationDate")),
                completed=iso(point.get("CompletionDate")), encrypted=bool(point.get("IsEncrypted")),
                encryption_key=point.get("EncryptionKeyArn"), lifecycle=lifecycle(point.get("Lifecycle")),
                delete_at=iso((point.get("CalculatedLifecycle") or {}).get("DeleteAt")),
                source_vault_arn=point.get("SourceBackupVaultArn"),
                plan_id=(point.get("CreatedBy") or {}).get("BackupPlanId")))
    return found


def rule(value: Mapping[str, Any]) -> Rule:
    return Rule(
        name=value.get("RuleName"), id=value.get("RuleId"), target_vault=value.get("TargetBackupVaultName"),
        schedule=value.get("ScheduleExpression"), timezone=value.get("ScheduleExpressionTimezone"),
        start_window=value.get("StartWindowMinutes"), completion_window=value.get("CompletionWindowMinutes"),
        lifecycle=lifecycle(value.get("Lifecycle")),
        copy_actions=[CopyAction(destination_vault_arn=copy.get("DestinationBackupVaultArn"),
                                 lifecycle=Lifecycle(delete_after_days=(copy.get("Lifecycle") or {}).get(
                                     "DeleteAfterDays")))
                      for copy in value.get("CopyActions", [])],
        continuous=bool(value.get("EnableContinuousBackup")))


def selection(selection_id: str, value: Mapping[str, Any]) -> Selection:
    conditions = {kind: [Condition(key=entry.get("ConditionKey"), value=entry.get("ConditionValue"))
                         for entry in entries]
                  for kind, entries in (value.get("Conditions") or {}).items() if entries}
    return Selection(id=selection_id, name=value.get("SelectionName"), role=value.get("IamRoleArn"),
                     resources=list(value.get("Resources") or []), not_resources=list(value.get("NotResources") or []),
                     list_of_tags=[TagCondition(type=t.get("ConditionType"), key=t.get("ConditionKey"),
                                                value=t.get("ConditionValue"))
                                   for t in value.get("ListOfTags") or []],
                     conditions=conditions)


def plans(backup: Any, region: str) -> dict[str, Plan]:
    found = {}
    for page in backup.get_paginator("list_backup_plans").paginate():
        for summary in page.get("BackupPlansList", []):
            plan_id = summary["BackupPlanId"]
            shown = backup.get_backup_plan(BackupPlanId=plan_id)
            body = shown.get("BackupPlan") or {}
            selections = []
            for listed in backup.list_backup_selections(BackupPlanId=plan_id).get("BackupSelectionsList", []):
                chosen = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=listed["SelectionId"])
                selections.append(selection(listed["SelectionId"], chosen.get("BackupSelection") or {}))
            found[plan_id] = Plan(id=plan_id, region=region, arn=shown.get("BackupPlanArn"),
                                  name=body.get("BackupPlanName"), version=shown.get("VersionId"),
                                  rules=[rule(r) for r in body.get("Rules", [])], selections=selections)
    return by_key(found.items())


def backup_job(job: Mapping[str, Any]) -> BackupJob:
    return BackupJob(id=job.get("BackupJobId"), state=job.get("State"), resource_arn=job.get("ResourceArn"),
                     resource_type=job.get("ResourceType"), vault=job.get("BackupVaultName"),
                     recovery_point=job.get("RecoveryPointArn"), created=iso(job.get("CreationDate")),
                     completed=iso(job.get("CompletionDate")),
                     plan_id=(job.get("CreatedBy") or {}).get("BackupPlanId"), message=job.get("StatusMessage"))


def copy_job(job: Mapping[str, Any]) -> CopyJob:
    return CopyJob(id=job.get("CopyJobId"), state=job.get("State"), resource_arn=job.get("ResourceArn"),
                   resource_type=job.get("ResourceType"), source_recovery_point=job.get("SourceRecoveryPointArn"),
                   destination_vault_arn=job.get("DestinationBackupVaultArn"),
                   destination_recovery_point=job.get("DestinationRecoveryPointArn"),
                   created=iso(job.get("CreationDate")), completed=iso(job.get("CompletionDate")),
                   message=job.get("StatusMessage"))


def restore_job(job: Mapping[str, Any]) -> RestoreJob:
    return RestoreJob(id=job.get("RestoreJobId"), state=job.get("Status"), recovery_point=job.get("RecoveryPointArn"),
                      created_resource_arn=job.get("CreatedResourceArn"), resource_type=job.get("ResourceType"),
                      created=iso(job.get("CreationDate")), completed=iso(job.get("CompletionDate")),
                      message=job.get("StatusMessage"))


def jobs(backup: Any, operation: str, key: str, shape: Callable[[Mapping[str, Any]], J]) -> list[J]:
    found: list[J] = []
    # (the API lists the newest first: one page of MAX_JOBS is what is kept)
    for page in backup.get_paginator(operation).paginate(PaginationConfig={"PageSize": MAX_JOBS}):
        found.extend(shape(job) for job in page.get(key, []))
        if len(found) >= MAX_JOBS:
            break
    found.sort(key=lambda job: (job.created or "", job.id or ""))
    return found[-MAX_JOBS:]


def frameworks(backup: Any, region: str) -> list[Framework]:
    found = []
    for summary in backup.list_frameworks().get("Frameworks", []):
        shown = backup.describe_framework(FrameworkName=summary["FrameworkName"])
        found.append(Framework(
            name=summary["FrameworkName"], arn=summary.get("FrameworkArn"), region=region,
            deployment_status=shown.get("DeploymentStatus") or summary.get("DeploymentStatus"),
            status=shown.get("FrameworkStatus"), created=iso(shown.get("CreationTime")),
            controls=[Control(name=control.get("ControlName"),
                              params={p.get("ParameterName"): p.get("ParameterValue")
                                      for p in control.get("ControlInputParameters", [])})
                      for control in shown.get("FrameworkControls", [])]))
    return found
