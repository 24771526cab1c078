"""The RDS operations the lab answers: each passes the call to the backend for the metadata, then does what AWS
would do with the rows the RDS engine keeps (lab.services.rds.engine) and shows the instances and snapshots as
the engine knows them; DescribeEvents and DescribeDBInstanceAutomatedBackups answer from the engine alone.
Every other RDS operation goes to the backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lab import config
from lab.kernel.api import BackendAnswer, Call, ServiceApi
from lab.kernel.errors import AwsError
from lab.services.rds.engine import (
    ARN,
    DEFAULT_EVENT_MINUTES,
    REPLICA_LAG_SECONDS,
    InstanceRecord,
    RdsData,
    SnapshotRecord,
    epoch_dt,
    instance_attributes,
    standby_zone,
)
from lab.services.rds.store import ORDER, ORDERS_SCHEMA, SQL, Follow, order_row
from lab.sim.clock import iso

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

Output = dict[str, Any]


def _refusal(status: int, code: str, message: str) -> AwsError:
    return AwsError(code, message, status)


class RdsApi(ServiceApi):
    service = "rds"
    service_principal = RdsData.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(RdsData)
        assert engine is not None, "the RDS API needs the RDS engine"
        self.engine = engine

    def _present(self, result: Output, region: str) -> Output:
        """Every DB instance in the answer as the lab knows it."""
        for instance in ([result["DBInstance"]] if "DBInstance" in result else result.get("DBInstances", [])):
            self._patch_instance(instance, region)
        return result

    def _patch_instance(self, shown: dict[str, Any], region: str) -> None:
        record = self.engine.state.instances.get(f"{region}/{shown.get('DBInstanceIdentifier', '')}")
        if record is None:
            return
        now = self.engine.now()
        if self.engine.in_outage(record, now):
            shown["DBInstanceStatus"] = "rebooting"
        az, secondary = self.engine.zones(record, now)
        shown["AvailabilityZone"] = az
        shown["MultiAZ"] = record.multi_az
        if record.multi_az and secondary:
            shown["SecondaryAvailabilityZone"] = secondary
        else:
            shown.pop("SecondaryAvailabilityZone", None)
        if record.retention_days > 0 and record.backups_since is not None:
            shown["LatestRestorableTime"] = epoch_dt(self.engine.latest_restorable(record, now))
        else:
            shown.pop("LatestRestorableTime", None)
        source = self.engine.state.instances.get(record.source) if record.source else None
        if source is not None:
            shown["ReadReplicaSourceDBInstanceIdentifier"] = (source.name if source.region == region else source.arn)
            shown["StatusInfos"] = [{"StatusType": "read replication", "Normal": True, "Status": "replicating"}]
        else:
            shown.pop("ReadReplicaSourceDBInstanceIdentifier", None)
            shown.pop("StatusInfos", None)
        shown["ReadReplicaDBInstanceIdentifiers"] = [
            replica.name if replica.region == region else replica.arn
            for replica in self.engine.replicas_of(record)]

    def op_CreateDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        origin = self.engine.take_pending_origin()
        result = call.forward()
        shown = result["DBInstance"]
        now = self.engine.now()
        record = self.engine.new_instance(shown, region, params, origin=origin)
        history = self.engine.state.histories[record.history]
        if origin is None:
            # A new database gets the shop's schema; the world's orders database also its orders so far.
            history.journal.append((now, SQL, ORDERS_SCHEMA))
            if not self.sandbox.lab.world_seeded and (region, record.name) == self.engine.state.primary:
                history.journal.extend((now, ORDER, order_row(order)) for order in self.sandbox.lab.orders)
        self.engine.event(record, "DB instance created", "creation")
        if record.retention_days > 0:
            self.engine.start_backups(record, snapshot_taken_by_backend=True)
        else:
            self.engine.drop_backend_automated_snapshots(region, record.name)
        return self._present(result, region)

    def op_DeleteDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        record = self.engine.state.instances.get(f"{region}/{str(params.get('DBInstanceIdentifier', '')).lower()}")
        final = params.get("FinalDBSnapshotIdentifier")
        ref = self.engine.ref_now(record) if record is not None else None
        result = call.forward()
        if record is None:
            return call.backend_answer()
        if final and not params.get("SkipFinalSnapshot") and ref is not None:
            self.engine.record_snapshot(region, final, ref, record, "manual")
        for replica in self.engine.replicas_of(record):
            self.engine.promote(replica, "Promoted to a stand-alone DB instance: its source was deleted")
        for key in [key for key, snap in self.engine.state.snapshots.items()
                    if snap.region == region and snap.instance == record.name and snap.snapshot_type == "automated"]:
            del self.engine.state.snapshots[key]
        self.engine.event(record, "DB instance deleted", "deletion")
        del self.engine.state.instances[record.key]
        self.engine.store.forget(record.history)
        return self._present(result, region)

    def op_ModifyDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        record = self.engine.known(region, params.get("DBInstanceIdentifier"))
        if record is not None and self.engine.in_outage(record, self.engine.now()):
            raise self._not_available(record, "modify")
        result = call.forward()
        if record is None:
            return call.backend_answer()
        shown = result["DBInstance"]
        if shown["DBInstanceIdentifier"] != record.name:  # NewDBInstanceIdentifier
            old_key = record.key
            del self.engine.state.instances[old_key]
            record.name, record.arn = shown["DBInstanceIdentifier"], shown["DBInstanceArn"]
            self.engine.state.instances[record.key] = record
            for replica in self.engine.state.instances.values():
                if replica.source == old_key:
                    replica.source = record.key
        record.attributes = instance_attributes(shown)
        record.backup_window = shown.get("PreferredBackupWindow", record.backup_window)
        retention = int(shown.get("BackupRetentionPeriod") or 0)
        was = record.retention_days
        record.retention_days = retention
        if retention > 0 and was == 0:
            self.engine.start_backups(record, snapshot_taken_by_backend=False)
        elif retention == 0 and was > 0:
            self.engine.stop_backups(record)
        if "MultiAZ" in params and bool(params["MultiAZ"]) != record.multi_az:
            record.multi_az = bool(params["MultiAZ"])
            record.secondary_az = standby_zone(record.az) if record.multi_az else None
            self.engine.event(record, "Finished applying modification to convert to a Multi-AZ DB Instance"
                        if record.multi_az else "Finished applying modification to convert to a Single-AZ DB Instance",
                        "configuration change")
        return self._present(result, region)

    def op_RebootDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        record = self.engine.known(region, params.get("DBInstanceIdentifier"))
        now = self.engine.now()
        failover = bool(params.get("ForceFailover"))
        if record is not None:
            if record.stopped or self.engine.in_outage(record, now):
                raise self._not_available(record, "reboot")
            if failover and not record.multi_az:
                raise _refusal(400, "InvalidParameterCombination",
                                    f"Cannot perform a forced failover of DB instance {record.name}: it is not a "
                                    "Multi-AZ deployment")
        result = call.forward()
        if record is None:
            return call.backend_answer()
        self.engine.begin_outage(record, "failover" if failover else "reboot")
        return self._present(result, region)

    def op_StopDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        record = self.engine.known(region, params.get("DBInstanceIdentifier"))
        if record is not None and self.engine.in_outage(record, self.engine.now()):
            raise self._not_available(record, "stop")
        ref = self.engine.ref_now(record) if record is not None else None
        result = call.forward()
        if record is None:
            return call.backend_answer()
        if params.get("DBSnapshotIdentifier") and ref is not None:
            self.engine.record_snapshot(region, params["DBSnapshotIdentifier"], ref, record, "manual")
        record.stopped = True
        self.engine.event(record, "DB instance stopped", "notification")
        return self._present(result, region)

    def op_StartDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        record = self.engine.known(region, params.get("DBInstanceIdentifier"))
        result = call.forward()
        if record is None:
            return call.backend_answer()
        record.stopped = False
        self.engine.event(record, "DB instance started", "notification")
        return self._present(result, region)

    def op_DescribeDBInstances(self, call: Call) -> Output | BackendAnswer:
        return self._present(call.forward(), call.region)

    def op_CreateDBSnapshot(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        record = self.engine.known(region, params.get("DBInstanceIdentifier"))
        if record is not None and self.engine.unavailable(record, self.engine.now()) and not record.stopped:
            raise self._not_available(record, "snapshot")
        ref = self.engine.ref_now(record) if record is not None else None
        result = call.forward()
        if record is None or ref is None:
            return call.backend_answer()
        self.engine.record_snapshot(region, result["DBSnapshot"]["DBSnapshotIdentifier"], ref, record, "manual",
                                    arn=result["DBSnapshot"].get("DBSnapshotArn"))
        return call.backend_answer()

    def op_CopyDBSnapshot(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        source_id = str(params.get("SourceDBSnapshotIdentifier", ""))
        match = ARN.match(source_id)
        source_region = match["region"] if match else region
        source = self.engine.state.snapshots.get(f"{source_region}/{(match['name'] if match else source_id).lower()}")
        result = call.forward()
        if source is None:
            return call.backend_answer()
        shown = result["DBSnapshot"]
        copy = SnapshotRecord(region, shown["DBSnapshotIdentifier"], shown.get("DBSnapshotArn", ""), source.ref,
                              source.instance, "manual", self.engine.now(), dict(source.attributes),
                              copied_from=source.arn)
        self.engine.state.snapshots[f"{region}/{copy.name}"] = copy
        if source_region != region:
            self.engine.snapshot_event(source, "Started cross region DB snapshot copy", "notification")
            self.engine.snapshot_event(copy, "Finished cross region DB snapshot copy", "notification")
        else:
            self.engine.snapshot_event(copy, "Finished DB snapshot copy", "notification")
        self._patch_snapshot(result["DBSnapshot"], region)
        return result

    def op_DeleteDBSnapshot(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        call.forward()
        found = self.engine.state.snapshots.pop(f"{region}/{str(params.get('DBSnapshotIdentifier', '')).lower()}", None)
        if found is not None:
            self.engine.snapshot_event(found, "Deleted manual snapshot" if found.snapshot_type == "manual"
                                       else "Deleted automated snapshot", "deletion")
        return call.backend_answer()

    def op_DescribeDBSnapshots(self, call: Call) -> Output | BackendAnswer:
        region = call.region
        result = call.forward()
        for shown in result.get("DBSnapshots", []):
            self._patch_snapshot(shown, region)
        return result

    def _patch_snapshot(self, shown: dict[str, Any], region: str) -> None:
        record = self.engine.state.snapshots.get(f"{region}/{shown.get('DBSnapshotIdentifier', '')}")
        if record is not None and record.copied_from:
            match = ARN.match(record.copied_from)
            shown["SourceDBSnapshotIdentifier"] = record.copied_from
            shown["SourceRegion"] = match["region"] if match else region

    def op_RestoreDBInstanceFromDBSnapshot(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        snapshot_id = str(params.get("DBSnapshotIdentifier", ""))
        match = ARN.match(snapshot_id)
        snapshot = self.engine.state.snapshots.get(
            f"{match['region'] if match else region}/{(match['name'] if match else snapshot_id).lower()}")
        result = call.forward()
        record = self.engine.new_instance(result["DBInstance"], region, params,
                                    origin=snapshot.ref if snapshot is not None else None)
        if snapshot is None:  # a snapshot this engine never saw: the database starts as a new one would
            self.engine.state.histories[record.history].journal.append((self.engine.now(), SQL, ORDERS_SCHEMA))
        self.engine.event(record, f"Restored from snapshot {snapshot_id}", "restoration")
        if record.retention_days > 0:
            self.engine.start_backups(record, snapshot_taken_by_backend=True)
        else:
            self.engine.drop_backend_automated_snapshots(region, record.name)
        return self._present(result, region)

    def op_RestoreDBInstanceToPointInTime(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        name = params.get("SourceDBInstanceIdentifier")
        if not name:
            raise _refusal(400, "InvalidParameterValue",
                                "RestoreDBInstanceToPointInTime in this sandbox restores from a DB instance: give "
                                "SourceDBInstanceIdentifier (SourceDbiResourceId and "
                                "SourceDBInstanceAutomatedBackupsArn are not supported)")
        source = self.engine.known(region, name)
        if source is None:
            raise _refusal(404, "DBInstanceNotFound", f"DBInstance {name} not found.")
        now = self.engine.now()
        if source.retention_days == 0 or source.backups_since is None:
            raise _refusal(400, "PointInTimeRestoreNotEnabled",
                                f"Point-in-time restore is not enabled for DB instance {source.name}: its "
                                "BackupRetentionPeriod is 0, so it has no automated backups")
        latest_flag, restore_time = bool(params.get("UseLatestRestorableTime")), params.get("RestoreTime")
        if latest_flag and restore_time is not None:
            raise _refusal(400, "InvalidParameterCombination",
                                "Cannot specify both RestoreTime and UseLatestRestorableTime")
        if not latest_flag and restore_time is None:
            raise _refusal(400, "InvalidParameterCombination",
                                "Either RestoreTime or UseLatestRestorableTime must be specified")
        earliest, latest = self.engine.earliest_restorable(source, now), self.engine.latest_restorable(source, now)
        when = latest if latest_flag else restore_time.timestamp()
        if not earliest <= when <= latest:
            raise _refusal(400, "InvalidRestoreFault",
                                f"The restore time {iso(when)} is not within the backup retention window of DB "
                                f"instance {source.name}: restorable from {iso(earliest)} to {iso(latest)}")
        ref = self.engine.store.ref_at(source.history, when)
        result = call.forward()
        record = self.engine.new_instance(result["DBInstance"], region, params, origin=ref)
        self.engine.event(record, f"Restored from DB instance {source.name} to {iso(when)}", "restoration")
        if record.retention_days > 0:
            self.engine.start_backups(record, snapshot_taken_by_backend=True)
        else:
            self.engine.drop_backend_automated_snapshots(region, record.name)
        return self._present(result, region)

    def op_CreateDBInstanceReadReplica(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        source_id = str(params.get("SourceDBInstanceIdentifier", ""))
        match = ARN.match(source_id)
        source = self.engine.state.instances.get(
            f"{match['region'] if match else region}/{(match['name'] if match else source_id).lower()}")
        if source is not None and source.retention_days == 0:
            raise _refusal(400, "InvalidDBInstanceState",
                                "Automated backups are not enabled for this database instance. To enable automated "
                                "backups, use ModifyDBInstance to set the backup retention period to a non-zero value.")
        result = call.forward()
        if source is None:
            return call.backend_answer()
        now = self.engine.now()
        lag = REPLICA_LAG_SECONDS[source.region == region]
        record = self.engine.new_instance(result["DBInstance"], region, params, origin=None,
                                    follows=Follow(source.history, lag, now))
        record.source = source.key
        record.retention_days = int(params.get("BackupRetentionPeriod") or 0)
        self.engine.event(record, "DB instance created", "creation")
        self.engine.event(record, f"Replication for the read replica of {source.arn} started", "read replica")
        self.engine.drop_backend_automated_snapshots(region, record.name)
        return self._present(result, region)

    def op_PromoteReadReplica(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        record = self.engine.known(region, params.get("DBInstanceIdentifier"))
        if record is not None and record.source is None:
            raise _refusal(400, "InvalidDBInstanceState",
                                f"DB instance {record.name} is not a read replica.")
        result = call.forward()
        if record is None:
            return call.backend_answer()
        self.engine.promote(record, "Promoted Read Replica to a stand-alone database instance")
        retention = int(result["DBInstance"].get("BackupRetentionPeriod") or 0)
        if "BackupRetentionPeriod" in params:
            retention = int(params["BackupRetentionPeriod"])
        record.retention_days = retention
        if retention > 0:
            self.engine.start_backups(record, snapshot_taken_by_backend=False)
        return self._present(result, region)

    def op_DescribeDBInstanceAutomatedBackups(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        now = self.engine.now()
        wanted = str(params.get("DBInstanceIdentifier") or "").lower()
        backups = []
        for record in self.engine.state.instances.values():
            if record.region != region or record.retention_days == 0 or record.backups_since is None:
                continue
            if wanted and record.name != wanted:
                continue
            attributes = record.attributes
            backups.append({
                "DBInstanceArn": record.arn, "Region": region, "DBInstanceIdentifier": record.name,
                "RestoreWindow": {"EarliestTime": epoch_dt(self.engine.earliest_restorable(record, now)),
                                  "LatestTime": epoch_dt(self.engine.latest_restorable(record, now))},
                "AllocatedStorage": attributes.get("AllocatedStorage"), "Status": "active",
                "Port": attributes.get("Port"), "AvailabilityZone": self.engine.zones(record, now)[0],
                "InstanceCreateTime": epoch_dt(record.created_at), "MasterUsername": attributes.get("MasterUsername"),
                "Engine": attributes.get("Engine"), "EngineVersion": attributes.get("EngineVersion"),
                "Encrypted": bool(attributes.get("StorageEncrypted")), "StorageType": attributes.get("StorageType"),
                "BackupRetentionPeriod": record.retention_days,
                "DBInstanceAutomatedBackupsArn": f"arn:aws:rds:{region}:{config.ACCOUNT_ID}:auto-backup:"
                                                 f"ab-{record.history}-{record.name}",
            })
        if wanted and not backups:
            raise _refusal(404, "DBInstanceAutomatedBackupNotFoundFault",
                                f"No automated backup for DB instance {wanted} was found.")
        return {"DBInstanceAutomatedBackups": backups}

    def op_DescribeEvents(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        source_id, source_type = params.get("SourceIdentifier"), params.get("SourceType")
        if source_id and not source_type:
            raise _refusal(400, "InvalidParameterCombination",
                                "Cannot specify source identifier without source type")
        now = self.engine.now()
        end = params["EndTime"].timestamp() if "EndTime" in params else now
        if "StartTime" in params:
            start = params["StartTime"].timestamp()
        else:
            start = end - 60 * int(params.get("Duration") or DEFAULT_EVENT_MINUTES)
        categories = set(params.get("EventCategories") or [])
        found = [event for event in self.engine.state.events.get(region, [])
                 if start <= event.time <= end
                 and (not source_type or event.source_type == source_type)
                 and (not source_id or event.source_id == str(source_id).lower())
                 and (not categories or categories & set(event.categories))]
        size = max(20, min(100, int(params.get("MaxRecords") or 100)))
        try:
            offset = int(params.get("Marker") or 0)
        except ValueError:
            offset = -1
        if offset < 0:
            raise _refusal(400, "InvalidParameterValue", f"Marker {params.get('Marker')!r} was not issued by "
                                                         "DescribeEvents")
        page = found[offset:offset + size]
        answer: dict[str, Any] = {"Events": [
            {"SourceIdentifier": event.source_id, "SourceType": event.source_type, "Message": event.message,
             "EventCategories": event.categories, "Date": epoch_dt(event.time), "SourceArn": event.arn}
            for event in page]}
        if offset + size < len(found):
            answer["Marker"] = str(offset + size)
        return answer

    def _not_available(self, record: InstanceRecord, action: str) -> AwsError:
        status = self.engine.status_word(record, self.engine.now())
        return _refusal(400, "InvalidDBInstanceState",
                        f"Cannot {action} DB instance {record.name}: its status is {status}, not available")
