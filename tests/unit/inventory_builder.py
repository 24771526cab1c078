"""Hand-built inventories in checks.inventory's models, for testing checks without a sandbox."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from checks.inventory import PARTS, SCHEMA_VERSION, Inventory, Region
from checks.inventory.backup import (
    Condition,
    Control,
    CopyAction,
    Framework,
    Lifecycle,
    Plan,
    RecoveryPoint,
    RestoreJob,
    Rule,
    Selection,
    TagCondition,
    Vault,
    VaultLock,
)
from checks.inventory.base import IdSet
from checks.inventory.cloudtrail import Trail, TrailEvent
from checks.inventory.drs import DRS, RecoveryInstance, SourceServer
from checks.inventory.dynamodb import GlobalTable, Items, KeyAttribute, Pitr, Replica, Table
from checks.inventory.ec2 import Attachment, CrossRegionCopy, DlmPolicy, DlmSchedule, Instance, Snapshot, Volume
from checks.inventory.iam import Role
from checks.inventory.lab import Clock, Drill, Effect, Injection, LedgerBuilder, Rpo, Targets
from checks.inventory.rds import DBInstance, DBSnapshot, Endpoint, Orders, PendingChanges
from checks.inventory.route53 import HealthCheck, Record, Zone
from checks.inventory.s3 import Bucket, Invoices, ObjectLock, Objects, Replication, ReplicationRule

ACCOUNT = "000000000000"
EAST, WEST = "us-east-1", "us-west-2"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**delta: float) -> str:
    return iso(NOW - timedelta(**delta))


class Inv:
    """A fluent builder: Inv().bucket(...).table(...).build() -> an Inventory."""

    def __init__(self) -> None:
        self.data = Inventory(
            schema_version=SCHEMA_VERSION, collected_at=iso(NOW), collected_epoch=NOW.timestamp(),
            account_id=ACCOUNT, services=sorted(PARTS), regions={EAST: Region(), WEST: Region()},
            clock=Clock(now=iso(NOW), epoch=NOW.timestamp()))

    def build(self) -> Inventory:
        return copy.deepcopy(self.data)

    def region(self, region: str) -> Region:
        return self.data.regions[region]

    # -- S3 ----------------------------------------------------------------------------------------

    def bucket(self, name: str, region: str = EAST, *, versioning: str = "Off", replication: Replication | None = None,
               lock: ObjectLock | None = None, lifecycle: list | None = None, tags: dict | None = None,
               invoices: Invoices | None = None, truncated: bool = False) -> Inv:
        readable = len(invoices.readable) if invoices is not None else 0
        self.region(region).s3.buckets[name] = Bucket(
            name=name, region=region, arn=f"arn:aws:s3:::{name}", created=ago(days=10), tags=tags or {},
            versioning=versioning, replication=replication, object_lock=lock or ObjectLock(),
            lifecycle=lifecycle or [],
            objects=Objects(count=readable, version_count=readable, delete_marker_count=0, truncated=truncated,
                            limit=20000, replication_status_known=True, invoices=invoices or Invoices()))
        return self

    @staticmethod
    def replication(destination: str, *, role: str = f"arn:aws:iam::{ACCOUNT}:role/crr", status: str = "Enabled",
                    prefix: str | None = None, tags: dict | None = None,
                    delete_markers: str = "Enabled", rtc: bool = False, metrics: bool | None = None) -> Replication:
        """One rule to `destination`; `rtc`: with Replication Time Control (and, unless `metrics` says otherwise,
        the Metrics block AWS requires with it)."""
        return Replication(role=role, rules=[ReplicationRule(
            id="rule-1", status=status, priority=1, prefix=prefix, tags=tags or {}, destination_bucket=destination,
            destination_arn=f"arn:aws:s3:::{destination}", delete_marker_replication=delete_markers,
            replication_time=rtc, replication_time_minutes=15 if rtc else None,
            metrics=rtc if metrics is None else metrics)])

    @staticmethod
    def lock(*, mode: str | None = None, days: int | None = None) -> ObjectLock:
        return ObjectLock(enabled=True, mode=mode, days=days)

    # -- IAM ---------------------------------------------------------------------------------------

    def role(self, name: str, *services: str) -> Inv:
        self.data.global_.iam.roles[name] = Role(
            name=name, arn=f"arn:aws:iam::{ACCOUNT}:role/{name}", created=ago(days=1),
            trust_policy={"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}]})
        return self

    # -- DynamoDB ----------------------------------------------------------------------------------

    def table(self, name: str, region: str = EAST, *, pitr: str = "DISABLED", replicas: list[Replica] | None = None,
              order_ids: list[str] | None = None, status: str = "ACTIVE", created: str | None = None,
              tags: dict | None = None, key: str = "order_id", deletion_protection: bool = False) -> Inv:
        items = Items(count=len(order_ids or []),
                      order_ids=IdSet.of(order_ids or []) if key == "order_id" else None)
        self.region(region).dynamodb.tables[name] = Table(
            name=name, region=region, arn=f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}", status=status,
            created=created or ago(days=10), key_schema=[KeyAttribute(name=key, type="HASH")],
            billing_mode="PAY_PER_REQUEST", tags=tags or {}, deletion_protection=deletion_protection,
            replicas=replicas or [], pitr=Pitr(status=pitr), items=items)
        return self

    def global_table(self, name: str, replicas: list[str], region: str = EAST, status: str = "ACTIVE") -> Inv:
        """A global table of the 2017.11.29 version, listed in `region`."""
        self.region(region).dynamodb.global_tables.append(GlobalTable(name=name, replicas=replicas, status=status))
        return self

    @staticmethod
    def replica(region: str, status: str = "ACTIVE") -> Replica:
        return Replica(region=region, status=status)

    # -- RDS ---------------------------------------------------------------------------------------

    def db(self, identifier: str, region: str = EAST, *, retention: int = 0, multi_az: bool = False,
           status: str = "available", replica_of: str | None = None, order_ids: list[str] | None = None,
           created: str | None = None, tags: dict | None = None, az: str | None = None,
           address: str | None = None, pending: PendingChanges | None = None,
           maintenance_window: str | None = "sun:05:00-sun:05:30") -> Inv:
        self.region(region).rds.instances[identifier] = DBInstance(
            id=identifier, region=region, arn=f"arn:aws:rds:{region}:{ACCOUNT}:db:{identifier}", status=status,
            engine="postgres", engine_version="16.3", instance_class="db.t3.micro", az=az or f"{region}a",
            secondary_az=f"{region}b" if multi_az else None, multi_az=multi_az, backup_retention=retention,
            backup_window="03:00-03:30", storage_encrypted=True, created=created or ago(days=10),
            endpoint=Endpoint(address=address or f"{identifier}.abc.{region}.rds.amazonaws.com", port=5432),
            read_replica_source=replica_of, tags=tags or {}, pending=pending or PendingChanges(),
            maintenance_window=maintenance_window,
            orders=None if order_ids is None else Orders(count=len(order_ids), order_ids=IdSet.of(order_ids),
                                                         sha256="x", status=status))
        return self

    def db_snapshot(self, snapshot_id: str, instance: str, region: str = EAST, *, kind: str = "manual",
                    status: str = "available", source_region: str | None = None, encrypted: bool = True) -> Inv:
        self.region(region).rds.snapshots[snapshot_id] = DBSnapshot(
            id=snapshot_id, region=region, arn=f"arn:aws:rds:{region}:{ACCOUNT}:snapshot:{snapshot_id}",
            instance=instance, type=kind, status=status, created=ago(hours=2), encrypted=encrypted,
            source_region=source_region)
        return self

    # -- EC2 / EBS / DLM ---------------------------------------------------------------------------

    def instance(self, instance_id: str, region: str = EAST, *, tags: dict | None = None,
                 state: str = "running", public_ip: str | None = None) -> Inv:
        self.region(region).ec2.instances[instance_id] = Instance(
            id=instance_id, region=region, arn=f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{instance_id}",
            state=state, az=f"{region}a", type="t3.micro", tags=tags or {}, public_ip=public_ip)
        return self

    # -- Elastic Disaster Recovery -------------------------------------------------------------------

    def drs(self, region: str = WEST, *, initialized: bool = True) -> Inv:
        """DRS initialized (or not) in `region`, with nothing replicating yet."""
        self.region(region).drs = DRS(initialized=initialized)
        return self

    def source_server(self, server_id: str, instance: str, state: str, region: str = WEST, *,
                      origin_region: str = EAST, **fields: Any) -> Inv:
        drs = self.region(region).drs
        drs.initialized = True
        drs.source_servers[server_id] = SourceServer(
            id=server_id, region=region, instance=instance, origin_region=origin_region, state=state,
            direction="FAILOVER", lag="PT1S" if state == "CONTINUOUS" else None, **fields)
        return self

    def recovery_instance(self, instance_id: str, source_server: str, region: str = WEST, *, drill: bool = False,
                          state: str = "RUNNING") -> Inv:
        self.region(region).drs.recovery_instances[instance_id] = RecoveryInstance(
            id=instance_id, region=region, instance=instance_id, state=state, source_server=source_server,
            drill=drill)
        return self

    def volume(self, volume_id: str, region: str = EAST, *, tags: dict | None = None, snapshot_id: str | None = None,
               state: str = "in-use", attached_to: str | None = None, created: str | None = None,
               encrypted: bool = True) -> Inv:
        self.region(region).ec2.volumes[volume_id] = Volume(
            id=volume_id, region=region, arn=f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{volume_id}", az=f"{region}a",
            state=state, size=20, type="gp3", encrypted=encrypted, snapshot_id=snapshot_id,
            created=created or ago(days=10), tags=tags or {},
            attachments=[Attachment(instance=attached_to, device="/dev/sdf", state="attached")] if attached_to else [])
        return self

    def snapshot(self, snapshot_id: str, volume: str, region: str = EAST, *, state: str = "completed",
                 source_snapshot: str | None = None, tags: dict | None = None) -> Inv:
        self.region(region).ec2.snapshots[snapshot_id] = Snapshot(
            id=snapshot_id, region=region, volume=volume, state=state, progress="100%", created=ago(hours=3),
            encrypted=True, description="", tags=tags or {}, size=20, source_snapshot=source_snapshot,
            source_region=EAST if source_snapshot else None)
        return self

    def dlm(self, policy_id: str, region: str = EAST, *, target_tags: dict, state: str = "ENABLED",
            interval: int | None = 24, cron: str | None = None, copy_to: str | None = None,
            resource_types: list[str] | None = None) -> Inv:
        copies = [CrossRegionCopy(target_region=copy_to, encrypted=True, retain_interval=7,
                                  retain_interval_unit="DAYS")] if copy_to else []
        self.region(region).ec2.dlm_policies[policy_id] = DlmPolicy(
            id=policy_id, region=region, description="daily", state=state, policy_type="EBS_SNAPSHOT_MANAGEMENT",
            resource_types=resource_types or ["VOLUME"], target_tags=target_tags,
            schedules=[DlmSchedule(name="daily", interval=interval, interval_unit="HOURS", cron=cron, times=["03:00"],
                                   retain_count=7, copy_tags=True, cross_region_copy=copies)])
        return self

    # -- AWS Backup --------------------------------------------------------------------------------

    def vault(self, name: str, region: str = EAST, *, key: str | None = "arn:aws:kms:x:key/1", locked: bool = False,
              min_retention: int | None = None, lock_date: str | None = None, policy: dict | None = None,
              points: int = 0) -> Inv:
        self.region(region).backup.vaults[name] = Vault(
            name=name, region=region, arn=f"arn:aws:backup:{region}:{ACCOUNT}:backup-vault:{name}",
            created=ago(days=2), encryption_key=key, recovery_points=points, locked=locked,
            lock=VaultLock(min_retention_days=min_retention, lock_date=lock_date), access_policy=policy)
        return self

    @staticmethod
    def rule(name: str = "daily", *, vault: str = "main", schedule: str | None = "cron(0 5 ? * * *)",
             delete_after: int | None = 7, copy_to: list[str] | None = None) -> Rule:
        return Rule(name=name, id=name, target_vault=vault, schedule=schedule, start_window=60, completion_window=120,
                    lifecycle=Lifecycle(delete_after_days=delete_after),
                    copy_actions=[CopyAction(destination_vault_arn=arn,
                                             lifecycle=Lifecycle(delete_after_days=delete_after))
                                  for arn in copy_to or []])

    @staticmethod
    def selection(name: str = "sel", *, role: str = f"arn:aws:iam::{ACCOUNT}:role/backup",
                  resources: list | None = None, tags: dict | None = None,
                  conditions: dict[str, list[dict[str, str]]] | None = None,
                  not_resources: list | None = None) -> Selection:
        return Selection(id=name, name=name, role=role, resources=resources or [], not_resources=not_resources or [],
                         list_of_tags=[TagCondition(type="STRINGEQUALS", key=k, value=v)
                                       for k, v in (tags or {}).items()],
                         conditions={kind: [Condition(key=c["key"], value=c["value"]) for c in entries]
                                     for kind, entries in (conditions or {}).items()})

    def plan(self, plan_id: str, region: str = EAST, *, rules: list[Rule], selections: list[Selection] | None = None,
             name: str | None = None) -> Inv:
        self.region(region).backup.plans[plan_id] = Plan(
            id=plan_id, region=region, arn=f"arn:aws:backup:{region}:{ACCOUNT}:backup-plan:{plan_id}",
            name=name or plan_id, version="v1", rules=rules, selections=selections or [])
        return self

    def recovery_point(self, resource_arn: str, region: str = EAST, *, vault: str = "main", created: str | None = None,
                       status: str = "COMPLETED", encrypted: bool = True, delete_after: int | None = 7) -> Inv:
        points = self.region(region).backup.recovery_points
        points.append(RecoveryPoint(
            arn=f"arn:aws:backup:{region}:{ACCOUNT}:recovery-point:rp-{len(points)}", region=region, vault=vault,
            resource_arn=resource_arn, resource_type="DynamoDB", status=status, created=created or ago(hours=1),
            completed=created or ago(hours=1), encrypted=encrypted,
            lifecycle=Lifecycle(delete_after_days=delete_after)))
        return self

    def restore_job(self, job_id: str, recovery_point: str, created_resource_arn: str, region: str = EAST, *,
                    resource_type: str = "EBS", state: str = "COMPLETED") -> Inv:
        self.region(region).backup.restore_jobs.append(RestoreJob(
            id=job_id, state=state, recovery_point=recovery_point, created_resource_arn=created_resource_arn,
            resource_type=resource_type, created=ago(minutes=1)))
        return self

    def framework(self, name: str, controls: list[str], region: str = EAST, status: str = "COMPLETED") -> Inv:
        self.region(region).backup.frameworks.append(Framework(
            name=name, arn=f"arn:aws:backup:{region}:{ACCOUNT}:framework:{name}", region=region,
            deployment_status=status, status="ACTIVE", created=ago(days=1),
            controls=[Control(name=c) for c in controls]))
        return self

    # -- CloudTrail, Route 53 ----------------------------------------------------------------------

    def trail(self, name: str, region: str = EAST, *, logging: bool = True, multi_region: bool = True,
              bucket: str = "trail-bucket", selectors: list | None = None) -> Inv:
        self.region(region).cloudtrail.trails[name] = Trail(
            name=name, arn=f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}", region=region, home_region=region,
            multi_region=multi_region, bucket=bucket, logging=logging, log_file_validation=True,
            event_selectors=selectors or [])
        return self

    def trail_event(self, name: str, time: str, region: str = EAST, error_code: str | None = None) -> Inv:
        events = self.region(region).cloudtrail.events
        events.append(TrailEvent(id=f"e{len(events)}", name=name, time=time, source="backup.amazonaws.com",
                                 user="intruder", error_code=error_code))
        return self

    def zone(self, zone_id: str, name: str, records: list[Record]) -> Inv:
        self.data.global_.route53.zones[zone_id] = Zone(id=zone_id, name=name, records=records)
        return self

    @staticmethod
    def record(name: str, value: str, *, failover: str | None = None, health_check: str | None = None,
               record_type: str = "CNAME", set_identifier: str | None = None, weight: int | None = None,
               region: str | None = None) -> Record:
        return Record(name=name, type=record_type, ttl=60, values=[value],
                      set_identifier=set_identifier or (failover.lower() if failover else None), failover=failover,
                      health_check_id=health_check, weight=weight, region=region)

    def health_check(self, check_id: str, status: str | None = "Healthy") -> Inv:
        self.data.global_.route53.health_checks[check_id] = HealthCheck(
            id=check_id, type="HTTP", port=80, fqdn="orders.example", resource_path="/", failure_threshold=3,
            status=status)
        return self

    # -- ledger and drills -------------------------------------------------------------------------

    def orders(self, count: int, *, every_minutes: int = 60, last_at: datetime | None = None,
               refused: dict[str, set[str]] | None = None) -> Inv:
        """`count` orders ORD-000001.., the last at `last_at` (default 1h before NOW), `every_minutes` apart."""
        last_at = last_at or NOW - timedelta(hours=1)
        ledger = LedgerBuilder()
        for number in range(1, count + 1):
            order_id = f"ORD-{number:06d}"
            created = last_at - timedelta(minutes=every_minutes * (count - number))
            ledger.add(order_id, int(created.timestamp()),
                       [store for store, ids in (refused or {}).items() if order_id in ids])
        self.data.orders = ledger.ledger()
        return self

    def order_ids(self, *numbers: int) -> list[str]:
        return [f"ORD-{n:06d}" for n in numbers]

    def all_order_ids(self) -> list[str]:
        return [order_id for order_id, _ in self.data.orders.entries()]

    def invoices(self, *, corrupt: set[str] = frozenset(), missing: set[str] = frozenset(),
                 deleted: set[str] = frozenset()) -> Invoices:
        """A bucket's invoices of the ledger's orders, some overwritten (corrupt), absent or delete-marked."""
        readable = [o for o in self.all_order_ids() if o not in missing and o not in deleted]
        return Invoices(readable=IdSet.of(readable), original=IdSet.of(o for o in readable if o not in corrupt))

    def drill(self, drill_id: str = "drill-0001", lab: str = "03-rds-snapshot-restore", *,
              incident: datetime | None = None, status: str = "running", rto: int | None = None,
              rpo_span: int = 0, rpo_count: int = 0,
              targets: tuple[int, int] = (3600, 300), params: dict | None = None, evaluations: int = 1,
              injections: list[str] | None = None) -> Inv:
        incident = incident or NOW - timedelta(minutes=30)
        self.data.drills.append(Drill(
            id=drill_id, lab=lab, scenario="bad-deploy", params=params or {}, incident_time=iso(incident),
            status=status, rto_seconds=rto, rpo=Rpo(count=rpo_count, span_seconds=rpo_span),
            targets=Targets(rto_seconds=targets[0], rpo_seconds=targets[1]), injections=injections or [],
            evaluations=evaluations))
        return self

    def injection(self, injection_id: str, drill_id: str, *, effects: list[dict[str, Any]] | None = None,
                  outcome: dict | None = None, started: datetime | None = None) -> Inv:
        self.data.faults.injections.append(Injection(
            id=injection_id, drill=drill_id, status="ended", started=iso(started) if started else None,
            effects=[Effect(kind=e.get("kind"), target=e.get("target"), detail=e.get("detail") or {})
                     for e in effects or []],
            outcome=outcome or {}))
        return self
