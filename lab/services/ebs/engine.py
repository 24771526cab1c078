"""EBS: snapshots, copies, AMIs and volumes on the sim clock; scheduled snapshots through AWS Backup and Data
Lifecycle Manager policies.

How long snapshots, copies, AMIs, volumes and fast snapshot restores take, and what they hold, is the timing
side of this engine (lab.services.ebs.timing, with the volume content model of lab.services.ebs.blocks); the
EC2 and EBS direct APIs of this package show it.

For AWS Backup this engine holds the recovery data of EBS volumes (an EBS snapshot, as on AWS) and EC2
instances (an AMI): it takes them, copies them to another region, restores a new volume or instance from
them, and deletes them when the recovery point goes.

moto has no DLM backend, so the lab owns the `dlm` service: lifecycle policies (PolicyDetails with
TargetTags and up to four Schedules: CreateRule by Interval/Times or CronExpression, RetainRule by Count or
Interval, CrossRegionCopyRules with their own RetainRule) run on the sim clock, snapshotting the targeted
volumes through the EC2 API, tagging the snapshots as DLM does, copying them to the target region and
deleting the ones the retention rule no longer keeps. As on AWS, a schedule's cross-Region copies start when
its snapshot is `completed` (CopySnapshot refuses a `pending` source).
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.data import DataAccess
from lab.kernel.engine import Engine
from lab.kernel.port import Sandbox
from lab.services.backup.resources import parse_arn
from lab.services.backup.schedule import Schedule
from lab.services.ebs.timing import REACHED, EbsTiming, ImageRecord, InstanceChange, SnapshotRecord, Timing, key
from lab.sim.clock import iso

POLICY_TAG = "aws:dlm:lifecycle-policy-id"
SCHEDULE_TAG = "aws:dlm:lifecycle-schedule-name"
BACKUP_DESCRIPTION = "This snapshot is created by the AWS Backup service."
INTERVAL_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)
RETAIN_UNIT_SECONDS = {"DAYS": 86400.0, "WEEKS": 7 * 86400.0, "MONTHS": 30 * 86400.0, "YEARS": 365 * 86400.0}
MAX_STEPS_PER_RUN = 10_000


# -- AWS Backup recovery data ----------------------------------------------------------------------


@dataclass(frozen=True)
class VolumeBackup:
    """An EBS recovery point: the snapshot, and the volume it was taken from."""

    snapshot_id: str
    region: str
    volume_id: str
    size_gib: int
    volume_type: str | None
    availability_zone: str
    encrypted: bool
    kms_key_id: str | None
    iops: int | None = None
    throughput: int | None = None


@dataclass(frozen=True)
class InstanceBackup:
    """An EC2 recovery point: the AMI, and the instance it was made from."""

    image_id: str
    region: str
    instance_id: str
    instance_type: str
    availability_zone: str
    # what GetRecoveryPointRestoreMetadata returns for it (AWS Backup: the instance's launch settings)
    settings: tuple[tuple[str, str], ...] = ()


# -- DLM state -------------------------------------------------------------------------------------


@dataclass
class Policy:
    policy_id: str
    region: str
    description: str
    state: str  # ENABLED | DISABLED
    execution_role_arn: str
    details: dict[str, Any]  # PolicyDetails, defaults filled in
    created: float
    modified: float
    version: int = 1  # bumped by every update: stale timeline entries are skipped
    status_message: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:dlm:{self.region}:{config.ACCOUNT_ID}:policy/{self.policy_id}"


@dataclass
class MadeSnapshot:
    snapshot_id: str
    created: float


@dataclass
class EbsState:
    policies: dict[str, Policy] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # policy ARN -> tags
    # "policy|schedule|volume|region" -> the snapshots a schedule made (or copied there), oldest first
    made: dict[str, list[MadeSnapshot]] = field(default_factory=dict)
    timeline: list[tuple[float, int, str]] = field(default_factory=list)  # heap of (due, seq, "policy|index|version")
    counter: int = 0
    snapshots_created: int = 0
    snapshots_copied: int = 0
    snapshots_deleted: int = 0
    timing: Timing = field(default_factory=Timing)
    # "region/snap-..." -> the cross-Region copies DLM makes once that snapshot is completed: each
    # {"policy", "schedule" (its dict), "rule" (the copy rule), "volume", "tags", "at" (the schedule's run)}
    copies_waiting: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A state saved before the timing fields existed gets them empty."""
        self.__dict__.update(timing=Timing(), copies_waiting={})
        self.__dict__.update(state)


class Ebs(Engine, EbsTiming):
    name = "ebs"
    service_principal = "ebs.amazonaws.com"  # CloudTrail shows its calls as made by this AWS service
    order = 55

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)

    def initial_state(self) -> EbsState:
        return EbsState()

    @property
    def data(self) -> DataAccess:
        return self.sandbox.data

    # -- AWS Backup's contract --------------------------------------------------------------------

    def backup_resource_types(self) -> set[str]:
        return {"EBS", "EC2"}

    def backup_resource(self, arn: str) -> VolumeBackup | InstanceBackup:
        """AWS Backup takes an EBS snapshot of a volume (`pending` for the time its data takes), or an AMI of an
        instance (snapshots of its volumes, then the image)."""
        parsed = parse_arn(arn)
        if parsed is None or parsed.resource_type not in ("EBS", "EC2") or parsed.region is None:
            raise ValueError(f"{arn} is not an EBS volume or EC2 instance ARN")
        region = parsed.region
        if parsed.resource_type == "EBS":
            try:
                taken = self.data.create_snapshot(region, parsed.resource_id, BACKUP_DESCRIPTION,
                                                  {"aws:backup:source-resource": parsed.resource_id})
            except LookupError as exc:
                raise ValueError(f"EBS volume {parsed.resource_id} does not exist in {region}") from exc
            self.snapshot_taken(region, taken["SnapshotId"], parsed.resource_id)
            return VolumeBackup(taken["SnapshotId"], region, parsed.resource_id, int(taken["VolumeSize"]),
                                taken.get("VolumeType"), taken["AvailabilityZone"], bool(taken["Encrypted"]),
                                taken.get("KmsKeyId"), taken.get("Iops"), taken.get("Throughput"))
        instance = self._instance(region, parsed.resource_id)
        stamp = iso(self.now()).replace(":", "-")
        try:
            image = self.data.create_image(region, parsed.resource_id, f"AwsBackup_{parsed.resource_id}_{stamp}",
                                           {"aws:backup:source-resource": parsed.resource_id})
        except LookupError as exc:
            raise ValueError(f"EC2 instance {parsed.resource_id} does not exist in {region}") from exc
        self.image_of_instance(region, image, instance, lambda volume_id, description: self.data.create_snapshot(
            region, volume_id, description, {"aws:backup:source-resource": parsed.resource_id})["SnapshotId"])
        return InstanceBackup(image, region, parsed.resource_id, instance["InstanceType"],
                              instance["Placement"]["AvailabilityZone"], instance_settings(instance))

    def image_of_instance(self, region: str, image_id: str, instance: dict[str, Any],
                          snapshot: Any) -> None:
        """Record an AMI just made of `instance`: a snapshot of each of its EBS volumes (taken by
        `snapshot(volume_id, description) -> snapshot id`) first, the image `pending` until they complete."""
        records: list[SnapshotRecord] = []
        mappings: list[dict[str, Any]] = []
        attached = [m for m in instance.get("BlockDeviceMappings", []) if (m.get("Ebs") or {}).get("VolumeId")]
        described = {v["VolumeId"]: v for v in self.sandbox.client("ec2", region).describe_volumes(
            VolumeIds=[m["Ebs"]["VolumeId"] for m in attached])["Volumes"]} if attached else {}
        for mapping in attached:
            volume_id = mapping["Ebs"]["VolumeId"]
            volume = self.volume_record(region, volume_id)
            if volume is None:
                continue
            snapshot_id = snapshot(volume_id, f"Created by CreateImage({instance['InstanceId']}) for {image_id}")
            record = self.snapshot_record(region, snapshot_id) or self.snapshot_taken(region, snapshot_id, volume_id)
            if record is None:
                continue
            records.append(record)
            shown = described.get(volume_id, {})  # (the volume's type and encryption, as its snapshot has them)
            mappings.append({"DeviceName": mapping.get("DeviceName"), "Ebs": {
                "SnapshotId": snapshot_id, "VolumeSize": volume.size_gib, "DeleteOnTermination":
                    bool(mapping["Ebs"].get("DeleteOnTermination")), "VolumeType": shown.get("VolumeType", "gp3"),
                "Encrypted": bool(shown.get("Encrypted"))}})
        self.image_created(region, image_id, records, mappings or None)

    def image_copied(self, region: str, image_id: str, source_region: str, source_image_id: str, *,
                     root_device: str | None = None, done: bool = False) -> ImageRecord:
        """Record an AMI just copied from another (CopyImage, or an AWS Backup copy job): each of the source's
        EBS snapshots is copied into `region` and the copy keeps the source's block device mappings with the
        copied snapshots (EC2 User Guide, Copy an AMI). `pending` until the slowest copy completes, plus AMI
        creation (`done`: a copy job has spent that time)."""
        now = self.now()
        source = self.timing.images.get(key(source_region, source_image_id))
        mappings: list[dict[str, Any]] = []
        copies: list[SnapshotRecord] = []
        for mapping in (source.mappings if source is not None else None) or []:
            ebs = mapping.get("Ebs") or {}
            snapshot = self.snapshot_record(source_region, ebs.get("SnapshotId") or "")
            if snapshot is None:
                mappings.append(dict(mapping))
                continue
            copied = self.data.copy_snapshot(
                region, source_region, snapshot.snapshot_id,
                f"Copied for DestinationAmi {image_id} from SourceAmi {source_image_id} for SourceSnapshot "
                f"{snapshot.snapshot_id}. Task created on {iso(now)[:10]}.", {})
            copies.append(self.copy_taken(region, copied, snapshot, done=done))
            mappings.append({**mapping, "Ebs": {**ebs, "SnapshotId": copied}})
        slowest = max((record.ends - now for record in copies),
                      default=self.durations.ebs_copy(0, source_region != region))
        image = self.image_registered(region, image_id, [record.snapshot_id for record in copies],
                                      ends=now if done else now + self.durations.ami_create(max(slowest, 0.0)))
        image.mappings = mappings or None
        image.root_device = root_device or (source.root_device if source is not None else None)
        image.source = (source_image_id, source_region)
        return image

    def _instance(self, region: str, instance_id: str) -> dict[str, Any]:
        try:
            reservations = self.sandbox.client("ec2", region).describe_instances(InstanceIds=[instance_id])
        except ClientError as exc:
            raise ValueError(f"EC2 instance {instance_id} does not exist in {region}") from exc
        instances = [i for r in reservations["Reservations"] for i in r["Instances"]]
        if not instances or instances[0]["State"]["Name"] == "terminated":
            raise ValueError(f"EC2 instance {instance_id} does not exist in {region}")
        return instances[0]

    def backup_duration(self, data: VolumeBackup | InstanceBackup) -> float:
        """Seconds until the recovery data is complete: its snapshot, or its AMI."""
        now = self.now()
        if isinstance(data, VolumeBackup):
            record = self.snapshot_record(data.region, data.snapshot_id)
        else:
            record = self.timing.images.get(key(data.region, data.image_id))
        return max(record.ends - now, 0.0) if record is not None else self.durations.ebs_snapshot(0)

    def copy_duration(self, data: VolumeBackup | InstanceBackup, region: str) -> float:
        """An EBS snapshot copy's time into `region` (an AMI: the copy of each of its snapshots)."""
        if isinstance(data, VolumeBackup):
            source = self.snapshot_record(data.region, data.snapshot_id)
            return self.copy_seconds(source, region) if source else self.durations.ebs_copy(
                data.size_gib, data.region != region)
        image = self.timing.images.get(key(data.region, data.image_id))
        sources = [self.snapshot_record(data.region, s) for s in (image.snapshots if image else [])]
        return max((self.copy_seconds(s, region) for s in sources if s is not None),
                   default=self.durations.ebs_copy(0, data.region != region))

    def restore_duration(self, data: VolumeBackup | InstanceBackup, metadata: dict[str, str]) -> float:
        """A volume is `creating` for ebs.volume.create; an instance launches (ec2.launch)."""
        if isinstance(data, VolumeBackup):
            return self.durations.ebs_volume_create()
        return self.durations.ec2_launch()

    def copy_backup(self, data: VolumeBackup | InstanceBackup, region: str) -> VolumeBackup | InstanceBackup:
        """The copy job has spent the copy's time: the copy is complete when it is made."""
        if isinstance(data, VolumeBackup):
            copied = self.data.copy_snapshot(region, data.region, data.snapshot_id,
                                             f"Copy of {data.snapshot_id} from {data.region} by AWS Backup",
                                             {"aws:backup:source-resource": data.volume_id})
            source = self.snapshot_record(data.region, data.snapshot_id)
            if source is not None:
                self.copy_taken(region, copied, source, done=True)
            return replace(data, snapshot_id=copied, region=region, availability_zone=f"{region}a")
        image = self.data.copy_image(region, data.region, data.image_id, f"Copy of {data.image_id}")
        self.image_copied(region, image, data.region, data.image_id, done=True)
        return replace(data, image_id=image, region=region, availability_zone=f"{region}a")

    def delete_backup(self, data: VolumeBackup | InstanceBackup) -> None:
        if isinstance(data, VolumeBackup):
            self.data.delete_snapshot(data.region, data.snapshot_id)
            self.snapshot_deleted(data.region, data.snapshot_id)
        else:
            self.data.deregister_image(data.region, data.image_id)
            self.image_deregistered(data.region, data.image_id)

    def backup_recovery_point_arn(self, data: VolumeBackup | InstanceBackup) -> str:
        if isinstance(data, VolumeBackup):
            return f"arn:aws:ec2:{data.region}::snapshot/{data.snapshot_id}"
        return f"arn:aws:ec2:{data.region}::image/{data.image_id}"

    def backup_size(self, data: VolumeBackup | InstanceBackup) -> int | None:
        return data.size_gib * 2**30 if isinstance(data, VolumeBackup) else None

    def backup_restore_metadata(self, data: VolumeBackup | InstanceBackup) -> dict[str, str]:
        """The keys AWS Backup returns for the type (AWS Backup Developer Guide: restore testing inferred
        metadata, for EBS; the instance's launch settings for EC2, as GetRecoveryPointRestoreMetadata shows
        them); StartRestoreJob takes them back."""
        if isinstance(data, VolumeBackup):
            metadata = {"availabilityZone": data.availability_zone, "volumeSize": str(data.size_gib),
                        "volumeType": data.volume_type or "gp2", "encrypted": str(data.encrypted).lower()}
            if data.kms_key_id:
                metadata["kmsKeyId"] = data.kms_key_id
            if data.iops:
                metadata["iops"] = str(data.iops)
            if data.throughput:
                metadata["throughput"] = str(data.throughput)
            return metadata
        metadata = dict(data.settings)
        metadata.update(InstanceType=data.instance_type,
                        Placement=json.dumps({"AvailabilityZone": data.availability_zone}))
        return metadata

    def restore_resource(self, data: VolumeBackup | InstanceBackup, metadata: dict[str, str], region: str) -> str:
        if data.region != region:
            raise ValueError(f"the recovery data is in {data.region}, not {region}; copy it there first")
        ec2 = self.sandbox.client("ec2", region)
        if isinstance(data, VolumeBackup):
            zone = metadata.get("availabilityZone") or data.availability_zone
            if not zone.startswith(region):
                raise ValueError(f"availabilityZone {zone} is not in {region}")
            request: dict[str, Any] = {"AvailabilityZone": zone, "SnapshotId": data.snapshot_id,
                                       "VolumeType": metadata.get("volumeType") or data.volume_type or "gp2",
                                       "Size": int(metadata.get("volumeSize") or data.size_gib)}
            if request["Size"] < data.size_gib:
                raise ValueError(f"volumeSize {request['Size']} is smaller than the snapshot's {data.size_gib} GiB")
            if metadata.get("iops"):
                request["Iops"] = int(metadata["iops"])
            if str(metadata.get("encrypted", "")).lower() == "true" or data.encrypted:
                request["Encrypted"] = True
                if metadata.get("kmsKeyId"):
                    request["KmsKeyId"] = metadata["kmsKeyId"]
            try:
                volume = ec2.create_volume(**request)
            except ClientError as exc:
                raise ValueError(f"creating the volume failed: {exc.response['Error']['Message']}") from exc
            return f"arn:aws:ec2:{region}:{config.ACCOUNT_ID}:volume/{volume['VolumeId']}"
        placement = _json_setting(metadata, "Placement") or {"AvailabilityZone": data.availability_zone}
        request = {"ImageId": data.image_id, "InstanceType": metadata.get("InstanceType") or data.instance_type,
                   "MinCount": 1, "MaxCount": 1, "Placement": {k: v for k, v in placement.items()
                                                               if k in ("AvailabilityZone", "Tenancy")}}
        if metadata.get("SubnetId"):
            request["SubnetId"] = metadata["SubnetId"]
        groups = _json_setting(metadata, "SecurityGroupIds")
        if groups:
            request["SecurityGroupIds"] = list(groups)
        if metadata.get("KeyName"):
            request["KeyName"] = metadata["KeyName"]
        try:
            instance = ec2.run_instances(**request)["Instances"][0]
        except ClientError as exc:
            raise ValueError(f"launching the instance failed: {exc.response['Error']['Message']}") from exc
        # `pending` while it launches from the backup's AMI (ec2.launch, longer than a plain RunInstances'
        # ec2.run that the call itself recorded); the restore job completes as it turns `running`
        # (restore_duration above)
        self.instance_changing(region, instance["InstanceId"], "pending", self.now() + self.durations.ec2_launch(),
                               first=True)
        return f"arn:aws:ec2:{region}:{config.ACCOUNT_ID}:instance/{instance['InstanceId']}"

    # -- instances between states ------------------------------------------------------------------

    def instance_changing(self, region: str, instance_id: str, state: str, until: float, *,
                          first: bool = False) -> None:
        """The instance is `pending` (launched or started; `first`: launched, it has never run), `stopping` or
        `shutting-down` until sim time `until`; the backend has it `running`, `stopped` or `terminated` already
        ("pending" is the first state, "stopping" the one before "stopped", "shutting-down" the one before
        "terminated": EC2 User Guide, Instance state changes)."""
        now = self.now()
        changes = self.timing.instances
        for ended in [name for name, change in changes.items() if change.until <= now]:
            del changes[ended]
        changes[key(region, instance_id)] = InstanceChange(state, until, first)

    def never_ran(self, region: str, instance_id: str, now: float) -> bool:
        """Whether the instance is still `pending` from its launch: it has never been `running`."""
        change = self.timing.instances.get(key(region, instance_id))
        return change is not None and change.first and now < change.until

    def changing_states(self, region: str, now: float) -> dict[str, tuple[str, str]]:
        """Instance id -> (the state the backend has it in, the state AWS shows at `now`) for the instances in
        `region` still `pending`, `stopping` or `shutting-down`."""
        prefix = f"{region}/"
        return {name[len(prefix):]: (REACHED[change.state], change.state)
                for name, change in self.timing.instances.items() if now < change.until and name.startswith(prefix)}

    # -- DLM on the clock -------------------------------------------------------------------------

    @staticmethod
    def _schedule_of(policy: Policy, index: int) -> Schedule:
        rule = policy.details["Schedules"][index]["CreateRule"]
        if rule.get("CronExpression"):
            return Schedule(rule["CronExpression"])
        hour, minute = (int(part) for part in rule["Times"][0].split(":"))
        hours = sorted({(hour + step) % 24 for step in range(0, 24, rule["Interval"])})
        return Schedule(f"cron({minute} {','.join(map(str, hours))} * * ? *)")

    def schedule_all(self, policy: Policy) -> None:
        for index in range(len(policy.details["Schedules"])):
            self._schedule_next(policy, index, self.now())

    def _schedule_next(self, policy: Policy, index: int, after: float) -> None:
        due = self._schedule_of(policy, index).next_after(after, policy.created)
        if due is not None:
            state = self.state
            state.counter += 1
            heapq.heappush(state.timeline, (due, state.counter, f"{policy.policy_id}|{index}|{policy.version}"))

    def next_due(self) -> float | None:
        timeline = self.state.timeline
        try:
            scheduled = timeline[0][0] if timeline else None
        except IndexError:  # the ticker asks from another thread; a heap emptied meanwhile has nothing due
            scheduled = None
        timed = self.timing_next_due()
        if scheduled is None or timed is None:
            return timed if scheduled is None else scheduled
        return min(scheduled, timed)

    def run_due(self, now: float) -> None:
        self.timing_run_due(now)
        timeline = self.state.timeline
        for _ in range(MAX_STEPS_PER_RUN):
            if not timeline or timeline[0][0] > now:
                break
            due, _, key = heapq.heappop(timeline)
            policy_id, index, version = key.split("|")
            policy = self.state.policies.get(policy_id)
            if policy is None or policy.version != int(version):
                continue  # deleted or updated: the new version keeps its own schedule
            self._schedule_next(policy, int(index), due)
            if policy.state == "ENABLED":
                self._run_schedule(policy, int(index), due)

    def _targets(self, policy: Policy) -> list[tuple[str, dict[str, str]]]:
        """(volume id, volume tags) of every volume the policy targets: one with any of its TargetTags (for an
        INSTANCE policy, every volume attached to an instance with one)."""
        ec2 = self.sandbox.client("ec2", policy.region)
        found: dict[str, dict[str, str]] = {}
        for tag in policy.details["TargetTags"]:
            filters = [{"Name": f"tag:{tag['Key']}", "Values": [tag["Value"]]}]
            if policy.details["ResourceTypes"] == ["VOLUME"]:
                for page in ec2.get_paginator("describe_volumes").paginate(Filters=filters):
                    for volume in page["Volumes"]:
                        found[volume["VolumeId"]] = {t["Key"]: t["Value"] for t in volume.get("Tags", [])}
                continue
            filters.append({"Name": "instance-state-name", "Values": ["running", "stopped"]})
            for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
                for instance in (i for r in page["Reservations"] for i in r["Instances"]):
                    tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                    for mapping in instance.get("BlockDeviceMappings", []):
                        if "Ebs" in mapping:
                            found[mapping["Ebs"]["VolumeId"]] = {**tags, "instance-id": instance["InstanceId"]}
        return sorted(found.items())

    def _run_schedule(self, policy: Policy, index: int, at: float) -> None:
        schedule = policy.details["Schedules"][index]
        name = schedule["Name"]
        ec2 = self.sandbox.client("ec2", policy.region)
        for volume_id, volume_tags in self._targets(policy):
            tags = self._snapshot_tags(policy, schedule, volume_tags, at)
            try:
                snapshot = ec2.create_snapshot(
                    VolumeId=volume_id, Description=f"Created for policy: {policy.policy_id} schedule: {name}",
                    TagSpecifications=[{"ResourceType": "snapshot",
                                        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])
            except ClientError as exc:
                self.emit("DlmSnapshotFailed", region=policy.region, resource=volume_id, policy=policy.policy_id,
                          reason=exc.response["Error"]["Message"])
                continue
            self.state.snapshots_created += 1
            self._remember(policy, name, volume_id, policy.region, snapshot["SnapshotId"], at)
            self.emit("DlmSnapshotCreated", region=policy.region, resource=snapshot["SnapshotId"],
                      policy=policy.policy_id, schedule=name, volume=volume_id)
            self._retain(policy, name, volume_id, policy.region, schedule["RetainRule"], at)
            if schedule.get("CrossRegionCopyRules"):  # copied once completed, as AWS copies only those
                self.state.copies_waiting[key(policy.region, snapshot["SnapshotId"])] = [
                    {"policy": policy.policy_id, "schedule": schedule, "rule": rule, "volume": volume_id,
                     "tags": tags, "at": at} for rule in schedule["CrossRegionCopyRules"]]

    def snapshot_deleted(self, region: str, snapshot_id: str) -> None:
        super().snapshot_deleted(region, snapshot_id)
        self.state.copies_waiting.pop(key(region, snapshot_id), None)

    def snapshot_completed(self, record: SnapshotRecord) -> None:
        """DLM's cross-Region copies of a snapshot it took start now that it is completed."""
        for waiting in self.state.copies_waiting.pop(key(record.region, record.snapshot_id), []):
            policy = self.state.policies.get(waiting["policy"])
            if policy is None:
                continue  # the policy was deleted meanwhile: nothing copies its snapshots any more
            self._copy(policy, waiting["schedule"], waiting["rule"], waiting["volume"], record.snapshot_id,
                       waiting["tags"], waiting["at"])

    def _snapshot_tags(self, policy: Policy, schedule: dict[str, Any], volume_tags: dict[str, str],
                       at: float) -> dict[str, str]:
        tags: dict[str, str] = {}
        if schedule.get("CopyTags"):
            tags.update({k: v for k, v in volume_tags.items() if not k.startswith("aws:") and k != "instance-id"})
        variables = {"$(instance-id)": volume_tags.get("instance-id", ""),
                     "$(timestamp)": iso(at).replace(":", "-")}
        for tag in schedule.get("VariableTags") or []:
            value = tag["Value"]
            for variable, replacement in variables.items():
                value = value.replace(variable, replacement)
            tags[tag["Key"]] = value
        tags.update({t["Key"]: t["Value"] for t in schedule.get("TagsToAdd") or []})
        tags[POLICY_TAG] = policy.policy_id
        tags[SCHEDULE_TAG] = schedule["Name"]
        return tags

    def _copy(self, policy: Policy, schedule: dict[str, Any], rule: dict[str, Any], volume_id: str,
              snapshot_id: str, tags: dict[str, str], at: float) -> None:
        target = rule.get("TargetRegion") or rule.get("Target")
        ec2 = self.sandbox.client("ec2", target)
        request: dict[str, Any] = {"SourceSnapshotId": snapshot_id, "SourceRegion": policy.region,
                                   "Description": f"Copied for DLM policy {policy.policy_id} from {policy.region}"}
        if rule.get("Encrypted"):
            request["Encrypted"] = True
            if rule.get("CmkArn"):
                request["KmsKeyId"] = rule["CmkArn"]
        try:
            copied = ec2.copy_snapshot(**request)["SnapshotId"]
            copy_tags = tags if rule.get("CopyTags", True) else {
                POLICY_TAG: policy.policy_id, SCHEDULE_TAG: schedule["Name"]}
            ec2.create_tags(Resources=[copied], Tags=[{"Key": k, "Value": v} for k, v in copy_tags.items()])
        except ClientError as exc:
            self.emit("DlmSnapshotCopyFailed", region=target, resource=snapshot_id, policy=policy.policy_id,
                      reason=exc.response["Error"]["Message"])
            return
        self.state.snapshots_copied += 1
        self._remember(policy, schedule["Name"], volume_id, target, copied, at)
        self.emit("DlmSnapshotCopied", region=target, resource=copied, policy=policy.policy_id,
                  source_snapshot=snapshot_id, source_region=policy.region)
        if rule.get("RetainRule"):
            self._retain(policy, schedule["Name"], volume_id, target, rule["RetainRule"], at)

    def _remember(self, policy: Policy, schedule: str, volume_id: str, region: str, snapshot_id: str,
                  at: float) -> None:
        key = f"{policy.policy_id}|{schedule}|{volume_id}|{region}"
        self.state.made.setdefault(key, []).append(MadeSnapshot(snapshot_id, at))

    def _retain(self, policy: Policy, schedule: str, volume_id: str, region: str, rule: dict[str, Any],
                at: float) -> None:
        """Delete what the retain rule no longer keeps: beyond Count, or older than Interval."""
        made = self.state.made.get(f"{policy.policy_id}|{schedule}|{volume_id}|{region}", [])
        if rule.get("Count"):
            doomed = made[:-rule["Count"]] if len(made) > rule["Count"] else []
        else:
            horizon = at - rule["Interval"] * RETAIN_UNIT_SECONDS[rule["IntervalUnit"]]
            doomed = [snapshot for snapshot in made if snapshot.created <= horizon]
        ec2 = self.sandbox.client("ec2", region)
        for snapshot in doomed:
            made.remove(snapshot)
            try:
                ec2.delete_snapshot(SnapshotId=snapshot.snapshot_id)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "InvalidSnapshot.NotFound":
                    self.emit("DlmSnapshotDeleteFailed", region=region, resource=snapshot.snapshot_id,
                              policy=policy.policy_id, reason=exc.response["Error"]["Message"])
                continue
            self.state.snapshots_deleted += 1
            self.emit("DlmSnapshotDeleted", region=region, resource=snapshot.snapshot_id, policy=policy.policy_id,
                      schedule=schedule, volume=volume_id)

    def describe(self) -> dict[str, Any]:
        state = self.state
        return {"lifecycle_policies": len(state.policies),
                "enabled": sum(p.state == "ENABLED" for p in state.policies.values()),
                "snapshots_created": state.snapshots_created, "snapshots_copied": state.snapshots_copied,
                "snapshots_deleted": state.snapshots_deleted}


def instance_settings(instance: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """An instance's launch settings as AWS Backup's EC2 restore metadata spells them: strings, structured values
    as JSON (AWS Backup API Reference: GetRecoveryPointRestoreMetadata, "These values vary depending on the
    service")."""
    settings: dict[str, str] = {}
    for name in ("SubnetId", "VpcId", "KeyName", "InstanceType"):
        if instance.get(name):
            settings[name] = str(instance[name])
    groups = [group["GroupId"] for group in instance.get("SecurityGroups") or [] if group.get("GroupId")]
    settings["SecurityGroupIds"] = json.dumps(groups)
    settings["Monitoring"] = json.dumps({"Enabled": (instance.get("Monitoring") or {}).get("State") == "enabled"})
    settings["EbsOptimized"] = str(bool(instance.get("EbsOptimized"))).lower()
    settings["DisableApiTermination"] = "false"
    settings["InstanceInitiatedShutdownBehavior"] = "stop"
    settings["HibernationOptions"] = json.dumps({"Configured": False})
    settings["CpuOptions"] = json.dumps(instance.get("CpuOptions") or {"CoreCount": 1, "ThreadsPerCore": 1})
    interfaces = [{"DeviceIndex": eni.get("Attachment", {}).get("DeviceIndex", 0), "SubnetId": eni.get("SubnetId"),
                   "Groups": [g["GroupId"] for g in eni.get("Groups") or []]}
                  for eni in instance.get("NetworkInterfaces") or []]
    if interfaces:
        settings["NetworkInterfaces"] = json.dumps(interfaces)
    return tuple(sorted(settings.items()))


def _json_setting(metadata: dict[str, str], name: str) -> Any:
    """A structured metadata value (JSON text); ValueError naming it when it is not JSON."""
    text = metadata.get(name)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"restore metadata {name} must be JSON (as GetRecoveryPointRestoreMetadata gives it), "
                         f"not {text!r}") from exc
