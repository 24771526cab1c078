"""Near miss: vaults, a good daily plan with its copy, a role and an on-demand backup -- but no resource is
assigned to the plan, so it backs up nothing."""

import json
import os

import boto3

EXPECT = {
    "RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "plan_without_selection",
    "DYNAMODB_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "plan_without_selection",
    "EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "plan_without_selection",
}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    aws("backup").create_backup_vault(BackupVaultName="securecart-vault")
    aws("backup", "us-west-2").create_backup_vault(BackupVaultName="securecart-vault-dr")
    aws("backup").create_backup_plan(BackupPlan={"BackupPlanName": "securecart-daily", "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": "securecart-vault", "ScheduleExpression": "cron(0 5 * * ? *)",
        "Lifecycle": {"DeleteAfterDays": 14},
        "CopyActions": [{"DestinationBackupVaultArn": "arn:aws:backup:us-west-2:000000000000:backup-vault:securecart-vault-dr",
                         "Lifecycle": {"DeleteAfterDays": 14}}]}]})
    aws("iam").create_role(RoleName="AWSBackupDefaultServiceRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    table = aws("dynamodb").describe_table(TableName="securecart-order-history")["Table"]["TableArn"]
    aws("backup").start_backup_job(BackupVaultName="securecart-vault", ResourceArn=table,
                                   IamRoleArn="arn:aws:iam::000000000000:role/AWSBackupDefaultServiceRole")


if __name__ == "__main__":
    main()
