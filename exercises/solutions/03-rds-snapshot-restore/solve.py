#!/usr/bin/env python3
"""Lab 03 reference solution (boto3): RDS automated backups, a manual snapshot, and its copy in us-west-2.

Run it with `lab solve 03-rds-snapshot-restore --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

PRIMARY, DR = "us-east-1", "us-west-2"
ACCOUNT = "000000000000"
DB = "securecart-orders-db"
SNAPSHOT = "securecart-orders-manual"
DR_SNAPSHOT = "securecart-orders-manual-usw2"
DR_KEY_ALIAS = "alias/securecart-rds-dr"


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


NOT_READY = 75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again


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


def snapshot_ready(rds, identifier: str):
    status = rds.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"][0]["Status"]
    return True if status == "available" else status


def instance_ready(rds):
    """RDS refuses a snapshot while the instance is modifying or backing up: it must be available."""
    status = rds.describe_db_instances(DBInstanceIdentifier=DB)["DBInstances"][0]["DBInstanceStatus"]
    return True if status == "available" else status


def step_1() -> None:
    """Automated backups kept 7 days (point-in-time restore becomes possible)."""
    rds = aws("rds")
    instance = rds.describe_db_instances(DBInstanceIdentifier=DB)["DBInstances"][0]
    pending = instance.get("PendingModifiedValues", {}).get("BackupRetentionPeriod")
    if instance["BackupRetentionPeriod"] >= 7 or (pending or 0) >= 7:
        print(f"{DB}: automated backups already kept {max(instance['BackupRetentionPeriod'], pending or 0)} days")
        return
    # Without ApplyImmediately the change would wait in PendingModifiedValues for the maintenance window.
    shown = rds.modify_db_instance(DBInstanceIdentifier=DB, BackupRetentionPeriod=7,
                                   PreferredBackupWindow="03:00-03:30", ApplyImmediately=True)["DBInstance"]
    print(f"{DB}: automated backups kept 7 days, daily window 03:00-03:30 UTC "
          f"({shown['DBInstanceStatus']}, then backing-up: the first automated backup)")


def step_2() -> None:
    """A manual snapshot of the orders database (kept until you delete it)."""
    rds = aws("rds")
    try:
        rds.describe_db_snapshots(DBSnapshotIdentifier=SNAPSHOT)
        print(f"snapshot {SNAPSHOT} already exists")
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("DBSnapshotNotFound", "DBSnapshotNotFoundFault"):
            raise
        wait_until(lambda: instance_ready(rds), DB)
        rds.create_db_snapshot(DBInstanceIdentifier=DB, DBSnapshotIdentifier=SNAPSHOT,
                               Tags=[{"Key": "app", "Value": "securecart"}])
        print(f"creating snapshot {SNAPSHOT}")
    wait_until(lambda: snapshot_ready(rds, SNAPSHOT), f"snapshot {SNAPSHOT}")
    print(f"snapshot {SNAPSHOT} is available")


def dr_key() -> str:
    """A KMS key in us-west-2: an encrypted snapshot copied across regions is re-encrypted with it."""
    kms = aws("kms", DR)
    try:
        return kms.describe_key(KeyId=DR_KEY_ALIAS)["KeyMetadata"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
    key = kms.create_key(Description="SecureCart RDS copies in us-west-2")["KeyMetadata"]
    kms.create_alias(AliasName=DR_KEY_ALIAS, TargetKeyId=key["KeyId"])
    return key["Arn"]


def step_3() -> None:
    """Copy the snapshot to us-west-2 (the copy is made from the DR region's side)."""
    rds_dr = aws("rds", DR)
    try:
        rds_dr.copy_db_snapshot(SourceDBSnapshotIdentifier=f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:snapshot:{SNAPSHOT}",
                                TargetDBSnapshotIdentifier=DR_SNAPSHOT, SourceRegion=PRIMARY, KmsKeyId=dr_key(),
                                CopyTags=True)
        print(f"copying {SNAPSHOT} to {DR} as {DR_SNAPSHOT}")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "DBSnapshotAlreadyExists":
            raise
        print(f"{DR_SNAPSHOT} already exists in {DR}")
    wait_until(lambda: snapshot_ready(rds_dr, DR_SNAPSHOT), f"snapshot {DR_SNAPSHOT}")
    print(f"{DR_SNAPSHOT} is available in {DR}")


STEPS = {1: step_1, 2: step_2, 3: step_3}


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
