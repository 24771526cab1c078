"""Near miss (recovery): after the bad deploy, the learner restores the manual snapshot taken while solving
instead of restoring to just before T -- the new instance lacks every order placed between the snapshot
and T."""

import os

import boto3

PHASE = "recover"
EXPECT = {"RECOVERY_ORDERS_RESTORED": "orders_missing"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    rds = aws("rds")
    manual = [s for s in rds.describe_db_snapshots(DBInstanceIdentifier="securecart-orders-db",
                                                   SnapshotType="manual")["DBSnapshots"] if s["Status"] == "available"]
    newest = max(manual, key=lambda s: s["SnapshotCreateTime"])
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="securecart-orders-from-snapshot",
                                             DBSnapshotIdentifier=newest["DBSnapshotIdentifier"],
                                             DBInstanceClass="db.t3.micro")


if __name__ == "__main__":
    main()
