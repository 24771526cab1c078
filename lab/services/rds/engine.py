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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from lab import config, world
from lab.gateway.codec.errors import aws_error
from lab.gateway.codec.query import epoch_dt, parse_response, request_params, serialize_response
from lab.kernel.context import RequestContext, Response
from lab.kernel.engine import Engine
from lab.services.rds.store import (
    ORDER,
    ORDERS_SCHEMA,
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
from lab.sim.clock import iso

RESTORE_LAG_SECONDS = 300.0  # LatestRestorableTime trails now by about five minutes
FAILOVER_SECONDS = (60, 120)  # a Multi-AZ failover completes in one to two minutes
REBOOT_SECONDS = (20, 40)
REPLICA_LAG_SECONDS = {True: 2.0, False: 12.0}  # same region, cross-region
EVENT_RETENTION_SECONDS = 14 * 86400  # RDS keeps events for 14 days
DEFAULT_EVENT_MINUTES = 60  # DescribeEvents without a time range: the past hour
_ARN = re.compile(r"^arn:[\w-]+:rds:(?P<region>[\w-]+):\d{12}:(?P<kind>[\w-]+):(?P<name>.+)$")
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

    #: the RDS operations this engine answers (passing each to the backend first where it keeps metadata)
    HANDLERS: ClassVar[dict[str, str]] = {
        "CreateDBInstance": "_create_db_instance", "DeleteDBInstance": "_delete_db_instance",
        "ModifyDBInstance": "_modify_db_instance", "RebootDBInstance": "_reboot_db_instance",
        "StopDBInstance": "_stop_db_instance", "StartDBInstance": "_start_db_instance",
        "DescribeDBInstances": "_describe_db_instances", "CreateDBSnapshot": "_create_db_snapshot",
        "CopyDBSnapshot": "_copy_db_snapshot", "DeleteDBSnapshot": "_delete_db_snapshot",
        "DescribeDBSnapshots": "_describe_db_snapshots",
        "RestoreDBInstanceFromDBSnapshot": "_restore_db_instance_from_db_snapshot",
        "RestoreDBInstanceToPointInTime": "_restore_db_instance_to_point_in_time",
        "CreateDBInstanceReadReplica": "_create_db_instance_read_replica",
        "PromoteReadReplica": "_promote_read_replica", "DescribeEvents": "_describe_events",
        "DescribeDBInstanceAutomatedBackups": "_describe_db_instance_automated_backups",
    }

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

    # -- the shop's writes -----------------------------------------------------------------------------

    def insert_order(self, order: dict[str, Any]) -> bool:
        """The workload's INSERT into the primary orders database; False when it cannot be stored."""
        state, now = self.state, self.now()
        record = state.instances.get("/".join(state.primary))
        if record is None or record.source is not None or self._unavailable(record, now):
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
            self._event(record, "Unable to reach the DB instance." if not available
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
        if self._unavailable(record, now):
            raise SqlError(f'could not connect to server: DB instance "{record.name}" in {region} is '
                           f"{self._status_word(record, now)}")
        if write:
            statement = check_replayable(sql)
            payload = (statement, tuple(parameters)) if parameters else statement
            return self.store.append(record.history, (now, SQL, payload))
        connection = self.store.connection(record.history, self._ref_now(record))
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
            ref = self._ref_now(record)
            cached = self._digest_memo.get(ref)
            if cached is None:
                # (read once per version of the rows: a month of orders is 50,000 of them)
                if len(self._digest_memo) >= 64:
                    self._digest_memo.clear()
                cached = self._digest_memo[ref] = orders_digest(store.connection(record.history, ref))
            summary = dict(cached)
            summary.update(status=self._status_word(record, now), read_replica_of=record.source,
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
        return RdsRecovery(self._ref_now(record), tuple(sorted(record.attributes.items())), record.arn, self.now())

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
            self._event(record, f"Restored from an AWS Backup recovery point of {data.source_arn}", "restoration")
        return arn

    # -- the request path --------------------------------------------------------------------------------

    def handles(self, ctx: RequestContext) -> bool:
        identity = ctx.identity
        return identity is not None and identity.service == "rds" and identity.operation in self.HANDLERS

    def serve(self, ctx: RequestContext) -> None:
        operation = ctx.identity.operation  # type: ignore[union-attr]
        handler: Callable[[RequestContext, dict[str, Any], str], None] = getattr(self, self.HANDLERS[operation])
        handler(ctx, request_params(ctx, operation), ctx.identity.region)  # type: ignore[union-attr]

    def _forward(self, ctx: RequestContext) -> dict[str, Any] | None:
        """Let the backend answer; its answer's members when it succeeded."""
        self.sandbox.backend.dispatch(ctx)
        response = ctx.response
        if response is None or response.status >= 400:
            return None
        return parse_response(ctx.identity.operation, response.body_bytes())[0]  # type: ignore[union-attr]

    def _refuse(self, ctx: RequestContext, status: int, code: str, message: str) -> None:
        error = aws_error(ctx.identity, status, code, message)
        ctx.response = Response(error.status, list(error.headers), error.body)

    def _rewrite(self, ctx: RequestContext, edit: Callable[[dict[str, Any]], None]) -> None:
        response = ctx.response
        if response is None or response.status >= 400:
            return
        operation = ctx.identity.operation  # type: ignore[union-attr]
        result, request_id = parse_response(operation, response.body_bytes())
        edit(result)
        response.body = serialize_response(operation, result, request_id or ctx.request_id)

    def _present(self, ctx: RequestContext) -> None:
        """Show every DB instance in the answer as this engine knows it."""
        region = ctx.identity.region  # type: ignore[union-attr]

        def edit(result: dict[str, Any]) -> None:
            for instance in ([result["DBInstance"]] if "DBInstance" in result else result.get("DBInstances", [])):
                self._patch_instance(instance, region)

        self._rewrite(ctx, edit)

    def _patch_instance(self, shown: dict[str, Any], region: str) -> None:
        record = self.state.instances.get(f"{region}/{shown.get('DBInstanceIdentifier', '')}")
        if record is None:
            return
        now = self.now()
        if self._in_outage(record, now):
            shown["DBInstanceStatus"] = "rebooting"
        az, secondary = self._zones(record, now)
        shown["AvailabilityZone"] = az
        shown["MultiAZ"] = record.multi_az
        if record.multi_az and secondary:
            shown["SecondaryAvailabilityZone"] = secondary
        else:
            shown.pop("SecondaryAvailabilityZone", None)
        if record.retention_days > 0 and record.backups_since is not None:
            shown["LatestRestorableTime"] = epoch_dt(self._latest_restorable(record, now))
        else:
            shown.pop("LatestRestorableTime", None)
        source = self.state.instances.get(record.source) if record.source else None
        if source is not None:
            shown["ReadReplicaSourceDBInstanceIdentifier"] = (source.name if source.region == region else source.arn)
            shown["StatusInfos"] = [{"StatusType": "read replication", "Normal": True, "Status": "replicating"}]
        else:
            shown.pop("ReadReplicaSourceDBInstanceIdentifier", None)
            shown.pop("StatusInfos", None)
        shown["ReadReplicaDBInstanceIdentifiers"] = [
            replica.name if replica.region == region else replica.arn
            for replica in self._replicas_of(record)]

    # -- instances ---------------------------------------------------------------------------------------

    def _create_db_instance(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        origin, self._pending_origin = self._pending_origin, None
        result = self._forward(ctx)
        if result is None:
            return
        shown = result["DBInstance"]
        now = self.now()
        record = self._new_instance(shown, region, params, origin=origin)
        history = self.state.histories[record.history]
        if origin is None:
            # A new database gets the shop's schema; the world's orders database also its orders so far.
            history.journal.append((now, SQL, ORDERS_SCHEMA))
            if not self.sandbox.lab.world_seeded and (region, record.name) == self.state.primary:
                history.journal.extend((now, ORDER, order_row(order)) for order in self.sandbox.lab.orders)
        self._event(record, "DB instance created", "creation")
        if record.retention_days > 0:
            self._start_backups(record, snapshot_taken_by_backend=True)
        else:
            self._drop_backend_automated_snapshots(region, record.name)
        self._present(ctx)

    def _new_instance(self, shown: dict[str, Any], region: str, params: dict[str, Any], *,
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
            attributes=_attributes(shown), retention_days=int(shown.get("BackupRetentionPeriod") or 0),
            backup_window=shown.get("PreferredBackupWindow", ""), multi_az=multi_az, az=az,
            secondary_az=_standby_zone(az) if multi_az else None)
        self.state.instances[record.key] = record
        return record

    def _delete_db_instance(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        record = self.state.instances.get(f"{region}/{str(params.get('DBInstanceIdentifier', '')).lower()}")
        final = params.get("FinalDBSnapshotIdentifier")
        ref = self._ref_now(record) if record is not None else None
        result = self._forward(ctx)
        if result is None or record is None:
            return
        if final and not params.get("SkipFinalSnapshot") and ref is not None:
            self._record_snapshot(region, final, ref, record, "manual")
        for replica in self._replicas_of(record):
            self._promote(replica, "Promoted to a stand-alone DB instance: its source was deleted")
        for key in [key for key, snap in self.state.snapshots.items()
                    if snap.region == region and snap.instance == record.name and snap.snapshot_type == "automated"]:
            del self.state.snapshots[key]
        self._event(record, "DB instance deleted", "deletion")
        del self.state.instances[record.key]
        self.store.forget(record.history)
        self._present(ctx)

    def _modify_db_instance(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        record = self._known(region, params.get("DBInstanceIdentifier"))
        if record is not None and self._in_outage(record, self.now()):
            return self._not_available(ctx, record, "modify")
        result = self._forward(ctx)
        if result is None or record is None:
            return None
        shown = result["DBInstance"]
        if shown["DBInstanceIdentifier"] != record.name:  # NewDBInstanceIdentifier
            old_key = record.key
            del self.state.instances[old_key]
            record.name, record.arn = shown["DBInstanceIdentifier"], shown["DBInstanceArn"]
            self.state.instances[record.key] = record
            for replica in self.state.instances.values():
                if replica.source == old_key:
                    replica.source = record.key
        record.attributes = _attributes(shown)
        record.backup_window = shown.get("PreferredBackupWindow", record.backup_window)
        retention = int(shown.get("BackupRetentionPeriod") or 0)
        was = record.retention_days
        record.retention_days = retention
        if retention > 0 and was == 0:
            self._start_backups(record, snapshot_taken_by_backend=False)
        elif retention == 0 and was > 0:
            self._stop_backups(record)
        if "MultiAZ" in params and bool(params["MultiAZ"]) != record.multi_az:
            record.multi_az = bool(params["MultiAZ"])
            record.secondary_az = _standby_zone(record.az) if record.multi_az else None
            self._event(record, "Finished applying modification to convert to a Multi-AZ DB Instance"
                        if record.multi_az else "Finished applying modification to convert to a Single-AZ DB Instance",
                        "configuration change")
        self._present(ctx)
        return None

    def _reboot_db_instance(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        record = self._known(region, params.get("DBInstanceIdentifier"))
        now = self.now()
        failover = bool(params.get("ForceFailover"))
        if record is not None:
            if record.stopped or self._in_outage(record, now):
                return self._not_available(ctx, record, "reboot")
            if failover and not record.multi_az:
                return self._refuse(ctx, 400, "InvalidParameterCombination",
                                    f"Cannot perform a forced failover of DB instance {record.name}: it is not a "
                                    "Multi-AZ deployment")
        if self._forward(ctx) is None or record is None:
            return None
        self._begin_outage(record, "failover" if failover else "reboot")
        self._present(ctx)
        return None

    def _begin_outage(self, record: InstanceRecord, kind: str) -> None:
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
            self._event(record, "Multi-AZ instance failover started.", "failover")
        else:
            self._event(record, "DB instance shutdown", "availability")

    def _end_outage(self, record: InstanceRecord) -> None:
        outage = record.outage
        assert outage is not None
        record.az, record.secondary_az = outage.az_after, outage.secondary_after
        record.outage = None
        if outage.kind == "failover":
            self._event(record, "Multi-AZ instance failover completed.", "failover")
        self._event(record, "DB instance restarted", "availability")

    def _stop_db_instance(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        record = self._known(region, params.get("DBInstanceIdentifier"))
        if record is not None and self._in_outage(record, self.now()):
            return self._not_available(ctx, record, "stop")
        ref = self._ref_now(record) if record is not None else None
        if self._forward(ctx) is None or record is None:
            return None
        if params.get("DBSnapshotIdentifier") and ref is not None:
            self._record_snapshot(region, params["DBSnapshotIdentifier"], ref, record, "manual")
        record.stopped = True
        self._event(record, "DB instance stopped", "notification")
        self._present(ctx)
        return None

    def _start_db_instance(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        record = self._known(region, params.get("DBInstanceIdentifier"))
        if self._forward(ctx) is None or record is None:
            return
        record.stopped = False
        self._event(record, "DB instance started", "notification")
        self._present(ctx)

    def _describe_db_instances(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        self._forward(ctx)
        self._present(ctx)

    # -- snapshots ---------------------------------------------------------------------------------------

    def _create_db_snapshot(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        record = self._known(region, params.get("DBInstanceIdentifier"))
        if record is not None and self._unavailable(record, self.now()) and not record.stopped:
            return self._not_available(ctx, record, "snapshot")
        ref = self._ref_now(record) if record is not None else None
        result = self._forward(ctx)
        if result is None or record is None or ref is None:
            return None
        self._record_snapshot(region, result["DBSnapshot"]["DBSnapshotIdentifier"], ref, record, "manual",
                              arn=result["DBSnapshot"].get("DBSnapshotArn"))
        return None

    def _copy_db_snapshot(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        source_id = str(params.get("SourceDBSnapshotIdentifier", ""))
        match = _ARN.match(source_id)
        source_region = match["region"] if match else region
        source = self.state.snapshots.get(f"{source_region}/{(match['name'] if match else source_id).lower()}")
        result = self._forward(ctx)
        if result is None or source is None:
            return
        shown = result["DBSnapshot"]
        copy = SnapshotRecord(region, shown["DBSnapshotIdentifier"], shown.get("DBSnapshotArn", ""), source.ref,
                              source.instance, "manual", self.now(), dict(source.attributes), copied_from=source.arn)
        self.state.snapshots[f"{region}/{copy.name}"] = copy
        if source_region != region:
            self._snapshot_event(source, "Started cross region DB snapshot copy", "notification")
            self._snapshot_event(copy, "Finished cross region DB snapshot copy", "notification")
        else:
            self._snapshot_event(copy, "Finished DB snapshot copy", "notification")
        self._rewrite(ctx, lambda answer: self._patch_snapshot(answer["DBSnapshot"], region))

    def _delete_db_snapshot(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        if self._forward(ctx) is None:
            return
        found = self.state.snapshots.pop(f"{region}/{str(params.get('DBSnapshotIdentifier', '')).lower()}", None)
        if found is not None:
            self._snapshot_event(found, "Deleted manual snapshot" if found.snapshot_type == "manual"
                                 else "Deleted automated snapshot", "deletion")

    def _describe_db_snapshots(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        self._forward(ctx)
        self._rewrite(ctx, lambda answer: [self._patch_snapshot(shown, region)
                                           for shown in answer.get("DBSnapshots", [])])

    def _patch_snapshot(self, shown: dict[str, Any], region: str) -> None:
        record = self.state.snapshots.get(f"{region}/{shown.get('DBSnapshotIdentifier', '')}")
        if record is not None and record.copied_from:
            match = _ARN.match(record.copied_from)
            shown["SourceDBSnapshotIdentifier"] = record.copied_from
            shown["SourceRegion"] = match["region"] if match else region

    def _record_snapshot(self, region: str, name: str, ref: DataRef, record: InstanceRecord, snapshot_type: str,
                         arn: str | None = None) -> SnapshotRecord:
        name = name.lower()
        snapshot = SnapshotRecord(region, name, arn or f"arn:aws:rds:{region}:{config.ACCOUNT_ID}:snapshot:{name}",
                                  ref, record.name, snapshot_type, self.now(), dict(record.attributes))
        self.state.snapshots[f"{region}/{name}"] = snapshot
        if snapshot_type == "manual":
            self._snapshot_event(snapshot, "Creating manual snapshot", "creation")
            self._snapshot_event(snapshot, "Manual snapshot created", "creation")
        else:
            self._snapshot_event(snapshot, "Creating automated snapshot", "creation")
            self._snapshot_event(snapshot, "Automated snapshot created", "creation")
        return snapshot

    # -- restores ----------------------------------------------------------------------------------------

    def _restore_db_instance_from_db_snapshot(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        snapshot_id = str(params.get("DBSnapshotIdentifier", ""))
        match = _ARN.match(snapshot_id)
        snapshot = self.state.snapshots.get(
            f"{match['region'] if match else region}/{(match['name'] if match else snapshot_id).lower()}")
        result = self._forward(ctx)
        if result is None:
            return
        record = self._new_instance(result["DBInstance"], region, params,
                                    origin=snapshot.ref if snapshot is not None else None)
        if snapshot is None:  # a snapshot this engine never saw: the database starts as a new one would
            self.state.histories[record.history].journal.append((self.now(), SQL, ORDERS_SCHEMA))
        self._event(record, f"Restored from snapshot {snapshot_id}", "restoration")
        if record.retention_days > 0:
            self._start_backups(record, snapshot_taken_by_backend=True)
        else:
            self._drop_backend_automated_snapshots(region, record.name)
        self._present(ctx)

    def _restore_db_instance_to_point_in_time(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        name = params.get("SourceDBInstanceIdentifier")
        if not name:
            return self._refuse(ctx, 400, "InvalidParameterValue",
                                "RestoreDBInstanceToPointInTime in this sandbox restores from a DB instance: give "
                                "SourceDBInstanceIdentifier (SourceDbiResourceId and "
                                "SourceDBInstanceAutomatedBackupsArn are not supported)")
        source = self._known(region, name)
        if source is None:
            return self._refuse(ctx, 404, "DBInstanceNotFound", f"DBInstance {name} not found.")
        now = self.now()
        if source.retention_days == 0 or source.backups_since is None:
            return self._refuse(ctx, 400, "PointInTimeRestoreNotEnabled",
                                f"Point-in-time restore is not enabled for DB instance {source.name}: its "
                                "BackupRetentionPeriod is 0, so it has no automated backups")
        latest_flag, restore_time = bool(params.get("UseLatestRestorableTime")), params.get("RestoreTime")
        if latest_flag and restore_time is not None:
            return self._refuse(ctx, 400, "InvalidParameterCombination",
                                "Cannot specify both RestoreTime and UseLatestRestorableTime")
        if not latest_flag and restore_time is None:
            return self._refuse(ctx, 400, "InvalidParameterCombination",
                                "Either RestoreTime or UseLatestRestorableTime must be specified")
        earliest, latest = self._earliest_restorable(source, now), self._latest_restorable(source, now)
        when = latest if latest_flag else restore_time.timestamp()
        if not earliest <= when <= latest:
            return self._refuse(ctx, 400, "InvalidRestoreFault",
                                f"The restore time {iso(when)} is not within the backup retention window of DB "
                                f"instance {source.name}: restorable from {iso(earliest)} to {iso(latest)}")
        ref = self.store.ref_at(source.history, when)
        result = self._forward(ctx)
        if result is None:
            return None
        record = self._new_instance(result["DBInstance"], region, params, origin=ref)
        self._event(record, f"Restored from DB instance {source.name} to {iso(when)}", "restoration")
        if record.retention_days > 0:
            self._start_backups(record, snapshot_taken_by_backend=True)
        else:
            self._drop_backend_automated_snapshots(region, record.name)
        self._present(ctx)
        return None

    # -- read replicas -----------------------------------------------------------------------------------

    def _create_db_instance_read_replica(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        source_id = str(params.get("SourceDBInstanceIdentifier", ""))
        match = _ARN.match(source_id)
        source = self.state.instances.get(
            f"{match['region'] if match else region}/{(match['name'] if match else source_id).lower()}")
        if source is not None and source.retention_days == 0:
            return self._refuse(ctx, 400, "InvalidDBInstanceState",
                                "Automated backups are not enabled for this database instance. To enable automated "
                                "backups, use ModifyDBInstance to set the backup retention period to a non-zero value.")
        result = self._forward(ctx)
        if result is None or source is None:
            return None
        now = self.now()
        lag = REPLICA_LAG_SECONDS[source.region == region]
        record = self._new_instance(result["DBInstance"], region, params, origin=None,
                                    follows=Follow(source.history, lag, now))
        record.source = source.key
        record.retention_days = int(params.get("BackupRetentionPeriod") or 0)
        self._event(record, "DB instance created", "creation")
        self._event(record, f"Replication for the read replica of {source.arn} started", "read replica")
        self._drop_backend_automated_snapshots(region, record.name)
        self._present(ctx)
        return None

    def _promote_read_replica(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        record = self._known(region, params.get("DBInstanceIdentifier"))
        if record is not None and record.source is None:
            return self._refuse(ctx, 400, "InvalidDBInstanceState",
                                f"DB instance {record.name} is not a read replica.")
        result = self._forward(ctx)
        if result is None or record is None:
            return None
        self._promote(record, "Promoted Read Replica to a stand-alone database instance")
        retention = int(result["DBInstance"].get("BackupRetentionPeriod") or 0)
        if "BackupRetentionPeriod" in params:
            retention = int(params["BackupRetentionPeriod"])
        record.retention_days = retention
        if retention > 0:
            self._start_backups(record, snapshot_taken_by_backend=False)
        self._present(ctx)
        return None

    def _promote(self, record: InstanceRecord, message: str) -> None:
        history = self.state.histories[record.history]
        follow = history.follows
        if follow is None or follow.until is not None:
            return
        now = self.now()
        history.origin = self.store.ref_at(follow.source, now - follow.lag)
        follow.until = now
        record.source = None
        self.store.forget(record.history)  # it held the source's rows; from now on its own journal
        self._event(record, message, "read replica")

    def _replicas_of(self, record: InstanceRecord) -> list[InstanceRecord]:
        return [other for other in self.state.instances.values() if other.source == record.key]

    # -- automated backups -------------------------------------------------------------------------------

    def _start_backups(self, record: InstanceRecord, snapshot_taken_by_backend: bool) -> None:
        """Backups switched on: the first backup now, then one a day in the backup window."""
        now = self.now()
        record.backups_since = now
        name = f"rds:{record.name}-{epoch_dt(now).strftime('%Y-%m-%d-%H-%M')}"
        self._event(record, "Backing up DB instance", "backup")
        taken = snapshot_taken_by_backend or self._take_automated_snapshot(record, name)
        if taken:
            self._record_snapshot(record.region, name, self._ref_now(record), record, "automated")
        self._event(record, "Finished DB Instance backup", "backup")
        self._schedule_backup(record)

    def _stop_backups(self, record: InstanceRecord) -> None:
        record.backups_since = None
        record.next_backup = None
        self._drop_automated_snapshots(record)
        self._event(record, "Automated backups for this DB instance have been disabled", "backup")

    def _schedule_backup(self, record: InstanceRecord) -> None:
        record.next_backup = _next_window_start(record.backup_window, self.now())
        self._timer(record.next_backup, "backup", record.key, record.next_backup)

    def _daily_backup(self, record: InstanceRecord) -> None:
        now = self.now()
        if record.stopped:  # RDS takes no automated backup of a stopped instance
            self._schedule_backup(record)
            return
        name = f"rds:{record.name}-{epoch_dt(now).strftime('%Y-%m-%d-%H-%M')}"
        self._event(record, "Backing up DB instance", "backup")
        if self._take_automated_snapshot(record, name):
            self._record_snapshot(record.region, name, self._ref_now(record), record, "automated")
        self._event(record, "Finished DB Instance backup", "backup")
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

    def _drop_backend_automated_snapshots(self, region: str, name: str) -> None:
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

    def _describe_db_instance_automated_backups(self, ctx: RequestContext, params: dict[str, Any],
                                                region: str) -> None:
        now = self.now()
        wanted = str(params.get("DBInstanceIdentifier") or "").lower()
        backups = []
        for record in self.state.instances.values():
            if record.region != region or record.retention_days == 0 or record.backups_since is None:
                continue
            if wanted and record.name != wanted:
                continue
            attributes = record.attributes
            backups.append({
                "DBInstanceArn": record.arn, "Region": region, "DBInstanceIdentifier": record.name,
                "RestoreWindow": {"EarliestTime": epoch_dt(self._earliest_restorable(record, now)),
                                  "LatestTime": epoch_dt(self._latest_restorable(record, now))},
                "AllocatedStorage": attributes.get("AllocatedStorage"), "Status": "active",
                "Port": attributes.get("Port"), "AvailabilityZone": self._zones(record, now)[0],
                "InstanceCreateTime": epoch_dt(record.created_at), "MasterUsername": attributes.get("MasterUsername"),
                "Engine": attributes.get("Engine"), "EngineVersion": attributes.get("EngineVersion"),
                "Encrypted": bool(attributes.get("StorageEncrypted")), "StorageType": attributes.get("StorageType"),
                "BackupRetentionPeriod": record.retention_days,
                "DBInstanceAutomatedBackupsArn": f"arn:aws:rds:{region}:{config.ACCOUNT_ID}:auto-backup:"
                                                 f"ab-{record.history}-{record.name}",
            })
        if wanted and not backups:
            return self._refuse(ctx, 404, "DBInstanceAutomatedBackupNotFoundFault",
                                f"No automated backup for DB instance {wanted} was found.")
        ctx.respond(200, serialize_response("DescribeDBInstanceAutomatedBackups",
                                            {"DBInstanceAutomatedBackups": backups}, ctx.request_id), "text/xml")
        return None

    # -- events ------------------------------------------------------------------------------------------

    def _describe_events(self, ctx: RequestContext, params: dict[str, Any], region: str) -> None:
        source_id, source_type = params.get("SourceIdentifier"), params.get("SourceType")
        if source_id and not source_type:
            return self._refuse(ctx, 400, "InvalidParameterCombination",
                                "Cannot specify source identifier without source type")
        now = self.now()
        end = params["EndTime"].timestamp() if "EndTime" in params else now
        if "StartTime" in params:
            start = params["StartTime"].timestamp()
        else:
            start = end - 60 * int(params.get("Duration") or DEFAULT_EVENT_MINUTES)
        categories = set(params.get("EventCategories") or [])
        found = [event for event in self.state.events.get(region, [])
                 if start <= event.time <= end
                 and (not source_type or event.source_type == source_type)
                 and (not source_id or event.source_id == str(source_id).lower())
                 and (not categories or categories & set(event.categories))]
        size = max(20, min(100, int(params.get("MaxRecords") or 100)))
        offset = int(params.get("Marker") or 0)
        page = found[offset:offset + size]
        answer: dict[str, Any] = {"Events": [
            {"SourceIdentifier": event.source_id, "SourceType": event.source_type, "Message": event.message,
             "EventCategories": event.categories, "Date": epoch_dt(event.time), "SourceArn": event.arn}
            for event in page]}
        if offset + size < len(found):
            answer["Marker"] = str(offset + size)
        ctx.respond(200, serialize_response("DescribeEvents", answer, ctx.request_id), "text/xml")
        return None

    def _event(self, record: InstanceRecord, message: str, category: str) -> None:
        self._append_event(record.region, RdsEvent(self.now(), record.name, "db-instance", message, [category],
                                                   record.arn))
        self.emit("RdsEvent", region=record.region, resource=record.name, message=message, category=category)

    def _snapshot_event(self, snapshot: SnapshotRecord, message: str, category: str) -> None:
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

    def _known(self, region: str, name: Any) -> InstanceRecord | None:
        return self.state.instances.get(f"{region}/{str(name or '').lower()}")

    def _existing(self, region: str, name: str) -> InstanceRecord:
        record = self._known(region, name)
        if record is None:
            known = sorted(r.name for r in self.state.instances.values() if r.region == region)
            raise SqlError(f"no DB instance {name!r} in {region} (instances there: {', '.join(known) or 'none'})")
        return record

    def _by_arn(self, arn: str) -> InstanceRecord | None:
        return next((record for record in self.state.instances.values() if record.arn == arn), None)

    def _ref_now(self, record: InstanceRecord) -> DataRef:
        return self.store.ref_at(record.history, self.now())

    @staticmethod
    def _in_outage(record: InstanceRecord, now: float) -> bool:
        return record.outage is not None and now < record.outage.ends

    def _unavailable(self, record: InstanceRecord, now: float) -> bool:
        return (record.stopped or record.unreachable or record.region in self.state.regions_down
                or self._in_outage(record, now))

    def _status_word(self, record: InstanceRecord, now: float) -> str:
        if record.stopped:
            return "stopped"
        if self._in_outage(record, now):
            return "rebooting"
        if record.unreachable or record.region in self.state.regions_down:
            return "unreachable"
        return "available"

    @staticmethod
    def _zones(record: InstanceRecord, now: float) -> tuple[str, str | None]:
        outage = record.outage
        if outage is not None and now >= outage.ends:  # finished, even if the clock has not played it yet
            return outage.az_after, outage.secondary_after
        return record.az, record.secondary_az

    @staticmethod
    def _earliest_restorable(record: InstanceRecord, now: float) -> float:
        return max(record.backups_since or now, now - record.retention_days * 86400)

    @staticmethod
    def _latest_restorable(record: InstanceRecord, now: float) -> float:
        return max(record.backups_since or now, now - RESTORE_LAG_SECONDS)

    def _not_available(self, ctx: RequestContext, record: InstanceRecord, action: str) -> None:
        status = self._status_word(record, self.now())
        self._refuse(ctx, 400, "InvalidDBInstanceState",
                     f"Cannot {action} DB instance {record.name}: its status is {status}, not available")

    def describe(self) -> dict[str, Any]:
        state = self.state
        return {"instances": len(state.instances), "snapshots": len(state.snapshots),
                "journaled_changes": sum(len(h.journal) for h in state.histories.values()),
                "primary": "/".join(state.primary)}


def _attributes(shown: dict[str, Any]) -> dict[str, Any]:
    keep = ("DBInstanceClass", "Engine", "EngineVersion", "AllocatedStorage", "MasterUsername", "DBName",
            "StorageType", "StorageEncrypted", "KmsKeyId", "Iops", "CopyTagsToSnapshot", "PubliclyAccessible",
            "DeletionProtection")
    found = {key: shown[key] for key in keep if shown.get(key) is not None}
    port = (shown.get("Endpoint") or {}).get("Port") or shown.get("DbInstancePort")
    if port:
        found["Port"] = port
    return found


def _standby_zone(az: str) -> str:
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
