#!/usr/bin/env python3
"""Lab 12 documented recovery (boto3): nothing to change -- show what Route 53 answers for the shop and the
state of the order history's replica in us-west-2.

Run it with `lab solve 12-dr-active-active --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py
"""

from __future__ import annotations

import os
import sys

import boto3
from botocore.exceptions import ClientError

DR = "us-west-2"
TABLE = "securecart-order-history"
ZONE, RECORD = "securecart.example.com", "shop.securecart.example.com"


def aws(service: str, region: str = DR):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def main() -> None:
    table = aws("dynamodb").describe_table(TableName=TABLE)["Table"]
    print(f"{TABLE} in {DR}: {table['TableStatus']}, {table.get('ItemCount', '?')} items, takes writes here")
    route53 = aws("route53")
    zone_id = next(z["Id"] for z in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
                   if z["Name"] == f"{ZONE}.")
    for check in route53.list_health_checks()["HealthChecks"]:
        observations = route53.get_health_check_status(HealthCheckId=check["Id"])["HealthCheckObservations"]
        healthy = sum(o["StatusReport"]["Status"].startswith("Success") for o in observations)
        print(f"health check {check['Id']} ({check['HealthCheckConfig'].get('IPAddress')}): "
              f"{healthy} of {len(observations)} checkers see it healthy")
    try:
        answer = route53.test_dns_answer(HostedZoneId=zone_id, RecordName=RECORD, RecordType="A")
        print(f"{RECORD} answers {', '.join(answer['RecordData'])}")
    except ClientError as exc:
        print(f"could not ask Route 53 what {RECORD} answers: {exc.response['Error']['Message']}")


if __name__ == "__main__":
    main()
