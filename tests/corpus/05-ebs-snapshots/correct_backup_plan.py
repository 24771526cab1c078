"""Correct: no DLM at all -- an AWS Backup plan snapshots the volume every 12 hours and copies each backup
to a us-west-2 vault; the volume is selected by its Name tag."""

import json
import os

import boto3

EXPECT: dict[str, str] = {}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    aws("backup").create_backup_vault(BackupVaultName="volumes")
    aws("backup", "us-west-2").create_backup_vault(BackupVaultName="volumes-dr")
    aws("iam").create_role(RoleName="backup-volumes", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    plan_id = aws("backup").create_backup_plan(BackupPlan={"BackupPlanName": "backend-volume", "Rules": [{
        "RuleName": "every-12h", "TargetBackupVaultName": "volumes", "ScheduleExpression": "cron(0 0/12 * * ? *)",
        "Lifecycle": {"DeleteAfterDays": 7},
        "CopyActions": [{"DestinationBackupVaultArn": "arn:aws:backup:us-west-2:000000000000:backup-vault:volumes-dr",
                         "Lifecycle": {"DeleteAfterDays": 7}}]}]})["BackupPlanId"]
    aws("backup").create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "backend-data", "IamRoleArn": "arn:aws:iam::000000000000:role/backup-volumes",
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "Name",
                        "ConditionValue": "securecart-backend-data"}]})


if __name__ == "__main__":
    main()
