"""Outage scenarios: a whole region, one Availability Zone, or replication between regions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lab import config
from lab.services.faults.scenarios import Param, Scenario

if TYPE_CHECKING:
    from lab.services.faults.effects import Effects


class RegionOutage(Scenario):
    name = "region-outage"
    title = "Region outage"
    description = ("Every call to the region's services fails with AWS-style 503 errors (global services such as "
                   "IAM and Route 53 stay up), the workload's writes there fail, its databases are unreachable, "
                   "Route 53 health checks of its endpoints fail, and replication to and from it pauses.")
    disruption_type = "Region"
    params = (
        Param("region", "region", config.PRIMARY_REGION, "the region that goes down"),
        Param("duration", "duration", None, "how long it stays down (empty: until `lab recover`)"),
    )
    duration_param = "duration"

    def inject(self, effects: Effects, params: Mapping[str, Any]) -> dict[str, Any]:
        region = params["region"]
        effects.region_down(region)  # the RDS data plane takes its databases there offline too
        paused = effects.pause_replication_touching(region)
        databases = _db_instances(effects, region)
        return {"region": region, "replication_paused": paused.detail["keys"],
                "databases_unavailable": [db["DBInstanceIdentifier"] for db in databases]}


class AzPowerInterruption(Scenario):
    name = "az-power-interruption"
    title = "AZ power interruption"
    description = ("As FIS's 'AZ Availability: Power Interruption' scenario: the zone's EC2 instances stop and its "
                   "EBS volumes stop doing I/O; a Multi-AZ RDS instance whose primary is there fails over to its "
                   "standby, a single-AZ one stays unreachable until the zone comes back. Instances start again "
                   "when the interruption ends.")
    disruption_type = "AZ"
    params = (
        Param("az", "str", f"{config.PRIMARY_REGION}a", "the Availability Zone that loses power"),
        Param("duration", "duration", 1800.0, "how long the power is out (FIS's scenario: 30m)"),
    )
    duration_param = "duration"

    def inject(self, effects: Effects, params: Mapping[str, Any]) -> dict[str, Any]:
        az = params["az"]
        region = az[:-1]
        if region not in config.REGIONS or not az[-1].isalpha():
            raise ValueError(f"az must be an Availability Zone of {' or '.join(config.REGIONS)} "
                             f"(e.g. {config.PRIMARY_REGION}a), not {az!r}")
        ec2 = effects.client("ec2", region)
        instances = sorted(
            instance["InstanceId"]
            for reservation in ec2.describe_instances(Filters=[
                {"Name": "availability-zone", "Values": [az]},
                {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
            for instance in reservation["Instances"])
        volumes = sorted(volume["VolumeId"] for volume in ec2.describe_volumes(
            Filters=[{"Name": "availability-zone", "Values": [az]}])["Volumes"])
        effects.stop_instances(region, instances, restart=True)
        if volumes:
            effects.pause_volume_io(region, volumes)
        failed_over, unavailable = [], []
        for db in _db_instances(effects, region):
            if db.get("AvailabilityZone") != az:
                continue
            name = db["DBInstanceIdentifier"]
            if db.get("MultiAZ"):
                effects.reboot_db(region, name, force_failover=True)
                failed_over.append(name)
            else:
                effects.db_unavailable(region, name)
                unavailable.append(name)
        return {"az": az, "instances_stopped": instances, "volumes_io_paused": volumes,
                "databases_failed_over": failed_over, "databases_unavailable": unavailable}


class ReplicationPause(Scenario):
    name = "replication-pause"
    title = "Replication paused"
    description = ("S3 replication and/or DynamoDB global-table replication stop for a while (as FIS's "
                   "aws:s3:bucket-pause-replication and aws:dynamodb:global-table-pause-replication); what is "
                   "written meanwhile waits, and replicates when the pause ends.")
    disruption_type = "Region"
    params = (
        Param("services", "choice", "s3,dynamodb", "what pauses", choices=("s3,dynamodb", "s3", "dynamodb")),
        Param("bucket", "str", "", "only this source bucket (empty: every bucket)"),
        Param("table", "str", "", "only this table (empty: every global table)"),
        Param("duration", "duration", 3600.0, "how long replication stays paused (empty: until `lab recover`)"),
    )
    duration_param = "duration"

    def inject(self, effects: Effects, params: Mapping[str, Any]) -> dict[str, Any]:
        services = params["services"].split(",")
        paused = []
        if "s3" in services:
            effects.pause_replication("s3", params["bucket"] or None)
            paused.append(f"s3:{params['bucket'] or '*'}")
        if "dynamodb" in services:
            effects.pause_replication("dynamodb", params["table"] or None)
            paused.append(f"dynamodb:{params['table'] or '*'}")
        return {"paused": paused}


def _db_instances(effects: Effects, region: str) -> list[dict[str, Any]]:
    rds = effects.client("rds", region)
    return [db for page in rds.get_paginator("describe_db_instances").paginate() for db in page["DBInstances"]]
