#!/usr/bin/env python3
"""Lab 01 documented recovery (boto3): restore the order history from the newest recovery point before the incident.

Run it with `lab solve 01-aws-backup --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py [--before 2026-11-26T10:00:00Z]
The incident time comes from --before or LAB_INCIDENT_TIME (`lab drills` shows it); without either, the newest
recovery point is used.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

import boto3
from botocore.exceptions import ClientError

PRIMARY = "us-east-1"
ACCOUNT = "000000000000"
VAULT = "securecart-vault"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/AWSBackupDefaultServiceRole"
TABLE = "securecart-order-history"
TABLE_ARN = f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table/{TABLE}"
NOT_READY = 75  # EX_TEMPFAIL: `lab solve --recover` moves sim time on and runs this again


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def table_exists(name: str) -> bool:
    try:
        aws("dynamodb").describe_table(TableName=name)
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=os.environ.get("LAB_INCIDENT_TIME"),
                        help="the incident time (ISO 8601); the recovery point must be older")
    before = parse_time(parser.parse_args().before)
    backup = aws("backup")
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT,
                                                         ByResourceArn=TABLE_ARN)["RecoveryPoints"]
    usable = [p for p in points if p["Status"] == "COMPLETED" and (before is None or p["CreationDate"] < before)]
    if not usable:
        sys.exit(f"no completed recovery point of {TABLE} in {VAULT} before {before}: "
                 "was a backup taken before the incident?")
    point = max(usable, key=lambda p: p["CreationDate"])
    # Run again, this waits for the restore job it started (the restore takes minutes: PENDING, then RUNNING).
    started = [j for j in backup.list_restore_jobs(ByResourceType="DynamoDB")["RestoreJobs"]
               if j["RecoveryPointArn"] == point["RecoveryPointArn"] and j["Status"] != "FAILED"]
    if started:
        job_id = max(started, key=lambda j: j["CreationDate"])["RestoreJobId"]
    else:
        print(f"restoring {point['RecoveryPointArn']} (taken {point['CreationDate']:%Y-%m-%dT%H:%M:%SZ})")
        # A deleted table comes back under its own name; if it still exists, beside it under a new name.
        target = TABLE if not table_exists(TABLE) else f"{TABLE}-restored"
        metadata = backup.get_recovery_point_restore_metadata(
            BackupVaultName=VAULT, RecoveryPointArn=point["RecoveryPointArn"])["RestoreMetadata"]
        metadata["targetTableName"] = target  # the metadata names the original table: give the new one
        job_id = backup.start_restore_job(RecoveryPointArn=point["RecoveryPointArn"], Metadata=metadata,
                                          IamRoleArn=ROLE_ARN, ResourceType="DynamoDB")["RestoreJobId"]
        print(f"restore job {job_id} into table {target} started")
    for attempt in range(3):
        job = backup.describe_restore_job(RestoreJobId=job_id)
        if job["Status"] == "FAILED":
            sys.exit(f"restore job {job_id} FAILED: {job.get('StatusMessage')}")
        if job["Status"] == "COMPLETED":
            print(f"restore job {job_id} COMPLETED: {job['CreatedResourceArn']} is ACTIVE with the order history")
            return
        if attempt < 2:
            time.sleep(1.0)
    print(f"restore job {job_id} is {job['Status']} ({job.get('PercentDone') or '0.0'}% done, about "
          f"{job.get('ExpectedCompletionTimeMinutes')} minutes in all); move sim time on (lab clock advance 5m) "
          "and run this again", file=sys.stderr)
    sys.exit(NOT_READY)


if __name__ == "__main__":
    main()
