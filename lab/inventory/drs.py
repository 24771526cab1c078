"""Elastic Disaster Recovery into the inventory (checks.inventory.drs): per region, its source servers with
their replication (state, step, percent, lag), its jobs (newest first) and its recovery instances, read with
the DRS API. A region where DRS was never initialized answers UninitializedAccountException: an empty section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from checks.inventory.drs import DRS, Job, JobServer, RecoveryInstance, SourceServer
from lab.inventory.convert import by_key, error_code

if TYPE_CHECKING:
    from lab.inventory.collector import Collector

MAX_JOBS = 200  # newest DRS jobs kept per region


def collect(c: Collector, region: str) -> DRS:
    drs = c.client("drs", region)
    try:
        servers = [s for page in drs.get_paginator("describe_source_servers").paginate() for s in page.get("items", [])]
    except ClientError as exc:
        if error_code(exc) == "UninitializedAccountException":
            return DRS()
        raise
    jobs = [j for page in drs.get_paginator("describe_jobs").paginate() for j in page.get("items", [])]
    instances = [r for page in drs.get_paginator("describe_recovery_instances").paginate()
                 for r in page.get("items", [])]
    return DRS(initialized=True,
               source_servers=by_key((s["sourceServerID"], source_server(s, region)) for s in servers),
               jobs=[job(j, region) for j in jobs[:MAX_JOBS]],
               recovery_instances=by_key((r["recoveryInstanceID"], recovery_instance(r, region)) for r in instances))


def source_server(server: Mapping[str, Any], region: str) -> SourceServer:
    info = server.get("dataReplicationInfo") or {}
    disks = info.get("replicatedDisks") or []
    total = sum(int(d.get("totalStorageBytes") or 0) for d in disks)
    done = sum(int(d.get("replicatedStorageBytes") or 0) for d in disks)
    steps = (info.get("dataReplicationInitiation") or {}).get("steps") or []
    hints = (server.get("sourceProperties") or {}).get("identificationHints") or {}
    return SourceServer(
        id=server["sourceServerID"], region=region, arn=server.get("arn"), instance=hints.get("awsInstanceID"),
        hostname=hints.get("hostname"), origin_region=(server.get("sourceCloudProperties") or {}).get("originRegion"),
        state=info.get("dataReplicationState"), lag=info.get("lagDuration"), eta=info.get("etaDateTime"),
        error=(info.get("dataReplicationError") or {}).get("error"),
        initiation_step=next((step.get("name") for step in steps if step.get("status") == "IN_PROGRESS"), None),
        replicated_percent=int(100 * done / total) if total else None,
        direction=server.get("replicationDirection"), recovery_instance=server.get("recoveryInstanceId"),
        last_launch_result=server.get("lastLaunchResult"), tags=dict(server.get("tags") or {}))


def job(value: Mapping[str, Any], region: str) -> Job:
    return Job(id=value["jobID"], region=region, type=value.get("type"), initiated_by=value.get("initiatedBy"),
               status=value.get("status"), created=value.get("creationDateTime"), ended=value.get("endDateTime"),
               servers=[JobServer(source_server=p.get("sourceServerID"),
                                  recovery_instance=p.get("recoveryInstanceID"), launch_status=p.get("launchStatus"))
                        for p in value.get("participatingServers") or ()])


def recovery_instance(found: Mapping[str, Any], region: str) -> RecoveryInstance:
    return RecoveryInstance(
        id=found["recoveryInstanceID"], region=region, instance=found.get("ec2InstanceID"),
        state=found.get("ec2InstanceState"), source_server=found.get("sourceServerID"), job=found.get("jobID"),
        drill=bool(found.get("isDrill")), point_in_time=found.get("pointInTimeSnapshotDateTime"),
        tags=dict(found.get("tags") or {}))
