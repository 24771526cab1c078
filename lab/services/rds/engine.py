"""The RDS data plane: every DB instance holds real rows, and RDS's recovery features act on them.

moto keeps RDS metadata only (research/emulators.md). This engine answers the RDS calls that touch data
or availability -- passing each to the backend for the metadata, then doing what AWS would do with the
rows and patching what moto shows wrong -- and keeps the rows themselves (lab.services.rds.store):
  - automated backups exist only while BackupRetentionPeriod > 0; point-in-time restore is refused outside
    [earliest, latest restorable time], and LatestRestorableTime trails now by about five minutes;
  - snapshots (manual, automated, final, cross-region copies) capture the data of their moment; restores
    from them and to a point in time create a new instance holding exactly that data;
  - read replicas (also cross-region) follow their source with a lag and can be promoted;
  - Multi-AZ shows its standby's zone; a reboot with failover is an outage of 60-120 s, after which the
    zones have swapped; inserts are refused while an instance is down;
  - DescribeEvents answers from the events recorded here, in sim time.
`lab sql` (POST /_lab/sql) queries or changes an instance's rows; GET /_lab/rds/digests summarises them.
"""

from __future__ import annotations

import heapq
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from lab import config, world
from lab.kernel.engine import Engine
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

RESTORE_LAG_SECONDS = 300.0  # LatestRestorableTime trails now by about five minutes
FAILOVER_SECONDS = (60, 120)  # a Multi-AZ failover completes in one to two minutes
REBOOT_SECONDS = (20, 40)
REPLICA_LAG_SECONDS = {True: 2.0, False: 12.0}  # same region, cross-region
EVENT_RETENTION_SECONDS = 14 * 86400  # RDS keeps events for 14 days
DEFAULT_EVENT_MINUTES = 60  # DescribeEvents without a time range: the past hour
ARN = re.compile(r"^arn:[\w-]+:rds:(?P<region>[\w-]+):\d{12}:(?P<kind>[\w-]+):(?P<name>.+)$")
_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


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
    kind: str  # failover | reboot
    started: float
    ends: float
    az_after: str
    secondary_after: str | None


@dataclass
class InstanceRecord:
    region: str
    name: str
    arn: str
    history: str
    created_at: float
    attributes: dict[str, Any]  # what a restore needs: engine, class, storage, port, ...
    retention_days: int = 0
    backups_since: float | None = None
    backup_window: str = ""
    next_backup: float | None = None
    multi_az: bool = False
    az: str = ""
    secondary_az: str | None = None
    stopped: bool = False
    unreachable: bool = False  # its zone or region is down (failure injection)
    outage: Outage | None = None
    source: str | None = None  # key of the source instance while this is a read replica
    outages: int = 0

    @property
    def key(self) -> str:
        return f"{self.region}/{self.name}"


@dataclass
class SnapshotRecord:
    region: str
    name: str
    arn: str
    ref: DataRef
    instance: str  # the source instance's identifier
    snapshot_type: str  # manual | automated
    created_at: float
    attributes: dict[str, Any]
    copied_from: str | None = None  # the source snapshot's ARN, for a copy


@dataclass(frozen=True)
class RdsRecovery:
    """What an AWS Backup recovery point of a DB instance holds: where its data is, and how it was built."""

    ref: DataRef
    attributes: tuple[tuple[str, Any], ...]
    source_arn: str
    taken_at: float


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


class RdsData(Engine):
    name = "rds-data"
    service_principal = "rds.amazonaws.com"  # CloudTrail shows its calls as made by this AWS service
    order = 20

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._store: DataStore | None = None
        self._pending_origin: DataRef | None = None  # set by restore_resource for the create it makes
        self._digest_store: DataStore | None = None
        self._digest_memo: dict[DataRef, dict[str, Any]] = {}  # orders digests by the rows they were read from

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

    def take_pending_origin(self) -> DataRef | None:
        """The data the instance being created now starts from (set by restore_resource for its own create)."""
        origin, self._pending_origin = self._pending_origin, None
        return origin

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

    # -- SQL ---------------------------------------------------------------------------------------------

    def run_sql(self, region: str, name: str, sql: str, write: bool,
                parameters: Parameters = ()) -> QueryResult | None:
        """Run a statement on an instance. With `write` False: a read answers; a write is checked (SqlError
        when it would fail) and answers None, and the caller runs it again with `write` True, journaled.
        `parameters` are bound to the statement's `?` placeholders (and journaled with it)."""
        record = self._existing(region, name)
        now = self.now()
        if self.unavailable(record, now):
            raise SqlError(f'could not connect to server: DB instance "{record.name}" in {region} is '
                           f"{self.status_word(record, now)}")
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
            ref = self.ref_now(record)
            cached = self._digest_memo.get(ref)
            if cached is None:
                # (read once per version of the rows: a month of orders is 50,000 of them)
                if len(self._digest_memo) >= 64:
                    self._digest_memo.clear()
                cached = self._digest_memo[ref] = orders_digest(store.connection(record.history, ref))
            summary = dict(cached)
            summary.update(status=self.status_word(record, now), read_replica_of=record.source,
                           history_changes=len(self.state.histories[record.history].journal),
                           rows_version=[ref.history, ref.position])
            found.setdefault(record.region, {})[record.name] = summary
        return found

    # -- AWS Backup's contract ---------------------------------------------------------------------------

    def backup_resource_types(self) -> set[str]:
        return {"RDS"}

    def backup_resource(self, arn: str) -> RdsRecovery:
        record = self._by_arn(arn)
        if record is None:
            raise ValueError(f"no DB instance {arn} in this sandbox")
        return RdsRecovery(self.ref_now(record), tuple(sorted(record.attributes.items())), record.arn, self.now())

    def restore_resource(self, data: RdsRecovery, metadata: dict[str, str], region: str) -> str:
        """Create a new DB instance holding exactly `data` (keys of `metadata` as AWS Backup's RDS restore
        metadata); returns its ARN."""
        name = metadata.get("DBInstanceIdentifier")
        if not name:
            raise ValueError("restoring an RDS recovery point needs DBInstanceIdentifier in its metadata")
        attributes = dict(data.attributes)
        request: dict[str, Any] = {
            "DBInstanceIdentifier": name,
            "DBInstanceClass": metadata.get("DBInstanceClass") or attributes.get("DBInstanceClass", "db.t3.micro"),
            "Engine": metadata.get("Engine") or attributes.get("Engine", "postgres"),
        }
        for key in ("EngineVersion", "MasterUsername", "DBName", "StorageType", "KmsKeyId"):
            value = metadata.get(key) or attributes.get(key)
            if value:
                request[key] = value
        for key in ("AvailabilityZone", "DBSubnetGroupName", "OptionGroupName"):  # where it goes, not what it was
            value = metadata.get(key)
            if value:
                request[key] = value
        for key in ("AllocatedStorage", "Port", "BackupRetentionPeriod", "Iops"):
            value = metadata.get(key) or attributes.get(key)
            if value not in (None, ""):
                request[key] = int(value)
        for key in ("MultiAZ", "StorageEncrypted", "PubliclyAccessible", "DeletionProtection", "CopyTagsToSnapshot"):
            value = metadata.get(key, attributes.get(key))
            if value is not None:
                request[key] = value if isinstance(value, bool) else str(value).lower() == "true"
        request["MasterUserPassword"] = "restored-by-aws-backup"
        self._pending_origin = data.ref
        try:
            answer = self.sandbox.client("rds", region).create_db_instance(**request)
        finally:
            self._pending_origin = None
        arn = answer["DBInstance"]["DBInstanceArn"]
        record = self._by_arn(arn)
        if record is not None:
            self.event(record, f"Restored from an AWS Backup recovery point of {data.source_arn}", "restoration")
        return arn

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
        record = InstanceRecord(
            region=region, name=name, arn=shown["DBInstanceArn"], history=history_id, created_at=now,
            attributes=instance_attributes(shown), retention_days=int(shown.get("BackupRetentionPeriod") or 0),
            backup_window=shown.get("PreferredBackupWindow", ""), multi_az=multi_az, az=az,
            secondary_az=standby_zone(az) if multi_az else None)
        self.state.instances[record.key] = record
        return record

    def begin_outage(self, record: InstanceRecord, kind: str) -> None:
        """A reboot (kind "reboot") or a Multi-AZ failover ("failover"): down now, up again 20-120 s later."""
        now = self.now()
        record.outages += 1
        rng = random.Random(f"{self.sandbox.lab.seed}:rds-outage:{record.key}:{record.outages}")
        low, high = FAILOVER_SECONDS if kind == "failover" else REBOOT_SECONDS
        seconds = rng.uniform(low, high)
        az, secondary = (record.secondary_az or record.az, record.az) if kind == "failover" else \
            (record.az, record.secondary_az)
        record.outage = Outage(kind, now, now + seconds, az, secondary)
        self._timer(now + seconds, "outage-end", record.key, now)
        if kind == "failover":
            self.event(record, "Multi-AZ instance failover started.", "failover")
        else:
            self.event(record, "DB instance shutdown", "availability")

    def _end_outage(self, record: InstanceRecord) -> None:
        outage = record.outage
        assert outage is not None
        record.az, record.secondary_az = outage.az_after, outage.secondary_after
        record.outage = None
        if outage.kind == "failover":
            self.event(record, "Multi-AZ instance failover completed.", "failover")
        self.event(record, "DB instance restarted", "availability")

    # -- snapshots ---------------------------------------------------------------------------------------

    def record_snapshot(self, region: str, name: str, ref: DataRef, record: InstanceRecord, snapshot_type: str,
                         arn: str | None = None) -> SnapshotRecord:
        name = name.lower()
        snapshot = SnapshotRecord(region, name, arn or f"arn:aws:rds:{region}:{config.ACCOUNT_ID}:snapshot:{name}",
                                  ref, record.name, snapshot_type, self.now(), dict(record.attributes))
        self.state.snapshots[f"{region}/{name}"] = snapshot
        if snapshot_type == "manual":
            self.snapshot_event(snapshot, "Creating manual snapshot", "creation")
            self.snapshot_event(snapshot, "Manual snapshot created", "creation")
        else:
            self.snapshot_event(snapshot, "Creating automated snapshot", "creation")
            self.snapshot_event(snapshot, "Automated snapshot created", "creation")
        return snapshot

    # -- restores ----------------------------------------------------------------------------------------

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

    def start_backups(self, record: InstanceRecord, snapshot_taken_by_backend: bool) -> None:
        """Backups switched on: the first backup now, then one a day in the backup window."""
        now = self.now()
        record.backups_since = now
        name = f"rds:{record.name}-{epoch_dt(now).strftime('%Y-%m-%d-%H-%M')}"
        self.event(record, "Backing up DB instance", "backup")
        taken = snapshot_taken_by_backend or self._take_automated_snapshot(record, name)
        if taken:
            self.record_snapshot(record.region, name, self.ref_now(record), record, "automated")
        self.event(record, "Finished DB Instance backup", "backup")
        self._schedule_backup(record)

    def stop_backups(self, record: InstanceRecord) -> None:
        record.backups_since = None
        record.next_backup = None
        self._drop_automated_snapshots(record)
        self.event(record, "Automated backups for this DB instance have been disabled", "backup")

    def _schedule_backup(self, record: InstanceRecord) -> None:
        record.next_backup = _next_window_start(record.backup_window, self.now())
        self._timer(record.next_backup, "backup", record.key, record.next_backup)

    def _daily_backup(self, record: InstanceRecord) -> None:
        now = self.now()
        if record.stopped:  # RDS takes no automated backup of a stopped instance
            self._schedule_backup(record)
            return
        name = f"rds:{record.name}-{epoch_dt(now).strftime('%Y-%m-%d-%H-%M')}"
        self.event(record, "Backing up DB instance", "backup")
        if self._take_automated_snapshot(record, name):
            self.record_snapshot(record.region, name, self.ref_now(record), record, "automated")
        self.event(record, "Finished DB Instance backup", "backup")
        expired = now - record.retention_days * 86400
        self._drop_automated_snapshots(record, older_than=expired)
        self._schedule_backup(record)

    def _take_automated_snapshot(self, record: InstanceRecord, name: str) -> bool:
        if f"{record.region}/{name}" in self.state.snapshots:
            return False
        return self.sandbox.data.create_automated_db_snapshot(record.region, record.name, name)

    def _drop_automated_snapshots(self, record: InstanceRecord, older_than: float | None = None) -> None:
        for key, snapshot in list(self.state.snapshots.items()):
            if (snapshot.region == record.region and snapshot.instance == record.name
                    and snapshot.snapshot_type == "automated"
                    and (older_than is None or snapshot.created_at < older_than)):
                self._delete_backend_snapshot(record.region, snapshot.name)
                self.state.snapshots.pop(key, None)

    def drop_backend_automated_snapshots(self, region: str, name: str) -> None:
        """The backend takes an automated snapshot of every new instance; AWS takes none without retention."""
        rds = self.sandbox.client("rds", region)
        for snapshot in rds.describe_db_snapshots(DBInstanceIdentifier=name, SnapshotType="automated")["DBSnapshots"]:
            self._delete_backend_snapshot(region, snapshot["DBSnapshotIdentifier"])

    def _delete_backend_snapshot(self, region: str, name: str) -> None:
        try:
            self.sandbox.client("rds", region).delete_db_snapshot(DBSnapshotIdentifier=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("DBSnapshotNotFound", "DBSnapshotNotFoundFault",
                                                     "InvalidDBSnapshotState"):
                raise

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
            _, _, kind, key, token = heapq.heappop(timers)
            record = self.state.instances.get(key)
            if record is None:
                continue
            if kind == "outage-end" and record.outage is not None and record.outage.started == token:
                self._end_outage(record)
            elif kind == "backup" and record.next_backup == token and record.retention_days > 0:
                self._daily_backup(record)

    def _timer(self, due: float, kind: str, key: str, token: float) -> None:
        self.state.counter += 1
        heapq.heappush(self.state.timers, (due, self.state.counter, kind, key, token))

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

    def ref_now(self, record: InstanceRecord) -> DataRef:
        return self.store.ref_at(record.history, self.now())

    @staticmethod
    def in_outage(record: InstanceRecord, now: float) -> bool:
        return record.outage is not None and now < record.outage.ends

    def unavailable(self, record: InstanceRecord, now: float) -> bool:
        return (record.stopped or record.unreachable or record.region in self.state.regions_down
                or self.in_outage(record, now))

    def status_word(self, record: InstanceRecord, now: float) -> str:
        if record.stopped:
            return "stopped"
        if self.in_outage(record, now):
            return "rebooting"
        if record.unreachable or record.region in self.state.regions_down:
            return "unreachable"
        return "available"

    @staticmethod
    def zones(record: InstanceRecord, now: float) -> tuple[str, str | None]:
        outage = record.outage
        if outage is not None and now >= outage.ends:  # finished, even if the clock has not played it yet
            return outage.az_after, outage.secondary_after
        return record.az, record.secondary_az

    @staticmethod
    def earliest_restorable(record: InstanceRecord, now: float) -> float:
        return max(record.backups_since or now, now - record.retention_days * 86400)

    @staticmethod
    def latest_restorable(record: InstanceRecord, now: float) -> float:
        return max(record.backups_since or now, now - RESTORE_LAG_SECONDS)

    def describe(self) -> dict[str, Any]:
        state = self.state
        return {"instances": len(state.instances), "snapshots": len(state.snapshots),
                "journaled_changes": sum(len(h.journal) for h in state.histories.values()),
                "primary": "/".join(state.primary)}


def instance_attributes(shown: dict[str, Any]) -> dict[str, Any]:
    keep = ("DBInstanceClass", "Engine", "EngineVersion", "AllocatedStorage", "MasterUsername", "DBName",
            "StorageType", "StorageEncrypted", "KmsKeyId", "Iops", "CopyTagsToSnapshot", "PubliclyAccessible",
            "DeletionProtection")
    found = {key: shown[key] for key in keep if shown.get(key) is not None}
    port = (shown.get("Endpoint") or {}).get("Port") or shown.get("DbInstancePort")
    if port:
        found["Port"] = port
    return found


def standby_zone(az: str) -> str:
    region, letter = az[:-1], az[-1]
    return region + ("b" if letter == "a" else "a")


def _next_window_start(window: str, now: float) -> float:
    """The next start of a daily UTC window such as '03:00-03:30' after `now` (a day from now if malformed)."""
    match = _WINDOW.match(window or "")
    if match is None:
        return now + 86400
    moment = epoch_dt(now)
    start = moment.replace(hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0).timestamp()
    return start if start > now else start + 86400


def epoch_dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)
