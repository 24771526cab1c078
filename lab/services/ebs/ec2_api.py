"""The EC2 operations of EBS snapshots, AMIs and volumes, as AWS runs them in time (lab.services.ebs.timing).

Each passes the call to the backend (which makes the resource at once, `completed` or `available`), then shows
it as the EBS engine's records say at the sim time: snapshots `pending` with Progress "NN%", AMIs `pending`,
volumes `creating`; status filters (`status`, `state`) judge what is shown. What AWS refuses while an operation
runs is refused in AWS's words:
  - CreateVolume or CopySnapshot from a `pending` snapshot: IncorrectState, "Snapshot 'snap-...' is not
    'completed'." (AWS's answer, quoted in tschellenbach/Snaptastic#17);
  - a sixth `pending` snapshot of a volume: ConcurrentSnapshotLimitExceeded, "Maximum allowed in-progress
    snapshots for a single volume exceeded." (EC2 User Guide: Create Amazon EBS snapshots; AWS's message);
  - more than 20 copies in progress into a Region: ResourceLimitExceeded (EBS service quotas; AWS's wording
    with the limit, quoted in aws-samples/copy-encrypted-ami#3);
  - DeleteSnapshot of a snapshot a registered AMI uses: InvalidSnapshot.InUse, "The snapshot snap-... is
    currently in use by ami-..." (API Reference: DeleteSnapshot; AWS's message, quoted in
    Answers4AWS/backup-monkey#10);
  - AttachVolume of a `creating` volume: IncorrectState, "vol-... is not 'available'.";
  - StartInstances of a `stopping` instance, StopInstances of one `pending` from its launch:
    IncorrectInstanceState.
Fast snapshot restores (Enable/Disable/DescribeFastSnapshotRestores) are the lab's alone: the backend has none.
An instance is `pending` in DescribeInstances (and DescribeInstanceStatus with IncludeAllInstances) while it
launches or starts (`ec2.run`; one AWS Backup restores, `ec2.launch`, its restore job completing as it turns
`running`), `stopping` while it stops (`ec2.stop`) and `shutting-down` while it terminates (`ec2.terminate`).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab import config
from lab.gateway import audit
from lab.kernel.api import BackendAnswer, Call, ServiceApi, paginate
from lab.kernel.errors import AwsError
from lab.services.ebs.engine import Ebs
from lab.services.ebs.timing import (
    FSR_REASON,
    MAX_COPIES_PER_REGION,
    MAX_PENDING_PER_VOLUME,
    FastRestore,
    SnapshotRecord,
    key,
    snapshot_progress,
    snapshot_state,
)

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

Output = dict[str, Any]
INCORRECT_STATE = "IncorrectState"
INCORRECT_INSTANCE_STATE = "IncorrectInstanceState"
INVALID_VALUE = "InvalidParameterValue"
# The most instances one call may need at least (RunInstances' MinCount): EC2's classic default On-Demand limit
# of 20 per Region (now a vCPU quota). The backend makes each one in turn, so the limit also bounds a call's time.
INSTANCE_LIMIT = 20
# GiB per volume type (EBS User Guide: Amazon EBS volume types; io2 Block Express reaches 64 TiB)
VOLUME_GIB = {"gp2": (1, 16384), "gp3": (1, 16384), "io1": (4, 16384), "io2": (4, 65536), "st1": (125, 16384),
              "sc1": (125, 16384), "standard": (1, 1024)}
COPY_MINUTES = range(15, 2881, 15)  # CompletionDurationMinutes "in 15 minute increments", up to 48 hours
# the states an instance is in on its way (EC2 API Reference: InstanceState)
INSTANCE_STATES = {"pending": {"Code": 0, "Name": "pending"}, "stopping": {"Code": 64, "Name": "stopping"},
                   "shutting-down": {"Code": 32, "Name": "shutting-down"}}
INIT_RATES = range(100, 301)  # VolumeInitializationRate "Valid range: 100 - 300 MiB/s" (API Reference: CreateVolume)


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _filters(params: dict[str, Any]) -> dict[str, set[str]]:
    return {f.get("Name", ""): set(f.get("Values") or []) for f in params.get("Filters") or []}


def _show_state(instance: dict[str, Any], field: str, changing: dict[str, tuple[str, str]]) -> bool:
    """Show an instance on its way to the state the backend has it in as AWS does (`pending`, `stopping`);
    whether it is."""
    found = changing.get(instance.get("InstanceId", ""))
    if found is None or (instance.get(field) or {}).get("Name") != found[0]:
        return False  # (not, or no longer, where that change leads: stopped while pending, say)
    instance[field] = dict(INSTANCE_STATES[found[1]])
    return True


# Counts the backend acts on one at a time (a loop per instance, host, fleet unit or address): bounded by what
# EC2 allows, so that one call cannot hold the sandbox for hours. Instances, fleets' capacity units and hosts:
# the instance limit above; addresses and prefixes per network interface: 50, the most any instance type has
# (EC2 User Guide: IP addresses per network interface per instance type).
_INSTANCE_COUNTS = frozenset({"InstanceCount", "TotalTargetCapacity", "TargetCapacity", "OnDemandTargetCapacity",
                              "SpotTargetCapacity", "MinTargetCapacity", "Quantity"})
_ADDRESS_COUNTS = frozenset({"SecondaryPrivateIpAddressCount", "PrivateIpAddressCount", "Ipv6AddressCount",
                             "Ipv4PrefixCount", "Ipv6PrefixCount"})
ADDRESS_LIMIT = 50


def _check_looped_counts(value: Any, depth: int = 0) -> None:
    """Every count in a call's input (at any depth: a fleet's or a launch specification's too) within EC2's
    limits; the refusal names the member."""
    if depth > 8:
        return
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, item in items:
        if isinstance(item, (dict, list)):
            _check_looped_counts(item, depth + 1)
        elif isinstance(item, int) and not isinstance(item, bool) and isinstance(name, str):
            if name in _INSTANCE_COUNTS and item > INSTANCE_LIMIT:
                code = "HostLimitExceeded" if name == "Quantity" else "InstanceLimitExceeded"
                raise AwsError(code, f"You have requested more instances ({item}) than your current instance "
                                     f"limit of {INSTANCE_LIMIT} allows ({name}).")
            if name in _ADDRESS_COUNTS and item > ADDRESS_LIMIT:
                code = "PrivateIpAddressLimitExceeded" if name.startswith(("Secondary", "Private")) else INVALID_VALUE
                raise AwsError(code, f"Value ({item}) for parameter {name} is invalid: a network interface has at "
                                     f"most {ADDRESS_LIMIT} addresses or prefixes of a kind.")


def _check_counts(params: dict[str, Any]) -> None:
    """RunInstances' MinCount and MaxCount as EC2 checks them, and the sandbox's instance limit (the backend
    makes every instance asked for, one at a time: a MinCount of 2**31 would hold the sandbox for days)."""
    low, high = int(params.get("MinCount") or 0), int(params.get("MaxCount") or 0)  # (both required)
    for name, value in (("MinCount", low), ("MaxCount", high)):
        if value < 1:
            raise AwsError(INVALID_VALUE, f"Value ({value}) for parameter {name} is invalid. Must be a positive "
                                          "integer")
    if low > high:
        raise AwsError(INVALID_VALUE, f"Value ({low}) for parameter MinCount is invalid. It must not be greater "
                                      f"than MaxCount ({high})")
    if low > INSTANCE_LIMIT:
        # (EC2's own words: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/troubleshooting-launch.html)
        raise AwsError("InstanceLimitExceeded", f"You have requested more instances ({low}) than your current "
                                                f"instance limit of {INSTANCE_LIMIT} allows for the specified "
                                                "instance type.")


def _check_volume_size(params: dict[str, Any]) -> None:
    """CreateVolume's Size within its type's range (EBS User Guide: Amazon EBS volume types, "Volume size"): the
    backend takes any number, and the duration model reads it (a snapshot of it takes its size's time)."""
    size, volume_type = params.get("Size"), str(params.get("VolumeType") or "gp2")
    if size is None:
        if not params.get("SnapshotId"):
            raise AwsError("MissingParameter", "The request must contain the parameter size or snapshotId")
        return
    low, high = VOLUME_GIB.get(volume_type, VOLUME_GIB["gp2"])
    if int(size) > high:
        raise AwsError(INVALID_VALUE, f"Volume of {size}GiB is too large; maximum is {high}GiB.")
    if int(size) < low:
        raise AwsError(INVALID_VALUE, f"Volume of {size}GiB is too small; minimum is {low}GiB.")


class _Launching(threading.local):
    active = False


def _launch_mappings(image: list[dict[str, Any]], asked: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The EBS volumes an instance of an AMI gets: the AMI's mappings, each overridden by the request's mapping of
    the same device (its Ebs settings over the AMI's), dropped by a NoDevice one; then the request's other EBS
    devices."""
    asked_by_device = {m.get("DeviceName"): m for m in asked or []}
    launched: list[dict[str, Any]] = []
    for mapping in image:
        override = asked_by_device.pop(mapping.get("DeviceName"), None)
        if override is not None and "NoDevice" in override:
            continue
        if "Ebs" not in mapping:
            continue
        ebs = {**mapping["Ebs"], **((override or {}).get("Ebs") or {})}
        launched.append({"DeviceName": mapping["DeviceName"], "Ebs": ebs})
    launched.extend(m for m in asked_by_device.values() if "Ebs" in m and "NoDevice" not in m)
    return launched


def _source_region(params: dict[str, Any], region: str) -> str:
    """A copy's SourceRegion (the call's own Region if none), one of the sandbox's."""
    source_region = params.get("SourceRegion") or region
    if source_region not in config.REGIONS:
        raise AwsError(INVALID_VALUE, f"SourceRegion {str(source_region)[:100]!r} is not a Region of this sandbox "
                                      f"({', '.join(config.REGIONS)})")
    return str(source_region)


COPY_VOLUME_ID = "vol-ffffffff"  # what EC2 shows as a copied snapshot's volume


class Ec2Api(ServiceApi):
    service = "ec2"
    service_principal = Ebs.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(Ebs)
        assert engine is not None, "the EC2 snapshot operations need the EBS engine"
        self.engine = engine
        self._zone_names: dict[str, set[str]] = {}
        self._launching = _Launching()  # RunInstances of an AMI the lab made, asked again with its mappings

    def check(self, call: Call) -> None:
        _check_looped_counts(call.params)

    def _ec2(self, region: str) -> Any:
        return self.sandbox.client("ec2", region)

    def _zones(self, region: str) -> set[str]:
        """The Region's Availability Zone names (the backend's, which do not change)."""
        found = self._zone_names.get(region)
        if found is None:
            with audit.unrecorded():
                zones = self._ec2(region).describe_availability_zones()["AvailabilityZones"]
            found = self._zone_names[region] = {zone["ZoneName"] for zone in zones}
        return found

    def _listed_without(self, call: Call, names: set[str], operation: str) -> Output:
        """The call answered without the filters named (status filters the backend would judge by its own
        statuses): the lab judges them on what it shows."""
        params = {k: v for k, v in call.params.items() if k != "Filters"}
        kept = [f for f in call.params.get("Filters") or [] if f.get("Name") not in names]
        if kept:
            params["Filters"] = kept
        answer = getattr(self._ec2(call.region), operation)(**params)
        answer.pop("ResponseMetadata", None)
        return answer

    # -- snapshots ---------------------------------------------------------------------------------

    def present_snapshot(self, shown: dict[str, Any], region: str, now: float) -> dict[str, Any]:
        record = self.engine.snapshot_record(region, shown.get("SnapshotId", ""))
        if record is None:
            return shown
        state = snapshot_state(record, now)
        shown["State"] = state
        shown["Progress"] = snapshot_progress(record, now)
        shown["FullSnapshotSizeInBytes"] = int(record.full_gib * 2**30)
        if state == "completed":
            shown["CompletionTime"] = _dt(record.ends)
        else:
            shown.pop("CompletionTime", None)
        if record.source is not None:
            # "Snapshots created by the CopySnapshot action have an arbitrary volume ID that should not be used
            # for any purpose" (API Reference, Snapshot)
            shown["VolumeId"] = COPY_VOLUME_ID
            shown["TransferType"] = "time-based" if record.completion_minutes else "standard"
            if record.completion_minutes:
                shown["CompletionDurationMinutes"] = record.completion_minutes
        return shown

    def _source(self, region: str, snapshot_id: str) -> SnapshotRecord | None:
        """The lab's record of a snapshot, adopted when the backend has it; None: the backend has none."""
        found = self.engine.snapshot_record(region, snapshot_id)
        if found is not None:
            return found
        try:
            shown = self._ec2(region).describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
        except ClientError:  # no such snapshot: the backend's own answer says so
            return None
        return self.engine.adopt_snapshot(region, shown[0]) if shown else None

    def _require_completed(self, record: SnapshotRecord) -> None:
        if snapshot_state(record, self.now()) != "completed":
            raise AwsError(INCORRECT_STATE, f"Snapshot '{record.snapshot_id}' is not 'completed'.")

    def op_CreateSnapshot(self, call: Call) -> Output:
        params, region = call.params, call.region
        if params.get("DryRun"):
            return call.forward()
        volume = self.engine.volume_record(region, params.get("VolumeId", ""))
        if volume is not None:
            if self.engine.volume_state(volume, self.now()) == "creating":
                raise AwsError(INCORRECT_STATE, f"{volume.volume_id} is not 'available'.")
            if self.engine.pending_of_volume(region, volume.volume_id) >= MAX_PENDING_PER_VOLUME:
                raise AwsError("ConcurrentSnapshotLimitExceeded",
                               "Maximum allowed in-progress snapshots for a single volume exceeded.")
        answer = call.forward()
        self.engine.snapshot_taken(region, answer["SnapshotId"], answer.get("VolumeId") or params["VolumeId"])
        return self.present_snapshot(answer, region, self.now())

    def op_CreateSnapshots(self, call: Call) -> Output:
        if call.params.get("DryRun"):
            return call.forward()
        answer = call.forward()
        now = self.now()
        for shown in answer.get("Snapshots") or []:
            self.engine.snapshot_taken(call.region, shown["SnapshotId"], shown["VolumeId"])
            self.present_snapshot(shown, call.region, now)
        return answer

    def op_DescribeSnapshots(self, call: Call) -> Output:
        wanted = _filters(call.params).get("status")
        answer = self._listed_without(call, {"status"}, "describe_snapshots") if wanted else call.forward()
        now = self.now()
        shown = [self.present_snapshot(s, call.region, now) for s in answer.get("Snapshots") or []]
        answer["Snapshots"] = [s for s in shown if not wanted or s.get("State") in wanted]
        return answer

    def op_CopySnapshot(self, call: Call) -> Output:
        params, region = call.params, call.region
        if params.get("DryRun"):
            return call.forward()
        minutes = params.get("CompletionDurationMinutes")
        if minutes is not None and minutes not in COPY_MINUTES:
            raise AwsError(INVALID_VALUE, f"CompletionDurationMinutes must be a multiple of 15 from 15 to 2880, "
                                          f"not {minutes}")
        source_region = _source_region(params, region)
        source = self._source(source_region, params.get("SourceSnapshotId", ""))
        if source is None:
            return call.forward()  # the backend's own InvalidSnapshot.NotFound
        self._require_completed(source)
        if self.engine.pending_copies(region) >= MAX_COPIES_PER_REGION:
            raise AwsError("ResourceLimitExceeded", f"Too many snapshot copies in progress. The limit is "
                                                    f"{MAX_COPIES_PER_REGION} for this destination region.")
        answer = call.forward()
        record = self.engine.copy_taken(region, answer["SnapshotId"], source, kms_key_id=params.get("KmsKeyId"),
                                        minutes=minutes)
        self.engine.emit("SnapshotCopyStarted", region=region, resource=record.snapshot_id,
                         source=f"{source_region}/{source.snapshot_id}", data_gib=round(record.data_gib, 3),
                         completes=_dt(record.ends).isoformat())
        return answer

    def op_DeleteSnapshot(self, call: Call) -> Output:
        params, region = call.params, call.region
        if params.get("DryRun"):
            return call.forward()
        snapshot_id = params.get("SnapshotId", "")
        image = self.engine.image_using(region, snapshot_id)
        if image is not None:
            raise AwsError("InvalidSnapshot.InUse", f"The snapshot {snapshot_id} is currently in use by {image}")
        answer = call.forward()
        self.engine.snapshot_deleted(region, snapshot_id)
        return answer

    # -- AMIs --------------------------------------------------------------------------------------

    def _require_new_name(self, region: str, name: Any) -> None:
        """An AMI name is unique among the account's AMIs in a Region (InvalidAMIName.Duplicate)."""
        if not name:
            return
        found = self._ec2(region).describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])
        same = [image["ImageId"] for image in found["Images"] if image.get("Name") == name]
        if same:
            raise AwsError("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI {same[0]}")

    def _image_pending(self, region: str, image_id: Any) -> bool:
        record = self.engine.timing.images.get(key(region, str(image_id or "")))
        return record is not None and self.now() < record.ends

    def op_CreateImage(self, call: Call) -> Output:
        params, region = call.params, call.region
        if params.get("DryRun"):
            return call.forward()
        self._require_new_name(region, params.get("Name"))
        specs = params.get("TagSpecifications") or []
        snapshot_tags = [t for s in specs if s.get("ResourceType") == "snapshot" for t in s.get("Tags") or []]
        if snapshot_tags:  # the backend cannot tag the snapshots: the lab does, on the snapshots it takes
            request = {k: v for k, v in params.items() if k != "TagSpecifications"}
            image_specs = [s for s in specs if s.get("ResourceType") != "snapshot"]
            if image_specs:
                request["TagSpecifications"] = image_specs
            answer = self._ec2(region).create_image(**request)
            answer.pop("ResponseMetadata", None)
            image = self.engine.timing.images.get(key(region, answer["ImageId"]))
            if image is not None and image.snapshots:
                self._ec2(region).create_tags(Resources=image.snapshots, Tags=snapshot_tags)
            return answer
        answer = call.forward()
        ec2 = self._ec2(region)
        reservations = ec2.describe_instances(InstanceIds=[params["InstanceId"]])["Reservations"]
        instance = reservations[0]["Instances"][0]
        self.engine.image_of_instance(region, answer["ImageId"], instance, lambda volume_id, description: ec2.
                                      create_snapshot(VolumeId=volume_id, Description=description)["SnapshotId"])
        return answer

    def op_RegisterImage(self, call: Call) -> Output:
        params, region = call.params, call.region
        if params.get("DryRun"):
            return call.forward()
        self._require_new_name(region, params.get("Name"))
        mappings = [dict(m) for m in params.get("BlockDeviceMappings") or []]
        sources = []
        for mapping in mappings:
            snapshot_id = (mapping.get("Ebs") or {}).get("SnapshotId")
            if snapshot_id:
                source = self._source(region, snapshot_id)
                if source is None:
                    raise AwsError("InvalidSnapshot.NotFound", f"The snapshot '{snapshot_id}' does not exist.")
                self._require_completed(source)
                mapping["Ebs"] = {"VolumeSize": source.size_gib, "DeleteOnTermination": True,
                                  "VolumeType": "gp2", "Encrypted": False, **mapping["Ebs"]}
                sources.append(snapshot_id)
        answer = call.forward()
        image = self.engine.image_registered(region, answer["ImageId"], sources)
        image.mappings = mappings or None
        image.root_device = params.get("RootDeviceName")
        return answer

    def op_CopyImage(self, call: Call) -> Output:
        params, region = call.params, call.region
        if params.get("DryRun"):
            return call.forward()
        source_region = _source_region(params, region)
        source_id = str(params.get("SourceImageId") or "")
        if self._image_pending(source_region, source_id):
            raise AwsError("InvalidAMIID.Unavailable", f"AMI {source_id} is pending: it can be copied once it is "
                                                       "available.")
        self._require_new_name(region, params.get("Name"))
        answer = call.forward()
        [source] = self._ec2(source_region).describe_images(ImageIds=[source_id])["Images"]
        self.engine.image_copied(region, answer["ImageId"], source_region, source_id,
                                 root_device=source.get("RootDeviceName"))
        return answer

    def op_DeregisterImage(self, call: Call) -> Output:
        params, region = call.params, call.region
        if params.get("DryRun"):
            return call.forward()
        image = self.engine.timing.images.get(key(region, params.get("ImageId", "")))
        answer = call.forward()
        self.engine.image_deregistered(region, params["ImageId"])
        if params.get("DeleteAssociatedSnapshots"):
            results = []
            for snapshot_id in image.snapshots if image else []:
                try:
                    self._ec2(region).delete_snapshot(SnapshotId=snapshot_id)
                    results.append({"SnapshotId": snapshot_id, "ReturnCode": "success"})
                except ClientError:  # already gone, or in use by another AMI
                    results.append({"SnapshotId": snapshot_id, "ReturnCode": "error-generic"})
            answer["DeleteSnapshotResults"] = results
        return answer

    def op_DescribeImages(self, call: Call) -> Output:
        wanted = _filters(call.params).get("state")
        answer = self._listed_without(call, {"state"}, "describe_images") if wanted else call.forward()
        now = self.now()
        shown = []
        for image in answer.get("Images") or []:
            record = self.engine.timing.images.get(key(call.region, image.get("ImageId", "")))
            if record is not None:
                image["State"] = "pending" if now < record.ends else image.get("State", "available")
                if record.mappings:  # (made of EBS snapshots: moto says RootDeviceType "standard")
                    image["BlockDeviceMappings"] = record.mappings
                    image["RootDeviceType"] = "ebs"
                if record.root_device:
                    image["RootDeviceName"] = record.root_device
                if record.source:
                    image["SourceImageId"], image["SourceImageRegion"] = record.source
            if not wanted or image.get("State") in wanted:
                shown.append(image)
        answer["Images"] = shown
        return answer

    # -- instances launched, started and stopped ---------------------------------------------------

    def op_RunInstances(self, call: Call) -> Output:
        """An instance of an AMI the lab made gets a volume from each of the AMI's block device mappings, the
        request's own mappings overriding or suppressing (NoDevice) the AMI's device by device (EC2 User Guide:
        Block device mappings, "Update the block device mapping when launching an instance"); the backend
        would give it one empty 8 GiB root volume."""
        _check_counts(call.params)
        image_id = call.params.get("ImageId")
        if self._image_pending(call.region, image_id):
            raise AwsError("InvalidAMIID.Unavailable", f"AMI {image_id} is pending: it is not in a state from which "
                                                       "you can launch an instance.")
        image = self.engine.timing.images.get(key(call.region, str(image_id or "")))
        mappings = call.params.get("BlockDeviceMappings")
        if image is not None and image.mappings and not call.params.get("DryRun") and not self._launching.active:
            launched = _launch_mappings(image.mappings, mappings)
            self._launching.active = True
            try:
                with audit.unrecorded():  # (the learner's call is the one recorded, with this answer)
                    answer = self._ec2(call.region).run_instances(**{**call.params, "BlockDeviceMappings": launched})
            finally:
                self._launching.active = False
            answer.pop("ResponseMetadata", None)
            return answer
        answer = call.forward()
        # (the world's own backend, made as the world is seeded, has been running since long before)
        if self.sandbox.lab.world_seeded:
            until = self.now() + self.engine.durations.ec2_run()
            for instance in answer.get("Instances") or []:
                self.engine.instance_changing(call.region, instance["InstanceId"], "pending", until, first=True)
        return answer

    def op_StartInstances(self, call: Call) -> Output:
        """An instance still `stopping` cannot be started yet (AWS's IncorrectInstanceState). The lab's own
        restarts (a fault ending) come from services that wait for `stopped`, as FIS does."""
        changing = self.engine.changing_states(call.region, self.now())
        if not call.internal and not call.params.get("DryRun"):
            for instance in call.params.get("InstanceIds") or []:
                if changing.get(instance, ("", ""))[1] == "stopping":
                    raise AwsError(INCORRECT_INSTANCE_STATE,
                                   f"The instance '{instance}' is not in a state from which it can be started.")
        answer = call.forward()
        self._changing(call, answer.get("StartingInstances"), changing, "pending", self.engine.durations.ec2_run(),
                       moves_from={"stopped"})
        return answer

    def op_StopInstances(self, call: Call) -> Output:
        """An instance still `pending` from its launch cannot be stopped yet (AWS's IncorrectInstanceState, as
        AWS words it; quoted in cloud-custodian/cloud-custodian#6014). The lab's own stops (Elastic Disaster
        Recovery launching an instance stopped) are the services' that wait for it."""
        now = self.now()
        if not call.internal and not call.params.get("DryRun"):
            for instance in call.params.get("InstanceIds") or []:
                if self.engine.never_ran(call.region, instance, now):
                    raise AwsError(INCORRECT_INSTANCE_STATE, f"Instance '{instance}' cannot be stopped as it has "
                                                             "never reached the 'running' state.")
        changing = self.engine.changing_states(call.region, now)
        answer = call.forward()
        self._changing(call, answer.get("StoppingInstances"), changing, "stopping", self.engine.durations.ec2_stop(),
                       moves_from={"pending", "running"})
        return answer

    def op_TerminateInstances(self, call: Call) -> Output:
        changing = self.engine.changing_states(call.region, self.now())
        answer = call.forward()
        self._changing(call, answer.get("TerminatingInstances"), changing, "shutting-down",
                       self.engine.durations.ec2_terminate(), moves_from={"pending", "running", "stopping", "stopped"})
        return answer

    def _changing(self, call: Call, changes: list[dict[str, Any]] | None, before: dict[str, tuple[str, str]],
                  state: str, seconds: float, *, moves_from: set[str]) -> None:
        """The instances an answer moved to `state` stay there for `seconds`. Each answer's PreviousState is the
        state the instance was shown in (`before`: changing_states at the call; moto's is the backend's). One
        that was not in a state the call moves it from stays where it was, as AWS answers (moto answers a
        StartInstances of a running instance with `pending`, a StopInstances of a stopped one with
        `stopping`)."""
        until = self.now() + seconds
        for change in changes or []:
            _show_state(change, "PreviousState", before)
            previous = change.get("PreviousState") or {}
            if previous.get("Name") not in moves_from:
                change["CurrentState"] = dict(previous)
            elif (change.get("CurrentState") or {}).get("Name") == state:
                self.engine.instance_changing(call.region, change["InstanceId"], state, until)

    def op_DescribeInstances(self, call: Call) -> Output | BackendAnswer:
        changing = self.engine.changing_states(call.region, self.now())
        if not changing:
            return call.backend_answer()
        filters = _filters(call.params)
        names, codes = filters.get("instance-state-name"), filters.get("instance-state-code")
        judged = names is not None or codes is not None  # (the lab judges them on the state it shows)
        answer = self._listed_without(call, {"instance-state-name", "instance-state-code"},
                                      "describe_instances") if judged else call.forward()
        reservations = []
        for reservation in answer.get("Reservations") or []:
            shown = []
            for instance in reservation.get("Instances") or []:
                _show_state(instance, "State", changing)
                state = instance.get("State") or {}
                if (names is None or state.get("Name") in names) and (codes is None or str(state.get("Code")) in codes):
                    shown.append(instance)
            if shown:
                reservations.append({**reservation, "Instances": shown})
        answer["Reservations"] = reservations
        return answer

    def op_DescribeInstanceStatus(self, call: Call) -> Output | BackendAnswer:
        """A `pending` or `stopping` instance is listed only with IncludeAllInstances (API Reference:
        DescribeInstanceStatus, "By default, only running instances are described")."""
        changing = self.engine.changing_states(call.region, self.now())
        if not changing:
            return call.backend_answer()
        answer = call.forward()
        statuses = []
        for status in answer.get("InstanceStatuses") or []:
            if _show_state(status, "InstanceState", changing) and not call.params.get("IncludeAllInstances"):
                continue
            statuses.append(status)
        answer["InstanceStatuses"] = statuses
        return answer

    # -- volumes -----------------------------------------------------------------------------------

    def present_volume(self, shown: dict[str, Any], region: str, now: float) -> dict[str, Any]:
        volume = self.engine.timing.volumes.get(key(region, shown.get("VolumeId", "")))
        if volume is None:
            return shown
        state = self.engine.volume_state(volume, now)
        if state is not None:
            shown["State"] = state
        if volume.source_snapshot is not None:
            shown["FastRestored"] = volume.fast_restored
        if volume.init_rate:
            shown["VolumeInitializationRate"] = volume.init_rate
        return shown

    def op_CreateVolume(self, call: Call) -> Output:
        params, region = call.params, call.region
        if params.get("DryRun"):
            return call.forward()
        rate = params.get("VolumeInitializationRate")
        if rate is not None and (not params.get("SnapshotId") or rate not in INIT_RATES):
            raise AwsError(INVALID_VALUE, "VolumeInitializationRate must be 100-300 (MiB/s), and is supported only "
                                          "for volumes created from snapshots")
        _check_volume_size(params)
        zone = params.get("AvailabilityZone")
        if zone is not None and zone not in self._zones(region):
            raise AwsError(INVALID_VALUE, f"Invalid availability zone: [{str(zone)[:100]}]")
        if params.get("SnapshotId"):
            source = self._source(region, params["SnapshotId"])
            if source is not None:
                self._require_completed(source)
                if params.get("Size") is not None and int(params["Size"]) < source.size_gib:
                    raise AwsError(INVALID_VALUE, f"Volume of size {params['Size']}GB is smaller than snapshot "
                                                  f"'{source.snapshot_id}', expect size >= {source.size_gib}GB")
        answer = call.forward()
        self.engine.volume_created(region, answer, rate=rate)
        return self.present_volume(answer, region, self.now())

    def op_DescribeVolumes(self, call: Call) -> Output:
        wanted = _filters(call.params).get("status")
        answer = self._listed_without(call, {"status"}, "describe_volumes") if wanted else call.forward()
        now = self.now()
        shown = [self.present_volume(v, call.region, now) for v in answer.get("Volumes") or []]
        answer["Volumes"] = [v for v in shown if not wanted or v.get("State") in wanted]
        return answer

    def op_AttachVolume(self, call: Call) -> Output:
        params, region = call.params, call.region
        volume = self.engine.timing.volumes.get(key(region, params.get("VolumeId", "")))
        # The world's own set-up (in-process) attaches the volume it has just made: the seeded world is one
        # that has long existed. A learner's (or an SDK's) attach waits for `available`, as on AWS.
        if (volume is not None and not params.get("DryRun") and not call.internal
                and self.engine.volume_state(volume, self.now())):
            raise AwsError(INCORRECT_STATE, f"{volume.volume_id} is not 'available'.")
        answer = call.forward()
        if not params.get("DryRun"):
            self.engine.volume_attached(region, params["VolumeId"], True)
        return answer

    def op_DetachVolume(self, call: Call) -> Output:
        answer = call.forward()
        if not call.params.get("DryRun"):
            self.engine.volume_attached(call.region, call.params["VolumeId"], False)
        return answer

    def op_DeleteVolume(self, call: Call) -> Output:
        answer = call.forward()
        if not call.params.get("DryRun"):
            self.engine.volume_deleted(call.region, call.params["VolumeId"])
        return answer

    # -- fast snapshot restore ---------------------------------------------------------------------

    def _zones(self, region: str) -> set[str]:
        zones = self._ec2(region).describe_availability_zones()["AvailabilityZones"]
        return {zone["ZoneName"] for zone in zones}

    def _fast_restore_view(self, restore: FastRestore, now: float) -> dict[str, Any]:
        view: dict[str, Any] = {"SnapshotId": restore.snapshot_id, "AvailabilityZone": restore.zone,
                                "State": restore.state(now), "StateTransitionReason": FSR_REASON,
                                "OwnerId": config.ACCOUNT_ID}
        for name, moment in (("EnablingTime", restore.enabling_time), ("OptimizingTime", restore.optimizing_time),
                             ("EnabledTime", restore.enabled_time), ("DisablingTime", restore.disabling_time),
                             ("DisabledTime", restore.disabled_time)):
            if moment is not None and moment <= now:
                view[name] = _dt(moment)
        return view

    def _fast_restore_targets(self, call: Call) -> tuple[list[str], list[str], dict[str, list[dict[str, Any]]]]:
        """(zones, snapshot ids, snapshot id -> its per-zone errors) of an Enable/Disable call."""
        params, region = call.params, call.region
        zones = list(params.get("AvailabilityZones") or [])
        if params.get("AvailabilityZoneIds"):
            raise AwsError(INVALID_VALUE, "The lab names zones by AvailabilityZones (us-east-1a), not by "
                                          "AvailabilityZoneIds")
        if not zones or not params.get("SourceSnapshotIds"):
            raise AwsError("MissingParameter", "AvailabilityZones and SourceSnapshotIds are required")
        known = self._zones(region)
        errors: dict[str, list[dict[str, Any]]] = {}
        for snapshot_id in params["SourceSnapshotIds"]:
            for zone in zones:
                problem = None
                if zone not in known:
                    problem = (INVALID_VALUE, f"The Availability Zone '{zone}' is not in {region}.")
                else:
                    record = self._source(region, snapshot_id)
                    if record is None:
                        problem = ("InvalidSnapshot.NotFound", f"The snapshot '{snapshot_id}' does not exist.")
                    elif snapshot_state(record, self.now()) != "completed":
                        problem = (INCORRECT_STATE, f"Snapshot '{snapshot_id}' is not 'completed'.")
                if problem is not None:
                    errors.setdefault(snapshot_id, []).append(
                        {"AvailabilityZone": zone, "Error": {"Code": problem[0], "Message": problem[1]}})
        return zones, list(params["SourceSnapshotIds"]), errors

    def op_EnableFastSnapshotRestores(self, call: Call) -> Output:
        zones, snapshot_ids, errors = self._fast_restore_targets(call)
        now = self.now()
        successful = []
        for snapshot_id in snapshot_ids:
            failed_zones = {e["AvailabilityZone"] for e in errors.get(snapshot_id, [])}
            record = self.engine.snapshot_record(call.region, snapshot_id)
            for zone in zones:
                if zone in failed_zones or record is None:
                    continue
                restore = self.engine.enable_fast_restore(call.region, record, zone)
                successful.append(self._fast_restore_view(restore, now))
                self.engine.emit("FastSnapshotRestoreEnabling", region=call.region, resource=snapshot_id,
                                 availability_zone=zone, enabled_at=_dt(restore.enabled_time).isoformat())
        return {"Successful": successful, "Unsuccessful": [
            {"SnapshotId": s, "FastSnapshotRestoreStateErrors": e} for s, e in errors.items()]}

    def op_DisableFastSnapshotRestores(self, call: Call) -> Output:
        zones, snapshot_ids, errors = self._fast_restore_targets(call)
        now = self.now()
        successful = []
        for snapshot_id in snapshot_ids:
            failed_zones = {e["AvailabilityZone"] for e in errors.get(snapshot_id, [])}
            for zone in zones:
                if zone in failed_zones:
                    continue
                restore = self.engine.disable_fast_restore(call.region, snapshot_id, zone)
                if restore is None:
                    errors.setdefault(snapshot_id, []).append({"AvailabilityZone": zone, "Error": {
                        "Code": INCORRECT_STATE,
                        "Message": f"Fast snapshot restore is not enabled for '{snapshot_id}' in {zone}."}})
                    continue
                successful.append(self._fast_restore_view(restore, now))
        return {"Successful": successful, "Unsuccessful": [
            {"SnapshotId": s, "FastSnapshotRestoreStateErrors": e} for s, e in errors.items()]}

    def op_DescribeFastSnapshotRestores(self, call: Call) -> Output:
        filters = _filters(call.params)
        now = self.now()
        views = []
        for name in sorted(self.engine.timing.fast_restores):
            restore = self.engine.timing.fast_restores[name]
            if restore.region != call.region:
                continue
            view = self._fast_restore_view(restore, now)
            fields = {"availability-zone": restore.zone, "owner-id": config.ACCOUNT_ID,
                      "snapshot-id": restore.snapshot_id, "state": view["State"]}
            if all(fields.get(name) in values for name, values in filters.items()):
                views.append(view)
        page, token = paginate(views, call.params, default_size=1000, invalid_code=INVALID_VALUE)
        return {"FastSnapshotRestores": page, "NextToken": token}
