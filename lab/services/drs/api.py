"""The Elastic Disaster Recovery API, answered by the lab (moto has no DRS; the lab owns the whole service).

Requests and answers use the DRS model's member names (camelCase), timestamps as ISO 8601 strings and
durations as ISO 8601 durations, as the API does. Before InitializeService every operation of a region
answers UninitializedAccountException; a request DRS refuses gets its documented error with the error shape's
members (ValidationException's `reason` and `fieldList`, `resourceId` and `resourceType` of ConflictException
and ResourceNotFoundException). Operations the lab does not simulate (source networks, recovery plans,
launch configuration templates and actions, failback clients) answer NotImplemented.
API Reference: https://docs.aws.amazon.com/drs/latest/APIReference/
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.api import Call, ServiceApi, paginate
from lab.kernel.errors import AwsError
from lab.services.drs.engine import Drs, DrsError
from lab.services.drs.model import (
    BACKLOG,
    CONTINUOUS,
    DEFAULT_PIT_POLICY,
    DISCONNECTED,
    INITIAL_SYNC,
    INITIATING,
    STALLED,
    STOPPED,
    UNIT_SECONDS,
    Job,
    RecoveryInstance,
    RecoverySnapshot,
    ReplicationTemplate,
    SourceServer,
)
from lab.sim.clock import iso
from lab.sim.durations import progress

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

SERVICE = "drs"
AGENT_VERSION = "4.7.1201.0"
#: ReplicationConfigurationTemplate members a template may set, with the defaults DRS gives those not set
TEMPLATE_DEFAULTS: dict[str, Any] = {
    "associateDefaultSecurityGroup": False, "replicationServerInstanceType": "t3.small",
    "useDedicatedReplicationServer": False, "defaultLargeStagingDiskType": "GP3", "dataPlaneRouting": "PRIVATE_IP",
    "createPublicIP": False, "autoReplicateNewDisks": True, "internetProtocol": "IPV4",
}
TEMPLATE_MEMBERS = ("stagingAreaSubnetId", "associateDefaultSecurityGroup", "replicationServersSecurityGroupsIDs",
                    "replicationServerInstanceType", "useDedicatedReplicationServer", "defaultLargeStagingDiskType",
                    "ebsEncryption", "ebsEncryptionKeyArn", "bandwidthThrottling", "dataPlaneRouting",
                    "createPublicIP", "stagingAreaTags", "pitPolicy", "autoReplicateNewDisks", "internetProtocol")
LAUNCH_MEMBERS = ("name", "launchDisposition", "targetInstanceTypeRightSizingMethod", "copyPrivateIp", "copyTags",
                  "licensing", "postLaunchEnabled", "launchIntoInstanceProperties", "recoveryMode")
ENUMS = {
    "launchDisposition": ("STOPPED", "STARTED"),
    "targetInstanceTypeRightSizingMethod": ("NONE", "BASIC", "IN_AWS"),
    "ebsEncryption": ("DEFAULT", "CUSTOM", "NONE"),
    "dataPlaneRouting": ("PRIVATE_IP", "PUBLIC_IP"),
    "defaultLargeStagingDiskType": ("GP2", "GP3", "ST1", "AUTO"),
}


def _validation(message: str, field: str | None = None, reason: str = "fieldValidationFailed") -> AwsError:
    members: dict[str, Any] = {"reason": reason}
    if field:
        members["fieldList"] = [{"name": field, "message": message}]
    return AwsError("ValidationException", message, 400, members=members)


def _refused(error: DrsError) -> AwsError:
    status = {"ConflictException": 409, "ResourceNotFoundException": 404}.get(error.code, 400)
    if error.code == "ValidationException":
        return _validation(str(error))
    members = {k: v for k, v in (("resourceId", error.resource_id), ("resourceType", error.resource_type)) if v}
    return AwsError(error.code, str(error), status, members=members)


def _not_found(kind: str, identifier: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"{kind} {identifier} not found", 404,
                    members={"resourceId": identifier, "resourceType": kind.upper().replace(" ", "_")})


def duration(seconds: float) -> str:
    """ISO 8601 duration: PT1S, PT12M5S, P1DT2H."""
    total = max(0, round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value)
    text = f"P{days}D" if days else "P"
    return text + (f"T{clock}" if clock else ("" if days else "T0S"))


def check_pit_policy(rules: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The policy DRS accepts: exactly three rules, every 10 minutes kept for 60, hourly kept for 24, and daily
    kept for 1-365 days (https://docs.aws.amazon.com/drs/latest/userguide/point-in-time.html)."""
    if rules is None:
        return [dict(rule) for rule in DEFAULT_PIT_POLICY]
    by_unit = {rule.get("units"): rule for rule in rules}
    if len(rules) != 3 or set(by_unit) != set(UNIT_SECONDS):
        raise _validation("pitPolicy must contain exactly three rules: one each of units MINUTE, HOUR and DAY",
                          "pitPolicy")
    expected = {"MINUTE": (10, 60), "HOUR": (1, 24)}
    for unit, (interval, retention) in expected.items():
        rule = by_unit[unit]
        if rule.get("interval") != interval or rule.get("retentionDuration") != retention:
            raise _validation(f"the {unit} rule must take a snapshot every {interval} and keep it for {retention} "
                              f"(only the DAY rule's retention can change)", "pitPolicy")
    day = by_unit["DAY"]
    if day.get("interval") != 1 or not 1 <= int(day.get("retentionDuration") or 0) <= 365:
        raise _validation("the DAY rule takes a snapshot every 1 day and keeps it for 1 to 365 days", "pitPolicy")
    checked = []
    for index, unit in enumerate(("MINUTE", "HOUR", "DAY"), start=1):
        rule = by_unit[unit]
        checked.append({"ruleID": int(rule.get("ruleID") or index), "units": unit, "interval": rule["interval"],
                        "retentionDuration": rule["retentionDuration"], "enabled": rule.get("enabled", True)})
    return checked


class DrsApi(ServiceApi):
    service = SERVICE
    owns_service = True
    implemented_by = "the lab's Elastic Disaster Recovery"
    service_principal = Drs.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(Drs)
        assert engine is not None, "the DRS API needs the DRS engine"
        self.engine = engine

    # -- helpers -------------------------------------------------------------------------------------

    def _ready(self, call: Call) -> None:
        if call.region not in self.engine.state.initialized:
            raise AwsError("UninitializedAccountException",
                           f"Elastic Disaster Recovery is not initialized in {call.region}: call InitializeService "
                           f"(aws drs initialize-service --region {call.region}) first", 400)

    def _server(self, call: Call) -> SourceServer:
        try:
            return self.engine.server(call.region, call.params.get("sourceServerID", ""))
        except DrsError as exc:
            raise _refused(exc) from exc

    def _page(self, items: list[Any], params: dict[str, Any]) -> dict[str, Any]:
        page, token = paginate(items, params, next_member="nextToken", size_member="maxResults",
                               invalid_code="ValidationException")
        return {"items": page, **({"nextToken": token} if token else {})}

    # -- the service -----------------------------------------------------------------------------------

    def op_InitializeService(self, call: Call) -> dict[str, Any]:
        self.engine.initialize(call.region)
        return {}

    # -- replication configuration templates -----------------------------------------------------------

    def _template_settings(self, call: Call, base: dict[str, Any]) -> dict[str, Any]:
        params = call.params
        settings = dict(base)
        settings.update({key: params[key] for key in TEMPLATE_MEMBERS if key in params})
        for key, allowed in ENUMS.items():
            if key in settings and settings[key] not in allowed:
                raise _validation(f"{key} must be one of {', '.join(allowed)}, not {settings[key]!r}", key)
        if int(settings.get("bandwidthThrottling") or 0) < 0:
            raise _validation("bandwidthThrottling is Mbps, zero (no limit) or more", "bandwidthThrottling")
        if settings.get("ebsEncryption") == "CUSTOM" and not settings.get("ebsEncryptionKeyArn"):
            raise _validation("ebsEncryption CUSTOM needs ebsEncryptionKeyArn", "ebsEncryptionKeyArn")
        settings["pitPolicy"] = check_pit_policy(settings.get("pitPolicy"))
        self._check_network(call.region, settings)
        return settings

    def _check_network(self, region: str, settings: dict[str, Any]) -> None:
        ec2 = self.sandbox.client("ec2", region)
        subnet = settings.get("stagingAreaSubnetId")
        if subnet:
            try:
                ec2.describe_subnets(SubnetIds=[subnet])
            except ClientError as exc:
                raise _validation(f"staging area subnet {subnet} does not exist in {region}",
                                  "stagingAreaSubnetId") from exc
        groups = settings.get("replicationServersSecurityGroupsIDs") or []
        if groups:
            try:
                ec2.describe_security_groups(GroupIds=list(groups))
            except ClientError as exc:
                raise _validation(f"security groups {', '.join(groups)}: {exc.response['Error']['Message']}",
                                  "replicationServersSecurityGroupsIDs") from exc

    def _template_view(self, template: ReplicationTemplate) -> dict[str, Any]:
        return {"replicationConfigurationTemplateID": template.template_id, "arn": template.arn,
                **template.settings, "tags": dict(template.tags)}

    def op_CreateReplicationConfigurationTemplate(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        missing = [key for key in ("stagingAreaSubnetId", "replicationServersSecurityGroupsIDs", "ebsEncryption",
                                   "bandwidthThrottling", "stagingAreaTags", "pitPolicy") if key not in call.params]
        if missing:
            raise _validation(f"missing required members: {', '.join(missing)}", missing[0])
        settings = self._template_settings(call, TEMPLATE_DEFAULTS)
        template = ReplicationTemplate(self.engine.new_id("rct"), call.region, settings,
                                       dict(call.params.get("tags") or {}), self.now())
        self.engine.state.templates[template.template_id] = template
        self.engine.emit("DrsReplicationTemplateCreated", region=call.region, resource=template.arn)
        return self._template_view(template)

    def _template(self, call: Call) -> ReplicationTemplate:
        template_id = call.params.get("replicationConfigurationTemplateID", "")
        found = self.engine.state.templates.get(template_id)
        if found is None or found.region != call.region:
            raise _not_found("replication configuration template", template_id)
        return found

    def op_UpdateReplicationConfigurationTemplate(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        template = self._template(call)
        template.settings = self._template_settings(call, template.settings)
        return self._template_view(template)

    def op_DeleteReplicationConfigurationTemplate(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        template = self._template(call)
        del self.engine.state.templates[template.template_id]
        return {}

    def op_DescribeReplicationConfigurationTemplates(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        wanted = set(call.params.get("replicationConfigurationTemplateIDs") or ())
        found = sorted((t for t in self.engine.state.templates.values()
                        if t.region == call.region and (not wanted or t.template_id in wanted)),
                       key=lambda t: t.created)
        if wanted and not found:
            raise _not_found("replication configuration template", ", ".join(sorted(wanted)))
        return self._page([self._template_view(t) for t in found], call.params)

    # -- source servers ------------------------------------------------------------------------------------

    def server_view(self, server: SourceServer) -> dict[str, Any]:
        engine, now = self.engine, self.now()
        moment = server.seen_until if server.seen_until is not None else now
        info: dict[str, Any] = {"dataReplicationState": server.state, "stagingAvailabilityZone": server.staging_az,
                                "replicatedDisks": self._disks_view(server, moment)}
        if server.state == INITIATING or (server.state == STALLED and server.stalled_from == INITIATING):
            info["dataReplicationInitiation"] = {
                "startDateTime": iso(server.initiation_started if server.initiation_started is not None else now),
                "steps": [{"name": phase.name, "status": _step_status(phase.start, phase.end, moment)}
                          for phase in server.phases]}
        replicating = server.state in (CONTINUOUS, BACKLOG) or (
            server.state == STALLED and server.stalled_from in (CONTINUOUS, BACKLOG))
        if replicating:
            info["lagDuration"] = duration(now - engine.data_moment(server, now))
        phase = server.phase_at(now)
        if server.state in (INITIAL_SYNC, BACKLOG) and phase is not None and phase.end is not None:
            info["etaDateTime"] = iso(phase.end)
        if server.error:
            info["dataReplicationError"] = {"error": server.error}
        life: dict[str, Any] = {"addedToServiceDateTime": iso(server.added),
                                "lastSeenByServiceDateTime": iso(moment)}
        if server.first_byte is not None:
            life["firstByteDateTime"] = iso(server.first_byte)
            life["elapsedReplicationDuration"] = duration(moment - server.first_byte)
        if server.last_launch:
            launch = server.last_launch
            life["lastLaunch"] = {"initiated": {"apiCallDateTime": iso(launch["api_time"]), "jobID": launch["job_id"],
                                                "type": launch["type"]}, "status": launch["status"]}
        view: dict[str, Any] = {
            "sourceServerID": server.server_id, "arn": server.arn, "tags": dict(server.tags),
            "lastLaunchResult": server.last_launch_result, "dataReplicationInfo": info, "lifeCycle": life,
            "sourceProperties": {
                "lastUpdatedDateTime": iso(server.added), "recommendedInstanceType": server.instance_type,
                "identificationHints": {"hostname": server.hostname, "fqdn": server.hostname,
                                        "awsInstanceID": server.instance_id},
                "disks": [{"deviceName": d.device_name, "bytes": d.total_bytes} for d in server.disks],
                "cpus": [{"cores": server.cpus, "modelName": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"}],
                "ramBytes": server.ram_bytes, "os": {"fullString": "Amazon Linux 2023"},
                "supportsNitroInstances": True, "architecture": "x86_64"},
            "stagingArea": {"status": "NOT_EXTENDED"},
            "sourceCloudProperties": {"originAccountID": config.ACCOUNT_ID, "originRegion": server.origin_region,
                                      "originAvailabilityZone": server.origin_az},
            "replicationDirection": server.direction, "agentVersion": AGENT_VERSION,
        }
        if server.recovery_instance_id:
            view["recoveryInstanceId"] = server.recovery_instance_id
        if server.reversed_arn:
            view["reversedDirectionSourceServerArn"] = server.reversed_arn
        return view

    def _disks_view(self, server: SourceServer, moment: float) -> list[dict[str, Any]]:
        state = server.stalled_from if server.state == STALLED else server.state
        fraction = 0.0
        if state == INITIAL_SYNC and server.phases:
            phase = server.phases[0]
            fraction = progress(phase.start, phase.end or phase.start, moment) / 100.0
        elif state not in (INITIATING, STOPPED, DISCONNECTED, None):
            fraction = 1.0
        return [{"deviceName": d.device_name, "totalStorageBytes": d.total_bytes,
                 "replicatedStorageBytes": int(d.total_bytes * fraction), "rescannedStorageBytes": 0,
                 "backloggedStorageBytes": 0, "volumeStatus": "REGULAR"} for d in server.disks]

    def _servers(self, region: str) -> list[SourceServer]:
        return sorted((s for s in self.engine.state.servers.values() if s.region == region and not s.deleted),
                      key=lambda s: s.added)

    def op_DescribeSourceServers(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        filters = call.params.get("filters") or {}
        ids = set(filters.get("sourceServerIDs") or ())
        hardware = filters.get("hardwareId")
        found = [s for s in self._servers(call.region) if (not ids or s.server_id in ids)
                 and (not hardware or hardware in (s.instance_id, s.hostname))]
        return self._page([self.server_view(s) for s in found], call.params)

    def op_GetReplicationConfiguration(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        server = self._server(call)
        return {"sourceServerID": server.server_id, **server.replication}

    def op_UpdateReplicationConfiguration(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        server = self._server(call)
        settings = self._template_settings(call, {k: v for k, v in server.replication.items()
                                                  if k not in ("name", "replicatedDisks")})
        disks = call.params.get("replicatedDisks")
        if disks is not None:
            known = {d.device_name for d in server.disks}
            unknown = sorted({d.get("deviceName") for d in disks} - known)
            if unknown:
                raise _validation(f"source server {server.server_id} has no disk {', '.join(map(str, unknown))}; "
                                  f"its disks are {', '.join(sorted(known))}", "replicatedDisks")
        throttle = float(server.replication.get("bandwidthThrottling") or 0)
        server.replication.update(settings)
        if "name" in call.params:
            server.replication["name"] = call.params["name"]
        if disks is not None:
            server.replication["replicatedDisks"] = [dict(d) for d in disks]
        if float(server.replication.get("bandwidthThrottling") or 0) != throttle:
            self.engine.rethrottle(server)
        self.engine.prune(server)
        return {"sourceServerID": server.server_id, **server.replication}

    def op_GetLaunchConfiguration(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        return dict(self._server(call).launch)

    def op_UpdateLaunchConfiguration(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        server = self._server(call)
        changes = {key: call.params[key] for key in LAUNCH_MEMBERS if key in call.params}
        for key, allowed in ENUMS.items():
            if key in changes and changes[key] not in allowed:
                raise _validation(f"{key} must be one of {', '.join(allowed)}, not {changes[key]!r}", key)
        busy = self.engine.active_job_of(server.server_id)
        if busy is not None:
            raise AwsError("ConflictException", f"Source server {server.server_id} is in job {busy.job_id}", 409,
                           members={"resourceId": server.server_id, "resourceType": "SOURCE_SERVER"})
        server.launch.update(changes)
        return dict(server.launch)

    def op_StartReplication(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        server = self._server(call)
        if server.state != STOPPED:
            raise AwsError("ConflictException", f"Source server {server.server_id} is {server.state}: only a stopped "
                                                "server's replication can be started", 409,
                           members={"resourceId": server.server_id, "resourceType": "SOURCE_SERVER"})
        self.engine.start_replication(server)
        return {"sourceServer": self.server_view(server)}

    def op_StopReplication(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        server = self._server(call)
        if server.state in (STOPPED, DISCONNECTED):
            raise AwsError("ConflictException", f"Source server {server.server_id} is already {server.state}", 409,
                           members={"resourceId": server.server_id, "resourceType": "SOURCE_SERVER"})
        self.engine.stop_replication(server)
        return {"sourceServer": self.server_view(server)}

    def op_DisconnectSourceServer(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        server = self._server(call)
        if server.recovery_instance_id:
            raise AwsError("ConflictException", f"Source server {server.server_id} has recovery instance "
                                                f"{server.recovery_instance_id}: terminate it first", 409,
                           members={"resourceId": server.server_id, "resourceType": "SOURCE_SERVER"})
        if server.state != DISCONNECTED:
            self.engine.disconnect(server)
        return self.server_view(server)

    def op_DeleteSourceServer(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        server = self._server(call)
        if server.state != DISCONNECTED:
            raise AwsError("ConflictException", f"Source server {server.server_id} is {server.state}: disconnect it "
                                                "(DisconnectSourceServer) before deleting it", 409,
                           members={"resourceId": server.server_id, "resourceType": "SOURCE_SERVER"})
        server.deleted = True
        self.engine.emit("DrsSourceServerDeleted", region=server.region, resource=server.arn)
        return {}

    # -- recovery ------------------------------------------------------------------------------------

    def _snapshot_view(self, snapshot: RecoverySnapshot) -> dict[str, Any]:
        return {"snapshotID": snapshot.snapshot_id, "sourceServerID": snapshot.server_id,
                "expectedTimestamp": iso(snapshot.expected), "timestamp": iso(snapshot.taken),
                "ebsSnapshots": list(snapshot.ebs_snapshot_ids)}

    def op_DescribeRecoverySnapshots(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        server = self._server(call)
        filters = call.params.get("filters") or {}
        low, high = filters.get("fromDateTime"), filters.get("toDateTime")
        found = [s for s in self.engine.state.snapshots.get(server.server_id, [])
                 if (not low or iso(s.taken) >= low) and (not high or iso(s.taken) <= high)]
        order = call.params.get("order") or "ASC"
        if order not in ("ASC", "DESC"):
            raise _validation(f"order must be ASC or DESC, not {order!r}", "order")
        found.sort(key=lambda s: s.taken, reverse=order == "DESC")
        return self._page([self._snapshot_view(s) for s in found], call.params)

    def op_StartRecovery(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        try:
            job = self.engine.start_recovery(call.region, list(call.params.get("sourceServers") or []),
                                             bool(call.params.get("isDrill")), dict(call.params.get("tags") or {}))
        except DrsError as exc:
            raise _refused(exc) from exc
        return {"job": self.job_view(job)}

    def job_view(self, job: Job) -> dict[str, Any]:
        view: dict[str, Any] = {
            "jobID": job.job_id, "arn": job.arn, "type": job.job_type, "initiatedBy": job.initiated_by,
            "creationDateTime": iso(job.created), "status": job.status, "tags": dict(job.tags),
            "participatingServers": [{k: v for k, v in (("sourceServerID", p.server_id),
                                                        ("recoveryInstanceID", p.recovery_instance_id),
                                                        ("launchStatus", p.launch_status)) if v}
                                     for p in job.servers]}
        if job.ended is not None:
            view["endDateTime"] = iso(job.ended)
        return view

    def op_DescribeJobs(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        filters = call.params.get("filters") or {}
        ids = set(filters.get("jobIDs") or ())
        low, high = filters.get("fromDate"), filters.get("toDate")
        found = [j for j in self.engine.state.jobs.values() if j.region == call.region
                 and (not ids or j.job_id in ids) and (not low or iso(j.created) >= low)
                 and (not high or iso(j.created) <= high)]
        found.sort(key=lambda j: (j.created, j.job_id), reverse=True)  # "latest date first"
        return self._page([self.job_view(j) for j in found], call.params)

    def _job(self, call: Call) -> Job:
        job_id = call.params.get("jobID", "")
        found = self.engine.state.jobs.get(job_id)
        if found is None or found.region != call.region:
            raise _not_found("job", job_id)
        return found

    def op_DescribeJobLogItems(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        job = self._job(call)
        items = [{"logDateTime": iso(item.time), "event": item.event, "eventData": dict(item.data)}
                 for item in job.log]
        return self._page(items, call.params)

    def op_DeleteJob(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        job = self._job(call)
        if job.status != "COMPLETED":
            raise AwsError("ConflictException", f"Job {job.job_id} is {job.status}: only a completed job can be "
                                                "deleted", 409,
                           members={"resourceId": job.job_id, "resourceType": "JOB"})
        del self.engine.state.jobs[job.job_id]
        return {}

    def recovery_instance_view(self, found: RecoveryInstance) -> dict[str, Any]:
        server = self.engine.state.servers.get(found.server_id)
        reversed_server = next((s for s in self.engine.state.servers.values()
                                if s.instance_id == found.instance_id and s.direction == "FAILBACK" and not s.deleted),
                               None)
        replication: dict[str, Any] = {"dataReplicationState": reversed_server.state if reversed_server
                                       else "NOT_STARTED"}
        return {
            "ec2InstanceID": found.instance_id, "ec2InstanceState": self._ec2_state(found),
            "jobID": found.job_id, "recoveryInstanceID": found.instance_id, "sourceServerID": found.server_id,
            "arn": found.arn, "tags": dict(found.tags), "isDrill": found.is_drill,
            "pointInTimeSnapshotDateTime": iso(found.point_in_time), "originEnvironment": "AWS",
            "originAvailabilityZone": found.origin_az, "agentVersion": AGENT_VERSION,
            "failback": {"state": "FAILBACK_NOT_STARTED"}, "dataReplicationInfo": replication,
            "recoveryInstanceProperties": {
                "lastUpdatedDateTime": iso(found.launched),
                "identificationHints": {"awsInstanceID": found.instance_id,
                                        "hostname": server.hostname if server else found.instance_id},
                "disks": [{"internalDeviceName": d.device_name, "bytes": d.total_bytes, "ebsVolumeID": volume}
                          for d, volume in zip(server.disks if server else [], found.volume_ids, strict=False)],
                "cpus": [{"cores": server.cpus if server else 2, "modelName": "Intel(R) Xeon(R) Platinum 8259CL"}],
                "ramBytes": server.ram_bytes if server else 0, "os": {"fullString": "Amazon Linux 2023"}},
        }

    def _ec2_state(self, found: RecoveryInstance) -> str:
        """EC2InstanceState: what EC2 says of the instance, PENDING until it has booted."""
        try:
            reservations = self.sandbox.client("ec2", found.region).describe_instances(
                InstanceIds=[found.instance_id])["Reservations"]
        except ClientError:
            return "NOT_FOUND"
        instances = [i for r in reservations for i in r["Instances"]]
        if not instances:
            return "NOT_FOUND"
        state = str(instances[0]["State"]["Name"]).upper()
        return "PENDING" if state == "RUNNING" and self.now() < found.booted else state

    def op_DescribeRecoveryInstances(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        filters = call.params.get("filters") or {}
        ids = set(filters.get("recoveryInstanceIDs") or ())
        servers = set(filters.get("sourceServerIDs") or ())
        found = sorted((r for r in self.engine.state.recovery_instances.values()
                        if r.region == call.region and not r.terminated and (not ids or r.instance_id in ids)
                        and (not servers or r.server_id in servers)), key=lambda r: r.launched)
        return self._page([self.recovery_instance_view(r) for r in found], call.params)

    def op_TerminateRecoveryInstances(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        try:
            job = self.engine.terminate_recovery_instances(call.region, list(call.params["recoveryInstanceIDs"]))
        except DrsError as exc:
            raise _refused(exc) from exc
        return {"job": self.job_view(job)}

    def op_ReverseReplication(self, call: Call) -> dict[str, Any]:
        self._ready(call)
        instance_id = call.params.get("recoveryInstanceID", "")
        try:
            server = self.engine.reverse_replication(call.region, instance_id)
        except DrsError as exc:
            raise _refused(exc) from exc
        return {"reversedDirectionSourceServerArn": server.arn}

    # -- tags ----------------------------------------------------------------------------------------

    def _tagged(self, arn: str) -> dict[str, str]:
        state = self.engine.state
        candidates: Iterable[Any] = (*state.servers.values(), *state.jobs.values(), *state.templates.values(),
                                     *state.recovery_instances.values())
        for item in candidates:
            if item.arn == arn and not getattr(item, "deleted", False) and not getattr(item, "terminated", False):
                return item.tags
        raise AwsError("ResourceNotFoundException", f"Resource {arn} not found", 404,
                       members={"resourceId": arn})

    def op_TagResource(self, call: Call) -> dict[str, Any]:
        self._tagged(call.params["resourceArn"]).update(call.params.get("tags") or {})
        return {}

    def op_UntagResource(self, call: Call) -> dict[str, Any]:
        tags = self._tagged(call.params["resourceArn"])
        for key in call.params.get("tagKeys") or ():
            tags.pop(key, None)
        return {}

    def op_ListTagsForResource(self, call: Call) -> dict[str, Any]:
        return {"tags": dict(self._tagged(call.params["resourceArn"]))}


def _step_status(start: float, end: float | None, moment: float) -> str:
    if end is not None and moment >= end:
        return "SUCCEEDED"
    if moment >= start:
        return "IN_PROGRESS"
    return "NOT_STARTED"
