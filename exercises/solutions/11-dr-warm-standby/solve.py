#!/usr/bin/env python3
"""Lab 11 reference solution (boto3): a warm standby for SecureCart -- data live in us-west-2, a scaled-down
backend running there, Route 53 failover in front of both.

Run it with `lab solve 11-dr-warm-standby --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
Every step can run again. A step that waits for AWS exits 75 (not ready yet): `lab solve` moves sim time on
and runs it again.
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
DB, REPLICA = "securecart-orders-db", "securecart-orders-db-usw2"
TABLE, BACKEND = "securecart-order-history", "securecart-backend"
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


def dr_key() -> str:
    kms = aws("kms", DR)
    try:
        return kms.describe_key(KeyId="alias/securecart-dr")["KeyMetadata"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
    key = kms.create_key(Description="SecureCart copies in us-west-2")["KeyMetadata"]
    kms.create_alias(AliasName="alias/securecart-dr", TargetKeyId=key["KeyId"])
    return key["Arn"]


def db_status(region: str, identifier: str) -> str | None:
    try:
        return aws("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0][
            "DBInstanceStatus"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            return None
        raise


def replicate_database() -> None:
    if db_status(DR, REPLICA) is None:
        # A read replica needs automated backups on its source, and a source that is available (switching
        # backups on takes a few minutes: until then the step is not ready and runs again later)
        source = aws("rds").describe_db_instances(DBInstanceIdentifier=DB)["DBInstances"][0]
        if source["BackupRetentionPeriod"] == 0 and "BackupRetentionPeriod" not in source.get(
                "PendingModifiedValues", {}):
            aws("rds").modify_db_instance(DBInstanceIdentifier=DB, BackupRetentionPeriod=7, ApplyImmediately=True)
            print(f"{DB}: automated backups switched on")
            return
        if source["DBInstanceStatus"] != "available":
            print(f"{DB} is {source['DBInstanceStatus']}: the replica once it is available")
            return
        aws("rds", DR).create_db_instance_read_replica(
            DBInstanceIdentifier=REPLICA, SourceDBInstanceIdentifier=f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:{DB}",
            SourceRegion=PRIMARY, KmsKeyId=dr_key(), DBInstanceClass="db.t3.micro",
            Tags=[{"Key": "app", "Value": "securecart"}])
        print(f"creating read replica {REPLICA} in {DR}")


def replicate_table() -> None:
    dynamodb = aws("dynamodb")
    table = dynamodb.describe_table(TableName=TABLE)["Table"]
    if not table.get("StreamSpecification", {}).get("StreamEnabled"):
        dynamodb.update_table(TableName=TABLE, StreamSpecification={"StreamEnabled": True,
                                                                    "StreamViewType": "NEW_AND_OLD_IMAGES"})
        print(f"{TABLE}: stream enabled")
        return  # the replica once the table is ACTIVE again
    if table["TableStatus"] == "ACTIVE" and not any(r["RegionName"] == DR for r in table.get("Replicas", [])):
        dynamodb.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": DR}}])
        print(f"{TABLE}: creating a replica in {DR}")


#: S3 Replication Time Control on the invoices' rule: without it S3 promises no replication time and a few
#: objects take hours, past the RPO; with it 99.99 % arrive within 15 minutes. AWS requires the Metrics with it.
REPLICATION_TIME_CONTROL = {"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}


def replicate_invoices() -> None:
    for region, bucket in ((PRIMARY, SOURCE), (DR, DESTINATION)):
        aws("s3", region).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    try:
        aws("iam").create_role(RoleName="securecart-s3-replication", AssumeRolePolicyDocument=json.dumps(trust))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    s3 = aws("s3")
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{ACCOUNT}:role/securecart-s3-replication",
        "Rules": [{"ID": "invoices-to-usw2", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}", **REPLICATION_TIME_CONTROL}}]})
    dr = aws("s3", DR)
    present = {o["Key"] for page in dr.get_paginator("list_objects_v2").paginate(Bucket=DESTINATION)
               for o in page.get("Contents", [])}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=SOURCE):
        for obj in page.get("Contents", []):
            if obj["Key"] not in present:
                dr.copy_object(Bucket=DESTINATION, Key=obj["Key"], CopySource={"Bucket": SOURCE, "Key": obj["Key"]})


def step_1() -> None:
    """The data live in us-west-2: a read replica, a global-table replica, replicated invoices."""
    replicate_invoices()
    print(f"invoices replicate to {DESTINATION}")
    replicate_database()
    replicate_table()

    def data_state():
        replica = db_status(DR, REPLICA)
        table = aws("dynamodb").describe_table(TableName=TABLE)["Table"]
        in_dr = next((r.get("ReplicaStatus") for r in table.get("Replicas", []) if r["RegionName"] == DR), None)
        if replica == "available" and in_dr == "ACTIVE":
            return True
        replicate_table()  # (the replica can only be asked for once the stream is on and the table ACTIVE)
        return f"replica {replica}, table replica {in_dr or 'not yet asked for'}"

    wait_until(data_state, "the data in us-west-2")
    print(f"{REPLICA} is available and {TABLE} has an ACTIVE replica in {DR}")


def backend(region: str = PRIMARY, states: tuple[str, ...] = ("running",)) -> dict | None:
    reservations = aws("ec2", region).describe_instances(Filters=[
        {"Name": "tag:Name", "Values": [BACKEND]}, {"Name": "instance-state-name", "Values": list(states)}])
    return next((i for r in reservations["Reservations"] for i in r["Instances"]), None)


def second_backend(instance_type: str, role: str) -> dict:
    """The backend's instance in us-west-2, launched now if there is none, once it runs (it is `pending` for
    a while after the launch, as on AWS)."""
    if backend(DR, ("pending", "running")) is None:
        launch_backend(instance_type, role)

    def running() -> bool | str:
        found = backend(DR, ("pending", "running"))
        state = found["State"]["Name"] if found else "gone"
        return True if state == "running" else state

    wait_until(running, f"the backend in {DR}")
    return backend(DR)


def launch_backend(instance_type: str, role: str) -> None:
    ec2 = aws("ec2", DR)
    image = max(ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]}])["Images"], key=lambda i: i["Name"])["ImageId"]
    launched = ec2.run_instances(ImageId=image, InstanceType=instance_type, MinCount=1, MaxCount=1,
                                 TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                     {"Key": "Name", "Value": BACKEND}, {"Key": "app", "Value": "securecart"},
                                     {"Key": "dr-role", "Value": role}]}])["Instances"][0]
    print(f"launched {launched['InstanceId']} ({instance_type}) in {DR}")


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


def step_2() -> None:
    """A scaled-down backend (t3.nano) running in us-west-2."""
    standby = second_backend("t3.nano", "warm-standby")
    print(f"the standby {standby['InstanceId']} runs in {DR}")


def step_3() -> None:
    """shop.securecart.example.com fails over from the primary (health-checked) to the standby by itself."""
    primary, standby = backend()["PublicIpAddress"], second_backend("t3.nano", "warm-standby")["PublicIpAddress"]
    check_id = health_check(primary)
    aws("route53").change_resource_record_sets(HostedZoneId=zone_id(), ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": RECORD, "Type": "A", "SetIdentifier": "primary", "Failover": "PRIMARY", "TTL": 60,
            "HealthCheckId": check_id, "ResourceRecords": [{"Value": primary}]}},
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": RECORD, "Type": "A", "SetIdentifier": "secondary", "Failover": "SECONDARY", "TTL": 60,
            "ResourceRecords": [{"Value": standby}]}}]})
    print(f"{RECORD}: PRIMARY {primary} (health check {check_id}), SECONDARY {standby}")


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
