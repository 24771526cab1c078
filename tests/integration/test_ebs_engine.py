"""EBS: DLM lifecycle policies run by the clock (snapshots, copies to us-west-2, retention) and EBS/EC2
recovery points of AWS Backup, through real boto3 against a running sandbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lab.admin_client import AdminClient
from tests.conftest import SandboxHandle, quiet_sandbox

EAST, WEST, ACCOUNT = "us-east-1", "us-west-2", "000000000000"
POLICY_TAG = "aws:dlm:lifecycle-policy-id"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    with quiet_sandbox(tmp_path_factory.mktemp("ebs") / "state", lab_env) as handle:
        yield handle


@pytest.fixture(scope="module")
def role(lab: SandboxHandle) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
        "Service": ["dlm.amazonaws.com", "backup.amazonaws.com"]}}]}
    return lab.client("iam").create_role(RoleName="lab-ebs-role", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"]["Arn"]


def advance(lab: SandboxHandle, duration: str) -> None:
    AdminClient(lab.endpoint).post("clock", {"action": "advance", "duration": duration})


def tagged_volume(lab: SandboxHandle, tag: str, region: str = EAST) -> str:
    return lab.client("ec2", region).create_volume(
        AvailabilityZone=f"{region}a", Size=8, VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "backup", "Value": tag},
                                                               {"Key": "team", "Value": "shop"}]}])["VolumeId"]


def policy_snapshots(lab: SandboxHandle, policy_id: str, region: str) -> list[dict[str, Any]]:
    return lab.client("ec2", region).describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": f"tag:{POLICY_TAG}", "Values": [policy_id]}])["Snapshots"]


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_dlm_policy_snapshots_copies_to_us_west_2_and_keeps_what_its_rules_say(lab, role):
    tag = uuid.uuid4().hex[:8]
    volume = tagged_volume(lab, tag)
    dlm = lab.client("dlm")
    policy_id = dlm.create_lifecycle_policy(
        ExecutionRoleArn=role, Description="twice a day, DR copy", State="ENABLED", Tags={"owner": "lab"},
        PolicyDetails={
            "PolicyType": "EBS_SNAPSHOT_MANAGEMENT", "ResourceTypes": ["VOLUME"],
            "TargetTags": [{"Key": "backup", "Value": tag}],
            "Schedules": [{
                "Name": "twice-daily", "CopyTags": True, "TagsToAdd": [{"Key": "made-by", "Value": "dlm"}],
                "CreateRule": {"Interval": 12, "IntervalUnit": "HOURS", "Times": ["03:00"]},
                "RetainRule": {"Count": 2},
                "CrossRegionCopyRules": [{"TargetRegion": WEST, "Encrypted": False, "CopyTags": True,
                                          "RetainRule": {"Interval": 1, "IntervalUnit": "DAYS"}}]}]})["PolicyId"]
    policy = dlm.get_lifecycle_policy(PolicyId=policy_id)["Policy"]
    assert policy["State"] == "ENABLED" and policy["PolicyArn"].endswith(f"policy/{policy_id}")
    assert policy["PolicyDetails"]["Schedules"][0]["RetainRule"] == {"Count": 2}
    assert policy["Tags"] == {"owner": "lab"}
    assert [p["PolicyId"] for p in dlm.get_lifecycle_policies(TargetTags=[f"backup={tag}"])["Policies"]] == [policy_id]

    advance(lab, "2d")
    source = policy_snapshots(lab, policy_id, EAST)
    assert len(source) == 2 and {s["VolumeId"] for s in source} == {volume}  # four were taken, two kept
    tags = {t["Key"]: t["Value"] for t in source[0]["Tags"]}
    assert tags["aws:dlm:lifecycle-schedule-name"] == "twice-daily"
    assert tags["made-by"] == "dlm" and tags["team"] == "shop"  # TagsToAdd, and the volume's tags copied
    copies = policy_snapshots(lab, policy_id, WEST)
    assert 2 <= len(copies) <= 3  # one day of twice-daily copies
    restored = lab.client("ec2", WEST).create_volume(AvailabilityZone=f"{WEST}a", SnapshotId=copies[0]["SnapshotId"])
    assert restored["Size"] == 8 and restored["SnapshotId"] == copies[0]["SnapshotId"]
    events = AdminClient(lab.endpoint).get("events?source=ebs&limit=1000")["events"]
    assert {"DlmSnapshotCreated", "DlmSnapshotCopied", "DlmSnapshotDeleted"} <= {e["name"] for e in events}

    dlm.update_lifecycle_policy(PolicyId=policy_id, State="DISABLED")
    advance(lab, "1d")
    assert {s["SnapshotId"] for s in policy_snapshots(lab, policy_id, EAST)} == {s["SnapshotId"] for s in source}
    assert dlm.get_lifecycle_policies(State="DISABLED")["Policies"][0]["PolicyId"] == policy_id
    dlm.delete_lifecycle_policy(PolicyId=policy_id)
    assert len(policy_snapshots(lab, policy_id, EAST)) == 2  # deleting a policy keeps its snapshots


def test_a_cron_schedule_runs_at_its_times(lab, role):
    tag = uuid.uuid4().hex[:8]
    tagged_volume(lab, tag)
    dlm = lab.client("dlm")
    policy_id = dlm.create_lifecycle_policy(
        ExecutionRoleArn=role, Description="daily at 01:30", State="ENABLED", PolicyDetails={
            "ResourceTypes": ["VOLUME"], "TargetTags": [{"Key": "backup", "Value": tag}],
            "Schedules": [{"Name": "nightly", "CreateRule": {"CronExpression": "cron(30 1 ? * * *)"},
                           "RetainRule": {"Interval": 7, "IntervalUnit": "DAYS"}}]})["PolicyId"]
    advance(lab, "3d")
    taken = policy_snapshots(lab, policy_id, EAST)
    assert len(taken) == 3
    assert {s["StartTime"].strftime("%H:%M") for s in taken} == {"01:30"}
    dlm.delete_lifecycle_policy(PolicyId=policy_id)


def test_dlm_refusals_say_what_is_wrong(lab, role):
    dlm = lab.client("dlm")

    def create(details: dict[str, Any], **extra: Any) -> Any:
        return lambda: dlm.create_lifecycle_policy(ExecutionRoleArn=extra.get("role", role), Description="bad",
                                                   State="ENABLED", PolicyDetails=details)

    target = [{"Key": "backup", "Value": "x"}]
    schedule = {"Name": "s", "CreateRule": {"Interval": 12, "IntervalUnit": "HOURS"}, "RetainRule": {"Count": 1}}
    code, message, status = error_of(create({"TargetTags": target, "Schedules": [
        {**schedule, "CreateRule": {"Interval": 5, "IntervalUnit": "HOURS"}}]}))
    assert (code, status) == ("InvalidRequestException", 400) and "Interval" in message
    code, message, _ = error_of(create({"Schedules": [schedule]}))
    assert "TargetTags" in message
    code, message, _ = error_of(create({"TargetTags": target, "Schedules": [
        {**schedule, "CreateRule": {"CronExpression": "cron(*/15 * ? * * *)"}}]}))
    assert "60 minutes" in message
    code, message, _ = error_of(create({"TargetTags": target, "Schedules": [
        {**schedule, "CrossRegionCopyRules": [{"TargetRegion": EAST, "Encrypted": False}]}]}))
    assert "another lab region" in message
    code, message, _ = error_of(create({"TargetTags": target, "Schedules": [schedule]},
                                       role=f"arn:aws:iam::{ACCOUNT}:role/none"))
    assert "does not exist" in message
    code, message, status = error_of(lambda: dlm.get_lifecycle_policy(PolicyId="policy-00000000000000000"))
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_aws_backup_keeps_ebs_recovery_points_as_snapshots_and_ec2_ones_as_images(lab, role):
    backup, ec2 = lab.client("backup"), lab.client("ec2")
    backup.create_backup_vault(BackupVaultName="ebs-vault")
    volume = tagged_volume(lab, "aws-backup")
    advance(lab, "1m")  # the volume is available
    job = backup.start_backup_job(BackupVaultName="ebs-vault", IamRoleArn=role,
                                  ResourceArn=f"arn:aws:ec2:{EAST}:{ACCOUNT}:volume/{volume}")
    assert "RecoveryPointArn" not in job  # "only returned for Amazon EFS and Advanced DynamoDB resources"
    advance(lab, "5m")  # out of CREATED: the job runs, its snapshot pending
    running = backup.describe_backup_job(BackupJobId=job["BackupJobId"])
    assert running["State"] == "RUNNING", running
    point_arn = running["RecoveryPointArn"]
    snapshot_id = point_arn.rsplit("/", 1)[1]
    snapshot = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
    assert snapshot["VolumeId"] == volume and "AWS Backup" in snapshot["Description"]
    advance(lab, "30m")
    assert ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["State"] == "completed"
    point = backup.describe_recovery_point(BackupVaultName="ebs-vault", RecoveryPointArn=point_arn)
    assert point["Status"] == "COMPLETED" and point["BackupSizeInBytes"] == 8 * 2**30
    backup.delete_recovery_point(BackupVaultName="ebs-vault", RecoveryPointArn=point_arn)
    with pytest.raises(ClientError):
        ec2.describe_snapshots(SnapshotIds=[snapshot_id])

    instance = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend"]}])[
        "Reservations"][0]["Instances"][0]
    job = backup.start_backup_job(BackupVaultName="ebs-vault", IamRoleArn=role,
                                  ResourceArn=f"arn:aws:ec2:{EAST}:{ACCOUNT}:instance/{instance['InstanceId']}")
    advance(lab, "30m")
    finished = backup.describe_backup_job(BackupJobId=job["BackupJobId"])
    assert finished["State"] == "COMPLETED", finished
    image_id = finished["RecoveryPointArn"].rsplit("/", 1)[1]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["State"] == "available"
    # an AMI of the instance holds a snapshot of each of its volumes, which it keeps from deletion
    used = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
    assert used and error_of(lambda: ec2.delete_snapshot(SnapshotId=used[0])) == (
        "InvalidSnapshot.InUse", f"The snapshot {used[0]} is currently in use by {image_id}", 400)
    metadata = backup.get_recovery_point_restore_metadata(BackupVaultName="ebs-vault",
                                                          RecoveryPointArn=finished["RecoveryPointArn"])
    assert {"InstanceType", "Placement", "SubnetId", "SecurityGroupIds"} <= set(metadata["RestoreMetadata"])
    restore = backup.start_restore_job(RecoveryPointArn=finished["RecoveryPointArn"], IamRoleArn=role,
                                       Metadata={**metadata["RestoreMetadata"], "InstanceType": "t3.small"})
    advance(lab, "61s")  # out of PENDING (backup.restore.pending): the instance is launching
    launching = backup.describe_restore_job(RestoreJobId=restore["RestoreJobId"])
    assert launching["Status"] == "RUNNING", launching
    launched = launching["CreatedResourceArn"].rsplit("/", 1)[1]
    # EC2 User Guide, Instance lifecycle: "pending" first, then "running"
    shown = ec2.describe_instances(InstanceIds=[launched])["Reservations"][0]["Instances"][0]
    assert shown["State"] == {"Code": 0, "Name": "pending"}
    pending = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["pending"]}])
    assert [i["InstanceId"] for r in pending["Reservations"] for i in r["Instances"]] == [launched]
    running = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])
    assert launched not in {i["InstanceId"] for r in running["Reservations"] for i in r["Instances"]}
    assert launched not in {s["InstanceId"] for s in ec2.describe_instance_status()["InstanceStatuses"]}
    every = ec2.describe_instance_status(InstanceIds=[launched], IncludeAllInstances=True)["InstanceStatuses"]
    assert every[0]["InstanceState"]["Name"] == "pending"
    advance(lab, "30m")
    done = backup.describe_restore_job(RestoreJobId=restore["RestoreJobId"])
    assert done["Status"] == "COMPLETED", done.get("StatusMessage")
    found = ec2.describe_instances(InstanceIds=[launched])["Reservations"][0]["Instances"][0]
    assert found["ImageId"] == image_id and found["InstanceType"] == "t3.small"
    assert found["State"]["Name"] == "running"


def test_a_missing_snapshot_or_volume_is_named_in_ec2s_words(lab):
    """EC2 names what it did not find: "The snapshot 'snap-...' does not exist." (moto said nothing, or printed a
    Python set of the volume ids)."""
    ec2 = lab.client("ec2")
    missing_snapshot, missing_volume = "snap-0123456789abcdef0", "vol-0123456789abcdef0"
    for call in (lambda: ec2.describe_snapshots(SnapshotIds=[missing_snapshot]),
                 lambda: ec2.delete_snapshot(SnapshotId=missing_snapshot),
                 lambda: ec2.copy_snapshot(SourceSnapshotId=missing_snapshot, SourceRegion=EAST),
                 lambda: lab.client("ec2", WEST).copy_snapshot(SourceSnapshotId=missing_snapshot, SourceRegion=EAST),
                 lambda: ec2.modify_snapshot_attribute(SnapshotId=missing_snapshot, Attribute="createVolumePermission",
                                                       OperationType="add", UserIds=["111122223333"])):
        assert error_of(call)[:2] == ("InvalidSnapshot.NotFound", f"The snapshot '{missing_snapshot}' does not exist.")
    for call in (lambda: ec2.describe_volumes(VolumeIds=[missing_volume]),
                 lambda: ec2.delete_volume(VolumeId=missing_volume)):
        assert error_of(call)[:2] == ("InvalidVolume.NotFound", f"The volume '{missing_volume}' does not exist.")


def test_a_copied_snapshot_has_an_arbitrary_volume_id(lab):
    """API Reference, Snapshot: "Snapshots created by the CopySnapshot action have an arbitrary volume ID that
    should not be used for any purpose"."""
    ec2 = lab.client("ec2")
    volume = tagged_volume(lab, uuid.uuid4().hex[:8])
    advance(lab, "5m")
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    advance(lab, "2h")
    for region in (EAST, WEST):
        copy = lab.client("ec2", region).copy_snapshot(SourceSnapshotId=snapshot, SourceRegion=EAST)["SnapshotId"]
        [shown] = lab.client("ec2", region).describe_snapshots(SnapshotIds=[copy])["Snapshots"]
        assert shown["VolumeId"] == "vol-ffffffff"
    [original] = ec2.describe_snapshots(SnapshotIds=[snapshot])["Snapshots"]
    assert original["VolumeId"] == volume
