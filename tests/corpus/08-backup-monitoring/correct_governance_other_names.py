"""Correct: other names, a single-region trail, a vault with AWS Backup's default key, a 14-day lock in
governance mode, and a framework with just the deletion and encryption controls."""

import json
import os

import boto3

EXPECT: dict[str, str] = {}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def trail_bucket_policy(bucket):
    """What CloudTrail needs on its bucket before it accepts the trail."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/000000000000/*"}]})


def main():
    aws("s3").create_bucket(Bucket="securecart-audit-trail")
    aws("s3").put_bucket_policy(Bucket="securecart-audit-trail", Policy=trail_bucket_policy("securecart-audit-trail"))
    cloudtrail = aws("cloudtrail")
    cloudtrail.create_trail(Name="audit-all", S3BucketName="securecart-audit-trail")
    cloudtrail.start_logging(Name="audit-all")
    backup = aws("backup")
    backup.create_backup_vault(BackupVaultName="immutable-backups")
    aws("iam").create_role(RoleName="backup-operator", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    backup.start_backup_job(BackupVaultName="immutable-backups",
                            ResourceArn="arn:aws:dynamodb:us-east-1:000000000000:table/securecart-order-history",
                            IamRoleArn="arn:aws:iam::000000000000:role/backup-operator", Lifecycle={"DeleteAfterDays": 30})
    backup.put_backup_vault_access_policy(BackupVaultName="immutable-backups", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                                                "Action": "backup:DeleteRecoveryPoint", "Resource": "*"}]}))
    backup.put_backup_vault_lock_configuration(BackupVaultName="immutable-backups", MinRetentionDays=14)
    backup.create_framework(FrameworkName="sc_controls", FrameworkControls=[
        {"ControlName": "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"},
        {"ControlName": "BACKUP_RECOVERY_POINT_ENCRYPTED"}])


if __name__ == "__main__":
    main()
