"""The inventory: everything the checks judge, read from the sandbox into one JSON-serialisable document.

Like AWS Config's configuration items plus data digests, for both regions. Checks (the `checks` package)
are pure functions of it, so the same checks grade a live sandbox or an exported file.

Schema (SCHEMA_VERSION "1.0"; times are ISO 8601 UTC strings of sim time; maps are sorted by key):
  schema_version, collected_at, collected_epoch, account_id, regions (names), services (what was collected),
  errors: [{service, region, part, error}] -- what could not be read (the rest still is)
  regions: {region: {
    s3: {buckets: {name: {name, region, arn, created, tags, versioning ("Enabled"|"Suspended"|"Off"), mfa_delete,
         replication: null | {role, rules: [{id, status, priority, prefix (null: whole bucket), tags,
           destination_bucket, destination_arn, storage_class, delete_marker_replication, replication_time,
           existing_objects}]},
         object_lock: {enabled, mode, days, years}, lifecycle: [AWS rule dicts],
         objects: {count (keys whose latest version is not a delete marker), version_count, delete_marker_count,
           truncated, limit, replication_status_known,
           keys: {key: [{version_id, etag, size, last_modified, latest, delete_marker, replication_status}]}}}}},
         -- each key's versions newest first
    dynamodb: {tables: {name: {name, region, arn, status, created, key_schema: [{name, type}], billing_mode,
           tags, stream, deletion_protection, replicas: [{region, status}], global_table_version, restore,
           pitr: {status, earliest, latest, recovery_period_days},
           items: {count, sha256 (of the sorted canonical keys), order_ids (sorted; when the key has order_id)}}},
         backups: [{arn, name, table, status, type, created}], global_tables: [{name, replicas, status}]},
    rds: {instances: {id: {id, region, arn, status, engine, engine_version, instance_class, az, secondary_az,
           multi_az, backup_retention, backup_window, latest_restorable, deletion_protection, storage_encrypted,
           kms_key, created, endpoint: {address, port}, read_replica_source, read_replicas, tags,
           pending_modified, orders: null | {count, min_created_at, max_created_at, sha256, order_ids, error}}},
         snapshots: {id: {id, region, arn, instance, type, status, created, percent_progress, encrypted,
           source_region, source_snapshot, tags}},
         automated_backups: [{arn, instance, instance_arn, region, source_region, status, retention, earliest,
           latest}]},
    ec2: {instances: {id: {id, region, arn, state, az, type, tags, volumes, private_ip, public_ip, image,
           launched}},
         volumes: {id: {id, region, arn, az, state, size, type, encrypted, snapshot_id, created, tags,
           attachments: [{instance, device, state}]}},
         snapshots: {id: {id, region, volume, state, progress, created, encrypted, description, tags, size,
           source_snapshot, source_region}},
         dlm_policies: {id: {id, region, arn, description, state, execution_role, policy_type, resource_types,
           target_tags, schedules: [{name, interval, interval_unit, cron, times, retain_count, retain_interval,
           retain_interval_unit, copy_tags, cross_region_copy: [{target_region, encrypted, retain_interval,
           retain_interval_unit}]}]}}},
    backup: {vaults: {name: {name, region, arn, created, encryption_key, recovery_points, locked,
           lock: {min_retention_days, max_retention_days, lock_date}, access_policy}},
         plans: {id: {id, region, arn, name, version, rules: [{name, id, target_vault, schedule, timezone,
           start_window, completion_window, lifecycle: {delete_after_days, move_to_cold_after_days},
           copy_actions: [{destination_vault_arn, lifecycle}], continuous}],
           selections: [{id, name, role, resources, not_resources, list_of_tags: [{type, key, value}],
           conditions: {StringEquals: [{key, value}], ...}}]}},
         recovery_points: [{arn, region, vault, resource_arn, resource_type, status, created, completed,
           encrypted, encryption_key, lifecycle, delete_at, source_vault_arn, plan_id}],
         jobs, copy_jobs, restore_jobs: [...] (backup and restore jobs with percent_done),
         frameworks: [{name, arn, region, deployment_status, status, controls: [{name, params}]}]},
    cloudtrail: {trails: {name: {name, arn, region, home_region, multi_region, bucket, logging,
           log_file_validation, event_selectors, advanced_event_selectors}},
         events: [{id, name, time, source, user, error_code, error_message, resources}] -- write events of
           AUDITED_EVENT_SOURCES, refused ones included},
    drs: {initialized, source_servers: {id: {id, arn, instance, hostname, origin_region, state, lag, eta, error,
           initiation_step, replicated_percent, direction, recovery_instance, last_launch_result, tags}},
         jobs: [{id, type, initiated_by, status, created, ended, servers: [{source_server, recovery_instance,
           launch_status}]}] -- newest first,
         recovery_instances: {id: {id, instance, state, source_server, job, drill, point_in_time, tags}}}}}
  global: {iam: {roles: {name: {name, arn, created, trust_policy, attached_policies, inline_policies, tags}}},
           route53: {zones: {id: {id, name, private, records: [{name, type, ttl, values, alias, set_identifier,
             failover, health_check_id, weight, region}]}},
             health_checks: {id: {id, type, ip, port, fqdn, resource_path, failure_threshold, inverted,
             disabled, status ("Healthy"|"Unhealthy"|null)}}}}
  orders: {total, ledger: [{order_id, created_at, stored, invoice_key, invoice_etag}]}
  drills: [drill dicts of GET /_lab/drills], faults: {injections: [GET /_lab/faults?all=1], regions_down},
  clock: {GET /_lab/clock}

Collecting: `collect(client_for, admin_get, regions, services)`; inside the sandbox `collect_in_sandbox`
(one consistent instant under the sandbox lock, the data layer's fast reads, unseen by faults and the
audit); from outside `collect_from_endpoint`, which asks the sandbox's GET /_lab/inventory and falls back to
the AWS APIs (slower, capped listings) when another endpoint answers.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from lab import config
from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter

SCHEMA_VERSION = "1.0"
REGION_SERVICES = ("s3", "dynamodb", "rds", "ec2", "backup", "cloudtrail", "drs")
GLOBAL_SERVICES = ("iam", "route53")
LAB_PARTS = ("orders", "drills")
SERVICES = (*REGION_SERVICES, *GLOBAL_SERVICES, *LAB_PARTS)
DEFAULT_MAX_VERSIONS = 20_000  # per bucket, through the data layer (in the sandbox)
API_MAX_VERSIONS = 2_000  # per bucket, through ListObjectVersions (from outside): moto lists ~1000/s
MAX_JOBS = 1_000  # newest backup/copy/restore jobs kept per region
MAX_TRAIL_EVENTS = 200
AUDITED_EVENT_SOURCES = ("backup.amazonaws.com",)
ORDER_ID_PAGE = 10_000  # rows per SELECT through POST /_lab/sql (its result cap)
ORDER_ID_PAGE_SQL = "SELECT order_id FROM orders WHERE order_id > ? ORDER BY order_id LIMIT ?"
# "[Copied snap-1 from us-east-1]" (AWS), "Copy of snap-1 (...)": where a copy came from, if its description says
_COPIED_FROM = re.compile(r"cop(?:y|ied)\b\D*?(snap-[0-9a-f]+)(?:.*?\bfrom\s+([a-z]{2}(?:-[a-z]+)+-\d))?",
                          re.IGNORECASE)

ClientFor = Callable[[str, str], Any]
AdminGet = Callable[[str], Any]
AdminPost = Callable[[str, Mapping[str, Any]], Any]


class CollectionError(Exception):
    pass


# -- small conversions --------------------------------------------------------------------------------

def iso(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def tag_dict(tags: Iterable[Mapping[str, Any]] | Mapping[str, str] | None) -> dict[str, str]:
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in sorted(tags.items())}
    return dict(sorted((str(t.get("Key")), str(t.get("Value", ""))) for t in tags))


def policy_document(value: Any) -> dict[str, Any] | None:
    """An IAM or resource policy as a dict (boto3 gives IAM's decoded, others as JSON text)."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return dict(value)
    text = str(value)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        try:
            return json.loads(unquote(text))
        except json.JSONDecodeError:
            return {"unparsed": text}


def error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def sorted_map(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return dict(sorted(items, key=lambda pair: pair[0]))


def key_digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


# -- the collector ------------------------------------------------------------------------------------

class Collector:
    """Reads one inventory. `data` (the sandbox's data layer) and `replication_status` make S3 and
    DynamoDB reads fast and complete inside the sandbox; without them the AWS APIs are used."""

    def __init__(self, client_for: ClientFor, admin_get: AdminGet | None, regions: Iterable[str],
                 services: set[str], *, admin_post: AdminPost | None = None, data: Any = None,
                 replication_status: Callable[[str, str], str | None] | None = None,
                 ledger: Callable[[], list[dict[str, Any]]] | None = None,
                 max_versions: int | None = None, parallel: bool = False) -> None:
        self.client_for = client_for
        self.admin_get = admin_get
        self.admin_post = admin_post
        self.ledger = ledger
        self.regions = list(regions)
        self.services = services
        self.data = data
        self.replication_status = replication_status
        self.max_versions = max_versions or (DEFAULT_MAX_VERSIONS if data is not None else API_MAX_VERSIONS)
        self.parallel = parallel
        self.errors: list[dict[str, Any]] = []
        self._errors_lock = threading.Lock()
        self.account_id = config.ACCOUNT_ID

    # -- bookkeeping -------------------------------------------------------------------------------

    def note(self, service: str, region: str | None, part: str, exc: Exception) -> None:
        text = str(exc) or type(exc).__name__
        with self._errors_lock:
            self.errors.append({"service": service, "region": region, "part": part, "error": text})

    def attempt(self, service: str, region: str | None, part: str, read: Callable[[], Any], default: Any) -> Any:
        try:
            return read()
        except (ClientError, BotoCoreError, CollectionError, LookupError, ValueError, KeyError, TypeError) as exc:
            self.note(service, region, part, exc)
            return default

    def admin(self, path: str) -> Any:
        if self.admin_get is None:
            return None
        try:
            return self.admin_get(path)
        except Exception as exc:
            raise CollectionError(f"GET /_lab/{path}: {exc}") from exc

    # -- the whole ---------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        clock = self.attempt("clock", None, "clock", lambda: self.admin("clock"), None) or {}
        epoch = clock.get("epoch")
        if epoch is None:
            epoch = datetime.now(tz=UTC).timestamp()  # no sandbox clock: another endpoint's real time
        tasks: list[tuple[str, str | None, Callable[[], Any]]] = []
        for region in self.regions:
            for service in REGION_SERVICES:
                if service in self.services:
                    tasks.append((service, region, getattr(self, f"_{service}_section")))
        for service in GLOBAL_SERVICES:
            if service in self.services:
                tasks.append((service, None, getattr(self, f"_{service}_section")))
        if "orders" in self.services:
            tasks.append(("orders", None, self._orders))
        if "drills" in self.services:
            tasks.append(("drills", None, self._drills))

        def one(task: tuple[str, str | None, Callable[..., Any]]) -> Any:
            service, region, read = task
            try:
                return read(region) if region is not None else read()
            except Exception as exc:  # noqa: BLE001 -- one unreadable part must not lose the others
                self.note(service, region, "all", exc)
                return None

        if self.parallel and len(tasks) > 1:
            with ThreadPoolExecutor(max_workers=min(8, len(tasks))) as pool:
                results = list(pool.map(one, tasks))
        else:
            results = [one(task) for task in tasks]
        inventory: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "collected_at": clock.get("now") or iso(epoch),
            "collected_epoch": epoch,
            "account_id": self.account_id,
            "regions": {region: {} for region in self.regions},
            "services": sorted(self.services),
            "errors": [],
            "global": {},
            "orders": {"total": 0, "ledger": []},
            "drills": [],
            "faults": {"injections": [], "regions_down": []},
            "clock": clock,
        }
        for (service, region, _), result in zip(tasks, results, strict=True):
            if region is not None:
                inventory["regions"][region][service] = result if result is not None else EMPTY[service]()
            elif service in GLOBAL_SERVICES:
                inventory["global"][service] = result if result is not None else EMPTY[service]()
            elif service == "drills" and result is not None:
                inventory.update(result)
            elif result is not None:
                inventory[service] = result
        inventory["errors"] = sorted(self.errors, key=lambda e: (e["service"], e["region"] or "", e["part"]))
        return inventory

    # -- S3 ------------------------------------------------------------------------------------------

    def _s3_section(self, region: str) -> dict[str, Any]:
        s3 = self.client_for("s3", region)
        listed = s3.list_buckets(BucketRegion=region)["Buckets"]
        buckets = {}
        for entry in listed:
            name = entry["Name"]
            buckets[name] = self._bucket(s3, region, name, entry.get("CreationDate"))
        return {"buckets": sorted_map(buckets.items())}

    def _optional(self, call: Callable[[], Any], *absent: str) -> Any:
        try:
            return call()
        except ClientError as exc:
            if error_code(exc) in absent:
                return None
            raise

    def _bucket(self, s3: Any, region: str, name: str, created: Any) -> dict[str, Any]:
        part = f"bucket {name}"
        versioning = self.attempt("s3", region, part, lambda: s3.get_bucket_versioning(Bucket=name), {})
        replication = self.attempt("s3", region, part, lambda: self._optional(
            lambda: s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"],
            "ReplicationConfigurationNotFoundError"), None)
        lock = self.attempt("s3", region, part, lambda: self._optional(
            lambda: s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"],
            "ObjectLockConfigurationNotFoundError"), None)
        lifecycle = self.attempt("s3", region, part, lambda: self._optional(
            lambda: s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"], "NoSuchLifecycleConfiguration"), None)
        tags = self.attempt("s3", region, part, lambda: self._optional(
            lambda: s3.get_bucket_tagging(Bucket=name)["TagSet"], "NoSuchTagSet"), None)
        retention = ((lock or {}).get("Rule") or {}).get("DefaultRetention") or {}
        return {
            "name": name, "region": region, "arn": f"arn:aws:s3:::{name}", "created": iso(created),
            "tags": tag_dict(tags),
            "versioning": versioning.get("Status") or "Off",
            "mfa_delete": versioning.get("MFADelete"),
            "replication": _replication(replication) if replication else None,
            "object_lock": {"enabled": (lock or {}).get("ObjectLockEnabled") == "Enabled",
                            "mode": retention.get("Mode"), "days": retention.get("Days"),
                            "years": retention.get("Years")},
            "lifecycle": lifecycle or [],
            "objects": self.attempt("s3", region, f"objects of {name}", lambda: self._objects(s3, region, name),
                                    _empty_objects(self.max_versions)),
        }

    def _objects(self, s3: Any, region: str, name: str) -> dict[str, Any]:
        if self.data is not None:
            listed = [(v.key, v.version_id, v.etag, v.size, v.last_modified, v.is_latest, v.is_delete_marker)
                      for v in self.data.list_object_versions(region, name)]
            truncated = len(listed) > self.max_versions
            listed = listed[:self.max_versions]
        else:
            listed, truncated = [], False
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
                for entry in page.get("Versions", []):
                    listed.append((entry["Key"], entry["VersionId"], entry.get("ETag", "").strip('"') or None,
                                   entry.get("Size", 0), entry["LastModified"], entry["IsLatest"], False))
                for entry in page.get("DeleteMarkers", []):
                    listed.append((entry["Key"], entry["VersionId"], None, 0, entry["LastModified"],
                                   entry["IsLatest"], True))
                if len(listed) >= self.max_versions:
                    truncated = bool(page.get("IsTruncated")) or len(listed) > self.max_versions
                    listed = listed[:self.max_versions]
                    break
        keys: dict[str, list[dict[str, Any]]] = {}
        order: dict[str, list[tuple[bool, float]]] = {}
        for key, version_id, etag, size, modified, latest, marker in listed:
            status = self.replication_status(name, version_id) if self.replication_status else None
            keys.setdefault(key, []).append({
                "version_id": version_id, "etag": etag, "size": size, "last_modified": iso(modified),
                "latest": bool(latest), "delete_marker": bool(marker), "replication_status": status})
            when = modified.timestamp() if isinstance(modified, datetime) else float(modified)
            order.setdefault(key, []).append((not latest, -when))
        for key, versions in keys.items():
            # newest first: the listing's own order, except that the API lists delete markers apart
            ranks = order[key]
            keys[key] = [version for _, version in sorted(zip(ranks, versions, strict=True), key=lambda pair: pair[0])]
        return {
            "count": sum(1 for versions in keys.values() if not versions[0]["delete_marker"]),
            "version_count": sum(1 for _, _, _, _, _, _, marker in listed if not marker),
            "delete_marker_count": sum(1 for _, _, _, _, _, _, marker in listed if marker),
            "truncated": truncated, "limit": self.max_versions,
            "replication_status_known": self.replication_status is not None,
            "keys": sorted_map(keys.items()),
        }

    # -- DynamoDB ------------------------------------------------------------------------------------

    def _dynamodb_section(self, region: str) -> dict[str, Any]:
        dynamodb = self.client_for("dynamodb", region)
        names: list[str] = []
        for page in dynamodb.get_paginator("list_tables").paginate():
            names.extend(page.get("TableNames", []))
        tables = {}
        for name in names:
            found = self.attempt("dynamodb", region, f"table {name}",
                                 lambda name=name: self._table(dynamodb, region, name), None)
            if found is not None:
                tables[name] = found
        backups = self.attempt("dynamodb", region, "backups", lambda: [
            {"arn": b.get("BackupArn"), "name": b.get("BackupName"), "table": b.get("TableName"),
             "status": b.get("BackupStatus"), "type": b.get("BackupType"),
             "created": iso(b.get("BackupCreationDateTime"))}
            for b in dynamodb.list_backups().get("BackupSummaries", [])], [])
        global_tables = self.attempt("dynamodb", region, "global tables", lambda: self._optional(lambda: [
            {"name": g.get("GlobalTableName"),
             "replicas": sorted(r.get("RegionName") for r in g.get("ReplicationGroup", [])),
             "status": "ACTIVE"} for g in dynamodb.list_global_tables(RegionName=region).get("GlobalTables", [])],
            "UnknownOperationException"), None) or []
        return {"tables": sorted_map(tables.items()), "backups": backups, "global_tables": global_tables}

    def _table(self, dynamodb: Any, region: str, name: str) -> dict[str, Any]:
        table = dynamodb.describe_table(TableName=name)["Table"]
        arn = table.get("TableArn", "")
        pitr = self.attempt("dynamodb", region, f"table {name}", lambda: dynamodb.describe_continuous_backups(
            TableName=name)["ContinuousBackupsDescription"], {})
        point = pitr.get("PointInTimeRecoveryDescription") or {}
        tags = self.attempt("dynamodb", region, f"table {name}", lambda: dynamodb.list_tags_of_resource(
            ResourceArn=arn).get("Tags", []), [])
        key_schema = [{"name": k["AttributeName"], "type": k["KeyType"]} for k in table.get("KeySchema", [])]
        restore = table.get("RestoreSummary")
        return {
            "name": name, "region": region, "arn": arn, "status": table.get("TableStatus"),
            "created": iso(table.get("CreationDateTime")), "key_schema": key_schema,
            "billing_mode": (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
            "tags": tag_dict(tags), "stream": table.get("StreamSpecification"),
            "deletion_protection": bool(table.get("DeletionProtectionEnabled")),
            "replicas": sorted(({"region": r.get("RegionName"), "status": r.get("ReplicaStatus")}
                                for r in table.get("Replicas", [])), key=lambda r: r["region"] or ""),
            "global_table_version": table.get("GlobalTableVersion"),
            "restore": {"source_table_arn": restore.get("SourceTableArn"),
                        "source_backup_arn": restore.get("SourceBackupArn"),
                        "restore_time": iso(restore.get("RestoreDateTime")),
                        "in_progress": restore.get("RestoreInProgress")} if restore else None,
            "pitr": {"status": point.get("PointInTimeRecoveryStatus", "DISABLED"),
                     "earliest": iso(point.get("EarliestRestorableDateTime")),
                     "latest": iso(point.get("LatestRestorableDateTime")),
                     "recovery_period_days": point.get("RecoveryPeriodInDays")},
            "items": self.attempt("dynamodb", region, f"items of {name}",
                                  lambda: self._items(dynamodb, region, name, [k["name"] for k in key_schema]),
                                  {"count": None, "sha256": None}),
        }

    def _items(self, dynamodb: Any, region: str, name: str, key_names: list[str]) -> dict[str, Any]:
        if self.data is not None:
            items = self.data.scan_items(region, name)
        else:
            items = []
            projection = ", ".join(f"#k{i}" for i in range(len(key_names)))
            names = {f"#k{i}": key for i, key in enumerate(key_names)}
            for page in dynamodb.get_paginator("scan").paginate(TableName=name, ProjectionExpression=projection,
                                                                ExpressionAttributeNames=names):
                items.extend(page.get("Items", []))
        keys = [json.dumps({k: item.get(k) for k in key_names}, sort_keys=True, separators=(",", ":"))
                for item in items]
        summary: dict[str, Any] = {"count": len(items), "sha256": key_digest(keys)}
        if "order_id" in key_names:
            summary["order_ids"] = sorted(str(next(iter(item["order_id"].values()))) for item in items
                                          if isinstance(item.get("order_id"), Mapping))
        return summary

    # -- RDS -----------------------------------------------------------------------------------------

    def _rds_section(self, region: str) -> dict[str, Any]:
        rds = self.client_for("rds", region)
        shown: list[dict[str, Any]] = []
        for page in rds.get_paginator("describe_db_instances").paginate():
            shown.extend(page.get("DBInstances", []))
        digests = (self.attempt("rds", region, "order digests", lambda: self.admin("rds/digests"), None) or {})
        region_digests = (digests.get("regions") or {}).get(region, {}) if isinstance(digests, Mapping) else {}
        instances = {}
        for db in shown:
            identifier = db["DBInstanceIdentifier"]
            instances[identifier] = {
                "id": identifier, "region": region, "arn": db.get("DBInstanceArn"),
                "status": db.get("DBInstanceStatus"),
                "engine": db.get("Engine"), "engine_version": db.get("EngineVersion"),
                "instance_class": db.get("DBInstanceClass"), "az": db.get("AvailabilityZone"),
                "secondary_az": db.get("SecondaryAvailabilityZone"), "multi_az": bool(db.get("MultiAZ")),
                "backup_retention": db.get("BackupRetentionPeriod", 0),
                "backup_window": db.get("PreferredBackupWindow"),
                "latest_restorable": iso(db.get("LatestRestorableTime")),
                "deletion_protection": bool(db.get("DeletionProtection")),
                "storage_encrypted": bool(db.get("StorageEncrypted")), "kms_key": db.get("KmsKeyId"),
                "created": iso(db.get("InstanceCreateTime")),
                "endpoint": {"address": (db.get("Endpoint") or {}).get("Address"),
                             "port": (db.get("Endpoint") or {}).get("Port")},
                "read_replica_source": db.get("ReadReplicaSourceDBInstanceIdentifier"),
                "read_replicas": sorted(db.get("ReadReplicaDBInstanceIdentifiers", [])),
                "pending_modified": dict(db.get("PendingModifiedValues") or {}),
                "tags": tag_dict(db.get("TagList")),
                "orders": self._orders_of(region, identifier, region_digests.get(identifier)),
            }
        snapshots = {}
        for page in rds.get_paginator("describe_db_snapshots").paginate():
            for snap in page.get("DBSnapshots", []):
                snapshots[snap["DBSnapshotIdentifier"]] = {
                    "id": snap["DBSnapshotIdentifier"], "region": region, "arn": snap.get("DBSnapshotArn"),
                    "instance": snap.get("DBInstanceIdentifier"), "type": snap.get("SnapshotType"),
                    "status": snap.get("Status"), "created": iso(snap.get("SnapshotCreateTime")),
                    "percent_progress": snap.get("PercentProgress"),
                    "encrypted": bool(snap.get("Encrypted")), "source_region": snap.get("SourceRegion"),
                    "source_snapshot": snap.get("SourceDBSnapshotIdentifier"), "tags": tag_dict(snap.get("TagList"))}
        automated = self.attempt("rds", region, "automated backups", lambda: [
            {"arn": b.get("DBInstanceAutomatedBackupsArn"), "instance": b.get("DBInstanceIdentifier"),
             "instance_arn": b.get("DBInstanceArn"), "region": region, "source_region": b.get("Region"),
             "status": b.get("Status"), "retention": b.get("BackupRetentionPeriod"),
             "earliest": iso((b.get("RestoreWindow") or {}).get("EarliestTime")),
             "latest": iso((b.get("RestoreWindow") or {}).get("LatestTime"))}
            for b in rds.describe_db_instance_automated_backups().get("DBInstanceAutomatedBackups", [])], [])
        return {"instances": sorted_map(instances.items()), "snapshots": sorted_map(snapshots.items()),
                "automated_backups": automated}

    def _orders_of(self, region: str, instance: str, digest: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The instance's orders: the rds-data engine's digest plus the order ids (paged SELECTs)."""
        if digest is None:
            return None
        summary = {"count": digest.get("orders"), "min_created_at": digest.get("min_created_at"),
                   "max_created_at": digest.get("max_created_at"), "sha256": digest.get("order_ids_sha256"),
                   "status": digest.get("status"), "error": digest.get("error"), "order_ids": None}
        if not digest.get("orders") or self.admin_post is None:
            summary["order_ids"] = [] if digest.get("orders") == 0 else None
            return summary
        ids: list[str] = []
        after = ""
        for _ in range(1000):  # bounded: 10 million orders
            request = {"instance": instance, "region": region, "sql": ORDER_ID_PAGE_SQL,
                       "parameters": [after, ORDER_ID_PAGE]}
            try:
                answer = self.admin_post("sql", request)
            except Exception as exc:  # noqa: BLE001 -- an instance that cannot answer keeps its digest only
                summary["error"] = f"order ids could not be read: {exc}"
                return summary
            page = [str(row[0]) for row in answer.get("rows", [])]
            ids.extend(page)
            if len(page) < ORDER_ID_PAGE:
                break
            after = page[-1]
        summary["order_ids"] = ids
        return summary

    # -- EC2, EBS, DLM -------------------------------------------------------------------------------

    def _ec2_section(self, region: str) -> dict[str, Any]:
        ec2 = self.client_for("ec2", region)
        account = self.account_id
        instances = {}
        for page in ec2.get_paginator("describe_instances").paginate(Filters=[
                {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]):
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    instance_id = instance["InstanceId"]
                    instances[instance_id] = {
                        "id": instance_id, "region": region,
                        "arn": f"arn:aws:ec2:{region}:{account}:instance/{instance_id}",
                        "state": (instance.get("State") or {}).get("Name"),
                        "az": (instance.get("Placement") or {}).get("AvailabilityZone"),
                        "type": instance.get("InstanceType"), "tags": tag_dict(instance.get("Tags")),
                        "volumes": sorted((m.get("Ebs") or {}).get("VolumeId", "")
                                          for m in instance.get("BlockDeviceMappings", [])),
                        "private_ip": instance.get("PrivateIpAddress"), "public_ip": instance.get("PublicIpAddress"),
                        "image": instance.get("ImageId"), "launched": iso(instance.get("LaunchTime"))}
        volumes = {}
        for page in ec2.get_paginator("describe_volumes").paginate():
            for volume in page.get("Volumes", []):
                volume_id = volume["VolumeId"]
                volumes[volume_id] = {
                    "id": volume_id, "region": region, "arn": f"arn:aws:ec2:{region}:{account}:volume/{volume_id}",
                    "az": volume.get("AvailabilityZone"), "state": volume.get("State"), "size": volume.get("Size"),
                    "type": volume.get("VolumeType"), "encrypted": bool(volume.get("Encrypted")),
                    "snapshot_id": volume.get("SnapshotId") or None, "created": iso(volume.get("CreateTime")),
                    "tags": tag_dict(volume.get("Tags")),
                    "attachments": [{"instance": a.get("InstanceId"), "device": a.get("Device"),
                                     "state": a.get("State")}
                                    for a in volume.get("Attachments", [])]}
        snapshots = {}
        # moto lists ~1300 public snapshots for OwnerIds=["self"]; the owner filter is what keeps this fast.
        for page in ec2.get_paginator("describe_snapshots").paginate(
                Filters=[{"Name": "owner-id", "Values": [account]}]):
            for snap in page.get("Snapshots", []):
                copied = _COPIED_FROM.search(snap.get("Description") or "")
                snapshots[snap["SnapshotId"]] = {
                    "id": snap["SnapshotId"], "region": region, "volume": snap.get("VolumeId"),
                    "state": snap.get("State"), "progress": snap.get("Progress"), "created": iso(snap.get("StartTime")),
                    "encrypted": bool(snap.get("Encrypted")), "description": snap.get("Description"),
                    "tags": tag_dict(snap.get("Tags")), "size": snap.get("VolumeSize"),
                    "source_snapshot": copied.group(1) if copied else None,
                    "source_region": copied.group(2) if copied else None}
        policies = self.attempt("ec2", region, "dlm policies", lambda: self._dlm(region), {})
        return {"instances": sorted_map(instances.items()), "volumes": sorted_map(volumes.items()),
                "snapshots": sorted_map(snapshots.items()), "dlm_policies": policies}

    def _dlm(self, region: str) -> dict[str, Any]:
        dlm = self.client_for("dlm", region)
        policies = {}
        for summary in dlm.get_lifecycle_policies().get("Policies", []):
            policy = dlm.get_lifecycle_policy(PolicyId=summary["PolicyId"])["Policy"]
            details = policy.get("PolicyDetails") or {}
            schedules = []
            for schedule in details.get("Schedules", []):
                create, retain = schedule.get("CreateRule") or {}, schedule.get("RetainRule") or {}
                schedules.append({
                    "name": schedule.get("Name"), "interval": create.get("Interval"),
                    "interval_unit": create.get("IntervalUnit"), "cron": create.get("CronExpression"),
                    "times": create.get("Times"), "retain_count": retain.get("Count"),
                    "retain_interval": retain.get("Interval"), "retain_interval_unit": retain.get("IntervalUnit"),
                    "copy_tags": schedule.get("CopyTags"),
                    "cross_region_copy": [{"target_region": rule.get("TargetRegion") or rule.get("Target"),
                                           "encrypted": rule.get("Encrypted"),
                                           "retain_interval": (rule.get("RetainRule") or {}).get("Interval"),
                                           "retain_interval_unit": (rule.get("RetainRule") or {}).get("IntervalUnit")}
                                          for rule in schedule.get("CrossRegionCopyRules", [])]})
            policies[policy["PolicyId"]] = {
                "id": policy["PolicyId"], "region": region, "arn": policy.get("PolicyArn"),
                "description": policy.get("Description"), "state": policy.get("State"),
                "execution_role": policy.get("ExecutionRoleArn"), "policy_type": details.get("PolicyType"),
                "resource_types": details.get("ResourceTypes", []), "target_tags": tag_dict(details.get("TargetTags")),
                "schedules": schedules}
        return sorted_map(policies.items())

    # -- AWS Backup ------------------------------------------------------------------------------------

    def _backup_section(self, region: str) -> dict[str, Any]:
        backup = self.client_for("backup", region)
        vaults, points = {}, []
        for page in backup.get_paginator("list_backup_vaults").paginate():
            for vault in page.get("BackupVaultList", []):
                name = vault["BackupVaultName"]
                policy = self.attempt("backup", region, f"vault {name}", lambda name=name: self._optional(
                    lambda: backup.get_backup_vault_access_policy(BackupVaultName=name).get("Policy"),
                    "ResourceNotFoundException"), None)
                vaults[name] = {
                    "name": name, "region": region, "arn": vault.get("BackupVaultArn"),
                    "created": iso(vault.get("CreationDate")), "encryption_key": vault.get("EncryptionKeyArn"),
                    "recovery_points": vault.get("NumberOfRecoveryPoints", 0), "locked": bool(vault.get("Locked")),
                    "lock": {"min_retention_days": vault.get("MinRetentionDays"),
                             "max_retention_days": vault.get("MaxRetentionDays"),
                             "lock_date": iso(vault.get("LockDate"))},
                    "access_policy": policy_document(policy)}
                points.extend(self.attempt("backup", region, f"recovery points of {name}",
                                           lambda name=name: self._recovery_points(backup, region, name), []))
        plans = self.attempt("backup", region, "plans", lambda: self._plans(backup, region), {})
        return {
            "vaults": sorted_map(vaults.items()), "plans": plans,
            "recovery_points": sorted(points, key=lambda p: (p["created"] or "", p["arn"] or "")),
            "jobs": self.attempt("backup", region, "backup jobs", lambda: self._jobs(
                backup, "list_backup_jobs", "BackupJobs", _backup_job), []),
            "copy_jobs": self.attempt("backup", region, "copy jobs", lambda: self._jobs(
                backup, "list_copy_jobs", "CopyJobs", _copy_job), []),
            "restore_jobs": self.attempt("backup", region, "restore jobs", lambda: self._jobs(
                backup, "list_restore_jobs", "RestoreJobs", _restore_job), []),
            "frameworks": self.attempt("backup", region, "frameworks", lambda: self._frameworks(backup, region), []),
        }

    def _recovery_points(self, backup: Any, region: str, vault: str) -> list[dict[str, Any]]:
        found = []
        for page in backup.get_paginator("list_recovery_points_by_backup_vault").paginate(BackupVaultName=vault):
            for point in page.get("RecoveryPoints", []):
                lifecycle = point.get("Lifecycle") or {}
                found.append({
                    "arn": point.get("RecoveryPointArn"), "region": region, "vault": vault,
                    "resource_arn": point.get("ResourceArn"), "resource_type": point.get("ResourceType"),
                    "status": point.get("Status"), "created": iso(point.get("CreationDate")),
                    "completed": iso(point.get("CompletionDate")), "encrypted": bool(point.get("IsEncrypted")),
                    "encryption_key": point.get("EncryptionKeyArn"),
                    "lifecycle": {"delete_after_days": lifecycle.get("DeleteAfterDays"),
                                  "move_to_cold_after_days": lifecycle.get("MoveToColdStorageAfterDays")},
                    "delete_at": iso((point.get("CalculatedLifecycle") or {}).get("DeleteAt")),
                    "source_vault_arn": point.get("SourceBackupVaultArn"),
                    "plan_id": (point.get("CreatedBy") or {}).get("BackupPlanId")})
        return found

    def _plans(self, backup: Any, region: str) -> dict[str, Any]:
        plans = {}
        for page in backup.get_paginator("list_backup_plans").paginate():
            for summary in page.get("BackupPlansList", []):
                plan_id = summary["BackupPlanId"]
                shown = backup.get_backup_plan(BackupPlanId=plan_id)
                body = shown.get("BackupPlan") or {}
                selections = []
                for listed in backup.list_backup_selections(BackupPlanId=plan_id).get("BackupSelectionsList", []):
                    selection = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=listed["SelectionId"])
                    selections.append(_selection(listed["SelectionId"], selection.get("BackupSelection") or {}))
                plans[plan_id] = {
                    "id": plan_id, "region": region, "arn": shown.get("BackupPlanArn"),
                    "name": body.get("BackupPlanName"), "version": shown.get("VersionId"),
                    "rules": [_rule(rule) for rule in body.get("Rules", [])], "selections": selections}
        return sorted_map(plans.items())

    def _jobs(self, backup: Any, operation: str, key: str, shape: Callable[[dict[str, Any]], dict[str, Any]]) -> list:
        found: list[dict[str, Any]] = []
        for page in backup.get_paginator(operation).paginate():
            found.extend(shape(job) for job in page.get(key, []))
            if len(found) >= MAX_JOBS:
                break
        found.sort(key=lambda job: (job.get("created") or "", job.get("id") or ""))
        return found[-MAX_JOBS:]

    def _frameworks(self, backup: Any, region: str) -> list[dict[str, Any]]:
        found = []
        for summary in backup.list_frameworks().get("Frameworks", []):
            shown = backup.describe_framework(FrameworkName=summary["FrameworkName"])
            found.append({
                "name": summary["FrameworkName"], "arn": summary.get("FrameworkArn"), "region": region,
                "deployment_status": shown.get("DeploymentStatus") or summary.get("DeploymentStatus"),
                "status": shown.get("FrameworkStatus"), "created": iso(shown.get("CreationTime")),
                "controls": [{"name": control.get("ControlName"),
                              "params": {p.get("ParameterName"): p.get("ParameterValue")
                                         for p in control.get("ControlInputParameters", [])}}
                             for control in shown.get("FrameworkControls", [])]})
        return found

    # -- CloudTrail ----------------------------------------------------------------------------------

    def _cloudtrail_section(self, region: str) -> dict[str, Any]:
        cloudtrail = self.client_for("cloudtrail", region)
        trails = {}
        for trail in cloudtrail.describe_trails(includeShadowTrails=False).get("trailList", []):
            arn = trail.get("TrailARN") or trail["Name"]
            status = self.attempt("cloudtrail", region, f"trail {trail['Name']}",
                                  lambda arn=arn: cloudtrail.get_trail_status(Name=arn), {})
            selectors = self.attempt("cloudtrail", region, f"trail {trail['Name']}",
                                     lambda arn=arn: cloudtrail.get_event_selectors(TrailName=arn), {})
            trails[trail["Name"]] = {
                "name": trail["Name"], "arn": trail.get("TrailARN"), "region": region,
                "home_region": trail.get("HomeRegion") or region, "multi_region": bool(trail.get("IsMultiRegionTrail")),
                "bucket": trail.get("S3BucketName"), "logging": bool(status.get("IsLogging")),
                "log_file_validation": bool(trail.get("LogFileValidationEnabled")),
                "event_selectors": selectors.get("EventSelectors") or [],
                "advanced_event_selectors": selectors.get("AdvancedEventSelectors") or []}
        events = self.attempt("cloudtrail", region, "events", lambda: self._trail_events(cloudtrail), [])
        return {"trails": sorted_map(trails.items()), "events": events}

    def _trail_events(self, cloudtrail: Any) -> list[dict[str, Any]]:
        found = []
        for source in AUDITED_EVENT_SOURCES:
            answer = cloudtrail.lookup_events(
                LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": source}],
                MaxResults=50)
            for event in answer.get("Events", [])[:MAX_TRAIL_EVENTS]:
                if event.get("ReadOnly") in ("true", True):
                    continue  # what changed (or was refused) matters, not who looked
                detail = policy_document(event.get("CloudTrailEvent")) or {}
                found.append({
                    "id": event.get("EventId"), "name": event.get("EventName"), "time": iso(event.get("EventTime")),
                    "source": event.get("EventSource"), "user": event.get("Username"),
                    "error_code": detail.get("errorCode"), "error_message": detail.get("errorMessage"),
                    "resources": [r.get("ResourceName") for r in event.get("Resources", [])]})
        return sorted(found, key=lambda e: (e["time"] or "", e["id"] or ""))

    # -- IAM and Route 53 (global) -------------------------------------------------------------------

    def _iam_section(self) -> dict[str, Any]:
        iam = self.client_for("iam", self.regions[0])
        roles = {}
        for page in iam.get_paginator("list_roles").paginate():
            for role in page.get("Roles", []):
                name = role["RoleName"]
                attached = self.attempt("iam", None, f"role {name}", lambda name=name: [
                    p["PolicyArn"]
                    for p in iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", [])], [])
                inline = self.attempt("iam", None, f"role {name}", lambda name=name: iam.list_role_policies(
                    RoleName=name).get("PolicyNames", []), [])
                roles[name] = {"name": name, "arn": role.get("Arn"), "created": iso(role.get("CreateDate")),
                               "trust_policy": policy_document(role.get("AssumeRolePolicyDocument")),
                               "attached_policies": sorted(attached), "inline_policies": sorted(inline),
                               "tags": tag_dict(role.get("Tags"))}
        return {"roles": sorted_map(roles.items())}

    def _route53_section(self) -> dict[str, Any]:
        route53 = self.client_for("route53", self.regions[0])
        zones = {}
        for page in route53.get_paginator("list_hosted_zones").paginate():
            for zone in page.get("HostedZones", []):
                zone_id = zone["Id"].split("/")[-1]
                records = []
                for records_page in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
                    records.extend(_record(record) for record in records_page.get("ResourceRecordSets", []))
                zones[zone_id] = {"id": zone_id, "name": zone.get("Name"),
                                  "private": bool((zone.get("Config") or {}).get("PrivateZone")), "records": records}
        checks = {}
        # Inside the lab, the status Route 53 routes by (FailureThreshold consecutive results per checker); the
        # checkers' latest observations alone would turn a check red after one failed round.
        routed = (self.attempt("route53", None, "health status", lambda: self.admin("route53/health"), None)
                  or {}).get("checks") or {}
        for page in route53.get_paginator("list_health_checks").paginate():
            for check in page.get("HealthChecks", []):
                check_id = check["Id"]
                settings = check.get("HealthCheckConfig") or {}
                known = routed.get(check_id)
                observations = [] if known is not None else self.attempt(
                    "route53", None, f"health check {check_id}",
                    lambda check_id=check_id: route53.get_health_check_status(
                        HealthCheckId=check_id).get("HealthCheckObservations", []), [])
                checks[check_id] = {
                    "id": check_id, "type": settings.get("Type"), "ip": settings.get("IPAddress"),
                    "port": settings.get("Port"), "fqdn": settings.get("FullyQualifiedDomainName"),
                    "resource_path": settings.get("ResourcePath"),
                    "failure_threshold": settings.get("FailureThreshold"),
                    "inverted": bool(settings.get("Inverted")), "disabled": bool(settings.get("Disabled")),
                    "status": _health(observations) if known is None else (
                        # (the endpoint's status, before Inverted: the checks invert it themselves)
                        "Healthy" if bool(known.get("healthy")) != bool(settings.get("Inverted")) else "Unhealthy")}
        return {"zones": sorted_map(zones.items()), "health_checks": sorted_map(checks.items())}

    # -- Elastic Disaster Recovery ------------------------------------------------------------------------

    def _drs_section(self, region: str) -> dict[str, Any]:
        drs = self.client_for("drs", region)
        try:
            servers = [s for page in drs.get_paginator("describe_source_servers").paginate()
                       for s in page.get("items", [])]
        except ClientError as exc:
            if error_code(exc) == "UninitializedAccountException":
                return EMPTY["drs"]()
            raise
        jobs = [j for page in drs.get_paginator("describe_jobs").paginate() for j in page.get("items", [])]
        instances = [r for page in drs.get_paginator("describe_recovery_instances").paginate()
                     for r in page.get("items", [])]
        return {"initialized": True,
                "source_servers": sorted_map((s["sourceServerID"], _source_server(s)) for s in servers),
                "jobs": [_drs_job(j) for j in jobs[:MAX_JOBS]],
                "recovery_instances": sorted_map((r["recoveryInstanceID"], _recovery_instance(r)) for r in instances)}

    # -- the lab's own parts ---------------------------------------------------------------------------

    def _orders(self) -> dict[str, Any]:
        if self.ledger is not None:
            orders = self.ledger()
        else:
            answer = self.admin("orders")
            if answer is None:
                return {"total": 0, "ledger": []}
            orders = answer.get("orders", [])
        ledger = []
        for order in orders:
            entry = {"order_id": order["order_id"], "created_at": order["created_at"],
                     "stored": dict(order.get("stored") or {})}
            if "customer" in order and "amount" in order:
                entry["invoice_key"], entry["invoice_etag"] = invoice_of(
                    order["order_id"], order["customer"], order["amount"], order["created_at"])
            ledger.append(entry)
        return {"total": len(ledger), "ledger": ledger}

    def _drills(self) -> dict[str, Any]:
        """The drills, and the injections (with what they destroyed) that recovery checks trace."""
        answer = self.admin("drills")
        faults = self.attempt("drills", None, "faults", lambda: self.admin("faults?all=1"), None) or {}
        return {"drills": list((answer or {}).get("drills", [])),
                "faults": {"injections": list(faults.get("injections", [])),
                           "regions_down": list(faults.get("regions_down", []))}}


# -- shapes ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=200_000)  # an order never changes once placed; drills collect the ledger every few minutes
def invoice_of(order_id: str, customer: str, amount: str, created_at: str) -> tuple[str, str]:
    """The key of an order's invoice in the invoices bucket and the ETag of its original content."""
    from lab import world

    order = {"order_id": order_id, "customer": customer, "amount": amount, "created_at": created_at}
    return world.invoice_key(order), hashlib.md5(world.invoice_body(order), usedforsecurity=False).hexdigest()


def _empty_objects(limit: int) -> dict[str, Any]:
    return {"count": None, "version_count": None, "delete_marker_count": None, "truncated": False, "limit": limit,
            "replication_status_known": False, "keys": {}}


EMPTY: dict[str, Callable[[], dict[str, Any]]] = {
    "s3": lambda: {"buckets": {}},
    "dynamodb": lambda: {"tables": {}, "backups": [], "global_tables": []},
    "rds": lambda: {"instances": {}, "snapshots": {}, "automated_backups": []},
    "ec2": lambda: {"instances": {}, "volumes": {}, "snapshots": {}, "dlm_policies": {}},
    "backup": lambda: {"vaults": {}, "plans": {}, "recovery_points": [], "jobs": [], "copy_jobs": [],
                       "restore_jobs": [], "frameworks": []},
    "cloudtrail": lambda: {"trails": {}, "events": []},
    "iam": lambda: {"roles": {}},
    "route53": lambda: {"zones": {}, "health_checks": {}},
    "drs": lambda: {"initialized": False, "source_servers": {}, "jobs": [], "recovery_instances": {}},
}


def _replication(configuration: Mapping[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in configuration.get("Rules", []):
        filter_ = rule.get("Filter")
        tags: dict[str, str] = {}
        if filter_ is None:
            prefix = rule.get("Prefix")  # the V1 schema: a prefix on the rule itself
        else:
            conjunction = filter_.get("And") or {}
            prefix = filter_.get("Prefix", conjunction.get("Prefix"))
            tags = tag_dict([filter_["Tag"]] if filter_.get("Tag") else conjunction.get("Tags"))
        destination = rule.get("Destination") or {}
        bucket_arn = destination.get("Bucket", "")
        rules.append({
            "id": rule.get("ID"), "status": rule.get("Status"), "priority": rule.get("Priority"),
            "prefix": prefix or None, "tags": tags, "destination_arn": bucket_arn,
            "destination_bucket": bucket_arn.split(":::")[-1] if bucket_arn else None,
            "storage_class": destination.get("StorageClass"),
            "delete_marker_replication": (rule.get("DeleteMarkerReplication") or {}).get(
                "Status", "Enabled" if filter_ is None else "Disabled"),
            "replication_time": (destination.get("ReplicationTime") or {}).get("Status") == "Enabled",
            "existing_objects": (rule.get("ExistingObjectReplication") or {}).get("Status") == "Enabled"})
    return {"role": configuration.get("Role"), "rules": rules}


def _rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    lifecycle = rule.get("Lifecycle") or {}
    return {
        "name": rule.get("RuleName"), "id": rule.get("RuleId"), "target_vault": rule.get("TargetBackupVaultName"),
        "schedule": rule.get("ScheduleExpression"), "timezone": rule.get("ScheduleExpressionTimezone"),
        "start_window": rule.get("StartWindowMinutes"), "completion_window": rule.get("CompletionWindowMinutes"),
        "lifecycle": {"delete_after_days": lifecycle.get("DeleteAfterDays"),
                      "move_to_cold_after_days": lifecycle.get("MoveToColdStorageAfterDays")},
        "copy_actions": [{"destination_vault_arn": copy.get("DestinationBackupVaultArn"),
                          "lifecycle": {"delete_after_days": (copy.get("Lifecycle") or {}).get("DeleteAfterDays")}}
                         for copy in rule.get("CopyActions", [])],
        "continuous": bool(rule.get("EnableContinuousBackup"))}


def _selection(selection_id: str, selection: Mapping[str, Any]) -> dict[str, Any]:
    conditions = {kind: [{"key": entry.get("ConditionKey"), "value": entry.get("ConditionValue")} for entry in entries]
                  for kind, entries in (selection.get("Conditions") or {}).items() if entries}
    return {"id": selection_id, "name": selection.get("SelectionName"), "role": selection.get("IamRoleArn"),
            "resources": list(selection.get("Resources") or []),
            "not_resources": list(selection.get("NotResources") or []),
            "list_of_tags": [{"type": t.get("ConditionType"), "key": t.get("ConditionKey"),
                              "value": t.get("ConditionValue")}
                             for t in selection.get("ListOfTags") or []],
            "conditions": conditions}


def _backup_job(job: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": job.get("BackupJobId"), "state": job.get("State"), "resource_arn": job.get("ResourceArn"),
            "resource_type": job.get("ResourceType"), "vault": job.get("BackupVaultName"),
            "recovery_point": job.get("RecoveryPointArn"), "created": iso(job.get("CreationDate")),
            "completed": iso(job.get("CompletionDate")), "plan_id": (job.get("CreatedBy") or {}).get("BackupPlanId"),
            "percent_done": job.get("PercentDone"), "message": job.get("StatusMessage")}


def _copy_job(job: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": job.get("CopyJobId"), "state": job.get("State"), "resource_arn": job.get("ResourceArn"),
            "resource_type": job.get("ResourceType"), "source_recovery_point": job.get("SourceRecoveryPointArn"),
            "destination_vault_arn": job.get("DestinationBackupVaultArn"),
            "destination_recovery_point": job.get("DestinationRecoveryPointArn"),
            "created": iso(job.get("CreationDate")), "completed": iso(job.get("CompletionDate")),
            "message": job.get("StatusMessage")}


def _restore_job(job: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": job.get("RestoreJobId"), "state": job.get("Status"), "recovery_point": job.get("RecoveryPointArn"),
            "created_resource_arn": job.get("CreatedResourceArn"), "resource_type": job.get("ResourceType"),
            "created": iso(job.get("CreationDate")), "completed": iso(job.get("CompletionDate")),
            "percent_done": job.get("PercentDone"), "message": job.get("StatusMessage")}


def _record(record: Mapping[str, Any]) -> dict[str, Any]:
    alias = record.get("AliasTarget")
    return {"name": record.get("Name"), "type": record.get("Type"), "ttl": record.get("TTL"),
            "values": [value.get("Value") for value in record.get("ResourceRecords", [])],
            "alias": {"dns_name": alias.get("DNSName"), "zone_id": alias.get("HostedZoneId"),
                      "evaluate_health": bool(alias.get("EvaluateTargetHealth"))} if alias else None,
            "set_identifier": record.get("SetIdentifier"), "failover": record.get("Failover"),
            "health_check_id": record.get("HealthCheckId"), "weight": record.get("Weight"),
            "region": record.get("Region")}


def _source_server(server: Mapping[str, Any]) -> dict[str, Any]:
    info = server.get("dataReplicationInfo") or {}
    disks = info.get("replicatedDisks") or []
    total = sum(int(d.get("totalStorageBytes") or 0) for d in disks)
    done = sum(int(d.get("replicatedStorageBytes") or 0) for d in disks)
    steps = (info.get("dataReplicationInitiation") or {}).get("steps") or []
    hints = (server.get("sourceProperties") or {}).get("identificationHints") or {}
    return {"id": server.get("sourceServerID"), "arn": server.get("arn"),
            "instance": hints.get("awsInstanceID"), "hostname": hints.get("hostname"),
            "origin_region": (server.get("sourceCloudProperties") or {}).get("originRegion"),
            "state": info.get("dataReplicationState"), "lag": info.get("lagDuration"), "eta": info.get("etaDateTime"),
            "error": (info.get("dataReplicationError") or {}).get("error"),
            "initiation_step": next((step.get("name") for step in steps if step.get("status") == "IN_PROGRESS"), None),
            "replicated_percent": int(100 * done / total) if total else None,
            "direction": server.get("replicationDirection"), "recovery_instance": server.get("recoveryInstanceId"),
            "last_launch_result": server.get("lastLaunchResult"), "tags": dict(server.get("tags") or {})}


def _drs_job(job: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": job.get("jobID"), "type": job.get("type"), "initiated_by": job.get("initiatedBy"),
            "status": job.get("status"), "created": job.get("creationDateTime"), "ended": job.get("endDateTime"),
            "servers": [{"source_server": p.get("sourceServerID"), "recovery_instance": p.get("recoveryInstanceID"),
                         "launch_status": p.get("launchStatus")} for p in job.get("participatingServers") or ()]}


def _recovery_instance(found: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": found.get("recoveryInstanceID"), "instance": found.get("ec2InstanceID"),
            "state": found.get("ec2InstanceState"), "source_server": found.get("sourceServerID"),
            "job": found.get("jobID"), "drill": bool(found.get("isDrill")),
            "point_in_time": found.get("pointInTimeSnapshotDateTime"), "tags": dict(found.get("tags") or {})}


def _health(observations: list[Mapping[str, Any]]) -> str | None:
    """Route 53 calls an endpoint healthy when more than 18% of its checkers see it healthy."""
    if not observations:
        return None
    good = sum(1 for o in observations if str((o.get("StatusReport") or {}).get("Status", "")).startswith("Success"))
    return "Healthy" if good / len(observations) > 0.18 else "Unhealthy"


# -- entry points ---------------------------------------------------------------------------------------

def normalise_services(services: Iterable[str] | None) -> set[str]:
    if services is None:
        return set(SERVICES)
    chosen = set(services)
    unknown = sorted(chosen - set(SERVICES))
    if unknown:
        raise ValueError(f"unknown inventory part(s) {', '.join(unknown)}; the parts are {', '.join(SERVICES)}")
    return chosen


def collect(client_for: ClientFor, admin_get: AdminGet | None, regions: Iterable[str] = config.REGIONS,
            services: set[str] | None = None, *, admin_post: AdminPost | None = None, data: Any = None,
            replication_status: Callable[[str, str], str | None] | None = None,
            ledger: Callable[[], list[dict[str, Any]]] | None = None, max_versions: int | None = None,
            parallel: bool = False) -> dict[str, Any]:
    """One inventory of `regions` (the parts in `services`, default all): see the module docstring.

    Inside the sandbox, `data` (its data layer), `replication_status(bucket, version_id)` and `ledger()` (the
    order ledger) read directly what the AWS APIs and GET /_lab/orders would give more slowly."""
    return Collector(client_for, admin_get, regions, normalise_services(services), admin_post=admin_post,
                     data=data, replication_status=replication_status, ledger=ledger, max_versions=max_versions,
                     parallel=parallel).run()


def collect_in_sandbox(sandbox: Sandbox, services: set[str] | None = None) -> dict[str, Any]:
    """The inventory from inside the sandbox process: one instant (the sandbox lock held throughout), the
    data layer's direct reads, admin routes called in-process; faults and the audit do not see it."""
    from lab.gateway import audit
    from lab.sandbox import inprocess

    def admin_call(method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        payload = json.dumps(body).encode() if body is not None else b""
        environ = inprocess.environ_for(method, f"{sandbox.endpoint}/_lab/{path}",
                                        [("Content-Type", "application/json")] if body is not None else [], payload)
        status, _headers, answer = inprocess.call_app(sandbox.app, environ)
        parsed = json.loads(answer) if answer else {}
        if status >= 400:
            raise CollectionError(f"{method} /_lab/{path}: {parsed.get('error', status)}")
        return parsed

    from lab.services.s3.engine import S3

    s3_engine = sandbox.engines.find(S3)
    status_of = s3_engine.replication_status if s3_engine is not None else None
    with sandbox.lock, audit.unrecorded():
        return collect(sandbox.client, lambda path: admin_call("GET", path), config.REGIONS, services,
                       admin_post=lambda path, body: admin_call("POST", path, body), data=sandbox.data,
                       replication_status=status_of, ledger=lambda: sandbox.lab.orders)


def collect_from_endpoint(endpoint: str, services: set[str] | None = None, *,
                          allow_remote: bool = False) -> dict[str, Any]:
    """The inventory of the sandbox at `endpoint`: its own GET /_lab/inventory when it has one (fast and
    complete), else read through the AWS APIs from here (any AWS-compatible endpoint)."""
    from lab.admin_client import AdminClient
    from lab.errors import LabError

    chosen = normalise_services(services)
    query = "inventory" + (f"?services={','.join(sorted(chosen))}" if services is not None else "")
    try:
        return AdminClient(endpoint, allow_remote=allow_remote).get(query, timeout=120)
    except LabError as exc:
        if "no admin route" not in str(exc) and "not the lab's admin API" not in str(exc):
            raise
    return collect_through_apis(endpoint, chosen, allow_remote=allow_remote)


def collect_through_apis(endpoint: str, services: set[str] | None = None, *,
                         allow_remote: bool = False) -> dict[str, Any]:
    """The inventory read from outside through the AWS APIs (and the admin API, where there is one): slower,
    listings capped (API_MAX_VERSIONS), no per-version replication status, and the reads are API calls
    that CloudTrail records."""
    from lab.admin_client import AdminClient
    from lab.awsclient import client

    admin = AdminClient(endpoint, allow_remote=allow_remote)
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def client_for(service: str, region: str) -> Any:
        with lock:  # boto3 sessions are not thread-safe: make clients one at a time
            if (service, region) not in clients:
                clients[(service, region)] = client(service, region, endpoint, allow_remote=allow_remote)
            return clients[(service, region)]

    def admin_get(path: str) -> Any:
        with lock:  # the admin client keeps one connection
            return admin.get(path)

    def admin_post(path: str, body: Mapping[str, Any]) -> Any:
        with lock:
            return admin.post(path, dict(body))

    return collect(client_for, admin_get, config.REGIONS, services, admin_post=admin_post, parallel=True)


def dumps(inventory: Mapping[str, Any], indent: int | None = None) -> str:
    """The inventory as JSON text with a deterministic key order."""
    return json.dumps(inventory, sort_keys=True, indent=indent, default=str)


def inventory_route(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """?services=s3,rds (default: everything) -> the inventory, collected inside the sandbox."""
    wanted = ctx.query_params().get("services", [""])[0]
    chosen = {part for part in wanted.split(",") if part} or None
    return 200, collect_in_sandbox(sandbox, chosen)


def register(router: AdminRouter) -> None:
    router.add("GET", "inventory", inventory_route)
