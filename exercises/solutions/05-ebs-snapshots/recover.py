#!/usr/bin/env python3
"""Lab 05 documented recovery (boto3): a new backend data volume in us-west-2 from the newest copied snapshot.

Run it with `lab solve 05-ebs-snapshots --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py [--before 2026-11-26T10:00:00Z]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

import boto3

DR = "us-west-2"
VOLUME_NAME = "securecart-backend-data"
NOT_READY = 75  # EX_TEMPFAIL: `lab solve --recover` moves sim time on and runs this again


def aws(service: str, region: str = DR):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=os.environ.get("LAB_INCIDENT_TIME"),
                        help="the incident time (ISO 8601); the snapshot must be older")
    text = parser.parse_args().before
    before = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC) if text else None
    ec2 = aws("ec2")
    snapshots = ec2.describe_snapshots(OwnerIds=["self"], Filters=[
        {"Name": "tag:Name", "Values": [VOLUME_NAME]}, {"Name": "status", "Values": ["completed"]}])["Snapshots"]
    usable = [s for s in snapshots if before is None or s["StartTime"] < before]
    if not usable:
        sys.exit(f"no completed snapshot of {VOLUME_NAME} in {DR}: was one copied there before the incident?")
    snapshot = max(usable, key=lambda s: s["StartTime"])
    # Run again, this waits for the volume it made from that snapshot.
    made = ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": [VOLUME_NAME]},
                                         {"Name": "snapshot-id", "Values": [snapshot["SnapshotId"]]}])["Volumes"]
    if made:
        volume_id = made[0]["VolumeId"]
    else:
        volume_id = ec2.create_volume(
            AvailabilityZone=f"{DR}a", SnapshotId=snapshot["SnapshotId"], VolumeType="gp3",
            TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": VOLUME_NAME},
                                                                   {"Key": "app", "Value": "securecart"}]}])["VolumeId"]
        print(f"volume {volume_id} created in {DR}a from {snapshot['SnapshotId']} "
              f"(taken {snapshot['StartTime']:%Y-%m-%dT%H:%M:%SZ})")
    for attempt in range(3):
        state = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["State"]
        if state == "available":
            # usable now; its blocks still load from the snapshot as they are first read (lazy loading)
            status = ec2.describe_volume_status(VolumeIds=[volume_id])["VolumeStatuses"][0]
            loaded = status.get("InitializationStatusDetails", {}).get("Progress")
            print(f"volume {volume_id} is available in {DR}a (initialization {loaded}% done): attach it")
            return
        if attempt < 2:
            time.sleep(1.0)
    print(f"volume {volume_id} is {state}; move sim time on (lab clock advance 5m) and run this again",
          file=sys.stderr)
    sys.exit(NOT_READY)


if __name__ == "__main__":
    main()
