"""The RDS operations the lab answers: each passes the call to the backend for the metadata, then does what AWS
would do with the rows and the time the RDS engine keeps (lab.services.rds.engine), and shows the instances and
snapshots as the engine knows them (status, progress, pending modifications, windows, zones); DescribeEvents and
the automated-backup operations answer from the engine alone. Every other RDS operation goes to the backend.

Refusals are RDS's: the wire codes of botocore's error shapes, and RDS's messages where they are known (quoted
from AWS errors recorded in public code and issues) -- otherwise a message that names what and why.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab.gateway import audit
from lab.kernel.api import BackendAnswer, BackendRefusedError, Call, ServiceApi
from lab.kernel.errors import AwsError, NotSimulatedError
from lab.services.rds import windows
from lab.services.rds.backup_replication import DEFAULT_RETENTION_DAYS as DEFAULT_REPLICATED_RETENTION
from lab.services.rds.backup_replication import ReplicatedBackup
from lab.services.rds.engine import (
    ARN,
    DEFAULT_EVENT_MINUTES,
    GIB,
    READY,
    REPLICA_LAG_SECONDS,
    RUNNING,
    InstanceRecord,
    Phase,
    RdsData,
    RetainedBackup,
    SnapshotRecord,
    automated_backups_arn,
    creation_request,
    epoch_dt,
    instance_attributes,
)
from lab.services.rds.modifications import (
    DEFERRED,
    MAX_RETENTION,
    MIN_RETENTION,
    STORAGE_COOLDOWN_SECONDS,
    STORAGE_MEMBERS,
    retention_message,
)
from lab.services.rds.store import ORDER, ORDERS_SCHEMA, SQL, DataRef, Follow, order_row
from lab.sim.clock import iso

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

Output = dict[str, Any]
NOT_FOUND_CODES = ("DBInstanceNotFound", "DBInstanceNotFoundFault")
BACKUP_NOT_FOUND = "DBInstanceAutomatedBackupNotFound"  # the wire code (botocore's error trait), not ...Fault


def _refusal(status: int, code: str, message: str) -> AwsError:
    return AwsError(code, message, status)


def _not_available(action: str = "") -> AwsError:
    # ModifyDBInstance's answer on AWS (quoted in cloud-custodian issue #178)
    return _refusal(400, "InvalidDBInstanceState", "Database instance is not in available state."
                    + (f" ({action})" if action else ""))


def _check_retention(params: dict[str, Any]) -> None:
    days = params.get("BackupRetentionPeriod")
    if days is not None and not MIN_RETENTION <= int(days) <= MAX_RETENTION:
        raise _refusal(400, "InvalidParameterValue", retention_message(days))


def _restore_moment(params: dict[str, Any], earliest: float, latest: float, window: str) -> float:
    """The moment a point-in-time restore asks for (RestoreTime, or UseLatestRestorableTime), within `window`
    (named in the refusal)."""
    latest_flag, restore_time = bool(params.get("UseLatestRestorableTime")), params.get("RestoreTime")
    if latest_flag and restore_time is not None:
        raise _refusal(400, "InvalidParameterCombination",
                       "Cannot specify both RestoreTime and UseLatestRestorableTime")
    if not latest_flag and restore_time is None:
        raise _refusal(400, "InvalidParameterCombination",
                       "Either RestoreTime or UseLatestRestorableTime must be specified")
    when = latest if latest_flag else restore_time.timestamp()
    if not earliest <= when <= latest:
        raise _refusal(400, "InvalidRestoreFault", f"The restore time {iso(when)} is not within {window}: "
                                                   f"restorable from {iso(earliest)} to {iso(latest)}")
    return float(when)


def _require_source(call: Call, instance_member: str, cluster_member: str) -> None:
    """An operation that starts from a DB instance's data or a Multi-AZ DB cluster's names one of the two (the
    backend fails on neither); the lab simulates no clusters."""
    params = call.params
    if params.get(instance_member):
        return
    if params.get(cluster_member):
        raise NotSimulatedError(f"{call.identity.operation} from a Multi-AZ DB cluster ({cluster_member}) is not "
                                f"simulated by the lab; name a DB instance's ({instance_member})")
    raise _refusal(400, "InvalidParameterCombination", f"One of {instance_member} or {cluster_member} must be "
                                                       "specified.")


# GiB a MySQL, MariaDB or PostgreSQL instance may have, per storage type (RDS User Guide: Amazon RDS DB instance
# storage, "Storage types" table); the backend takes any number, and the duration model reads it.
STORAGE_GIB = {"standard": (5, 3072), "gp2": (20, 65536), "gp3": (20, 65536), "io1": (100, 65536),
               "io2": (100, 65536)}


class RdsApi(ServiceApi):
    service = "rds"
    service_principal = RdsData.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(RdsData)
        assert engine is not None, "the RDS API needs the RDS engine"
        self.engine = engine

    def check(self, call: Call) -> None:
        params = call.params
        size = params.get("AllocatedStorage")
        if size is None:
            return
        known = self._record(call.region, params.get("DBInstanceIdentifier"))
        attributes = known.attributes if known is not None else {}
        engine = str(params.get("Engine") or attributes.get("Engine") or "postgres")
        storage_type = str(params.get("StorageType") or attributes.get("StorageType") or "gp2")
        low, high = STORAGE_GIB.get(storage_type, STORAGE_GIB["gp2"])
        if not low <= int(size) <= high:
            raise _refusal(400, "InvalidParameterCombination",
                           f"Invalid storage size for engine name {engine} and storage type {storage_type}: {size}")

    # -- how instances look ------------------------------------------------------------------------------

    def _present(self, result: Output, region: str) -> Output:
        """Every DB instance in the answer as the lab knows it."""
        for instance in ([result["DBInstance"]] if "DBInstance" in result else result.get("DBInstances", [])):
            self._patch_instance(instance, region)
        return result

    def _patch_instance(self, shown: dict[str, Any], region: str) -> None:
        engine = self.engine
        record = engine.state.instances.get(f"{region}/{shown.get('DBInstanceIdentifier', '')}")
        if record is None:
            return
        now = engine.now()
        shown["DBInstanceStatus"] = engine.status(record)
        if not record.created:  # "inaccessible while it is being created": no endpoint yet
            for member in ("Endpoint", "InstanceCreateTime", "LatestRestorableTime"):
                shown.pop(member, None)
        shown["AvailabilityZone"] = record.az
        shown["MultiAZ"] = record.multi_az
        if record.multi_az and record.secondary_az:
            shown["SecondaryAvailabilityZone"] = record.secondary_az
        else:
            shown.pop("SecondaryAvailabilityZone", None)
        shown["BackupRetentionPeriod"] = record.retention_days
        shown["PreferredBackupWindow"] = record.backup_window
        shown["PreferredMaintenanceWindow"] = record.maintenance_window
        shown["DbiResourceId"] = record.dbi_resource_id
        replications = self._replications_of(record)
        if replications:
            shown["DBInstanceAutomatedBackupsReplications"] = replications
        else:
            shown.pop("DBInstanceAutomatedBackupsReplications", None)
        for member, value in record.applied.items():  # the applied value, not the pending one the backend holds
            if member not in ("MultiAZ", "BackupRetentionPeriod"):
                shown[member] = value
        # (RDS answers the element always, empty when nothing waits: the aws CLI shows {})
        shown["PendingModifiedValues"] = {member: "****" if member == "MasterUserPassword" else value
                                          for member, value in {**record.pending, **record.applying}.items()}
        if record.created and record.retention_days > 0 and record.backups_since is not None:
            shown["LatestRestorableTime"] = epoch_dt(engine.latest_restorable(record, now))
        else:
            shown.pop("LatestRestorableTime", None)
        source = engine.state.instances.get(record.source) if record.source else None
        if source is not None:
            shown["ReadReplicaSourceDBInstanceIdentifier"] = (source.name if source.region == region else source.arn)
            shown["StatusInfos"] = [{"StatusType": "read replication", "Normal": True, "Status": "replicating"}]
        else:
            shown.pop("ReadReplicaSourceDBInstanceIdentifier", None)
            shown.pop("StatusInfos", None)
        shown["ReadReplicaDBInstanceIdentifiers"] = [
            replica.name if replica.region == region else replica.arn for replica in engine.replicas_of(record)]

    def _deleting(self, region: str) -> list[InstanceRecord]:
        return sorted((r for r in self.engine.state.instances.values() if r.region == region and r.view is not None),
                      key=lambda r: r.name)

    def _ghost(self, record: InstanceRecord) -> dict[str, Any]:
        """An instance being deleted, which the backend no longer lists: as it was, `deleting`."""
        shown = dict(record.view or {})
        self._patch_instance(shown, record.region)
        return shown

    def _record(self, region: str, name: Any) -> InstanceRecord | None:
        return self.engine.known(region, name)

    def _require_in_backend(self, region: str, name: Any) -> None:
        """An instance the engine does not follow must be the backend's, or the call is refused as AWS does
        (moto looks some names up without a check, failing with a KeyError)."""
        try:
            self.sandbox.client("rds", region).describe_db_instances(DBInstanceIdentifier=str(name or ""))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
                raise _refusal(404, "DBInstanceNotFound", f"DBInstance {name} not found.") from None
            raise

    # -- instances ---------------------------------------------------------------------------------------

    def op_CreateDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        _check_retention(params)
        pending = engine.take_pending_create()
        self._refuse_deleting_name(region, params.get("DBInstanceIdentifier"))
        if pending is None:
            self._check_windows(region, params)
        result = call.forward()
        shown = result["DBInstance"]
        now = engine.now()
        record = engine.new_instance(shown, region, params, origin=pending.origin if pending else None)
        if pending is not None:
            return self._present(result, region)  # the engine's own restore sets it up
        history = engine.state.histories[record.history]
        # A new database gets the shop's schema; the world's orders database also its orders so far.
        history.journal.append((now, SQL, ORDERS_SCHEMA))
        if not self.sandbox.lab.world_seeded:
            if (region, record.name) == engine.state.primary:
                history.journal.extend((now, ORDER, order_row(order)) for order in self.sandbox.lab.orders)
            engine.event(record, "DB instance created", "creation")  # the world exists when the lab begins
            if record.retention_days > 0:
                engine.start_backups(record)
        else:
            # RDS UG, Creating a DB instance: "it can take several minutes"; creating -> backing-up -> available
            engine.start_creating(record, engine.durations.rds_create(record.storage_gib), "DB instance created")
        return self._present(result, region)

    def _check_windows(self, region: str, params: dict[str, Any]) -> None:
        """RDS's refusal of the windows the instance would get: the ones given, the others as RDS picks them
        (apart from a given one: a backup window given alone is never refused for meeting a default)."""
        name = str(params.get("DBInstanceIdentifier")).lower()  # (as the engine names it)
        chosen = windows.default_windows(self.sandbox.lab.seed, region, name, params.get("PreferredBackupWindow"),
                                         params.get("PreferredMaintenanceWindow"))
        try:
            windows.validate(*chosen)
        except windows.WindowError as exc:
            raise _refusal(400, "InvalidParameterValue", str(exc)) from exc

    def _refuse_deleting_name(self, region: str, name: Any) -> None:
        record = self._record(region, name)
        if record is not None and record.view is not None:
            raise _refusal(400, "DBInstanceAlreadyExists", f"DB instance {record.name} already exists (it is being "
                                                           "deleted: wait until it is gone)")

    def _refuse_taken_name(self, region: str, name: Any) -> None:
        """A new instance never replaces one of its name (the backend's CreateDBInstanceReadReplica would): RDS
        refuses it with the words it uses for a restore over a taken name."""
        self._refuse_deleting_name(region, name)
        if self._record(region, name) is not None:
            raise _refusal(400, "DBInstanceAlreadyExists", "DB instance already exists")

    def op_DeleteDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        final = params.get("FinalDBSnapshotIdentifier")
        skip = bool(params.get("SkipFinalSnapshot"))
        # API Reference, DeleteDBInstance: without SkipFinalSnapshot "you must specify the FinalDBSnapshotIdentifier
        # parameter"; the message is RDS's as AWS SDKs record it.
        if not final and not skip:
            raise _refusal(400, "InvalidParameterCombination",
                           "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
        # ... and "specifying this parameter and also skipping the creation of a final DB snapshot with the
        # SkipFinalSnapshot parameter results in an error" (the words are RDS's for DeleteDBCluster)
        if final and skip:
            raise _refusal(400, "InvalidParameterCombination",
                           "You cannot specify both FinalDBSnapshotIdentifier and SkipFinalSnapshot.")
        take_final = bool(final) and not skip
        record = self._record(region, params.get("DBInstanceIdentifier"))
        if record is not None:
            if record.view is not None:
                raise _refusal(400, "InvalidDBInstanceState", f"Instance {record.name} is already being deleted.")
            if take_final and record.source is not None:
                raise _refusal(400, "InvalidParameterCombination",
                               "FinalDBSnapshotIdentifier can not be specified when deleting a replica instance")
            if take_final and not record.created:
                raise _refusal(400, "InvalidDBInstanceState", f"Instance {record.name} is currently "
                                                              f"{engine.status(record)} - a final snapshot cannot "
                                                              "be taken.")
        result = call.forward()
        if record is None:
            return call.backend_answer()
        final_snapshot = engine.take_snapshot(record, str(final), "manual", busy=False) if take_final else None
        for replica in engine.replicas_of(record):
            engine.promote(replica, "Promoted to a stand-alone DB instance: its source was deleted")
        shown = result["DBInstance"]
        self._patch_instance(shown, region)
        engine.start_deleting(record, dict(shown), final_snapshot,
                              keep_backups=params.get("DeleteAutomatedBackups") is False)
        return self._present(result, region)

    def op_DescribeDBInstances(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        try:
            result = call.forward()
        except BackendRefusedError as exc:
            record = self._record(region, params.get("DBInstanceIdentifier"))
            if exc.code in NOT_FOUND_CODES and record is not None and record.view is not None:
                return {"DBInstances": [self._ghost(record)]}
            raise
        self._present(result, region)
        if not params.get("DBInstanceIdentifier") and not params.get("Filters") and not result.get("Marker"):
            result.setdefault("DBInstances", []).extend(self._ghost(record) for record in self._deleting(region))
        return result

    def op_ModifyDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        if engine.syncing:
            return call.backend_answer()
        _check_retention(params)
        record = self._record(region, params.get("DBInstanceIdentifier"))
        if record is None:
            return call.backend_answer()
        now = engine.now()
        status = engine.status(record)
        if status not in READY or record.view is not None:
            raise _not_available(f"{record.name} is {status}")
        if STORAGE_MEMBERS & set(params):
            cooling = record.storage_changed_at is not None and now < record.storage_changed_at + \
                STORAGE_COOLDOWN_SECONDS
            if status == "storage-optimization" or cooling:
                raise _refusal(400, "InvalidParameterCombination",
                               "You can't currently modify the storage of this DB instance because the previous "
                               "storage change is being optimized or was made less than six hours ago.")
        if "PreferredBackupWindow" in params or "PreferredMaintenanceWindow" in params:
            try:
                windows.validate(params.get("PreferredBackupWindow") or record.backup_window,
                                 params.get("PreferredMaintenanceWindow") or record.maintenance_window)
            except windows.WindowError as exc:
                raise _refusal(400, "InvalidParameterValue", str(exc)) from exc
        applied = {member: self._applied_value(record, member) for member in DEFERRED}
        result = call.forward()
        shown = result["DBInstance"]
        if shown["DBInstanceIdentifier"] != record.name:  # NewDBInstanceIdentifier (the lab renames at once)
            self._rename(record, shown)
        for key, value in instance_attributes(shown).items():
            if key not in DEFERRED:
                record.attributes[key] = value
        for member in DEFERRED:
            if member not in params:
                continue
            value = params[member]
            if member == "BackupRetentionPeriod" and (int(value) > 0) == (int(applied[member] or 0) > 0):
                record.pending.pop(member, None)
                record.applied.pop(member, None)
                engine.set_retention(record, int(value))  # nonzero -> nonzero: "asynchronously, as soon as possible"
                continue
            engine.defer(record, member, value, applied[member])
        self._immediate_settings(record, params)
        if params.get("ApplyImmediately"):
            engine.apply_pending(record)  # this request's changes and every pending one
        else:
            engine.schedule_maintenance(record)
        return self._present(result, region)

    @staticmethod
    def _applied_value(record: InstanceRecord, member: str) -> Any:
        if member in record.applied:
            return record.applied[member]
        if member == "MultiAZ":
            return record.multi_az
        if member == "BackupRetentionPeriod":
            return record.retention_days
        return record.attributes.get(member)

    def _immediate_settings(self, record: InstanceRecord, params: dict[str, Any]) -> None:
        """What ModifyDBInstance applies whatever ApplyImmediately says (RDS UG, Modifying a DB instance)."""
        engine = self.engine
        if params.get("PreferredBackupWindow"):
            record.backup_window = params["PreferredBackupWindow"]
            if record.retention_days > 0:
                engine.schedule_backup(record)
        if params.get("PreferredMaintenanceWindow"):
            record.maintenance_window = params["PreferredMaintenanceWindow"].lower()
        if params.get("MasterUserPassword"):
            # "Between the time of the request and the completion of the request, the MasterUserPassword element
            # exists in the PendingModifiedValues element" (API Reference, ModifyDBInstance)
            record.applying["MasterUserPassword"] = "****"
            engine.start_phases(record, [Phase("resetting-master-credentials", engine.durations.rds_modify(False),
                                               then="password")])
        if params.get("DBPortNumber"):
            engine.reboot(record, failover=False)  # "your database restarts regardless of ... ApplyImmediately"

    def _rename(self, record: InstanceRecord, shown: dict[str, Any]) -> None:
        state = self.engine.state
        old_key = record.key
        del state.instances[old_key]
        record.name, record.arn = shown["DBInstanceIdentifier"], shown["DBInstanceArn"]
        state.instances[record.key] = record
        for replica in state.instances.values():
            if replica.source == old_key:
                replica.source = record.key

    def op_RebootDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        record = self._record(region, params.get("DBInstanceIdentifier"))
        failover = bool(params.get("ForceFailover"))
        interrupting = False
        if record is not None:
            status = engine.status(record)
            if failover and not record.multi_az:
                raise _refusal(400, "InvalidParameterCombination",
                               f"Cannot perform a forced failover of DB instance {record.name}: it is not a "
                               "Multi-AZ deployment")
            # An Availability Zone that fails takes the primary with it whatever RDS was doing: the lab's fault
            # injection fails a Multi-AZ instance over from any running state (a learner's reboot needs
            # `available`, as on AWS).
            interrupting = failover and call.internal and record.created and record.view is None and status in RUNNING
            if (status not in READY or record.view is not None) and not interrupting:
                raise _not_available(f"{record.name} is {status}")
        result = call.forward()
        if record is None:
            return call.backend_answer()
        engine.reboot(record, failover, first=interrupting)
        return self._present(result, region)

    def op_StopDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        record = self._record(region, params.get("DBInstanceIdentifier"))
        if record is not None and (engine.status(record) != "available" or record.view is not None):
            raise _refusal(400, "InvalidDBInstanceState", f"Instance {record.name} is not in available state.")
        if record is not None:
            self._refuse_stopping_replication(record)
        result = call.forward()
        if record is None:
            return call.backend_answer()
        engine.stop(record, params.get("DBSnapshotIdentifier"))
        return self._present(result, region)

    def _refuse_stopping_replication(self, record: InstanceRecord) -> None:
        """RDS UG, Stopping an Amazon RDS DB instance temporarily, Limitations: "You can't stop a DB instance that
        has a read replica, or that is a read replica." (a replica's refusal in RDS's words, as
        base2Services/cfn-start-stop-stack pull request #65 records them)"""
        if record.source is not None:
            raise _refusal(400, "InvalidDBInstanceState", "Cannot stop or start a Read-Replica instance")
        replicas = self.engine.replicas_of(record)
        if replicas:
            names = ", ".join(sorted(r.name if r.region == record.region else r.arn for r in replicas))
            raise _refusal(400, "InvalidDBInstanceState", f"Cannot stop DB instance {record.name}: it is the source "
                                                          f"of read replicas ({names}).")

    def op_StartDBInstance(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        record = self._record(region, params.get("DBInstanceIdentifier"))
        if record is not None and (self.engine.status(record) != "stopped" or record.view is not None):
            # (the backend has it stopped from the StopDBInstance call on, while RDS still shows it `stopping`)
            raise _refusal(400, "InvalidDBInstanceState", f"Instance {record.name} is not stopped, it cannot be "
                                                          "started.")
        result = call.forward()
        if record is None:
            return call.backend_answer()
        self.engine.start(record)
        return self._present(result, region)

    # -- snapshots ---------------------------------------------------------------------------------------

    def op_CreateDBSnapshot(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        record = self._record(region, params.get("DBInstanceIdentifier"))
        if record is not None:
            status = engine.status(record)
            # API Reference, CreateDBSnapshot: the instance must be available (InvalidDBInstanceState); the message
            # is RDS's as recorded in public code.
            if record.view is not None or status not in (*READY, "stopped"):
                raise _refusal(400, "InvalidDBInstanceState",
                               f"Cannot create a snapshot because the database instance {record.name} is not "
                               "currently in the available state.")
        result = call.forward()
        if record is None:
            return call.backend_answer()
        shown = result["DBSnapshot"]
        engine.take_snapshot(record, shown["DBSnapshotIdentifier"], "manual", arn=shown.get("DBSnapshotArn"))
        self._patch_snapshot(shown, region)
        return result

    def _snapshot(self, region: str, identifier: Any) -> SnapshotRecord | None:
        text = str(identifier or "")
        match = ARN.match(text)
        key = f"{match['region']}/{match['name'].lower()}" if match else f"{region}/{text.lower()}"
        return self.engine.state.snapshots.get(key)

    def op_CopyDBSnapshot(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        source = self._snapshot(region, params.get("SourceDBSnapshotIdentifier"))
        if source is not None and source.status != "available":
            # API Reference, CopyDBSnapshot: InvalidDBSnapshotState for a source that is not available
            raise _refusal(400, "InvalidDBSnapshotState",
                           f"Snapshot {source.name} is {source.status}; only an available snapshot can be copied.")
        # API Reference, CopyDBSnapshot, KmsKeyId: "If you copy an encrypted DB snapshot to a different AWS Region,
        # then you must specify an AWS KMS key identifier for the destination AWS Region" (RDS's words as
        # 1Strategy/rds-oracle-cross-account-cross-region-dr issue #1 records them)
        if (source is not None and source.region != region and source.attributes.get("StorageEncrypted")
                and not params.get("KmsKeyId")):
            raise _refusal(400, "InvalidParameterValue",
                           "Must specify new KMS key for cross region encrypted snapshot copy.")
        result = call.forward()
        if source is None:
            return call.backend_answer()
        shown = result["DBSnapshot"]
        self.engine.copy_snapshot(source, region, shown["DBSnapshotIdentifier"], shown.get("DBSnapshotArn", ""))
        self._patch_snapshot(shown, region)
        return result

    def op_ModifyDBSnapshotAttribute(self, call: Call) -> Output | BackendAnswer:
        """API Reference, ModifyDBSnapshotAttribute: "If the manual DB snapshot is encrypted, it can be shared, but
        only by specifying a list of authorized AWS account IDs for the ValuesToAdd parameter. You can't use all as
        a value for that parameter in this case." (the code: RDS's for a parameter value it refuses)"""
        params, region = call.params, call.region
        identifier = params.get("DBSnapshotIdentifier")
        if params.get("AttributeName") == "restore" and "all" in (params.get("ValuesToAdd") or []):
            found = self._snapshot(region, identifier)
            encrypted = found.attributes.get("StorageEncrypted") if found is not None else \
                self._backend_snapshot_encrypted(region, identifier)
            if encrypted:
                raise _refusal(400, "InvalidParameterValue",
                               f"DB snapshot {str(identifier)[:200]} is encrypted: it can be shared with AWS account "
                               "IDs, not made public (all).")
        return call.backend_answer()

    def _backend_snapshot_encrypted(self, region: str, identifier: Any) -> bool:
        """Whether a snapshot the engine does not follow is encrypted (False when the backend has no such
        snapshot: the call goes on and is refused there)."""
        try:
            with audit.unrecorded():
                shown = self.sandbox.client("rds", region).describe_db_snapshots(
                    DBSnapshotIdentifier=str(identifier or ""))["DBSnapshots"]
        except ClientError:
            return False
        return any(snapshot.get("Encrypted") for snapshot in shown)

    def op_DeleteDBSnapshot(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        found = self._snapshot(region, params.get("DBSnapshotIdentifier"))
        if found is not None and found.snapshot_type == "awsbackup":
            raise _refusal(400, "InvalidParameterValue",
                           f"DB snapshot {found.name} is managed by AWS Backup: delete its recovery point with AWS "
                           "Backup (DeleteRecoveryPoint).")
        if found is not None and found.snapshot_type == "automated":
            # RDS UG, Deleting a DB snapshot: automated snapshots end with their retention period, or with their
            # instance (its retained automated backup: DeleteDBInstanceAutomatedBackup)
            raise _refusal(400, "InvalidDBSnapshotState", "Only manual snapshots may be deleted.")
        if found is not None and found.status != "available":
            raise _refusal(400, "InvalidDBSnapshotState",
                           f"DB snapshot {found.name} is {found.status}; it can be deleted once it is available.")
        result = call.forward()
        if found is not None:
            self.engine.state.snapshots.pop(found.key, None)
            self.engine.snapshot_event(found, "Deleted manual snapshot", "deletion")
            if "DBSnapshot" in result:
                self._patch_snapshot(result["DBSnapshot"], region)
                result["DBSnapshot"]["Status"] = "deleted"
        return result

    def op_DescribeDBSnapshots(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        identifier = str(params.get("DBSnapshotIdentifier") or "").lower()
        instance = str(params.get("DBInstanceIdentifier") or "").lower()
        named = self._snapshot(region, identifier) if identifier else None
        if params.get("SnapshotType") == "awsbackup" or (named is not None and named.view is not None):
            # "awsbackup - Return the DB snapshots managed by the AWS Backup service" (API Reference,
            # DescribeDBSnapshots); by default only automated and manual snapshots are returned.
            found = [s for s in sorted(engine.state.snapshots.values(), key=lambda s: (s.created_at, s.name))
                     if s.region == region and s.view is not None and (not identifier or s.name == identifier)
                     and (not instance or s.instance == instance)
                     and params.get("DbiResourceId", s.dbi_resource_id) == s.dbi_resource_id]
            if identifier and not found:
                raise _refusal(404, "DBSnapshotNotFound", f"DBSnapshot {identifier} not found.")
            shown = []
            for snapshot in found:
                view = dict(snapshot.view or {})
                self._patch_snapshot(view, region)
                shown.append(view)
            return {"DBSnapshots": shown}
        result = call.forward()
        for shown_snapshot in result.get("DBSnapshots", []):
            self._patch_snapshot(shown_snapshot, region)
        return result

    def _patch_snapshot(self, shown: dict[str, Any], region: str) -> None:
        record = self.engine.state.snapshots.get(f"{region}/{shown.get('DBSnapshotIdentifier', '')}")
        if record is None:
            return
        shown["Status"] = record.status
        shown["PercentProgress"] = self.engine.snapshot_progress(record, self.engine.now())
        shown["SnapshotCreateTime"] = epoch_dt(record.created_at)
        if record.dbi_resource_id:
            shown["DbiResourceId"] = record.dbi_resource_id
        if record.copied_from:
            match = ARN.match(record.copied_from)
            shown["SourceRegion"] = match["region"] if match else region
            # API Reference, DBSnapshot.SourceDBSnapshotIdentifier: "It only has a value in the case of a
            # cross-account or cross-Region copy."
            if shown["SourceRegion"] != region:
                shown["SourceDBSnapshotIdentifier"] = record.copied_from
            else:
                shown.pop("SourceDBSnapshotIdentifier", None)

    # -- restores ----------------------------------------------------------------------------------------

    def op_RestoreDBInstanceFromDBSnapshot(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        _check_retention(params)
        _require_source(call, "DBSnapshotIdentifier", "DBClusterSnapshotIdentifier")
        snapshot_id = str(params["DBSnapshotIdentifier"])
        snapshot = self._snapshot(region, snapshot_id)
        if snapshot is not None and snapshot.status != "available":
            raise _refusal(400, "InvalidDBSnapshotState",
                           f"DB snapshot {snapshot.name} is {snapshot.status}; a DB instance can be restored only "
                           "from an available snapshot.")
        self._refuse_deleting_name(region, params.get("DBInstanceIdentifier"))
        if snapshot is not None and snapshot.view is not None:  # AWS Backup's: the backend does not hold it
            overrides = {key: value for key, value in params.items() if key != "DBSnapshotIdentifier"}
            request = creation_request(str(params["DBInstanceIdentifier"]), dict(snapshot.attributes), overrides)
            shown = self._create_for_restore(region, request, snapshot.ref)
            result: Output = {"DBInstance": shown}
        else:
            result = call.forward()
            shown = result["DBInstance"]
        record = self._record(region, shown["DBInstanceIdentifier"])
        if record is None:
            record = engine.new_instance(shown, region, params,
                                         origin=snapshot.ref if snapshot is not None else None)
        if snapshot is None:  # a snapshot this engine never saw: the database starts as a new one would
            engine.state.histories[record.history].journal.append((engine.now(), SQL, ORDERS_SCHEMA))
        if "BackupRetentionPeriod" in params:
            record.retention_days = int(params["BackupRetentionPeriod"])
        # RDS UG, Restoring from a DB snapshot: a new instance, `creating`, usable once `available`
        engine.start_creating(record, engine.durations.rds_restore(record.storage_gib),
                              f"Restored from snapshot {snapshot_id}")
        return self._present(result, region)

    def _create_for_restore(self, region: str, request: dict[str, Any], origin: DataRef) -> dict[str, Any]:
        """The new instance of a restore the backend cannot make (its source is only the lab's)."""
        request.setdefault("MasterUserPassword", "restored-by-the-lab")
        try:
            return self.engine.create_in_backend(region, request, origin)
        except ClientError as exc:
            response = exc.response
            error = response.get("Error", {})
            raise _refusal(int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400),
                           str(error.get("Code")), str(error.get("Message"))) from exc

    def op_RestoreDBInstanceToPointInTime(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        _check_retention(params)
        name = params.get("SourceDBInstanceIdentifier")
        dbi = params.get("SourceDbiResourceId")
        backups_arn = params.get("SourceDBInstanceAutomatedBackupsArn")
        if not (name or dbi or backups_arn):
            raise _refusal(400, "InvalidParameterCombination",
                           "One of SourceDBInstanceIdentifier, SourceDbiResourceId or "
                           "SourceDBInstanceAutomatedBackupsArn must be specified.")
        now = engine.now()
        replicated = None if name else engine.replications.find(region, backups_arn, dbi)
        if replicated is not None:
            return self._restore_replicated(call, replicated, now)
        source, retained = self._pitr_source(region, name, dbi, backups_arn)
        if source is not None and (source.retention_days == 0 or source.backups_since is None):
            raise _refusal(400, "PointInTimeRestoreNotEnabled",
                           f"Point-in-time restore is not enabled for DB instance {source.name}: "
                           + ("its BackupRetentionPeriod is 0, so it has no automated backups"
                              if source.retention_days == 0 else "its first automated backup has not finished yet"))
        if source is not None:
            earliest, latest = engine.earliest_restorable(source, now), engine.latest_restorable(source, now)
            history, source_name, source_region = source.history, source.name, source.region
        else:
            assert retained is not None
            earliest, latest = retained.earliest, retained.latest
            history, source_name, source_region = retained.history, retained.name, retained.region
        when = _restore_moment(params, earliest, latest, f"the backup retention window of DB instance {source_name}")
        target = params.get("TargetDBInstanceIdentifier")
        self._refuse_deleting_name(region, target)
        ref = engine.store.ref_at(history, when)
        if source is not None:
            result = call.forward()
            shown = result["DBInstance"]
            record = engine.new_instance(shown, region, params, origin=ref)
        else:
            assert retained is not None
            overrides = {key: value for key, value in params.items() if not key.startswith("Source")}
            overrides.setdefault("BackupRetentionPeriod", retained.retention_days)
            overrides.setdefault("AvailabilityZone", retained.az)
            request = creation_request(str(target), dict(retained.attributes), overrides)
            shown = self._create_for_restore(region, request, ref)
            result = {"DBInstance": shown}
            found = self._record(region, shown["DBInstanceIdentifier"])
            assert found is not None
            record = found
        if "BackupRetentionPeriod" in params:
            record.retention_days = int(params["BackupRetentionPeriod"])
        # RDS UG, Restoring to a specified time: the nearest automated snapshot before T, then the transaction
        # logs up to T; the replay grows with the log between them.
        since = engine.automated_snapshot_before(source_region, source_name, when) or earliest
        seconds = engine.durations.rds_restore(record.storage_gib, log_seconds=when - since)
        engine.start_creating(record, seconds, f"Restored from DB instance {source_name} to {iso(when)}")
        return self._present(result, region)

    def _restore_replicated(self, call: Call, backup: ReplicatedBackup, now: float) -> Output:
        """RestoreDBInstanceToPointInTime in the Region the backups were replicated to."""
        params, region = call.params, call.region
        engine = self.engine
        replications = engine.replications
        if replications.status(backup, now) == "pending":
            raise _refusal(400, "InvalidDBInstanceAutomatedBackupState",
                           f"The automated backups of DB instance {backup.name} are still being replicated to "
                           f"{region} (pending): restore once they are replicating.")
        earliest, latest = replications.window(backup, now)
        when = _restore_moment(params, earliest, latest,
                               f"the restore window of the replicated automated backups of {backup.name}")
        target = params.get("TargetDBInstanceIdentifier")
        self._refuse_deleting_name(region, target)
        overrides = {key: value for key, value in params.items() if not key.startswith("Source")}
        overrides.setdefault("BackupRetentionPeriod", backup.retention_days)
        attributes = dict(backup.attributes)
        attributes.pop("KmsKeyId", None)  # (the source Region's key: the replicated backups' own is used)
        if backup.kms_key_id:
            overrides.setdefault("KmsKeyId", backup.kms_key_id)
        request = creation_request(str(target), attributes, overrides)
        shown = self._create_for_restore(region, request, engine.store.ref_at(backup.history, when))
        record = self._record(region, shown["DBInstanceIdentifier"])
        assert record is not None
        since = engine.automated_snapshot_before(backup.source_region, backup.name, when) or earliest
        seconds = engine.durations.rds_restore(record.storage_gib, log_seconds=when - since)
        engine.start_creating(record, seconds, f"Restored from the replicated automated backups of DB instance "
                                               f"{backup.name} to {iso(when)}")
        return self._present({"DBInstance": shown}, region)

    def _pitr_source(self, region: str, name: Any, dbi: Any,
                     backups_arn: Any) -> tuple[InstanceRecord | None, RetainedBackup | None]:
        engine = self.engine
        if name:
            source = self._record(region, name)
            if source is None or source.view is not None:
                raise _refusal(404, "DBInstanceNotFound", f"DBInstance {name} not found.")
            return source, None
        for record in engine.state.instances.values():
            if record.region == region and record.view is None and record.retention_days > 0 and (
                    record.dbi_resource_id == dbi
                    or automated_backups_arn(record.region, record.dbi_resource_id) == backups_arn):
                return record, None
        retained = engine.find_retained(dbi_resource_id=dbi, arn=backups_arn)
        if retained is None or retained.region != region:
            raise _refusal(404, BACKUP_NOT_FOUND,
                           f"No automated backup {dbi or backups_arn} was found in {region}.")
        return None, retained

    # -- read replicas -----------------------------------------------------------------------------------

    def op_CreateDBInstanceReadReplica(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        _require_source(call, "SourceDBInstanceIdentifier", "SourceDBClusterIdentifier")
        source = self._snapshot_source(region, params.get("SourceDBInstanceIdentifier"))
        if source is not None:
            if source.retention_days == 0:
                raise _refusal(400, "InvalidDBInstanceState",
                               "Automated backups are not enabled for this database instance. To enable automated "
                               "backups, use ModifyDBInstance to set the backup retention period to a non-zero "
                               "value.")
            if engine.status(source) not in READY or source.view is not None:
                # as AWS answers (quoted in terraform-aws-modules/terraform-aws-rds issue #192)
                raise _refusal(400, "InvalidDBInstanceState", "DB instance is not in the available state")
            # API Reference, CreateDBInstanceReadReplica, KmsKeyId: "If you create an encrypted read replica in a
            # different AWS Region, then you must specify a KMS key identifier for the destination AWS Region"
            # (RDS's words as terraform-aws-modules/terraform-aws-rds pull request #428 records them)
            if source.region != region and source.attributes.get("StorageEncrypted") and not params.get("KmsKeyId"):
                raise _refusal(400, "InvalidParameterCombination",
                               "Cannot create a cross region unencrypted read replica from encrypted source.")
        self._refuse_taken_name(region, params.get("DBInstanceIdentifier"))
        result = call.forward()
        if source is None:
            return call.backend_answer()
        now = engine.now()
        cross = source.region != region
        record = engine.new_instance(result["DBInstance"], region, params, origin=None,
                                     follows=Follow(source.history, REPLICA_LAG_SECONDS[not cross], now))
        record.source = source.key
        record.retention_days = 0  # "RDS creates read replicas with backups disabled" (API Reference)
        # RDS UG, Creating a read replica in a different AWS Region: a snapshot of the source (the source is
        # `modifying` meanwhile), its copy to the replica's Region (full: the first copy), the replica built from it.
        durations = engine.durations
        written = engine.data_bytes(source) / GIB
        snapshot = durations.rds_snapshot(written)
        copy = sum(durations.rds_copy(written, cross_region=True)) if cross else 0.0
        engine.start_phases(source, [Phase("modifying", snapshot)])
        engine.start_creating(record, snapshot + copy + durations.rds_restore(record.storage_gib),
                              "DB instance created")
        engine.event(record, f"Replication for the read replica of {source.arn} started", "read replica")
        return self._present(result, region)

    def _snapshot_source(self, region: str, identifier: Any) -> InstanceRecord | None:
        text = str(identifier or "")
        match = ARN.match(text)
        return self.engine.state.instances.get(
            f"{match['region'] if match else region}/{(match['name'] if match else text).lower()}")

    def op_PromoteReadReplica(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        _check_retention(params)
        record = self._record(region, params.get("DBInstanceIdentifier"))
        if record is not None:
            if record.source is None:
                raise _refusal(400, "InvalidDBInstanceState", f"DB instance {record.name} is not a read replica.")
            if engine.status(record) != "available":
                # RDS UG, Working with read replicas: a replica cannot be promoted while it is backing up
                raise _not_available(f"{record.name} is {engine.status(record)}")
        else:
            self._require_in_backend(region, params.get("DBInstanceIdentifier"))
        result = call.forward()
        if record is None:
            return call.backend_answer()
        # API Reference, PromoteReadReplica: BackupRetentionPeriod "Default: 1"
        record.retention_days = int(params.get("BackupRetentionPeriod", 1))
        modifying, rebooting = engine.durations.rds_promote()
        # RDS UG: "The promotion process takes a few minutes ... replication is stopped and the read replica is
        # rebooted"
        engine.start_phases(record, [Phase("modifying", modifying, then="promote"),
                                     Phase("rebooting", rebooting, outage=True, then="promoted")])
        return self._present(result, region)

    # -- automated backups -------------------------------------------------------------------------------

    def op_DescribeDBInstanceAutomatedBackups(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        now = engine.now()
        wanted_name = str(params.get("DBInstanceIdentifier") or "").lower()
        wanted_dbi = params.get("DbiResourceId")
        wanted_arn = params.get("DBInstanceAutomatedBackupsArn")
        filters = {f.get("Name"): set(f.get("Values") or []) for f in params.get("Filters") or []}
        backups = [self._automated_view(record, now) for record in sorted(
            engine.state.instances.values(), key=lambda r: r.name)
            if record.region == region and record.view is None and record.retention_days > 0]
        backups += [self._retained_view(retained) for retained in sorted(
            engine.state.retained.values(), key=lambda r: (r.name, r.deleted_at)) if retained.region == region]
        backups += [self._replicated_view(backup, now) for backup in engine.replications.in_region(region)]
        found = [b for b in backups
                 if (not wanted_name or b["DBInstanceIdentifier"] == wanted_name)
                 and (not wanted_dbi or b["DbiResourceId"] == wanted_dbi)
                 and (not wanted_arn or b["DBInstanceAutomatedBackupsArn"] == wanted_arn)
                 and ("status" not in filters or b["Status"] in filters["status"])
                 and ("db-instance-id" not in filters or b["DBInstanceIdentifier"] in filters["db-instance-id"]
                      or b["DBInstanceArn"] in filters["db-instance-id"])
                 and ("dbi-resource-id" not in filters or b["DbiResourceId"] in filters["dbi-resource-id"])]
        if (wanted_name or wanted_dbi or wanted_arn) and not found:
            raise _refusal(404, BACKUP_NOT_FOUND,
                           f"No automated backup for {wanted_name or wanted_dbi or wanted_arn} was found in "
                           f"{region}.")
        return {"DBInstanceAutomatedBackups": found}

    def _automated_view(self, record: InstanceRecord, now: float) -> dict[str, Any]:
        engine = self.engine
        view = self._backup_view(record.region, record.name, record.arn, record.dbi_resource_id,
                                 record.attributes, record.retention_days, record.created_at, record.az,
                                 record.backup_window)
        # API Reference, DBInstanceAutomatedBackup.Status: "creating - automated backups that are waiting for the
        # first automated snapshot to be available"
        replications = self._replications_of(record)
        if replications:
            view["DBInstanceAutomatedBackupsReplications"] = replications
        if record.backups_since is None:
            view["Status"] = "creating"
        else:
            view["Status"] = "active"
            view["RestoreWindow"] = {"EarliestTime": epoch_dt(engine.earliest_restorable(record, now)),
                                     "LatestTime": epoch_dt(engine.latest_restorable(record, now))}
        return view

    def _retained_view(self, retained: RetainedBackup) -> dict[str, Any]:
        view = self._backup_view(retained.region, retained.name, retained.instance_arn, retained.dbi_resource_id,
                                 retained.attributes, retained.retention_days, retained.created_at, retained.az,
                                 retained.backup_window)
        view["Status"] = "retained"  # "automated backups for deleted instances"
        view["RestoreWindow"] = {"EarliestTime": epoch_dt(retained.earliest), "LatestTime": epoch_dt(retained.latest)}
        return view

    @staticmethod
    def _backup_view(region: str, name: str, arn: str, dbi_resource_id: str, attributes: dict[str, Any],
                     retention: int, created_at: float, az: str, backup_window: str) -> dict[str, Any]:
        view = {
            "DBInstanceArn": arn, "DbiResourceId": dbi_resource_id, "Region": region, "DBInstanceIdentifier": name,
            "AllocatedStorage": attributes.get("AllocatedStorage"), "Port": attributes.get("Port"),
            "AvailabilityZone": az, "InstanceCreateTime": epoch_dt(created_at),
            "MasterUsername": attributes.get("MasterUsername"), "Engine": attributes.get("Engine"),
            "EngineVersion": attributes.get("EngineVersion"), "Encrypted": bool(attributes.get("StorageEncrypted")),
            "StorageType": attributes.get("StorageType"), "KmsKeyId": attributes.get("KmsKeyId"),
            "BackupRetentionPeriod": retention, "PreferredBackupWindow": backup_window,
            "DBInstanceAutomatedBackupsArn": automated_backups_arn(region, dbi_resource_id),
        }
        return {key: value for key, value in view.items() if value is not None}

    def op_DeleteDBInstanceAutomatedBackup(self, call: Call) -> Output | BackendAnswer:
        params, region = call.params, call.region
        engine = self.engine
        dbi, arn = params.get("DbiResourceId"), params.get("DBInstanceAutomatedBackupsArn")
        if not (dbi or arn):
            raise _refusal(400, "InvalidParameterCombination",
                           "One of DbiResourceId or DBInstanceAutomatedBackupsArn must be specified.")
        live = next((r for r in engine.state.instances.values()
                     if r.region == region and r.view is None and r.retention_days > 0
                     and (r.dbi_resource_id == dbi or automated_backups_arn(r.region, r.dbi_resource_id) == arn)),
                    None)
        if live is not None:
            # API Reference: only retained automated backups are deleted this way
            raise _refusal(400, "InvalidDBInstanceAutomatedBackupState",
                           f"The automated backup of DB instance {live.name} is active: it belongs to a running "
                           "instance (set its BackupRetentionPeriod to 0 to stop automated backups).")
        retained = engine.find_retained(dbi_resource_id=dbi, arn=arn)
        if retained is None or retained.region != region:
            raise _refusal(404, BACKUP_NOT_FOUND, f"No automated backup {dbi or arn} was found in {region}.")
        view = self._retained_view(retained)
        view["Status"] = "deleting"
        engine.forget_retained(retained)
        return {"DBInstanceAutomatedBackup": view}

    # -- cross-Region automated backups (lab.services.rds.backup_replication) -----------------------------------

    def _instance_of_arn(self, arn: Any) -> tuple[re.Match[str] | None, InstanceRecord | None]:
        """A DB instance's ARN parsed (None: not one), and the instance it names (None: no such instance)."""
        match = ARN.match(str(arn or ""))
        if match is None or match["kind"] != "db":
            return None, None
        return match, self.engine.known(match["region"], match["name"])

    def _replication_source(self, region: str, arn: Any) -> InstanceRecord:
        match, source = self._instance_of_arn(arn)
        if match is None:
            raise _refusal(400, "InvalidParameterValue", f"SourceDBInstanceArn {str(arn)[:200]!r} is not the ARN of "
                                                         "a DB instance (arn:aws:rds:REGION:ACCOUNT:db:NAME)")
        if match["region"] == region:
            raise _refusal(400, "InvalidParameterValue",
                           f"The source DB instance {match['name']} is in {region}: automated backups replicate "
                           "to another Region (call this in the destination Region)")
        if source is None or source.view is not None:
            raise _refusal(404, "DBInstanceNotFound", f"DBInstance {match['name']} not found.")
        return source

    def op_StartDBInstanceAutomatedBackupsReplication(self, call: Call) -> Output:
        params, region = call.params, call.region
        engine = self.engine
        given = params.get("BackupRetentionPeriod")
        retention = DEFAULT_REPLICATED_RETENTION if given is None else int(given)
        if not 1 <= retention <= MAX_RETENTION:  # (0 would keep nothing: backups replicate to be kept)
            raise _refusal(400, "InvalidParameterValue", f"The retention period of replicated automated backups "
                                                         f"must be between 1 and {MAX_RETENTION} days, not {given}.")
        source = self._replication_source(region, params.get("SourceDBInstanceArn"))
        if source.region in engine.state.regions_down:
            raise _refusal(400, "InvalidDBInstanceState", f"DB instance {source.name} cannot be reached in "
                                                          f"{source.region}.")
        running = engine.replications.of_source(source)
        if running is not None:
            raise _refusal(400, "InvalidDBInstanceState",
                           f"DB instance {source.name} already replicates its automated backups to {running.region}.")
        if source.retention_days == 0:
            raise _refusal(400, "InvalidDBInstanceState",
                           f"Automated backups are not enabled for DB instance {source.name}: set its "
                           "BackupRetentionPeriod above 0 first.")
        newest = engine.newest_automated_snapshot(source)
        if newest is None:
            raise _refusal(400, "InvalidDBInstanceState",
                           f"DB instance {source.name} has no automated backup yet: replication starts from its "
                           "newest automated snapshot.")
        kms_key_id = params.get("KmsKeyId")
        if source.attributes.get("StorageEncrypted") and not kms_key_id:
            raise _refusal(400, "InvalidParameterCombination",
                           f"DB instance {source.name} is encrypted: KmsKeyId must name a KMS key of {region} to "
                           "encrypt the replicated backups with.")
        if kms_key_id:
            kms_key_id = self._kms_key_arn(region, str(kms_key_id))
        backup = engine.replications.start(source, region, retention, kms_key_id, newest)
        return {"DBInstanceAutomatedBackup": self._replicated_view(backup, engine.now())}

    def _kms_key_arn(self, region: str, key: str) -> str:
        """The ARN of a KMS key of `region` (RDS refuses one it cannot use)."""
        try:
            with audit.unrecorded():
                return str(self.sandbox.client("kms", region).describe_key(KeyId=key)["KeyMetadata"]["Arn"])
        except ClientError:
            raise _refusal(400, "KMSKeyNotAccessibleFault",
                           f"The specified KMS key {key[:200]} does not exist, is not enabled or you do not have "
                           f"permissions to access it in {region}.") from None

    def op_StopDBInstanceAutomatedBackupsReplication(self, call: Call) -> Output:
        region = call.region
        engine = self.engine
        arn = call.params.get("SourceDBInstanceArn")
        _, source = self._instance_of_arn(arn)
        backup = engine.replications.of_source(source) if source is not None else None
        if backup is None or backup.region != region:
            raise _refusal(400, "InvalidDBInstanceState",
                           f"Automated backups of {str(arn)[:200]} are not being replicated to {region}.")
        shown = self._replicated_view(backup, engine.now())
        engine.replications.stop(backup, "StopDBInstanceAutomatedBackupsReplication")
        return {"DBInstanceAutomatedBackup": shown}

    def _replicated_view(self, backup: ReplicatedBackup, now: float) -> dict[str, Any]:
        replications = self.engine.replications
        view = self._backup_view(backup.source_region, backup.name, backup.instance_arn, backup.dbi_resource_id,
                                 backup.attributes, backup.retention_days, backup.created_at, backup.az,
                                 backup.backup_window)
        view["DBInstanceAutomatedBackupsArn"] = backup.arn
        view["Status"] = replications.status(backup, now)
        if backup.kms_key_id:
            view["KmsKeyId"] = backup.kms_key_id
        else:
            view.pop("KmsKeyId", None)
        if view["Status"] != "pending":
            earliest, latest = replications.window(backup, now)
            view["RestoreWindow"] = {"EarliestTime": epoch_dt(earliest), "LatestTime": epoch_dt(latest)}
        return view

    def _replications_of(self, record: InstanceRecord) -> list[dict[str, str]]:
        backup = self.engine.replications.of_source(record)
        return [{"DBInstanceAutomatedBackupsArn": backup.arn}] if backup is not None else []

    def op_DescribePendingMaintenanceActions(self, call: Call) -> Output:
        """The sandbox schedules no maintenance actions (engine or OS updates): none are pending for any of its
        instances. Changes that wait for the maintenance window are the instance's PendingModifiedValues."""
        identifier = call.params.get("ResourceIdentifier")
        if identifier:
            _, record = self._instance_of_arn(identifier)
            if record is None:
                raise _refusal(404, "ResourceNotFoundFault", f"The specified resource {str(identifier)[:200]} was "
                                                             "not found.")
        return {"PendingMaintenanceActions": []}

    # -- events ------------------------------------------------------------------------------------------

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
