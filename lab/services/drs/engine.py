"""AWS Elastic Disaster Recovery (DRS): an EC2 instance replicated to another region, and recovery or drill
instances launched there from its point-in-time snapshots, on the sim clock.

moto has no DRS, so the lab owns the `drs` service (lab.services.drs.api answers its operations). What DRS
does underneath happens in EC2 through the sandbox's AWS APIs, acting as drs.amazonaws.com:
  - installing the AWS Replication Agent on a running instance (the one step that is not an AWS call:
    `lab drs install-agent`, POST /_lab/drs/agents) registers a source server in the recovery region, which
    goes through the replication initiation steps (INITIATING), creates its staging disks there (EBS volumes
    tagged AWSElasticDisasterRecoveryManaged), reads every disk once (INITIAL_SYNC, replicatedStorageBytes
    growing at the sync rate or the server's bandwidthThrottling), takes its first snapshot
    (CREATING_SNAPSHOT) and then replicates continuously (CONTINUOUS, a lag of about a second);
  - point-in-time snapshots every 10 minutes on the clock's grid, kept by the policy's three rules (every
    10 minutes for an hour, hourly for a day, daily for N days), each an EBS snapshot of every staging disk;
  - a recovery or drill job (StartRecovery) goes PENDING, STARTED, takes an on-demand snapshot unless one is
    named, converts, then launches a real EC2 instance in the recovery region whose volumes are created
    from that snapshot's EBS snapshots, tags copied from the source (copyTags), and completes once it has
    booted; launching a server again first terminates its previous recovery instance (CLEANUP);
  - a region outage of the source's region (or the recovery region) leaves the agent unseen: the server is
    STALLED with AGENT_NOT_SEEN, its lag grows, and no snapshot is taken; when the region is back it works
    off its BACKLOG and is CONTINUOUS again. The DRS API of the recovery region keeps answering, and a
    recovery from the staging disks works all the while.
Every duration comes from the sandbox's duration model (lab.sim.durations, drs.*).

Sources: the DRS API Reference (https://docs.aws.amazon.com/drs/latest/APIReference/) for shapes and states,
the DRS User Guide for the behaviour (pages named where they apply).
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.bus import ResourceStatusChanged
from lab.kernel.engine import Engine
from lab.services.drs.model import (
    BACKLOG,
    CONTINUOUS,
    CREATING_SNAPSHOT,
    DEFAULT_PIT_POLICY,
    DISCONNECTED,
    INITIAL_SYNC,
    INITIATING,
    MANAGED_TAG,
    REPLICATING,
    SOURCE_SERVER_TAG,
    STALLED,
    STOPPED,
    UNIT_SECONDS,
    DrsState,
    Job,
    JobLogItem,
    JobServer,
    Phase,
    RecoveryInstance,
    RecoverySnapshot,
    ReplicatedDisk,
    SourceServer,
)
from lab.sim.durations import DRS_INITIATION_STEPS

if TYPE_CHECKING:
    from lab.kernel.context import RequestContext
    from lab.sim.durations import Durations

PIT_GRID_SECONDS = 600.0  # "1 PIT Snapshot per 10 minutes" (point-in-time-faq.html)
MAX_STEPS_PER_RUN = 10_000
GIB = 2**30
#: the IAM roles InitializeService creates (getting-started-initializing.html): name -> (path, trusted service)
SERVICE_ROLES = {
    "AWSServiceRoleForElasticDisasterRecovery": ("/aws-service-role/drs.amazonaws.com/", "drs.amazonaws.com"),
    "AWSElasticDisasterRecoveryReplicationServerRole": ("/service-role/", "ec2.amazonaws.com"),
    "AWSElasticDisasterRecoveryConversionServerRole": ("/service-role/", "ec2.amazonaws.com"),
    "AWSElasticDisasterRecoveryRecoveryInstanceRole": ("/service-role/", "ec2.amazonaws.com"),
    "AWSElasticDisasterRecoveryAgentRole": ("/service-role/", "drs.amazonaws.com"),
    "AWSElasticDisasterRecoveryFailbackRole": ("/service-role/", "drs.amazonaws.com"),
    "AWSElasticDisasterRecoveryRecoveryInstanceWithLaunchActionsRole": ("/service-role/", "ec2.amazonaws.com"),
}


class DrsError(ValueError):
    """A DRS action refused: `code` is the API's error (ConflictException, ...), the message says why."""

    def __init__(self, code: str, message: str, resource_id: str | None = None,
                 resource_type: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.resource_id = resource_id
        self.resource_type = resource_type


class Drs(Engine):
    name = "drs"
    service_principal = "drs.amazonaws.com"  # its EC2 calls show in CloudTrail as made by this AWS service
    order = 60

    def initial_state(self) -> DrsState:
        return DrsState()

    @property
    def durations(self) -> Durations:
        return self.sandbox.durations

    def new_id(self, prefix: str) -> str:
        state = self.state
        state.counter += 1
        digest = hashlib.sha256(f"{self.sandbox.lab.seed}:drs:{prefix}:{state.counter}".encode()).hexdigest()
        return f"{prefix}-{digest[:17]}"

    # -- the service, per region -------------------------------------------------------------------

    def initialize(self, region: str) -> None:
        """InitializeService: the service's IAM roles (once per account) and the region marked initialized."""
        iam = self.client("iam")
        for role, (path, principal) in SERVICE_ROLES.items():
            try:
                iam.get_role(RoleName=role)
                continue
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "NoSuchEntity":
                    raise
            trust = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "'
                     + principal + '"}, "Action": "sts:AssumeRole"}]}')
            iam.create_role(RoleName=role, Path=path, AssumeRolePolicyDocument=trust,
                            Description="Created by Elastic Disaster Recovery when it was initialized")
        if region not in self.state.initialized:
            self.state.initialized.add(region)
            self.emit("DrsInitialized", region=region)

    def template_for(self, region: str) -> Any:
        """The region's default replication settings: its first replication configuration template."""
        found = sorted((t for t in self.state.templates.values() if t.region == region), key=lambda t: t.created)
        return found[0] if found else None

    # -- the agent ---------------------------------------------------------------------------------

    def install_agent(self, instance: str, region: str) -> SourceServer:
        """What `aws-replication-installer-init --region REGION` does on the instance named (by its Name tag
        or id): register it as a source server in `region` and start replicating it. DrsError (nothing
        changed) when DRS is not ready there or the instance cannot run the agent."""
        if region not in config.REGIONS:
            raise DrsError("ValidationException", f"{region!r} is not a region of the sandbox "
                                                  f"({', '.join(config.REGIONS)})")
        if region not in self.state.initialized:
            raise DrsError("UninitializedAccountException",
                           f"Elastic Disaster Recovery is not initialized in {region}: run `aws drs initialize-"
                           f"service --region {region}` first (the installer registers the server there)")
        template = self.template_for(region)
        if template is None:
            raise DrsError("UninitializedAccountException",
                           f"{region} has no replication configuration template, which the installer needs for "
                           f"the server's replication settings: create one with `aws drs create-replication-"
                           f"configuration-template --region {region} ...`")
        found = self._find_instance(instance)
        if found is None:
            raise DrsError("ResourceNotFoundException",
                           f"no running or stopped EC2 instance is named or has the id {instance!r} in "
                           f"{' or '.join(config.REGIONS)}", instance, "instance")
        origin, shown = found
        if origin in self.state.regions_down:
            raise DrsError("ConflictException", f"{instance} is in {origin}, which is down: the installer "
                                                f"cannot run there now", shown["InstanceId"], "instance")
        if shown["State"]["Name"] != "running":
            raise DrsError("ConflictException", f"{instance} is {shown['State']['Name']}: the agent installs on a "
                                                f"running instance (start it first)", shown["InstanceId"], "instance")
        existing = self.server_of_instance(shown["InstanceId"], region)
        if existing is not None:
            return existing  # installing again on the same machine keeps its source server
        server = self._register(shown, origin, region, template.settings)
        self.emit("DrsSourceServerAdded", region=region, resource=server.arn, instance=server.instance_id,
                  origin_region=origin, hostname=server.hostname)
        return server

    def _find_instance(self, name: str) -> tuple[str, dict[str, Any]] | None:
        live = {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}
        for region in config.REGIONS:
            ec2 = self.client("ec2", region)
            key = "instance-id" if name.startswith("i-") else "tag:Name"
            reservations = ec2.describe_instances(Filters=[{"Name": key, "Values": [name]}, live])["Reservations"]
            instances = [i for r in reservations for i in r["Instances"]]
            if instances:
                return region, instances[0]
        return None

    def _register(self, shown: dict[str, Any], origin: str, region: str, settings: dict[str, Any]) -> SourceServer:
        ec2 = self.client("ec2", origin)
        disks = []
        for mapping in shown.get("BlockDeviceMappings", []):
            volume_id = (mapping.get("Ebs") or {}).get("VolumeId")
            if not volume_id:
                continue
            volume = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
            disks.append(ReplicatedDisk(mapping["DeviceName"], int(volume["Size"]) * GIB, volume_id,
                                        mapping["DeviceName"] == shown.get("RootDeviceName", "/dev/sda1")))
        if disks and not any(disk.is_boot for disk in disks):
            disks[0].is_boot = True
        tags = {t["Key"]: t["Value"] for t in shown.get("Tags", []) if not t["Key"].startswith("aws:")}
        cpus, ram = _instance_size(shown.get("InstanceType", "t3.micro"))
        now = self.now()
        server_id = self.new_id("s")
        staging_az = self._staging_az(region, settings.get("stagingAreaSubnetId"))
        replication = {**settings, "name": tags.get("Name", shown["InstanceId"]),
                       "replicatedDisks": [{"deviceName": d.device_name, "isBootDisk": d.is_boot,
                                            "stagingDiskType": "AUTO"} for d in disks]}
        server = SourceServer(
            server_id=server_id, region=region, instance_id=shown["InstanceId"], origin_region=origin,
            origin_az=shown.get("Placement", {}).get("AvailabilityZone", f"{origin}a"),
            hostname=shown.get("PrivateDnsName") or shown["InstanceId"], instance_type=shown.get("InstanceType", ""),
            cpus=cpus, ram_bytes=ram, disks=disks, instance_tags=tags, replication=replication,
            launch={}, added=now, staging_az=staging_az)
        server.launch = self._default_launch(server)
        self.state.servers[server_id] = server
        self._start_initiation(server, now)
        return server

    def _staging_az(self, region: str, subnet_id: str | None) -> str:
        if subnet_id:
            try:
                subnets = self.client("ec2", region).describe_subnets(SubnetIds=[subnet_id])["Subnets"]
                if subnets:
                    return str(subnets[0]["AvailabilityZone"])
            except ClientError:
                pass
        return f"{region}a"

    def _default_launch(self, server: SourceServer) -> dict[str, Any]:
        """The launch settings DRS gives a new source server, with the EC2 launch template it creates."""
        ec2 = self.client("ec2", server.region)
        template = ec2.create_launch_template(
            LaunchTemplateName=f"drs-{server.server_id}",
            LaunchTemplateData={"InstanceType": server.instance_type or "t3.micro",
                                "Placement": {"AvailabilityZone": server.staging_az}},
            TagSpecifications=[{"ResourceType": "launch-template",
                                "Tags": [{"Key": MANAGED_TAG[0], "Value": MANAGED_TAG[1]},
                                         {"Key": SOURCE_SERVER_TAG, "Value": server.server_id}]}])
        return {"sourceServerID": server.server_id, "name": server.replication["name"],
                "ec2LaunchTemplateID": template["LaunchTemplate"]["LaunchTemplateId"],
                "launchDisposition": "STARTED", "targetInstanceTypeRightSizingMethod": "BASIC",
                "copyPrivateIp": False, "copyTags": True, "licensing": {"osByol": True}, "postLaunchEnabled": False}

    def server_of_instance(self, instance_id: str, region: str) -> SourceServer | None:
        return next((s for s in self.state.servers.values()
                     if s.instance_id == instance_id and s.region == region and not s.deleted), None)

    # -- the replication timeline ------------------------------------------------------------------

    def _start_initiation(self, server: SourceServer, now: float) -> None:
        server.state, server.error, server.seen_until, server.next_pit = INITIATING, None, None, None
        server.initiation_started = now
        phases, start = [], now
        for step, seconds in self.durations.drs_initiation():
            phases.append(Phase(step, start, start + seconds))
            start += seconds
        server.phases = phases
        self._emit_state(server)

    def _enter(self, server: SourceServer, state: str, at: float, seconds: float | None) -> None:
        server.state = state
        server.phases = [Phase(state, at, None if seconds is None else at + seconds)]
        self._emit_state(server)

    def _emit_state(self, server: SourceServer) -> None:
        self.emit("DrsReplicationState", region=server.region, resource=server.arn, state=server.state,
                  hostname=server.hostname, error=server.error)
        self.sandbox.bus.publish(ResourceStatusChanged(server.region, "drs", server.arn, server.state))

    def _sync_seconds(self, server: SourceServer) -> float:
        throttle = float(server.replication.get("bandwidthThrottling") or 0)
        return self.durations.drs_initial_sync(server.total_bytes / GIB, throttle)

    def _server_due(self, server: SourceServer) -> float | None:
        if server.deleted or server.state in (STALLED, STOPPED, DISCONNECTED):
            return None
        if server.state == CONTINUOUS:
            return server.next_pit
        ends = [phase.end for phase in server.phases if phase.end is not None and not phase.done]
        return min(ends) if ends else None

    def _advance_server(self, server: SourceServer, at: float) -> None:
        """Do what is due for `server` at `at` (its next due time)."""
        if server.state == CONTINUOUS:
            self._scheduled_snapshot(server, at)
            return
        for phase in server.phases:
            if phase.done or phase.end is None or phase.end > at:
                continue
            phase.done = True
            ended = phase.end
            if server.state == INITIATING:
                if phase.name == "CREATE_STAGING_DISKS":
                    self._create_staging_disks(server)
                if phase.name == DRS_INITIATION_STEPS[-1]:
                    server.first_byte = ended
                    self._enter(server, INITIAL_SYNC, ended, self._sync_seconds(server))
                return
            if server.state == INITIAL_SYNC:
                self._enter(server, CREATING_SNAPSHOT, ended, self.durations.drs("snapshot"))
            elif server.state == CREATING_SNAPSHOT:
                self._become_continuous(server, ended)
                self._take_snapshot(server, ended, ended, on_demand=False)
            elif server.state == BACKLOG:
                server.backlog_from = None
                self._become_continuous(server, ended)
            return

    def _become_continuous(self, server: SourceServer, at: float) -> None:
        server.continuous_since = server.continuous_since or at
        server.state, server.phases = CONTINUOUS, []
        server.next_pit = (math.floor(at / PIT_GRID_SECONDS) + 1) * PIT_GRID_SECONDS
        self._emit_state(server)

    def _create_staging_disks(self, server: SourceServer) -> None:
        ec2 = self.client("ec2", server.region)
        for disk in server.disks:
            if disk.staging_volume_id:
                continue
            tags = {**(server.replication.get("stagingAreaTags") or {}), MANAGED_TAG[0]: MANAGED_TAG[1],
                    SOURCE_SERVER_TAG: server.server_id,
                    "Name": f"AWS Elastic Disaster Recovery staging disk {disk.device_name} of {server.hostname}"}
            volume = ec2.create_volume(
                AvailabilityZone=server.staging_az, Size=max(1, math.ceil(disk.total_bytes / GIB)), VolumeType="gp3",
                Encrypted=server.replication.get("ebsEncryption", "DEFAULT") != "NONE",
                TagSpecifications=[{"ResourceType": "volume",
                                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])
            disk.staging_volume_id = volume["VolumeId"]

    # -- point-in-time snapshots -------------------------------------------------------------------

    def data_moment(self, server: SourceServer, at: float) -> float:
        """The moment of the source's disks that the staging disks hold at `at`: a lag behind while the agent
        is seen, the last moment it was seen while it is not, catching up again while in BACKLOG."""
        lag = self.durations.drs("rpo")
        if server.seen_until is not None:
            return server.seen_until - lag
        phase = server.phase_at(at)
        if server.state == BACKLOG and server.backlog_from is not None and phase is not None and phase.end:
            done = (at - phase.start) / max(phase.end - phase.start, 1e-9)
            return server.backlog_from + done * ((phase.end - lag) - server.backlog_from)
        return at - lag

    def _scheduled_snapshot(self, server: SourceServer, due: float) -> None:
        server.next_pit = due + PIT_GRID_SECONDS
        if server.region in self.state.regions_down:
            return
        self._take_snapshot(server, due, due, on_demand=False)

    def _take_snapshot(self, server: SourceServer, expected: float, taken: float, *,
                       on_demand: bool) -> RecoverySnapshot:
        ec2 = self.client("ec2", server.region)
        snapshot_id = self.new_id("pit")
        ebs = []
        for disk in server.disks:
            if not disk.staging_volume_id:
                continue
            tags = [{"Key": MANAGED_TAG[0], "Value": MANAGED_TAG[1]},
                    {"Key": SOURCE_SERVER_TAG, "Value": server.server_id},
                    {"Key": "AWSElasticDisasterRecoverySnapshotID", "Value": snapshot_id}]
            made = ec2.create_snapshot(
                VolumeId=disk.staging_volume_id,
                Description=f"Elastic Disaster Recovery point-in-time snapshot {snapshot_id} of {disk.device_name} "
                            f"({server.server_id})",
                TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}])
            ebs.append(made["SnapshotId"])
        snapshot = RecoverySnapshot(snapshot_id, server.server_id, expected, taken, self.data_moment(server, taken),
                                    ebs, on_demand)
        kept = self.state.snapshots.setdefault(server.server_id, [])
        kept.append(snapshot)
        self._prune(server, taken)
        return snapshot

    def _prune(self, server: SourceServer, now: float) -> None:
        """Delete the snapshots no rule of the point-in-time policy keeps any more (the newest always stays)."""
        kept = self.state.snapshots.get(server.server_id, [])
        rules = [r for r in server.replication.get("pitPolicy") or DEFAULT_PIT_POLICY if r.get("enabled", True)]
        doomed = [s for s in kept[:-1] if not any(_rule_keeps(rule, s, now) for rule in rules)]
        for snapshot in doomed:
            kept.remove(snapshot)
            self._delete_ebs(server.region, snapshot.ebs_snapshot_ids)

    def _delete_ebs(self, region: str, snapshot_ids: list[str]) -> None:
        ec2 = self.client("ec2", region)
        for snapshot_id in snapshot_ids:
            try:
                ec2.delete_snapshot(SnapshotId=snapshot_id)
            except ClientError:
                pass  # deleted by someone else already

    # -- agent seen or not ----------------------------------------------------------------------------

    def set_region_down(self, region: str, down: bool) -> None:
        regions = self.state.regions_down
        if down:
            regions.add(region)
        else:
            regions.discard(region)
        now = self.now()
        for server in self.state.servers.values():
            if server.deleted or region not in (server.origin_region, server.region):
                continue
            if down:
                self.stall(server, now)
            elif server.origin_region not in regions and server.region not in regions:
                self.resume(server, now)

    def stall(self, server: SourceServer, now: float) -> None:
        """The agent is not seen any more (its region is down, its instance stopped)."""
        if server.state in (STALLED, STOPPED, DISCONNECTED):
            return
        server.stalled_from, server.seen_until = server.state, now
        server.state, server.error = STALLED, "AGENT_NOT_SEEN"
        self._emit_state(server)

    def resume(self, server: SourceServer, now: float) -> None:
        if server.state != STALLED or server.seen_until is None:
            return
        away = now - server.seen_until
        for phase in server.phases:
            if phase.end is not None and phase.end > server.seen_until:
                phase.end += away
                if phase.start >= server.seen_until:
                    phase.start += away
        previous, server.error = server.stalled_from or CONTINUOUS, None
        server.stalled_from = None
        if previous in (CONTINUOUS, BACKLOG):
            server.backlog_from = server.seen_until - self.durations.drs("rpo")
            server.seen_until = None
            self._enter(server, BACKLOG, now, self.durations.drs("reconnect"))
            return
        server.seen_until = None
        server.state = previous
        self._emit_state(server)

    def observe(self, ctx: RequestContext) -> None:
        """The source instance stopped or terminated leaves the agent unseen; started again, it comes back."""
        identity = ctx.identity
        if identity is None or identity.service != "ec2" or identity.operation not in (
                "StopInstances", "TerminateInstances", "StartInstances"):
            return
        wanted = set(self.sandbox.call_params(ctx).get("InstanceIds") or ())
        now = self.now()
        for server in self.state.servers.values():
            if server.deleted or server.instance_id not in wanted or server.region == identity.region:
                continue
            if identity.operation == "StartInstances":
                if server.origin_region not in self.state.regions_down:
                    self.resume(server, now)
            else:
                self.stall(server, now)

    # -- recovery jobs -------------------------------------------------------------------------------

    def start_recovery(self, region: str, requests: list[dict[str, Any]], is_drill: bool,
                       tags: dict[str, str]) -> Job:
        """StartRecovery: a LAUNCH job for the servers asked for. DrsError, nothing changed, for a server
        that is unknown, not ready (no snapshot yet), already in a job, or a snapshot that is not its own."""
        servers = []
        for request in requests:
            server = self.server(region, request.get("sourceServerID", ""))
            if server.state in (INITIATING, INITIAL_SYNC, CREATING_SNAPSHOT, STOPPED, DISCONNECTED) or \
                    not self.state.snapshots.get(server.server_id):
                raise DrsError("ConflictException",
                               f"Source server {server.server_id} is not ready for recovery: its replication is "
                               f"{server.state} and it has no point-in-time snapshot yet", server.server_id,
                               "SOURCE_SERVER")
            busy = self.active_job_of(server.server_id)
            if busy is not None:
                raise DrsError("ConflictException", f"Source server {server.server_id} is already in job "
                                                    f"{busy.job_id}, which is {busy.status}", server.server_id,
                               "SOURCE_SERVER")
            snapshot_id = request.get("recoverySnapshotID")
            if snapshot_id and not any(s.snapshot_id == snapshot_id for s in self.state.snapshots[server.server_id]):
                raise DrsError("ResourceNotFoundException", f"Recovery snapshot {snapshot_id} of source server "
                                                            f"{server.server_id} does not exist", snapshot_id,
                               "RECOVERY_SNAPSHOT")
            servers.append(JobServer(server.server_id, snapshot_id))
        now = self.now()
        job = Job(self.new_id("drsjob"), region, "LAUNCH", "START_DRILL" if is_drill else "START_RECOVERY", now,
                  servers, is_drill=is_drill, tags=dict(tags))
        job.steps = [(now + self.durations.drs("job.pending"), "start")]
        self.state.jobs[job.job_id] = job
        for part in servers:
            server = self.state.servers[part.server_id]
            server.last_launch = {"job_id": job.job_id, "type": "DRILL" if is_drill else "RECOVERY",
                                  "api_time": now, "status": "PENDING"}
            server.last_launch_result = "PENDING"
        self.emit("DrsJobCreated", region=region, resource=job.arn, type=job.job_type, initiated_by=job.initiated_by,
                  servers=[p.server_id for p in servers])
        self._job_changed(job)
        return job

    def terminate_recovery_instances(self, region: str, instance_ids: list[str]) -> Job:
        parts = []
        for instance_id in instance_ids:
            found = self.state.recovery_instances.get(instance_id)
            if found is None or found.region != region or found.terminated:
                raise DrsError("ConflictException", f"Recovery instance {instance_id} does not exist in {region}",
                               instance_id, "RECOVERY_INSTANCE")
            busy = self.active_job_of(found.server_id)
            if busy is not None:
                raise DrsError("ConflictException", f"Recovery instance {instance_id} is in job {busy.job_id}",
                               instance_id, "RECOVERY_INSTANCE")
            parts.append(JobServer(found.server_id, None, launch_status="LAUNCHED", recovery_instance_id=instance_id))
        now = self.now()
        job = Job(self.new_id("drsjob"), region, "TERMINATE", "TERMINATE_RECOVERY_INSTANCES", now, parts)
        job.steps = [(now + self.durations.drs("job.pending"), "start")]
        self.state.jobs[job.job_id] = job
        self.emit("DrsJobCreated", region=region, resource=job.arn, type=job.job_type, initiated_by=job.initiated_by,
                  recovery_instances=instance_ids)
        self._job_changed(job)
        return job

    def active_job_of(self, server_id: str) -> Job | None:
        return next((job for job in self.state.jobs.values()
                     if job.status != "COMPLETED" and any(p.server_id == server_id for p in job.servers)), None)

    def server(self, region: str, server_id: str) -> SourceServer:
        found = self.state.servers.get(server_id)
        if found is None or found.region != region or found.deleted:
            raise DrsError("ResourceNotFoundException", f"Source server {server_id} does not exist in {region}",
                           server_id, "SOURCE_SERVER")
        return found

    def _log(self, job: Job, at: float, event: str, **data: Any) -> None:
        job.log.append(JobLogItem(at, event, {k: v for k, v in data.items() if v is not None}))

    def _job_changed(self, job: Job) -> None:
        self.sandbox.bus.publish(ResourceStatusChanged(job.region, "drs", job.arn, job.status))

    def _advance_job(self, job: Job, at: float) -> None:
        _, step = job.steps.pop(0)
        if step == "start":
            job.status = "STARTED"
            self._log(job, at, "JOB_START")
            if job.job_type == "TERMINATE":
                job.steps.append((at + self.durations.drs("terminate"), "terminate"))
            else:
                self._begin_launch(job, at)
            self.emit("DrsJobStarted", region=job.region, resource=job.arn)
            self._job_changed(job)
        elif step == "snapshot":
            for part in job.servers:
                if part.snapshot_id is None and part.launch_status != "FAILED":
                    server = self.state.servers[part.server_id]
                    part.used_snapshot = self._take_snapshot(server, at, at, on_demand=True).snapshot_id
                    self._log(job, at, "SNAPSHOT_END", sourceServerID=part.server_id)
            self._begin_conversion(job, at)
        elif step == "conversion":
            for part in job.servers:
                if part.launch_status == "FAILED":
                    continue
                server = self.state.servers[part.server_id]
                snapshot = self._snapshot(part.server_id, part.used_snapshot)
                self._log(job, at, "CONVERSION_END", sourceServerID=part.server_id, conversionProperties={
                    "dataTimestamp": _iso(snapshot.data_time) if snapshot else None,
                    "rootVolumeName": next((d.device_name for d in server.disks if d.is_boot), None),
                    "volumeToVolumeSize": {d.device_name: d.total_bytes for d in server.disks}})
                self._launch(job, part, server, snapshot, at)
            job.steps.append((at + self.durations.drs("launch"), "launched"))
        elif step == "launched":
            for part in job.servers:
                if part.launch_status == "IN_PROGRESS":
                    part.launch_status = "LAUNCHED"
                    self._set_last_launch(part.server_id, "LAUNCHED", "SUCCEEDED")
            self._end_job(job, at)
        elif step == "terminate":
            for part in job.servers:
                found = self.state.recovery_instances.get(part.recovery_instance_id or "")
                if found is not None:
                    self._terminate_instance(found)
                part.launch_status = "TERMINATED"
            self._end_job(job, at)

    def _begin_launch(self, job: Job, at: float) -> None:
        for part in job.servers:
            server = self.state.servers[part.server_id]
            previous = self.state.recovery_instances.get(server.recovery_instance_id or "")
            if previous is not None and not previous.terminated:
                self._log(job, at, "CLEANUP_START", sourceServerID=part.server_id,
                          targetInstanceID=previous.instance_id)
                self._terminate_instance(previous)
                self._log(job, at, "CLEANUP_END", sourceServerID=part.server_id)
            part.launch_status = "IN_PROGRESS"
            if server.last_launch is not None:
                server.last_launch["status"] = "IN_PROGRESS"
            if part.snapshot_id is None:
                self._log(job, at, "SNAPSHOT_START", sourceServerID=part.server_id)
            else:
                part.used_snapshot = part.snapshot_id
                self._log(job, at, "USING_PREVIOUS_SNAPSHOT", sourceServerID=part.server_id)
        if any(part.snapshot_id is None for part in job.servers):
            job.steps.append((at + self.durations.drs("snapshot"), "snapshot"))
        else:
            self._begin_conversion(job, at)

    def _begin_conversion(self, job: Job, at: float) -> None:
        for part in job.servers:
            if part.launch_status != "FAILED":
                self._log(job, at, "CONVERSION_START", sourceServerID=part.server_id)
        job.steps.append((at + self.durations.drs("conversion"), "conversion"))

    def _snapshot(self, server_id: str, snapshot_id: str | None) -> RecoverySnapshot | None:
        return next((s for s in self.state.snapshots.get(server_id, []) if s.snapshot_id == snapshot_id), None)

    def _launch(self, job: Job, part: JobServer, server: SourceServer, snapshot: RecoverySnapshot | None,
                at: float) -> None:
        """LAUNCH_START: a real EC2 instance in the recovery region, its volumes from the snapshot's EBS snapshots."""
        if snapshot is None:
            self._fail(job, part, at, "the point-in-time snapshot to launch from is gone")
            return
        ec2 = self.client("ec2", server.region)
        launch = server.launch
        tags = dict(server.instance_tags) if launch.get("copyTags", True) else {}
        tags.update({MANAGED_TAG[0]: MANAGED_TAG[1], SOURCE_SERVER_TAG: server.server_id})
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        mappings = [{"DeviceName": disk.device_name,
                     "Ebs": {"SnapshotId": ebs_id, "VolumeSize": max(1, math.ceil(disk.total_bytes / GIB)),
                             "VolumeType": "gp3", "DeleteOnTermination": True}}
                    for disk, ebs_id in zip(server.disks, snapshot.ebs_snapshot_ids, strict=False)]
        request: dict[str, Any] = {
            "ImageId": self._recovery_image(server.region), "MinCount": 1, "MaxCount": 1,
            "LaunchTemplate": {"LaunchTemplateId": launch["ec2LaunchTemplateID"]},
            "BlockDeviceMappings": mappings,
            "TagSpecifications": [{"ResourceType": "instance", "Tags": tag_list},
                                  {"ResourceType": "volume", "Tags": tag_list}]}
        if launch.get("targetInstanceTypeRightSizingMethod", "BASIC") != "NONE":
            request["InstanceType"] = server.instance_type or "t3.micro"
        try:
            instance = ec2.run_instances(**request)["Instances"][0]
        except ClientError as exc:
            self._fail(job, part, at, exc.response["Error"]["Message"])
            return
        instance_id = instance["InstanceId"]
        if launch.get("launchDisposition") == "STOPPED":
            ec2.stop_instances(InstanceIds=[instance_id])
        volumes = [(m.get("Ebs") or {}).get("VolumeId", "") for m in instance.get("BlockDeviceMappings", [])]
        part.recovery_instance_id = instance_id
        self._log(job, at, "LAUNCH_START", sourceServerID=server.server_id, targetInstanceID=instance_id)
        self.state.recovery_instances[instance_id] = RecoveryInstance(
            instance_id, server.region, server.server_id, job.job_id, job.is_drill, snapshot.data_time,
            snapshot.snapshot_id, at, at + self.durations.drs("launch"), server.origin_az,
            [v for v in volumes if v], dict(tags))
        server.recovery_instance_id = instance_id
        self.emit("DrsRecoveryInstanceLaunching", region=server.region, resource=instance_id, job=job.job_id,
                  source_server=server.server_id, drill=job.is_drill, point_in_time=_iso(snapshot.data_time))

    def _fail(self, job: Job, part: JobServer, at: float, reason: str) -> None:
        part.launch_status = "FAILED"
        self._log(job, at, "LAUNCH_FAILED", sourceServerID=part.server_id, rawError=reason)
        self._set_last_launch(part.server_id, "FAILED", "FAILED")

    def _set_last_launch(self, server_id: str, status: str, result: str) -> None:
        server = self.state.servers.get(server_id)
        if server is not None:
            if server.last_launch is not None:
                server.last_launch["status"] = status
            server.last_launch_result = result

    def _recovery_image(self, region: str) -> str:
        """The image the converted boot disk stands on (the recovery instance's volumes are the snapshots')."""
        images = self.client("ec2", region).describe_images(
            Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]}])["Images"]
        return str(max(images, key=lambda image: image["Name"])["ImageId"])

    def _terminate_instance(self, found: RecoveryInstance) -> None:
        try:
            self.client("ec2", found.region).terminate_instances(InstanceIds=[found.instance_id])
        except ClientError:
            pass  # already gone
        found.terminated = True
        server = self.state.servers.get(found.server_id)
        if server is not None and server.recovery_instance_id == found.instance_id:
            server.recovery_instance_id = None
        self.emit("DrsRecoveryInstanceTerminated", region=found.region, resource=found.instance_id,
                  source_server=found.server_id)

    def _end_job(self, job: Job, at: float) -> None:
        job.status, job.ended = "COMPLETED", at
        self._log(job, at, "JOB_END")
        self.emit("DrsJobCompleted", region=job.region, resource=job.arn, type=job.job_type,
                  servers={p.server_id: p.launch_status for p in job.servers})
        self._job_changed(job)

    # -- replication controls ----------------------------------------------------------------------

    def prune(self, server: SourceServer) -> None:
        """Apply the server's (possibly changed) point-in-time policy now."""
        self._prune(server, self.now())

    def rethrottle(self, server: SourceServer) -> None:
        """bandwidthThrottling changed during the initial sync: what is left goes at the new rate (the share
        already replicated stays as it is)."""
        if server.state != INITIAL_SYNC or not server.phases:
            return
        phase, now = server.phases[0], self.now()
        if phase.end is None or now >= phase.end:
            return
        done = (now - phase.start) / max(phase.end - phase.start, 1e-9)
        whole = self._sync_seconds(server)
        phase.start = now - done * whole
        phase.end = phase.start + whole

    def reverse_replication(self, region: str, instance_id: str) -> SourceServer:
        """ReverseReplication: the recovery instance replicates back to the source's region, as a new source
        server there (replicationDirection FAILBACK) -- the way back after a cross-Region failover
        (https://docs.aws.amazon.com/drs/latest/userguide/failback-failover-region-region.html)."""
        found = self.state.recovery_instances.get(instance_id)
        if found is None or found.region != region or found.terminated:
            raise DrsError("ResourceNotFoundException", f"Recovery instance {instance_id} does not exist in {region}",
                           instance_id, "RECOVERY_INSTANCE")
        source = self.state.servers[found.server_id]
        existing = self.state.servers.get((source.reversed_arn or "").rsplit("/", 1)[-1])
        if existing is not None and not existing.deleted:
            return existing
        origin = source.origin_region
        template = self.template_for(origin)
        if origin not in self.state.initialized or template is None:
            raise DrsError("ValidationException", f"Elastic Disaster Recovery is not initialized in {origin}, with a "
                                                  f"replication configuration template: reverse replication replicates "
                                                  f"into it")
        if origin in self.state.regions_down:
            raise DrsError("ConflictException", f"{origin} is down: nothing can replicate into it now", instance_id,
                           "RECOVERY_INSTANCE")
        reservations = self.client("ec2", region).describe_instances(InstanceIds=[instance_id])["Reservations"]
        shown = reservations[0]["Instances"][0]
        back = self._register(shown, region, origin, template.settings)
        back.direction, back.reversed_arn = "FAILBACK", source.arn
        source.reversed_arn = back.arn
        self.emit("DrsReverseReplicationStarted", region=origin, resource=back.arn, recovery_instance=instance_id,
                  source_server=source.server_id)
        return back

    def stop_replication(self, server: SourceServer) -> None:
        """StopReplication: the server is no longer protected; its snapshots are deleted."""
        for snapshot in self.state.snapshots.pop(server.server_id, []):
            self._delete_ebs(server.region, snapshot.ebs_snapshot_ids)
        server.seen_until, server.stalled_from, server.error, server.next_pit = None, None, None, None
        server.continuous_since = None
        self._enter(server, STOPPED, self.now(), None)
        server.phases = []

    def start_replication(self, server: SourceServer) -> None:
        self._start_initiation(server, self.now())

    def disconnect(self, server: SourceServer) -> None:
        """DisconnectSourceServer: replication stops, its staging disks and snapshots go."""
        self.stop_replication(server)
        ec2 = self.client("ec2", server.region)
        for disk in server.disks:
            if disk.staging_volume_id:
                try:
                    ec2.delete_volume(VolumeId=disk.staging_volume_id)
                except ClientError:
                    pass
                disk.staging_volume_id = None
        server.state = DISCONNECTED
        self._emit_state(server)

    # -- the clock ---------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        state = self.state
        due = [when for server in state.servers.values() if (when := self._server_due(server)) is not None]
        due += [job.steps[0][0] for job in state.jobs.values() if job.steps]
        return min(due) if due else None

    def run_due(self, now: float) -> None:
        state = self.state
        for _ in range(MAX_STEPS_PER_RUN):
            candidates: list[tuple[float, int, str]] = []
            for server in state.servers.values():
                when = self._server_due(server)
                if when is not None and when <= now:
                    candidates.append((when, 0, server.server_id))
            for job in state.jobs.values():
                if job.steps and job.steps[0][0] <= now:
                    candidates.append((job.steps[0][0], 1, job.job_id))
            if not candidates:
                return
            when, kind, key = min(candidates)
            if kind == 0:
                self._advance_server(state.servers[key], when)
            else:
                self._advance_job(state.jobs[key], when)

    def describe(self) -> dict[str, Any]:
        state = self.state
        servers = [s for s in state.servers.values() if not s.deleted]
        return {"initialized": sorted(state.initialized), "source_servers": len(servers),
                "replicating": sum(s.state in REPLICATING for s in servers),
                "jobs_running": sum(job.status != "COMPLETED" for job in state.jobs.values()),
                "recovery_instances": sum(not r.terminated for r in state.recovery_instances.values())}


def _rule_keeps(rule: dict[str, Any], snapshot: RecoverySnapshot, now: float) -> bool:
    unit = UNIT_SECONDS.get(str(rule.get("units")), 60.0)
    if now - snapshot.expected > float(rule.get("retentionDuration", 0)) * unit:
        return False
    grid = float(rule.get("interval", 1)) * unit
    return snapshot.on_demand or math.isclose(snapshot.expected % grid, 0.0, abs_tol=1e-6) or \
        math.isclose(snapshot.expected % grid, grid, abs_tol=1e-6)


def _instance_size(instance_type: str) -> tuple[int, int]:
    """(vCPUs, RAM bytes) of the small instance types the lab uses; what the agent reports of the machine."""
    sizes = {"nano": (2, 0.5), "micro": (2, 1), "small": (2, 2), "medium": (2, 4), "large": (2, 8),
             "xlarge": (4, 16), "2xlarge": (8, 32)}
    cpus, gib = sizes.get(instance_type.rsplit(".", 1)[-1], (2, 1))
    return cpus, int(gib * GIB)


def _iso(epoch: float) -> str:
    from lab.sim.clock import iso

    return iso(epoch)
