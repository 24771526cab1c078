"""Near miss: every protection is in place, but the trail was created and never started -- nothing records
who tried to delete the backups."""

import json
import os

import boto3

EXPECT = {"CLOUDTRAIL_ENABLED": "not_logging"}


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
    aws("s3").put_bucket_policy(Bucket="securecart-logs", Policy=trail_bucket_policy("securecart-logs"))
    aws("cloudtrail").create_trail(Name="securecart-trail", S3BucketName="securecart-logs", IsMultiRegionTrail=True)
    backup = aws("backup")
    backup.create_backup_vault(BackupVaultName="securecart-vault")
    aws("iam").create_role(RoleName="AWSBackupDefaultServiceRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    backup.start_backup_job(BackupVaultName="securecart-vault",
                            ResourceArn="arn:aws:dynamodb:us-east-1:000000000000:table/securecart-order-history",
                            IamRoleArn="arn:aws:iam::000000000000:role/AWSBackupDefaultServiceRole")
    backup.put_backup_vault_access_policy(BackupVaultName="securecart-vault", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"},
                                                "Action": ["backup:DeleteRecoveryPoint"], "Resource": "*"}]}))
    backup.put_backup_vault_lock_configuration(BackupVaultName="securecart-vault", MinRetentionDays=7)
    backup.create_framework(FrameworkName="securecart_backup_controls", FrameworkControls=[
        {"ControlName": "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"}])


if __name__ == "__main__":
    main()
