"""Admin routes of Elastic Disaster Recovery: what is not an AWS call.

POST /_lab/drs/agents {"instance": NAME_OR_ID, "region": RECOVERY_REGION} installs the AWS Replication Agent
on an instance (on AWS: `aws-replication-installer-init --region RECOVERY_REGION`, run on the machine);
GET /_lab/drs shows every source server's replication, the jobs and the recovery instances.
"""

from __future__ import annotations

from typing import Any

from lab import config
from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body
from lab.services.drs.engine import Drs, DrsError
from lab.services.drs.model import SourceServer
from lab.sim.clock import iso
from lab.sim.durations import progress


def _engine(sandbox: Sandbox) -> Drs:
    engine = sandbox.engines.find(Drs)
    if engine is None:
        raise LookupError("this sandbox runs no Elastic Disaster Recovery engine")
    return engine


def server_summary(engine: Drs, server: SourceServer) -> dict[str, Any]:
    """One source server as `lab drs` shows it: where its replication is and how far."""
    now = engine.now()
    phase = server.phase_at(now)
    summary: dict[str, Any] = {
        "source_server": server.server_id, "arn": server.arn, "region": server.region,
        "instance": server.instance_id, "hostname": server.hostname, "name": server.replication.get("name"),
        "origin_region": server.origin_region, "state": server.state, "error": server.error,
        "direction": server.direction, "recovery_instance": server.recovery_instance_id,
        "last_launch_result": server.last_launch_result, "snapshots": len(engine.state.snapshots.get(
            server.server_id, []))}
    if phase is not None and phase.end is not None:
        summary.update(step=phase.name, percent=progress(phase.start, phase.end, now), until=iso(phase.end))
    if server.state in ("CONTINUOUS", "BACKLOG", "STALLED") and server.continuous_since is not None:
        summary["lag_seconds"] = round(now - engine.data_moment(server, now), 1)
    return summary


def agents_route(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"instance": "securecart-backend", "region": "us-west-2"}: install the replication agent."""
    request = json_body(ctx)
    instance, region = request.get("instance"), request.get("region", config.DR_REGION)
    if not isinstance(instance, str) or not instance:
        raise ValueError('name the instance: {"instance": "securecart-backend", "region": "us-west-2"}')
    if not isinstance(region, str):
        raise ValueError('"region" must be a region name')
    engine = _engine(sandbox)
    try:
        server = engine.install_agent(instance, region)
    except DrsError as exc:
        raise ValueError(str(exc)) from exc
    return 200, server_summary(engine, server)


def status_route(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    engine = _engine(sandbox)
    with sandbox.lock:  # one consistent instant
        state = engine.state
        now = engine.now()
        jobs = [{"job": job.job_id, "region": job.region, "type": job.job_type, "initiated_by": job.initiated_by,
                 "status": job.status, "created": iso(job.created),
                 "next_step": iso(job.steps[0][0]) if job.steps else None,
                 "servers": {p.server_id: p.launch_status for p in job.servers}}
                for job in sorted(state.jobs.values(), key=lambda j: j.created)]
        instances = [{"instance": r.instance_id, "region": r.region, "source_server": r.server_id,
                      "drill": r.is_drill, "booted": now >= r.booted, "point_in_time": iso(r.point_in_time)}
                     for r in state.recovery_instances.values() if not r.terminated]
        servers = [server_summary(engine, s) for s in state.servers.values() if not s.deleted]
        return 200, {"initialized": sorted(state.initialized), "source_servers": servers, "jobs": jobs,
                     "recovery_instances": instances}


def register(router: AdminRouter) -> None:
    router.add("POST", "drs/agents", agents_route, journal=True)
    router.add("GET", "drs", status_route)
