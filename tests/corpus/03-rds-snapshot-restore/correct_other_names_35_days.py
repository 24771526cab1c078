"""Correct: 35 days of automated backups, a snapshot and its us-west-2 copy under other names, the copy
encrypted with a key found by alias."""

import json
import os
import urllib.request

import boto3

EXPECT: dict[str, str] = {}


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
    rds.modify_db_instance(DBInstanceIdentifier="securecart-orders-db", BackupRetentionPeriod=35, ApplyImmediately=True)
    wait_for(lambda: rds.describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0][
        "DBInstanceStatus"])  # RDS refuses a snapshot while it modifies the instance and takes its first backup
    rds.create_db_snapshot(DBInstanceIdentifier="securecart-orders-db", DBSnapshotIdentifier="before-release-42")
    wait_for(lambda: rds.describe_db_snapshots(DBSnapshotIdentifier="before-release-42")["DBSnapshots"][0]["Status"])
    kms = aws("kms", "us-west-2")
    key = kms.create_key(Description="dr copies")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/dr-copies", TargetKeyId=key)
    aws("rds", "us-west-2").copy_db_snapshot(
        SourceDBSnapshotIdentifier="arn:aws:rds:us-east-1:000000000000:snapshot:before-release-42",
        TargetDBSnapshotIdentifier="before-release-42-oregon", SourceRegion="us-east-1", KmsKeyId="alias/dr-copies")


if __name__ == "__main__":
    main()
