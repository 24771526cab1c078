"""The map's and the explorer's view of the sandbox, read from an inventory (checks.inventory's models)
and the active faults (GET /_lab/faults): resources per region with their details, and the replication
between the regions with its state. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checks.inventory import Inventory
from checks.inventory.s3 import Objects, Replication
from checks.view import InventoryView, arn_name, arn_region
from tui.data import RegionView, ReplicationLink, ResourceView, WorldView, frozen_mapping

MAX_LISTED = 50  # rows of a list (object versions, snapshots, recovery points) kept for the details pane
MIN_ZONES = 2  # zones drawn per region even when nothing runs in them


def world_view(inventory: Inventory | Mapping[str, Any], faults: Mapping[str, Any] | None = None) -> WorldView:
    view = InventoryView(inventory)
    paused = set((faults or {}).get("replication_paused") or ())
    regions = []
    for region in view.region_names:
        resources = tuple(_resources(view, region))
        regions.append(RegionView(region, _zones(region, resources), resources))
    links = (*_s3_links(view, paused), *_dynamodb_links(view, paused), *_backup_links(view),
             *_rds_links(view), *_dlm_links(view))
    return WorldView(str(view.collected_at or ""), tuple(regions), tuple(links))


def _zones(region: str, resources: Iterable[ResourceView]) -> tuple[str, ...]:
    zones = {r.zone for r in resources if r.zone}
    zones |= {str(r.details.get("secondary_az")) for r in resources if r.details.get("secondary_az")}
    letter = iter("abcdef")
    while len(zones) < MIN_ZONES:
        zones.add(f"{region}{next(letter)}")
    return tuple(sorted(zones))


def _newest(rows: list[Any], key: str) -> list[Any]:
    return sorted(rows, key=lambda row: str(getattr(row, key) or ""))[-MAX_LISTED:]


def _resources(view: InventoryView, region: str) -> Iterable[ResourceView]:
    yield from _buckets(view, region)
    yield from _tables(view, region)
    yield from _databases(view, region)
    yield from _compute(view, region)
    yield from _backup(view, region)
    for trail in view.trails(region):
        yield ResourceView(region, "cloudtrail", "trail", trail.name, trail.name,
                           "logging" if trail.logging else "stopped", None,
                           f"to bucket {trail.bucket}", frozen_mapping({
                               "multi_region": trail.multi_region, "bucket": trail.bucket,
                               "log_file_validation": trail.log_file_validation}))


def _buckets(view: InventoryView, region: str) -> Iterable[ResourceView]:
    for bucket in view.buckets(region):
        objects = bucket.objects or Objects()
        replication = bucket.replication or Replication()
        rules = [{"id": r.id, "status": r.status, "to": r.destination_bucket,
                  "delete markers": r.delete_marker_replication, "prefix": r.prefix}
                 for r in replication.rules]
        count = objects.count
        summary = f"{count if count is not None else '?'} objects, versioning {bucket.versioning}"
        if rules:
            summary += f", replicates to {', '.join(str(r['to']) for r in rules)}"
        details = {
            "versioning": bucket.versioning, "object lock": bucket.object_lock.enabled,
            "objects": count, "versions": objects.version_count,
            "delete markers": objects.delete_marker_count,
            "replication role": replication.role, "replication rules": rules,
            "object versions": [{"key": v.key, "version": v.version_id, "latest": v.latest,
                                 "delete marker": v.delete_marker, "replication": v.replication_status,
                                 "modified": v.last_modified}
                                for v in _newest(objects.newest, "last_modified")],
        }
        yield ResourceView(region, "s3", "bucket", bucket.name, bucket.name, "", None, summary,
                           frozen_mapping(details))


def _tables(view: InventoryView, region: str) -> Iterable[ResourceView]:
    for table in view.tables(region):
        pitr = table.pitr
        items = table.items
        replicas = [r for r in table.replicas if r.region != region]
        details = {
            "items": items.count if items else None, "point-in-time recovery": pitr.status,
            "earliest restorable": pitr.earliest, "latest restorable": pitr.latest,
            "deletion protection": table.deletion_protection, "billing": table.billing_mode,
            "replicas": [{"region": r.region, "status": r.status} for r in replicas],
            "restored from": table.restore.source_table_arn if table.restore else None,
        }
        count = items.count if items is not None and items.count is not None else "?"
        summary = f"{count} items, PITR {pitr.status or '?'}"
        yield ResourceView(region, "dynamodb", "table", table.name, table.name, str(table.status or ""),
                           None, summary, frozen_mapping(details))
    for backup in view.dynamodb_backups(region):
        yield ResourceView(region, "dynamodb", "backup", str(backup.arn), str(backup.name),
                           str(backup.status or ""), None, f"of {backup.table}",
                           frozen_mapping({"table": backup.table, "type": backup.type, "created": backup.created}))


def _databases(view: InventoryView, region: str) -> Iterable[ResourceView]:
    snapshots = list(view.db_snapshots(region))
    for db in view.db_instances(region):
        orders = db.orders
        own = [s for s in snapshots if s.instance == db.id]
        rows = orders.count if orders is not None else None
        details = {
            "engine": f"{db.engine} {db.engine_version or ''}".strip(),
            "multi-AZ": db.multi_az, "secondary_az": db.secondary_az,
            "backup retention (days)": db.backup_retention, "latest restorable": db.latest_restorable,
            "deletion protection": db.deletion_protection, "encrypted": db.storage_encrypted,
            "order rows": rows, "newest order": orders.max_created_at if orders is not None else None,
            "read replica of": db.read_replica_source, "read replicas": db.read_replicas or [],
            "snapshots": [{"id": s.id, "type": s.type, "status": s.status, "created": s.created}
                          for s in _newest(own, "created")],
        }
        summary = f"{db.engine}, {rows if rows is not None else '?'} order rows" + (", Multi-AZ" if db.multi_az else "")
        yield ResourceView(region, "rds", "db-instance", db.id, db.id, str(db.status or ""), db.az, summary,
                           frozen_mapping(details))
    for snapshot in snapshots:
        yield ResourceView(region, "rds", "db-snapshot", snapshot.id, snapshot.id, str(snapshot.status or ""), None,
                           f"{snapshot.type} of {snapshot.instance}",
                           frozen_mapping({"instance": snapshot.instance, "type": snapshot.type,
                                           "created": snapshot.created, "encrypted": snapshot.encrypted,
                                           "copied from region": snapshot.source_region}))


def _name(item: Any) -> str:
    return str(item.tags.get("Name") or item.id)


def _compute(view: InventoryView, region: str) -> Iterable[ResourceView]:
    snapshots = list(view.ebs_snapshots(region))
    for instance in view.ec2_instances(region):
        yield ResourceView(region, "ec2", "instance", instance.id, _name(instance), str(instance.state or ""),
                           instance.az, f"{instance.type} in {instance.az}",
                           frozen_mapping({"id": instance.id, "type": instance.type, "volumes": instance.volumes,
                                           "tags": instance.tags}))
    for volume in view.volumes(region):
        own = [s for s in snapshots if s.volume == volume.id]
        yield ResourceView(region, "ec2", "volume", volume.id, _name(volume), str(volume.state or ""),
                           volume.az, f"{volume.size} GiB {volume.type}",
                           frozen_mapping({"id": volume.id, "size (GiB)": volume.size, "encrypted": volume.encrypted,
                                           "attached to": [a.instance for a in volume.attachments],
                                           "snapshots": [{"id": s.id, "state": s.state, "created": s.created}
                                                         for s in _newest(own, "created")]}))
    for snapshot in snapshots:
        yield ResourceView(region, "ec2", "snapshot", snapshot.id, _name(snapshot), str(snapshot.state or ""),
                           None, f"of {snapshot.volume}",
                           frozen_mapping({"volume": snapshot.volume, "created": snapshot.created,
                                           "copied from": snapshot.source_snapshot,
                                           "copied from region": snapshot.source_region}))


def _backup(view: InventoryView, region: str) -> Iterable[ResourceView]:
    points = list(view.recovery_points(region))
    for vault in view.vaults(region):
        own = [p for p in points if p.vault == vault.name]
        details = {
            "recovery points": vault.recovery_points, "locked": vault.locked,
            "lock min retention (days)": vault.lock.min_retention_days, "encryption key": vault.encryption_key,
            "points": [{"resource": arn_name(p.resource_arn), "type": p.resource_type, "status": p.status,
                        "created": p.created, "copied from": arn_region(p.source_vault_arn) or None}
                       for p in _newest(own, "created")],
        }
        yield ResourceView(region, "backup", "vault", vault.name, vault.name, "locked" if vault.locked else "",
                           None, f"{vault.recovery_points} recovery points", frozen_mapping(details))
    for plan in view.backup_plans(region):
        rules = [{"rule": r.name, "schedule": r.schedule, "vault": r.target_vault,
                  "delete after (days)": r.lifecycle.delete_after_days,
                  "copies to": ", ".join(arn_name(c.destination_vault_arn) + " in " +
                                         arn_region(c.destination_vault_arn) for c in r.copy_actions) or None}
                 for r in plan.rules]
        selections = [{"selection": s.name, "resources": ", ".join(s.resources) or None,
                       "tags": ", ".join(f"{t.key}={t.value}" for t in s.list_of_tags) or None}
                      for s in plan.selections]
        yield ResourceView(region, "backup", "plan", plan.id, str(plan.name or plan.id), "", None,
                           f"{len(rules)} rule(s), {len(selections)} selection(s)",
                           frozen_mapping({"rules": rules, "selections": selections}))


# -- replication ----------------------------------------------------------------------------------------------

def _paused(paused: set[str], service: str, name: str) -> bool:
    return f"{service}:{name}" in paused or f"{service}:*" in paused


def _s3_links(view: InventoryView, paused: set[str]) -> Iterable[ReplicationLink]:
    for bucket in view.buckets():
        rules = bucket.replication.rules if bucket.replication is not None else []
        for rule in rules:
            target = rule.destination_bucket or arn_name(rule.destination_arn)
            destination = view.bucket(str(target))
            pending = bucket.objects.replication_pending if bucket.objects is not None else 0
            failed = bucket.objects.replication_failed if bucket.objects is not None else 0
            if rule.status != "Enabled":
                state = "idle"
            elif _paused(paused, "s3", bucket.name):
                state = "paused"
            elif failed:
                state = "failing"
            else:
                state = "replicating"
            detail = ", ".join(part for part in (f"{pending} pending" if pending else "",
                                                 f"{failed} failed" if failed else "") if part)
            yield ReplicationLink("S3 CRR", bucket.region, bucket.name,
                                  str(destination.region if destination is not None else "?"), str(target), state,
                                  detail)


def _dynamodb_links(view: InventoryView, paused: set[str]) -> Iterable[ReplicationLink]:
    for table in view.tables():
        for replica in table.replicas:
            if replica.region == table.region:
                continue
            status = replica.status
            state = "paused" if _paused(paused, "dynamodb", table.name) else (
                "replicating" if status in (None, "ACTIVE") else "idle")
            yield ReplicationLink("DynamoDB replica", table.region, table.name, str(replica.region),
                                  table.name, state, "" if status in (None, "ACTIVE") else str(status))


def _backup_links(view: InventoryView) -> Iterable[ReplicationLink]:
    copy_jobs = list(view.copy_jobs())
    for plan in view.backup_plans():
        for rule in plan.rules:
            for action in rule.copy_actions:
                destination = str(action.destination_vault_arn or "")
                jobs = sorted((j for j in copy_jobs if j.destination_vault_arn == destination),
                              key=lambda j: str(j.created or ""))
                last = str(jobs[-1].state or "") if jobs else ""
                state = "failing" if last == "FAILED" else "replicating" if last == "COMPLETED" else "idle"
                detail = f"rule {rule.name}" + (f", last copy {last.lower()}" if last else ", no copy yet")
                yield ReplicationLink("Backup copy", plan.region, str(rule.target_vault),
                                      arn_region(destination) or "?", arn_name(destination), state, detail)


def _rds_links(view: InventoryView) -> Iterable[ReplicationLink]:
    for db in view.db_instances():
        source = db.read_replica_source
        if source:
            source_region = arn_region(source) or db.region
            yield ReplicationLink("RDS read replica", source_region, arn_name(source) or str(source), db.region,
                                  db.id, "replicating" if db.status == "available" else "idle", str(db.status or ""))


def _dlm_links(view: InventoryView) -> Iterable[ReplicationLink]:
    for policy in view.dlm_policies():
        if policy.state != "ENABLED":
            continue
        for schedule in policy.schedules:
            for copy in schedule.cross_region_copy:
                yield ReplicationLink("EBS snapshot copy", policy.region, str(policy.description or policy.id),
                                      str(copy.target_region), "snapshots", "replicating",
                                      f"schedule {schedule.name}")
