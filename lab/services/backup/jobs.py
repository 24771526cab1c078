"""AWS Backup's moving parts: backup, copy and restore jobs on the sim clock, recovery points and their
lifecycle (cold storage, expiry), and the refusals vault lock and vault access policies impose.

A backup job goes CREATED -> RUNNING (the owning engine captures the resource's data) -> COMPLETED (the
recovery point exists) within its windows; a completed job runs its rule's copy actions as copy jobs; a
restore job hands the recovery data back to the owning engine, which creates a new resource.
Durations are fixed per resource type (a run's start delay varies by a hash), so a seed replays exactly.
"""

from __future__ import annotations

import json
import math
import zlib
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.api import paginate
from lab.kernel.engine import DataWriteGuard
from lab.kernel.errors import AwsError
from lab.kernel.port import Sandbox
from lab.services.backup import access
from lab.services.backup.config_api import INVALID, NOT_FOUND, REQUEST, check_lifecycle, parse_vault_arn
from lab.services.backup.model import (
    DAY,
    JOB_HISTORY_SECONDS,
    TERMINAL_BACKUP_STATES,
    BackupJob,
    CopyJob,
    Plan,
    RecoveryPoint,
    RestoreJob,
    Vault,
    vault_arn,
)
from lab.services.backup.resources import parse_arn, selects
from lab.services.backup.schedule import Schedule
from lab.sim.clock import iso

BACKUP_MINUTES = {"EBS": 6, "EC2": 9, "RDS": 12, "DynamoDB": 4, "S3": 5}
RESTORE_MINUTES = {"EBS": 4, "EC2": 8, "RDS": 15, "DynamoDB": 8, "S3": 5}
COPY_MINUTES = {True: 12, False: 3}  # cross-region or not
COLD_STORAGE_TYPES = frozenset({"DynamoDB", "EFS"})  # others move to cold storage only when they opt in
ARCHIVE_OPT_IN_TYPES = frozenset({"EBS", "EC2"})
DEFAULT_START_WINDOW = 480
DEFAULT_COMPLETE_WINDOW = 10080


def _jitter(key: str, spread: int) -> int:
    return zlib.crc32(key.encode()) % spread


def _after_the_hour(moment: float) -> float:
    """AWS Backup acts on lifecycle dates in batches within hours of them: the lab at the next full hour."""
    return math.ceil(moment / 3600.0) * 3600.0


class BackupJobsApi:
    """Job machinery and the job and recovery point operations; mixed into the backup engine."""

    # -- plan rules -------------------------------------------------------------------------------

    def run_rule(self, key: str, at: float) -> None:
        plan_id, rule_id, version_id = key.split("|")
        state = self.state
        plan = state.plans.get(plan_id)
        if plan is None or plan.deletion_date is not None or plan.current.version_id != version_id:
            return  # the plan changed or went: its new version keeps its own schedule
        rule = next((r for r in plan.current.document["Rules"] if r["RuleId"] == rule_id), None)
        if rule is None:
            return
        self.schedule_rule(plan, rule, at)
        plan.last_execution_date = at
        selections = [s for s in state.selections.values() if s.plan_id == plan_id]
        created_by = {
            "BackupPlanId": plan.plan_id, "BackupPlanArn": plan.arn, "BackupPlanName": plan.name,
            "BackupPlanVersion": version_id, "BackupRuleId": rule_id, "BackupRuleName": rule["RuleName"],
            "BackupRuleCron": rule["ScheduleExpression"], "BackupRuleTimezone": rule["ScheduleExpressionTimezone"],
        }
        delay = 60.0 * (1 + _jitter(f"{key}|{at}", 5))  # jobs of one run start together, minutes later
        started = skipped = 0
        for resource in self.inventory.resources(plan.region) if selections else []:
            chosen = next((s for s in selections if selects(s.document, resource)), None)
            if chosen is None:
                continue
            if f"{resource.arn}|{rule['TargetBackupVaultName']}" in state.running:
                skipped += 1  # AWS Backup does not start a second job while one for the resource is unfinished
                continue
            job = self.create_backup_job(
                plan.region, rule["TargetBackupVaultName"], resource.arn, chosen.document["IamRoleArn"], at,
                lifecycle=rule.get("Lifecycle") or {}, tags=rule.get("RecoveryPointTags") or {},
                start_window=rule["StartWindowMinutes"], complete_window=rule["CompletionWindowMinutes"],
                created_by=created_by, copy_actions=rule.get("CopyActions") or [])
            state.schedule(at + delay, "backup-start", job.job_id)
            started += 1
        self.emit("BackupRuleRan", region=plan.region, resource=plan.arn, rule=rule["RuleName"], jobs=started,
                  skipped_unfinished=skipped)

    # -- backup jobs ------------------------------------------------------------------------------

    def create_backup_job(self, region: str, vault_name: str, resource_arn: str, role: str, at: float, *,
                          lifecycle: dict[str, Any], tags: dict[str, str], start_window: int, complete_window: int,
                          created_by: dict[str, str] | None = None,
                          copy_actions: list[dict[str, Any]] | None = None) -> BackupJob:
        parsed = parse_arn(resource_arn)
        assert parsed is not None
        resource = self.inventory.find(resource_arn, region)
        job = BackupJob(
            self.state.new_uuid(self.seed).upper(), region, vault_name, resource_arn, parsed.resource_type,
            resource.name if resource else parsed.resource_id, role, at, at + start_window * 60.0,
            at + complete_window * 60.0, dict(lifecycle), dict(tags), created_by, list(copy_actions or []))
        self.state.backup_jobs[job.job_id] = job
        self.state.running[f"{resource_arn}|{vault_name}"] = job.job_id
        self.emit("BackupJobCreated", region=region, resource=resource_arn, job_id=job.job_id, vault=vault_name)
        return job

    def start_backup(self, job_id: str, at: float) -> None:
        job = self.state.backup_jobs.get(job_id)
        if job is None or job.state != "CREATED":
            return
        if at > job.start_by:
            self._end_backup(job, "EXPIRED", "The backup job did not start within its start window", at)
            return
        vault = self.state.vaults.get((job.region, job.vault_name))
        parsed = parse_arn(job.resource_arn)
        refusal = (region_refusal(self.sandbox, job.region, "StartBackupJob")
                   or (f"Backup vault {job.vault_name} does not exist in {job.region}" if vault is None
                       else lock_refusal(vault, job.lifecycle)))
        if refusal is None and parsed is not None and parsed.region not in (None, job.region):
            refusal = (f"{job.resource_arn} is in {parsed.region}; AWS Backup in {job.region} backs up resources "
                       f"of {job.region} only")
        if refusal is None and job.resource_type == "S3" and self.inventory.find(job.resource_arn, job.region) is None:
            refusal = f"Bucket {job.resource_arn} does not exist in {job.region}"
        if refusal is None:
            refusal = self._role_refusal(job.iam_role_arn, at)
        provider = self.provider(job.resource_type)
        if refusal is None and provider is None:
            refusal = (f"The sandbox cannot back up {job.resource_type} resources: no simulation engine holds "
                       f"their data")
        if refusal is not None:
            self._end_backup(job, "FAILED", refusal, at)
            return
        try:
            job.data = provider.backup_resource(job.resource_arn)
            named = getattr(provider, "backup_job_data", None)
            if named is not None:  # the provider names its recovery data after the job (RDS: awsbackup:job-<id>)
                job.data = named(job.data, job.job_id)
        except Exception as exc:  # noqa: BLE001 -- the owning engine's refusal is the job's failure
            self._end_backup(job, "FAILED", f"{exc}", at)
            return
        job.state, job.started_at = "RUNNING", at
        job.recovery_point_arn = self.point_arn(provider, job.data, job.region)
        job.encrypted, job.encryption_key_arn = self._encryption(job.resource_type, job.resource_arn, vault)
        job.size_bytes = _size(provider, job.data)
        job.expected_completion = at + BACKUP_MINUTES.get(job.resource_type, 10) * 60.0
        self.state.schedule(job.expected_completion, "backup-finish", job.job_id)
        self.emit("BackupJobRunning", region=job.region, resource=job.resource_arn, job_id=job.job_id,
                  recovery_point=job.recovery_point_arn)

    def _role_refusal(self, role_arn: str, at: float) -> str | None:
        """role_refusal, read once per role and instant within one clock step (`role_memo` is set only
        while the engine runs due work): a plan's run starts all its jobs at the same instant."""
        memo: dict[tuple[str, float], str | None] | None = self.role_memo
        if memo is not None and (role_arn, at) in memo:
            return memo[(role_arn, at)]
        try:
            found = role_refusal(role_arn, self.data.role_trust_policy(role_arn))
        except ClientError as exc:
            found = f"AWS Backup could not read IAM role {role_arn}: {exc}"
        if memo is not None:
            memo[(role_arn, at)] = found
        return found

    def _encryption(self, resource_type: str, resource_arn: str, vault: Vault) -> tuple[bool, str | None]:
        """S3 and DynamoDB recovery points take the vault's key; the others keep the resource's encryption."""
        if resource_type in ("S3", "DynamoDB"):
            return True, vault.encryption_key_arn
        resource = self.inventory.find(resource_arn, vault.region)
        if resource is None or not resource.encrypted:
            return False, None
        return True, resource.kms_key_id or vault.encryption_key_arn

    def finish_backup(self, job_id: str, at: float) -> None:
        job = self.state.backup_jobs.get(job_id)
        if job is None or job.state != "RUNNING":
            return
        if at > job.complete_by:
            self._end_backup(job, "ABORTED", "The backup job did not complete within its completion window", at)
            return
        if (job.region, job.vault_name) not in self.state.vaults:
            self._end_backup(job, "FAILED", f"Backup vault {job.vault_name} was deleted while the job ran", at)
            return
        point = RecoveryPoint(
            job.recovery_point_arn or "", job.vault_name, job.region, job.resource_arn, job.resource_type,
            job.resource_name, job.iam_role_arn, job.started_at or at, at, dict(job.lifecycle), job.encrypted,
            job.encryption_key_arn, job.data, job.created_by, None, job.size_bytes, initiation_date=job.creation_date)
        self.state.recovery_points[point.arn] = point
        if job.recovery_point_tags:
            self.state.tags[point.arn] = dict(job.recovery_point_tags)
        job.data = None  # the recovery point holds it now
        self._end_backup(job, "COMPLETED", None, at)
        self.schedule_lifecycle(point)
        self.emit("RecoveryPointCreated", region=point.region, resource=point.arn, vault=point.vault_name,
                  source_resource=point.resource_arn)
        for action in job.copy_actions:
            self.create_copy_job(point, action["DestinationBackupVaultArn"], action.get("Lifecycle") or point.lifecycle,
                                 job.iam_role_arn, at, created_by=job.created_by, backup_job_id=job.job_id)

    def _end_backup(self, job: BackupJob, end: str, message: str | None, at: float) -> None:
        if job.data is not None:
            self.release(job.resource_type, job.data)
            job.data = None
        job.state, job.status_message, job.completion_date = end, message, at
        self.state.running.pop(f"{job.resource_arn}|{job.vault_name}", None)
        event = {"COMPLETED": "BackupJobCompleted", "FAILED": "BackupJobFailed", "ABORTED": "BackupJobAborted",
                 "EXPIRED": "BackupJobExpired"}[end]
        self.emit(event, region=job.region, resource=job.resource_arn, job_id=job.job_id,
                  **({"reason": message} if message else {"recovery_point": job.recovery_point_arn}))

    def op_StartBackupJob(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state
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
        now = self.now()
        job = self.create_backup_job(region, vault.name, arn, params["IamRoleArn"], now,
                                     lifecycle=params.get("Lifecycle") or {},
                                     tags=params.get("RecoveryPointTags") or {}, start_window=start_window,
                                     complete_window=complete_window)
        if token:
            state.tokens[token] = job.job_id
        self.start_backup(job.job_id, now)  # an on-demand job starts at once
        return {"BackupJobId": job.job_id, "RecoveryPointArn": job.recovery_point_arn,
                "CreationDate": job.creation_date, "IsParent": False}

    def op_StopBackupJob(self, region: str, params: dict[str, Any]) -> None:
        job = self._backup_job(region, params["BackupJobId"])
        if job.state not in ("CREATED", "RUNNING"):
            raise AwsError(REQUEST, f"Backup job {job.job_id} is {job.state}; only CREATED or RUNNING jobs can stop")
        self._end_backup(job, "ABORTED", "The backup job was stopped by StopBackupJob", self.now())

    def _backup_job(self, region: str, job_id: str) -> BackupJob:
        job = self.state.backup_jobs.get(job_id)
        if job is None or job.region != region:
            raise AwsError(NOT_FOUND, f"Backup job {job_id} does not exist in {region}")
        return job

    def backup_job_view(self, job: BackupJob) -> dict[str, Any]:
        now = self.now()
        percent = {"CREATED": 0.0, "COMPLETED": 100.0}.get(job.state)
        if percent is None and job.state == "RUNNING" and job.started_at is not None and job.expected_completion:
            percent = min(99.0, 100.0 * (now - job.started_at) / (job.expected_completion - job.started_at))
        return {
            "AccountId": config.ACCOUNT_ID, "BackupJobId": job.job_id, "BackupVaultName": job.vault_name,
            "BackupVaultArn": vault_arn(job.region, job.vault_name), "VaultType": "BACKUP_VAULT",
            "RecoveryPointArn": job.recovery_point_arn, "RecoveryPointLifecycle": job.lifecycle or None,
            "EncryptionKeyArn": job.encryption_key_arn, "IsEncrypted": job.encrypted,
            "ResourceArn": job.resource_arn, "CreationDate": job.creation_date, "CompletionDate": job.completion_date,
            "State": job.state, "StatusMessage": job.status_message,
            "PercentDone": f"{percent:.1f}" if percent is not None else None,
            "BackupSizeInBytes": job.size_bytes,
            "BytesTransferred": job.size_bytes if job.state == "COMPLETED" else None,
            "IamRoleArn": job.iam_role_arn, "CreatedBy": job.created_by,
            "ExpectedCompletionDate": job.expected_completion, "StartBy": job.start_by,
            "ResourceType": job.resource_type, "IsParent": False, "ResourceName": job.resource_name,
            "InitiationDate": job.creation_date,
        }

    def op_DescribeBackupJob(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.backup_job_view(self._backup_job(region, params["BackupJobId"]))

    def op_ListBackupJobs(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
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

        jobs = [job for job in reversed(self.state.backup_jobs.values()) if wanted(job)]
        page, token = paginate(jobs, params)
        return {"BackupJobs": [self.backup_job_view(job) for job in page], "NextToken": token}

    # -- copy jobs --------------------------------------------------------------------------------

    def create_copy_job(self, point: RecoveryPoint, destination_arn: str, lifecycle: dict[str, Any], role: str,
                        at: float, *, created_by: dict[str, str] | None = None,
                        backup_job_id: str | None = None) -> CopyJob:
        destination_region, _ = parse_vault_arn(destination_arn)
        job = CopyJob(self.state.new_uuid(self.seed).upper(), point.region, point.vault_name, point.arn,
                      destination_arn, point.resource_arn, point.resource_type, point.resource_name, role, at,
                      dict(lifecycle or {}), created_by, backup_job_id, state="RUNNING", size_bytes=point.size_bytes)
        self.state.copy_jobs[job.job_id] = job
        self.state.schedule(at + COPY_MINUTES[destination_region != point.region] * 60.0, "copy-finish", job.job_id)
        self.emit("CopyJobRunning", region=point.region, resource=point.arn, job_id=job.job_id,
                  destination=destination_arn)
        return job

    def finish_copy(self, job_id: str, at: float) -> None:
        job = self.state.copy_jobs.get(job_id)
        if job is None or job.state != "RUNNING":
            return
        source = self.state.recovery_points.get(job.source_recovery_point_arn)
        region, name = parse_vault_arn(job.destination_vault_arn)
        vault = self.state.vaults.get((region, name))
        refusal = ("The source recovery point was deleted before the copy finished" if source is None else
                   region_refusal(self.sandbox, region, "StartCopyJob") or
                   (f"Destination backup vault {job.destination_vault_arn} does not exist" if vault is None else
                    lock_refusal(vault, job.lifecycle)))
        provider = self.provider(job.resource_type)
        if refusal is None and provider is None:
            refusal = f"The sandbox cannot copy {job.resource_type} recovery points: no engine holds their data"
        data = None
        if refusal is None:
            assert source is not None and provider is not None
            copier = getattr(provider, "copy_backup", None)
            try:
                data = copier(source.data, region) if copier else source.data
                named = getattr(provider, "backup_job_data", None)
                if named is not None:
                    data = named(data, job.job_id)
            except Exception as exc:  # noqa: BLE001 -- the owning engine's refusal is the job's failure
                refusal = f"{exc}"
        if refusal is not None:
            job.state, job.status_message, job.completion_date = "FAILED", refusal, at
            self.emit("CopyJobFailed", region=job.region, resource=job.source_recovery_point_arn, job_id=job.job_id,
                      reason=refusal)
            return
        assert source is not None and vault is not None
        encrypted = source.encrypted
        point = RecoveryPoint(
            self.point_arn(provider, data, region), name, region, source.resource_arn, source.resource_type,
            source.resource_name, job.iam_role_arn, source.creation_date, at, dict(job.lifecycle), encrypted,
            vault.encryption_key_arn if encrypted else None, data, source.created_by,
            vault_arn(source.region, source.vault_name), source.size_bytes, initiation_date=job.creation_date)
        self.state.recovery_points[point.arn] = point
        job.state, job.completion_date, job.destination_recovery_point_arn = "COMPLETED", at, point.arn
        self.schedule_lifecycle(point)
        self.emit("CopyJobCompleted", region=job.region, resource=source.arn, job_id=job.job_id,
                  destination_recovery_point=point.arn)
        self.emit("RecoveryPointCreated", region=region, resource=point.arn, vault=name,
                  source_resource=point.resource_arn, copied_from=source.arn)

    def op_StartCopyJob(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        vault = self.vault(region, params["SourceBackupVaultName"])
        point = self.point_in_vault(vault, params["RecoveryPointArn"])
        parse_vault_arn(params["DestinationBackupVaultArn"])
        self.require_role(params["IamRoleArn"])
        check_lifecycle(params.get("Lifecycle"), "StartCopyJob")
        job = self.create_copy_job(point, params["DestinationBackupVaultArn"],
                                   params.get("Lifecycle") or point.lifecycle, params["IamRoleArn"], self.now())
        return {"CopyJobId": job.job_id, "CreationDate": job.creation_date, "IsParent": False}

    def copy_job_view(self, job: CopyJob) -> dict[str, Any]:
        region, name = parse_vault_arn(job.destination_vault_arn)
        destination = self.state.vaults.get((region, name))
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

    def op_DescribeCopyJob(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        job = self.state.copy_jobs.get(params["CopyJobId"])
        if job is None or job.region != region:
            raise AwsError(NOT_FOUND, f"Copy job {params['CopyJobId']} does not exist in {region}")
        return {"CopyJob": self.copy_job_view(job)}

    def op_ListCopyJobs(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
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

        jobs = [job for job in reversed(self.state.copy_jobs.values()) if wanted(job)]
        page, token = paginate(jobs, params)
        return {"CopyJobs": [self.copy_job_view(job) for job in page], "NextToken": token}

    # -- restore jobs -----------------------------------------------------------------------------

    def op_StartRestoreJob(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        point = self.state.recovery_points.get(params["RecoveryPointArn"])
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
        now = self.now()
        minutes = RESTORE_MINUTES.get(point.resource_type, 10)
        job = RestoreJob(self.state.new_uuid(self.seed).upper(), region, point.arn,
                         vault_arn(point.region, point.vault_name), point.resource_arn, point.resource_type,
                         dict(params["Metadata"]), params.get("IamRoleArn"), now, point.creation_date,
                         status="RUNNING", size_bytes=point.size_bytes, expected_minutes=minutes)
        self.state.restore_jobs[job.job_id] = job
        self.state.schedule(now + minutes * 60.0, "restore-finish", job.job_id)
        self.emit("RestoreJobRunning", region=region, resource=point.arn, job_id=job.job_id,
                  source_resource=point.resource_arn)
        return {"RestoreJobId": job.job_id}

    def finish_restore(self, job_id: str, at: float) -> None:
        job = self.state.restore_jobs.get(job_id)
        if job is None or job.status != "RUNNING":
            return
        point = self.state.recovery_points.get(job.recovery_point_arn)
        provider = self.provider(job.resource_type)
        failure = ("The recovery point was deleted before the restore finished" if point is None else
                   f"The sandbox cannot restore {job.resource_type} resources: no engine holds their data"
                   if provider is None else region_refusal(self.sandbox, job.region, "StartRestoreJob"))
        created = None
        if failure is None:
            assert point is not None and provider is not None
            try:
                created = provider.restore_resource(point.data, dict(job.metadata), point.region)
            except Exception as exc:  # noqa: BLE001 -- the owning engine's refusal is the job's failure
                failure = f"{exc}"
        self.inventory.invalidate()  # a restore creates a resource, possibly without an AWS call
        job.completion_date = at
        if failure is not None:
            job.status, job.status_message = "FAILED", failure
            self.emit("RestoreJobFailed", region=job.region, resource=job.recovery_point_arn, job_id=job.job_id,
                      reason=failure)
            return
        assert point is not None
        job.status, job.created_resource_arn = "COMPLETED", created
        point.last_restore_time = at
        self.emit("RestoreJobCompleted", region=job.region, resource=job.recovery_point_arn, job_id=job.job_id,
                  created_resource=created)

    def restore_job_view(self, job: RestoreJob) -> dict[str, Any]:
        now = self.now()
        percent = 100.0 if job.status == "COMPLETED" else (
            min(99.0, 100.0 * (now - job.creation_date) / (job.expected_minutes * 60.0))
            if job.status == "RUNNING" and job.expected_minutes else None)
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

    def op_DescribeRestoreJob(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        job = self.state.restore_jobs.get(params["RestoreJobId"])
        if job is None or job.region != region:
            raise AwsError(NOT_FOUND, f"Restore job {params['RestoreJobId']} does not exist in {region}")
        return self.restore_job_view(job)

    def op_ListRestoreJobs(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        def wanted(job: RestoreJob) -> bool:
            return (job.region == region
                    and params.get("ByStatus", job.status) == job.status
                    and params.get("ByResourceType", job.resource_type) == job.resource_type
                    and params.get("ByAccountId", config.ACCOUNT_ID) == config.ACCOUNT_ID
                    and _within(job.creation_date, params.get("ByCreatedAfter"), params.get("ByCreatedBefore"))
                    and _within(job.completion_date, params.get("ByCompleteAfter"), params.get("ByCompleteBefore"))
                    and not params.get("ByRestoreTestingPlanArn") and not params.get("ByParentJobId"))

        jobs = [job for job in reversed(self.state.restore_jobs.values()) if wanted(job)]
        page, token = paginate(jobs, params)
        return {"RestoreJobs": [self.restore_job_view(job) for job in page], "NextToken": token}

    def op_ListRestoreJobsByProtectedResource(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        jobs = [job for job in reversed(self.state.restore_jobs.values())
                if job.region == region and job.source_resource_arn == params["ResourceArn"]
                and params.get("ByStatus", job.status) == job.status
                and _within(job.recovery_point_creation_date, params.get("ByRecoveryPointCreationDateAfter"),
                            params.get("ByRecoveryPointCreationDateBefore"))]
        page, token = paginate(jobs, params)
        return {"RestoreJobs": [self.restore_job_view(job) for job in page], "NextToken": token}

    # -- recovery points --------------------------------------------------------------------------

    def point_arn(self, provider: Any, data: Any, region: str) -> str:
        """The owning engine's ARN for the recovery data (an EBS snapshot's), else an AWS Backup one."""
        named = getattr(provider, "backup_recovery_point_arn", None)
        arn = named(data) if named else None
        return arn or (f"arn:aws:backup:{region}:{config.ACCOUNT_ID}:recovery-point:"
                       f"{self.state.new_uuid(self.seed).upper()}")

    def point_in_vault(self, vault: Vault, arn: str) -> RecoveryPoint:
        point = self.state.recovery_points.get(arn)
        if point is None or point.region != vault.region or point.vault_name != vault.name:
            raise AwsError(NOT_FOUND, f"Recovery point {arn} does not exist in backup vault {vault.name}")
        return point

    def cold_at(self, point: RecoveryPoint) -> float | None:
        opted_in = point.lifecycle.get("OptInToArchiveForSupportedResources")
        if point.resource_type in COLD_STORAGE_TYPES or (opted_in and point.resource_type in ARCHIVE_OPT_IN_TYPES):
            return point.cold_at()
        return None

    def point_view(self, point: RecoveryPoint) -> dict[str, Any]:
        calculated = {"MoveToColdStorageAt": self.cold_at(point), "DeleteAt": point.delete_at()}
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

    def op_DescribeRecoveryPoint(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        vault = self.vault(region, params["BackupVaultName"])
        return self.point_view(self.point_in_vault(vault, params["RecoveryPointArn"]))

    def op_ListRecoveryPointsByBackupVault(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        vault = self.vault(region, params["BackupVaultName"])

        def wanted(point: RecoveryPoint) -> bool:
            return (params.get("ByResourceArn", point.resource_arn) == point.resource_arn
                    and params.get("ByResourceType", point.resource_type) == point.resource_type
                    and (not params.get("ByBackupPlanId")
                         or (point.created_by or {}).get("BackupPlanId") == params["ByBackupPlanId"])
                    and _within(point.creation_date, params.get("ByCreatedAfter"), params.get("ByCreatedBefore"))
                    and not params.get("ByParentRecoveryPointArn"))

        points = sorted((p for p in self.state.points_in_vault(region, vault.name) if wanted(p)),
                        key=lambda p: (-p.creation_date, p.arn))
        page, token = paginate(points, params)
        return {"RecoveryPoints": [self.point_view(p) for p in page], "NextToken": token}

    def op_ListRecoveryPointsByResource(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ResourceArn"]
        points = sorted((p for p in self.state.recovery_points.values()
                         if p.region == region and p.resource_arn == arn), key=lambda p: (-p.creation_date, p.arn))
        page, token = paginate(points, params)
        return {"RecoveryPoints": [
            {"RecoveryPointArn": p.arn, "CreationDate": p.creation_date, "Status": p.status,
             "EncryptionKeyArn": p.encryption_key_arn, "BackupSizeBytes": p.size_bytes,
             "BackupVaultName": p.vault_name, "IsParent": False, "ResourceName": p.resource_name,
             "VaultType": "BACKUP_VAULT"} for p in page], "NextToken": token}

    def deletion_refusal(self, point: RecoveryPoint, at: float) -> str | None:
        vault = self.state.vaults.get((point.region, point.vault_name))
        lock = vault.lock if vault else None
        if lock is None or not lock.min_retention_days:
            return None
        until = point.creation_date + lock.min_retention_days * DAY
        if at >= until:
            return None
        return (f"Recovery point {point.arn} cannot be deleted: Backup Vault Lock on vault {point.vault_name} keeps "
                f"recovery points at least {lock.min_retention_days} days (until {iso(until)})")

    def op_DeleteRecoveryPoint(self, region: str, params: dict[str, Any]) -> None:
        vault = self.vault(region, params["BackupVaultName"])
        point = self.point_in_vault(vault, params["RecoveryPointArn"])
        now = self.now()
        denied = access.refusal(self.sandbox, vault.access_policy, "backup:DeleteRecoveryPoint", point.arn, region,
                                now)
        if denied is not None:
            reason = f"the access policy of backup vault {vault.name} denies backup:DeleteRecoveryPoint"
            self.emit("RecoveryPointDeletionRefused", region=region, resource=point.arn, reason=reason)
            raise AwsError("AccessDeniedException", denied, 403)
        refusal = self.deletion_refusal(point, now)
        if refusal is not None:
            self.emit("RecoveryPointDeletionRefused", region=region, resource=point.arn, reason=refusal)
            raise AwsError(REQUEST, refusal)
        self.remove_point(point, now, "RecoveryPointDeleted")

    def remove_point(self, point: RecoveryPoint, at: float, event: str) -> None:
        self.release(point.resource_type, point.data)
        del self.state.recovery_points[point.arn]
        self.state.tags.pop(point.arn, None)
        self.emit(event, region=point.region, resource=point.arn, vault=point.vault_name,
                  source_resource=point.resource_arn)

    def op_UpdateRecoveryPointLifecycle(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        vault = self.vault(region, params["BackupVaultName"])
        point = self.point_in_vault(vault, params["RecoveryPointArn"])
        lifecycle = params.get("Lifecycle") or {}
        check_lifecycle(lifecycle, "UpdateRecoveryPointLifecycle")
        denied = access.refusal(self.sandbox, vault.access_policy, "backup:UpdateRecoveryPointLifecycle", point.arn,
                                region, self.now())
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
        self.schedule_lifecycle(point)
        self.emit("RecoveryPointLifecycleUpdated", region=region, resource=point.arn, lifecycle=dict(lifecycle))
        view = self.point_view(point)
        return {"BackupVaultArn": vault.arn, "RecoveryPointArn": point.arn, "Lifecycle": view["Lifecycle"],
                "CalculatedLifecycle": view["CalculatedLifecycle"]}

    def op_GetRecoveryPointRestoreMetadata(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        vault = self.vault(region, params["BackupVaultName"])
        point = self.point_in_vault(vault, params["RecoveryPointArn"])
        described = getattr(self.provider(point.resource_type), "backup_restore_metadata", None)
        metadata = described(point.data) if described else {}
        return {"BackupVaultArn": vault.arn, "RecoveryPointArn": point.arn, "RestoreMetadata": metadata,
                "ResourceType": point.resource_type}

    def schedule_lifecycle(self, point: RecoveryPoint) -> None:
        cold = self.cold_at(point) if point.storage_class == "WARM" else None
        pending = [moment for moment in (cold, point.delete_at()) if moment is not None]
        if pending:
            self.state.schedule(_after_the_hour(min(pending)), "lifecycle", point.arn)

    def run_lifecycle(self, arn: str, at: float) -> None:
        point = self.state.recovery_points.get(arn)
        if point is None:
            return
        cold = self.cold_at(point)
        if cold is not None and cold <= at and point.storage_class == "WARM":
            point.storage_class = "COLD"
            self.emit("RecoveryPointMovedToColdStorage", region=point.region, resource=point.arn)
        delete_at = point.delete_at()
        if delete_at is not None and delete_at <= at:
            refusal = self.deletion_refusal(point, at)
            if refusal is None:
                self.remove_point(point, at, "RecoveryPointExpired")
                return
            vault = self.state.vaults[(point.region, point.vault_name)]
            assert vault.lock is not None and vault.lock.min_retention_days
            self.state.schedule(_after_the_hour(point.creation_date + vault.lock.min_retention_days * DAY),
                                "lifecycle", point.arn)
            self.emit("RecoveryPointExpiryDeferred", region=point.region, resource=point.arn, reason=refusal)
            return
        self.schedule_lifecycle(point)

    # -- protected resources ----------------------------------------------------------------------

    def _latest_points(self, region: str, vault_name: str | None = None) -> dict[str, RecoveryPoint]:
        latest: dict[str, RecoveryPoint] = {}
        for point in self.state.recovery_points.values():
            if point.region != region or (vault_name and point.vault_name != vault_name):
                continue
            known = latest.get(point.resource_arn)
            if known is None or point.creation_date > known.creation_date:
                latest[point.resource_arn] = point
        return latest

    @staticmethod
    def _protected_view(point: RecoveryPoint) -> dict[str, Any]:
        return {"ResourceArn": point.resource_arn, "ResourceType": point.resource_type,
                "LastBackupTime": point.creation_date, "ResourceName": point.resource_name,
                "LastBackupVaultArn": vault_arn(point.region, point.vault_name),
                "LastRecoveryPointArn": point.arn}

    def op_ListProtectedResources(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        latest = self._latest_points(region)
        page, token = paginate([latest[arn] for arn in sorted(latest)], params)
        return {"Results": [self._protected_view(p) for p in page], "NextToken": token}

    def op_ListProtectedResourcesByBackupVault(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        vault = self.vault(region, params["BackupVaultName"])
        latest = self._latest_points(region, vault.name)
        page, token = paginate([latest[arn] for arn in sorted(latest)], params)
        return {"Results": [self._protected_view(p) for p in page], "NextToken": token}

    def op_DescribeProtectedResource(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ResourceArn"]
        point = self._latest_points(region).get(arn)
        if point is None:
            raise AwsError(NOT_FOUND, f"{arn} has no recovery point in {region}")
        view = self._protected_view(point)
        restores = [j for j in self.state.restore_jobs.values()
                    if j.region == region and j.source_resource_arn == arn and j.status == "COMPLETED"]
        if restores:
            latest = max(restores, key=lambda j: j.creation_date)
            view.update(LatestRestoreJobCreationDate=latest.creation_date,
                        LatestRestoreRecoveryPointCreationDate=latest.recovery_point_creation_date,
                        LatestRestoreExecutionTimeMinutes=round(((latest.completion_date or latest.creation_date)
                                                                 - latest.creation_date) / 60))
        return view

    # -- housekeeping -----------------------------------------------------------------------------

    def prune_history(self, now: float) -> None:
        """Forget finished jobs older than AWS Backup lists (30 days); the dicts are in creation order."""
        horizon = now - JOB_HISTORY_SECONDS
        for jobs, finished in ((self.state.backup_jobs, TERMINAL_BACKUP_STATES),
                               (self.state.copy_jobs, frozenset({"COMPLETED", "FAILED", "PARTIAL"})),
                               (self.state.restore_jobs, frozenset({"COMPLETED", "FAILED", "ABORTED"}))):
            while jobs:
                oldest = next(iter(jobs.values()))
                status = getattr(oldest, "state", None) or getattr(oldest, "status", None)
                if oldest.creation_date >= horizon or status not in finished:
                    break
                jobs.pop(next(iter(jobs)))

    def schedule_rule(self, plan: Plan, rule: dict[str, Any], after: float) -> None:
        schedule = Schedule(rule["ScheduleExpression"], rule["ScheduleExpressionTimezone"])
        due = schedule.next_after(after, plan.current.created_at)
        if due is not None:
            self.state.schedule(due, "rule", f"{plan.plan_id}|{rule['RuleId']}|{plan.current.version_id}")

    def schedule_rules(self, plan: Plan) -> None:
        for rule in plan.current.document["Rules"]:
            self.schedule_rule(plan, rule, self.now())

    def scheduled_runs(self, plan: Plan, count: int) -> list[dict[str, Any]]:
        """The plan's next `count` runs (GetBackupPlan's ScheduledRunsPreview), soonest first."""
        runs: list[dict[str, Any]] = []
        for rule in plan.current.document["Rules"]:
            schedule = Schedule(rule["ScheduleExpression"], rule["ScheduleExpressionTimezone"])
            cursor = self.now()
            for _ in range(count):
                due = schedule.next_after(cursor, plan.current.created_at)
                if due is None:
                    break
                runs.append({"ExecutionTime": due, "RuleId": rule["RuleId"], "RuleExecutionType": "SNAPSHOTS"})
                cursor = due
        return sorted(runs, key=lambda run: (run["ExecutionTime"], run["RuleId"]))[:count]


def region_refusal(sandbox: Sandbox, region: str, action: str) -> str | None:
    """Why AWS Backup cannot act in `region` now: the data layer's guards refuse work there (a simulated
    region outage). None: it can."""
    for guard in sandbox.engines.all(DataWriteGuard):
        try:
            guard.check_data_write(region, action)
        except ClientError as exc:
            return str(exc.response["Error"].get("Message") or exc)
    return None


def lock_refusal(vault: Vault, lifecycle: dict[str, Any]) -> str | None:
    """Why Backup Vault Lock on `vault` refuses a recovery point with this lifecycle (None: it accepts it)."""
    lock = vault.lock
    if lock is None:
        return None
    days = (lifecycle or {}).get("DeleteAfterDays")
    if lock.min_retention_days and days is not None and days < lock.min_retention_days:
        return (f"The recovery point's retention ({days} days) is shorter than the minimum retention "
                f"({lock.min_retention_days} days) Backup Vault Lock enforces on vault {vault.name}")
    if lock.max_retention_days and (days is None or days > lock.max_retention_days):
        kept = "forever" if days is None else f"{days} days"
        return (f"The recovery point's retention ({kept}) is longer than the maximum retention "
                f"({lock.max_retention_days} days) Backup Vault Lock enforces on vault {vault.name}")
    return None


def role_refusal(role_arn: str, trust_policy: str | None) -> str | None:
    """Why AWS Backup cannot assume `role_arn`, given its trust policy as JSON text (None: it can)."""
    if trust_policy is None:
        return f"IAM role {role_arn} does not exist, so AWS Backup cannot assume it"
    try:
        document = json.loads(trust_policy)
    except ValueError:
        document = {}
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in [statements] if isinstance(statements, dict) else statements:
        principal = statement.get("Principal") or {}
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if (statement.get("Effect") == "Allow" and "backup.amazonaws.com" in services
                and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)):
            return None
    return (f"AWS Backup cannot assume IAM role {role_arn}: its trust policy does not allow the service principal "
            "backup.amazonaws.com to sts:AssumeRole")


def _within(moment: float | None, after: datetime | None, before: datetime | None) -> bool:
    if after is None and before is None:
        return True
    if moment is None:
        return False
    return (after is None or moment >= after.timestamp()) and (before is None or moment <= before.timestamp())


def _size(provider: Any, data: Any) -> int | None:
    sized = getattr(provider, "backup_size", None)
    return sized(data) if sized else None
