#!/usr/bin/env python3
"""Lab 09 reference solution (boto3): backup and restore for SecureCart, copies in us-west-2.

Run it with `lab solve 09-dr-backup-restore --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
Every step can run again: what already exists is left as it is. A step that waits for AWS exits 75 (not
ready yet): `lab solve` moves sim time on and runs it again.
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
VAULT, DR_VAULT = "securecart-vault", "securecart-vault-dr"
DR_VAULT_ARN = f"arn:aws:backup:{DR}:{ACCOUNT}:backup-vault:{DR_VAULT}"
ROLE = "AWSBackupDefaultServiceRole"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
PLAN = "securecart-dr-daily"
DB, TABLE, BACKEND = "securecart-orders-db", "securecart-order-history", "securecart-backend"
SOURCE, DESTINATION = "securecart-invoices-use1", "securecart-invoices-usw2"
ZONE, RECORD = "securecart.example.com", "shop.securecart.example.com"
NOT_READY = 75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def wait_until(probe, what: str, tries: int = int(os.environ.get("LAB_WAIT_TRIES", "3"))) -> None:
    """Poll a few times (LAB_WAIT_TRIES: 1 where the clock is paused and only `lab clock advance` moves it);
    the sandbox's sim clock decides how long AWS takes. Not ready: exit NOT_READY."""
    for attempt in range(tries):
        state = probe()
        if state is True:
            return
        if attempt < tries - 1:
            time.sleep(1.0)
    print(f"{what} is {state}, not ready yet; move sim time on (lab clock advance 5m) and run this step again",
          file=sys.stderr)
    sys.exit(NOT_READY)


def backend() -> dict:
    reservations = aws("ec2").describe_instances(Filters=[
        {"Name": "tag:Name", "Values": [BACKEND]}, {"Name": "instance-state-name", "Values": ["running"]}])
    return next(i for r in reservations["Reservations"] for i in r["Instances"])


def resources() -> dict[str, str]:
    """What the plan protects: resource type -> ARN."""
    return {"RDS": f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:{DB}",
            "DynamoDB": f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table/{TABLE}",
            "EC2": f"arn:aws:ec2:{PRIMARY}:{ACCOUNT}:instance/{backend()['InstanceId']}"}


def backup_role() -> None:
    iam = aws("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    try:
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust),
                        Description="Lets AWS Backup back up and restore SecureCart's resources")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    for policy in ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"):
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=f"arn:aws:iam::aws:policy/service-role/{policy}")


def step_1() -> None:
    """Vaults in both regions; a daily plan whose recovery points are copied to us-west-2; its selection."""
    for region, vault in ((PRIMARY, VAULT), (DR, DR_VAULT)):
        try:
            aws("backup", region).create_backup_vault(BackupVaultName=vault, BackupVaultTags={"app": "securecart"})
            print(f"created vault {vault} in {region}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "AlreadyExistsException":
                raise
    backup_role()
    backup = aws("backup")
    plan = {"BackupPlanName": PLAN, "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": VAULT, "ScheduleExpression": "cron(0 5 * * ? *)",
        "StartWindowMinutes": 60, "CompletionWindowMinutes": 180, "Lifecycle": {"DeleteAfterDays": 7},
        "CopyActions": [{"DestinationBackupVaultArn": DR_VAULT_ARN, "Lifecycle": {"DeleteAfterDays": 7}}]}]}
    existing = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == PLAN]
    if existing:
        plan_id = existing[0]["BackupPlanId"]
        backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan=plan)
    else:
        plan_id = backup.create_backup_plan(BackupPlan=plan)["BackupPlanId"]
        print(f"created plan {PLAN} ({plan_id}): daily at 05:00 UTC, copies to {DR_VAULT}")
    if not backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]:
        backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection={
            "SelectionName": "securecart-state", "IamRoleArn": ROLE_ARN, "Resources": list(resources().values())})
        print("selected the orders database, the order history and the backend")


def step_2() -> None:
    """A backup of each resource now, and its copy in us-west-2 (the plan's first run is tomorrow)."""
    backup, dr = aws("backup"), aws("backup", DR)
    for kind, arn in resources().items():
        copied = [p for p in dr.list_recovery_points_by_backup_vault(BackupVaultName=DR_VAULT,
                                                                     ByResourceArn=arn)["RecoveryPoints"]
                  if p["Status"] == "COMPLETED"]
        if copied:
            print(f"{kind}: a copy is in {DR_VAULT}")
            continue
        jobs = backup.list_backup_jobs(ByResourceArn=arn)["BackupJobs"]
        if not jobs:
            job = backup.start_backup_job(BackupVaultName=VAULT, ResourceArn=arn, IamRoleArn=ROLE_ARN,
                                          Lifecycle={"DeleteAfterDays": 7})
            print(f"{kind}: backup job {job['BackupJobId']} started")
            continue
        done = [j for j in jobs if j["State"] == "COMPLETED"]
        if not done:
            print(f"{kind}: backup job {jobs[0]['State']} ({jobs[0].get('PercentDone', '0')}%)")
            continue
        if not backup.list_copy_jobs(ByResourceArn=arn)["CopyJobs"]:
            backup.start_copy_job(RecoveryPointArn=done[0]["RecoveryPointArn"], SourceBackupVaultName=VAULT,
                                  DestinationBackupVaultArn=DR_VAULT_ARN, IamRoleArn=ROLE_ARN,
                                  Lifecycle={"DeleteAfterDays": 7})
            print(f"{kind}: copying {done[0]['RecoveryPointArn']} to {DR_VAULT}")

    def copies_done():
        missing = [kind for kind, arn in resources().items() if not any(
            p["Status"] == "COMPLETED" for p in dr.list_recovery_points_by_backup_vault(
                BackupVaultName=DR_VAULT, ByResourceArn=arn)["RecoveryPoints"])]
        return True if not missing else f"waiting for the copies of {', '.join(missing)}"

    wait_until(copies_done, f"the copies in {DR_VAULT}")
    print(f"every resource has a copy in {DR_VAULT}")


def replicate_invoices() -> None:
    for region, bucket in ((PRIMARY, SOURCE), (DR, DESTINATION)):
        aws("s3", region).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    iam = aws("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    try:
        iam.create_role(RoleName="securecart-s3-replication", AssumeRolePolicyDocument=json.dumps(trust))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    s3 = aws("s3")
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{ACCOUNT}:role/securecart-s3-replication",
        "Rules": [{"ID": "invoices-to-usw2", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}"}}]})
    dr = aws("s3", DR)
    present = {o["Key"] for page in dr.get_paginator("list_objects_v2").paginate(Bucket=DESTINATION)
               for o in page.get("Contents", [])}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=SOURCE):
        for obj in page.get("Contents", []):
            if obj["Key"] not in present:
                dr.copy_object(Bucket=DESTINATION, Key=obj["Key"], CopySource={"Bucket": SOURCE, "Key": obj["Key"]})
    print(f"invoices replicate from {SOURCE} to {DESTINATION}")


def zone_id() -> str:
    route53 = aws("route53")
    zones = [z for z in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"] if z["Name"] == f"{ZONE}."]
    if zones:
        return zones[0]["Id"]
    return route53.create_hosted_zone(Name=ZONE, CallerReference=f"{ZONE}-shop")["HostedZone"]["Id"]


def health_check(ip: str) -> str:
    route53 = aws("route53")
    for check in route53.list_health_checks()["HealthChecks"]:
        if check["HealthCheckConfig"].get("IPAddress") == ip:
            return check["Id"]
    return route53.create_health_check(CallerReference=f"shop-{ip}", HealthCheckConfig={
        "Type": "TCP", "IPAddress": ip, "Port": 443, "RequestInterval": 10, "FailureThreshold": 3})["HealthCheck"]["Id"]


def step_3() -> None:
    """Invoices replicated to us-west-2; shop.securecart.example.com a PRIMARY record with a health check."""
    replicate_invoices()
    ip = backend()["PublicIpAddress"]
    check_id = health_check(ip)
    aws("route53").change_resource_record_sets(HostedZoneId=zone_id(), ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": RECORD, "Type": "A", "SetIdentifier": "primary", "Failover": "PRIMARY", "TTL": 60,
            "HealthCheckId": check_id, "ResourceRecords": [{"Value": ip}]}}]})
    print(f"{RECORD} -> {ip} (PRIMARY, health check {check_id})")


STEPS = {1: step_1, 2: step_2, 3: step_3}


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
