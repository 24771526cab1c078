#!/usr/bin/env python3
"""Lab 01 reference solution (boto3): AWS Backup for SecureCart.

Run it with `lab solve 01-aws-backup --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
Every step can run again: what already exists is left as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

PRIMARY, DR = "us-east-1", "us-west-2"
ACCOUNT = "000000000000"
VAULTS = {PRIMARY: "securecart-vault", DR: "securecart-vault-dr"}
KEY_ALIAS = "alias/securecart-backup"
ROLE = "AWSBackupDefaultServiceRole"
PLAN = "securecart-daily"
TABLE = "securecart-order-history"
NOT_READY = 75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again
ENDED = ("FAILED", "EXPIRED", "ABORTED")


def wait_until(probe, what: str, tries: int = 3) -> None:
    """Poll a few times; AWS (here: the sandbox's sim clock) decides how long things take. If it is not
    ready, stop with NOT_READY and say so: run the step again later (lab clock advance 5m)."""
    for attempt in range(tries):
        state = probe()
        if state is True:
            return
        if attempt < tries - 1:
            time.sleep(1.0)
    print(f"{what} is {state}, not ready yet; move sim time on (lab clock advance 5m) and run this step again",
          file=sys.stderr)
    sys.exit(NOT_READY)


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def backup_key(region: str) -> str:
    """The customer managed KMS key that encrypts the region's vault (created once, found by alias)."""
    kms = aws("kms", region)
    try:
        return kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
    key = kms.create_key(Description="SecureCart AWS Backup vault key",
                         Tags=[{"TagKey": "app", "TagValue": "securecart"}])["KeyMetadata"]
    kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key["KeyId"])
    return key["Arn"]


def step_1() -> None:
    """Encrypted backup vaults in us-east-1 and us-west-2."""
    for region, vault in VAULTS.items():
        backup = aws("backup", region)
        try:
            backup.create_backup_vault(BackupVaultName=vault, EncryptionKeyArn=backup_key(region),
                                       BackupVaultTags={"app": "securecart"})
            print(f"created vault {vault} in {region}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "AlreadyExistsException":
                raise
            print(f"vault {vault} already exists in {region}")


def backup_role() -> str:
    """The IAM role AWS Backup assumes to back up and restore (created once)."""
    iam = aws("iam")
    trust = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}
    try:
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust),
                        Description="Lets AWS Backup back up and restore SecureCart's resources")
        print(f"created role {ROLE}")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        print(f"role {ROLE} already exists")
    for policy in ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"):
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=f"arn:aws:iam::aws:policy/service-role/{policy}")
    return f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"


def step_2() -> None:
    """A daily backup plan: 7 days' retention, every recovery point copied to the us-west-2 vault."""
    backup = aws("backup")
    existing = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == PLAN]
    dr_vault_arn = f"arn:aws:backup:{DR}:{ACCOUNT}:backup-vault:{VAULTS[DR]}"
    plan = {
        "BackupPlanName": PLAN,
        "Rules": [{
            "RuleName": "daily-0500-utc",
            "TargetBackupVaultName": VAULTS[PRIMARY],
            "ScheduleExpression": "cron(0 5 * * ? *)",
            "StartWindowMinutes": 60,
            "CompletionWindowMinutes": 180,
            "Lifecycle": {"DeleteAfterDays": 7},
            "RecoveryPointTags": {"app": "securecart"},
            "CopyActions": [{"DestinationBackupVaultArn": dr_vault_arn, "Lifecycle": {"DeleteAfterDays": 7}}],
        }],
    }
    if existing:
        backup.update_backup_plan(BackupPlanId=existing[0]["BackupPlanId"], BackupPlan=plan)
        print(f"updated plan {PLAN}")
    else:
        created = backup.create_backup_plan(BackupPlan=plan, BackupPlanTags={"app": "securecart"})
        print(f"created plan {PLAN} ({created['BackupPlanId']})")


def step_3() -> None:
    """Assign resources by tag (everything tagged app=securecart), through AWS Backup's IAM role."""
    role_arn = backup_role()
    backup = aws("backup")
    plan_id = next(p["BackupPlanId"] for p in backup.list_backup_plans()["BackupPlansList"]
                   if p["BackupPlanName"] == PLAN)
    selections = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    if any(s["SelectionName"] == "securecart-tagged" for s in selections):
        print("selection securecart-tagged already exists")
        return
    backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "securecart-tagged",
        "IamRoleArn": role_arn,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "app", "ConditionValue": "securecart"}],
    })
    print("created selection securecart-tagged (tag app=securecart)")


def step_4() -> None:
    """An on-demand backup of the order history table now, so a recovery point exists before any incident; it
    waits until the job is COMPLETED."""
    backup = aws("backup")
    table_arn = aws("dynamodb").describe_table(TableName=TABLE)["Table"]["TableArn"]
    # Run again, this step waits for the job it started (an on-demand job has no CreatedBy plan).
    earlier = [job for job in backup.list_backup_jobs(ByResourceArn=table_arn, ByBackupVaultName=VAULTS[PRIMARY])[
        "BackupJobs"] if not job.get("CreatedBy") and job["State"] not in ENDED]
    if earlier:
        job_id = max(earlier, key=lambda job: job["CreationDate"])["BackupJobId"]
        print(f"backup job {job_id} for {TABLE} was started before")
    else:
        job_id = backup.start_backup_job(
            BackupVaultName=VAULTS[PRIMARY], ResourceArn=table_arn,
            IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
            Lifecycle={"DeleteAfterDays": 7}, RecoveryPointTags={"app": "securecart"},
        )["BackupJobId"]
        print(f"started backup job {job_id} for {TABLE}")

    def job_state():
        job = backup.describe_backup_job(BackupJobId=job_id)
        if job["State"] in ENDED:
            sys.exit(f"backup job {job_id} ended {job['State']}: {job.get('StatusMessage')}")
        if job["State"] == "COMPLETED":
            print(f"backup job {job_id} COMPLETED: recovery point {job['RecoveryPointArn']}")
            return True
        return f"{job['State']} ({job.get('PercentDone') or '0.0'}% done)"

    wait_until(job_state, f"backup job {job_id}")


STEPS = {1: step_1, 2: step_2, 3: step_3, 4: step_4}


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
