#!/usr/bin/env python3
"""Lab 06 reference solution (boto3): a Multi-AZ orders database, with automated backups beside it.

Run it with `lab solve 06-rds-multi-az --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import boto3

PRIMARY = "us-east-1"
DB = "securecart-orders-db"


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


NOT_READY = 75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again


def instance():
    return aws("rds").describe_db_instances(DBInstanceIdentifier=DB)["DBInstances"][0]


def wait_until_available(what: str) -> dict:
    """RDS applies a modification in its own time (`modifying`, then `available`); this step is done once the
    instance is available again. If it is not yet, stop with NOT_READY: run the step again later
    (lab clock advance 5m), or wait with `aws rds wait db-instance-available` while the clock runs."""
    for attempt in range(3):
        shown = instance()
        if shown["DBInstanceStatus"] == "available":
            return shown
        if attempt < 2:
            time.sleep(1.0)
    print(f"{DB} is {shown['DBInstanceStatus']} ({what}); move sim time on (lab clock advance 5m) and run this "
          "step again", file=sys.stderr)
    sys.exit(NOT_READY)


def step_1() -> None:
    """Multi-AZ: a synchronous standby in a second Availability Zone."""
    shown = instance()
    if not shown["MultiAZ"] and not shown.get("PendingModifiedValues", {}).get("MultiAZ"):
        # Without ApplyImmediately the change waits in PendingModifiedValues for the maintenance window.
        shown = aws("rds").modify_db_instance(DBInstanceIdentifier=DB, MultiAZ=True,
                                              ApplyImmediately=True)["DBInstance"]
        print(f"{DB}: converting to Multi-AZ ({shown['DBInstanceStatus']}, "
              f"pending {shown.get('PendingModifiedValues')})")
    shown = wait_until_available("the standby is being built")
    print(f"{DB}: MultiAZ={shown['MultiAZ']}, primary in {shown['AvailabilityZone']}, "
          f"standby in {shown.get('SecondaryAvailabilityZone')}")


def step_2() -> None:
    """Automated backups kept 7 days: Multi-AZ protects from an AZ failure, not from a bad DELETE."""
    shown = wait_until_available("RDS refuses another modification until then")
    if shown["BackupRetentionPeriod"] < 7:
        aws("rds").modify_db_instance(DBInstanceIdentifier=DB, BackupRetentionPeriod=7, ApplyImmediately=True)
        print(f"{DB}: turning automated backups on (modifying, then backing-up: the first backup)")
    shown = wait_until_available("the first automated backup is being taken")
    print(f"{DB}: automated backups kept {shown['BackupRetentionPeriod']} days")


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
