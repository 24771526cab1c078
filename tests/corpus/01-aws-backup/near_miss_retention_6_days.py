"""Near miss: everything as asked, but the rule keeps recovery points 6 days when at least 7 are asked."""

import json
import os

import boto3

EXPECT = {"BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": "retention_too_short"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    for region, vault in (("us-east-1", "securecart-vault"), ("us-west-2", "securecart-vault-dr")):
        key = aws("kms", region).create_key()["KeyMetadata"]["Arn"]
        aws("backup", region).create_backup_vault(BackupVaultName=vault, EncryptionKeyArn=key)
    plan_id = aws("backup").create_backup_plan(BackupPlan={"BackupPlanName": "securecart-daily", "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": "securecart-vault", "ScheduleExpression": "cron(0 5 * * ? *)",
        "Lifecycle": {"DeleteAfterDays": 6},
        "CopyActions": [{"DestinationBackupVaultArn": "arn:aws:backup:us-west-2:000000000000:backup-vault:securecart-vault-dr",
                         "Lifecycle": {"DeleteAfterDays": 6}}]}]})["BackupPlanId"]
    aws("iam").create_role(RoleName="AWSBackupDefaultServiceRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    role = "arn:aws:iam::000000000000:role/AWSBackupDefaultServiceRole"
    aws("backup").create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "securecart", "IamRoleArn": role,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "app", "ConditionValue": "securecart"}]})
    table = aws("dynamodb").describe_table(TableName="securecart-order-history")["Table"]["TableArn"]
    aws("backup").start_backup_job(BackupVaultName="securecart-vault", ResourceArn=table, IamRoleArn=role)


if __name__ == "__main__":
    main()
