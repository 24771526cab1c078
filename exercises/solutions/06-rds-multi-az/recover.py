#!/usr/bin/env python3
"""Lab 06 documented recovery (boto3): nothing to repair -- confirm that RDS failed over to the standby.

Run it with `lab solve 06-rds-multi-az --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py
A Multi-AZ instance fails over by itself; the endpoint name stays the same, so the shop reconnects to the
new primary without a change. This shows where the primary runs now and what RDS recorded.
"""

from __future__ import annotations

import os
import sys

import boto3

PRIMARY = "us-east-1"
DB = "securecart-orders-db"


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def main() -> None:
    rds = aws("rds")
    instance = rds.describe_db_instances(DBInstanceIdentifier=DB)["DBInstances"][0]
    print(f"{DB}: {instance['DBInstanceStatus']}, primary in {instance['AvailabilityZone']}, "
          f"standby in {instance.get('SecondaryAvailabilityZone', 'unknown')}, "
          f"endpoint {instance.get('Endpoint', {}).get('Address', 'none')}")
    for event in rds.describe_events(SourceIdentifier=DB, SourceType="db-instance", Duration=1440)["Events"]:
        print(f"  {event['Date']:%Y-%m-%dT%H:%M:%SZ} {event['Message']}")


if __name__ == "__main__":
    main()
