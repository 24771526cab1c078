#!/usr/bin/env python3
"""Lab 03 documented recovery (boto3): restore the orders database as it was at T, the bad deploy, as a new instance.

Run it with `lab solve 03-rds-snapshot-restore --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py --before 2026-11-26T10:00:00Z
The incident time T comes from --before or LAB_INCIDENT_TIME (`lab drills` shows it, to the second). A
point-in-time restore gives the data as it was at that instant: every order committed before T, and none
of the bad deploy's damage, which ran within that second. The new instance is `creating` (inaccessible) for
the restore's time, then `backing-up`, then `available`: this script stops with exit 75 until it can be read,
and `lab solve --recover` moves sim time on and runs it again.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

import boto3
from botocore.exceptions import ClientError

PRIMARY = "us-east-1"
DB = "securecart-orders-db"
RESTORED = "securecart-orders-db-restored"
NOT_READY = 75  # EX_TEMPFAIL: `lab solve --recover` moves sim time on and runs this again


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def restored_status(rds) -> str | None:
    try:
        return rds.describe_db_instances(DBInstanceIdentifier=RESTORED)["DBInstances"][0]["DBInstanceStatus"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            return None
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=os.environ.get("LAB_INCIDENT_TIME"), help="T, the bad deploy (ISO 8601)")
    text = parser.parse_args().before
    if not text:
        sys.exit("give the time of the bad deploy: --before 2026-11-26T10:00:00Z (see `lab drills`)")
    restore_time = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    rds = aws("rds")
    status = restored_status(rds)
    if status is None:
        source = rds.describe_db_instances(DBInstanceIdentifier=DB)["DBInstances"][0]
        latest = source.get("LatestRestorableTime")
        print(f"{DB} can be restored to any second until {latest}")
        if latest is None or latest < restore_time:
            # The latest restorable time trails now by about five minutes: T is not restorable yet.
            print(f"{text} is not restorable yet; wait a few minutes (lab clock advance 5m) and run this again",
                  file=sys.stderr)
            sys.exit(NOT_READY)
        restored = rds.restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier=DB, TargetDBInstanceIdentifier=RESTORED, RestoreTime=restore_time,
            DBInstanceClass=source["DBInstanceClass"], Tags=[{"Key": "app", "Value": "securecart"}],
        )["DBInstance"]
        status = restored["DBInstanceStatus"]
        print(f"restoring {DB} as of {restore_time:%Y-%m-%dT%H:%M:%SZ} into {RESTORED}: {status}")
    if status not in ("available", "backing-up"):
        # A restored instance is inaccessible while it is being created: the restore's time is part of the RTO.
        print(f"{RESTORED} is {status}; move sim time on (lab clock advance 5m) and run this again, or wait with "
              "`aws rds wait db-instance-available` while the clock runs (lab clock speed 60)", file=sys.stderr)
        sys.exit(NOT_READY)
    print(f"{RESTORED} is {status}: it holds the orders as they were at {restore_time:%Y-%m-%dT%H:%M:%SZ}")


if __name__ == "__main__":
    main()
