#!/usr/bin/env python3
"""Lab 10 documented recovery (boto3): promote the orders replica, launch the backend from DRS in us-west-2,
and point shop.securecart.example.com at it.

Run it with `lab solve 10-dr-pilot-light --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py
Run it again until it says the backend is up (it exits 75, not ready, while the recovery job runs).
"""

from __future__ import annotations

import os
import sys

import boto3

DR = "us-west-2"
REPLICA, BACKEND = "securecart-orders-db-usw2", "securecart-backend"
ZONE, RECORD = "securecart.example.com", "shop.securecart.example.com"
NOT_READY = 75


def aws(service: str, region: str = DR):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def promote() -> None:
    rds = aws("rds")
    replica = rds.describe_db_instances(DBInstanceIdentifier=REPLICA)["DBInstances"][0]
    if replica.get("ReadReplicaSourceDBInstanceIdentifier"):
        rds.promote_read_replica(DBInstanceIdentifier=REPLICA, BackupRetentionPeriod=7)
        print(f"promoting {REPLICA}: it becomes a standalone primary in {DR}")


def launch() -> dict | None:
    """The recovery job of the backend's source server (started now if there is none): the newest job."""
    drs = aws("drs")
    server = next(s for s in drs.describe_source_servers()["items"] if s.get("replicationDirection") == "FAILOVER"
                  and drs.get_launch_configuration(sourceServerID=s["sourceServerID"])["name"] == BACKEND)
    jobs = [j for j in drs.describe_jobs()["items"] if j["initiatedBy"] == "START_RECOVERY"
            and any(p["sourceServerID"] == server["sourceServerID"] for p in j["participatingServers"])]
    if not jobs:
        job = drs.start_recovery(sourceServers=[{"sourceServerID": server["sourceServerID"]}])["job"]
        print(f"recovery job {job['jobID']} launches {server['sourceServerID']} from its latest data")
        return job
    return jobs[0]


def point_dns_at(instance_id: str) -> None:
    ip = aws("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0][
        "PublicIpAddress"]
    route53 = aws("route53")
    zone_id = next(z["Id"] for z in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
                   if z["Name"] == f"{ZONE}.")
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": RECORD, "Type": "A", "SetIdentifier": "secondary", "Failover": "SECONDARY", "TTL": 60,
            "ResourceRecords": [{"Value": ip}]}}]})
    print(f"{RECORD}: SECONDARY -> {ip} (the recovery instance {instance_id})")


def main() -> None:
    promote()
    job = launch()
    part = job["participatingServers"][0]
    print(f"job {job['jobID']}: {job['status']}, launch {part.get('launchStatus')}")
    if part.get("recoveryInstanceID"):
        point_dns_at(part["recoveryInstanceID"])
    if job["status"] != "COMPLETED":
        print("the recovery instance is not up yet; move sim time on (lab clock advance 5m) and run this again",
              file=sys.stderr)
        sys.exit(NOT_READY)
    if part.get("launchStatus") != "LAUNCHED":
        sys.exit(f"the recovery job ended with {part.get('launchStatus')}: aws drs describe-job-log-items "
                 f"--region {DR} --job-id {job['jobID']}")
    print(f"{BACKEND} runs in {DR} on {part['recoveryInstanceID']}")


if __name__ == "__main__":
    main()
