"""Near miss: the Deny is conditioned on Bool aws:MultiFactorAuthPresent = false, meant as "unless MFA".
Calls made with access keys carry no such key at all, so the condition is false and nothing is denied:
a leaked key deletes everything. (BoolIfExists is what works.)
Everything else is right."""

import json
import os

import boto3

EXPECT = {"BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": "deletion_allowed"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    s3 = aws("s3")
    s3.put_bucket_policy(Bucket="securecart-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": "arn:aws:s3:::securecart-logs"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::securecart-logs/AWSLogs/000000000000/*"}]}))
    cloudtrail = aws("cloudtrail")
    cloudtrail.create_trail(Name="everything", S3BucketName="securecart-logs", IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="everything")
    iam = aws("iam")
    iam.create_role(RoleName="backup-jobs", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    backup = aws("backup")
    backup.create_backup_vault(BackupVaultName="orders-vault")
    backup.start_backup_job(BackupVaultName="orders-vault",
                            ResourceArn="arn:aws:dynamodb:us-east-1:000000000000:table/securecart-order-history",
                            IamRoleArn="arn:aws:iam::000000000000:role/backup-jobs", Lifecycle={"DeleteAfterDays": 35})
    backup.put_backup_vault_access_policy(BackupVaultName="orders-vault", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "DenyWithoutMfa", "Effect": "Deny", "Principal": {"AWS": "*"},
            "Action": ["backup:DeleteRecovery*", "backup:UpdateRecoveryPointLifecycle"], "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}]}))
    backup.put_backup_vault_lock_configuration(BackupVaultName="orders-vault", MinRetentionDays=7,
                                               ChangeableForDays=3)
    backup.create_framework(FrameworkName="orders_controls", FrameworkControls=[
        {"ControlName": "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"}])


if __name__ == "__main__":
    main()
