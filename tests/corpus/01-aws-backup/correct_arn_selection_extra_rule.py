"""Correct: other names, vaults with AWS Backup's default key, two rules (hourly + nightly with the copy) and
resources assigned by ARN instead of by tag, through a role with another name."""

import json
import os

import boto3

EXPECT: dict[str, str] = {}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    aws("backup").create_backup_vault(BackupVaultName="sc-backups")
    aws("backup", "us-west-2").create_backup_vault(BackupVaultName="sc-backups-west")
    plan_id = aws("backup").create_backup_plan(BackupPlan={"BackupPlanName": "orders-and-more", "Rules": [
        {"RuleName": "hourly", "TargetBackupVaultName": "sc-backups", "ScheduleExpression": "cron(0 * * * ? *)",
         "Lifecycle": {"DeleteAfterDays": 2}},
        {"RuleName": "nightly", "TargetBackupVaultName": "sc-backups", "ScheduleExpression": "cron(30 2 * * ? *)",
         "Lifecycle": {"DeleteAfterDays": 30},
         "CopyActions": [{"DestinationBackupVaultArn": "arn:aws:backup:us-west-2:000000000000:backup-vault:sc-backups-west",
                          "Lifecycle": {"DeleteAfterDays": 30}}]},
    ]})["BackupPlanId"]
    iam = aws("iam")
    iam.create_role(RoleName="securecart-backup-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    iam.attach_role_policy(RoleName="securecart-backup-role",
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup")
    role = "arn:aws:iam::000000000000:role/securecart-backup-role"
    db = aws("rds").describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0]["DBInstanceArn"]
    table = aws("dynamodb").describe_table(TableName="securecart-order-history")["Table"]["TableArn"]
    volume = aws("ec2").describe_volumes(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend-data"]}])["Volumes"][0]
    aws("backup").create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "by-arn", "IamRoleArn": role,
        "Resources": [db, table, f"arn:aws:ec2:us-east-1:000000000000:volume/{volume['VolumeId']}"]})
    aws("backup").start_backup_job(BackupVaultName="sc-backups", ResourceArn=table, IamRoleArn=role)


if __name__ == "__main__":
    main()
