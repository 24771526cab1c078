"""Near miss: the daily plan has no copy action to us-west-2. The learner made the first copies by hand, as
step 2 says, so us-west-2 holds today's recovery points -- but from tomorrow the plan's backups stay in
us-east-1 only, and are lost with it."""

import json
import os
import runpy
import urllib.request
from pathlib import Path

LAB = "09-dr-backup-restore"
SOLUTION = Path(__file__).resolve().parents[3] / "exercises" / "solutions" / LAB / "solve.py"
EXPECT = {"RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "no_cross_region_copy",
          "DYNAMODB_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "no_cross_region_copy",
          "EC2_RESOURCES_PROTECTED_BY_BACKUP_PLAN": "no_cross_region_copy"}


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
