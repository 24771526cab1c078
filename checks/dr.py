"""The DR strategy check: which of AWS's four DR strategies the learner has built, and whether its typical
RPO and RTO meet the targets.

The strategies and their figures follow the AWS whitepaper "Disaster Recovery of Workloads on AWS: Recovery in
the Cloud" (https://docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws/disaster-recovery-
options-in-the-cloud.html: backup and restore, RPO/RTO hours; pilot light, tens of minutes; warm standby,
minutes; multi-site active/active, real time); the lab fixes one number for each so that a check can compare
(NOMINAL below). Labs 09-12 build each one and measure it in a drill; benchmarks/bench_dr_strategies.py
records what they measure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.base import Finding, Param, check, failed, passed
from checks.drs import BACKEND, DR_REGION, backend_in_region
from checks.dynamodb import replica_regions
from checks.rds import cross_region_copies, replica_source
from checks.route53 import failover_groups, failover_problem, routed_groups
from checks.schedule import describe_seconds
from checks.view import InventoryView

#: strategy -> (RPO seconds, RTO seconds) the lab credits it with
NOMINAL = {
    "none": (None, None),
    "backup-and-restore": (86400, 14400),
    "pilot-light": (300, 1800),
    "warm-standby": (300, 300),
    "multi-site-active-active": (5, 60),
}
STRATEGY_TEXT = {
    "none": "no DR copy of the orders database in the DR region",
    "backup-and-restore": "backup and restore (the orders database's backups are copied to the DR region)",
    "pilot-light": "pilot light (a live replica of the data in the DR region)",
    "warm-standby": "warm standby (a live replica, servers running and DNS failover to the DR region)",
    "multi-site-active-active": "multi-site active/active (a multi-writer table, servers in both regions and DNS "
                                "answering from both)",
}


def _region_of(inv: InventoryView, bucket: str | None) -> str | None:
    found = inv.bucket(bucket or "")
    return found.region if found is not None else None


def built_strategy(inv: InventoryView, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The strongest strategy the inventory shows, and what shows it."""
    db, dr = params["dbInstanceIdentifier"], params["drRegion"]
    # (a cross-region replica of the primary: a same-region replica of an instance of that name in the DR
    # region, an earlier restore, holds nothing of the primary's)
    replicas = [x for x in inv.db_instances(dr)
                if x.status == "available" and (source := replica_source(x)) is not None and source[1] == db
                and source[0] != x.region]
    copies = [c for c in cross_region_copies(inv, db, dr) if c["status"] == "available"]
    tables = [t.name for t in inv.tables(params["primaryRegion"]) if replica_regions(inv, t).get(dr) == "ACTIVE"]
    replicated_buckets = [b.name for b in inv.buckets(params["primaryRegion"])
                          for rule in (b.replication.rules if b.replication is not None else ())
                          if rule.status == "Enabled" and _region_of(inv, rule.destination_bucket) == dr]
    drills = {r.instance for r in inv.drs_recovery_instances(dr) if r.drill}
    servers = [i.id for i in inv.ec2_instances(dr) if i.state == "running" and i.id not in drills]
    failover = [g.name for g in failover_groups(inv, params["recordName"]) if failover_problem(inv, g, {
        "drRegion": dr, "drTargets": params["drTargets"], "primaryRegion": params["primaryRegion"]}) is None]
    both_regions = [g.name for g in routed_groups(inv, params["recordName"])
                    if all(r.health_check_id for r in g.records) and len(g.records) > 1]
    replicated_servers = [s.id for s in inv.drs_source_servers(dr) if s.state == "CONTINUOUS"]
    seen = {"db_replicas": [x.id for x in replicas], "db_backup_copies": [c["id"] for c in copies],
            "table_replicas": tables, "replicated_buckets": sorted(set(replicated_buckets)),
            "dr_servers": servers, "dns_failover": failover, "dns_both_regions": both_regions,
            "replicated_servers": replicated_servers}
    if tables and servers and both_regions:
        return "multi-site-active-active", seen
    if replicas and servers and failover:
        return "warm-standby", seen
    if replicas:
        return "pilot-light", seen
    if copies:
        return "backup-and-restore", seen
    return "none", seen


@check(
    id="DR_STRATEGY_MEETS_TARGETS", severity="HIGH", resource_type="Lab::DisasterRecoveryStrategy",
    title="The DR strategy built meets the RPO and RTO targets",
    services=("rds", "backup", "dynamodb", "s3", "ec2", "route53"),
    params=(Param("targetRtoSeconds", "duration", 3600, "The recovery time objective."),
            Param("targetRpoSeconds", "duration", 900, "The recovery point objective."),
            Param("dbInstanceIdentifier", "string", "securecart-orders-db", "The database the strategy protects."),
            Param("primaryRegion", "string", "us-east-1", "The primary region."),
            Param("drRegion", "string", "us-west-2", "The DR region."),
            Param("recordName", "string", "", "The DNS name that fails over (empty: any failover record)."),
            Param("drTargets", "string_list", [], "Extra values (IPs, names) that count as the DR endpoint.")),
    messages={
        "meets_targets": "You built {strategy_text}: RPO about {rpo} and RTO about {rto}, within the targets "
                         "(RPO {target_rpo}, RTO {target_rto}).",
        "no_strategy": "There is no copy of {dbInstanceIdentifier} in {drRegion}: losing the primary region loses "
                       "the shop.",
        "rpo_too_long": "You built {strategy_text}: it loses about {rpo} of orders, more than the RPO target of "
                        "{target_rpo}.",
        "rto_too_long": "You built {strategy_text}: recovery takes about {rto}, more than the RTO target of "
                        "{target_rto}.",
    },
    hints={
        "no_strategy": "Start with backups copied to {drRegion} (backup and restore), or a cross-region read replica "
                       "(pilot light).",
        "rpo_too_long": "Replicate the data continuously: a cross-region read replica of {dbInstanceIdentifier} in "
                        "{drRegion} (aws rds create-db-instance-read-replica).",
        "rto_too_long": "Keep a standby ready: a read replica in {drRegion}, a running server there and Route 53 "
                        "failover records with a health check (warm standby).",
    },
)
def dr_strategy_meets_targets(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """Backup and restore, pilot light or warm standby -- judged from what exists in the DR region -- and its
    nominal RPO/RTO against the targets."""
    strategy, seen = built_strategy(inv, params)
    rpo, rto = NOMINAL[strategy]
    evidence = {"strategy": strategy, "strategy_text": STRATEGY_TEXT[strategy], **seen,
                "rpo_seconds": rpo, "rto_seconds": rto,
                "rpo": describe_seconds(rpo) if rpo else None, "rto": describe_seconds(rto) if rto else None,
                "target_rpo": describe_seconds(params["targetRpoSeconds"]),
                "target_rto": describe_seconds(params["targetRtoSeconds"])}
    name = params["dbInstanceIdentifier"]
    if rpo is None or rto is None:
        yield failed(name, "no_strategy", params["primaryRegion"], **evidence)
    elif rpo > params["targetRpoSeconds"]:
        yield failed(name, "rpo_too_long", params["primaryRegion"], **evidence)
    elif rto > params["targetRtoSeconds"]:
        yield failed(name, "rto_too_long", params["primaryRegion"], **evidence)
    else:
        yield passed(name, "meets_targets", params["primaryRegion"], **evidence)


@check(
    id="BACKEND_STANDBY_RUNNING_IN_DR_REGION", severity="HIGH", resource_type="AWS::EC2::Instance",
    title="A copy of the backend runs in the DR region before any incident", services=("ec2", "drs", "backup"),
    params=(BACKEND, DR_REGION),
    messages={
        "running": "{resource} ({type}) runs the backend in {drRegion}: it serves as soon as DNS sends traffic "
                   "to it.",
        "not_running": "The backend's copy in {drRegion} is not running: {why}.",
        "launching": "The backend's copy in {drRegion} is still launching ({why}): EC2 runs it once it leaves "
                     "`pending`.",
        "none": "Nothing runs the backend in {drRegion}: it would have to be launched after an incident.",
    },
    hints={
        "not_running": "Start it: aws ec2 start-instances --region {drRegion} --instance-ids <id>.",
        "launching": "Wait for it: aws ec2 wait instance-running --region {drRegion} --instance-ids <id> (with the "
                     "clock running, or move sim time on: lab clock advance 1m).",
        "none": "Launch a scaled-down copy tagged Name={backendName} in {drRegion} (aws ec2 run-instances "
                "--region {drRegion} ... --tag-specifications 'ResourceType=instance,Tags=[{{Key=Name,"
                "Value={backendName}}}]').",
    },
)
def backend_standby_running_in_dr_region(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A running, non-drill instance in the DR region is the backend (warm standby, or a second active site)."""
    region = params["drRegion"]
    found, rejected = backend_in_region(inv, params["backendName"], region)
    if found:
        yield passed(found[0].id, "running", region, type=found[0].type)
    elif rejected:
        yield failed(region, "launching" if set(rejected.values()) == {"pending"} else "not_running", region,
                     why=", ".join(f"{instance} is {reason}" for instance, reason in sorted(rejected.items())))
    else:
        yield failed(region, "none", region)
