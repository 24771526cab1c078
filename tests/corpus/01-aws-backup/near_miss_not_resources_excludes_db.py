"""Near miss: a good plan whose tag selection chooses everything tagged app=securecart -- and then excludes
every RDS database with NotResources (meant to leave out test databases). The orders database is not backed up:
the check must say that the exclusion did it, not that the tags are wrong."""

import json
import os

import boto3

EXPECT = {"RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "not_selected"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    aws("backup").create_backup_vault(BackupVaultName="securecart-vault")
    aws("backup", "us-west-2").create_backup_vault(BackupVaultName="securecart-vault-dr")
    dr_vault = "arn:aws:backup:us-west-2:000000000000:backup-vault:securecart-vault-dr"
    plan = aws("backup").create_backup_plan(BackupPlan={"BackupPlanName": "securecart-daily", "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": "securecart-vault", "ScheduleExpression": "cron(0 5 * * ? *)",
        "Lifecycle": {"DeleteAfterDays": 14},
        "CopyActions": [{"DestinationBackupVaultArn": dr_vault, "Lifecycle": {"DeleteAfterDays": 14}}]}]})
    role = aws("iam").create_role(RoleName="AWSBackupDefaultServiceRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    aws("backup").create_backup_selection(BackupPlanId=plan["BackupPlanId"], BackupSelection={
        "SelectionName": "securecart-but-no-test-dbs", "IamRoleArn": role,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "app", "ConditionValue": "securecart"}],
        "NotResources": ["arn:aws:rds:us-east-1:000000000000:db:*"]})
    table = aws("dynamodb").describe_table(TableName="securecart-order-history")["Table"]["TableArn"]
    aws("backup").start_backup_job(BackupVaultName="securecart-vault", ResourceArn=table, IamRoleArn=role)


if __name__ == "__main__":
    main()
