"""Correct, with other names: vaults, plan and rule named by the learner, a nightly run at 02:00 kept two weeks
(copies too), and the resources chosen by their app=securecart tag instead of their ARNs."""

import json
import os
import runpy
import urllib.request
from pathlib import Path

LAB = "09-dr-backup-restore"
SOLUTION = Path(__file__).resolve().parents[3] / "exercises" / "solutions" / LAB / "solve.py"
EXPECT: dict[str, str] = {}


def advance_clock(duration):
    """What a learner does while AWS works: lab clock advance (the sandbox's admin API)."""
    request = urllib.request.Request(f"{os.environ['AWS_ENDPOINT_URL']}/_lab/clock", method="POST",
                                     data=json.dumps({"action": "advance", "duration": duration}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=60).read()


def reference():
    """The functions of the lab's reference script (the commands its text gives), not run: the learner follows
    the lab except where this variant says. One look per run: only advance_clock moves sim time here."""
    functions = runpy.run_path(str(SOLUTION), run_name="reference")["main"].__globals__
    functions["wait_until"].__defaults__ = (1,)
    return functions


def until_ready(step):
    """Run a step as `lab solve` does: while it waits for AWS (exit 75), let sim time pass and run it again."""
    for _ in range(48):
        try:
            return step()
        except SystemExit as exc:
            if exc.code != 75:
                raise
        advance_clock("5m")
    raise RuntimeError(f"{step.__name__} still waits after 4 hours of sim time")


def main():
    lab = reference()
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
