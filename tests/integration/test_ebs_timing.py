"""EBS snapshots, copies, AMIs, volumes and fast snapshot restores on the sim clock, and the EBS direct APIs'
ListChangedBlocks, through boto3 and the aws CLI against a running sandbox, each compared with AWS's
documentation (cited at each test). The sandbox's clock is paused: sim time moves only when a test moves it."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from lab.admin_client import AdminClient
from tests.conftest import SandboxHandle, free_port

EAST, WEST = "us-east-1", "us-west-2"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    handle = SandboxHandle(tmp_path_factory.mktemp("ebs-timing") / "state", free_port(), lab_env)
    handle.up()
    admin = AdminClient(handle.endpoint)
    admin.post("workload", {"enabled": False})
    admin.post("clock", {"action": "pause"})
    yield handle
    handle.down()


def advance(lab: SandboxHandle, duration: str) -> None:
    AdminClient(lab.endpoint).post("clock", {"action": "advance", "duration": duration})


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def snapshot(lab: SandboxHandle, snapshot_id: str, region: str = EAST) -> dict[str, Any]:
    return lab.client("ec2", region).describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]


def seconds_taken(shown: dict[str, Any]) -> float:
    return (shown["CompletionTime"] - shown["StartTime"]).total_seconds()


@pytest.fixture(scope="module")
def attached(lab: SandboxHandle) -> str:
    """A volume attached to an instance: the backend writes to it (ebs.volume.write_rate)."""
    ec2 = lab.client("ec2")
    volume = ec2.create_volume(AvailabilityZone=f"{EAST}a", Size=4, VolumeType="gp3")["VolumeId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                 Placement={"AvailabilityZone": f"{EAST}a"})["Instances"][0]["InstanceId"]
    advance(lab, "1m")
    ec2.attach_volume(VolumeId=volume, InstanceId=instance, Device="/dev/sdf")
    advance(lab, "2h")  # 400 MiB written
    return volume


_TOOL_ENV: dict[tuple[int, str], dict[str, str]] = {}


def aws(lab: SandboxHandle, region: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = _TOOL_ENV.get((lab.port, region))
    if env is None:
        env = _TOOL_ENV[(lab.port, region)] = lab.tool_env(region)
    result = subprocess.run([str(BIN / "aws"), "--endpoint-url", env["AWS_ENDPOINT_URL"], "--region", region,
                             "--output", "json", *args], env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


# -- snapshots ------------------------------------------------------------------------------------------


def test_a_snapshot_is_pending_with_progress_then_completed_and_a_later_one_is_incremental(lab, attached):
    """EC2 User Guide, Create Amazon EBS snapshots: "the status of the snapshot is pending until ... all of the
    modified blocks have been transferred"; API Reference, Snapshot: Progress "NN%"; EBSSnapshots: the first
    snapshot of a volume is full, later ones hold the changed blocks."""
    ec2 = lab.client("ec2")
    first = ec2.create_snapshot(VolumeId=attached, Description="first")
    assert first["State"] == "pending" and first["Progress"] == "0%"
    pending = [s["SnapshotId"] for s in ec2.describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": "status", "Values": ["pending"]}])["Snapshots"]]
    assert first["SnapshotId"] in pending
    completed = [s["SnapshotId"] for s in ec2.describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": "status", "Values": ["completed"]}])["Snapshots"]]
    assert first["SnapshotId"] not in completed
    advance(lab, "10s")
    shown = snapshot(lab, first["SnapshotId"])
    assert shown["State"] == "pending" and 0 < int(shown["Progress"].rstrip("%")) < 100
    assert "CompletionTime" not in shown
    advance(lab, "1m")
    shown = snapshot(lab, first["SnapshotId"])
    assert shown["State"] == "completed" and shown["Progress"] == "100%"
    full = shown["FullSnapshotSizeInBytes"]
    assert 0.3 * 2**30 < full < 0.5 * 2**30  # two hours of writes at 200 MiB/h, not the 4 GiB volume
    taken_first = seconds_taken(shown)

    advance(lab, "10m")
    second = ec2.create_snapshot(VolumeId=attached, Description="second")["SnapshotId"]
    advance(lab, "5m")
    shown = snapshot(lab, second)
    assert shown["State"] == "completed" and shown["FullSnapshotSizeInBytes"] > full
    assert seconds_taken(shown) < taken_first  # ten minutes of changes, not the whole volume's data
    events = AdminClient(lab.endpoint).get("events?source=ebs&limit=200")["events"]
    done = [e for e in events if e["name"] == "SnapshotCompleted" and e["resource"] in (first["SnapshotId"], second)]
    assert len(done) == 2 and done[1]["detail"]["data_gib"] < done[0]["detail"]["data_gib"]


def test_at_most_five_snapshots_of_a_volume_are_pending(lab, attached):
    """EC2 User Guide, Create Amazon EBS snapshots: "a limit of five pending snapshots for a single ...
    volume"; a sixth gets ConcurrentSnapshotLimitExceeded."""
    ec2 = lab.client("ec2")
    for _ in range(5):
        ec2.create_snapshot(VolumeId=attached)
    code, message, status = error_of(lambda: ec2.create_snapshot(VolumeId=attached))
    assert (code, status) == ("ConcurrentSnapshotLimitExceeded", 400)
    assert message == "Maximum allowed in-progress snapshots for a single volume exceeded."
    advance(lab, "5m")
    ec2.create_snapshot(VolumeId=attached)


def test_copies_wait_for_a_completed_source_and_a_copy_across_regions_is_slower(lab, attached):
    """EC2 User Guide, Copy an Amazon EBS snapshot: a copy to another Region is complete (full); API Reference,
    CopySnapshot: CompletionDurationMinutes in 15-minute increments; a pending source is refused
    (IncorrectState, "Snapshot '...' is not 'completed'.")."""
    ec2, west = lab.client("ec2"), lab.client("ec2", WEST)
    source = ec2.create_snapshot(VolumeId=attached)["SnapshotId"]
    code, message, _ = error_of(lambda: west.copy_snapshot(SourceRegion=EAST, SourceSnapshotId=source))
    assert (code, message) == ("IncorrectState", f"Snapshot '{source}' is not 'completed'.")
    advance(lab, "5m")
    here = ec2.copy_snapshot(SourceRegion=EAST, SourceSnapshotId=source)["SnapshotId"]
    there = west.copy_snapshot(SourceRegion=EAST, SourceSnapshotId=source, Encrypted=True)["SnapshotId"]
    shown = snapshot(lab, there, WEST)
    assert shown["State"] == "pending" and shown["TransferType"] == "standard"
    timed = west.copy_snapshot(SourceRegion=EAST, SourceSnapshotId=source, CompletionDurationMinutes=15)["SnapshotId"]
    code, _, _ = error_of(lambda: west.copy_snapshot(SourceRegion=EAST, SourceSnapshotId=source,
                                                     CompletionDurationMinutes=20))
    assert code == "InvalidParameterValue"
    advance(lab, "30m")
    same, cross, time_based = snapshot(lab, here), snapshot(lab, there, WEST), snapshot(lab, timed, WEST)
    assert {same["State"], cross["State"], time_based["State"]} == {"completed"}
    assert seconds_taken(cross) > seconds_taken(same)
    assert time_based["TransferType"] == "time-based" and time_based["CompletionDurationMinutes"] == 15
    assert seconds_taken(time_based) == pytest.approx(15 * 60, abs=1)


def test_volumes_are_created_then_initialized_lazily_and_fast_snapshot_restore_skips_that(lab, attached):
    """EBS User Guide, Initialize Amazon EBS volumes ("the storage blocks must be pulled down from Amazon S3");
    API Reference, InitializationStatusDetails; EBS User Guide, fast snapshot restore: enabling -> optimizing
    ("60 minutes per TiB") -> enabled, volume creation credits filling from zero."""
    ec2 = lab.client("ec2")
    source = ec2.create_snapshot(VolumeId=attached)["SnapshotId"]
    code, message, _ = error_of(lambda: ec2.create_volume(AvailabilityZone=f"{EAST}b", SnapshotId=source))
    assert (code, message) == ("IncorrectState", f"Snapshot '{source}' is not 'completed'.")
    advance(lab, "5m")
    volume = ec2.create_volume(AvailabilityZone=f"{EAST}b", SnapshotId=source)
    assert volume["State"] == "creating"
    instance = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend"]}])[
        "Reservations"][0]["Instances"][0]["InstanceId"]
    code, message, _ = error_of(lambda: ec2.attach_volume(VolumeId=volume["VolumeId"], InstanceId=instance,
                                                          Device="/dev/sdg"))
    assert (code, message) == ("IncorrectState", f"{volume['VolumeId']} is not 'available'.")
    creating = ec2.describe_volumes(Filters=[{"Name": "status", "Values": ["creating"]}])["Volumes"]
    assert volume["VolumeId"] in {v["VolumeId"] for v in creating}
    advance(lab, "11s")
    shown = ec2.describe_volumes(VolumeIds=[volume["VolumeId"]])["Volumes"][0]
    assert shown["State"] == "available" and shown["FastRestored"] is False
    status = ec2.describe_volume_status(VolumeIds=[volume["VolumeId"]])["VolumeStatuses"][0]
    assert status["InitializationStatusDetails"]["InitializationType"] == "default"
    assert 0 <= status["InitializationStatusDetails"]["Progress"] < 100
    assert {"Name": "initialization-state", "Status": "initializing"} in status["VolumeStatus"]["Details"]
    advance(lab, "10m")
    status = ec2.describe_volume_status(VolumeIds=[volume["VolumeId"]])["VolumeStatuses"][0]
    assert status["InitializationStatusDetails"]["Progress"] == 100

    enabled = ec2.enable_fast_snapshot_restores(AvailabilityZones=[f"{EAST}a"], SourceSnapshotIds=[source, "snap-0"])
    assert [(s["SnapshotId"], s["State"]) for s in enabled["Successful"]] == [(source, "enabling")]
    assert enabled["Unsuccessful"][0]["FastSnapshotRestoreStateErrors"][0]["Error"]["Code"] == \
        "InvalidSnapshot.NotFound"
    advance(lab, "31s")
    described = ec2.describe_fast_snapshot_restores(Filters=[{"Name": "snapshot-id", "Values": [source]}])
    assert [r["State"] for r in described["FastSnapshotRestores"]] == ["optimizing"]
    listed = json.loads(aws(lab, EAST, "ec2", "describe-fast-snapshot-restores", "--filters",
                            f"Name=snapshot-id,Values={source}").stdout)["FastSnapshotRestores"]
    assert [(r["AvailabilityZone"], r["State"]) for r in listed] == [(f"{EAST}a", "optimizing")]
    advance(lab, "10m")  # a 4 GiB snapshot optimizes in a minute; its credit bucket fills in 24 s
    restore = ec2.describe_fast_snapshot_restores(Filters=[{"Name": "state", "Values": ["enabled"]}])[
        "FastSnapshotRestores"]
    assert [r["SnapshotId"] for r in restore] == [source] and restore[0]["EnabledTime"] > restore[0]["EnablingTime"]
    fast = ec2.create_volume(AvailabilityZone=f"{EAST}a", SnapshotId=source)["VolumeId"]
    advance(lab, "11s")
    assert ec2.describe_volumes(VolumeIds=[fast])["Volumes"][0]["FastRestored"] is True
    status = ec2.describe_volume_status(VolumeIds=[fast])["VolumeStatuses"][0]
    assert status["InitializationStatusDetails"]["Progress"] == 100
    disabled = ec2.disable_fast_snapshot_restores(AvailabilityZones=[f"{EAST}a"], SourceSnapshotIds=[source])
    assert disabled["Successful"][0]["State"] == "disabling"
    advance(lab, "1m")
    assert [r["State"] for r in ec2.describe_fast_snapshot_restores()["FastSnapshotRestores"]
            if r["SnapshotId"] == source] == ["disabled"]


# -- AMIs -----------------------------------------------------------------------------------------------


def test_an_ami_is_pending_until_its_snapshots_complete_and_keeps_them_from_deletion(lab):
    """EC2 User Guide, Create an Amazon EBS-backed AMI: "it can take several minutes"; API Reference,
    DeleteSnapshot: "You cannot delete a snapshot of the root device of an EBS volume used by a registered
    AMI" -- InvalidSnapshot.InUse, "The snapshot snap-... is currently in use by ami-..."."""
    ec2 = lab.client("ec2")
    instance = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend"]}])[
        "Reservations"][0]["Instances"][0]
    image_id = ec2.create_image(InstanceId=instance["InstanceId"], Name="backend-image")["ImageId"]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["State"] == "pending"
    used = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
    assert len(used) == len([m for m in instance["BlockDeviceMappings"] if "Ebs" in m])
    assert {snapshot(lab, s)["State"] for s in used} == {"pending"}
    assert image_id in {i["ImageId"] for i in ec2.describe_images(
        Owners=["self"], Filters=[{"Name": "state", "Values": ["pending"]}])["Images"]}
    waiter = ec2.get_waiter("image_available")
    with pytest.raises(WaiterError):
        waiter.wait(ImageIds=[image_id], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    advance(lab, "10m")
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "available"
    waiter.wait(ImageIds=[image_id], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    assert error_of(lambda: ec2.delete_snapshot(SnapshotId=used[0])) == (
        "InvalidSnapshot.InUse", f"The snapshot {used[0]} is currently in use by {image_id}", 400)
    refused = aws(lab, EAST, "ec2", "delete-snapshot", "--snapshot-id", used[0], check=False)
    assert refused.returncode != 0 and "(InvalidSnapshot.InUse)" in refused.stderr and image_id in refused.stderr

    registered = ec2.register_image(Name="from-snapshot", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": used[-1]}}])["ImageId"]
    ec2.deregister_image(ImageId=image_id)
    assert error_of(lambda: ec2.delete_snapshot(SnapshotId=used[-1]))[0] == "InvalidSnapshot.InUse"
    ec2.deregister_image(ImageId=registered)
    ec2.delete_snapshot(SnapshotId=used[-1])


def test_ami_names_are_unique_a_pending_ami_cannot_launch_and_a_copy_keeps_every_disk(lab):
    """EC2 API Reference, error codes: InvalidAMIName.Duplicate ("The specified AMI name is already in use by
    another AMI"), InvalidAMIID.Unavailable ("not in a state from which you can launch an instance");
    RegisterImage keeps its RootDeviceName; CopyImage copies each of the AMI's snapshots and keeps its block
    device mappings (EC2 User Guide, Copy an AMI)."""
    ec2, west = lab.client("ec2"), lab.client("ec2", WEST)
    instance = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend"]}])[
        "Reservations"][0]["Instances"][0]
    name = f"backend-{uuid.uuid4().hex[:8]}"
    image_id = ec2.create_image(InstanceId=instance["InstanceId"], Name=name)["ImageId"]
    code, message, _ = error_of(lambda: ec2.create_image(InstanceId=instance["InstanceId"], Name=name))
    assert code == "InvalidAMIName.Duplicate" and image_id in message
    code, message, _ = error_of(lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                                          InstanceType="t3.micro"))
    assert code == "InvalidAMIID.Unavailable" and "pending" in message
    advance(lab, "15m")
    source = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert source["State"] == "available"
    disks = [(m["DeviceName"], m["Ebs"]["VolumeSize"], m["Ebs"]["VolumeType"]) for m in source["BlockDeviceMappings"]]
    assert len(disks) >= 2

    copied = west.copy_image(SourceImageId=image_id, SourceRegion=EAST, Name=f"{name}-dr")["ImageId"]
    assert error_of(lambda: west.copy_image(SourceImageId=image_id, SourceRegion=EAST, Name=f"{name}-dr"))[0] == \
        "InvalidAMIName.Duplicate"
    copy = west.describe_images(ImageIds=[copied])["Images"][0]
    assert copy["State"] == "pending" and copy["RootDeviceName"] == source["RootDeviceName"]
    assert source["RootDeviceType"] == copy["RootDeviceType"] == "ebs"
    assert [(m["DeviceName"], m["Ebs"]["VolumeSize"], m["Ebs"]["VolumeType"])
            for m in copy["BlockDeviceMappings"]] == disks
    copies = [m["Ebs"]["SnapshotId"] for m in copy["BlockDeviceMappings"]]
    shown = {s["SnapshotId"]: s for s in west.describe_snapshots(SnapshotIds=copies)["Snapshots"]}
    assert all(f"from SourceAmi {image_id}" in shown[s]["Description"] and copied in shown[s]["Description"]
               for s in copies)
    advance(lab, "2h")
    assert west.describe_images(ImageIds=[copied])["Images"][0]["State"] == "available"
    assert error_of(lambda: west.delete_snapshot(SnapshotId=copies[0]))[0] == "InvalidSnapshot.InUse"

    registered = ec2.register_image(Name=f"{name}-root", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": source["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]}}])[
        "ImageId"]
    assert ec2.describe_images(ImageIds=[registered])["Images"][0]["RootDeviceName"] == "/dev/xvda"
    for region_client, image in ((ec2, registered), (west, copied), (ec2, image_id)):
        region_client.deregister_image(ImageId=image)


def test_an_ami_holds_its_instance_s_snapshots_alone_and_a_copy_names_its_source(lab):
    """EC2 User Guide, Create an Amazon EBS-backed AMI: "Amazon EC2 creates snapshots of the instance's root
    volume and any other EBS volumes attached" -- those and no other (moto added a 15 GiB snapshot of its own to
    every AMI); DescribeImages: a copy's SourceImageId and SourceImageRegion; an AWS Backup copy of an EC2
    recovery point is an AMI copy too, with copies of its snapshots."""
    ec2, west = lab.client("ec2"), lab.client("ec2", WEST)

    def own_snapshots(client: Any) -> set[str]:
        return {s["SnapshotId"] for s in client.describe_snapshots(OwnerIds=["self"])["Snapshots"]}

    instance = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend"]}])[
        "Reservations"][0]["Instances"][0]
    before, west_before = own_snapshots(ec2), own_snapshots(west)
    image_id = ec2.create_image(InstanceId=instance["InstanceId"], Name=f"held-{uuid.uuid4().hex[:8]}")["ImageId"]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    taken = {m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m}
    assert own_snapshots(ec2) - before == taken
    assert len(taken) == len([m for m in instance["BlockDeviceMappings"] if "Ebs" in m])
    assert "SourceImageId" not in image and "SourceImageRegion" not in image
    advance(lab, "15m")

    copied = west.copy_image(SourceImageId=image_id, SourceRegion=EAST, Name=f"held-{uuid.uuid4().hex[:8]}")[
        "ImageId"]
    copy = west.describe_images(ImageIds=[copied])["Images"][0]
    assert (copy["SourceImageId"], copy["SourceImageRegion"]) == (image_id, EAST)
    assert own_snapshots(west) - west_before == {m["Ebs"]["SnapshotId"] for m in copy["BlockDeviceMappings"]}
    shown = aws(lab, WEST, "ec2", "describe-images", "--image-ids", copied, "--query",
                "Images[0].[SourceImageId,SourceImageRegion]")
    assert json.loads(shown.stdout) == [image_id, EAST]
    advance(lab, "2h")
    for region_client, image in ((west, copied), (ec2, image_id)):
        region_client.deregister_image(ImageId=image, DeleteAssociatedSnapshots=True)
    assert own_snapshots(ec2) == before and own_snapshots(west) == west_before


def test_an_instance_of_an_ami_gets_a_volume_from_each_of_its_mappings(lab):
    """EC2 User Guide, Block device mappings: an instance launched from an AMI gets the AMI's EBS volumes, each
    made from its snapshot (Encrypted as the snapshot is), and the launch's own mappings override a device's
    settings (a bigger VolumeSize) or drop it (NoDevice)."""
    ec2 = lab.client("ec2")
    instance = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend"]}])[
        "Reservations"][0]["Instances"][0]
    image_id = ec2.create_image(InstanceId=instance["InstanceId"], Name=f"launch-{uuid.uuid4().hex[:8]}")["ImageId"]
    advance(lab, "15m")
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    disks = {m["DeviceName"]: m["Ebs"] for m in image["BlockDeviceMappings"]}
    volumes = {v["VolumeId"]: v for v in ec2.describe_volumes(VolumeIds=[
        m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]])["Volumes"]}
    assert sorted((d["VolumeSize"], d["Encrypted"]) for d in disks.values()) == sorted(
        (v["Size"], v["Encrypted"]) for v in volumes.values())
    assert any(d["Encrypted"] for d in disks.values())

    def launched_disks(**extra: Any) -> dict[str, dict[str, Any]]:
        made = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro", **extra)
        new = made["Instances"][0]
        ids = {m["DeviceName"]: m["Ebs"]["VolumeId"] for m in new["BlockDeviceMappings"]}
        shown = {v["VolumeId"]: v for v in ec2.describe_volumes(VolumeIds=list(ids.values()))["Volumes"]}
        ec2.terminate_instances(InstanceIds=[new["InstanceId"]])
        return {device: shown[volume_id] for device, volume_id in ids.items()}

    plain = launched_disks()
    assert {device: (v["Size"], v["SnapshotId"], v["Encrypted"]) for device, v in plain.items()} == {
        device: (d["VolumeSize"], d["SnapshotId"], d["Encrypted"]) for device, d in disks.items()}
    root, *others = sorted(disks)
    changed = launched_disks(BlockDeviceMappings=[{"DeviceName": root, "Ebs": {"VolumeSize": 60}},
                                                  *[{"DeviceName": d, "NoDevice": ""} for d in others]])
    assert list(changed) == [root] and changed[root]["Size"] == 60
    assert changed[root]["SnapshotId"] == disks[root]["SnapshotId"]


def test_an_instance_of_an_ami_that_does_not_exist_is_refused(lab):
    """EC2 API Reference, error codes: InvalidAMIID.NotFound, "The specified AMI does not exist"."""
    code, message, status = error_of(lambda: lab.client("ec2", WEST).run_instances(
        ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType="t3.micro"))
    assert (code, status) == ("InvalidAMIID.NotFound", 400) and "ami-12345678" in message


def test_a_volume_smaller_than_its_snapshot_or_in_an_unknown_zone_is_refused(lab, attached):
    """EC2 API Reference, CreateVolume: "You can specify a volume size that is equal to or larger than the
    snapshot size"; the Availability Zone must be one of the Region's."""
    ec2 = lab.client("ec2")
    snapshot_id = ec2.create_snapshot(VolumeId=attached)["SnapshotId"]
    advance(lab, "10m")
    size = snapshot(lab, snapshot_id)["VolumeSize"]
    code, message, status = error_of(lambda: ec2.create_volume(
        SnapshotId=snapshot_id, AvailabilityZone=f"{EAST}a", Size=size - 1))
    assert (code, status) == ("InvalidParameterValue", 400) and snapshot_id in message and f">= {size}GB" in message
    code, message, _ = error_of(lambda: ec2.create_volume(Size=1, AvailabilityZone=f"{EAST}z"))
    assert code == "InvalidParameterValue" and f"{EAST}z" in message
    ec2.delete_snapshot(SnapshotId=snapshot_id)


def test_an_encrypted_volume_s_key_follows_its_snapshots_copies_and_volumes(lab):
    """EC2 API Reference, Snapshot and Volume KmsKeyId: the key that protects the data; CopySnapshot: a copy in
    another Region without KmsKeyId is encrypted with that Region's default EBS key (aws/ebs)."""
    ec2, west = lab.client("ec2"), lab.client("ec2", WEST)
    volume = ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend-data"]}])[
        "Volumes"][0]
    assert volume["Encrypted"] and volume["KmsKeyId"].startswith(f"arn:aws:kms:{EAST}:")
    snapshot_id = ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"]
    assert snapshot(lab, snapshot_id)["KmsKeyId"] == volume["KmsKeyId"]
    advance(lab, "30m")
    copy_id = west.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion=EAST, Encrypted=True)["SnapshotId"]
    copied = snapshot(lab, copy_id, WEST)
    default_key = lab.client("kms", WEST).describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
    assert copied["Encrypted"] and copied["KmsKeyId"] == default_key
    made = ec2.create_volume(SnapshotId=snapshot_id, AvailabilityZone=f"{EAST}a")
    assert made["Encrypted"] and made["KmsKeyId"] == volume["KmsKeyId"]
    ec2.delete_volume(VolumeId=made["VolumeId"])
    advance(lab, "2h")
    west.delete_snapshot(SnapshotId=copy_id)
    ec2.delete_snapshot(SnapshotId=snapshot_id)


# -- the EBS direct APIs --------------------------------------------------------------------------------


def test_list_changed_blocks_compares_snapshots_of_one_lineage(lab, attached):
    """EBS direct APIs reference, ListChangedBlocks: the blocks that differ, FirstBlockToken absent where the
    first snapshot lacks the block, MaxResults 100-10000 with NextToken, StartingBlockIndex, BlockSize 524288;
    ValidationException UNRELATED_SNAPSHOTS for other lineages, ResourceNotFoundException SNAPSHOT_NOT_FOUND."""
    ec2, ebs = lab.client("ec2"), lab.client("ebs")
    first = ec2.create_snapshot(VolumeId=attached)["SnapshotId"]
    advance(lab, "5m")
    second = ec2.create_snapshot(VolumeId=attached)["SnapshotId"]
    advance(lab, "5m")
    page = ebs.list_changed_blocks(FirstSnapshotId=first, SecondSnapshotId=second)
    assert page["BlockSize"] == 524288 and page["VolumeSize"] == 4 and not page.get("NextToken")
    changed = page["ChangedBlocks"]
    # five minutes at 200 MiB/h, in 512 KiB blocks: some 33 blocks, written one after the other
    indexes = [block["BlockIndex"] for block in changed]
    assert 30 <= len(indexes) <= 36 and indexes == list(range(indexes[0], indexes[0] + len(indexes)))
    assert all("SecondBlockToken" in block and "FirstBlockToken" not in block for block in changed)
    later = ebs.list_changed_blocks(FirstSnapshotId=first, SecondSnapshotId=second,
                                    StartingBlockIndex=indexes[-1])["ChangedBlocks"]
    assert [block["BlockIndex"] for block in later] == [indexes[-1]]
    # every block of the second snapshot, a hundred at a time
    page = ebs.list_changed_blocks(SecondSnapshotId=second, MaxResults=100)
    every = page["ChangedBlocks"]
    while page.get("NextToken"):
        assert len(page["ChangedBlocks"]) == 100
        page = ebs.list_changed_blocks(SecondSnapshotId=second, MaxResults=100, NextToken=page["NextToken"])
        every += page["ChangedBlocks"]
    assert len(every) * 524288 == snapshot(lab, second)["FullSnapshotSizeInBytes"]
    held = ebs.list_snapshot_blocks(SnapshotId=first, MaxResults=100)
    assert held["Blocks"][0]["BlockIndex"] == 0 and held["NextToken"]
    whole = ebs.list_changed_blocks(SecondSnapshotId=first, MaxResults=100)["ChangedBlocks"]
    assert whole[0] == {"BlockIndex": 0, "SecondBlockToken": held["Blocks"][0]["BlockToken"]}

    other = ec2.create_volume(AvailabilityZone=f"{EAST}a", Size=4)["VolumeId"]
    advance(lab, "11s")
    unrelated = ec2.create_snapshot(VolumeId=other)["SnapshotId"]
    advance(lab, "1m")
    with pytest.raises(ClientError) as refused:
        ebs.list_changed_blocks(FirstSnapshotId=first, SecondSnapshotId=unrelated)
    error = refused.value.response
    assert (error["Error"]["Code"], error["Reason"]) == ("ValidationException", "UNRELATED_SNAPSHOTS")
    with pytest.raises(ClientError) as refused:
        ebs.list_changed_blocks(FirstSnapshotId=first, SecondSnapshotId="snap-0123456789abcdef0")
    error = refused.value.response
    assert (error["Error"]["Code"], error["Reason"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ResourceNotFoundException", "SNAPSHOT_NOT_FOUND", 404)
    with pytest.raises(ClientError) as refused:
        ebs.list_changed_blocks(FirstSnapshotId=first, SecondSnapshotId=second, NextToken="not-a-token")
    assert refused.value.response["Reason"] == "INVALID_PAGE_TOKEN"
    with pytest.raises(ClientError) as refused:
        ebs.get_snapshot_block(SnapshotId=first, BlockIndex=0, BlockToken=held["Blocks"][0]["BlockToken"])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 501)

    # a volume restored from the first snapshot continues its lineage
    restored = ec2.create_volume(AvailabilityZone=f"{EAST}a", SnapshotId=first)["VolumeId"]
    advance(lab, "11s")
    of_restored = ec2.create_snapshot(VolumeId=restored)["SnapshotId"]
    advance(lab, "1m")
    assert ebs.list_changed_blocks(FirstSnapshotId=first, SecondSnapshotId=of_restored)["ChangedBlocks"] == []


def test_snapshots_started_by_the_ebs_direct_apis_compare_with_their_parent(lab):
    """EBS direct APIs: StartSnapshot with ParentSnapshotId makes an incremental snapshot; the changed blocks are
    the ones written into it."""
    ebs = lab.client("ebs")
    parent = ebs.start_snapshot(VolumeSize=1, Description="parent")["SnapshotId"]
    data = b"a" * 524288
    checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
    for index in (0, 1):
        ebs.put_snapshot_block(SnapshotId=parent, BlockIndex=index, BlockData=data, DataLength=len(data),
                               Checksum=checksum, ChecksumAlgorithm="SHA256")
    ebs.complete_snapshot(SnapshotId=parent, ChangedBlocksCount=2)
    child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=parent, Description="child")["SnapshotId"]
    ebs.put_snapshot_block(SnapshotId=child, BlockIndex=1, BlockData=data, DataLength=len(data), Checksum=checksum,
                           ChecksumAlgorithm="SHA256")
    ebs.put_snapshot_block(SnapshotId=child, BlockIndex=5, BlockData=data, DataLength=len(data), Checksum=checksum,
                           ChecksumAlgorithm="SHA256")
    ebs.complete_snapshot(SnapshotId=child, ChangedBlocksCount=2)
    changed = ebs.list_changed_blocks(FirstSnapshotId=parent, SecondSnapshotId=child)["ChangedBlocks"]
    assert [(b["BlockIndex"], "FirstBlockToken" in b) for b in changed] == [(1, True), (5, False)]


# -- waiters and the aws CLI ----------------------------------------------------------------------------


def test_a_boto3_waiter_completes_while_the_clock_runs_fast(lab, attached):
    """botocore's SnapshotCompleted waiter polls DescribeSnapshots on wall-clock time (15 s x 40); with the
    clock at 300x a two-minute snapshot completes within a few polls of a one-second waiter."""
    ec2 = lab.client("ec2")
    snapshot_id = ec2.create_snapshot(VolumeId=attached)["SnapshotId"]
    admin = AdminClient(lab.endpoint)
    admin.post("clock", {"action": "speed", "factor": 300})
    admin.post("clock", {"action": "resume"})
    try:
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id],
                                                  WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    finally:
        admin.post("clock", {"action": "pause"})
        admin.post("clock", {"action": "speed", "factor": 1})
    assert snapshot(lab, snapshot_id)["State"] == "completed"


def test_the_aws_cli_waiter_completes_while_the_clock_runs_fast(lab, attached):
    """`aws ec2 wait snapshot-completed` polls every 15 s of wall time (its Delay cannot be set on the command
    line); with the clock at 10x a two-minute snapshot completes between its first polls, as the labs' text
    tells learners (`lab clock speed N`, then the CLI's waiter)."""
    snapshot_id = lab.client("ec2").create_snapshot(VolumeId=attached)["SnapshotId"]
    assert snapshot(lab, snapshot_id)["State"] == "pending"
    admin = AdminClient(lab.endpoint)
    admin.post("clock", {"action": "speed", "factor": 10})
    admin.post("clock", {"action": "resume"})
    try:
        aws(lab, EAST, "ec2", "wait", "snapshot-completed", "--snapshot-ids", snapshot_id)
    finally:
        admin.post("clock", {"action": "pause"})
        admin.post("clock", {"action": "speed", "factor": 1})
    assert snapshot(lab, snapshot_id)["State"] == "completed"


def test_the_aws_cli_sees_pending_snapshots_refusals_and_changed_blocks(lab, attached):
    ec2 = lab.client("ec2")
    created = json.loads(aws(lab, EAST, "ec2", "create-snapshot", "--volume-id", attached).stdout)
    assert created["State"] == "pending" and created["Progress"] == "0%"
    listed = json.loads(aws(lab, EAST, "ec2", "describe-snapshots", "--snapshot-ids", created["SnapshotId"]).stdout)
    assert listed["Snapshots"][0]["State"] == "pending"
    refused = aws(lab, WEST, "ec2", "copy-snapshot", "--source-region", EAST, "--source-snapshot-id",
                  created["SnapshotId"], check=False)
    assert refused.returncode != 0 and "IncorrectState" in refused.stderr and "is not 'completed'" in refused.stderr

    # `aws ec2 wait snapshot-completed` (botocore's waiter, as boto3's above) accepts the completed snapshot
    advance(lab, "5m")
    aws(lab, EAST, "ec2", "wait", "snapshot-completed", "--snapshot-ids", created["SnapshotId"])
    previous = [s for s in ec2.describe_snapshots(OwnerIds=["self"], Filters=[
        {"Name": "volume-id", "Values": [attached]}, {"Name": "status", "Values": ["completed"]}])["Snapshots"]
        if s["SnapshotId"] != created["SnapshotId"]]
    base = max(previous, key=lambda s: s["StartTime"])["SnapshotId"]
    changed = json.loads(aws(lab, EAST, "ebs", "list-changed-blocks", "--first-snapshot-id", base,
                             "--second-snapshot-id", created["SnapshotId"]).stdout)
    assert changed["BlockSize"] == 524288 and changed["ChangedBlocks"]
    unrelated = aws(lab, EAST, "ebs", "list-changed-blocks", "--second-snapshot-id", "snap-0123456789abcdef0",
                    check=False)
    assert unrelated.returncode != 0 and "ResourceNotFoundException" in unrelated.stderr


def test_a_restart_keeps_what_is_in_progress_where_it_was(lab, attached):
    """The timing is the EBS engine's state, saved with the sandbox: after `lab down` and `lab up` a pending
    snapshot and a CREATING table are as far along as before, and finish when they would have."""
    ec2, dynamodb = lab.client("ec2"), lab.client("dynamodb")
    table = "restart-source"
    dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "kept"}})
    backup = dynamodb.create_backup(TableName=table, BackupName="before-restart")["BackupDetails"]["BackupArn"]
    advance(lab, "1m")
    dynamodb.restore_table_from_backup(TargetTableName="restart-restored", BackupArn=backup)
    snapshot_id = ec2.create_snapshot(VolumeId=attached)["SnapshotId"]
    advance(lab, "10s")
    before = snapshot(lab, snapshot_id)
    assert before["State"] == "pending"
    lab.down()
    lab.up()
    after = snapshot(lab, snapshot_id)
    assert (after["State"], after["Progress"]) == (before["State"], before["Progress"])
    assert lab.client("dynamodb").describe_table(TableName="restart-restored")["Table"]["TableStatus"] == "CREATING"
    advance(lab, "15m")
    assert snapshot(lab, snapshot_id)["State"] == "completed"
    restored = lab.client("dynamodb").scan(TableName="restart-restored")["Items"]
    assert restored == [{"pk": {"S": "kept"}}]


def test_dlm_snapshots_take_the_same_time_and_their_copies_wait_for_them(lab, attached):
    """A lifecycle policy's snapshots are EC2 snapshots like any other (`pending`, then `completed`); its
    cross-Region copies start once the snapshot is completed (CopySnapshot refuses a pending source)."""
    ec2, west = lab.client("ec2"), lab.client("ec2", WEST)
    ec2.create_tags(Resources=[attached], Tags=[{"Key": "dlm-timed", "Value": "yes"}])
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "dlm.amazonaws.com"}}]}
    role = lab.client("iam").create_role(RoleName="dlm-timed", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"]["Arn"]
    now = float(AdminClient(lab.endpoint).get("clock")["epoch"])
    due = int(now // 3600 + 1) % 24  # the next full hour
    policy_id = lab.client("dlm").create_lifecycle_policy(
        ExecutionRoleArn=role, Description="timed", State="ENABLED", PolicyDetails={
            "ResourceTypes": ["VOLUME"], "TargetTags": [{"Key": "dlm-timed", "Value": "yes"}],
            "Schedules": [{"Name": "hourly", "CreateRule": {"CronExpression": f"cron(0 {due} * * ? *)"},
                           "RetainRule": {"Count": 3},
                           "CrossRegionCopyRules": [{"TargetRegion": WEST, "Encrypted": False,
                                                     "RetainRule": {"Interval": 1, "IntervalUnit": "DAYS"}}]}]})[
        "PolicyId"]
    advance(lab, f"{3600 - now % 3600 + 5:.0f}s")  # five seconds after the run
    tag = [{"Name": "tag:aws:dlm:lifecycle-policy-id", "Values": [policy_id]}]
    taken = ec2.describe_snapshots(OwnerIds=["self"], Filters=tag)["Snapshots"]
    assert [s["State"] for s in taken] == ["pending"]
    assert west.describe_snapshots(OwnerIds=["self"], Filters=tag)["Snapshots"] == []
    advance(lab, "10m")
    assert ec2.describe_snapshots(SnapshotIds=[taken[0]["SnapshotId"]])["Snapshots"][0]["State"] == "completed"
    copies = west.describe_snapshots(OwnerIds=["self"], Filters=tag)["Snapshots"]
    assert len(copies) == 1
    lab.client("dlm").delete_lifecycle_policy(PolicyId=policy_id)


# -- instances launched, started and stopped -------------------------------------------------------------

def instance_state(lab: SandboxHandle, instance_id: str, region: str = EAST) -> str:
    reservations = lab.client("ec2", region).describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservations[0]["Instances"][0]["State"]["Name"]


def test_a_launched_instance_is_pending_then_running_and_a_stopped_one_stopping_then_stopped(lab):
    """EC2 API Reference, RunInstances: "When you launch an instance, it enters the pending state. After the
    instance is ready for you, it enters the running state"; StopInstances moves it through `stopping` to
    `stopped`, TerminateInstances through `shutting-down` to `terminated` (EC2 User Guide: Instance state
    changes). The state filters judge the state shown."""
    ec2 = lab.client("ec2", WEST)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    launched = ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2, InstanceType="t3.micro")["Instances"]
    ids = [instance["InstanceId"] for instance in launched]
    assert {instance["State"]["Name"] for instance in launched} == {"pending"}
    assert [instance_state(lab, each, WEST) for each in ids] == ["pending", "pending"]
    running = ec2.describe_instances(InstanceIds=ids, Filters=[
        {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
    assert running == []
    statuses = ec2.describe_instance_status(InstanceIds=ids)["InstanceStatuses"]
    assert statuses == []  # ("By default, only running instances are described")
    every = ec2.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)["InstanceStatuses"]
    assert {status["InstanceState"]["Name"] for status in every} == {"pending"}
    advance(lab, "31s")  # ec2.run
    assert [instance_state(lab, each, WEST) for each in ids] == ["running", "running"]

    stopping = ec2.stop_instances(InstanceIds=ids[:1])["StoppingInstances"][0]
    assert stopping["CurrentState"]["Name"] == "stopping"
    assert instance_state(lab, ids[0], WEST) == "stopping"
    code, message, status = error_of(lambda: ec2.start_instances(InstanceIds=ids[:1]))
    assert (code, status) == ("IncorrectInstanceState", 400)
    assert message == f"The instance '{ids[0]}' is not in a state from which it can be started."
    advance(lab, "31s")  # ec2.stop
    assert instance_state(lab, ids[0], WEST) == "stopped"
    again_stopped = ec2.stop_instances(InstanceIds=ids[:1])["StoppingInstances"][0]
    assert again_stopped["CurrentState"]["Name"] == "stopped" and instance_state(lab, ids[0], WEST) == "stopped"
    assert ec2.start_instances(InstanceIds=ids[:1])["StartingInstances"][0]["CurrentState"]["Name"] == "pending"
    assert instance_state(lab, ids[0], WEST) == "pending"
    advance(lab, "31s")
    assert instance_state(lab, ids[0], WEST) == "running"
    # starting a running instance changes nothing, nor stopping a stopped one: the answer says where it is
    again_started = ec2.start_instances(InstanceIds=ids[:1])["StartingInstances"][0]
    assert again_started["CurrentState"]["Name"] == "running" and instance_state(lab, ids[0], WEST) == "running"

    # one that has never run cannot be stopped yet (AWS's answer, quoted in cloud-custodian#6014); it can be
    # terminated
    again = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    code, message, status = error_of(lambda: ec2.stop_instances(InstanceIds=[again]))
    assert (code, status) == ("IncorrectInstanceState", 400)
    assert message == f"Instance '{again}' cannot be stopped as it has never reached the 'running' state."
    assert instance_state(lab, again, WEST) == "pending"
    # terminated: `shutting-down` (ec2.terminate), then `terminated` (EC2 User Guide: Terminate instances)
    ending = ec2.terminate_instances(InstanceIds=[*ids, again])["TerminatingInstances"]
    assert {change["CurrentState"]["Name"] for change in ending} == {"shutting-down"}
    assert [instance_state(lab, each, WEST) for each in [*ids, again]] == ["shutting-down"] * 3
    assert ec2.describe_instances(InstanceIds=[again], Filters=[
        {"Name": "instance-state-name", "Values": ["terminated"]}])["Reservations"] == []
    advance(lab, "31s")
    assert [instance_state(lab, each, WEST) for each in [*ids, again]] == ["terminated"] * 3


def test_state_change_answers_name_the_state_the_instance_was_shown_in(lab):
    """The answers of StartInstances, StopInstances and TerminateInstances give each instance's PreviousState as
    DescribeInstances showed it (`pending`, `stopping`), and a call that does not move it answers its state as
    both (EC2 API Reference: InstanceStateChange)."""
    ec2 = lab.client("ec2", WEST)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def change(answer: dict[str, Any], key: str) -> tuple[str, str]:
        shown = answer[key][0]
        return shown["PreviousState"]["Name"], shown["CurrentState"]["Name"]

    launching, stopping, restarting = (ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
                                       ["InstanceId"] for _ in range(3))
    assert change(ec2.start_instances(InstanceIds=[launching]), "StartingInstances") == ("pending", "pending")
    advance(lab, "31s")
    assert change(ec2.stop_instances(InstanceIds=[stopping]), "StoppingInstances") == ("running", "stopping")
    assert change(ec2.stop_instances(InstanceIds=[stopping]), "StoppingInstances") == ("stopping", "stopping")
    assert change(ec2.stop_instances(InstanceIds=[restarting]), "StoppingInstances") == ("running", "stopping")
    advance(lab, "31s")
    assert change(ec2.start_instances(InstanceIds=[restarting]), "StartingInstances") == ("stopped", "pending")
    assert change(ec2.stop_instances(InstanceIds=[restarting]), "StoppingInstances") == ("pending", "stopping")
    ending = ec2.terminate_instances(InstanceIds=[launching])
    assert change(ending, "TerminatingInstances") == ("running", "shutting-down")
    assert change(ec2.terminate_instances(InstanceIds=[launching]), "TerminatingInstances") == (
        "shutting-down", "shutting-down")
    advance(lab, "31s")
    assert change(ec2.terminate_instances(InstanceIds=[launching]), "TerminatingInstances") == (
        "terminated", "terminated")
    ec2.terminate_instances(InstanceIds=[stopping, restarting])


def test_the_instance_running_waiters_of_boto3_and_the_aws_cli_wait_for_the_launch(lab):
    """botocore's InstanceRunning waiter (boto3's, and `aws ec2 wait instance-running`) polls until the
    instance leaves `pending`; with the clock running it returns once `ec2.run` has passed."""
    ec2 = lab.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    first, second = (ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
                     for _ in range(2))
    with pytest.raises(WaiterError):  # the clock is paused: still pending
        ec2.get_waiter("instance_running").wait(InstanceIds=[first], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    admin = AdminClient(lab.endpoint)
    admin.post("clock", {"action": "speed", "factor": 10})
    admin.post("clock", {"action": "resume"})
    try:
        ec2.get_waiter("instance_running").wait(InstanceIds=[first], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        aws(lab, EAST, "ec2", "wait", "instance-running", "--instance-ids", second)
    finally:
        admin.post("clock", {"action": "pause"})
        admin.post("clock", {"action": "speed", "factor": 1})
    assert instance_state(lab, first) == instance_state(lab, second) == "running"
    ec2.terminate_instances(InstanceIds=[first, second])


def test_the_world_s_own_backend_is_running_from_the_start(lab):
    """The seeded world has existed long before the learner arrives: its backend is not `pending`."""
    found = lab.client("ec2").describe_instances(Filters=[
        {"Name": "tag:Name", "Values": ["securecart-backend"]}])["Reservations"][0]["Instances"][0]
    assert found["State"]["Name"] == "running"
