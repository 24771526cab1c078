#!/usr/bin/env python3
"""Lab 08 reference solution (boto3): a trail, a protected and locked vault, and a Backup Audit Manager framework.

Run it with `lab solve 08-backup-monitoring --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

PRIMARY = "us-east-1"
ACCOUNT = "000000000000"
TRAIL = "securecart-trail"
TRAIL_BUCKET = "securecart-logs"
VAULT = "securecart-vault"
KEY_ALIAS = "alias/securecart-backup"
ROLE = "AWSBackupDefaultServiceRole"
TABLE = "securecart-order-history"
FRAMEWORK = "securecart_backup_controls"


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def exists_ok(call, *codes: str) -> bool:
    """Run a create call; True if it created, False if it already existed (one of `codes`)."""
    try:
        call()
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] in codes:
            return False
        raise


def step_1() -> None:
    """A multi-region CloudTrail trail, logging, into the securecart-logs bucket."""
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/{ACCOUNT}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]}
    aws("s3").put_bucket_policy(Bucket=TRAIL_BUCKET, Policy=json.dumps(policy))
    cloudtrail = aws("cloudtrail")
    if exists_ok(lambda: cloudtrail.create_trail(Name=TRAIL, S3BucketName=TRAIL_BUCKET, IsMultiRegionTrail=True,
                                                 IncludeGlobalServiceEvents=True, EnableLogFileValidation=True,
                                                 TagsList=[{"Key": "app", "Value": "securecart"}]),
                 "TrailAlreadyExistsException"):
        print(f"created trail {TRAIL} -> s3://{TRAIL_BUCKET}")
    cloudtrail.start_logging(Name=TRAIL)
    status = cloudtrail.get_trail_status(Name=TRAIL)
    print(f"trail {TRAIL}: logging={status['IsLogging']}")


def backup_key() -> str:
    kms = aws("kms")
    try:
        return kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
    key = kms.create_key(Description="SecureCart AWS Backup vault key")["KeyMetadata"]
    kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key["KeyId"])
    return key["Arn"]


def step_2() -> None:
    """An encrypted vault holding a recovery point of the order history (something worth protecting)."""
    backup, iam = aws("backup"), aws("iam")
    if exists_ok(lambda: backup.create_backup_vault(BackupVaultName=VAULT, EncryptionKeyArn=backup_key()),
                 "AlreadyExistsException"):
        print(f"created vault {VAULT}")
    trust = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}
    exists_ok(lambda: iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust)), "EntityAlreadyExists")
    iam.attach_role_policy(RoleName=ROLE,
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup")
    table_arn = aws("dynamodb").describe_table(TableName=TABLE)["Table"]["TableArn"]
    job = backup.start_backup_job(BackupVaultName=VAULT, ResourceArn=table_arn,
                                  IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}", Lifecycle={"DeleteAfterDays": 35})
    print(f"backup job {job['BackupJobId']}: {backup.describe_backup_job(BackupJobId=job['BackupJobId'])['State']}")


def step_3() -> None:
    """A vault access policy that denies deleting recovery points, to everyone."""
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyRecoveryPointDeletion", "Effect": "Deny", "Principal": {"AWS": "*"},
        "Action": ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"], "Resource": "*"}]}
    aws("backup").put_backup_vault_access_policy(BackupVaultName=VAULT, Policy=json.dumps(policy))
    print(f"{VAULT}: deleting recovery points is denied")


def step_4() -> None:
    """Vault Lock: recovery points are kept at least 7 days; compliance mode after a 3-day grace time."""
    aws("backup").put_backup_vault_lock_configuration(BackupVaultName=VAULT, MinRetentionDays=7,
                                                      MaxRetentionDays=365, ChangeableForDays=3)
    print(f"{VAULT}: locked (7 to 365 days; the lock itself becomes immutable after 3 days)")


def step_5() -> None:
    """A Backup Audit Manager framework with the controls that watch these protections."""
    controls = [
        {"ControlName": "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"},
        {"ControlName": "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK",
         "ControlInputParameters": [{"ParameterName": "minRetentionDays", "ParameterValue": "7"}]},
        {"ControlName": "BACKUP_RECOVERY_POINT_ENCRYPTED"},
        {"ControlName": "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
         "ControlInputParameters": [{"ParameterName": "requiredFrequencyUnit", "ParameterValue": "hours"},
                                    {"ParameterName": "requiredFrequencyValue", "ParameterValue": "24"},
                                    {"ParameterName": "requiredRetentionDays", "ParameterValue": "7"}]},
    ]
    backup = aws("backup")
    if exists_ok(lambda: backup.create_framework(FrameworkName=FRAMEWORK, FrameworkControls=controls,
                                                 FrameworkDescription="SecureCart: backups that cannot be deleted",
                                                 FrameworkTags={"app": "securecart"}),
                 "AlreadyExistsException"):
        print(f"created framework {FRAMEWORK} with {len(controls)} controls")
    else:
        print(f"framework {FRAMEWORK} already exists")


STEPS = {1: step_1, 2: step_2, 3: step_3, 4: step_4, 5: step_5}


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
