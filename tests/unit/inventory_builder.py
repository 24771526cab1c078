"""Hand-built inventories in lab.inventory's schema, for testing checks without a sandbox."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from lab.inventory import EMPTY, SCHEMA_VERSION, SERVICES

ACCOUNT = "000000000000"
EAST, WEST = "us-east-1", "us-west-2"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**delta: float) -> str:
    return iso(NOW - timedelta(**delta))


class Inv:
    """A fluent builder: Inv().bucket(...).table(...).build() -> an inventory dict."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION, "collected_at": iso(NOW), "collected_epoch": NOW.timestamp(),
            "account_id": ACCOUNT, "services": sorted(SERVICES), "errors": [],
            "regions": {region: {service: EMPTY[service]() for service in
                                 ("s3", "dynamodb", "rds", "ec2", "backup", "cloudtrail")} for region in (EAST, WEST)},
            "global": {"iam": EMPTY["iam"](), "route53": EMPTY["route53"]()},
            "orders": {"total": 0, "ledger": []}, "drills": [], "faults": {"injections": [], "regions_down": []},
            "clock": {"now": iso(NOW), "epoch": NOW.timestamp()},
        }

    def build(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)

    def section(self, region: str, service: str) -> dict[str, Any]:
        return self.data["regions"][region][service]

    # -- S3 ----------------------------------------------------------------------------------------

    def bucket(self, name: str, region: str = EAST, *, versioning: str = "Off", replication: dict | None = None,
               lock: dict | None = None, lifecycle: list | None = None, tags: dict | None = None,
               keys: dict[str, list[dict[str, Any]]] | None = None, truncated: bool = False) -> Inv:
        keys = keys or {}
        self.section(region, "s3")["buckets"][name] = {
            "name": name, "region": region, "arn": f"arn:aws:s3:::{name}", "created": ago(days=10),
            "tags": tags or {}, "versioning": versioning, "mfa_delete": None, "replication": replication,
            "object_lock": lock or {"enabled": False, "mode": None, "days": None, "years": None},
            "lifecycle": lifecycle or [],
            "objects": {"count": sum(1 for v in keys.values() if not v[0]["delete_marker"]),
                        "version_count": sum(len(v) for v in keys.values()), "delete_marker_count": 0,
                        "truncated": truncated, "limit": 20000, "replication_status_known": True, "keys": keys}}
        return self

    @staticmethod
    def replication(destination: str, *, role: str = f"arn:aws:iam::{ACCOUNT}:role/crr", status: str = "Enabled",
                    prefix: str | None = None, tags: dict | None = None, delete_markers: str = "Enabled") -> dict:
        return {"role": role, "rules": [{
            "id": "rule-1", "status": status, "priority": 1, "prefix": prefix, "tags": tags or {},
            "destination_bucket": destination, "destination_arn": f"arn:aws:s3:::{destination}",
            "storage_class": None, "delete_marker_replication": delete_markers, "replication_time": False,
            "existing_objects": False}]}

    # -- IAM ---------------------------------------------------------------------------------------

    def role(self, name: str, *services: str) -> Inv:
        self.data["global"]["iam"]["roles"][name] = {
            "name": name, "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "created": ago(days=1),
            "trust_policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}]},
            "attached_policies": [], "inline_policies": [], "tags": {}}
        return self

    # -- DynamoDB ----------------------------------------------------------------------------------

    def table(self, name: str, region: str = EAST, *, pitr: str = "DISABLED", replicas: list[dict] | None = None,
              order_ids: list[str] | None = None, status: str = "ACTIVE", created: str | None = None,
              tags: dict | None = None, key: str = "order_id", deletion_protection: bool = False) -> Inv:
        items: dict[str, Any] = {"count": len(order_ids or []), "sha256": "x"}
        if key == "order_id":
            items["order_ids"] = sorted(order_ids or [])
        self.section(region, "dynamodb")["tables"][name] = {
            "name": name, "region": region, "arn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}",
            "status": status, "created": created or ago(days=10), "key_schema": [{"name": key, "type": "HASH"}],
            "billing_mode": "PAY_PER_REQUEST", "tags": tags or {}, "stream": None,
            "deletion_protection": deletion_protection, "replicas": replicas or [], "global_table_version": None,
            "restore": None, "pitr": {"status": pitr, "earliest": None, "latest": None, "recovery_period_days": None},
            "items": items}
        return self

    # -- RDS ---------------------------------------------------------------------------------------

    def db(self, identifier: str, region: str = EAST, *, retention: int = 0, multi_az: bool = False,
           status: str = "available", replica_of: str | None = None, order_ids: list[str] | None = None,
           created: str | None = None, tags: dict | None = None, az: str | None = None,
           address: str | None = None) -> Inv:
        self.section(region, "rds")["instances"][identifier] = {
            "id": identifier, "region": region, "arn": f"arn:aws:rds:{region}:{ACCOUNT}:db:{identifier}",
            "status": status, "engine": "postgres", "engine_version": "16.3", "instance_class": "db.t3.micro",
            "az": az or f"{region}a", "secondary_az": f"{region}b" if multi_az else None, "multi_az": multi_az,
            "backup_retention": retention, "backup_window": "03:00-03:30", "latest_restorable": None,
            "deletion_protection": False, "storage_encrypted": True, "kms_key": None,
            "created": created or ago(days=10),
            "endpoint": {"address": address or f"{identifier}.abc.{region}.rds.amazonaws.com", "port": 5432},
            "read_replica_source": replica_of, "read_replicas": [], "tags": tags or {},
            "orders": None if order_ids is None else {"count": len(order_ids), "order_ids": sorted(order_ids),
                                                      "sha256": "x", "min_created_at": None, "max_created_at": None,
                                                      "status": status, "error": None}}
        return self

    def db_snapshot(self, snapshot_id: str, instance: str, region: str = EAST, *, kind: str = "manual",
                    status: str = "available", source_region: str | None = None, encrypted: bool = True) -> Inv:
        self.section(region, "rds")["snapshots"][snapshot_id] = {
            "id": snapshot_id, "region": region, "arn": f"arn:aws:rds:{region}:{ACCOUNT}:snapshot:{snapshot_id}",
            "instance": instance, "type": kind, "status": status, "created": ago(hours=2), "encrypted": encrypted,
            "source_region": source_region, "source_snapshot": None, "tags": {}}
        return self

    # -- EC2 / EBS / DLM ---------------------------------------------------------------------------

    def instance(self, instance_id: str, region: str = EAST, *, tags: dict | None = None,
                 state: str = "running") -> Inv:
        self.section(region, "ec2")["instances"][instance_id] = {
            "id": instance_id, "region": region, "arn": f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{instance_id}",
            "state": state, "az": f"{region}a", "type": "t3.micro", "tags": tags or {}, "volumes": []}
        return self

    def volume(self, volume_id: str, region: str = EAST, *, tags: dict | None = None, snapshot_id: str | None = None,
               state: str = "in-use", attached_to: str | None = None, created: str | None = None,
               encrypted: bool = True) -> Inv:
        self.section(region, "ec2")["volumes"][volume_id] = {
            "id": volume_id, "region": region, "arn": f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{volume_id}",
            "az": f"{region}a", "state": state, "size": 20, "type": "gp3", "encrypted": encrypted,
            "snapshot_id": snapshot_id, "created": created or ago(days=10), "tags": tags or {},
            "attachments": ([{"instance": attached_to, "device": "/dev/sdf", "state": "attached"}]
                            if attached_to else [])}
        return self

    def snapshot(self, snapshot_id: str, volume: str, region: str = EAST, *, state: str = "completed",
                 source_snapshot: str | None = None, tags: dict | None = None) -> Inv:
        self.section(region, "ec2")["snapshots"][snapshot_id] = {
            "id": snapshot_id, "region": region, "volume": volume, "state": state, "progress": "100%",
            "created": ago(hours=3), "encrypted": True, "description": "", "tags": tags or {}, "size": 20,
            "source_snapshot": source_snapshot, "source_region": EAST if source_snapshot else None}
        return self

    def dlm(self, policy_id: str, region: str = EAST, *, target_tags: dict, state: str = "ENABLED",
            interval: int | None = 24, cron: str | None = None, copy_to: str | None = None,
            resource_types: list[str] | None = None) -> Inv:
        self.section(region, "ec2")["dlm_policies"][policy_id] = {
            "id": policy_id, "region": region, "arn": None, "description": "daily", "state": state,
            "execution_role": None, "policy_type": "EBS_SNAPSHOT_MANAGEMENT",
            "resource_types": resource_types or ["VOLUME"], "target_tags": target_tags,
            "schedules": [{"name": "daily", "interval": interval, "interval_unit": "HOURS", "cron": cron,
                           "times": ["03:00"], "retain_count": 7, "retain_interval": None,
                           "retain_interval_unit": None, "copy_tags": True,
                           "cross_region_copy": [{"target_region": copy_to, "encrypted": True,
                                                  "retain_interval": 7, "retain_interval_unit": "DAYS"}]
                           if copy_to else []}]}
        return self

    # -- AWS Backup --------------------------------------------------------------------------------

    def vault(self, name: str, region: str = EAST, *, key: str | None = "arn:aws:kms:x:key/1", locked: bool = False,
              min_retention: int | None = None, lock_date: str | None = None, policy: dict | None = None,
              points: int = 0) -> Inv:
        self.section(region, "backup")["vaults"][name] = {
            "name": name, "region": region, "arn": f"arn:aws:backup:{region}:{ACCOUNT}:backup-vault:{name}",
            "created": ago(days=2), "encryption_key": key, "recovery_points": points, "locked": locked,
            "lock": {"min_retention_days": min_retention, "max_retention_days": None, "lock_date": lock_date},
            "access_policy": policy}
        return self

    @staticmethod
    def rule(name: str = "daily", *, vault: str = "main", schedule: str | None = "cron(0 5 ? * * *)",
             delete_after: int | None = 7, copy_to: list[str] | None = None) -> dict:
        return {"name": name, "id": name, "target_vault": vault, "schedule": schedule, "timezone": None,
                "start_window": 60, "completion_window": 120,
                "lifecycle": {"delete_after_days": delete_after, "move_to_cold_after_days": None},
                "copy_actions": [{"destination_vault_arn": arn, "lifecycle": {"delete_after_days": delete_after}}
                                 for arn in copy_to or []], "continuous": False}

    @staticmethod
    def selection(name: str = "sel", *, role: str = f"arn:aws:iam::{ACCOUNT}:role/backup",
                  resources: list | None = None, tags: dict | None = None, conditions: dict | None = None,
                  not_resources: list | None = None) -> dict:
        return {"id": name, "name": name, "role": role, "resources": resources or [],
                "not_resources": not_resources or [],
                "list_of_tags": [{"type": "STRINGEQUALS", "key": k, "value": v} for k, v in (tags or {}).items()],
                "conditions": conditions or {}}

    def plan(self, plan_id: str, region: str = EAST, *, rules: list[dict], selections: list[dict] | None = None,
             name: str | None = None) -> Inv:
        self.section(region, "backup")["plans"][plan_id] = {
            "id": plan_id, "region": region, "arn": f"arn:aws:backup:{region}:{ACCOUNT}:backup-plan:{plan_id}",
            "name": name or plan_id, "version": "v1", "rules": rules, "selections": selections or []}
        return self

    def recovery_point(self, resource_arn: str, region: str = EAST, *, vault: str = "main", created: str | None = None,
                       status: str = "COMPLETED", encrypted: bool = True, delete_after: int | None = 7) -> Inv:
        points = self.section(region, "backup")["recovery_points"]
        points.append({"arn": f"arn:aws:backup:{region}:{ACCOUNT}:recovery-point:rp-{len(points)}", "region": region,
                       "vault": vault, "resource_arn": resource_arn, "resource_type": "DynamoDB", "status": status,
                       "created": created or ago(hours=1), "completed": created or ago(hours=1),
                       "encrypted": encrypted, "encryption_key": None,
                       "lifecycle": {"delete_after_days": delete_after, "move_to_cold_after_days": None},
                       "delete_at": None, "source_vault_arn": None, "plan_id": None})
        return self

    def framework(self, name: str, controls: list[str], region: str = EAST, status: str = "COMPLETED") -> Inv:
        self.section(region, "backup")["frameworks"].append({
            "name": name, "arn": f"arn:aws:backup:{region}:{ACCOUNT}:framework:{name}", "region": region,
            "deployment_status": status, "status": "ACTIVE", "created": ago(days=1),
            "controls": [{"name": c, "params": {}} for c in controls]})
        return self

    # -- CloudTrail, Route 53 ----------------------------------------------------------------------

    def trail(self, name: str, region: str = EAST, *, logging: bool = True, multi_region: bool = True,
              bucket: str = "trail-bucket", selectors: list | None = None) -> Inv:
        self.section(region, "cloudtrail")["trails"][name] = {
            "name": name, "arn": f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}", "region": region,
            "home_region": region, "multi_region": multi_region, "bucket": bucket, "logging": logging,
            "log_file_validation": True, "event_selectors": selectors or [], "advanced_event_selectors": []}
        return self

    def trail_event(self, name: str, time: str, region: str = EAST, error_code: str | None = None) -> Inv:
        self.section(region, "cloudtrail")["events"].append({
            "id": f"e{len(self.section(region, 'cloudtrail')['events'])}", "name": name, "time": time,
            "source": "backup.amazonaws.com", "user": "intruder", "error_code": error_code,
            "error_message": None, "resources": []})
        return self

    def zone(self, zone_id: str, name: str, records: list[dict]) -> Inv:
        self.data["global"]["route53"]["zones"][zone_id] = {"id": zone_id, "name": name, "private": False,
                                                           "records": records}
        return self

    @staticmethod
    def record(name: str, value: str, *, failover: str | None = None, health_check: str | None = None,
               record_type: str = "CNAME") -> dict:
        return {"name": name, "type": record_type, "ttl": 60, "values": [value], "alias": None,
                "set_identifier": failover.lower() if failover else None, "failover": failover,
                "health_check_id": health_check, "weight": None, "region": None}

    def health_check(self, check_id: str, status: str | None = "Healthy") -> Inv:
        self.data["global"]["route53"]["health_checks"][check_id] = {
            "id": check_id, "type": "HTTP", "ip": None, "port": 80, "fqdn": "orders.example", "resource_path": "/",
            "failure_threshold": 3, "inverted": False, "disabled": False, "status": status}
        return self

    # -- ledger and drills -------------------------------------------------------------------------

    def orders(self, count: int, *, every_minutes: int = 60, last_at: datetime | None = None,
               refused: dict[str, set[str]] | None = None) -> Inv:
        """`count` orders ORD-000001.., the last at `last_at` (default 1h before NOW), `every_minutes` apart."""
        last_at = last_at or NOW - timedelta(hours=1)
        ledger = []
        for number in range(1, count + 1):
            order_id = f"ORD-{number:06d}"
            created = last_at - timedelta(minutes=every_minutes * (count - number))
            stored = {"rds": True, "dynamodb": True, "s3": True}
            for store, ids in (refused or {}).items():
                if order_id in ids:
                    stored[store] = False
            ledger.append({"order_id": order_id, "created_at": iso(created), "stored": stored,
                           "invoice_key": f"invoices/{order_id}.json",
                           "invoice_etag": hashlib.md5(order_id.encode(), usedforsecurity=False).hexdigest()})
        self.data["orders"] = {"total": count, "ledger": ledger}
        return self

    def order_ids(self, *numbers: int) -> list[str]:
        return [f"ORD-{n:06d}" for n in numbers]

    def all_order_ids(self) -> list[str]:
        return [order["order_id"] for order in self.data["orders"]["ledger"]]

    def invoices(self, *, corrupt: set[str] = frozenset(), missing: set[str] = frozenset(),
                 deleted: set[str] = frozenset()) -> dict[str, list[dict[str, Any]]]:
        """Bucket keys for the ledger's invoices, with some overwritten (corrupt), absent or delete-marked."""
        keys = {}
        for order in self.data["orders"]["ledger"]:
            if order["order_id"] in missing:
                continue
            good = {"version_id": f"v1-{order['order_id']}", "etag": order["invoice_etag"], "size": 100,
                    "last_modified": order["created_at"], "latest": True, "delete_marker": False,
                    "replication_status": "COMPLETED"}
            if order["order_id"] in corrupt:
                bad = {**good, "version_id": f"v2-{order['order_id']}", "etag": "ffff", "latest": True}
                keys[order["invoice_key"]] = [bad, {**good, "latest": False}]
            elif order["order_id"] in deleted:
                marker = {**good, "version_id": f"dm-{order['order_id']}", "etag": None, "delete_marker": True}
                keys[order["invoice_key"]] = [marker, {**good, "latest": False}]
            else:
                keys[order["invoice_key"]] = [good]
        return keys

    def drill(self, drill_id: str = "drill-0001", lab: str = "03-rds-snapshot-restore", *,
              incident: datetime | None = None, status: str = "running", rto: int | None = None,
              rpo_span: int = 0, rpo_count: int = 0,
              targets: tuple[int, int] = (3600, 300), params: dict | None = None, evaluations: int = 1,
              injections: list[str] | None = None) -> Inv:
        incident = incident or NOW - timedelta(minutes=30)
        self.data["drills"].append({
            "id": drill_id, "lab": lab, "scenario": "bad-deploy", "params": params or {},
            "incident_time": iso(incident), "status": status, "recovered_time": None, "rto_seconds": rto,
            "rpo": {"count": rpo_count, "span_seconds": rpo_span, "per_store": {}},
            "targets": {"rto_seconds": targets[0], "rpo_seconds": targets[1]}, "compliance": None,
            "injections": injections or [], "evaluations": evaluations})
        return self

    def injection(self, injection_id: str, drill_id: str, *, effects: list[dict] | None = None,
                  outcome: dict | None = None) -> Inv:
        self.data["faults"]["injections"].append({"id": injection_id, "drill": drill_id, "status": "ended",
                                                  "effects": effects or [], "outcome": outcome or {}})
        return self
