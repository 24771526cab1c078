"""Near miss: automated backups kept 6 days when 7 are asked; the snapshot and its copy are fine."""

import json
import os
import urllib.request

import boto3

EXPECT = {"DB_INSTANCE_BACKUP_ENABLED": "retention_too_short"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def advance_clock(duration):
    """What a learner does while RDS works: lab clock advance (the sandbox's admin API)."""
    request = urllib.request.Request(f"{os.environ['AWS_ENDPOINT_URL']}/_lab/clock", method="POST",
                                     data=json.dumps({"action": "advance", "duration": duration}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=60).read()


def wait_for(look, wanted="available"):
    """Look, and let sim time pass until RDS says `wanted` (an hour at most)."""
    for _ in range(60):
        if look() == wanted:
            return
        advance_clock("1m")
    raise RuntimeError(f"still {look()} after an hour")


def main():
    rds = aws("rds")
    rds.modify_db_instance(DBInstanceIdentifier="securecart-orders-db", BackupRetentionPeriod=6, ApplyImmediately=True)
    wait_for(lambda: rds.describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0][
        "DBInstanceStatus"])
    rds.create_db_snapshot(DBInstanceIdentifier="securecart-orders-db", DBSnapshotIdentifier="securecart-orders-manual")
    wait_for(lambda: rds.describe_db_snapshots(DBSnapshotIdentifier="securecart-orders-manual")["DBSnapshots"][0][
        "Status"])
    key = aws("kms", "us-west-2").create_key()["KeyMetadata"]["Arn"]
    aws("rds", "us-west-2").copy_db_snapshot(
        SourceDBSnapshotIdentifier="arn:aws:rds:us-east-1:000000000000:snapshot:securecart-orders-manual",
        TargetDBSnapshotIdentifier="securecart-orders-manual-usw2", SourceRegion="us-east-1", KmsKeyId=key)


if __name__ == "__main__":
    main()
