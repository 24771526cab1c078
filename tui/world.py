"""The map's and the explorer's view of the sandbox, read from an inventory (lab.inventory's schema 1.0)
and the active faults (GET /_lab/faults): resources per region with their details, and the replication
between the regions with its state. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checks.view import InventoryView, arn_name, arn_region
from tui.data import RegionView, ReplicationLink, ResourceView, WorldView, frozen_mapping

MAX_LISTED = 50  # rows of a list (object versions, snapshots, recovery points) kept for the details pane
MIN_ZONES = 2  # zones drawn per region even when nothing runs in them


def world_view(inventory: Mapping[str, Any], faults: Mapping[str, Any] | None = None) -> WorldView:
    view = InventoryView(inventory)
    paused = set((faults or {}).get("replication_paused") or ())
    regions = []
    for region in view.region_names:
        resources = tuple(_resources(view, region))
        regions.append(RegionView(region, _zones(region, resources), resources))
    links = (*_s3_links(view, paused), *_dynamodb_links(view, paused), *_backup_links(view),
             *_rds_links(view), *_dlm_links(view))
    return WorldView(str(inventory.get("collected_at") or ""), tuple(regions), tuple(links))


def _zones(region: str, resources: Iterable[ResourceView]) -> tuple[str, ...]:
    zones = {r.zone for r in resources if r.zone}
    zones |= {str(r.details.get("secondary_az")) for r in resources if r.details.get("secondary_az")}
    letter = iter("abcdef")
    while len(zones) < MIN_ZONES:
        zones.add(f"{region}{next(letter)}")
    return tuple(sorted(zones))


def _newest(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: str(row.get(key) or ""))[-MAX_LISTED:]


def _resources(view: InventoryView, region: str) -> Iterable[ResourceView]:
    yield from _buckets(view, region)
    yield from _tables(view, region)
    yield from _databases(view, region)
    yield from _compute(view, region)
    yield from _backup(view, region)
    for trail in (view.section(region, "cloudtrail").get("trails") or {}).values():
        yield ResourceView(region, "cloudtrail", "trail", trail["name"], trail["name"],
                           "logging" if trail.get("logging") else "stopped", None,
                           f"to bucket {trail.get('bucket')}", frozen_mapping({
                               "multi_region": trail.get("multi_region"), "bucket": trail.get("bucket"),
                               "log_file_validation": trail.get("log_file_validation")}))


def _buckets(view: InventoryView, region: str) -> Iterable[ResourceView]:
    for bucket in view.buckets(region):
        objects = bucket.get("objects") or {}
        versions = [{"key": key, **version} for key, listed in (objects.get("keys") or {}).items()
                    for version in listed]
        replication = bucket.get("replication") or {}
        rules = [{"id": r.get("id"), "status": r.get("status"), "to": r.get("destination_bucket"),
                  "delete markers": r.get("delete_marker_replication"), "prefix": r.get("prefix")}
                 for r in replication.get("rules") or ()]
        count = objects.get("count")
        summary = f"{count if count is not None else '?'} objects, versioning {bucket.get('versioning')}"
        if rules:
            summary += f", replicates to {', '.join(str(r['to']) for r in rules)}"
        details = {
            "versioning": bucket.get("versioning"), "object lock": (bucket.get("object_lock") or {}).get("enabled"),
            "objects": count, "versions": objects.get("version_count"),
            "delete markers": objects.get("delete_marker_count"),
            "replication role": replication.get("role"), "replication rules": rules,
            "object versions": [{"key": v["key"], "version": v.get("version_id"), "latest": v.get("latest"),
                                 "delete marker": v.get("delete_marker"), "replication": v.get("replication_status"),
                                 "modified": v.get("last_modified")}
                                for v in _newest(versions, "last_modified")],
        }
        yield ResourceView(region, "s3", "bucket", bucket["name"], bucket["name"], "", None, summary,
                           frozen_mapping(details))


def _tables(view: InventoryView, region: str) -> Iterable[ResourceView]:
    for table in view.tables(region):
        pitr = table.get("pitr") or {}
        items = table.get("items") or {}
        replicas = [r for r in table.get("replicas") or () if r.get("region") != region]
        details = {
            "items": items.get("count"), "point-in-time recovery": pitr.get("status"),
            "earliest restorable": pitr.get("earliest"), "latest restorable": pitr.get("latest"),
            "deletion protection": table.get("deletion_protection"), "billing": table.get("billing_mode"),
            "replicas": [{"region": r.get("region"), "status": r.get("status")} for r in replicas],
            "restored from": (table.get("restore") or {}).get("source_table_arn"),
        }
        summary = f"{items.get('count', '?')} items, PITR {pitr.get('status', '?')}"
        yield ResourceView(region, "dynamodb", "table", table["name"], table["name"], str(table.get("status") or ""),
                           None, summary, frozen_mapping(details))
    for backup in view.dynamodb_backups(region):
        yield ResourceView(region, "dynamodb", "backup", str(backup.get("arn")), str(backup.get("name")),
                           str(backup.get("status") or ""), None, f"of {backup.get('table')}",
                           frozen_mapping({"table": backup.get("table"), "type": backup.get("type"),
                                           "created": backup.get("created")}))


def _databases(view: InventoryView, region: str) -> Iterable[ResourceView]:
    snapshots = list(view.db_snapshots(region))
    for db in view.db_instances(region):
        orders = db.get("orders") or {}
        own = [s for s in snapshots if s.get("instance") == db["id"]]
        details = {
            "engine": f"{db.get('engine')} {db.get('engine_version') or ''}".strip(),
            "multi-AZ": db.get("multi_az"), "secondary_az": db.get("secondary_az"),
            "backup retention (days)": db.get("backup_retention"), "latest restorable": db.get("latest_restorable"),
            "deletion protection": db.get("deletion_protection"), "encrypted": db.get("storage_encrypted"),
            "order rows": orders.get("count"), "newest order": orders.get("max_created_at"),
            "read replica of": db.get("read_replica_source"), "read replicas": db.get("read_replicas") or [],
            "snapshots": [{"id": s["id"], "type": s.get("type"), "status": s.get("status"),
                           "created": s.get("created")} for s in _newest(own, "created")],
        }
        rows = orders.get("count")
        summary = f"{db.get('engine')}, {rows if rows is not None else '?'} order rows" + (
            ", Multi-AZ" if db.get("multi_az") else "")
        yield ResourceView(region, "rds", "db-instance", db["id"], db["id"], str(db.get("status") or ""),
                           db.get("az"), summary, frozen_mapping(details))
    for snapshot in snapshots:
        yield ResourceView(region, "rds", "db-snapshot", snapshot["id"], snapshot["id"],
                           str(snapshot.get("status") or ""), None,
                           f"{snapshot.get('type')} of {snapshot.get('instance')}",
                           frozen_mapping({"instance": snapshot.get("instance"), "type": snapshot.get("type"),
                                           "created": snapshot.get("created"), "encrypted": snapshot.get("encrypted"),
                                           "copied from region": snapshot.get("source_region")}))


def _name(item: Mapping[str, Any]) -> str:
    return str((item.get("tags") or {}).get("Name") or item["id"])


def _compute(view: InventoryView, region: str) -> Iterable[ResourceView]:
    snapshots = list(view.ebs_snapshots(region))
    for instance in view.ec2_instances(region):
        yield ResourceView(region, "ec2", "instance", instance["id"], _name(instance), str(instance.get("state") or ""),
                           instance.get("az"), f"{instance.get('type')} in {instance.get('az')}",
                           frozen_mapping({"id": instance["id"], "type": instance.get("type"),
                                           "volumes": instance.get("volumes") or [], "tags": instance.get("tags")}))
    for volume in view.volumes(region):
        own = [s for s in snapshots if s.get("volume") == volume["id"]]
        yield ResourceView(region, "ec2", "volume", volume["id"], _name(volume), str(volume.get("state") or ""),
                           volume.get("az"), f"{volume.get('size')} GiB {volume.get('type')}",
                           frozen_mapping({"id": volume["id"], "size (GiB)": volume.get("size"),
                                           "encrypted": volume.get("encrypted"),
                                           "attached to": [a.get("instance") for a in volume.get("attachments") or ()],
                                           "snapshots": [{"id": s["id"], "state": s.get("state"),
                                                          "created": s.get("created")}
                                                         for s in _newest(own, "created")]}))
    for snapshot in snapshots:
        yield ResourceView(region, "ec2", "snapshot", snapshot["id"], _name(snapshot), str(snapshot.get("state") or ""),
                           None, f"of {snapshot.get('volume')}",
                           frozen_mapping({"volume": snapshot.get("volume"), "created": snapshot.get("created"),
                                           "copied from": snapshot.get("source_snapshot"),
                                           "copied from region": snapshot.get("source_region")}))


def _backup(view: InventoryView, region: str) -> Iterable[ResourceView]:
    points = list(view.recovery_points(region))
    for vault in view.vaults(region):
        own = [p for p in points if p.get("vault") == vault["name"]]
        lock = vault.get("lock") or {}
        details = {
            "recovery points": vault.get("recovery_points"), "locked": vault.get("locked"),
            "lock min retention (days)": lock.get("min_retention_days"), "encryption key": vault.get("encryption_key"),
            "points": [{"resource": arn_name(p.get("resource_arn")), "type": p.get("resource_type"),
                        "status": p.get("status"), "created": p.get("created"),
                        "copied from": arn_region(p.get("source_vault_arn")) or None}
                       for p in _newest(own, "created")],
        }
        yield ResourceView(region, "backup", "vault", vault["name"], vault["name"],
                           "locked" if vault.get("locked") else "",
                           None, f"{vault.get('recovery_points', 0)} recovery points", frozen_mapping(details))
    for plan in view.backup_plans(region):
        rules = [{"rule": r.get("name"), "schedule": r.get("schedule"), "vault": r.get("target_vault"),
                  "delete after (days)": (r.get("lifecycle") or {}).get("delete_after_days"),
                  "copies to": ", ".join(arn_name(c.get("destination_vault_arn")) + " in " +
                                         arn_region(c.get("destination_vault_arn"))
                                         for c in r.get("copy_actions") or ()) or None}
                 for r in plan.get("rules") or ()]
        selections = [{"selection": s.get("name"), "resources": ", ".join(s.get("resources") or ()) or None,
                       "tags": ", ".join(f"{t.get('key')}={t.get('value')}"
                                         for t in s.get("list_of_tags") or ()) or None}
                      for s in plan.get("selections") or ()]
        yield ResourceView(region, "backup", "plan", plan["id"], str(plan.get("name") or plan["id"]), "", None,
                           f"{len(rules)} rule(s), {len(selections)} selection(s)",
                           frozen_mapping({"rules": rules, "selections": selections}))


# -- replication ----------------------------------------------------------------------------------------------

def _paused(paused: set[str], service: str, name: str) -> bool:
    return f"{service}:{name}" in paused or f"{service}:*" in paused


def _s3_links(view: InventoryView, paused: set[str]) -> Iterable[ReplicationLink]:
    for bucket in view.buckets():
        for rule in (bucket.get("replication") or {}).get("rules") or ():
            target = rule.get("destination_bucket") or arn_name(rule.get("destination_arn"))
            destination = view.bucket(str(target)) or {}
            versions = [v for listed in ((bucket.get("objects") or {}).get("keys") or {}).values() for v in listed]
            pending = sum(1 for v in versions if v.get("replication_status") == "PENDING")
            failed = sum(1 for v in versions if v.get("replication_status") == "FAILED")
            if rule.get("status") != "Enabled":
                state = "idle"
            elif _paused(paused, "s3", bucket["name"]):
                state = "paused"
            elif failed:
                state = "failing"
            else:
                state = "replicating"
            detail = ", ".join(part for part in (f"{pending} pending" if pending else "",
                                                 f"{failed} failed" if failed else "") if part)
            yield ReplicationLink("S3 CRR", bucket["region"], bucket["name"], str(destination.get("region") or "?"),
                                  str(target), state, detail)


def _dynamodb_links(view: InventoryView, paused: set[str]) -> Iterable[ReplicationLink]:
    for table in view.tables():
        for replica in table.get("replicas") or ():
            if replica.get("region") == table["region"]:
                continue
            status = replica.get("status")
            state = "paused" if _paused(paused, "dynamodb", table["name"]) else (
                "replicating" if status in (None, "ACTIVE") else "idle")
            yield ReplicationLink("DynamoDB replica", table["region"], table["name"], str(replica.get("region")),
                                  table["name"], state, "" if status in (None, "ACTIVE") else str(status))


def _backup_links(view: InventoryView) -> Iterable[ReplicationLink]:
    copy_jobs = list(view.backup_list("copy_jobs"))
    for plan in view.backup_plans():
        for rule in plan.get("rules") or ():
            for action in rule.get("copy_actions") or ():
                destination = str(action.get("destination_vault_arn") or "")
                jobs = sorted((j for j in copy_jobs if j.get("destination_vault_arn") == destination),
                              key=lambda j: str(j.get("created") or ""))
                last = str(jobs[-1].get("state") or jobs[-1].get("status") or "") if jobs else ""
                state = "failing" if last == "FAILED" else "replicating" if last == "COMPLETED" else "idle"
                detail = f"rule {rule.get('name')}" + (f", last copy {last.lower()}" if last else ", no copy yet")
                yield ReplicationLink("Backup copy", plan["region"], str(rule.get("target_vault")),
                                      arn_region(destination) or "?", arn_name(destination), state, detail)


def _rds_links(view: InventoryView) -> Iterable[ReplicationLink]:
    for db in view.db_instances():
        source = db.get("read_replica_source")
        if source:
            source_region = arn_region(source) or db["region"]
            yield ReplicationLink("RDS read replica", source_region, arn_name(source) or str(source), db["region"],
                                  db["id"], "replicating" if db.get("status") == "available" else "idle",
                                  str(db.get("status") or ""))


def _dlm_links(view: InventoryView) -> Iterable[ReplicationLink]:
    for policy in view.dlm_policies():
        if policy.get("state") != "ENABLED":
            continue
        for schedule in policy.get("schedules") or ():
            for copy in schedule.get("cross_region_copy") or ():
                yield ReplicationLink("EBS snapshot copy", policy["region"],
                                      str(policy.get("description") or policy["id"]),
                                      str(copy.get("target_region")), "snapshots", "replicating",
                                      f"schedule {schedule.get('name')}")
