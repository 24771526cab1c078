"""AWS Backup, owned by the lab: the whole `backup` API answered here, acted out on the sim clock.

moto stores vaults and plans but runs nothing, so the lab keeps one consistent store of its own: vaults
(encryption keys, vault lock, access policies), plans whose rules run on their cron or rate schedules,
selections, backup/copy/restore jobs, recovery points with their lifecycle, and Audit Manager frameworks
whose controls are evaluated against the sandbox, report plans whose reports land in S3 (reports.py). This
engine holds that state and runs the jobs on the sim clock (jobs.py); the service's operations are its API
(lab.services.backup.api): the gateway's codec reads their parameters and writes their answers from botocore's
model, so boto3 and the aws CLI see AWS's shapes; operations the lab does not simulate answer NotImplemented
naming the operation.

Recovery data comes from the engine that owns the resource type. The contract: an engine protecting a
type defines
    backup_resource_types(self) -> set[str]             AWS Backup ResourceType values ("RDS", "EBS", ...)
    backup_resource(self, arn) -> object                picklable recovery data (a cheap reference is fine)
    restore_resource(self, data, metadata, region) -> str   a NEW resource holding that data; its ARN
and may define copy_backup(data, region) -> object (a copy in another region), delete_backup(data) (the
recovery point is gone), backup_recovery_point_arn(data) -> str | None, backup_restore_metadata(data) ->
dict, backup_size(data) -> int | None, backup_job_data(data, job_id) -> object (the data named after the
backup or copy job that made it), and the timing of its jobs: backup_duration(data), copy_duration(data,
region), restore_duration(data, metadata) (lab.kernel.engine.BackupProvider, lab.services.backup.timing).
This engine protects S3 itself (lab.services.backup.s3_backups).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from lab.kernel.context import RequestContext
from lab.kernel.data import DataAccess
from lab.kernel.engine import BackupProvider, Engine
from lab.kernel.port import Sandbox
from lab.services.backup.audit_manager import AuditInputs, evaluate
from lab.services.backup.jobs import BackupJobs
from lab.services.backup.model import BackupState, Framework
from lab.services.backup.reports import ReportJobs, books
from lab.services.backup.resources import Inventory, parse_arn
from lab.services.backup.s3_backups import S3Books, S3Snapshot, capture, pin_before_delete, restore, versions_to_delete

log = logging.getLogger("lab.services.backup.engine")
MAX_STEPS_PER_RUN = 100_000  # bounded: a schedule can never spin the clock forever


class Backup(Engine, BackupJobs, ReportJobs):
    name = "backup"
    service_principal = "backup.amazonaws.com"  # CloudTrail shows its calls as made by this AWS service
    order = 60  # after the workload and replication: a backup at an instant sees that instant's writes

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self.inventory = Inventory(sandbox)
        self._providers: dict[str, Any] | None = None
        self.role_memo: dict[tuple[str, float], str | None] | None = None  # see BackupJobs._role_refusal
        # Versions S3 recovery points still need are pinned before they are deleted for good: the data layer
        # reports every such deletion where it can, else the gateway's DeleteObject(s) calls are watched.
        self._sees_version_deletes = self.data.subscribe_version_deletes(self._before_version_delete)

    def initial_state(self) -> BackupState:
        return BackupState(s3=S3Books())

    @property
    def seed(self) -> int:
        return self.sandbox.lab.seed

    @property
    def data(self) -> DataAccess:
        return self.sandbox.data

    # -- the request path -------------------------------------------------------------------------

    def prepare(self, ctx: RequestContext) -> None:
        """Before an S3 deletion reaches a backend whose deletions the data layer cannot report: pin the versions
        the recovery points of the bucket still need."""
        identity = ctx.identity
        if (identity is not None and not self._sees_version_deletes and identity.service == "s3"
                and identity.operation in ("DeleteObject", "DeleteObjects")
                and self.state.s3.refs.get(identity.bucket or "")):
            self._pin_before_delete(ctx)

    def observe(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        if identity is not None and ctx.mutating:
            form = parse_qs(ctx.form_body_if_small().decode("utf-8", "replace")) if identity.service == "ec2" else {}
            self.inventory.observe(identity.service, identity.operation, form)

    def _pin_before_delete(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        assert identity is not None and identity.operation
        bucket = identity.bucket or ""
        for key, version_id in versions_to_delete(identity.operation, identity.key, ctx.query_params(), ctx.body):
            pin_before_delete(self.sandbox, self.state.s3, bucket, key, version_id)

    def _before_version_delete(self, bucket: str, key: str, version_id: str) -> None:
        try:
            pin_before_delete(self.sandbox, self.state.s3, bucket, key, version_id)
        except Exception:  # a bug here must not break the learner's delete; the pin is lost, and logged
            log.exception("could not pin s3://%s/%s version %s for its recovery points", bucket, key, version_id)

    # -- what the jobs and the API share ----------------------------------------------------------

    def provider(self, resource_type: str) -> Any | None:
        """The engine that holds the data of `resource_type` resources (None: no engine does)."""
        if self._providers is None:
            found: dict[str, Any] = {}
            for engine in self.sandbox.engines.all(BackupProvider):
                for kind in engine.backup_resource_types():
                    found.setdefault(kind, engine)
            self._providers = found
        return self._providers.get(resource_type)

    def release(self, resource_type: str, data: Any) -> None:
        forget = getattr(self.provider(resource_type), "delete_backup", None)
        if forget is None:
            return
        try:
            forget(data)
        except Exception:  # the data may already be gone (a snapshot deleted by hand); nothing else to free
            log.warning("releasing %s recovery data %r failed", resource_type, data, exc_info=True)

    def evaluate_framework(self, framework: Framework) -> dict[str, Any]:
        inputs = AuditInputs(self.state, framework.region, self.now(), self.inventory.resources(framework.region))
        return evaluate(framework, inputs)

    # -- S3, the resource type this engine protects itself ----------------------------------------

    def backup_resource_types(self) -> set[str]:
        return {"S3"}

    def backup_resource(self, arn: str) -> S3Snapshot:
        parsed = parse_arn(arn)
        found = self.data.bucket_state(parsed.resource_id) if parsed else None
        if parsed is None or found is None:
            raise ValueError(f"bucket {arn} does not exist")
        return capture(self.sandbox, self.state.s3, parsed.resource_id, found.region, self.now())

    def restore_resource(self, data: S3Snapshot, metadata: dict[str, str], region: str) -> str:
        return restore(self.sandbox, self.state.s3, data, metadata, region)

    def copy_backup(self, data: S3Snapshot, region: str) -> S3Snapshot:
        self.state.s3.hold(data)
        return data

    def delete_backup(self, data: S3Snapshot) -> None:
        self.state.s3.release(data)

    def backup_restore_metadata(self, data: S3Snapshot) -> dict[str, str]:
        return {"DestinationBucketName": data.bucket, "NewBucket": "false", "Encrypted": "false"}

    # -- time -------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        return self.state.next_due()

    def run_due(self, now: float) -> None:
        state = self.state
        runners = {"rule": self.run_rule, "backup-start": self.start_backup, "backup-finish": self.finish_backup,
                   "copy-start": self.start_copy, "copy-finish": self.finish_copy,
                   "restore-start": self.start_restore, "restore-create": self.create_restored,
                   "restore-finish": self.finish_restore, "lifecycle": self.run_lifecycle, "lock": self._lock_engaged,
                   "report-daily": self.run_report_plan, "report-start": self.start_report,
                   "report-finish": self.finish_report}
        self.role_memo = {}
        try:
            for _ in range(MAX_STEPS_PER_RUN):
                entry = state.pop_due(now)
                if entry is None:
                    break
                due, kind, key = entry
                runners[kind](key, due)
        finally:
            self.role_memo = None
        self.prune_history(now)
        self.prune_reports(now)

    def _lock_engaged(self, key: str, at: float) -> None:
        region, name = key.split("|", 1)
        vault = self.state.vaults.get((region, name))
        if vault is not None and vault.lock is not None and vault.lock.immutable(at):
            self.emit("BackupVaultLocked", region=region, resource=vault.arn,
                      min_retention_days=vault.lock.min_retention_days,
                      max_retention_days=vault.lock.max_retention_days)

    # -- summary ----------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        with self.sandbox.lock:
            state = self.state
            jobs: dict[str, int] = {}
            for job in state.backup_jobs.values():
                jobs[job.state] = jobs.get(job.state, 0) + 1
            return {"vaults": len(state.vaults), "plans": sum(p.deletion_date is None for p in state.plans.values()),
                    "selections": len(state.selections), "recovery_points": len(state.recovery_points),
                    "backup_jobs": jobs, "copy_jobs": len(state.copy_jobs), "restore_jobs": len(state.restore_jobs),
                    "frameworks": len(state.frameworks), "report_plans": len(books(state).plans)}
