#!/usr/bin/env python3
"""Lab 09 documented recovery (boto3): restore the orders database, the order history and the backend in
us-west-2 from the newest copies before the incident, then point shop.securecart.example.com at the backend.

Run it with `lab solve 09-dr-backup-restore --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py [--before 2026-11-26T11:40:00Z]
Run it again until it says everything is restored (it exits 75, not ready, while restore jobs run).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

import boto3

DR = "us-west-2"
ACCOUNT = "000000000000"
DR_VAULT = "securecart-vault-dr"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/AWSBackupDefaultServiceRole"
DB, TABLE, BACKEND = "securecart-orders-db", "securecart-order-history", "securecart-backend"
ZONE, RECORD = "securecart.example.com", "shop.securecart.example.com"
NOT_READY = 75


def aws(service: str, region: str = DR):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC) if text else None


def newest_copies(before: datetime | None) -> dict[str, dict]:
    """Resource type -> the newest completed recovery point in the DR vault taken before the incident."""
    backup = aws("backup")
    points = [p for page in backup.get_paginator("list_recovery_points_by_backup_vault").paginate(
        BackupVaultName=DR_VAULT) for p in page["RecoveryPoints"]]
    wanted = {"RDS": f":db:{DB}", "DynamoDB": f":table/{TABLE}", "EC2": ":instance/"}
    chosen = {}
    for kind, suffix in wanted.items():
        usable = [p for p in points if p["ResourceType"] == kind and suffix in p["ResourceArn"]
                  and p["Status"] == "COMPLETED" and (before is None or p["CreationDate"] < before)]
        if not usable:
            sys.exit(f"no copy of the {kind} resource in {DR_VAULT} before {before}: was it copied before the "
                     "incident?")
        chosen[kind] = max(usable, key=lambda p: p["CreationDate"])
    return chosen


def restore(kind: str, point: dict) -> dict:
    """The restore job of this recovery point (started now if there is none)."""
    backup = aws("backup")
    for job in backup.list_restore_jobs()["RestoreJobs"]:
        if job["RecoveryPointArn"] == point["RecoveryPointArn"] and job["Status"] != "FAILED":
            return job
    metadata = backup.get_recovery_point_restore_metadata(
        BackupVaultName=DR_VAULT, RecoveryPointArn=point["RecoveryPointArn"])["RestoreMetadata"]
    if kind == "RDS":
        metadata.update(DBInstanceIdentifier=DB, DBInstanceClass="db.t3.micro")
    elif kind == "DynamoDB":
        metadata["TargetTableName"] = TABLE
    else:
        # The copy's launch settings name us-east-1's network (its subnet, security groups, zone), which does
        # not exist in us-west-2: the restored instance goes to us-west-2's default VPC instead (AWS Backup
        # Developer Guide, Restoring an Amazon EC2 instance: the network settings are chosen for the restore).
        for setting in ("SubnetId", "SecurityGroupIds", "NetworkInterfaces", "Placement"):
            metadata.pop(setting, None)
        metadata["InstanceType"] = "t3.micro"
    job_id = backup.start_restore_job(RecoveryPointArn=point["RecoveryPointArn"], Metadata=metadata,
                                      IamRoleArn=ROLE_ARN, ResourceType=kind)["RestoreJobId"]
    print(f"{kind}: restoring {point['RecoveryPointArn']} (taken {point['CreationDate']:%Y-%m-%dT%H:%M:%SZ})")
    return backup.describe_restore_job(RestoreJobId=job_id)


def point_dns_at(instance_id: str) -> None:
    ec2 = aws("ec2")
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "Name", "Value": BACKEND},
                                                   {"Key": "app", "Value": "securecart"}])
    ip = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["PublicIpAddress"]
    route53 = aws("route53")
    zone_id = next(z["Id"] for z in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
                   if z["Name"] == f"{ZONE}.")
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": RECORD, "Type": "A", "SetIdentifier": "secondary", "Failover": "SECONDARY", "TTL": 60,
            "ResourceRecords": [{"Value": ip}]}}]})
    print(f"{RECORD}: SECONDARY -> {ip} (the restored backend {instance_id})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=os.environ.get("LAB_INCIDENT_TIME"),
                        help="the incident time (ISO 8601); the copies must be older")
    before = parse_time(parser.parse_args().before)
    jobs = {kind: restore(kind, point) for kind, point in newest_copies(before).items()}
    for kind, job in jobs.items():
        print(f"{kind}: restore job {job['RestoreJobId']} {job['Status']}")
    backend = jobs["EC2"]
    if backend["Status"] == "COMPLETED":
        point_dns_at(backend["CreatedResourceArn"].rsplit("/", 1)[-1])
    failed = [kind for kind, job in jobs.items() if job["Status"] in ("FAILED", "ABORTED")]
    if failed:
        sys.exit(f"restore jobs failed: {', '.join(failed)}")
    if any(job["Status"] != "COMPLETED" for job in jobs.values()):
        print("restores are still running; move sim time on (lab clock advance 5m) and run this again",
              file=sys.stderr)
        sys.exit(NOT_READY)
    print("the orders database, the order history and the backend are restored in us-west-2")


if __name__ == "__main__":
    main()
