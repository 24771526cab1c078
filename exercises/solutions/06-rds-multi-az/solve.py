#!/usr/bin/env python3
"""Lab 06 reference solution (boto3): a Multi-AZ orders database, with automated backups beside it.

Run it with `lab solve 06-rds-multi-az --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
"""

from __future__ import annotations

import argparse
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


def step_1() -> None:
    """Multi-AZ: a synchronous standby in a second Availability Zone."""
    instance = aws("rds").modify_db_instance(DBInstanceIdentifier=DB, MultiAZ=True, ApplyImmediately=True)["DBInstance"]
    pending = instance.get("PendingModifiedValues", {})
    print(f"{DB}: MultiAZ={instance['MultiAZ'] or pending.get('MultiAZ', False)} "
          f"(primary in {instance['AvailabilityZone']}, status {instance['DBInstanceStatus']})")


def step_2() -> None:
    """Automated backups kept 7 days: Multi-AZ protects from an AZ failure, not from a bad DELETE."""
    aws("rds").modify_db_instance(DBInstanceIdentifier=DB, BackupRetentionPeriod=7, ApplyImmediately=True)
    print(f"{DB}: automated backups kept 7 days")


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
