#!/usr/bin/env python3
"""Lab 05 reference solution (boto3): scheduled snapshots of the backend volume, copied to us-west-2.

Run it with `lab solve 05-ebs-snapshots --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

PRIMARY, DR = "us-east-1", "us-west-2"
ACCOUNT = "000000000000"
ROLE = "AWSDataLifecycleManagerDefaultRole"
VOLUME_NAME = "securecart-backend-data"
TAGS = [{"Key": "Name", "Value": VOLUME_NAME}, {"Key": "app", "Value": "securecart"}]
FIRST = "SecureCart backend data, first snapshot"
NOT_READY = 75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def wait_until(probe, what: str, tries: int = 3) -> None:
    """Poll a few times; AWS (here: the sandbox's sim clock) decides how long things take. If it is not
    ready, stop with NOT_READY and say so: run the step again later (lab clock advance 5m)."""
    for attempt in range(tries):
        state = probe()
        if state is True:
            return
        if attempt < tries - 1:
            time.sleep(1.0)
    print(f"{what} is {state}, not ready yet; move sim time on (lab clock advance 5m) and run this step again",
          file=sys.stderr)
    sys.exit(NOT_READY)


def schedule(cross_region: bool) -> dict:
    rule = {
        "Name": "every-12-hours",
        "CreateRule": {"Interval": 12, "IntervalUnit": "HOURS", "Times": ["03:00"]},
        "RetainRule": {"Count": 14},
        "CopyTags": True,
        "TagsToAdd": [{"Key": "created-by", "Value": "dlm"}],
    }
    if cross_region:
        rule["CrossRegionCopyRules"] = [{"Target": DR, "Encrypted": True, "CopyTags": True,
                                         "RetainRule": {"Interval": 7, "IntervalUnit": "DAYS"}}]
    return {"PolicyType": "EBS_SNAPSHOT_MANAGEMENT", "ResourceTypes": ["VOLUME"],
            "TargetTags": [{"Key": "Name", "Value": VOLUME_NAME}], "Schedules": [rule]}


def our_policy_id() -> str | None:
    policies = aws("dlm").get_lifecycle_policies(TargetTags=[f"Name={VOLUME_NAME}"])["Policies"]
    return policies[0]["PolicyId"] if policies else None


def dlm_role() -> str:
    """The IAM role Data Lifecycle Manager assumes to take and copy snapshots (created once)."""
    iam = aws("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "dlm.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    try:
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust),
                        Description="Lets Data Lifecycle Manager manage EBS snapshots")
        print(f"created role {ROLE}")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        print(f"role {ROLE} already exists")
    iam.attach_role_policy(RoleName=ROLE,
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole")
    return f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"


def step_1() -> None:
    """DLM's role and a lifecycle policy: the backend data volume snapshotted every 12 hours, the last 14 kept."""
    role_arn = dlm_role()
    if our_policy_id():
        print("a lifecycle policy for the backend volume already exists")
        return
    created = aws("dlm").create_lifecycle_policy(
        ExecutionRoleArn=role_arn,
        Description="SecureCart backend data volume every 12 hours", State="ENABLED",
        PolicyDetails=schedule(cross_region=False), Tags={"app": "securecart"})
    print(f"created lifecycle policy {created['PolicyId']}")


def step_2() -> None:
    """Copy every scheduled snapshot to us-west-2, and copy a first snapshot there now."""
    dlm = aws("dlm")
    policy_id = our_policy_id()
    if policy_id is None:
        sys.exit("no lifecycle policy targets the backend volume yet: run step 1 first")
    dlm.update_lifecycle_policy(PolicyId=policy_id, State="ENABLED", PolicyDetails=schedule(cross_region=True))
    print(f"lifecycle policy {policy_id}: snapshots are copied to {DR} and kept there 7 days")
    ec2 = aws("ec2")
    volume_id = ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": [VOLUME_NAME]}])["Volumes"][0]["VolumeId"]
    # A first snapshot now (reused when this step runs again), copied to us-west-2 once it is completed.
    earlier = ec2.describe_snapshots(OwnerIds=["self"], Filters=[
        {"Name": "volume-id", "Values": [volume_id]}, {"Name": "description", "Values": [FIRST]}])["Snapshots"]
    snapshot_id = earlier[0]["SnapshotId"] if earlier else ec2.create_snapshot(
        VolumeId=volume_id, Description=FIRST,
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": TAGS}])["SnapshotId"]

    def snapshot_state(client, snapshot: str):
        shown = client.describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]
        return True if shown["State"] == "completed" else f"{shown['State']} ({shown.get('Progress')})"

    # pending until its blocks are stored: the first snapshot of a volume copies all of its data
    wait_until(lambda: snapshot_state(ec2, snapshot_id), f"snapshot {snapshot_id}")
    dr = aws("ec2", DR)
    description = f"Copy of {snapshot_id} ({VOLUME_NAME})"
    copies = dr.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "description", "Values": [description]}])
    if copies["Snapshots"]:
        copy_id = copies["Snapshots"][0]["SnapshotId"]
        print(f"snapshot {snapshot_id} was already copied to {DR} as {copy_id}")
    else:  # the source must be completed; a first copy to another Region is a full copy
        copy_id = dr.copy_snapshot(SourceRegion=PRIMARY, SourceSnapshotId=snapshot_id, Encrypted=True,
                                   Description=description,
                                   TagSpecifications=[{"ResourceType": "snapshot", "Tags": TAGS}])["SnapshotId"]
        print(f"snapshot {snapshot_id} is being copied to {DR} as {copy_id}")
    wait_until(lambda: snapshot_state(dr, copy_id), f"copy {copy_id} in {DR}")
    print(f"copy {copy_id} is completed in {DR}")


STEPS = {1: step_1, 2: step_2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, choices=sorted(STEPS), help="run only this step")
    args = parser.parse_args()
    for number, step in STEPS.items():
        if args.step in (None, number):
            print(f"== step {number}: {step.__doc__}")
            step()


if __name__ == "__main__":
    main()
