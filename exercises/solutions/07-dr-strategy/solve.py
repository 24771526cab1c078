#!/usr/bin/env python3
"""Lab 07 reference solution (boto3): a pilot light in us-west-2 and Route 53 failover in front of it.

Run it with `lab solve 07-dr-strategy --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

PRIMARY, DR = "us-east-1", "us-west-2"
ACCOUNT = "000000000000"
DB = "securecart-orders-db"
REPLICA = "securecart-orders-db-usw2"
DR_KEY_ALIAS = "alias/securecart-rds-dr"
ZONE = "securecart.example.com"
RECORD = f"orders-db.{ZONE}"


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


NOT_READY = 75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again


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


def dr_key() -> str:
    """A KMS key in us-west-2: the encrypted replica is encrypted there with a key of that region."""
    kms = aws("kms", DR)
    try:
        return kms.describe_key(KeyId=DR_KEY_ALIAS)["KeyMetadata"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
    key = kms.create_key(Description="SecureCart RDS copies in us-west-2")["KeyMetadata"]
    kms.create_alias(AliasName=DR_KEY_ALIAS, TargetKeyId=key["KeyId"])
    return key["Arn"]


def instance(region: str, identifier: str) -> dict | None:
    try:
        return aws("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            return None
        raise


def step_1() -> None:
    """Pilot light: a cross-region read replica of the orders database in us-west-2."""
    # A read replica needs automated backups on its source, and a source that is available (not modifying or
    # backing up: switching backups on takes a few minutes).
    source = instance(PRIMARY, DB)
    if source["BackupRetentionPeriod"] == 0 and "BackupRetentionPeriod" not in source.get("PendingModifiedValues", {}):
        aws("rds").modify_db_instance(DBInstanceIdentifier=DB, BackupRetentionPeriod=7, ApplyImmediately=True)
    if instance(DR, REPLICA) is None:
        def source_state():
            status = instance(PRIMARY, DB)["DBInstanceStatus"]
            return True if status == "available" else status

        wait_until(source_state, DB)
        aws("rds", DR).create_db_instance_read_replica(
            DBInstanceIdentifier=REPLICA, SourceDBInstanceIdentifier=f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:{DB}",
            SourceRegion=PRIMARY, KmsKeyId=dr_key(), DBInstanceClass="db.t3.micro",
            Tags=[{"Key": "app", "Value": "securecart"}, {"Key": "dr-role", "Value": "pilot-light"}])
        print(f"creating read replica {REPLICA} in {DR}")
    def replica_state():
        status = instance(DR, REPLICA)["DBInstanceStatus"]
        return True if status == "available" else status

    wait_until(replica_state, f"read replica {REPLICA}")
    print(f"{REPLICA} is available at {instance(DR, REPLICA)['Endpoint']['Address']}")


def step_2() -> None:
    """A health check on the primary and failover records: orders-db answers the primary, or us-west-2 when it fails."""
    route53 = aws("route53")
    zones = [z for z in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"] if z["Name"] == f"{ZONE}."]
    zone_id = zones[0]["Id"] if zones else route53.create_hosted_zone(
        Name=ZONE, CallerReference=f"{ZONE}-lab07")["HostedZone"]["Id"]
    primary = instance(PRIMARY, DB)["Endpoint"]
    replica = instance(DR, REPLICA)["Endpoint"]
    checks = [c for c in route53.list_health_checks()["HealthChecks"]
              if c["HealthCheckConfig"].get("FullyQualifiedDomainName") == primary["Address"]]
    if checks:
        check_id = checks[0]["Id"]
    else:
        check_id = route53.create_health_check(CallerReference=f"{DB}-primary", HealthCheckConfig={
            "Type": "TCP", "FullyQualifiedDomainName": primary["Address"], "Port": primary["Port"],
            "RequestInterval": 10, "FailureThreshold": 3})["HealthCheck"]["Id"]
        route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id,
                                         AddTags=[{"Key": "Name", "Value": f"{DB}-primary"}])
    print(f"health check {check_id} watches {primary['Address']}:{primary['Port']}")
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Comment": "SecureCart orders database: fail over to us-west-2",
        "Changes": [
            {"Action": "UPSERT", "ResourceRecordSet": {
                "Name": RECORD, "Type": "CNAME", "SetIdentifier": "primary-us-east-1", "Failover": "PRIMARY",
                "TTL": 60, "HealthCheckId": check_id, "ResourceRecords": [{"Value": primary["Address"]}]}},
            {"Action": "UPSERT", "ResourceRecordSet": {
                "Name": RECORD, "Type": "CNAME", "SetIdentifier": "secondary-us-west-2", "Failover": "SECONDARY",
                "TTL": 60, "ResourceRecords": [{"Value": replica["Address"]}]}},
        ]})
    print(f"{RECORD}: PRIMARY -> {primary['Address']}, SECONDARY -> {replica['Address']}")


STEPS = {1: step_1, 2: step_2}


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
