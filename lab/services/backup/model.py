"""The lab's AWS Backup state: vaults, plans, selections, jobs, recovery points, frameworks, tags, and the
timeline of what happens next. Plain dataclasses, pickled with the lab state."""

from __future__ import annotations

import base64
import hashlib
import heapq
import uuid
from dataclasses import dataclass, field
from typing import Any

from lab import config

DAY = 86400.0
JOB_HISTORY_SECONDS = 30 * DAY  # AWS Backup lists jobs of the last 30 days
TERMINAL_BACKUP_STATES = frozenset({"COMPLETED", "FAILED", "ABORTED", "EXPIRED", "PARTIAL"})


def vault_arn(region: str, name: str) -> str:
    return f"arn:aws:backup:{region}:{config.ACCOUNT_ID}:backup-vault:{name}"


def default_vault_key(region: str) -> str:
    """The vault key AWS Backup uses when none is given (the account's aws/backup key), stable per region."""
    key_id = uuid.uuid5(uuid.NAMESPACE_URL, f"aws/backup:{config.ACCOUNT_ID}:{region}")
    return f"arn:aws:kms:{region}:{config.ACCOUNT_ID}:key/{key_id}"


@dataclass
class VaultLock:
    min_retention_days: int | None
    max_retention_days: int | None
    changeable_for_days: int | None
    configured_at: float

    @property
    def lock_date(self) -> float | None:
        """Compliance mode: when the grace time ends and the lock becomes immutable."""
        if self.changeable_for_days is None:
            return None
        return self.configured_at + self.changeable_for_days * DAY

    def immutable(self, now: float) -> bool:
        return self.lock_date is not None and now >= self.lock_date

    def locked(self, now: float) -> bool:
        """What DescribeBackupVault shows: governance locks at once, compliance after the grace time."""
        return self.lock_date is None or now >= self.lock_date


@dataclass
class Vault:
    name: str
    region: str
    creation_date: float
    encryption_key_arn: str
    customer_managed_key: bool
    creator_request_id: str | None = None
    lock: VaultLock | None = None
    access_policy: str | None = None

    @property
    def arn(self) -> str:
        return vault_arn(self.region, self.name)


@dataclass
class PlanVersion:
    version_id: str
    document: dict[str, Any]  # BackupPlan shape: BackupPlanName, Rules (each with RuleId), AdvancedBackupSettings
    created_at: float


@dataclass
class Plan:
    plan_id: str
    region: str
    creation_date: float
    versions: list[PlanVersion]
    creator_request_id: str | None = None
    deletion_date: float | None = None
    last_execution_date: float | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:backup:{self.region}:{config.ACCOUNT_ID}:backup-plan:{self.plan_id}"

    @property
    def current(self) -> PlanVersion:
        return self.versions[-1]

    @property
    def name(self) -> str:
        return self.current.document["BackupPlanName"]


@dataclass
class Selection:
    selection_id: str
    plan_id: str
    region: str
    document: dict[str, Any]  # BackupSelection shape
    creation_date: float
    creator_request_id: str | None = None


@dataclass
class BackupJob:
    job_id: str
    region: str
    vault_name: str
    resource_arn: str
    resource_type: str
    resource_name: str
    iam_role_arn: str
    creation_date: float
    start_by: float
    complete_by: float
    lifecycle: dict[str, Any]
    recovery_point_tags: dict[str, str]
    created_by: dict[str, str] | None = None  # RecoveryPointCreator, for jobs a plan started
    copy_actions: list[dict[str, Any]] = field(default_factory=list)
    state: str = "CREATED"
    status_message: str | None = None
    started_at: float | None = None
    expected_completion: float | None = None
    completion_date: float | None = None
    recovery_point_arn: str | None = None
    size_bytes: int | None = None
    encrypted: bool = False
    encryption_key_arn: str | None = None
    data: Any = None  # recovery data captured when the job ran, until the recovery point holds it
    attempts: int = 0  # tries to start (AWS Backup retries a retryable refusal within the start window)


@dataclass
class CopyJob:
    job_id: str
    region: str  # the source region (where the job is listed)
    source_vault_name: str
    source_recovery_point_arn: str
    destination_vault_arn: str
    resource_arn: str
    resource_type: str
    resource_name: str
    iam_role_arn: str
    creation_date: float
    lifecycle: dict[str, Any]
    created_by: dict[str, str] | None = None
    created_by_backup_job_id: str | None = None
    state: str = "CREATED"
    status_message: str | None = None
    completion_date: float | None = None
    destination_recovery_point_arn: str | None = None
    size_bytes: int | None = None
    started_at: float | None = None
    expected_completion: float | None = None


@dataclass
class RestoreJob:
    job_id: str
    region: str
    recovery_point_arn: str
    vault_arn: str
    source_resource_arn: str
    resource_type: str
    metadata: dict[str, str]
    iam_role_arn: str | None
    creation_date: float
    recovery_point_creation_date: float
    status: str = "PENDING"
    status_message: str | None = None
    completion_date: float | None = None
    created_resource_arn: str | None = None
    size_bytes: int | None = None
    expected_minutes: int = 0
    started_at: float | None = None  # RUNNING from (the pending queue and a cold-storage retrieval before it)
    expected_completion: float | None = None


@dataclass
class RecoveryPoint:
    arn: str
    vault_name: str
    region: str
    resource_arn: str
    resource_type: str
    resource_name: str
    iam_role_arn: str
    creation_date: float
    completion_date: float
    lifecycle: dict[str, Any]
    encrypted: bool
    encryption_key_arn: str | None
    data: Any  # what the owning engine's backup_resource returned (or a copy of it)
    created_by: dict[str, str] | None = None
    source_vault_arn: str | None = None  # for copies
    size_bytes: int | None = None
    status: str = "COMPLETED"
    storage_class: str = "WARM"
    last_restore_time: float | None = None
    initiation_date: float | None = None

    def delete_at(self) -> float | None:
        days = self.lifecycle.get("DeleteAfterDays")
        return self.creation_date + days * DAY if days else None

    def cold_at(self) -> float | None:
        days = self.lifecycle.get("MoveToColdStorageAfterDays")
        return self.creation_date + days * DAY if days else None


@dataclass
class Framework:
    name: str
    region: str
    arn: str
    description: str | None
    controls: list[dict[str, Any]]
    creation_time: float
    idempotency_token: str | None = None


@dataclass
class BackupState:
    vaults: dict[tuple[str, str], Vault] = field(default_factory=dict)  # (region, name)
    plans: dict[str, Plan] = field(default_factory=dict)
    selections: dict[str, Selection] = field(default_factory=dict)
    backup_jobs: dict[str, BackupJob] = field(default_factory=dict)  # in creation order
    copy_jobs: dict[str, CopyJob] = field(default_factory=dict)
    restore_jobs: dict[str, RestoreJob] = field(default_factory=dict)
    recovery_points: dict[str, RecoveryPoint] = field(default_factory=dict)
    frameworks: dict[tuple[str, str], Framework] = field(default_factory=dict)  # (region, name)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # resource ARN -> tags
    timeline: list[tuple[float, int, str, str]] = field(default_factory=list)  # heap of (due, seq, kind, key)
    counter: int = 0  # for ids and timeline order
    running: dict[str, str] = field(default_factory=dict)  # "resource ARN|vault" -> its unfinished backup job
    tokens: dict[str, str] = field(default_factory=dict)  # StartBackupJob idempotency token -> job id
    s3: Any = None  # the S3 recovery data's bookkeeping (lab.services.backup.s3_backups.S3Books)
    reports: Any = None  # report plans and report jobs (lab.services.backup.reports.ReportBooks)

    def next_seq(self) -> int:
        self.counter += 1
        return self.counter

    def new_uuid(self, seed: int) -> str:
        digest = hashlib.sha256(f"{seed}:backup:{self.next_seq()}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def new_version_id(self, seed: int) -> str:
        return base64.b64encode(self.new_uuid(seed).encode()).decode().rstrip("=")

    def schedule(self, due: float, kind: str, key: str) -> None:
        heapq.heappush(self.timeline, (due, self.next_seq(), kind, key))

    def next_due(self) -> float | None:
        return self.timeline[0][0] if self.timeline else None

    def pop_due(self, now: float) -> tuple[float, str, str] | None:
        if self.timeline and self.timeline[0][0] <= now:
            due, _, kind, key = heapq.heappop(self.timeline)
            return due, kind, key
        return None

    def vaults_in(self, region: str) -> list[Vault]:
        return sorted((v for (r, _), v in self.vaults.items() if r == region), key=lambda v: v.name)

    def points_in_vault(self, region: str, vault_name: str) -> list[RecoveryPoint]:
        return [rp for rp in self.recovery_points.values() if rp.region == region and rp.vault_name == vault_name]
