"""AWS Elastic Disaster Recovery in the inventory (per region, the recovery region's view): the source
servers that replicate into it with their replication state and progress, the jobs, the recovery instances.

Fields follow the DRS API's shapes (https://docs.aws.amazon.com/drs/latest/APIReference/): SourceServer's
dataReplicationInfo (dataReplicationState, lagDuration, etaDateTime, the initiation step IN_PROGRESS, the
replicated share of replicatedDisks' bytes), Job (status PENDING/STARTED/COMPLETED), RecoveryInstance
(ec2InstanceState, isDrill, pointInTimeSnapshotDateTime).
"""

from __future__ import annotations

import msgspec

from checks.inventory.base import Model


class SourceServer(Model):
    id: str
    region: str
    arn: str | None = None
    instance: str | None = None  # the EC2 instance the agent runs on (identificationHints.awsInstanceID)
    hostname: str | None = None
    origin_region: str | None = None
    state: str | None = None  # dataReplicationState: INITIATING, INITIAL_SYNC, ..., CONTINUOUS, STALLED
    lag: str | None = None  # lagDuration, ISO 8601
    eta: str | None = None  # etaDateTime
    error: str | None = None  # dataReplicationError.error
    initiation_step: str | None = None  # the dataReplicationInitiation step IN_PROGRESS
    replicated_percent: int | None = None  # replicatedStorageBytes / totalStorageBytes of its disks
    direction: str | None = None  # FAILOVER | FAILBACK
    recovery_instance: str | None = None
    last_launch_result: str | None = None  # NOT_STARTED | PENDING | SUCCEEDED | FAILED
    tags: dict[str, str] = msgspec.field(default_factory=dict)


class JobServer(Model):
    source_server: str | None = None
    recovery_instance: str | None = None
    launch_status: str | None = None  # PENDING | IN_PROGRESS | LAUNCHED | FAILED | TERMINATED


class Job(Model):
    id: str
    region: str
    type: str | None = None  # LAUNCH | TERMINATE | CREATE_CONVERTED_SNAPSHOT
    initiated_by: str | None = None  # START_RECOVERY | START_DRILL | ...
    status: str | None = None  # PENDING | STARTED | COMPLETED
    created: str | None = None
    ended: str | None = None
    servers: list[JobServer] = msgspec.field(default_factory=list)


class RecoveryInstance(Model):
    id: str
    region: str
    instance: str | None = None  # ec2InstanceID
    state: str | None = None  # ec2InstanceState: PENDING (booting) | RUNNING | STOPPED | ...
    source_server: str | None = None
    job: str | None = None
    drill: bool = False
    point_in_time: str | None = None
    tags: dict[str, str] = msgspec.field(default_factory=dict)


class DRS(Model):
    initialized: bool = False  # InitializeService was called in the region
    source_servers: dict[str, SourceServer] = msgspec.field(default_factory=dict)
    jobs: list[Job] = msgspec.field(default_factory=list)  # newest first
    recovery_instances: dict[str, RecoveryInstance] = msgspec.field(default_factory=dict)
