#!/usr/bin/env python3
"""Lab 11 documented recovery (boto3): promote the orders replica in us-west-2; Route 53 has already moved the
shop's name to the standby.

Run it with `lab solve 11-dr-warm-standby --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py
"""

from __future__ import annotations

import os
import sys

import boto3
from botocore.exceptions import ClientError

DR = "us-west-2"
REPLICA = "securecart-orders-db-usw2"
ZONE, RECORD = "securecart.example.com", "shop.securecart.example.com"


def aws(service: str, region: str = DR):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def main() -> None:
    rds = aws("rds")
    replica = rds.describe_db_instances(DBInstanceIdentifier=REPLICA)["DBInstances"][0]
    if replica.get("ReadReplicaSourceDBInstanceIdentifier"):
        rds.promote_read_replica(DBInstanceIdentifier=REPLICA, BackupRetentionPeriod=7)
        print(f"promoting {REPLICA}: it takes orders once it is available again")
    else:
        print(f"{REPLICA} is a standalone primary ({replica['DBInstanceStatus']})")
    route53 = aws("route53")
    zone_id = next(z["Id"] for z in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
                   if z["Name"] == f"{ZONE}.")
    try:
        answer = route53.test_dns_answer(HostedZoneId=zone_id, RecordName=RECORD, RecordType="A")
        print(f"{RECORD} answers {', '.join(answer['RecordData'])}")
    except ClientError as exc:
        print(f"could not ask Route 53 what {RECORD} answers: {exc.response['Error']['Message']}")


if __name__ == "__main__":
    main()
