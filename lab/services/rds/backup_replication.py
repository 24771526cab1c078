"""Cross-Region automated backups: a DB instance's snapshots and transaction logs replicated into another Region,
where a point-in-time restore can use them after the source Region is lost.

RDS User Guide, Replicating automated backups to another AWS Region: StartDBInstanceAutomatedBackupsReplication,
called in the destination Region, makes RDS copy "all snapshots and transaction logs as soon as they are ready on
the DB instance". Here the backups are `pending` while the newest automated snapshot is copied across (the
duration model's cross-Region copy), then `replicating`, restorable from that snapshot's time to the source's
latest restorable time less the log's copy (`rds.backup_replication.log_copy`). When the source Region is down,
nothing newer arrives: the window's end stays where it was. StopDBInstanceAutomatedBackupsReplication, or the
source's deletion, leaves them `retained` ("automated backups for deleted instances and after backup replication
is stopped", API Reference: DescribeDBInstanceAutomatedBackups) for their retention period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lab.services.rds.records import GIB, automated_backups_arn, restore_defaults

if TYPE_CHECKING:
    from lab.services.rds.engine import InstanceRecord, RdsData

EXPIRY = "replicated-expiry"  # the engine's timer kind for retained replicated backups
DEFAULT_RETENTION_DAYS = 7  # API Reference: BackupRetentionPeriod of the replicated backups, "Default: 7"


@dataclass
class ReplicatedBackup:
    region: str  # where the backups are replicated to (where they are listed, and restored from)
    source_region: str
    name: str  # the source DB instance
    instance_arn: str
    dbi_resource_id: str
    history: str  # the source's rows and journal (kept after the source is deleted)
    retention_days: int
    started_at: float
    ready_at: float  # the newest automated snapshot copied: `replicating` from then on
    earliest: float  # that snapshot's time: nothing older was replicated
    created_at: float  # the source's InstanceCreateTime
    attributes: dict[str, Any]
    az: str
    backup_window: str
    kms_key_id: str | None = None
    frozen_latest: float | None = None  # the latest restorable time while nothing newer arrives
    stopped_at: float | None = None  # replication stopped, or the source deleted: `retained`
    stopped_latest: float | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_defaults(self, state)

    @property
    def arn(self) -> str:
        return automated_backups_arn(self.region, self.dbi_resource_id)


@dataclass
class ReplicationBook:
    """Every replication of automated backups, by the ARN of the replicated backups."""

    backups: dict[str, ReplicatedBackup] = field(default_factory=dict)


class BackupReplications:
    """The RDS engine's cross-Region automated backups (used by lab.services.rds.api)."""

    def __init__(self, engine: RdsData) -> None:
        self.engine = engine

    @property
    def book(self) -> ReplicationBook:
        state = self.engine.state
        if state.backup_replications is None:
            state.backup_replications = ReplicationBook()
        return state.backup_replications

    def of_source(self, source: InstanceRecord) -> ReplicatedBackup | None:
        """The replication of `source`'s backups still running (a source replicates to one Region)."""
        return next((backup for backup in self.book.backups.values()
                     if backup.dbi_resource_id == source.dbi_resource_id and backup.stopped_at is None), None)

    def find(self, region: str, arn: str | None = None, dbi_resource_id: str | None = None) -> ReplicatedBackup | None:
        for backup in self.book.backups.values():
            if backup.region == region and ((arn and backup.arn == arn)
                                            or (dbi_resource_id and backup.dbi_resource_id == dbi_resource_id)):
                return backup
        return None

    def in_region(self, region: str) -> list[ReplicatedBackup]:
        return sorted((b for b in self.book.backups.values() if b.region == region), key=lambda b: (b.name, b.arn))

    def start(self, source: InstanceRecord, region: str, retention_days: int, kms_key_id: str | None,
              newest_snapshot: tuple[float, int]) -> ReplicatedBackup:
        """Replicate `source`'s automated backups into `region`, from its newest automated snapshot (its time
        and size in bytes): `pending` while that snapshot is copied across."""
        engine = self.engine
        now = engine.now()
        snapshot_time, snapshot_bytes = newest_snapshot
        queue, creating = engine.durations.rds_copy(snapshot_bytes / GIB, cross_region=True)
        backup = ReplicatedBackup(
            region, source.region, source.name, source.arn, source.dbi_resource_id, source.history, retention_days,
            now, now + queue + creating, snapshot_time, source.created_at, dict(source.attributes), source.az,
            source.backup_window, kms_key_id)
        self.book.backups[backup.arn] = backup
        if source.region in engine.state.regions_down:
            backup.frozen_latest = backup.earliest
        engine.event(source, f"Started replicating automated backups to {region}", "backup")
        engine.emit("AutomatedBackupsReplicationStarted", region=region, resource=backup.arn, source=source.arn)
        return backup

    def status(self, backup: ReplicatedBackup, now: float) -> str:
        if backup.stopped_at is not None:
            return "retained"
        return "pending" if now < backup.ready_at else "replicating"

    def window(self, backup: ReplicatedBackup, now: float) -> tuple[float, float]:
        """(earliest, latest) restorable time of the replicated backups now."""
        earliest = max(backup.earliest, now - backup.retention_days * 86400)
        return earliest, max(earliest, self._latest(backup, now))

    def _latest(self, backup: ReplicatedBackup, now: float) -> float:
        if backup.stopped_latest is not None:
            return backup.stopped_latest
        if backup.frozen_latest is not None:
            return backup.frozen_latest
        engine = self.engine
        source = engine.state.instances.get(f"{backup.source_region}/{backup.name}")
        if source is None or source.dbi_resource_id != backup.dbi_resource_id:
            return backup.earliest
        lag = engine.durations.rds_backup_replication_lag()
        return max(backup.earliest, engine.latest_restorable(source, now) - lag)

    def stop(self, backup: ReplicatedBackup, why: str) -> None:
        """Nothing more is replicated; what was stays `retained` for the retention period."""
        engine = self.engine
        now = engine.now()
        backup.stopped_latest = self._latest(backup, now)
        backup.stopped_at = now
        engine.schedule(now + backup.retention_days * 86400, EXPIRY, backup.arn, now)
        engine.emit("AutomatedBackupsReplicationStopped", region=backup.region, resource=backup.arn, why=why)

    def expire(self, arn: str, token: float) -> None:
        backup = self.book.backups.get(arn)
        if backup is not None and backup.stopped_at == token:
            del self.book.backups[arn]

    def source_region_down(self, region: str, down: bool) -> None:
        """Logs stop arriving from a Region that is down (the window's end stays), and resume when it is back."""
        now = self.engine.now()
        for backup in self.book.backups.values():
            if backup.source_region == region and backup.stopped_at is None:
                backup.frozen_latest = self._latest(backup, now) if down else None

    def source_deleted(self, source: InstanceRecord) -> None:
        backup = self.of_source(source)
        if backup is not None:
            self.stop(backup, f"its source DB instance {source.name} was deleted")
