"""Correct: the deletion is denied with an action wildcard (backup:DeleteRecovery*, which IAM expands to
DeleteRecoveryPoint) to everyone except a break-glass role, exempted the way AWS recommends (ArnNotEquals on
aws:PrincipalArn); a compliance-mode lock and a framework complete it."""

import json
import os

import boto3

EXPECT: dict[str, str] = {}


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
    break_glass = iam.create_role(RoleName="break-glass", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "000000000000"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    backup = aws("backup")
    backup.create_backup_vault(BackupVaultName="orders-vault")
    backup.start_backup_job(BackupVaultName="orders-vault",
                            ResourceArn="arn:aws:dynamodb:us-east-1:000000000000:table/securecart-order-history",
                            IamRoleArn="arn:aws:iam::000000000000:role/backup-jobs", Lifecycle={"DeleteAfterDays": 35})
    backup.put_backup_vault_access_policy(BackupVaultName="orders-vault", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "NobodyButBreakGlassDeletes", "Effect": "Deny", "Principal": {"AWS": "*"},
            "Action": ["backup:DeleteRecovery*", "backup:UpdateRecoveryPointLifecycle"], "Resource": "*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": break_glass}}}]}))
    backup.put_backup_vault_lock_configuration(BackupVaultName="orders-vault", MinRetentionDays=7,
                                               ChangeableForDays=3)
    backup.create_framework(FrameworkName="orders_controls", FrameworkControls=[
        {"ControlName": "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"}])


if __name__ == "__main__":
    main()
