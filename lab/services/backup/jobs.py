"""AWS Backup's moving parts: backup, copy and restore jobs on the sim clock, recovery points and their
lifecycle (cold storage, expiry), and the refusals vault lock and vault access policies impose.

A backup job waits in CREATED (`backup.job.queue`), goes RUNNING (the owning engine captures the resource's
data; PercentDone grows) for as long as the service's own snapshot or backup takes, then COMPLETED (the recovery
point exists). Its windows are AWS's: "During the start window, the backup job status remains in CREATED status
until it has successfully begun or until the start window time has run out"; a retryable refusal (the Region is
down) is retried every 10 minutes, and a job that has not started by StartBy is EXPIRED; the completion window
"begins counting down from when the backup was scheduled" and a job still running at its end is EXPIRED
(API Reference: StartBackupJob, BackupRule). A completed job runs its rule's copy actions as copy jobs (RUNNING
for the service's copy, cross-Region or not; a refusal is retried in CREATED for 2 hours, AWS Backup Developer
Guide: Creating backup copies). A restore job is PENDING (`backup.restore.pending`), then RUNNING: after the
cold-storage retrieval when the recovery point is COLD, the owning engine starts the new resource (in its own
creating state) and the job completes when the service's restore does (lab.services.backup.timing).
Everything is a function of the seed, the calls and sim time, so a restart replays exactly.
"""

from __future__ import annotations

import json
import math
from typing import Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.engine import DataWriteGuard
from lab.kernel.port import Sandbox
from lab.services.backup.config_api import parse_vault_arn
from lab.services.backup.model import (
    DAY,
    JOB_HISTORY_SECONDS,
    TERMINAL_BACKUP_STATES,
    BackupJob,
    CopyJob,
    Plan,
    RecoveryPoint,
    Vault,
    vault_arn,
)
from lab.services.backup.resources import parse_arn, selects
from lab.services.backup.schedule import Schedule
from lab.services.backup.timing import backup_seconds, copy_seconds, restore_seconds
from lab.sim.clock import iso

RETRY_SECONDS = 600.0  # "Backup will automatically retry to begin the job at least every 10 minutes"
COPY_RETRY_HOURS = 2  # a copy job that cannot start retries in CREATED "for 2 hours"
EXPIRED_RUNNING = "Backup job expired before completion."  # AWS's status message (completion window)
EXPIRED_CREATED = "The backup job did not start within its start window"
COLD_STORAGE_TYPES = frozenset({"DynamoDB", "EFS"})  # others move to cold storage only when they opt in
ARCHIVE_OPT_IN_TYPES = frozenset({"EBS", "EC2"})
DEFAULT_START_WINDOW = 480
DEFAULT_COMPLETE_WINDOW = 10080


def _after_the_hour(moment: float) -> float:
    """AWS Backup acts on lifecycle dates in batches within hours of them: the lab at the next full hour."""
    return math.ceil(moment / 3600.0) * 3600.0


class BackupJobs:
    """The job machinery on the sim clock and what the API's job and recovery point operations start; mixed
    into the backup engine."""

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
        delay = self.sandbox.durations.backup_job_queue()  # jobs of one run start together, in CREATED till then
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
        if at >= job.start_by:
            self._end_backup(job, "EXPIRED", EXPIRED_CREATED, at)
            return
        job.attempts += 1
        retry = region_refusal(self.sandbox, job.region, "StartBackupJob")
        if retry is not None:  # retryable: try again within the start window, in CREATED meanwhile
            job.status_message = f"Retrying: {retry}"
            self.state.schedule(min(at + RETRY_SECONDS, job.start_by), "backup-start", job.job_id)
            self.emit("BackupJobRetrying", region=job.region, resource=job.resource_arn, job_id=job.job_id,
                      reason=retry)
            return
        vault = self.state.vaults.get((job.region, job.vault_name))
        parsed = parse_arn(job.resource_arn)
        refusal = (f"Backup vault {job.vault_name} does not exist in {job.region}" if vault is None
                   else lock_refusal(vault, job.lifecycle))
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
        job.state, job.started_at, job.status_message = "RUNNING", at, None
        job.recovery_point_arn = self.point_arn(provider, job.data, job.region)
        job.encrypted, job.encryption_key_arn = self._encryption(job.resource_type, job.resource_arn, vault)
        job.size_bytes = _size(provider, job.data)
        seconds = backup_seconds(self.sandbox.durations, provider, job.resource_type, job.data, job.size_bytes)
        job.expected_completion = at + seconds
        # Past the completion window (counted from when the job was scheduled) the job expires unfinished.
        self.state.schedule(min(job.expected_completion, job.complete_by), "backup-finish", job.job_id)
        self.emit("BackupJobRunning", region=job.region, resource=job.resource_arn, job_id=job.job_id,
                  recovery_point=job.recovery_point_arn, completes=iso(job.expected_completion))

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
        if job.expected_completion is not None and at < job.expected_completion:
            self._end_backup(job, "EXPIRED", EXPIRED_RUNNING, at)  # the completion window ended first
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

    # -- copy jobs --------------------------------------------------------------------------------

    def create_copy_job(self, point: RecoveryPoint, destination_arn: str, lifecycle: dict[str, Any], role: str,
                        at: float, *, created_by: dict[str, str] | None = None,
                        backup_job_id: str | None = None) -> CopyJob:
        job = CopyJob(self.state.new_uuid(self.seed).upper(), point.region, point.vault_name, point.arn,
                      destination_arn, point.resource_arn, point.resource_type, point.resource_name, role, at,
                      dict(lifecycle or {}), created_by, backup_job_id, size_bytes=point.size_bytes)
        self.state.copy_jobs[job.job_id] = job
        self.emit("CopyJobCreated", region=point.region, resource=point.arn, job_id=job.job_id,
                  destination=destination_arn)
        self.start_copy(job.job_id, at)
        return job

    def start_copy(self, job_id: str, at: float) -> None:
        """CREATED -> RUNNING for the service's copy time; while a Region is down the job retries in CREATED,
        failing after two hours."""
        job = self.state.copy_jobs.get(job_id)
        if job is None or job.state != "CREATED":
            return
        source = self.state.recovery_points.get(job.source_recovery_point_arn)
        region, _ = parse_vault_arn(job.destination_vault_arn)
        retry = region_refusal(self.sandbox, job.region, "StartCopyJob") or region_refusal(
            self.sandbox, region, "StartCopyJob")
        if retry is not None:
            if at - job.creation_date >= COPY_RETRY_HOURS * 3600.0:
                job.state, job.status_message, job.completion_date = "FAILED", retry, at
                self.emit("CopyJobFailed", region=job.region, resource=job.source_recovery_point_arn,
                          job_id=job.job_id, reason=retry)
                return
            job.status_message = f"Retrying: {retry}"
            self.state.schedule(at + RETRY_SECONDS, "copy-start", job.job_id)
            return
        provider = self.provider(job.resource_type)
        seconds = copy_seconds(self.sandbox.durations, provider, job.resource_type, source.data if source else None,
                               job.size_bytes, job.region, region) if source is not None else 0.0
        job.state, job.started_at, job.status_message = "RUNNING", at, None
        job.expected_completion = at + seconds
        self.state.schedule(job.expected_completion, "copy-finish", job.job_id)
        self.emit("CopyJobRunning", region=job.region, resource=job.source_recovery_point_arn, job_id=job.job_id,
                  destination=job.destination_vault_arn, completes=iso(job.expected_completion))

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

    # -- restore jobs -----------------------------------------------------------------------------

    def start_restore(self, job_id: str, at: float) -> None:
        """PENDING -> RUNNING; from cold storage the data is first retrieved, then the resource is made."""
        job = self.state.restore_jobs.get(job_id)
        if job is None or job.status != "PENDING":
            return
        point = self.state.recovery_points.get(job.recovery_point_arn)
        job.status, job.started_at = "RUNNING", at
        cold = self.sandbox.durations.backup_cold_extra() if point is not None and point.storage_class == "COLD" else 0
        self.emit("RestoreJobRunning", region=job.region, resource=job.recovery_point_arn, job_id=job.job_id,
                  source_resource=job.source_resource_arn, from_cold_storage=bool(cold))
        if cold:
            self.state.schedule(at + cold, "restore-create", job.job_id)
        else:
            self.create_restored(job.job_id, at)

    def create_restored(self, job_id: str, at: float) -> None:
        """The owning engine starts the new resource (in its own creating state); the job completes when the
        service's restore does."""
        job = self.state.restore_jobs.get(job_id)
        if job is None or job.status != "RUNNING" or job.created_resource_arn is not None:
            return
        point = self.state.recovery_points.get(job.recovery_point_arn)
        provider = self.provider(job.resource_type)
        failure = ("The recovery point was deleted before the restore finished" if point is None else
                   f"The sandbox cannot restore {job.resource_type} resources: no engine holds their data"
                   if provider is None else region_refusal(self.sandbox, job.region, "StartRestoreJob"))
        if failure is None:
            assert point is not None and provider is not None
            seconds = restore_seconds(self.sandbox.durations, provider, job.resource_type, point.data,
                                      job.metadata, point.size_bytes)
            try:
                job.created_resource_arn = provider.restore_resource(point.data, dict(job.metadata), point.region)
            except Exception as exc:  # noqa: BLE001 -- the owning engine's refusal is the job's failure
                failure = f"{exc}"
        self.inventory.invalidate()  # a restore creates a resource, possibly without an AWS call
        if failure is not None:
            job.status, job.status_message, job.completion_date = "FAILED", failure, at
            self.emit("RestoreJobFailed", region=job.region, resource=job.recovery_point_arn, job_id=job.job_id,
                      reason=failure)
            return
        job.expected_completion = at + seconds
        self.state.schedule(job.expected_completion, "restore-finish", job.job_id)

    def finish_restore(self, job_id: str, at: float) -> None:
        job = self.state.restore_jobs.get(job_id)
        if job is None or job.status != "RUNNING":
            return
        if job.created_resource_arn is None and job.expected_completion is None:
            self.create_restored(job_id, at)  # a job saved by an older lab, which made the resource at the end
            if job.status != "RUNNING":
                return
        if job.created_resource_arn is None:
            return
        point = self.state.recovery_points.get(job.recovery_point_arn)
        self.inventory.invalidate()
        job.status, job.completion_date = "COMPLETED", at
        if point is not None:
            point.last_restore_time = at
        self.emit("RestoreJobCompleted", region=job.region, resource=job.recovery_point_arn, job_id=job.job_id,
                  created_resource=job.created_resource_arn)

    # -- recovery points --------------------------------------------------------------------------

    def point_arn(self, provider: Any, data: Any, region: str) -> str:
        """The owning engine's ARN for the recovery data (an EBS snapshot's), else an AWS Backup one."""
        named = getattr(provider, "backup_recovery_point_arn", None)
        arn = named(data) if named else None
        return arn or (f"arn:aws:backup:{region}:{config.ACCOUNT_ID}:recovery-point:"
                       f"{self.state.new_uuid(self.seed).upper()}")

    def cold_at(self, point: RecoveryPoint) -> float | None:
        opted_in = point.lifecycle.get("OptInToArchiveForSupportedResources")
        if point.resource_type in COLD_STORAGE_TYPES or (opted_in and point.resource_type in ARCHIVE_OPT_IN_TYPES):
            return point.cold_at()
        return None

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

    def remove_point(self, point: RecoveryPoint, at: float, event: str) -> None:
        self.release(point.resource_type, point.data)
        del self.state.recovery_points[point.arn]
        self.state.tags.pop(point.arn, None)
        self.emit(event, region=point.region, resource=point.arn, vault=point.vault_name,
                  source_resource=point.resource_arn)

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


def _size(provider: Any, data: Any) -> int | None:
    sized = getattr(provider, "backup_size", None)
    return sized(data) if sized else None
