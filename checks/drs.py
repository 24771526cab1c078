"""Elastic Disaster Recovery checks, and which EC2 instance is the shop's backend wherever it runs.

The backend in the DR region is any running instance that carries the backend's Name tag (a standby built
for it, a recovery instance with the source's tags copied), a recovery instance Elastic Disaster Recovery
launched for the backend's source server, or an instance AWS Backup restored from a recovery point of the
backend. A drill instance is a rehearsal, never the backend (DRS: "drill instances ... should not be used for
production"), and a recovery instance counts once it has booted (DRS reports PENDING until then).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.base import Finding, Param, check, failed, passed
from checks.inventory.drs import SourceServer
from checks.inventory.ec2 import Instance
from checks.view import InventoryView

BACKEND = Param("backendName", "string", "securecart-backend", "The Name tag of the shop's backend instance.")
DR_REGION = Param("drRegion", "string", "us-west-2", "The DR region.")


def _name(instance: Instance) -> str:
    return instance.tags.get("Name") or ""


def source_instances(inv: InventoryView, name: str, dr_region: str) -> list[Instance]:
    """The backend's instances outside the DR region (what DR protects)."""
    return [i for i in inv.ec2_instances() if i.region != dr_region and _name(i) == name]


def backend_in_region(inv: InventoryView, name: str, region: str) -> tuple[list[Instance], dict[str, str]]:
    """(the running backend instances in `region`, why each other candidate does not count: id -> reason)."""
    sources = source_instances(inv, name, region)
    source_ids = {i.id for i in sources}
    source_arns = {i.arn for i in sources}
    servers = {s.id: s for s in inv.drs_source_servers(region)}
    drs = {r.instance: r for r in inv.drs_recovery_instances(region)}
    points = {p.arn: p for p in inv.recovery_points(region)}
    restored = {str(job.created_resource_arn or "").rsplit("/", 1)[-1]
                for job in inv.restore_jobs(region)
                if job.recovery_point in points and points[job.recovery_point].resource_arn in source_arns}
    found, rejected = [], {}
    for instance in inv.ec2_instances(region):
        recovery = drs.get(instance.id)
        server = servers.get(recovery.source_server or "") if recovery is not None else None
        of_backend = server is not None and server.instance in source_ids
        if not (_name(instance) == name or of_backend or instance.id in restored):
            continue
        if recovery is not None and recovery.drill:
            rejected[instance.id] = "a drill instance"
        elif instance.state != "running":
            rejected[instance.id] = str(instance.state)
        elif recovery is not None and recovery.state != "RUNNING":
            rejected[instance.id] = f"still booting ({recovery.state})"
        else:
            found.append(instance)
    return found, rejected


@check(
    id="DRS_SOURCE_SERVER_REPLICATING", severity="HIGH", resource_type="AWS::DRS::SourceServer",
    title="Elastic Disaster Recovery replicates the backend continuously to the DR region",
    services=("drs", "ec2"), params=(BACKEND, DR_REGION),
    messages={
        "continuous": "{resource} ({instance}) replicates to {drRegion} continuously (lag {lag}): it can be "
                      "recovered there with seconds of data lost.",
        "not_initialized": "Elastic Disaster Recovery is not initialized in {drRegion}.",
        "no_source_server": "No source server in {drRegion} replicates {backendName}: its replication agent is not "
                            "installed.",
        "not_yet": "{resource} ({instance}) is {state}{progress}: it cannot be recovered before its first "
                   "snapshot.",
        "not_replicating": "{resource} ({instance}) is {state}{error}: new writes do not reach {drRegion}.",
        "no_backend": "There is no instance named {backendName} outside {drRegion} to protect.",
    },
    hints={
        "not_initialized": "aws drs initialize-service --region {drRegion}, then create a replication configuration "
                           "template (aws drs create-replication-configuration-template --region {drRegion} ...).",
        "no_source_server": "Install the agent on the instance: lab drs install-agent {backendName} --region "
                            "{drRegion} (on AWS: aws-replication-installer-init --region {drRegion}).",
        "not_yet": "Replication takes its time: lab clock advance 10m, then aws drs describe-source-servers --region "
                   "{drRegion}.",
        "not_replicating": "Start it again (aws drs start-replication) or bring its region back (lab recover).",
        "no_backend": "Check the backendName parameter.",
    },
)
def drs_source_server_replicating(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A source server in the DR region replicates an instance named backendName and is CONTINUOUS."""
    region, name = params["drRegion"], params["backendName"]
    if not inv.drs(region).initialized:
        yield failed(region, "not_initialized", region)
        return
    sources = {i.id: i for i in source_instances(inv, name, region)}
    if not sources:
        yield failed(name, "no_backend", region)
        return
    servers = [s for s in inv.drs_source_servers(region) if s.instance in sources and s.direction != "FAILBACK"]
    if not servers:
        yield failed(name, "no_source_server", region)
        return
    best = next((s for s in servers if s.state == "CONTINUOUS"), servers[0])
    evidence = {"instance": best.instance, "state": best.state, "lag": best.lag,
                "error": f" ({best.error})" if best.error else "", "progress": _progress(best)}
    if best.state == "CONTINUOUS":
        yield passed(best.id, "continuous", region, **evidence)
    elif best.state in ("INITIATING", "INITIAL_SYNC", "CREATING_SNAPSHOT"):
        yield failed(best.id, "not_yet", region, **evidence)
    else:
        yield failed(best.id, "not_replicating", region, **evidence)


def _progress(server: SourceServer) -> str:
    if server.state == "INITIATING" and server.initiation_step:
        return f" (step {server.initiation_step})"
    if server.state == "INITIAL_SYNC" and server.replicated_percent is not None:
        return f" ({server.replicated_percent}% replicated, done at {server.eta})"
    return ""
