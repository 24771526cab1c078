"""The DynamoDB operations the lab adds to the backend: point-in-time recovery that honours the time asked for,
global tables (version 2019.11.21) whose replicas the DynamoDB engine keeps in step, and backups and restores
that take the time AWS's do.

DescribeTable and DescribeContinuousBackups show the backend's answer as this lab knows the table (replicas,
restore summary, the recovery window, `CREATING` while a restore runs); UpdateContinuousBackups,
RestoreTableToPointInTime, RestoreTableFromBackup, CreateBackup and UpdateTable with ReplicaUpdates act on the
engine; the lab answers exports to S3 (ExportTableToPointInTime, DescribeExport, ListExports) itself. A table that
is `CREATING` refuses what AWS refuses: item reads and writes with ResourceNotFoundException ("The resource might
not be specified correctly, or its status might not be ACTIVE", API Reference: ResourceNotFoundException), changes
with ResourceInUseException ("You tried to delete a table currently in the CREATING state", API Reference:
ResourceInUseException). Every other operation goes to the backend.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab import config
from lab.gateway import audit
from lab.kernel.api import BackendAnswer, Call, ServiceApi, paginate
from lab.kernel.errors import AwsError, NotSimulatedError
from lab.services.dynamodb.engine import (
    DEFAULT_RECOVERY_DAYS,
    GLOBAL_TABLE_VERSION,
    BackupRecord,
    DynamoDB,
    TableRecord,
    region_and_name,
    replica_status,
    table_arn,
    table_name,
)
from lab.services.dynamodb.exports import IDEMPOTENCY_SECONDS, SSE_ALGORITHMS
from lab.sim.clock import iso
from lab.sim.durations import progress

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

# "The maximum length of any expression string is 4 KB"
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-expression-parameters)
MAX_EXPRESSION_BYTES = 4096
_EXPRESSIONS = frozenset({"ConditionExpression", "FilterExpression", "KeyConditionExpression", "ProjectionExpression",
                          "UpdateExpression"})
_ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                              "BatchWriteItem", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
                              "BatchExecuteStatement", "ExecuteTransaction"})
_TABLE_CHANGES = frozenset({"UpdateTable", "DeleteTable", "UpdateContinuousBackups", "UpdateTimeToLive",
                            "TagResource", "UpdateTableReplicaAutoScaling"})
_PARTIQL_TABLES = re.compile(r'\b(?:from|into|update)\s+"?([A-Za-z0-9_.-]+)"?', re.IGNORECASE)
_BACKUP_IN_USE = ("There is another ongoing conflicting backup control plane operation on the table. The backup is "
                  "either being created, deleted or restored to a table.")  # API Reference: BackupInUseException


class DynamoDBApi(ServiceApi):
    service = "dynamodb"
    service_principal = DynamoDB.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(DynamoDB)
        assert engine is not None, "the DynamoDB API needs the DynamoDB engine"
        self.engine = engine

    def check(self, call: Call) -> None:
        """DynamoDB's limits on expressions, wherever a request carries them (transactions, batch reads); and what
        a `CREATING` table refuses."""
        for name, expression in _expressions(call.params):
            size = len(expression.encode("utf-8", "replace"))
            if size > MAX_EXPRESSION_BYTES:
                raise AwsError("ValidationException", f"Invalid {name}: Expression size has exceeded the maximum "
                                                      f"allowed size; expression size: {size}")
        operation = call.operation
        if operation not in _ITEM_OPERATIONS and operation not in _TABLE_CHANGES and operation != "CreateBackup":
            return
        now = self.now()
        for table in _tables_named(operation, call.params):
            if not self.engine.creating(call.region, table, now):
                continue
            if operation in _ITEM_OPERATIONS:
                raise AwsError("ResourceNotFoundException", "Requested resource not found")
            if operation == "CreateBackup":
                raise AwsError("TableInUseException", f"Table is being created: {table}")
            raise AwsError("ResourceInUseException",
                           f"Attempt to change a resource which is still in use: Table is being created: {table}")

    # -- tables ------------------------------------------------------------------------------------------

    def op_DescribeTable(self, call: Call) -> dict[str, Any]:
        answer = call.forward()
        self._present_table(answer["Table"], call.region)
        return answer

    def _present_table(self, shown: dict[str, Any], region: str) -> None:
        state = self.engine.state
        name = shown.get("TableName", "")
        record = state.tables.get(f"{region}/{name}")
        if record is not None and record.restored_from is not None:
            # "shown with the status Creating and restore in progress as true" (DynamoDB Developer Guide:
            # Restoring a DynamoDB table to a point in time)
            summary: dict[str, Any] = {"SourceTableArn": record.restored_from[0],
                                       "RestoreDateTime": record.restored_from[1],
                                       "RestoreInProgress": record.restoring}
            if record.restore_backup:
                summary["SourceBackupArn"] = record.restore_backup
            shown["RestoreSummary"] = summary
        if record is not None and record.restoring:
            shown.update(TableStatus="CREATING", ItemCount=0, TableSizeBytes=0)
        elif record is not None:
            size, count = self.engine.reported_figures(record, self.engine.now())
            shown.update(ItemCount=count, TableSizeBytes=size)
        group = state.global_tables.get(name)
        if group is None or region not in group.members:
            return
        now = self.engine.now()
        statuses = {member: replica_status(replica, now) for member, replica in group.members.items()}
        shown["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
        shown["Replicas"] = []
        for member, status in sorted(statuses.items()):
            if member == region:
                continue
            replica: dict[str, Any] = {"RegionName": member, "ReplicaStatus": status,
                                       "ReplicaArn": table_arn(member, name)}
            shown_replica = group.members[member]
            if status == "CREATING" and shown_replica.until is not None:
                started = shown_replica.since if shown_replica.since is not None else shown_replica.until
                replica["ReplicaStatusPercentProgress"] = str(progress(started, shown_replica.until, now))
            shown["Replicas"].append(replica)
        own = statuses[region]
        if own in ("CREATING", "DELETING"):
            shown["TableStatus"] = own
        elif any(status in ("CREATING", "DELETING") for status in statuses.values()):
            shown["TableStatus"] = "UPDATING"

    def op_DeleteTable(self, call: Call) -> dict[str, Any]:
        """The answer shows the table `DELETING` (API Reference: DeleteTable), not the backend's last status."""
        answer = call.forward()
        answer["TableDescription"]["TableStatus"] = "DELETING"
        return answer

    def _refuse_second_stream(self, region: str, name: str) -> None:
        """Enabling a stream on a table that has one is DynamoDB's ValidationException (moto: ResourceInUse
        "Cannot enable stream")."""
        try:
            with audit.unrecorded():
                shown = self.sandbox.client("dynamodb", region).describe_table(TableName=name)["Table"]
        except ClientError:
            return  # (no such table: the backend answers that)
        if (shown.get("StreamSpecification") or {}).get("StreamEnabled"):
            raise AwsError("ValidationException", f"Table already has an enabled stream: TableName: {name}")

    # -- point-in-time recovery --------------------------------------------------------------------------

    def _present_backups(self, description: dict[str, Any], record: TableRecord) -> None:
        pitr = description.setdefault("PointInTimeRecoveryDescription", {})
        if record.pitr_since is None:
            description["PointInTimeRecoveryDescription"] = {"PointInTimeRecoveryStatus": "DISABLED"}
            return
        earliest, latest = self.engine.window(record, self.engine.now())
        pitr.update(PointInTimeRecoveryStatus="ENABLED", RecoveryPeriodInDays=record.recovery_days,
                    EarliestRestorableDateTime=earliest, LatestRestorableDateTime=latest)

    def op_DescribeContinuousBackups(self, call: Call) -> dict[str, Any]:
        answer = call.forward()
        record = self.engine.state.tables.get(f"{call.region}/{table_name(call.params.get('TableName', ''))}")
        if record is not None:
            self._present_backups(answer["ContinuousBackupsDescription"], record)
        return answer

    def op_UpdateContinuousBackups(self, call: Call) -> dict[str, Any]:
        engine, region = self.engine, call.region
        spec = call.params.get("PointInTimeRecoverySpecification") or {}
        days = spec.get("RecoveryPeriodInDays")
        if days is not None and not (isinstance(days, int) and 1 <= days <= DEFAULT_RECOVERY_DAYS):
            raise AwsError("ValidationException",
                           f"RecoveryPeriodInDays must be between 1 and {DEFAULT_RECOVERY_DAYS}, not {days}")
        answer = call.forward()
        record = engine.ensure_table(region, table_name(call.params["TableName"]))
        if record is not None:
            if spec.get("PointInTimeRecoveryEnabled"):
                if record.pitr_since is None:
                    record.pitr_since = engine.now()
                    engine.emit("PointInTimeRecoveryEnabled", region=region, resource=record.name)
                if days is not None:
                    record.recovery_days = days
            elif record.pitr_since is not None:
                record.pitr_since = None  # AWS drops the continuous backups with it
                record.recovery_days = DEFAULT_RECOVERY_DAYS
                engine.emit("PointInTimeRecoveryDisabled", region=region, resource=record.name)
            self._present_backups(answer["ContinuousBackupsDescription"], record)
        return answer

    def op_RestoreTableToPointInTime(self, call: Call) -> dict[str, Any]:
        engine, request, region = self.engine, call.params, call.region
        state = engine.state
        source_arn, source_name = request.get("SourceTableArn"), request.get("SourceTableName")
        if not source_arn and not source_name:
            raise AwsError("ValidationException", "Either SourceTableArn or SourceTableName must be given")
        source_region, name = region_and_name(source_arn or source_name, region)
        target = request["TargetTableName"]
        record = state.tables.get(f"{source_region}/{name}")
        if record is None:
            raise AwsError("TableNotFoundException", f"Table not found: {source_arn or name}")
        if f"{region}/{target}" in state.tables:
            raise AwsError("TableAlreadyExistsException", f"Table already exists: {target}")
        if record.pitr_since is None:
            raise AwsError("PointInTimeRecoveryUnavailableException",
                           f"Point in time recovery is not enabled for table '{name}'")
        use_latest, restore_time = request.get("UseLatestRestorableTime"), request.get("RestoreDateTime")
        if use_latest and restore_time is not None:
            raise AwsError("ValidationException",
                           "Only one of RestoreDateTime and UseLatestRestorableTime can be specified")
        if not use_latest and restore_time is None:
            raise AwsError("ValidationException",
                           "Either RestoreDateTime or UseLatestRestorableTime must be specified")
        earliest, latest = engine.window(record, engine.now())
        when = latest if use_latest else restore_time.timestamp()
        if not earliest <= when <= latest:
            raise AwsError("InvalidRestoreTimeException",
                           f"RestoreDateTime must be between EarliestRestorableDateTime ({iso(earliest)}) and "
                           f"LatestRestorableDateTime ({iso(latest)}); it was {iso(when)}")
        ref = state.histories[record.history].ref_at(when)
        try:
            restored = engine.create_copy(region, target, json.loads(record.definition), ref, request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise AwsError(error.get("Code", "ValidationException"), error.get("Message", str(exc))) from exc
        restored.restored_from = (record.arn, when)
        engine.emit("TableRestoringToPointInTime", region=region, resource=target, source_table=record.arn,
                    at=iso(when))
        shown = self.sandbox.client("dynamodb", region).describe_table(TableName=target)["Table"]
        return {"TableDescription": shown}

    # -- exports to S3 -----------------------------------------------------------------------------------

    def op_ExportTableToPointInTime(self, call: Call) -> dict[str, Any]:
        """A full export of the table as of ExportTime (default: now) to S3, IN_PROGRESS until its files are
        written (lab.services.dynamodb.exports); refused as the API Reference says: PITR off
        (PointInTimeRecoveryUnavailableException), a time outside the recovery window
        (InvalidExportTimeException), a ClientToken reused for another export within 8 hours
        (ExportConflictException)."""
        engine, params = self.engine, call.params
        if (params.get("ExportType") or "FULL_EXPORT") != "FULL_EXPORT" or params.get("IncrementalExportSpecification"):
            raise NotSimulatedError("the lab's DynamoDB exports full tables (ExportType FULL_EXPORT); incremental "
                                    "exports are not simulated")
        if params.get("ExportFormat") == "ION":
            raise NotSimulatedError("the lab's DynamoDB exports write DYNAMODB_JSON; ION output is not simulated")
        if params.get("ExportFormat") not in (None, "DYNAMODB_JSON"):
            raise AwsError("ValidationException", f"ExportFormat must be DYNAMODB_JSON or ION, not "
                                                  f"{params.get('ExportFormat')!r}")
        if params.get("S3SseAlgorithm") not in (None, *SSE_ALGORITHMS):
            raise AwsError("ValidationException", f"S3SseAlgorithm must be AES256 or KMS, not "
                                                  f"{params.get('S3SseAlgorithm')!r}")
        arn = params.get("TableArn", "")
        region, name = region_and_name(arn, call.region)
        record = engine.ensure_table(region, name) if region == call.region else None
        if record is None:
            raise AwsError("TableNotFoundException", f"Table not found: {arn}")
        now = self.now()
        token = params.get("ClientToken")
        if token:
            for export in engine.state.exports.values():
                if export.client_token == token and now - export.started < IDEMPOTENCY_SECONDS:
                    if not export.same_request(params):
                        raise AwsError("ExportConflictException",
                                       f"ClientToken {token} was used within the last 8 hours for another export")
                    return {"ExportDescription": export.description()}
        if record.pitr_since is None:
            raise AwsError("PointInTimeRecoveryUnavailableException",
                           f"Point in time recovery is not enabled for table '{name}'")
        earliest, _ = engine.window(record, now)
        asked = params.get("ExportTime")
        when = asked.timestamp() if asked is not None else now
        if not earliest <= when <= now:
            raise AwsError("InvalidExportTimeException",
                           f"ExportTime must be between the table's EarliestRestorableDateTime ({iso(earliest)}) "
                           f"and now ({iso(now)}); it was {iso(when)}")
        return {"ExportDescription": engine.start_export(record, when, params).description()}

    def op_DescribeExport(self, call: Call) -> dict[str, Any]:
        arn = call.params.get("ExportArn", "")
        export = self.engine.state.exports.get(arn)
        if export is None or export.region != call.region:
            raise AwsError("ExportNotFoundException", f"Export not found: {arn}")
        return {"ExportDescription": export.description()}

    def op_ListExports(self, call: Call) -> dict[str, Any]:
        """The Region's exports, oldest first, of one table when TableArn is given (MaxResults 1-25)."""
        table = call.params.get("TableArn")
        exports = [export for export in self.engine.state.exports.values()
                   if export.region == call.region and (table is None or export.table_arn == table)]
        page, token = paginate(exports, call.params, default_size=25, invalid_code="ValidationException")
        answer: dict[str, Any] = {"ExportSummaries": [export.summary() for export in page]}
        if token:
            answer["NextToken"] = token
        return answer

    # -- on-demand backups -------------------------------------------------------------------------------

    def _present_backup(self, details: dict[str, Any], record: BackupRecord | None) -> dict[str, Any]:
        if record is not None:
            details["BackupStatus"] = "CREATING" if self.now() < record.available_at else "AVAILABLE"
            details["BackupSizeBytes"] = record.size_bytes
        return details

    def op_CreateBackup(self, call: Call) -> dict[str, Any]:
        """`CREATING` for dynamodb.backup.* of the table's size, then AVAILABLE ("Backup requests are processed
        instantaneously and become available for restore within minutes", API Reference: CreateBackup)."""
        engine, region = self.engine, call.region
        name = table_name(call.params.get("TableName", ""))
        now = self.now()
        busy = [b for b in engine.state.backups.values()
                if b.region == region and b.table == name and now < b.available_at]
        if busy:
            raise AwsError("BackupInUseException", _BACKUP_IN_USE)
        answer = call.forward()
        details = answer["BackupDetails"]
        record = engine.ensure_table(region, name)
        if record is not None:
            ref = engine.state.histories[record.history].latest()
            size, count = engine.items_size(ref)
            backup = BackupRecord(details["BackupArn"], region, name, record.arn, ref, record.definition, now,
                                  now + self.sandbox.durations.dynamodb_backup(size / 2**30), size, count)
            engine.state.backups[backup.arn] = backup
            engine.emit("BackupCreating", region=region, resource=backup.arn, table=name,
                        available_at=iso(backup.available_at))
            self._present_backup(details, backup)
        return answer

    def _present_backup_description(self, description: dict[str, Any], record: BackupRecord | None) -> None:
        """BackupDescription as AWS shows it: the source table's figures and billing mode when backed up, and
        its features (SourceTableFeatureDetails: indexes, stream, TTL, encryption)."""
        self._present_backup(description.get("BackupDetails") or {}, record)
        if record is None:
            return
        table = json.loads(record.definition)
        source = description.setdefault("SourceTableDetails", {})
        source.update(TableSizeBytes=record.size_bytes, ItemCount=record.item_count,
                      BillingMode=(table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED")
        features: dict[str, Any] = {}
        for name in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            indexes = [{key: index[key] for key in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                        if key in index} for index in table.get(name) or []]
            if indexes:
                features[name] = indexes
        for name in ("StreamDescription", "TimeToLiveDescription", "SSEDescription"):
            if table.get(name):
                features[name] = table[name]
        stream = table.get("StreamSpecification")
        if "StreamDescription" not in features and stream:
            features["StreamDescription"] = stream
        if features:
            description["SourceTableFeatureDetails"] = features

    def op_DescribeBackup(self, call: Call) -> dict[str, Any]:
        answer = call.forward()
        description = answer.get("BackupDescription") or {}
        record = self.engine.state.backups.get((description.get("BackupDetails") or {}).get("BackupArn", ""))
        self._present_backup_description(description, record)
        return answer

    def op_ListBackups(self, call: Call) -> dict[str, Any]:
        answer = call.forward()
        for summary in answer.get("BackupSummaries") or []:
            self._present_backup(summary, self.engine.state.backups.get(summary.get("BackupArn", "")))
        return answer

    def op_DeleteBackup(self, call: Call) -> dict[str, Any]:
        arn = call.params.get("BackupArn", "")
        record = self.engine.state.backups.get(arn)
        restoring = any(table.restoring and table.restore_backup == arn for table in self.engine.state.tables.values())
        if (record is not None and self.now() < record.available_at) or restoring:
            raise AwsError("BackupInUseException", _BACKUP_IN_USE)
        answer = call.forward()
        self.engine.state.backups.pop(arn, None)
        self._present_backup_description(answer.get("BackupDescription") or {}, record)
        return answer

    def op_RestoreTableFromBackup(self, call: Call) -> dict[str, Any]:
        """A new table, `CREATING` with RestoreInProgress true for dynamodb.restore.*, that receives the
        backup's items when it becomes ACTIVE."""
        engine, params, region = self.engine, call.params, call.region
        record = engine.state.backups.get(params.get("BackupArn", ""))
        if record is None or record.region != region:
            return call.forward()  # a backup the lab did not see made: the backend restores it (or refuses)
        if self.now() < record.available_at:
            raise AwsError("BackupInUseException", _BACKUP_IN_USE)
        target = params["TargetTableName"]
        if f"{region}/{target}" in engine.state.tables:
            raise AwsError("TableAlreadyExistsException", f"Table already exists: {target}")
        overrides = {k: v for k, v in params.items() if k.endswith("Override")}
        try:
            restored = engine.create_copy(region, target, json.loads(record.definition), record.ref, overrides)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise AwsError(error.get("Code", "ValidationException"), error.get("Message", str(exc))) from exc
        restored.restored_from = (record.table_arn, record.created)
        restored.restore_backup = record.arn
        engine.emit("TableRestoringFromBackup", region=region, resource=target, backup=record.arn)
        shown = self.sandbox.client("dynamodb", region).describe_table(TableName=target)["Table"]
        return {"TableDescription": shown}

    # -- global tables -----------------------------------------------------------------------------------

    def op_UpdateTable(self, call: Call) -> dict[str, Any] | BackendAnswer:
        request, region = call.params, call.region
        if (request.get("StreamSpecification") or {}).get("StreamEnabled"):
            self._refuse_second_stream(region, table_name(request.get("TableName", "")))
        if "ReplicaUpdates" not in request:
            return call.backend_answer()
        engine = self.engine
        name = table_name(request.get("TableName", ""))
        others = sorted(key for key in request if key not in ("TableName", "ReplicaUpdates"))
        if others:
            raise AwsError("ValidationException",
                           f"ReplicaUpdates cannot be combined with other changes in one UpdateTable call "
                           f"(also given: {', '.join(others)})")
        record = engine.ensure_table(region, name)
        if record is None:
            raise AwsError("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
        dynamodb = self.sandbox.client("dynamodb", region)
        description = dynamodb.describe_table(TableName=name)["Table"]
        for update in request.get("ReplicaUpdates") or []:
            action = next(iter(update), "")
            target = (update.get(action) or {}).get("RegionName", "")
            self._check_replica_update(action, name, region, target, description)
        for update in request.get("ReplicaUpdates") or []:
            action = next(iter(update))
            target = update[action]["RegionName"]
            if action == "Create":
                engine.add_replica(record, target, description)
            else:
                engine.remove_replica(record, target)
        shown = dynamodb.describe_table(TableName=name)["Table"]
        return {"TableDescription": shown}

    def _check_replica_update(self, action: str, name: str, region: str, target: str,
                              description: dict[str, Any]) -> None:
        state = self.engine.state
        group = state.global_tables.get(name)
        members = group.members if group is not None else {}
        if action not in ("Create", "Delete"):
            raise NotSimulatedError(f"UpdateTable ReplicaUpdates {action} (Create and Delete are supported)")
        if target not in config.REGIONS:
            raise AwsError("ValidationException", f"The region {target!r} is not available in this sandbox "
                                                  f"(regions: {', '.join(config.REGIONS)})")
        if action == "Delete":
            if target not in members:
                raise AwsError("ValidationException", f"Replica specified in the Replica Update for table {name} "
                                                      f"does not exist: {target}")
            return
        if target == region or target in members or f"{target}/{name}" in state.tables:
            raise AwsError("ValidationException", f"Failed to create a the new replica of table with name: '{name}' "
                                                  "because one or more replicas already existed as tables.")
        billing = (description.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
        if billing != "PAY_PER_REQUEST" and not self._write_capacity_autoscaled(region, name):
            raise AwsError("ValidationException", "Table write capacity should either be Pay-Per-Request or "
                                                  "AutoScaled.")
        stream = description.get("StreamSpecification") or {}
        if stream.get("StreamEnabled") and stream.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
            raise AwsError("ValidationException", "Table must have DynamoDB Streams enabled with StreamViewType "
                                                  "NEW_AND_OLD_IMAGES to add a replica")

    def _write_capacity_autoscaled(self, region: str, name: str) -> bool:
        autoscaling = self.sandbox.client("application-autoscaling", region)
        targets = autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb",
                                                        ResourceIds=[f"table/{name}"])["ScalableTargets"]
        return any(t["ScalableDimension"] == "dynamodb:table:WriteCapacityUnits" for t in targets)


def _expressions(value: Any) -> list[tuple[str, str]]:
    """(member name, expression) of every expression in a request's parameters."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for name, item in value.items():
            if name in _EXPRESSIONS and isinstance(item, str):
                found.append((name, item))
            elif isinstance(item, (dict, list)) and name not in ("Item", "Key", "ExpressionAttributeValues"):
                found.extend(_expressions(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_expressions(item))
    return found


def _tables_named(operation: str, params: dict[str, Any]) -> set[str]:
    """The tables a call reads or changes."""
    found = set()
    if params.get("TableName"):
        found.add(table_name(params["TableName"]))
    if params.get("ResourceArn"):
        found.add(table_name(params["ResourceArn"]))
    found.update(table_name(name) for name in params.get("RequestItems") or {})
    for item in params.get("TransactItems") or []:
        for action in item.values():
            if isinstance(action, dict) and action.get("TableName"):
                found.add(table_name(action["TableName"]))
    statements = ([params.get("Statement") or ""] +
                  [each.get("Statement") or "" for each in params.get("Statements") or []] +
                  [each.get("Statement") or "" for each in params.get("TransactStatements") or []])
    for statement in statements:
        found.update(_PARTIQL_TABLES.findall(statement))
    return found
