"""Correct, with other names: vaults, plan and rule named by the learner, a nightly run at 02:00 kept two weeks
(copies too), and the resources chosen by their app=securecart tag instead of their ARNs."""

from tests.corpus.dr_reference import reference, until_ready

LAB = "09-dr-backup-restore"
EXPECT: dict[str, str] = {}


def main():
    lab = reference(LAB)
    aws = lab["aws"]
    vault, dr_vault = "shop-backups", "shop-backups-west"
    dr_vault_arn = f"arn:aws:backup:us-west-2:{lab['ACCOUNT']}:backup-vault:{dr_vault}"
    lab.update(VAULT=vault, DR_VAULT=dr_vault, DR_VAULT_ARN=dr_vault_arn)  # what step 2 copies with
    aws("backup").create_backup_vault(BackupVaultName=vault)
    aws("backup", "us-west-2").create_backup_vault(BackupVaultName=dr_vault)
    lab["backup_role"]()
    backup = aws("backup")
    plan_id = backup.create_backup_plan(BackupPlan={"BackupPlanName": "shop-nightly", "Rules": [{
        "RuleName": "nightly-0200", "TargetBackupVaultName": vault, "ScheduleExpression": "cron(0 2 * * ? *)",
        "Lifecycle": {"DeleteAfterDays": 14},
        "CopyActions": [{"DestinationBackupVaultArn": dr_vault_arn, "Lifecycle": {"DeleteAfterDays": 14}}]}]})[
        "BackupPlanId"]
    backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "tagged-securecart", "IamRoleArn": lab["ROLE_ARN"],
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "app", "ConditionValue": "securecart"}]})
    until_ready(lab["step_2"])
    lab["step_3"]()


if __name__ == "__main__":
    main()
