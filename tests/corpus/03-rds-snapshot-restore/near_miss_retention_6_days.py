"""Near miss: automated backups kept 6 days when 7 are asked; the snapshot and its copy are fine."""

import os

import boto3

EXPECT = {"DB_INSTANCE_BACKUP_ENABLED": "retention_too_short"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    rds = aws("rds")
    rds.modify_db_instance(DBInstanceIdentifier="securecart-orders-db", BackupRetentionPeriod=6, ApplyImmediately=True)
    rds.create_db_snapshot(DBInstanceIdentifier="securecart-orders-db", DBSnapshotIdentifier="securecart-orders-manual")
    key = aws("kms", "us-west-2").create_key()["KeyMetadata"]["Arn"]
    aws("rds", "us-west-2").copy_db_snapshot(
        SourceDBSnapshotIdentifier="arn:aws:rds:us-east-1:000000000000:snapshot:securecart-orders-manual",
        TargetDBSnapshotIdentifier="securecart-orders-manual-usw2", SourceRegion="us-east-1", KmsKeyId=key)


if __name__ == "__main__":
    main()
