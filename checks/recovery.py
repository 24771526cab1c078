"""Recovery checks: after a drill, is the data back, and was it fast enough?

They compare the recovered state with the shop's ledger (every order the workload placed, with the stores
that accepted it): an order created before the incident must be found again -- in any RDS instance, any
DynamoDB table keyed by order_id, any bucket of the DR region -- whatever the learner named the restored
copy and whichever tool restored it. Evidence lists the order ids still missing, which lab.grading turns
into the drill's RPO. Orders created within `allowedLossSeconds` (or the lab's RPO target, with
`withinRpoTarget`) before the incident may be missing without failing: that loss is what RPO measures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from checks.base import Finding, Param, check, errored, failed, not_applicable, passed
from checks.drs import BACKEND, backend_in_region
from checks.inventory import IdSet
from checks.inventory.lab import Drill
from checks.inventory.s3 import Bucket
from checks.route53 import (
    client_answer,
    dr_endpoints,
    failover_groups,
    health_of,
    outage_answer,
    points_into,
    possible_answers,
    record_targets,
    routed_groups,
)
from checks.view import InventoryView, parse_time, tags_match

READABLE_DB = frozenset({"available", "backing-up", "modifying", "storage-optimization", "configuring-log-exports",
                         "upgrading", "maintenance"})
#: statuses in which a standalone instance takes writes (a promotion or a restore is over)
WRITABLE_DB = frozenset({"available", "backing-up", "storage-optimization", "configuring-log-exports"})
READABLE_TABLE = frozenset({"ACTIVE", "UPDATING"})
DR_REGION = "us-west-2"
#: the stores of lab.grading's `lost` -> the ledger's flag of an order's write to that store
STORE_FLAGS = {"orders": "rds", "items": "dynamodb", "invoices": "s3"}

DRILL = (
    Param("lab", "string", "", "Judge the latest drill of this lab (lab.grading fills it in); empty: the latest "
          "drill."),
    Param("drillId", "string", "", "Judge this drill (lab.grading fills it in for a drill being measured)."),
)
LOSS = (
    Param("allowedLossSeconds", "duration", 0, "Orders created this long before the incident may be missing "
          "(a backup taken earlier cannot hold them)."),
    Param("withinRpoTarget", "boolean", False, "Orders within the lab's RPO target before the incident may be "
          "missing."),
)
RESTORED_ONLY = Param("restoredOnly", "boolean", False, "Only copies created after the incident count (a restore), "
                      "not the damaged original.")
ORDER_IN = re.compile(r"ORD-\d{6,}")  # an order id in a destroyed row, item key or object key
NO_DRILL_MESSAGES = {"no_drill": "No drill has run{lab_note}: there is nothing to recover yet."}
NO_DRILL_HINTS = {"no_drill": "Start the lab's drill (lab drill LAB), then recover."}


def find_drill(inv: InventoryView, params: dict[str, Any]) -> Drill | None:
    return inv.drill(drill_id=params["drillId"], lab=params["lab"])


def _no_drill(params: dict[str, Any]) -> Finding:
    note = f" for lab {params['lab']}" if params["lab"] else ""
    return not_applicable(params["drillId"] or params["lab"] or "drill", "no_drill", lab_note=note)


def allowed_loss(drill: Drill, params: dict[str, Any]) -> float:
    allowance = float(params["allowedLossSeconds"])
    if params["withinRpoTarget"]:
        allowance = max(allowance, float(drill.targets.rpo_seconds or 0))
    return allowance


def destroyed_before(inv: InventoryView, drill: Drill, store: str) -> IdSet:
    """Orders an earlier failure destroyed in `store` ("rds", "dynamodb", "s3": a previous drill's bad deploy or
    deletion, as its injection recorded them): gone before this drill's incident, they are not this drill's to
    bring back."""
    incident = parse_time(drill.incident_time) or 0.0
    mine = set(drill.injections or ())
    found: list[str] = []
    for injection in inv.injections:
        if injection.id in mine or injection.drill == drill.id:
            continue
        began = parse_time(injection.started or injection.created)
        if began is None or began >= incident:
            continue
        for effect in injection.effects or ():
            if effect.kind != "data-destroyed" or effect.target != store:
                continue
            for value in (effect.detail or {}).values():
                if isinstance(value, list):
                    found.extend(match.group(0) for item in value for match in ORDER_IN.finditer(str(item)))
    return IdSet.of(found)


def _shorten(ids: list[str], limit: int = 10) -> str:
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def judge_copies(inv: InventoryView, drill: Drill, params: dict[str, Any], store: str, what: str,
                 candidates: list[tuple[str, str, IdSet | None]]) -> Finding:
    """The common verdict: the orders written to `store` before the incident against each candidate's order
    ids (None: unreadable); the candidate missing fewest wins. Sets of ids are compared run by run, so the
    verdict costs the same at any world age; only the missing ids are listed."""
    incident = parse_time(drill.incident_time) or 0.0
    expected = inv.orders_before(incident, STORE_FLAGS[store]).difference(
        destroyed_before(inv, drill, STORE_FLAGS[store]))
    allowance = allowed_loss(drill, params)
    evidence: dict[str, Any] = {"drill": drill.id, "incident_time": drill.incident_time,
                                "expected_count": len(expected), "allowed_loss_seconds": int(allowance), "what": what}
    readable = [(name, region, ids) for name, region, ids in candidates if ids is not None]
    lacking = {(name, region): expected.difference(ids) for name, region, ids in readable}
    evidence["candidates"] = {f"{name} ({region})": None if ids is None else len(lacking[(name, region)])
                              for name, region, ids in candidates}
    if not candidates:
        return failed(what, "nothing_restored", **evidence, missing_order_ids=sorted(expected))
    if not readable:
        return errored(what, "unreadable", **evidence, unreadable=[f"{n} ({r})" for n, r, _ in candidates])
    name, region = min(lacking, key=lambda where: (len(lacking[where]), where[0]))
    created = {order_id: inv.order_created(order_id) for order_id in lacking[(name, region)]}
    missing = sorted(created, key=lambda o: (created[o], o))
    unforgiven = [o for o in missing if created[o] < incident - allowance]
    evidence.update(best=f"{name} ({region})", missing_count=len(missing), missing_order_ids=missing,
                    missing_text=_shorten(missing), unforgiven_count=len(unforgiven))
    if unforgiven:
        return failed(name, "orders_missing", region, **evidence)
    if missing:
        return passed(name, "restored_within_allowance", region, **evidence)
    return passed(name, "all_restored", region, **evidence)


_DATA_MESSAGES = {
    **NO_DRILL_MESSAGES,
    "all_restored": "Every one of the {expected_count} orders written before the incident ({incident_time}) is "
                    "back in {best}.",
    "restored_within_allowance": "{best} holds the orders written before the incident except {missing_count} "
                                 "created within the last {allowed_loss_seconds}s before it ({missing_text}): "
                                 "accepted data loss.",
    "orders_missing": "{best} is the closest copy, but {missing_count} of the {expected_count} orders written "
                      "before the incident ({incident_time}) are missing: {missing_text}.",
    "nothing_restored": "There is no {what} to judge yet: nothing has been restored.",
    "unreadable": "The {what} could not be read: {unreadable}.",
}


@check(
    id="RECOVERY_ORDERS_RESTORED", phase="recover", kind="data", store="orders", severity="CRITICAL",
    resource_type="AWS::RDS::DBInstance", title="Every order from before the incident is back in an RDS database",
    services=("rds", "rds.orders", "orders", "drills"),
    params=(*DRILL, *LOSS, RESTORED_ONLY,
            Param("region", "string", "", "Only instances in this region; empty: any region."),
            Param("dbInstanceIdentifiers", "string_list", [], "Only these instances; empty: any instance."),
            Param("writable", "boolean", False, "Only instances that take orders again count: standalone (not a "
                  "read replica) and available.")),
    messages={**_DATA_MESSAGES,
              "nothing_restored": "No {what} is available{restored_note}: nothing holds the orders yet."},
    hints={**NO_DRILL_HINTS,
           "orders_missing": "Restore to a moment just before the incident: aws rds restore-db-instance-to-point-in-"
                             "time --source-db-instance-identifier securecart-orders-db --target-db-instance-"
                             "identifier securecart-orders-restored --restore-time <just before {incident_time}>.",
           "nothing_restored": "Restore the database (point in time, a snapshot, or an AWS Backup recovery point) "
                               "as a new instance, and wait until it is available.",
           "unreadable": "Wait until the instance is available (lab clock advance 5m) and check again."},
)
def recovery_orders_restored(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Every order created before the incident is present in some readable RDS instance (by default any
    instance, the original included; with restoredOnly only one created after the incident)."""
    drill = find_drill(inv, params)
    if drill is None:
        yield _no_drill(params)
        return
    incident = parse_time(drill.incident_time) or 0.0
    wanted = set(params["dbInstanceIdentifiers"])
    candidates = []
    busy = []  # (instance, status): not yet taking writes (being created, restored, promoted)
    for db in inv.db_instances(params["region"] or None):
        if wanted and db.id not in wanted:
            continue
        if params["restoredOnly"] and (parse_time(db.created) or 0.0) < incident:
            continue
        # A promotion is over when the instance is available again (RDS UG, USER_ReadRepl.Promote.html: the
        # replica is rebooted, then available as a standalone instance): until then it takes no writes.
        if db.status not in READABLE_DB or (params["writable"] and db.status not in WRITABLE_DB):
            if db.status and not db.read_replica_source:
                busy.append(f"{db.id} in {db.region} is {db.status}")
            continue
        if params["writable"] and db.read_replica_source:
            continue
        candidates.append((db.id, db.region, db.orders.order_ids if db.orders is not None else None))
    finding = judge_copies(inv, drill, params, "orders", "DB instance", candidates)
    if finding.reason == "nothing_restored":
        conditions = (["was created after the incident"] if params["restoredOnly"] else []) + (
            ["takes writes"] if params["writable"] else [])
        note = f" that {' and '.join(conditions)}" if conditions else ""
        if busy:
            note += f" yet ({'; '.join(busy)}; an instance is read or written once it is available again)"
        elif params["writable"]:
            note += " (a read replica must be promoted first)"
        finding = failed(finding.resource_id, finding.reason,
                         **{**finding.evidence, "restored_note": note, "not_available": busy})
    yield finding


@check(
    id="RECOVERY_ITEMS_RESTORED", phase="recover", kind="data", store="items", severity="CRITICAL",
    resource_type="AWS::DynamoDB::Table", title="Every order-history item from before the incident is back",
    services=("dynamodb", "dynamodb.items", "orders", "drills"),
    params=(*DRILL, *LOSS, RESTORED_ONLY,
            Param("region", "string", "", "Only tables in this region (e.g. us-west-2: reads served there); "
                  "empty: any region."),
            Param("tableNames", "string_list", [], "Only these tables; empty: any table keyed by order_id.")),
    messages=_DATA_MESSAGES,
    hints={**NO_DRILL_HINTS,
           "orders_missing": "Restore the table to a moment just before the incident: aws dynamodb restore-table-"
                             "to-point-in-time --source-table-name securecart-order-history --target-table-name "
                             "securecart-order-history-restored --restore-date-time <just before {incident_time}> "
                             "(or restore an AWS Backup recovery point).",
           "nothing_restored": "Restore the table (point in time, a backup, or an AWS Backup recovery point) and "
                               "wait until it is ACTIVE.",
           "unreadable": "Wait until the table is ACTIVE and check again."},
)
def recovery_items_restored(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Every order-history item written before the incident is in some ACTIVE table keyed by order_id."""
    drill = find_drill(inv, params)
    if drill is None:
        yield _no_drill(params)
        return
    incident = parse_time(drill.incident_time) or 0.0
    wanted = set(params["tableNames"])
    candidates = []
    for table in inv.tables(params["region"] or None):
        if wanted and table.name not in wanted:
            continue
        if not any(key.name == "order_id" for key in table.key_schema or ()):
            continue
        if table.status not in READABLE_TABLE:
            continue
        if params["restoredOnly"] and (parse_time(table.created) or 0.0) < incident:
            continue
        candidates.append((table.name, table.region, table.items.order_ids if table.items is not None else None))
    yield judge_copies(inv, drill, params, "items", "table", candidates)


def _invoice_candidates(buckets: list[Bucket], original_only: bool) -> list[tuple[str, str, IdSet | None]]:
    """Per bucket: the orders whose invoice's current version is readable (and the original content); None
    where the bucket's objects were not read with the ledger."""
    found: list[tuple[str, str, IdSet | None]] = []
    for bucket in buckets:
        invoices = bucket.objects.invoices if bucket.objects is not None else None
        if invoices is None:
            found.append((bucket.name, bucket.region, None))
        else:
            found.append((bucket.name, bucket.region, invoices.original if original_only else invoices.readable))
    return found


def _truncated(buckets: list[Bucket]) -> list[str]:
    return [b.name for b in buckets if b.objects is not None and b.objects.truncated]


_INVOICE_MESSAGES = {
    **_DATA_MESSAGES,
    "all_restored": "Every one of the {expected_count} invoices written before the incident ({incident_time}) is "
                    "readable, with its original content, in {best}.",
    "restored_within_allowance": "{best} holds every invoice written before the incident except {missing_count} "
                                 "from the last {allowed_loss_seconds}s before it ({missing_text}): accepted loss.",
    "orders_missing": "In {best}, {missing_count} of the {expected_count} invoices written before the incident "
                      "are missing, deleted or not their original content: {missing_text}.",
    "nothing_restored": "There is no {what} to read invoices from.",
    "listing_truncated": "The inventory lists only part of {truncated_buckets}; the missing invoices may be in the "
                         "part not listed.",
}


@check(
    id="RECOVERY_INVOICES_READABLE_IN_DR_REGION", phase="recover", kind="data", store="invoices",
    severity="CRITICAL", resource_type="AWS::S3::Bucket",
    title="The invoices from before the incident are readable in the DR region",
    services=("s3", "s3.objects", "orders", "drills"),
    params=(*DRILL, *LOSS,
            Param("drRegion", "string", DR_REGION, "The region the invoices must be readable in."),
            Param("bucketNames", "string_list", [], "Only these buckets; empty: any bucket in the DR region."),
            Param("requireOriginalContent", "boolean", True, "An invoice only counts with its original content "
                  "(not a ransomware-encrypted version).")),
    messages=_INVOICE_MESSAGES,
    hints={**NO_DRILL_HINTS,
           "orders_missing": "Objects written before the replication rule existed are not replicated: copy them "
                             "(aws s3 cp --recursive s3://securecart-invoices-use1 s3://securecart-invoices-usw2, "
                             "S3 Batch Replication), and restore overwritten ones from their prior versions first.",
           "nothing_restored": "Create the DR bucket in {drRegion} and replicate or copy the invoices there.",
           "listing_truncated": "Export a full inventory from inside the sandbox (lab export) and grade that."},
)
def recovery_invoices_readable_in_dr_region(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Every invoice written before the incident can be read, with its original content, from a bucket in the
    DR region -- what a region outage leaves the shop."""
    drill = find_drill(inv, params)
    if drill is None:
        yield _no_drill(params)
        return
    wanted = set(params["bucketNames"])
    buckets = [b for b in inv.buckets(params["drRegion"]) if not wanted or b.name in wanted]
    finding = judge_copies(inv, drill, params, "invoices", f"bucket in {params['drRegion']}",
                           _invoice_candidates(buckets, params["requireOriginalContent"]))
    truncated = _truncated(buckets)
    if finding.reason == "orders_missing" and truncated:
        finding = errored(finding.resource_id, "listing_truncated", finding.region,
                          **{**finding.evidence, "truncated_buckets": truncated})
    yield finding


@check(
    id="RECOVERY_PRIOR_VERSIONS_RESTORED", phase="recover", kind="data", store="invoices", severity="CRITICAL",
    resource_type="AWS::S3::Bucket", title="Overwritten or deleted invoices are restored from their prior versions",
    services=("s3", "s3.objects", "orders", "drills"),
    params=(*DRILL, *LOSS,
            Param("bucketNames", "string_list", ["securecart-invoices-use1"], "The buckets the invoices must be "
                  "restored in (one of them is enough); empty: any bucket.")),
    messages=_INVOICE_MESSAGES,
    hints={**NO_DRILL_HINTS,
           "orders_missing": "List the versions (aws s3api list-object-versions --bucket <bucket> --prefix "
                             "invoices/), then copy each last good version over the current one (aws s3api "
                             "copy-object --copy-source '<bucket>/<key>?versionId=<id>'), or delete the bad "
                             "versions and delete markers.",
           "nothing_restored": "The bucket {bucketNames} does not exist any more; restore the invoices into a bucket.",
           "listing_truncated": "Export a full inventory from inside the sandbox (lab export) and grade that."},
)
def recovery_prior_versions_restored(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """The current version of every invoice written before the incident is its original content again (the
    bad versions rolled back, delete markers removed)."""
    drill = find_drill(inv, params)
    if drill is None:
        yield _no_drill(params)
        return
    wanted = set(params["bucketNames"])
    buckets = [b for b in inv.buckets() if not wanted or b.name in wanted]
    finding = judge_copies(inv, drill, params, "invoices", "bucket", _invoice_candidates(buckets, original_only=True))
    truncated = _truncated(buckets)
    if finding.reason == "orders_missing" and truncated:
        finding = errored(finding.resource_id, "listing_truncated", finding.region,
                          **{**finding.evidence, "truncated_buckets": truncated})
    yield finding


# -- EBS -------------------------------------------------------------------------------------------------

def destroyed_volumes(inv: InventoryView, drill: Drill) -> set[str]:
    """Volume ids the drill's injections destroyed (their recorded effects)."""
    found: set[str] = set()
    mine = set(drill.injections or ())
    for injection in inv.injections:
        if injection.id in mine or injection.drill == drill.id:
            for effect in injection.effects or ():
                volume = (effect.detail or {}).get("volume")
                if effect.kind == "data-destroyed" and isinstance(volume, str):
                    found.add(volume)
    return found


@check(
    id="RECOVERY_VOLUME_IN_DR_REGION", phase="recover", kind="data", severity="HIGH", resource_type="AWS::EC2::Volume",
    title="The lost volume is recreated in the DR region from its snapshots", services=("ec2", "backup", "drills"),
    params=(*DRILL,
            Param("drRegion", "string", DR_REGION, "The region the volume must be recreated in."),
            Param("volumeTags", "tags", {"Name": "securecart-backend-data"}, "Tags of the volume that was lost "
                  "(its snapshots and copies descend from it)."),
            Param("sourceVolumeIds", "string_list", [], "Ids of the lost volume, besides those the drill recorded."),
            RESTORED_ONLY),
    messages={**NO_DRILL_MESSAGES,
              "volume_restored": "Volume {resource} in {drRegion} ({state}) was created from {snapshot}, which "
                                 "descends from {source_volume}.",
              "volume_not_ready": "Volume {resource} in {drRegion} from {snapshot} is {state}, not available yet.",
              "unrelated_volumes": "Volumes exist in {drRegion} ({volumes}), but none was created from a snapshot "
                                   "of the lost volume ({sources}).",
              "no_volume": "There is no volume in {drRegion} created from a snapshot of the lost volume "
                           "({sources})."},
    hints={**NO_DRILL_HINTS,
           "volume_not_ready": "Wait (lab clock advance 5m) and check again.",
           "unrelated_volumes": "Create the volume from the copied snapshot: aws ec2 create-volume --region "
                                "{drRegion} --snapshot-id <copy's snap-id> --availability-zone {drRegion}a.",
           "no_volume": "Find the snapshot copy in {drRegion} (aws ec2 describe-snapshots --region {drRegion} "
                        "--owner-ids self), then aws ec2 create-volume --region {drRegion} --snapshot-id <snap-id> "
                        "--availability-zone {drRegion}a (or restore an AWS Backup recovery point there)."},
)
def recovery_volume_in_dr_region(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A volume in the DR region was created from a snapshot (a copy, directly or through AWS Backup) that
    descends from the lost volume."""
    drill = find_drill(inv, params)
    if drill is None:
        yield _no_drill(params)
        return
    region = params["drRegion"]
    sources = set(params["sourceVolumeIds"]) | destroyed_volumes(inv, drill)
    sources |= {v.id for v in inv.volumes() if v.region != region and params["volumeTags"]
                and tags_match(v.tags, params["volumeTags"])}
    volume_arns = {f"volume/{volume_id}" for volume_id in sources}
    restored_by_backup = {(job.created_resource_arn or "").rsplit("/", 1)[-1]: job.recovery_point
                          for job in inv.restore_jobs(region)
                          if any(str(point.resource_arn).endswith(tuple(volume_arns))
                                 for point in inv.recovery_points()
                                 if point.arn == job.recovery_point)}
    incident = parse_time(drill.incident_time) or 0.0
    evidence = {"sources": sorted(sources), "drRegion": region}
    volumes = [v for v in inv.volumes(region)
               if not params["restoredOnly"] or (parse_time(v.created) or 0.0) >= incident]
    matches = []
    for volume in volumes:
        origin = inv.snapshot_origin(volume.snapshot_id)[0] if volume.snapshot_id else None
        if origin in sources:
            matches.append((volume, volume.snapshot_id, origin))
        elif volume.id in restored_by_backup:
            matches.append((volume, restored_by_backup[volume.id], "an AWS Backup recovery point"))
    ready = [m for m in matches if m[0].state in ("available", "in-use")]
    if ready:
        volume, snapshot, origin = ready[0]
        yield passed(volume.id, "volume_restored", region, snapshot=snapshot, source_volume=origin,
                     state=volume.state, **evidence)
    elif matches:
        volume, snapshot, _origin = matches[0]
        yield failed(volume.id, "volume_not_ready", region, snapshot=snapshot, state=volume.state, **evidence)
    elif volumes:
        yield failed(region, "unrelated_volumes", region, volumes=[v.id for v in volumes], **evidence)
    else:
        yield failed(region, "no_volume", region, **evidence)


# -- RDS failover ----------------------------------------------------------------------------------------

@check(
    id="RECOVERY_DB_FAILED_OVER", phase="recover", kind="data", severity="HIGH", resource_type="AWS::RDS::DBInstance",
    title="The database is available again, outside the failed zone", services=("rds", "drills"),
    params=(*DRILL, Param("dbInstanceIdentifier", "string", "securecart-orders-db", "The DB instance.")),
    messages={**NO_DRILL_MESSAGES,
              "failed_over": "{resource} is available in {az}, out of the failed zone {failed_zone}.",
              "available": "{resource} is available in {az}.",
              "still_in_failed_zone": "{resource} is {status} in {az}, the zone that lost power: it did not fail "
                                      "over.",
              "unavailable": "{resource} is {status}, not available.",
              "instance_missing": "There is no DB instance named {resource}."},
    hints={**NO_DRILL_HINTS,
           "still_in_failed_zone": "Only a Multi-AZ instance fails over by itself; turn Multi-AZ on before the "
                                   "next drill (or reboot with --force-failover now if it is Multi-AZ).",
           "unavailable": "Wait for the failover (lab clock advance 2m); a single-AZ instance waits for its zone.",
           "instance_missing": "Check the identifier with aws rds describe-db-instances."},
)
def recovery_db_failed_over(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """After an AZ failure the orders database answers again, from a zone that still has power."""
    drill = find_drill(inv, params)
    if drill is None:
        yield _no_drill(params)
        return
    name = params["dbInstanceIdentifier"]
    found = [db for db in inv.db_instances() if db.id == name]
    if not found:
        yield failed(name, "instance_missing")
        return
    db = found[0]
    failed_zone = str((drill.params or {}).get("az") or "")
    evidence = {"status": db.status, "az": db.az, "secondary_az": db.secondary_az,
                "failed_zone": failed_zone or None, "multi_az": bool(db.multi_az)}
    if db.status != "available":
        yield failed(name, "unavailable", db.region, **evidence)
    elif failed_zone and db.az == failed_zone:
        yield failed(name, "still_in_failed_zone", db.region, **evidence)
    elif failed_zone:
        yield passed(name, "failed_over", db.region, **evidence)
    else:
        yield passed(name, "available", db.region, **evidence)


# -- DNS -------------------------------------------------------------------------------------------------

@check(
    id="RECOVERY_DNS_SERVES_DR", phase="recover", kind="data", severity="HIGH", resource_type="AWS::Route53::RecordSet",
    title="DNS answers with the DR endpoint", services=("route53", "rds", "ec2", "drills"),
    params=(*DRILL,
            Param("recordName", "string", "", "The name that must answer with the DR endpoint; empty: any failover "
                  "record."),
            Param("drRegion", "string", DR_REGION, "The DR region."),
            Param("drTargets", "string_list", [], "Extra values (IPs, names) that count as the DR endpoint.")),
    messages={**NO_DRILL_MESSAGES,
              "serves_dr": "{resource} now answers {answer} (the {drRegion} endpoint): the PRIMARY's health check "
                           "fails and Route 53 fails over.",
              "served_dr": "{resource} answered {answer} (the {drRegion} endpoint) during the outage: the PRIMARY's "
                           "health check was {primary_health}; with the drill recovered, Route 53 fails back.",
              "primary_still_served": "{resource} still answers the PRIMARY ({answer}): its health check reports "
                                      "{primary_health}.",
              "secondary_not_dr": "{resource} fails over to {answer}, which is not an endpoint in {drRegion}.",
              "no_secondary": "{resource} has no SECONDARY record: its PRIMARY is {primary_health}, and with nothing "
                              "to fail over to Route 53 still answers the PRIMARY ({answer}).",
              "client_keeps_primary": "Route 53 answers {resource} with {answer} (the {drRegion} endpoint), but a "
                                      "client that resolved it before keeps {client_answer} for the record's TTL "
                                      "({ttl} s), until {kept_until}.",
              "region_still_served": "{resource} still answers {answer} outside {drRegion} ({policy} routing; "
                                     "health: {primary_health}).",
              "no_failover_records": "There are no failover records{named}: DNS cannot move to the DR region."},
    hints={**NO_DRILL_HINTS,
           "primary_still_served": "Give the PRIMARY record a health check that probes the us-east-1 endpoint; it "
                                   "fails during the outage (lab clock advance 2m to let it notice).",
           "secondary_not_dr": "Point the SECONDARY record at the {drRegion} endpoint (the promoted replica).",
           "no_secondary": "Create the SECONDARY failover record (its own SetIdentifier, Failover SECONDARY) with "
                           "the {drRegion} endpoint, and let the change go INSYNC (lab clock advance 1m).",
           "client_keeps_primary": "Clients ask again when the TTL ends (lab clock advance 1m); a shorter TTL on the "
                                   "PRIMARY record brings them over sooner.",
           "region_still_served": "Give every record a health check on its region's endpoint: the failed region's "
                                  "check then fails and Route 53 stops answering it.",
           "no_failover_records": "Create PRIMARY and SECONDARY failover records with a health check (lab 7)."},
)
def recovery_dns_serves_dr(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Route 53's answer now: for failover routing the SECONDARY once the PRIMARY's health check fails, for
    latency or weighted routing the healthy records; passing when what it answers points at the DR region."""
    drill = find_drill(inv, params)
    if drill is None:
        yield _no_drill(params)
        return
    groups = failover_groups(inv, params["recordName"])
    routed = routed_groups(inv, params["recordName"])
    if not groups and not routed:
        named = f" for {params['recordName']}" if params["recordName"] else ""
        yield failed(params["recordName"] or "account", "no_failover_records", named=named)
        return
    endpoints = dr_endpoints(inv, params["drRegion"])
    findings = []
    for group in groups:
        resource = f"{group.name} {group.type}"
        primary, secondary = group.primary, group.secondary
        primary_health = health_of(inv, primary) if primary else "unhealthy"
        answering = primary if primary and primary_health != "unhealthy" else secondary
        served = "serves_dr"
        outage = _outage_over(inv, drill, group)
        if outage is not None:
            # The drill was recovered and its outage ended with it: Route 53 has failed back to the PRIMARY, as
            # it should. What counts is what DNS answered while the region was down (the sandbox's resolver).
            answering = secondary if outage.failover == "SECONDARY" else primary
            primary_health = f"unhealthy while {outage.region_down} was down" if answering is secondary else \
                "healthy while " + outage.region_down + " was down"
            served = "served_dr"
        evidence = {"primary_health": primary_health, "answer": record_targets(answering)}
        if answering is None and primary is not None:
            findings.append(failed(resource, "no_secondary", **{**evidence, "answer": record_targets(primary)}))
        elif answering is None or answering is primary:
            findings.append(failed(resource, "primary_still_served", **evidence))
        elif points_into(answering, params["drRegion"], endpoints, params["drTargets"]):
            # A client gets the DR endpoint once its resolver's cached answer expires: detection + TTL after the
            # outage (Route 53 API Reference: ResourceRecordSet.TTL), where the inventory knows what it holds.
            seen = client_answer(inv, group.name, group.type) if outage is None else None
            if seen is not None and seen.kept_until is not None and seen.answer != evidence["answer"]:
                kept_until = datetime.fromtimestamp(seen.kept_until, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                findings.append(failed(resource, "client_keeps_primary", client_answer=seen.answer, ttl=seen.ttl,
                                       kept_until=kept_until, **evidence))
            else:
                findings.append(passed(resource, served, **evidence))
        else:
            findings.append(failed(resource, "secondary_not_dr", **evidence))
    for group in routed:
        resource = f"{group.name} {group.type}"
        answers = possible_answers(inv, group)
        evidence = {"answer": [target for record in answers for target in record_targets(record)],
                    "policy": group.policy}
        outside = [r for r in answers if not points_into(r, params["drRegion"], endpoints, params["drTargets"])]
        if outside:
            evidence["primary_health"] = ", ".join(f"{r.set_identifier}: {health_of(inv, r)}" for r in outside)
            findings.append(failed(resource, "region_still_served", **evidence))
        else:
            findings.append(passed(resource, "serves_dr", **evidence))
    passing = [f for f in findings if f.status == "PASS"]
    yield from (passing[:1] if passing else findings)


def _outage_over(inv: InventoryView, drill: Drill, group: Any) -> Any:
    """The sandbox's answer for the group with the drill's region down, once the drill is recovered and that
    region answers again (None while the outage lasts, or when the inventory has no such answer)."""
    region = str(drill.params.get("region") or "us-east-1")
    if drill.status != "recovered" or region in inv.inventory.faults.regions_down:
        return None
    return outage_answer(inv, group, region)


@check(
    id="RECOVERY_BACKEND_SERVES_FROM_DR", phase="recover", kind="data", severity="HIGH",
    resource_type="AWS::EC2::Instance", title="The shop's backend runs in the DR region",
    services=("ec2", "drs", "backup", "drills"),
    params=(*DRILL, BACKEND, Param("drRegion", "string", DR_REGION, "The DR region.")),
    messages={**NO_DRILL_MESSAGES,
              "running": "{resource} runs the backend in {drRegion} ({how}).",
              "not_running": "The backend in {drRegion} is not running yet: {why}.",
              "no_backend": "No instance in {drRegion} runs the backend: nothing serves the shop's requests there."},
    hints={**NO_DRILL_HINTS,
           "not_running": "Wait until it has started (lab clock advance 5m); a recovery instance boots for a few "
                          "minutes after its job starts.",
           "no_backend": "Launch it: a recovery from Elastic Disaster Recovery (aws drs start-recovery --region "
                         "{drRegion} --source-servers sourceServerID=<s-...>), an AWS Backup restore of its "
                         "recovery point, or a standby started before the incident."},
)
def recovery_backend_serves_from_dr(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A running instance in the DR region is the backend: a standby named for it, an Elastic Disaster
    Recovery recovery instance of it that has booted (not a drill), or an AWS Backup restore of it."""
    drill = find_drill(inv, params)
    if drill is None:
        yield _no_drill(params)
        return
    region = params["drRegion"]
    found, rejected = backend_in_region(inv, params["backendName"], region)
    drs = {r.instance for r in inv.drs_recovery_instances(region)}
    if found:
        instance = found[0]
        if instance.id in drs:
            how = "an Elastic Disaster Recovery recovery instance"
        elif (instance.tags or {}).get("Name") == params["backendName"]:
            how = f"{instance.type}, named {params['backendName']}"
        else:  # (backend_in_region takes it as an AWS Backup restore of the backend's recovery point)
            how = f"{instance.type}, restored by AWS Backup from {params['backendName']}'s recovery point"
        yield passed(instance.id, "running", region, how=how, instances=[i.id for i in found])
    elif rejected:
        why = ", ".join(f"{instance} is {reason}" for instance, reason in sorted(rejected.items()))
        yield failed(region, "not_running", region, why=why)
    else:
        yield failed(region, "no_backend", region)


# -- deletion refused, recorded, flagged -----------------------------------------------------------------

DELETION_CONTROLS = ("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED",
                     "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK")


def _drill_outcomes(inv: InventoryView, drill: Drill) -> list[dict[str, Any]]:
    mine = set(drill.injections or ())
    return [injection.outcome or {} for injection in inv.injections
            if injection.id in mine or injection.drill == drill.id]


@check(
    id="RECOVERY_DELETION_REFUSED_AND_RECORDED", phase="recover", kind="data", severity="CRITICAL",
    resource_type="AWS::Backup::RecoveryPoint", title="The attempt to delete recovery points was refused, recorded "
    "and flagged", services=("backup", "cloudtrail", "drills"),
    params=(*DRILL,
            Param("requireFramework", "boolean", True, "A deployed Backup Audit Manager framework with a deletion "
                  "control must flag the attempt.")),
    messages={**NO_DRILL_MESSAGES,
              "refused_recorded_flagged": "The {attempts} attempt(s) to delete recovery points were refused "
                                          "({refused}), recorded by CloudTrail ({events} event(s)) and are flagged "
                                          "by framework {framework}.",
              "points_deleted": "{deleted} recovery point(s) were deleted during the incident: nothing refused it.",
              "not_recorded": "CloudTrail holds no record of the refused DeleteRecoveryPoint calls.",
              "no_trail": "The refused deletions are in the event history, but no trail is logging them to S3 for "
                          "keeps.",
              "not_flagged": "No deployed Backup Audit Manager framework has a control that flags deletions "
                             "({controls})."},
    hints={**NO_DRILL_HINTS,
           "points_deleted": "Lock the vaults (put-backup-vault-lock-configuration) or deny backup:DeleteRecoveryPoint "
                             "in their access policy, then take new backups.",
           "not_recorded": "Create a trail and start logging (aws cloudtrail create-trail / start-logging).",
           "no_trail": "aws cloudtrail start-logging --name <trail>",
           "not_flagged": "aws backup create-framework with the control "
                          "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED."},
)
def recovery_deletion_refused_and_recorded(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Whoever tried to delete the backups was refused (vault lock or access policy), CloudTrail recorded the
    refused calls, and an audit framework watches for it."""
    drill = find_drill(inv, params)
    if drill is None:
        yield _no_drill(params)
        return
    incident_iso = drill.incident_time or ""
    outcomes = _drill_outcomes(inv, drill)
    deleted = sum(int(o.get("recovery_points_deleted") or 0) for o in outcomes)
    refused: dict[str, int] = {}
    for outcome in outcomes:
        for code, count in (outcome.get("recovery_points_refused") or {}).items():
            refused[code] = refused.get(code, 0) + int(count)
    events = [e for e in inv.trail_events() if e.name == "DeleteRecoveryPoint"
              and (e.time or "") >= incident_iso and e.error_code]
    logging = [t.name for t in inv.trails() if t.logging]
    frameworks = [f for f in inv.frameworks() if f.deployment_status in ("COMPLETED", None)
                  and any(c.name in DELETION_CONTROLS for c in f.controls or ())]
    evidence = {"deleted": deleted, "refused": refused or "none", "attempts": deleted + sum(refused.values()),
                "events": len(events), "trails_logging": logging,
                "framework": frameworks[0].name if frameworks else None, "controls": list(DELETION_CONTROLS)}
    if deleted:
        yield failed("recovery points", "points_deleted", **evidence)
    elif not events:
        yield failed("recovery points", "not_recorded", **evidence)
    elif not logging:
        yield failed("recovery points", "no_trail", **evidence)
    elif params["requireFramework"] and not frameworks:
        yield failed("recovery points", "not_flagged", **evidence)
    else:
        yield passed("recovery points", "refused_recorded_flagged", **evidence)


# -- RPO and RTO against the lab's targets -----------------------------------------------------------------

def _target(drill: Drill, params: dict[str, Any], key: str) -> int:
    return int(params["targetSeconds"] or getattr(drill.targets, key) or 0)


def _drill_check(key: str,
                 measure: Callable[[Drill], tuple[str, dict[str, Any]]]) -> Callable[..., Iterator[Finding]]:
    def judge(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
        drill = find_drill(inv, params)
        if drill is None:
            yield _no_drill(params)
            return
        target = _target(drill, params, key)
        reason, evidence = measure(drill)
        evidence.update(target=target, drill=drill.id, status=drill.status)
        value = evidence.get("value")
        if reason == "measured" and value is not None and value <= target:
            yield passed(drill.id, "within_target", **evidence)
        elif reason == "measured":
            yield failed(drill.id, "over_target", **evidence)
        else:
            yield failed(drill.id, reason, **evidence)
    return judge


def _rto(drill: Drill) -> tuple[str, dict[str, Any]]:
    if drill.rto_seconds is not None:
        return "measured", {"value": int(drill.rto_seconds)}
    if drill.status == "running":
        return "not_recovered", {"value": None}
    return "never_recovered", {"value": None}


def _rpo(drill: Drill) -> tuple[str, dict[str, Any]]:
    rpo = drill.rpo
    if drill.status == "running" and not drill.evaluations:
        return "not_measured", {"value": None}
    return "measured", {"value": int(rpo.span_seconds or 0), "lost_orders": rpo.count,
                        "per_store": {store: entry.count for store, entry in rpo.per_store.items()}}


RECOVERY_RTO_WITHIN_TARGET = check(
    id="RECOVERY_RTO_WITHIN_TARGET", phase="recover", kind="drill", severity="HIGH", resource_type="Lab::Drill",
    title="The recovery took no longer than the RTO target", services=("drills",),
    description="The drill's RTO (incident to the first moment its recovery checks passed) is within the target.",
    params=(*DRILL, Param("targetSeconds", "duration", 0, "The RTO target; 0: the lab's.")),
    messages={**NO_DRILL_MESSAGES,
              "within_target": "Recovered {value}s after the incident; the RTO target is {target}s.",
              "over_target": "Recovered {value}s after the incident, beyond the RTO target of {target}s.",
              "not_recovered": "Drill {drill} is still running: the recovery checks do not pass yet.",
              "never_recovered": "Drill {drill} ended ({status}) without the recovery checks passing."},
    hints={**NO_DRILL_HINTS,
           "over_target": "A faster strategy shortens the RTO: a standby that fails over by itself (Multi-AZ, a "
                          "replica, DNS failover) instead of restoring from backups.",
           "not_recovered": "Follow the recovery steps; lab check shows what is still missing.",
           "never_recovered": "Run the drill again (lab drill LAB) and recover before ending it."},
)(_drill_check("rto_seconds", _rto))

RECOVERY_RPO_WITHIN_TARGET = check(
    id="RECOVERY_RPO_WITHIN_TARGET", phase="recover", kind="drill", severity="HIGH", resource_type="Lab::Drill",
    title="The data lost is within the RPO target", services=("drills",),
    description="The drill's RPO (the incident minus the oldest lost order's creation) is within the target.",
    params=(*DRILL, Param("targetSeconds", "duration", 0, "The RPO target; 0: the lab's.")),
    messages={**NO_DRILL_MESSAGES,
              "within_target": "Data loss window {value}s ({lost_orders} order(s) lost); the RPO target is {target}s.",
              "over_target": "Data loss window {value}s ({lost_orders} order(s) lost: {per_store}), beyond the RPO "
                             "target of {target}s.",
              "not_measured": "Drill {drill} has not been evaluated yet: no RPO to report."},
    hints={**NO_DRILL_HINTS,
           "over_target": "Back up or replicate more often (continuous backups, PITR, replication) so that less "
                          "recent data is lost.",
           "not_measured": "Let the sandbox evaluate (lab clock advance 1m) and check again."},
)(_drill_check("rpo_seconds", _rpo))
