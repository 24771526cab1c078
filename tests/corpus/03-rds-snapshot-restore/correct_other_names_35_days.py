"""Correct: 35 days of automated backups, a snapshot and its us-west-2 copy under other names, the copy
encrypted with a key found by alias."""

import os

import boto3

EXPECT: dict[str, str] = {}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    rds = aws("rds")
    rds.modify_db_instance(DBInstanceIdentifier="securecart-orders-db", BackupRetentionPeriod=35, ApplyImmediately=True)
    rds.create_db_snapshot(DBInstanceIdentifier="securecart-orders-db", DBSnapshotIdentifier="before-release-42")
    kms = aws("kms", "us-west-2")
    key = kms.create_key(Description="dr copies")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/dr-copies", TargetKeyId=key)
    aws("rds", "us-west-2").copy_db_snapshot(
        SourceDBSnapshotIdentifier="arn:aws:rds:us-east-1:000000000000:snapshot:before-release-42",
        TargetDBSnapshotIdentifier="before-release-42-oregon", SourceRegion="us-east-1", KmsKeyId="alias/dr-copies")


if __name__ == "__main__":
    main()
