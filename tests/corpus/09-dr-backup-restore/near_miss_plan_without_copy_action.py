"""Near miss: the daily plan has no copy action to us-west-2. The learner made the first copies by hand, as
step 2 says, so us-west-2 holds today's recovery points -- but from tomorrow the plan's backups stay in
us-east-1 only, and are lost with it."""

from tests.corpus.dr_reference import reference, until_ready

LAB = "09-dr-backup-restore"
EXPECT = {"RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "no_cross_region_copy",
          "DYNAMODB_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "no_cross_region_copy",
          "EC2_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "no_cross_region_copy"}


def main():
    lab = reference(LAB)
    aws = lab["aws"]
    for region, vault in (("us-east-1", lab["VAULT"]), ("us-west-2", lab["DR_VAULT"])):
        aws("backup", region).create_backup_vault(BackupVaultName=vault)
    lab["backup_role"]()
    backup = aws("backup")
    plan_id = backup.create_backup_plan(BackupPlan={"BackupPlanName": lab["PLAN"], "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": lab["VAULT"], "ScheduleExpression": "cron(0 5 * * ? *)",
        "StartWindowMinutes": 60, "CompletionWindowMinutes": 180,
        "Lifecycle": {"DeleteAfterDays": 7}}]})["BackupPlanId"]  # (no CopyActions)
    backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "securecart-state", "IamRoleArn": lab["ROLE_ARN"],
        "Resources": list(lab["resources"]().values())})
    until_ready(lab["step_2"])
    lab["step_3"]()


if __name__ == "__main__":
    main()
