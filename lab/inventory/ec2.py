"""EC2 into the inventory (checks.inventory.ec2): instances, EBS volumes and snapshots, DLM policies."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from checks.inventory.ec2 import (
    EC2,
    Attachment,
    CrossRegionCopy,
    DlmPolicy,
    DlmSchedule,
    Instance,
    Snapshot,
    Volume,
)
from lab.inventory.convert import by_key, iso, tag_dict

if TYPE_CHECKING:
    from lab.inventory.collector import Collector

# "[Copied snap-1 from us-east-1]" (AWS), "Copy of snap-1 (...)": where a copy came from, if its description says
_COPIED_FROM = re.compile(r"cop(?:y|ied)\b\D*?(snap-[0-9a-f]+)(?:.*?\bfrom\s+([a-z]{2}(?:-[a-z]+)+-\d))?",
                          re.IGNORECASE)
_LIVE = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]


def collect(c: Collector, region: str) -> EC2:
    ec2 = c.client("ec2", region)
    account = c.source.account_id
    instances = {}
    for page in ec2.get_paginator("describe_instances").paginate(Filters=_LIVE):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                instance_id = instance["InstanceId"]
                instances[instance_id] = Instance(
                    id=instance_id, region=region, arn=f"arn:aws:ec2:{region}:{account}:instance/{instance_id}",
                    state=(instance.get("State") or {}).get("Name"),
                    az=(instance.get("Placement") or {}).get("AvailabilityZone"), type=instance.get("InstanceType"),
                    tags=tag_dict(instance.get("Tags")),
                    volumes=sorted((m.get("Ebs") or {}).get("VolumeId", "")
                                   for m in instance.get("BlockDeviceMappings", [])))
    volumes = {}
    for page in ec2.get_paginator("describe_volumes").paginate():
        for volume in page.get("Volumes", []):
            volume_id = volume["VolumeId"]
            volumes[volume_id] = Volume(
                id=volume_id, region=region, arn=f"arn:aws:ec2:{region}:{account}:volume/{volume_id}",
                az=volume.get("AvailabilityZone"), state=volume.get("State"), size=volume.get("Size"),
                type=volume.get("VolumeType"), encrypted=bool(volume.get("Encrypted")),
                snapshot_id=volume.get("SnapshotId") or None, created=iso(volume.get("CreateTime")),
                tags=tag_dict(volume.get("Tags")),
                attachments=[Attachment(instance=a.get("InstanceId"), device=a.get("Device"), state=a.get("State"))
                             for a in volume.get("Attachments", [])])
    snapshots = {}
    for snap in c.source.ebs_snapshots(region):
        copied = _COPIED_FROM.search(snap.description or "")
        snapshots[snap.snapshot_id] = Snapshot(
            id=snap.snapshot_id, region=region, volume=snap.volume_id, state=snap.state, progress=snap.progress,
            created=iso(snap.start_time), encrypted=snap.encrypted, description=snap.description,
            tags=tag_dict(snap.tags), size=snap.volume_size, source_snapshot=copied.group(1) if copied else None,
            source_region=copied.group(2) if copied else None)
    policies = c.attempt("ec2", region, "dlm policies", lambda: dlm_policies(c, region), {})
    return EC2(instances=by_key(instances.items()), volumes=by_key(volumes.items()),
               snapshots=by_key(snapshots.items()), dlm_policies=policies)


def dlm_policies(c: Collector, region: str) -> dict[str, DlmPolicy]:
    dlm = c.client("dlm", region)
    policies = {}
    for summary in dlm.get_lifecycle_policies().get("Policies", []):
        policy = dlm.get_lifecycle_policy(PolicyId=summary["PolicyId"])["Policy"]
        details = policy.get("PolicyDetails") or {}
        policies[policy["PolicyId"]] = DlmPolicy(
            id=policy["PolicyId"], region=region, arn=policy.get("PolicyArn"), description=policy.get("Description"),
            state=policy.get("State"), execution_role=policy.get("ExecutionRoleArn"),
            policy_type=details.get("PolicyType"), resource_types=details.get("ResourceTypes", []),
            target_tags=tag_dict(details.get("TargetTags")),
            schedules=[schedule(entry) for entry in details.get("Schedules", [])])
    return by_key(policies.items())


def schedule(entry: dict[str, Any]) -> DlmSchedule:
    create, retain = entry.get("CreateRule") or {}, entry.get("RetainRule") or {}
    return DlmSchedule(
        name=entry.get("Name"), interval=create.get("Interval"), interval_unit=create.get("IntervalUnit"),
        cron=create.get("CronExpression"), times=create.get("Times"), retain_count=retain.get("Count"),
        retain_interval=retain.get("Interval"), retain_interval_unit=retain.get("IntervalUnit"),
        copy_tags=entry.get("CopyTags"),
        cross_region_copy=[CrossRegionCopy(target_region=rule.get("TargetRegion") or rule.get("Target"),
                                           encrypted=rule.get("Encrypted"),
                                           retain_interval=(rule.get("RetainRule") or {}).get("Interval"),
                                           retain_interval_unit=(rule.get("RetainRule") or {}).get("IntervalUnit"))
                           for rule in entry.get("CrossRegionCopyRules", [])])
