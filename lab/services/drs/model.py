"""Elastic Disaster Recovery's state in the lab: replication templates, source servers with their replicated
disks and point-in-time snapshots, jobs, recovery instances. Picklable dataclasses (the engine keeps them in
the lab state); the API's shapes are made from them by lab.services.drs.views.

Names follow the DRS API (botocore's `drs` 2020-02-26 model): a source server's `state` is its
`dataReplicationInfo.dataReplicationState`, a job's `status` its JobStatus, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab import config

#: the tag Elastic Disaster Recovery puts on what it creates in the account (staging disks, snapshots,
#: recovery instances), which its service-linked role's policy conditions on
MANAGED_TAG = ("AWSElasticDisasterRecoveryManaged", "drs.amazonaws.com")
SOURCE_SERVER_TAG = "AWSElasticDisasterRecoverySourceServerID"

#: the point-in-time policy AWS applies, and the only one it accepts but for the DAY rule's retention (1-365)
#: (https://docs.aws.amazon.com/drs/latest/userguide/point-in-time.html)
DEFAULT_PIT_POLICY = (
    {"ruleID": 1, "units": "MINUTE", "interval": 10, "retentionDuration": 60, "enabled": True},
    {"ruleID": 2, "units": "HOUR", "interval": 1, "retentionDuration": 24, "enabled": True},
    {"ruleID": 3, "units": "DAY", "interval": 1, "retentionDuration": 7, "enabled": True},
)
UNIT_SECONDS = {"MINUTE": 60.0, "HOUR": 3600.0, "DAY": 86400.0}

# dataReplicationState values a source server passes through
INITIATING, INITIAL_SYNC, CREATING_SNAPSHOT = "INITIATING", "INITIAL_SYNC", "CREATING_SNAPSHOT"
CONTINUOUS, BACKLOG, STALLED, STOPPED, DISCONNECTED = "CONTINUOUS", "BACKLOG", "STALLED", "STOPPED", "DISCONNECTED"
#: states in which the replicated disks hold data to recover from (once a first snapshot exists)
REPLICATING = frozenset({CONTINUOUS, BACKLOG, STALLED})


def arn(region: str, kind: str, identifier: str) -> str:
    return f"arn:aws:drs:{region}:{config.ACCOUNT_ID}:{kind}/{identifier}"


@dataclass
class ReplicationTemplate:
    template_id: str
    region: str
    settings: dict[str, Any]  # the ReplicationConfigurationTemplate members but id, arn and tags
    tags: dict[str, str] = field(default_factory=dict)
    created: float = 0.0

    @property
    def arn(self) -> str:
        return arn(self.region, "replication-configuration-template", self.template_id)


@dataclass
class ReplicatedDisk:
    device_name: str
    total_bytes: int
    source_volume_id: str
    is_boot: bool
    staging_volume_id: str | None = None  # the staging disk in the recovery region, once created


@dataclass
class Phase:
    """A span of the source server's replication timeline: `name` (a state or an initiation step) from
    `start` to `end` (None: open-ended)."""

    name: str
    start: float
    end: float | None
    done: bool = False  # its end has been acted on


@dataclass
class SourceServer:
    server_id: str
    region: str  # the recovery region, where the source server lives in DRS
    instance_id: str  # the EC2 instance the agent runs on (its hardwareId)
    origin_region: str
    origin_az: str
    hostname: str
    instance_type: str
    cpus: int
    ram_bytes: int
    disks: list[ReplicatedDisk]
    instance_tags: dict[str, str]  # copied to recovery instances (copyTags)
    replication: dict[str, Any]  # ReplicationConfiguration members (from the template at install)
    launch: dict[str, Any]  # LaunchConfiguration members
    added: float
    staging_az: str
    state: str = INITIATING
    #: the current state's phases: initiation steps, then INITIAL_SYNC, CREATING_SNAPSHOT, BACKLOG ...
    phases: list[Phase] = field(default_factory=list)
    initiation_started: float | None = None
    first_byte: float | None = None
    continuous_since: float | None = None
    seen_until: float | None = None  # the agent was last seen then (None: it is seen now)
    stalled_from: str | None = None  # the state it was in when it stalled
    backlog_from: float | None = None  # in BACKLOG: the data moment the staging disks held when it began
    error: str | None = None  # dataReplicationError.error
    recovery_instance_id: str | None = None
    last_launch: dict[str, Any] | None = None  # {job_id, type, api_time, status}
    last_launch_result: str = "NOT_STARTED"
    tags: dict[str, str] = field(default_factory=dict)
    next_pit: float | None = None  # when the next scheduled point-in-time snapshot is due
    deleted: bool = False
    direction: str = "FAILOVER"  # FAILBACK: a recovery instance replicating back to the origin region
    reversed_arn: str | None = None  # the source server replicating the other way (ReverseReplication)

    @property
    def arn(self) -> str:
        return arn(self.region, "source-server", self.server_id)

    @property
    def total_bytes(self) -> int:
        return sum(disk.total_bytes for disk in self.disks)

    def phase_at(self, moment: float) -> Phase | None:
        for phase in self.phases:
            if phase.start <= moment and (phase.end is None or moment < phase.end):
                return phase
        return None


@dataclass
class RecoverySnapshot:
    snapshot_id: str
    server_id: str
    expected: float  # the grid time it was due (expectedTimestamp)
    taken: float  # when it was taken (timestamp)
    data_time: float  # the moment of the source's disks it holds (taken minus the lag)
    ebs_snapshot_ids: list[str]  # one per replicated disk, in the disks' order
    on_demand: bool = False


@dataclass
class JobLogItem:
    time: float
    event: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobServer:
    """A source server's part in a job (ParticipatingServer), with what the job does for it."""

    server_id: str
    snapshot_id: str | None  # the recovery snapshot asked for (None: take one on demand)
    launch_status: str = "PENDING"
    recovery_instance_id: str | None = None
    used_snapshot: str | None = None  # the point-in-time snapshot the instance is built from


@dataclass
class Job:
    job_id: str
    region: str
    job_type: str  # LAUNCH | TERMINATE
    initiated_by: str  # START_RECOVERY | START_DRILL | TERMINATE_RECOVERY_INSTANCES
    created: float
    servers: list[JobServer]
    is_drill: bool = False
    status: str = "PENDING"
    ended: float | None = None
    #: the job's remaining steps: (due time, step name), the next first
    steps: list[tuple[float, str]] = field(default_factory=list)
    log: list[JobLogItem] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return arn(self.region, "job", self.job_id)


@dataclass
class RecoveryInstance:
    instance_id: str  # the EC2 instance id, which is also its recoveryInstanceID
    region: str
    server_id: str
    job_id: str
    is_drill: bool
    point_in_time: float  # the data moment of the snapshot it was built from
    snapshot_id: str
    launched: float
    booted: float  # EC2 shows it running from launch; DRS reports PENDING until it has booted
    origin_az: str
    volume_ids: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    terminated: bool = False

    @property
    def arn(self) -> str:
        return arn(self.region, "recovery-instance", self.instance_id)


@dataclass
class DrsState:
    initialized: set[str] = field(default_factory=set)
    templates: dict[str, ReplicationTemplate] = field(default_factory=dict)
    servers: dict[str, SourceServer] = field(default_factory=dict)
    snapshots: dict[str, list[RecoverySnapshot]] = field(default_factory=dict)  # server id -> oldest first
    jobs: dict[str, Job] = field(default_factory=dict)
    recovery_instances: dict[str, RecoveryInstance] = field(default_factory=dict)
    regions_down: set[str] = field(default_factory=set)
    counter: int = 0
