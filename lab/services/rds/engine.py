"""The RDS data plane and RDS's time: every DB instance holds real rows, and its long operations take the time
AWS's do, on the sim clock.

moto keeps RDS metadata only (docs/research/emulators.md) and does everything at once. This engine keeps, per DB
instance, the rows (lab.services.rds.store) and what RDS is doing with it, as a queue of *phases*: each phase is a
DBInstanceStatus (`creating`, `backing-up`, `modifying`, `upgrading`, `rebooting`, `storage-optimization`,
`deleting`, `resetting-master-credentials`) held for a time from the sandbox's duration model (lab.sim.durations),
and whether the instance answers meanwhile. The RDS API (lab.services.rds.api) shows moto's answers corrected by
this state; the clock plays the phases (`next_due`/`run_due`), so a restart replays the same statuses at the same
sim times. What the engine models, with the AWS pages each follows:
  - CreateDBInstance, restores from a snapshot or to a point in time, read replicas: `creating` (inaccessible, no
    endpoint), then `backing-up` for the first automated backup when backups are on (RDS User Guide: Creating a DB
    instance; Restoring from a DB snapshot; Restoring to a specified time; Working with read replicas);
  - snapshots `creating` with PercentProgress (a cross-Region copy first `pending` in the queue), a Single-AZ
    instance `backing-up` meanwhile; the first snapshot of an instance is full, later ones incremental
    (Creating a DB snapshot; Copying a DB snapshot; Working with backups);
  - automated backups daily in the backup window (`backing-up`); point-in-time restore within [earliest, latest
    restorable time], LatestRestorableTime trailing now by the log upload interval; retained automated backups
    of a deleted instance (Working with backups; Deleting a DB instance);
  - ModifyDBInstance: settings that wait for the weekly maintenance window in PendingModifiedValues unless
    ApplyImmediately (lab.services.rds.modifications), then `modifying` (an outage for a class change);
  - reboots and Multi-AZ failovers: `rebooting` (60-120 s for a failover), the zones swapping a little later;
  - DeleteDBInstance: `deleting` until the final snapshot exists;
  - DescribeEvents answers from the events recorded here, in sim time.
`lab sql` (POST /_lab/sql) queries or changes an instance's rows; GET /_lab/rds/digests summarises them.
"""

from __future__ import annotations

import heapq
import logging
import random
import re
import string
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from lab import config, world
from lab.gateway import audit
from lab.kernel.bus import ResourceStatusChanged
from lab.kernel.engine import Engine
from lab.kernel.port import Sandbox
from lab.services.rds import windows
from lab.services.rds.backup_replication import EXPIRY as REPLICATED_EXPIRY
from lab.services.rds.backup_replication import BackupReplications, ReplicationBook
from lab.services.rds.modifications import RESTARTING, STORAGE_MEMBERS, outage_of
from lab.services.rds.records import GIB, automated_backups_arn, restore_defaults
from lab.services.rds.store import (
    ORDER,
    SQL,
    DataRef,
    DataStore,
    Follow,
    History,
    Parameters,
    QueryResult,
    SqlError,
    check_replayable,
    order_row,
    orders_digest,
    rehearse,
)
from lab.sim.durations import Durations, progress

log = logging.getLogger("lab.rds")
REPLICA_LAG_SECONDS = {True: 2.0, False: 12.0}  # same region, cross-region
EVENT_RETENTION_SECONDS = 14 * 86400  # RDS keeps events for 14 days
MAX_STOPPED_SECONDS = 7 * 86400  # "You can stop a DB instance for up to seven days" (RDS User Guide)
DEFAULT_EVENT_MINUTES = 60  # DescribeEvents without a time range: the past hour
ARN = re.compile(r"^arn:[\w-]+:rds:(?P<region>[\w-]+):\d{12}:(?P<kind>[\w-]+):(?P<name>.+)$")
# Statuses in which the database answers SQL (its phase may still say it is down: a class change's outage).
RUNNING = frozenset({"available", "backing-up", "modifying", "upgrading", "storage-optimization",
                     "resetting-master-credentials"})
# Statuses from which ModifyDBInstance, CreateDBSnapshot, RebootDBInstance and friends may start.
READY = frozenset({"available", "storage-optimization"})


@dataclass
class RdsEvent:
    time: float
    source_id: str
    source_type: str  # db-instance | db-snapshot
    message: str
    categories: list[str]
    arn: str


@dataclass
class Outage:
    """A reboot or failover as states saved before phases existed hold it (kept so that they load)."""

    kind: str
    started: float
    ends: float
    az_after: str
    secondary_after: str | None


@dataclass
class Phase:
    """One step of what RDS is doing with an instance: its status for `seconds`, then `then` happens."""

    status: str
    seconds: float
    outage: bool = False  # the database does not answer meanwhile
    then: str = ""  # what happens when it ends (RdsData._phase_ended)
    begin: str = ""  # what happens when it starts (RdsData._phase_began)
    detail: dict[str, Any] = field(default_factory=dict)
    id: int = 0
    started: float | None = None

    @property
    def ends(self) -> float:
        return (self.started or 0.0) + self.seconds


@dataclass
class InstanceRecord:
    region: str
    name: str
    arn: str
    history: str
    created_at: float
    attributes: dict[str, Any]  # what a restore needs: engine, class, storage, port, ...
    retention_days: int = 0  # applied BackupRetentionPeriod
    backups_since: float | None = None  # start of the first automated backup (restorable from there)
    backup_window: str = ""
    next_backup: float | None = None
    multi_az: bool = False  # applied
    az: str = ""
    secondary_az: str | None = None
    stopped: bool = False
    auto_start_at: float | None = None  # when RDS starts a stopped instance again by itself (7 days after the stop)
    unreachable: bool = False  # its zone or region is down (failure injection)
    source: str | None = None  # key of the source instance while this is a read replica
    phases: list[Phase] = field(default_factory=list)
    created: bool = True  # False until its `creating` phase ends: no endpoint yet
    backups_pending: bool = False  # backups on, the first automated backup not finished (automated backup `creating`)
    pending: dict[str, Any] = field(default_factory=dict)  # settings waiting for the maintenance window
    applying: dict[str, Any] = field(default_factory=dict)  # settings being applied (still in PendingModifiedValues)
    applied: dict[str, Any] = field(default_factory=dict)  # the applied value of each pending or applying setting
    maintenance_window: str = ""
    next_maintenance: float | None = None
    dbi_resource_id: str = ""
    last_snapshot: DataRef | None = None  # the data of its latest snapshot: the next one is incremental
    storage_changed_at: float | None = None
    az_swap_at: float | None = None  # a failover's zones shown from then on
    view: dict[str, Any] | None = None  # while deleting: the instance as last described (the backend has it no more)

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_defaults(self, state)

    @property
    def key(self) -> str:
        return f"{self.region}/{self.name}"

    @property
    def storage_gib(self) -> float:
        return float(self.attributes.get("AllocatedStorage") or 20)


@dataclass
class SnapshotRecord:
    region: str
    name: str
    arn: str
    ref: DataRef
    instance: str  # the source instance's identifier
    snapshot_type: str  # manual | automated | awsbackup
    created_at: float
    attributes: dict[str, Any]
    copied_from: str | None = None  # the source snapshot's ARN, for a copy
    status: str = "available"  # pending | creating | available
    started: float = 0.0  # when `creating` began
    ready_at: float = 0.0
    data_bytes: int = 0  # the data it holds (U)
    dbi_resource_id: str = ""
    view: dict[str, Any] | None = None  # a snapshot only the lab holds (AWS Backup's): as DescribeDBSnapshots shows it
    id: int = 0

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_defaults(self, state)

    @property
    def key(self) -> str:
        return f"{self.region}/{self.name}"


@dataclass
class RetainedBackup:
    """The automated backups of a deleted instance, kept (DeleteAutomatedBackups false) for its retention period."""

    region: str
    name: str
    instance_arn: str
    dbi_resource_id: str
    arn: str
    history: str
    retention_days: int
    earliest: float
    latest: float
    deleted_at: float
    created_at: float
    attributes: dict[str, Any]
    az: str
    backup_window: str


@dataclass(frozen=True)
class RdsRecovery:
    """What an AWS Backup recovery point of a DB instance holds: where its data is, and how it was built. Named
    after its job once AWS Backup says which (`snapshot`: awsbackup:job-<id>), in `region`."""

    ref: DataRef
    attributes: tuple[tuple[str, Any], ...]
    source_arn: str
    taken_at: float
    region: str = config.PRIMARY_REGION
    instance: str = ""
    data_bytes: int = 0
    snapshot: str | None = None
    copied_from: str | None = None  # a copy job's: the ARN of the source recovery point's DB snapshot
    #: what the backup job's snapshot copied: the changes since the instance's previous snapshot (None: all
    #: of its data, the first snapshot of the instance)
    changed_bytes: int | None = None


@dataclass
class PendingCreate:
    """A CreateDBInstance the engine makes itself (a restore the backend cannot do): where its data starts."""

    origin: DataRef | None


@dataclass
class RdsState:
    histories: dict[str, History] = field(default_factory=dict)
    instances: dict[str, InstanceRecord] = field(default_factory=dict)
    snapshots: dict[str, SnapshotRecord] = field(default_factory=dict)
    events: dict[str, list[RdsEvent]] = field(default_factory=dict)
    timers: list[tuple[float, int, str, str, float]] = field(default_factory=list)  # heap: due, seq, kind, key, token
    regions_down: set[str] = field(default_factory=set)
    primary: tuple[str, str] = (config.PRIMARY_REGION, world.ORDERS_DB)  # where the shop writes its orders
    counter: int = 0
    retained: dict[str, RetainedBackup] = field(default_factory=dict)  # by DbiResourceId
    backup_replications: ReplicationBook | None = None  # cross-Region automated backups (a save before them: None)

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_defaults(self, state)


class RdsData(Engine):
    name = "rds-data"
    service_principal = "rds.amazonaws.com"  # CloudTrail shows its calls as made by this AWS service
    order = 20

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self._store: DataStore | None = None
        self._pending_create: PendingCreate | None = None  # set while the engine makes an instance itself
        self.syncing = False  # while the engine tells the backend what it holds (ModifyDBInstance passes through)
        self._digest_store: DataStore | None = None
        self._digest_memo: dict[DataRef, dict[str, Any]] = {}  # orders digests by the rows they were read from
        self.replications = BackupReplications(self)

    def initial_state(self) -> RdsState:
        return RdsState()

    @property
    def store(self) -> DataStore:
        histories = self.state.histories
        if self._store is None or self._store.histories is not histories:
            if self._store is not None:
                self._store.clear_cache()
            self._store = DataStore(histories)  # a new lab state (restore, reset): rebuild from its journal
        return self._store

    @property
    def durations(self) -> Durations:
        return self.sandbox.durations

    def take_pending_create(self) -> PendingCreate | None:
        """The engine's own CreateDBInstance being answered now (None for anyone else's)."""
        pending, self._pending_create = self._pending_create, None
        return pending

    # -- the shop's writes -----------------------------------------------------------------------------

    def insert_order(self, order: dict[str, Any]) -> bool:
        """The workload's INSERT into the primary orders database; False when it cannot be stored."""
        state, now = self.state, self.now()
        record = state.instances.get("/".join(state.primary))
        if record is None or record.source is not None or self.unavailable(record, now):
            return False
        try:
            self.store.append(record.history, (now, ORDER, order_row(order)))
        except SqlError:
            return False  # e.g. the orders table was dropped
        return True

    # -- failure injection -----------------------------------------------------------------------------

    def set_instance_available(self, name: str, available: bool, region: str = config.PRIMARY_REGION) -> None:
        record = self.state.instances.get(f"{region}/{name.lower()}")
        if record is not None:
            record.unreachable = not available
            self.event(record, "Unable to reach the DB instance." if not available
                        else "The DB instance is reachable again.", "availability")

    def set_region_down(self, region: str, down: bool) -> None:
        if down:
            self.state.regions_down.add(region)
        else:
            self.state.regions_down.discard(region)
        self.replications.source_region_down(region, down)

    # -- SQL ---------------------------------------------------------------------------------------------

    def run_sql(self, region: str, name: str, sql: str, write: bool,
                parameters: Parameters = ()) -> QueryResult | None:
        """Run a statement on an instance. With `write` False: a read answers; a write is checked (SqlError
        when it would fail) and answers None, and the caller runs it again with `write` True, journaled.
        `parameters` are bound to the statement's `?` placeholders (and journaled with it)."""
        record = self._existing(region, name)
        now = self.now()
        if self.unavailable(record, now):
            status = self.status_word(record, now)
            why = " (RDS gives it an endpoint once it is available)" if not record.created else ""
            raise SqlError(f'could not connect to server: DB instance "{record.name}" in {region} is {status}{why}')
        if write:
            statement = check_replayable(sql)
            payload = (statement, tuple(parameters)) if parameters else statement
            return self.store.append(record.history, (now, SQL, payload))
        connection = self.store.connection(record.history, self.ref_now(record))
        result, needs_write = self.store.query(connection, sql, parameters)
        if not needs_write:
            return result
        # Refuse here what the write would refuse: a failed write must not reach the journaled call.
        statement = check_replayable(sql)
        if record.source is not None:
            verb = statement.split(None, 1)[0].upper()
            raise SqlError(f"cannot execute {verb} in a read-only transaction ({record.name} is a read replica)")
        rehearse(connection, statement, parameters)
        return None

    def digests(self) -> dict[str, dict[str, Any]]:
        """Per region and instance: the orders digest, the status, and `rows_version` -- the rows the digest
        was read from ([history, position]: while it is the same, so are the rows)."""
        now = self.now()
        store = self.store
        if self._digest_store is not store:  # (a restore or a reset: other histories under the same names)
            self._digest_store, self._digest_memo = store, {}
        found: dict[str, dict[str, Any]] = {region: {} for region in config.REGIONS}
        for key in sorted(self.state.instances):
            record = self.state.instances[key]
            status = self.status_word(record, now)
            if not record.created or record.view is not None:
                summary: dict[str, Any] = {"orders": None, "rows_version": None,
                                           "error": f"DB instance {record.name} is {status}: its data cannot be read"}
            else:
                ref = self.ref_now(record)
                cached = self._digest_memo.get(ref)
                if cached is None:
                    # (read once per version of the rows: a month of orders is 50,000 of them)
                    if len(self._digest_memo) >= 64:
                        self._digest_memo.clear()
                    cached = self._digest_memo[ref] = orders_digest(store.connection(record.history, ref))
                summary = dict(cached, rows_version=[ref.history, ref.position])
            summary.update(status=status, read_replica_of=record.source,
                           history_changes=len(self.state.histories[record.history].journal))
            found.setdefault(record.region, {})[record.name] = summary
        return found

    # -- AWS Backup's contract ---------------------------------------------------------------------------

    def backup_resource_types(self) -> set[str]:
        return {"RDS"}

    def backup_resource(self, arn: str) -> RdsRecovery:
        record = self._by_arn(arn)
        if record is None:
            raise ValueError(f"no DB instance {arn} in this sandbox")
        status = self.status(record)
        if not record.created or record.view is not None:
            raise ValueError(f"DB instance {record.name} is {status}; AWS Backup can back it up once it is available")
        ref = self.ref_now(record)
        return RdsRecovery(ref, tuple(sorted(record.attributes.items())), record.arn, self.now(), record.region,
                           record.name, self.data_bytes(record, ref))

    def backup_job_data(self, data: RdsRecovery, job_id: str) -> RdsRecovery:
        """AWS Backup names the job that makes `data` (a backup, or a copy once it is copied): the recovery point
        is then an RDS snapshot of type awsbackup, `awsbackup:job-<id>` (`awsbackup:copyjob-<id>` for a copy;
        AWS Backup Developer Guide, Working with backups: recovery point IDs), `creating` while it is taken."""
        copy = data.snapshot == "copy"
        named = replace(data, snapshot=f"awsbackup:{'copyjob' if copy else 'job'}-{job_id.lower()}")
        if not copy:
            # Incremental, as every snapshot of the instance: "Subsequent snapshots of the same DB instance are
            # incremental" (RDS User Guide: Creating a DB snapshot), whoever takes them
            record = self._by_arn(data.source_arn)
            if record is not None:
                named = replace(named, changed_bytes=self._changed_since_last_snapshot(record, data.ref))
        self._record_awsbackup_snapshot(named, copy=copy)
        return named

    def backup_duration(self, data: RdsRecovery) -> float:
        """The backup job runs as long as its DB snapshot is `creating`: the first of an instance copies all
        its data, later ones what changed since the previous snapshot (RDS's own, or AWS Backup's)."""
        copied = data.data_bytes if data.changed_bytes is None else data.changed_bytes
        return self.durations.rds_snapshot(copied / GIB)

    def backup_recovery_point_arn(self, data: RdsRecovery) -> str | None:
        if not data.snapshot or data.snapshot == "copy":
            return None
        return f"arn:aws:rds:{data.region}:{config.ACCOUNT_ID}:snapshot:{data.snapshot}"

    def backup_size(self, data: RdsRecovery) -> int | None:
        return data.data_bytes

    def copy_backup(self, data: RdsRecovery, region: str) -> RdsRecovery:
        """The same data in `region` (AWS Backup's copy job); named after the copy job by backup_job_data."""
        source = self.backup_recovery_point_arn(data)
        return replace(data, region=region, snapshot="copy", copied_from=source or data.copied_from)

    def delete_backup(self, data: RdsRecovery) -> None:
        """The recovery point is gone (deleted, expired, its job failed): so is its awsbackup snapshot."""
        if data.snapshot and data.snapshot != "copy":
            found = self.state.snapshots.pop(f"{data.region}/{data.snapshot}", None)
            if found is not None:
                self.snapshot_event(found, "Deleted manual snapshot", "deletion")

    def backup_restore_metadata(self, data: RdsRecovery) -> dict[str, str]:
        """GetRecoveryPointRestoreMetadata of an RDS recovery point: the instance's settings, as strings."""
        attributes = dict(data.attributes)
        metadata = {"DBInstanceIdentifier": data.instance, "AvailabilityZone": f"{data.region}a", "MultiAZ": "false"}
        for key in ("DBInstanceClass", "Engine", "EngineVersion", "Port", "AllocatedStorage", "StorageType",
                    "DBName", "KmsKeyId", "PubliclyAccessible", "CopyTagsToSnapshot", "DeletionProtection"):
            if attributes.get(key) is not None:
                value = attributes[key]
                metadata[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return metadata

    def restore_resource(self, data: RdsRecovery, metadata: dict[str, str], region: str) -> str:
        """Start restoring a new DB instance holding exactly `data` (keys of `metadata` as AWS Backup's RDS restore
        metadata); returns its ARN. The instance is `creating` for the service's own restore time (as
        RestoreDBInstanceFromDBSnapshot's), then takes its first automated backup (`backing-up`) when backups
        are on, then is `available`: AWS Backup restores an RDS recovery point by restoring its DB snapshot
        (AWS Backup Developer Guide: Restoring an Amazon RDS database; RDS User Guide: Restoring from a DB
        snapshot), and restore_duration is that whole time."""
        name = metadata.get("DBInstanceIdentifier")
        if not name:
            raise ValueError("restoring an RDS recovery point needs DBInstanceIdentifier in its metadata")
        attributes = dict(data.attributes)
        request = creation_request(name, attributes, metadata)
        request["MasterUserPassword"] = "restored-by-aws-backup"
        try:
            answer = self.create_in_backend(region, request, data.ref)
        except ClientError as exc:
            raise ValueError(f"creating DB instance {name} failed: {exc.response['Error'].get('Message')}") from exc
        arn = answer["DBInstanceArn"]
        record = self._by_arn(arn)
        if record is not None:
            self.start_creating(record, self.durations.rds_restore(record.storage_gib),
                                f"Restored from an AWS Backup recovery point of {data.source_arn}")
        return arn

    def restore_duration(self, data: RdsRecovery, metadata: dict[str, str]) -> float:
        """How long restore_resource's instance takes to be `available`: `creating` for rds.restore.* of its
        AllocatedStorage, then (backups on) its first automated backup, a full snapshot of the data."""
        request = creation_request(metadata.get("DBInstanceIdentifier") or data.instance, dict(data.attributes),
                                   metadata)
        seconds = self.durations.rds_restore(float(request.get("AllocatedStorage") or 20))
        # (CreateDBInstance's BackupRetentionPeriod "Default: 1", API Reference: the instance takes its backup)
        if int(request.get("BackupRetentionPeriod", 1) or 0) > 0:
            seconds += self.durations.rds_snapshot(data.data_bytes / GIB)
        return seconds

    def _record_awsbackup_snapshot(self, data: RdsRecovery, copy: bool) -> None:
        """The DB snapshot of type awsbackup that holds `data`: a backup job's is `creating` for the snapshot's
        time while the job runs; a copy job's is named when the copy job has spent the copy's time, so it is
        `available` in the destination Region as the job completes, a copy of the source's snapshot."""
        assert data.snapshot is not None
        now = self.now()
        attributes = dict(data.attributes)
        source = self.known(data.region, data.instance) if not copy else None
        origin = self._by_arn(data.source_arn)
        snapshot = SnapshotRecord(
            data.region, data.snapshot, f"arn:aws:rds:{data.region}:{config.ACCOUNT_ID}:snapshot:{data.snapshot}",
            data.ref, data.instance, "awsbackup", now, attributes, status="creating", started=now,
            ready_at=now if copy else now + self.backup_duration(data),
            data_bytes=data.data_bytes, dbi_resource_id=origin.dbi_resource_id if origin is not None else "",
            copied_from=data.copied_from if copy else None)
        snapshot.view = snapshot_view(snapshot, source)
        if copy:
            snapshot.view["OriginalSnapshotCreateTime"] = epoch_dt(data.taken_at)
            if data.copied_from:
                source_region = ARN.match(data.copied_from)
                snapshot.view["SourceDBSnapshotIdentifier"] = data.copied_from
                if source_region:
                    snapshot.view["SourceRegion"] = source_region["region"]
            if origin is not None:
                snapshot.view["DbiResourceId"] = origin.dbi_resource_id
        self._add_snapshot(snapshot)
        if copy:
            self._snapshot_ready(snapshot, now)
            return
        self.snapshot_event(snapshot, "Creating manual snapshot", "creation")
        if source is not None and not source.multi_az and self.status(source) in READY:
            self.start_phases(source, [Phase("backing-up", snapshot.ready_at - now)])

    # -- instances ---------------------------------------------------------------------------------------

    def new_instance(self, shown: dict[str, Any], region: str, params: dict[str, Any], *,
                     origin: DataRef | None, follows: Follow | None = None) -> InstanceRecord:
        now = self.now()
        history_id = self._next_id("h")
        self.state.histories[history_id] = History(history_id, origin, now, follows=follows)
        name = shown["DBInstanceIdentifier"]
        az = params.get("AvailabilityZone") or shown.get("AvailabilityZone") or f"{region}a"
        if not az.startswith(region):
            az = f"{region}a"  # moto keeps the source's zone for a copy restored in another region
        multi_az = bool(params.get("MultiAZ", False))
        backup, maintenance = windows.default_windows(self.sandbox.lab.seed, region, name,
                                                      params.get("PreferredBackupWindow"),
                                                      params.get("PreferredMaintenanceWindow"))
        record = InstanceRecord(
            region=region, name=name, arn=shown["DBInstanceArn"], history=history_id, created_at=now,
            attributes=instance_attributes(shown), retention_days=int(shown.get("BackupRetentionPeriod") or 0),
            backup_window=backup, maintenance_window=maintenance, multi_az=multi_az, az=az,
            secondary_az=standby_zone(az) if multi_az else None, dbi_resource_id=self._dbi_resource_id(region, name))
        self.state.instances[record.key] = record
        self.drop_backend_automated_snapshots(region, name)  # the first automated backup comes when it is built
        if (shown.get("PreferredBackupWindow"), shown.get("PreferredMaintenanceWindow")) != (backup, maintenance):
            self.sync_backend(record, PreferredBackupWindow=backup, PreferredMaintenanceWindow=maintenance)
        return record

    def _dbi_resource_id(self, region: str, name: str) -> str:
        rng = random.Random(f"{self.sandbox.lab.seed}:dbi:{region}:{name}:{self.state.counter}")
        return "db-" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=26))

    def sync_backend(self, record: InstanceRecord, **settings: Any) -> None:
        """Tell the backend settings the lab chose (the windows it assigned), so that its own checks agree with
        what the lab shows; not an API call of the account (left out of CloudTrail)."""
        self.syncing = True
        try:
            with audit.unrecorded():
                self.sandbox.client("rds", record.region, acting_as=self.service_principal).modify_db_instance(
                    DBInstanceIdentifier=record.name, ApplyImmediately=True, **settings)
        except ClientError as exc:  # the lab's own state stands; the backend keeps its settings
            log.warning("the backend refused the settings %s of DB instance %s: %s", settings, record.key, exc)
        finally:
            self.syncing = False

    def create_in_backend(self, region: str, request: dict[str, Any], origin: DataRef | None) -> dict[str, Any]:
        """Create an instance the backend cannot restore itself (from a retained automated backup, an AWS Backup
        snapshot): its CreateDBInstance, left out of CloudTrail (the learner's restore call is what AWS records).
        Returns the DBInstance; its record holds `origin`'s data and has no phases yet."""
        self._pending_create = PendingCreate(origin)
        try:
            with audit.unrecorded():
                answer = self.sandbox.client("rds", region, acting_as=self.service_principal).create_db_instance(
                    **request)
        finally:
            self._pending_create = None
        return answer["DBInstance"]

    def start_creating(self, record: InstanceRecord, seconds: float, message: str) -> None:
        """A new instance: `creating` for `seconds` (no endpoint, no SQL), then the first automated backup."""
        record.created = False
        phases = [Phase("creating", seconds, outage=True, then="created", detail={"message": message})]
        self.start_phases(record, phases)
        if record.retention_days > 0:
            self.start_backups(record)

    # -- phases ------------------------------------------------------------------------------------------

    def status(self, record: InstanceRecord) -> str:
        """DBInstanceStatus as RDS shows it now."""
        if record.phases:
            return record.phases[0].status
        return "stopped" if record.stopped else "available"

    def start_phases(self, record: InstanceRecord, phases: list[Phase], *, first: bool = False) -> None:
        """Queue `phases` after what the instance is doing (or, `first`, before it: a failover interrupts)."""
        for phase in phases:
            self.state.counter += 1
            phase.id = self.state.counter
        now = self.now()
        if first and record.phases:
            current = record.phases[0]
            current.seconds = max(0.0, current.ends - now)  # resumes for what was left of it
            current.started = None
            self.state.counter += 1
            current.id = self.state.counter  # its old timer no longer ends it
            record.phases[:0] = phases
        else:
            record.phases.extend(phases)
        if record.phases and record.phases[0].started is None:
            self._begin(record, now)

    def _begin(self, record: InstanceRecord, at: float) -> None:
        phase = record.phases[0]
        phase.started = at
        self._phase_began(record, phase)  # (may fix its length: an automated backup's is its snapshot's)
        self._timer(phase.ends, "phase", record.key, float(phase.id))

    def _phase_began(self, record: InstanceRecord, phase: Phase) -> None:
        if phase.begin == "automated-backup":
            self._take_automated_backup(record, phase)
        elif phase.begin == "reboot":
            self.event(record, "Multi-AZ instance failover started." if phase.then == "failover"
                       else "DB instance shutdown", "failover" if phase.then == "failover" else "availability")

    def _end_phase(self, record: InstanceRecord, now: float) -> None:
        phase = record.phases.pop(0)
        self._phase_ended(record, phase, now)
        if record.key not in self.state.instances:
            return  # deleted
        if record.phases:
            if record.phases[0].started is None:  # (what the phase's end queued has begun already)
                self._begin(record, now)
        elif not record.stopped:
            self.emit("DBInstanceAvailable", region=record.region, resource=record.name)
        status = self.status(record)
        if status != phase.status:
            # a promotion, restore or creation is over at this instant: a drill's recovery may be complete now
            # (its RTO is this moment, not its next periodic look)
            self.sandbox.bus.publish(ResourceStatusChanged(record.region, "rds", record.name, status))

    def _phase_ended(self, record: InstanceRecord, phase: Phase, now: float) -> None:
        then = phase.then
        if then == "created":
            record.created = True
            self.event(record, phase.detail.get("message") or "DB instance created", "creation")
        elif then == "backup":
            key = phase.detail.get("snapshot")
            if key in self.state.snapshots:
                self._snapshot_ready(self.state.snapshots[key], now)
            self.event(record, "Finished DB Instance backup", "backup")
        elif then == "applied":
            self._applied(record, phase)
        elif then == "failover":
            self.event(record, "Multi-AZ instance failover completed.", "failover")
            self.event(record, "DB instance restarted", "availability")
            record.az_swap_at = now + self.durations.rds_failover_az_update()
            self._timer(record.az_swap_at, "az-swap", record.key, record.az_swap_at)
        elif then == "rebooted":
            self.event(record, "DB instance restarted", "availability")
        elif then == "stopped":
            record.stopped = True
            record.auto_start_at = now + MAX_STOPPED_SECONDS
            self._timer(record.auto_start_at, "auto-start", record.key, record.auto_start_at)
            self.event(record, "DB instance stopped", "notification")
        elif then == "started":
            self.event(record, "DB instance started", "notification")
        elif then == "promote":
            self.promote(record, "Promoted Read Replica to a stand-alone database instance")
        elif then == "promoted":
            self.event(record, "DB instance restarted", "availability")
            if record.retention_days > 0:
                self.start_backups(record)
        elif then == "password":
            record.applying.pop("MasterUserPassword", None)
            self.event(record, "Reset master credentials", "configuration change")
        elif then == "deleted":
            self._deleted(record)

    # -- reboots and failovers -------------------------------------------------------------------------

    def reboot(self, record: InstanceRecord, failover: bool, *, first: bool = False) -> None:
        """RebootDBInstance (with failover for a Multi-AZ instance): `rebooting`, an outage."""
        seconds = self.durations.rds_reboot(record.storage_gib, failover)
        self.start_phases(record, [Phase("rebooting", seconds, outage=True, begin="reboot",
                                         then="failover" if failover else "rebooted")], first=first)

    def _swap_zones(self, record: InstanceRecord) -> None:
        record.az_swap_at = None
        if record.multi_az and record.secondary_az:
            record.az, record.secondary_az = record.secondary_az, record.az

    # -- modifications ---------------------------------------------------------------------------------

    def defer(self, record: InstanceRecord, member: str, value: Any, before: Any) -> None:
        """A setting waits for the maintenance window (or the next change applied immediately)."""
        if member not in record.applied:
            record.applied[member] = before
        if value == record.applied[member] and member not in record.applying:
            record.pending.pop(member, None)
            record.applied.pop(member, None)  # set back to what it is: nothing pending
            return
        record.pending[member] = value

    def schedule_maintenance(self, record: InstanceRecord) -> None:
        """Pending changes are applied in the next maintenance window (at once if it is open now)."""
        if not record.pending:
            record.next_maintenance = None
            return
        now = self.now()
        due = now if windows.in_weekly(record.maintenance_window, now) else \
            windows.next_weekly_start(record.maintenance_window, now)
        record.next_maintenance = due
        self._timer(due, "maintenance", record.key, due)

    def apply_pending(self, record: InstanceRecord) -> None:
        """Apply every pending setting now: `modifying` (`upgrading` for an engine version), an outage for a class
        or engine change on Single-AZ (Multi-AZ fails over instead), then `storage-optimization` after a storage
        change and the first automated backup after backups are switched on."""
        if not record.pending:
            return
        members = dict(record.pending)
        record.pending.clear()
        record.next_maintenance = None
        record.applying.update(members)
        durations = self.durations
        outage = outage_of(set(members), members, record.retention_days)
        status = "upgrading" if "EngineVersion" in members else "modifying"
        # a new class or engine is a long step; switching backups on or off a short one (with an outage too)
        seconds = durations.rds_modify(bool(RESTARTING & set(members)))
        if members.get("MultiAZ") and not record.multi_az:
            seconds = max(seconds, durations.rds_multi_az(self.data_bytes(record) / GIB))
        phases: list[Phase] = []
        if outage and record.multi_az:
            failover = durations.rds_reboot(record.storage_gib, failover=True)
            phases.append(Phase(status, max(0.0, seconds - failover)))
            phases.append(Phase(status, failover, outage=True, then="applied", detail={"failover": True}))
        else:
            phases.append(Phase(status, seconds, outage=outage, then="applied"))
        if STORAGE_MEMBERS & set(members):
            storage = float(members.get("AllocatedStorage") or record.storage_gib)
            phases.append(Phase("storage-optimization", durations.rds_storage_optimization(storage)))
        self.event(record, "Applying modification to database instance", "configuration change")
        self.start_phases(record, phases)

    def _applied(self, record: InstanceRecord, phase: Phase) -> None:
        members, record.applying = dict(record.applying), {}
        for member in members:
            record.applied.pop(member, None)
        now = self.now()
        if phase.detail.get("failover") and record.secondary_az:
            record.az, record.secondary_az = record.secondary_az, record.az
        for member in ("DBInstanceClass", "EngineVersion", "AllocatedStorage", "StorageType", "Iops",
                       "StorageThroughput", "LicenseModel"):
            if member in members:
                record.attributes[member] = members[member]
        if STORAGE_MEMBERS & set(members):
            record.storage_changed_at = now
        if "MultiAZ" in members and bool(members["MultiAZ"]) != record.multi_az:
            record.multi_az = bool(members["MultiAZ"])
            record.secondary_az = standby_zone(record.az) if record.multi_az else None
            self.event(record, "Finished applying modification to convert to a Multi-AZ DB Instance"
                       if record.multi_az else "Finished applying modification to convert to a Single-AZ DB Instance",
                       "configuration change")
        self.event(record, "Finished applying modification to DB instance", "configuration change")
        if "BackupRetentionPeriod" in members:
            self.set_retention(record, int(members["BackupRetentionPeriod"] or 0))

    def set_retention(self, record: InstanceRecord, days: int) -> None:
        was, record.retention_days = record.retention_days, days
        if days > 0 and was == 0:
            self.start_backups(record)
        elif days == 0 and was > 0:
            self.stop_backups(record)

    # -- snapshots ---------------------------------------------------------------------------------------

    def _changed_since_last_snapshot(self, record: InstanceRecord, ref: DataRef) -> int | None:
        """The bytes a snapshot of `ref` copies beyond the instance's previous snapshot (None: it is the first, a
        full copy); that snapshot is the instance's latest from now on."""
        changed = self.store.changed_bytes(record.last_snapshot, ref) if record.last_snapshot is not None else None
        record.last_snapshot = ref
        return changed

    def take_snapshot(self, record: InstanceRecord, name: str, snapshot_type: str, arn: str | None = None, *,
                      busy: bool = True) -> SnapshotRecord:
        """A snapshot of the instance's data now: `creating` for its time (the first of an instance copies all
        its data, later ones what changed since the previous), a Single-AZ instance `backing-up` meanwhile."""
        now = self.now()
        ref = self.ref_now(record)
        written = self.data_bytes(record, ref)
        changed = self._changed_since_last_snapshot(record, ref)
        seconds = self.durations.rds_snapshot((written if changed is None else changed) / GIB)
        name = name.lower()
        snapshot = SnapshotRecord(record.region, name, arn or f"arn:aws:rds:{record.region}:{config.ACCOUNT_ID}:"
                                  f"snapshot:{name}", ref, record.name, snapshot_type, now, dict(record.attributes),
                                  status="creating", started=now, ready_at=now + seconds, data_bytes=written,
                                  dbi_resource_id=record.dbi_resource_id)
        self._add_snapshot(snapshot)
        kind = "manual" if snapshot_type == "manual" else "automated"
        self.snapshot_event(snapshot, f"Creating {kind} snapshot", "creation")
        if busy and not record.multi_az and not record.stopped:
            self.start_phases(record, [Phase("backing-up", seconds)])
        return snapshot

    def copy_snapshot(self, source: SnapshotRecord, region: str, name: str, arn: str) -> SnapshotRecord:
        """CopyDBSnapshot into `region`: `creating` (a cross-Region copy `pending` in the queue first). A copy to
        another Region is full the first time, incremental when an earlier copy of the same instance is still
        there; a copy of a copy is never incremental (RDS User Guide: Copying a DB snapshot)."""
        now = self.now()
        cross = source.region != region
        data = source.data_bytes
        if source.copied_from is None:
            earlier = [s for s in self.state.snapshots.values()
                       if s.region == region and s.instance == source.instance and s.copied_from is not None
                       and s.status == "available" and s.ref.history == source.ref.history]
            if earlier:
                changed = self.store.changed_bytes(max(earlier, key=lambda s: s.ref.position).ref, source.ref)
                data = data if changed is None else changed
        queue, creating = self.durations.rds_copy(data / GIB, cross_region=cross)
        copy = SnapshotRecord(region, name.lower(), arn, source.ref, source.instance, "manual", now,
                              dict(source.attributes), copied_from=source.arn,
                              status="pending" if queue > 0 else "creating", started=now + queue,
                              ready_at=now + queue + creating, data_bytes=source.data_bytes,
                              dbi_resource_id=source.dbi_resource_id)
        self._add_snapshot(copy)
        if cross:
            self.snapshot_event(source, "Started cross region DB snapshot copy", "notification")
        else:
            self.snapshot_event(copy, "Started DB snapshot copy", "notification")
        return copy

    def _add_snapshot(self, snapshot: SnapshotRecord) -> None:
        self.state.counter += 1
        snapshot.id = self.state.counter
        self.state.snapshots[snapshot.key] = snapshot
        if snapshot.status == "pending":
            self._timer(snapshot.started, "snapshot", snapshot.key, float(snapshot.id))
        if snapshot.status != "available":
            self._timer(snapshot.ready_at, "snapshot", snapshot.key, float(snapshot.id))

    def _snapshot_step(self, snapshot: SnapshotRecord, now: float) -> None:
        if snapshot.status == "pending" and now >= snapshot.started:
            snapshot.status = "creating"
        if snapshot.status == "creating" and now >= snapshot.ready_at:
            self._snapshot_ready(snapshot, now)

    def _snapshot_ready(self, snapshot: SnapshotRecord, now: float) -> None:
        if snapshot.status == "available":
            return
        snapshot.status = "available"
        snapshot.ready_at = min(snapshot.ready_at, now)
        if snapshot.copied_from:
            cross = ARN.match(snapshot.copied_from)
            self.snapshot_event(snapshot, "Finished cross region DB snapshot copy"
                                if cross and cross["region"] != snapshot.region else "Finished DB snapshot copy",
                                "notification")
        else:
            kind = {"manual": "Manual", "awsbackup": "Manual"}.get(snapshot.snapshot_type, "Automated")
            self.snapshot_event(snapshot, f"{kind} snapshot created", "creation")
        if snapshot.snapshot_type == "automated":
            record = self.known(snapshot.region, snapshot.instance)
            if record is not None and record.backups_pending:
                record.backups_pending = False
                record.backups_since = snapshot.created_at
        self.emit("DBSnapshotAvailable", region=snapshot.region, resource=snapshot.name,
                  snapshot_type=snapshot.snapshot_type)

    def snapshot_progress(self, snapshot: SnapshotRecord, now: float) -> int:
        if snapshot.status == "pending":
            return 0
        return progress(snapshot.started, snapshot.ready_at, now) if snapshot.status == "creating" else 100

    # -- read replicas -----------------------------------------------------------------------------------

    def promote(self, record: InstanceRecord, message: str) -> None:
        history = self.state.histories[record.history]
        follow = history.follows
        if follow is None or follow.until is not None:
            return
        now = self.now()
        history.origin = self.store.ref_at(follow.source, now - follow.lag)
        follow.until = now
        record.source = None
        self.store.forget(record.history)  # it held the source's rows; from now on its own journal
        self.event(record, message, "read replica")

    def replicas_of(self, record: InstanceRecord) -> list[InstanceRecord]:
        return [other for other in self.state.instances.values() if other.source == record.key]

    # -- automated backups -------------------------------------------------------------------------------

    def start_backups(self, record: InstanceRecord) -> None:
        """Backups switched on (or a new instance with them on): the first automated backup now, `backing-up`
        (after whatever the instance is doing), then one a day in the backup window."""
        record.backups_pending = True
        # (its length is the snapshot's, known when it begins: the data is measured then)
        self.start_phases(record, [Phase("backing-up", 0.0, begin="automated-backup", then="backup")])
        self.schedule_backup(record)

    def _take_automated_backup(self, record: InstanceRecord, phase: Phase) -> None:
        now = self.now()
        if record.retention_days == 0:  # switched off since it was queued
            phase.seconds = 0.0
            return
        name = f"rds:{record.name}-{epoch_dt(now).strftime('%Y-%m-%d-%H-%M')}"
        self.event(record, "Backing up DB instance", "backup")
        if f"{record.region}/{name}" in self.state.snapshots:
            return
        # the backend holds it too, so that its DescribeDBSnapshots lists it (False: a backend taking its own)
        self.sandbox.data.create_automated_db_snapshot(record.region, record.name, name)
        snapshot = self.take_snapshot(record, name, "automated", busy=False)
        phase.seconds = max(0.0, snapshot.ready_at - now)
        phase.detail["snapshot"] = snapshot.key

    def stop_backups(self, record: InstanceRecord) -> None:
        record.backups_since = None
        record.backups_pending = False
        record.next_backup = None
        self._drop_automated_snapshots(record)
        self.event(record, "Automated backups for this DB instance have been disabled", "backup")

    def schedule_backup(self, record: InstanceRecord) -> None:
        record.next_backup = windows.next_daily_start(record.backup_window, self.now())
        self._timer(record.next_backup, "backup", record.key, record.next_backup)

    def _daily_backup(self, record: InstanceRecord) -> None:
        now = self.now()
        self.schedule_backup(record)
        if record.stopped or not record.created or record.view is not None:
            return  # RDS takes no automated backup of a stopped (or unfinished, or deleting) instance
        self.start_phases(record, [Phase("backing-up", 0.0, begin="automated-backup", then="backup")])
        self._drop_automated_snapshots(record, older_than=now - record.retention_days * 86400)

    def _drop_automated_snapshots(self, record: InstanceRecord, older_than: float | None = None) -> None:
        for key, snapshot in list(self.state.snapshots.items()):
            if (snapshot.region == record.region and snapshot.instance == record.name
                    and snapshot.snapshot_type == "automated"
                    and (older_than is None or snapshot.created_at < older_than)):
                # (forgotten first: DeleteDBSnapshot refuses a learner an automated snapshot RDS still keeps)
                self.state.snapshots.pop(key, None)
                self._delete_backend_snapshot(record.region, snapshot.name)

    def drop_backend_automated_snapshots(self, region: str, name: str) -> None:
        """The backend takes an automated snapshot of every new instance at once; RDS takes the first when the
        instance is built (and none without retention)."""
        rds = self.sandbox.client("rds", region)
        with audit.unrecorded():
            shown = rds.describe_db_snapshots(DBInstanceIdentifier=name, SnapshotType="automated")["DBSnapshots"]
        for snapshot in shown:
            if f"{region}/{snapshot['DBSnapshotIdentifier']}" not in self.state.snapshots:
                self._delete_backend_snapshot(region, snapshot["DBSnapshotIdentifier"])

    def _delete_backend_snapshot(self, region: str, name: str) -> None:
        try:
            with audit.unrecorded():
                self.sandbox.client("rds", region).delete_db_snapshot(DBSnapshotIdentifier=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("DBSnapshotNotFound", "DBSnapshotNotFoundFault",
                                                     "InvalidDBSnapshotState"):
                raise

    def newest_automated_snapshot(self, record: InstanceRecord) -> tuple[float, int] | None:
        """(time, bytes) of the instance's newest available automated snapshot, or None."""
        found = [s for s in self.state.snapshots.values()
                 if s.region == record.region and s.instance == record.name and s.snapshot_type == "automated"
                 and s.status == "available"]
        newest = max(found, key=lambda s: s.created_at, default=None)
        return (newest.created_at, newest.data_bytes) if newest is not None else None

    def automated_snapshot_before(self, region: str, name: str, when: float) -> float | None:
        """The time of the latest automated snapshot of instance `name` taken at or before `when`."""
        times = [s.created_at for s in self.state.snapshots.values()
                 if s.region == region and s.instance == name and s.snapshot_type == "automated"
                 and s.created_at <= when]
        return max(times) if times else None

    # -- deletion and retained automated backups ---------------------------------------------------------

    def start_deleting(self, record: InstanceRecord, view: dict[str, Any], final: SnapshotRecord | None,
                       keep_backups: bool) -> None:
        """DeleteDBInstance: `deleting` until the final snapshot exists (and a little longer); automated backups
        are removed, or retained for the retention period (DeleteAutomatedBackups false)."""
        now = self.now()
        record.view = view
        record.pending.clear()
        record.applying.clear()
        if keep_backups and record.retention_days > 0 and record.backups_since is not None:
            latest = self.latest_restorable(record, now)
            retained = RetainedBackup(
                record.region, record.name, record.arn, record.dbi_resource_id,
                automated_backups_arn(record.region, record.dbi_resource_id), record.history, record.retention_days,
                self.earliest_restorable(record, now), latest, now, record.created_at, dict(record.attributes),
                record.az, record.backup_window)
            self.state.retained[retained.dbi_resource_id] = retained
            self._timer(now + record.retention_days * 86400, "retained-expiry", retained.dbi_resource_id, now)
        else:
            self._drop_automated_snapshots(record)
        self.replications.source_deleted(record)
        seconds = self.durations.rds_delete(None)
        if final is not None:
            seconds += max(0.0, final.ready_at - now)
        record.phases = []
        self.start_phases(record, [Phase("deleting", seconds, outage=True, then="deleted")])

    def _deleted(self, record: InstanceRecord) -> None:
        self.event(record, "DB instance deleted", "deletion")
        self.state.instances.pop(record.key, None)
        self.store.forget(record.history)
        self.emit("DBInstanceDeleted", region=record.region, resource=record.name)

    def find_retained(self, dbi_resource_id: str | None = None, arn: str | None = None) -> RetainedBackup | None:
        for retained in self.state.retained.values():
            if (dbi_resource_id and retained.dbi_resource_id == dbi_resource_id) or (arn and retained.arn == arn):
                return retained
        return None

    def forget_retained(self, retained: RetainedBackup) -> None:
        self.state.retained.pop(retained.dbi_resource_id, None)
        for key, snapshot in list(self.state.snapshots.items()):
            if (snapshot.region == retained.region and snapshot.instance == retained.name
                    and snapshot.snapshot_type == "automated" and self.known(retained.region, retained.name) is None):
                self.state.snapshots.pop(key, None)  # (first: see _drop_automated_snapshots)
                self._delete_backend_snapshot(retained.region, snapshot.name)

    # -- events ------------------------------------------------------------------------------------------

    def event(self, record: InstanceRecord, message: str, category: str) -> None:
        self._append_event(record.region, RdsEvent(self.now(), record.name, "db-instance", message, [category],
                                                   record.arn))
        self.emit("RdsEvent", region=record.region, resource=record.name, message=message, category=category)

    def snapshot_event(self, snapshot: SnapshotRecord, message: str, category: str) -> None:
        self._append_event(snapshot.region, RdsEvent(self.now(), snapshot.name, "db-snapshot", message, [category],
                                                     snapshot.arn))

    def _append_event(self, region: str, event: RdsEvent) -> None:
        events = self.state.events.setdefault(region, [])
        events.append(event)
        if events[0].time < event.time - EVENT_RETENTION_SECONDS:
            self.state.events[region] = [e for e in events if e.time >= event.time - EVENT_RETENTION_SECONDS]

    # -- time --------------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        timers = self.state.timers
        if not timers:
            return None  # (asked before every step of an advance: no exception for the usual answer)
        try:
            return timers[0][0]
        except IndexError:  # the ticker asks from another thread; an emptied heap just means nothing is due
            return None

    def run_due(self, now: float) -> None:
        timers = self.state.timers
        while timers and timers[0][0] <= now:
            due, _, kind, key, token = heapq.heappop(timers)
            if kind == "snapshot":
                snapshot = self.state.snapshots.get(key)
                if snapshot is not None and snapshot.id == int(token):
                    self._snapshot_step(snapshot, due)
                continue
            if kind == "retained-expiry":
                retained = self.state.retained.get(key)
                if retained is not None and retained.deleted_at == token:
                    self.forget_retained(retained)
                continue
            if kind == REPLICATED_EXPIRY:
                self.replications.expire(key, token)
                continue
            record = self.state.instances.get(key)
            if record is None:
                continue
            if kind == "phase" and record.phases and record.phases[0].id == int(token):
                self._end_phase(record, due)
            elif kind == "backup" and record.next_backup == token and record.retention_days > 0:
                self._daily_backup(record)
            elif kind == "maintenance" and record.next_maintenance == token and record.pending:
                self.apply_pending(record)
            elif kind == "az-swap" and record.az_swap_at == token:
                self._swap_zones(record)
            elif kind == "auto-start" and record.stopped and record.auto_start_at == token:
                # "If you don't manually start your DB instance after seven days, RDS automatically starts your
                # DB instance" (RDS User Guide: Stopping an Amazon RDS DB instance temporarily)
                self.event(record, "DB instance is being started due to it exceeding the maximum allowed time "
                                   "being stopped.", "notification")
                self.client("rds", record.region).start_db_instance(DBInstanceIdentifier=record.name)

    # -- stopping and starting -----------------------------------------------------------------------

    def stop(self, record: InstanceRecord, snapshot: str | None) -> None:
        """StopDBInstance: its snapshot first when one is asked for ("created immediately before the DB instance
        is stopped", API Reference), then `stopping` for rds.stop, then `stopped`; no connections meanwhile."""
        if snapshot:
            self.take_snapshot(record, snapshot, "manual", busy=False)
        self.start_phases(record, [Phase("stopping", self.durations.rds_stop(), outage=True, then="stopped")])

    def start(self, record: InstanceRecord) -> None:
        """StartDBInstance: `starting` for rds.start, then `available`."""
        record.stopped, record.auto_start_at = False, None
        self.start_phases(record, [Phase("starting", self.durations.rds_start(), outage=True, then="started")])

    def _timer(self, due: float, kind: str, key: str, token: float) -> None:
        self.state.counter += 1
        heapq.heappush(self.state.timers, (due, self.state.counter, kind, key, token))

    def schedule(self, due: float, kind: str, key: str, token: float) -> None:
        """A timer of another part of RDS (run_due hands `kind`'s to it)."""
        self._timer(due, kind, key, token)

    # -- helpers -----------------------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        self.state.counter += 1
        return f"{prefix}{self.state.counter}"

    def known(self, region: str, name: Any) -> InstanceRecord | None:
        return self.state.instances.get(f"{region}/{str(name or '').lower()}")

    def _existing(self, region: str, name: str) -> InstanceRecord:
        record = self.known(region, name)
        if record is None:
            known = sorted(r.name for r in self.state.instances.values() if r.region == region)
            raise SqlError(f"no DB instance {name!r} in {region} (instances there: {', '.join(known) or 'none'})")
        return record

    def _by_arn(self, arn: str) -> InstanceRecord | None:
        return next((record for record in self.state.instances.values() if record.arn == arn), None)

    def by_resource_id(self, dbi_resource_id: str) -> InstanceRecord | None:
        return next((r for r in self.state.instances.values() if r.dbi_resource_id == dbi_resource_id), None)

    def ref_now(self, record: InstanceRecord) -> DataRef:
        return self.store.ref_at(record.history, self.now())

    def data_bytes(self, record: InstanceRecord, ref: DataRef | None = None) -> int:
        """The data the instance holds (at `ref`, now by default): what its first snapshot copies."""
        return self.store.size_bytes(record.history, ref or self.ref_now(record))

    def unavailable(self, record: InstanceRecord, now: float) -> bool:
        """The database does not answer (SQL refused, the shop's orders lost)."""
        return (record.stopped or record.unreachable or record.region in self.state.regions_down
                or bool(record.phases and record.phases[0].outage))

    def status_word(self, record: InstanceRecord, now: float) -> str:
        if record.phases or record.stopped:
            return self.status(record)
        if record.unreachable or record.region in self.state.regions_down:
            return "unreachable"
        return "available"

    @staticmethod
    def earliest_restorable(record: InstanceRecord, now: float) -> float:
        return max(record.backups_since or now, now - record.retention_days * 86400)

    def latest_restorable(self, record: InstanceRecord, now: float) -> float:
        lag = self.durations["rds.log_upload_interval"] * self.durations["scale"]
        return max(record.backups_since or now, now - lag)

    def describe(self) -> dict[str, Any]:
        state = self.state
        busy = {f"{record.region}/{record.name}": self.status(record) for record in state.instances.values()
                if record.phases}
        return {"instances": len(state.instances), "snapshots": len(state.snapshots),
                "journaled_changes": sum(len(h.journal) for h in state.histories.values()),
                "primary": "/".join(state.primary), "in_progress": busy,
                "retained_automated_backups": len(state.retained)}


def instance_attributes(shown: dict[str, Any]) -> dict[str, Any]:
    keep = ("DBInstanceClass", "Engine", "EngineVersion", "AllocatedStorage", "MasterUsername", "DBName",
            "StorageType", "StorageEncrypted", "KmsKeyId", "Iops", "CopyTagsToSnapshot", "PubliclyAccessible",
            "DeletionProtection", "LicenseModel", "StorageThroughput")
    found = {key: shown[key] for key in keep if shown.get(key) is not None}
    port = (shown.get("Endpoint") or {}).get("Port") or shown.get("DbInstancePort")
    if port:
        found["Port"] = port
    return found


def creation_request(name: str, attributes: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """CreateDBInstance's parameters for a new instance built like `attributes` (an instance's, a backup's),
    with `overrides` (a restore's parameters, AWS Backup's restore metadata: strings or typed values)."""
    request: dict[str, Any] = {
        "DBInstanceIdentifier": name,
        "DBInstanceClass": overrides.get("DBInstanceClass") or attributes.get("DBInstanceClass", "db.t3.micro"),
        "Engine": overrides.get("Engine") or attributes.get("Engine", "postgres"),
    }
    for key in ("EngineVersion", "MasterUsername", "DBName", "StorageType", "KmsKeyId", "LicenseModel"):
        value = overrides.get(key) or attributes.get(key)
        if value:
            request[key] = value
    for key in ("AvailabilityZone", "DBSubnetGroupName", "OptionGroupName", "PreferredBackupWindow",
                "Tags", "VpcSecurityGroupIds"):  # where it goes, not what it was
        value = overrides.get(key)
        if value:
            request[key] = value
    for key in ("AllocatedStorage", "Port", "BackupRetentionPeriod", "Iops"):
        value = overrides.get(key)
        value = attributes.get(key) if value in (None, "") else value
        if value not in (None, ""):
            request[key] = int(value)
    for key in ("MultiAZ", "StorageEncrypted", "PubliclyAccessible", "DeletionProtection", "CopyTagsToSnapshot"):
        value = overrides.get(key, attributes.get(key))
        if value is not None:
            request[key] = value if isinstance(value, bool) else str(value).lower() == "true"
    return request


def snapshot_view(snapshot: SnapshotRecord, source: InstanceRecord | None) -> dict[str, Any]:
    """A DBSnapshot as DescribeDBSnapshots shows it, for a snapshot only the lab holds (AWS Backup's)."""
    attributes = snapshot.attributes
    view: dict[str, Any] = {
        "DBSnapshotIdentifier": snapshot.name, "DBInstanceIdentifier": snapshot.instance,
        "SnapshotCreateTime": epoch_dt(snapshot.created_at), "Engine": attributes.get("Engine"),
        "AllocatedStorage": attributes.get("AllocatedStorage"), "Port": attributes.get("Port"),
        "AvailabilityZone": source.az if source is not None else f"{snapshot.region}a",
        "MasterUsername": attributes.get("MasterUsername"), "EngineVersion": attributes.get("EngineVersion"),
        "LicenseModel": attributes.get("LicenseModel", "postgresql-license"), "SnapshotType": snapshot.snapshot_type,
        "StorageType": attributes.get("StorageType"), "Encrypted": bool(attributes.get("StorageEncrypted")),
        "DBSnapshotArn": snapshot.arn, "IAMDatabaseAuthenticationEnabled": False, "TagList": [],
        "OriginalSnapshotCreateTime": epoch_dt(snapshot.created_at),
    }
    if attributes.get("KmsKeyId"):
        view["KmsKeyId"] = attributes["KmsKeyId"]
    if source is not None:
        view["InstanceCreateTime"] = epoch_dt(source.created_at)
        view["DbiResourceId"] = source.dbi_resource_id
    return {key: value for key, value in view.items() if value is not None}


def standby_zone(az: str) -> str:
    region, letter = az[:-1], az[-1]
    return region + ("b" if letter == "a" else "a")


def epoch_dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)

