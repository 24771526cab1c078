#!/usr/bin/env python3
"""Lab 08 documented recovery (boto3): confirm the recovery points survived, and find the attempt in CloudTrail.

Run it with `lab solve 08-backup-monitoring --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py
Nothing was lost -- the vault refused the deletions. The response is the investigation: who tried, when,
from where, and what AWS Backup Audit Manager reports.
"""

from __future__ import annotations

import json
import os
import sys

import boto3

PRIMARY = "us-east-1"
VAULT = "securecart-vault"
FRAMEWORK = "securecart_backup_controls"


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def main() -> None:
    backup = aws("backup")
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)["RecoveryPoints"]
    print(f"{VAULT} still holds {len(points)} recovery point(s):")
    for point in points:
        print(f"  {point['RecoveryPointArn']} {point['Status']} ({point['ResourceType']})")
    events = aws("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DeleteRecoveryPoint"}])["Events"]
    print(f"CloudTrail recorded {len(events)} DeleteRecoveryPoint call(s):")
    for event in events:
        detail = json.loads(event.get("CloudTrailEvent") or "{}")
        print(f"  {event['EventTime']:%Y-%m-%dT%H:%M:%SZ} by {event.get('Username', '?')} from "
              f"{detail.get('sourceIPAddress', '?')}: {detail.get('errorCode', 'allowed')}")
    framework = backup.describe_framework(FrameworkName=FRAMEWORK)
    print(f"framework {FRAMEWORK}: {framework['DeploymentStatus']}, {len(framework['FrameworkControls'])} controls")


if __name__ == "__main__":
    main()
