#!/usr/bin/env python3
"""Lab 12 reference solution (boto3): multi-site active/active for SecureCart -- orders in a global table, a
full-size backend in each region, Route 53 latency routing with a health check per region.

Run it with `lab solve 12-dr-active-active --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
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
    """Orders in a global table (a replica in us-west-2 takes writes too); invoices replicated."""
    replicate_invoices()
    print(f"invoices replicate to {DESTINATION}")
    replicate_table()

    def replica_state():
        table = aws("dynamodb").describe_table(TableName=TABLE)["Table"]
        in_dr = next((r.get("ReplicaStatus") for r in table.get("Replicas", []) if r["RegionName"] == DR), None)
        if in_dr == "ACTIVE":
            return True
        replicate_table()
        return f"table replica {in_dr or 'not yet asked for'}"

    wait_until(replica_state, f"the replica of {TABLE} in {DR}")
    print(f"{TABLE} takes writes in {PRIMARY} and {DR}")


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
    """A full-size backend (t3.micro, as the primary) running in us-west-2."""
    second = second_backend("t3.micro", "active")
    print(f"the second site's backend {second['InstanceId']} runs in {DR}")


def step_3() -> None:
    """Latency records for shop.securecart.example.com in both regions, a health check on each."""
    changes = []
    for region in (PRIMARY, DR):
        ip = (backend(region) or {})["PublicIpAddress"]
        changes.append({"Action": "UPSERT", "ResourceRecordSet": {
            "Name": RECORD, "Type": "A", "SetIdentifier": region, "Region": region, "TTL": 10,
            "HealthCheckId": health_check(ip), "ResourceRecords": [{"Value": ip}]}})
    aws("route53").change_resource_record_sets(HostedZoneId=zone_id(), ChangeBatch={"Changes": changes})
    print(f"{RECORD}: latency records in {PRIMARY} and {DR}, each health-checked")


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
