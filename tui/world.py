"""The map's and the explorer's view of the sandbox, read from an inventory (lab.inventory's schema 1.0)
and the active faults (GET /_lab/faults): resources per region with their details, what is in progress and how
far (a status that is not final, with the service's own percent: RDS PercentProgress, EC2 Progress, AWS
Backup PercentDone, Elastic Disaster Recovery's replicated bytes), and the replication between the regions
with its state. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checks.view import InventoryView, arn_name, arn_region
from tui.data import RegionView, ReplicationLink, ResourceView, WorldView, frozen_mapping

MAX_LISTED = 50  # rows of a list (object versions, snapshots, recovery points) kept for the details pane
MIN_ZONES = 2  # zones drawn per region even when nothing runs in them
#: statuses of an operation under way, as each service spells them (its final ones -- available, ACTIVE,
#: completed, running, COMPLETED, CONTINUOUS -- are not here; EC2's "running" is final, AWS Backup's RUNNING not)
MOVING = frozenset({
    # RDS (DBInstanceStatus, snapshot Status), EC2 instances, EBS volumes and snapshots
    "creating", "pending", "modifying", "backing-up", "rebooting", "deleting", "copying", "upgrading", "starting",
    "stopping", "shutting-down", "storage-optimization", "maintenance", "renaming", "resetting-master-credentials",
    "configuring-enhanced-monitoring", "configuring-log-exports", "converting-to-vpc", "moving-to-vpc",
    # DynamoDB tables, replicas and backups
    "CREATING", "UPDATING", "DELETING", "ARCHIVING",
    # AWS Backup and Elastic Disaster Recovery jobs, DRS replication
    "CREATED", "PENDING", "RUNNING", "STARTED", "ABORTING", "INITIATING", "INITIAL_SYNC", "CREATING_SNAPSHOT",
    "BACKLOG", "RESCAN",
})


def is_moving(status: str | None) -> bool:
    return (status or "") in MOVING


def percent(value: Any) -> int | None:
    """A service's progress as an integer percent: 42, 42.5, "42%", "42.0" -> 42; None when it says nothing."""
    if value is None or value == "":
        return None
    try:
        return max(0, min(100, int(float(str(value).rstrip("%")))))
    except ValueError:
        return None


def _progress(status: str, value: Any) -> int | None:
    """The percent, shown only while the operation is under way."""
    return percent(value) if is_moving(status) else None


def world_view(inventory: Mapping[str, Any], faults: Mapping[str, Any] | None = None) -> WorldView:
    view = InventoryView(inventory)
    paused = set((faults or {}).get("replication_paused") or ())
    regions = []
    for region in view.region_names:
        resources = tuple(_resources(view, region))
        regions.append(RegionView(region, _zones(region, resources), resources))
    links = (*_s3_links(view, paused), *_dynamodb_links(view, paused), *_backup_links(view),
             *_rds_links(view), *_dlm_links(view), *_drs_links(view))
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
    yield from _drs(view, region)
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
        status = str(table.get("status") or "")
        creating = [r for r in replicas if is_moving(r.get("status"))]
        if creating:
            summary += ", replica " + ", ".join(f"{r.get('region')} {r.get('status')}" for r in creating)
        yield ResourceView(region, "dynamodb", "table", table["name"], table["name"], status, None, summary,
                           frozen_mapping(details), moving=is_moving(status) or bool(creating))
    for backup in view.dynamodb_backups(region):
        status = str(backup.get("status") or "")
        yield ResourceView(region, "dynamodb", "backup", str(backup.get("arn")), str(backup.get("name")), status,
                           None, f"of {backup.get('table')}",
                           frozen_mapping({"table": backup.get("table"), "type": backup.get("type"),
                                           "created": backup.get("created")}), moving=is_moving(status))


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
        pending = db.get("pending_modified") or {}
        if pending:
            details["pending modifications"] = ", ".join(f"{k}={v}" for k, v in sorted(pending.items()))
        rows = orders.get("count")
        summary = f"{db.get('engine')}, {rows if rows is not None else '?'} order rows" + (
            ", Multi-AZ" if db.get("multi_az") else "") + (", changes pending" if pending else "")
        status = str(db.get("status") or "")
        yield ResourceView(region, "rds", "db-instance", db["id"], db["id"], status, db.get("az"), summary,
                           frozen_mapping(details), moving=is_moving(status))
    for snapshot in snapshots:
        status = str(snapshot.get("status") or "")
        yield ResourceView(region, "rds", "db-snapshot", snapshot["id"], snapshot["id"], status, None,
                           f"{snapshot.get('type')} of {snapshot.get('instance')}",
                           frozen_mapping({"instance": snapshot.get("instance"), "type": snapshot.get("type"),
                                           "created": snapshot.get("created"), "encrypted": snapshot.get("encrypted"),
                                           "copied from region": snapshot.get("source_region"),
                                           "percent progress": snapshot.get("percent_progress")}),
                           moving=is_moving(status), progress=_progress(status, snapshot.get("percent_progress")))


def _name(item: Mapping[str, Any]) -> str:
    return str((item.get("tags") or {}).get("Name") or item["id"])


def _compute(view: InventoryView, region: str) -> Iterable[ResourceView]:
    snapshots = list(view.ebs_snapshots(region))
    recovered = {r.get("instance"): r for r in view.drs_recovery_instances(region)}
    for instance in view.ec2_instances(region):
        status = str(instance.get("state") or "")
        details = {"id": instance["id"], "type": instance.get("type"), "public IP": instance.get("public_ip"),
                   "volumes": instance.get("volumes") or [], "tags": instance.get("tags")}
        summary = f"{instance.get('type')} in {instance.get('az')}"
        drs = recovered.get(instance["id"])
        if drs is not None:
            # Elastic Disaster Recovery's view of its recovery instance: PENDING until it has booted
            what = "drill" if drs.get("drill") else "recovery"
            details.update({"DRS": f"{what} instance of {drs.get('source_server')}",
                            "DRS state": drs.get("state"), "point in time": drs.get("point_in_time")})
            summary = f"DRS {what} instance, {summary}"
            if drs.get("state") == "PENDING" and status == "running":
                status = "booting"
        yield ResourceView(region, "ec2", "instance", instance["id"], _name(instance), status, instance.get("az"),
                           summary, frozen_mapping(details), moving=is_moving(status) or status == "booting")
    for volume in view.volumes(region):
        own = [s for s in snapshots if s.get("volume") == volume["id"]]
        status = str(volume.get("state") or "")
        yield ResourceView(region, "ec2", "volume", volume["id"], _name(volume), status,
                           volume.get("az"), f"{volume.get('size')} GiB {volume.get('type')}",
                           frozen_mapping({"id": volume["id"], "size (GiB)": volume.get("size"),
                                           "encrypted": volume.get("encrypted"),
                                           "attached to": [a.get("instance") for a in volume.get("attachments") or ()],
                                           "snapshots": [{"id": s["id"], "state": s.get("state"),
                                                          "progress": s.get("progress"), "created": s.get("created")}
                                                         for s in _newest(own, "created")]}),
                           moving=is_moving(status))
    for snapshot in snapshots:
        status = str(snapshot.get("state") or "")
        yield ResourceView(region, "ec2", "snapshot", snapshot["id"], _name(snapshot), status,
                           None, f"of {snapshot.get('volume')}",
                           frozen_mapping({"volume": snapshot.get("volume"), "created": snapshot.get("created"),
                                           "progress": snapshot.get("progress"),
                                           "copied from": snapshot.get("source_snapshot"),
                                           "copied from region": snapshot.get("source_region")}),
                           moving=is_moving(status), progress=_progress(status, snapshot.get("progress")))


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
    # Jobs are shown while they run: what AWS Backup is doing now, and how far it is
    for key, kind, verb in (("jobs", "backup-job", "backs up"), ("copy_jobs", "copy-job", "copies"),
                            ("restore_jobs", "restore-job", "restores")):
        for job in view.backup_list(key, region):
            status = str(job.get("state") or "")
            if not is_moving(status):
                continue
            source = job.get("resource_arn") or job.get("recovery_point") or job.get("source_recovery_point")
            target = arn_name(job.get("destination_vault_arn"))
            summary = f"{verb} {arn_name(source) or source}" + (f" to {target}" if target else "")
            yield ResourceView(region, "backup", kind, str(job.get("id")), f"{kind} {str(job.get('id'))[:8]}", status,
                               None, summary, frozen_mapping({"resource": source, "resource type": job.get(
                                   "resource_type"), "started": job.get("created"), "percent done":
                                   job.get("percent_done"), "destination": job.get("destination_vault_arn")}),
                               moving=True, progress=percent(job.get("percent_done")))


def _drs(view: InventoryView, region: str) -> Iterable[ResourceView]:
    """Elastic Disaster Recovery: each source server's replication (state, step, percent, lag), and the jobs
    that are running."""
    for server in view.drs_source_servers(region):
        status = str(server.get("state") or "")
        step = server.get("initiation_step")
        summary = (f"{server.get('instance')} from {server.get('origin_region')}"
                   + (f", step {step}" if step else "") + (f", lag {server.get('lag')}" if server.get("lag") else "")
                   + (f", {server.get('error')}" if server.get("error") else ""))
        progress = server.get("replicated_percent") if status == "INITIAL_SYNC" else None
        yield ResourceView(region, "drs", "source-server", str(server["id"]),
                           str(server.get("hostname") or server["id"]), status, None, summary, frozen_mapping({
                               "source instance": server.get("instance"), "from region": server.get("origin_region"),
                               "direction": server.get("direction"), "initiation step": step,
                               "replicated": f"{server['replicated_percent']}%" if server.get(
                                   "replicated_percent") is not None else None,
                               "lag": server.get("lag"), "ETA": server.get("eta"), "error": server.get("error"),
                               "recovery instance": server.get("recovery_instance"),
                               "last launch": server.get("last_launch_result")}),
                           moving=is_moving(status), progress=percent(progress))
    for job in view.section(region, "drs").get("jobs") or ():
        status = str(job.get("status") or "")
        if not is_moving(status):
            continue
        servers = job.get("servers") or []
        yield ResourceView(region, "drs", "drs-job", str(job.get("id")), str(job.get("id")), status, None,
                           f"{job.get('type')} {job.get('initiated_by')}: "
                           + ", ".join(f"{p.get('source_server')} {p.get('launch_status')}" for p in servers),
                           frozen_mapping({"type": job.get("type"), "initiated by": job.get("initiated_by"),
                                           "created": job.get("created"), "servers": list(servers)}), moving=True)


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


def _drs_links(view: InventoryView) -> Iterable[ReplicationLink]:
    for server in view.drs_source_servers():
        status = str(server.get("state") or "")
        state = ("failing" if status == "STALLED" else "idle" if status in ("STOPPED", "DISCONNECTED", "")
                 else "replicating")
        detail = status + (f" {server['replicated_percent']}%" if status == "INITIAL_SYNC"
                           and server.get("replicated_percent") is not None else "")
        detail += f", lag {server['lag']}" if server.get("lag") else ""
        yield ReplicationLink("DRS replication", str(server.get("origin_region") or "?"),
                              str(server.get("hostname") or server.get("instance") or server["id"]),
                              str(server["region"]), str(server["id"]), state, detail)
