#!/usr/bin/env python3
"""Lab 04 documented recovery (boto3): restore the order history in us-west-2 as it was at T, the deletion.

Run it with `lab solve 04-dynamodb-pitr-global --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py --before 2026-11-26T10:00:00Z
us-east-1 is down; the replica in us-west-2 serves reads, but the deletion reached it too. Its own
point-in-time recovery brings the items back into a new table in us-west-2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

import boto3
from botocore.exceptions import ClientError

DR = "us-west-2"
TABLE = "securecart-order-history"
RESTORED = "securecart-order-history-restored"
NOT_READY = 75  # EX_TEMPFAIL: `lab solve --recover` moves sim time on and runs this again


def aws(service: str, region: str = DR):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=os.environ.get("LAB_INCIDENT_TIME"),
                        help="when the items were deleted (ISO 8601)")
    text = parser.parse_args().before
    if not text:
        sys.exit("give the time of the deletion: --before 2026-11-26T10:00:00Z (see `lab drills`)")
    # T is given to the second: the table as it was then holds every item, and none of the deletes run since.
    restore_time = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    dynamodb = aws("dynamodb")
    if restoring(dynamodb):
        return
    window = dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    pitr = window["PointInTimeRecoveryDescription"]
    print(f"{TABLE} in {DR}: point-in-time recovery {pitr['PointInTimeRecoveryStatus']}, restorable until "
          f"{pitr.get('LatestRestorableDateTime')}")
    if pitr.get("LatestRestorableDateTime") is not None and pitr["LatestRestorableDateTime"] < restore_time:
        # The latest restorable time trails now by a few minutes: T is not restorable yet.
        print(f"{text} is not restorable yet; wait a few minutes (lab clock advance 5m) and run this again",
              file=sys.stderr)
        sys.exit(NOT_READY)
    restored = dynamodb.restore_table_to_point_in_time(SourceTableName=TABLE, TargetTableName=RESTORED,
                                                       RestoreDateTime=restore_time)["TableDescription"]
    print(f"restoring {TABLE} as of {restore_time:%Y-%m-%dT%H:%M:%SZ} into {RESTORED} ({DR}): "
          f"{restored['TableStatus']}")
    restoring(dynamodb)


def restoring(dynamodb) -> bool:
    """Whether the restored table exists; it is usable once ACTIVE (a restore takes minutes: until then it is
    CREATING and refuses reads and writes). Not ACTIVE yet: stop with NOT_READY, to be run again later."""
    try:
        table = dynamodb.describe_table(TableName=RESTORED)["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    for attempt in range(3):
        if table["TableStatus"] == "ACTIVE":
            print(f"{RESTORED} ({DR}) is ACTIVE: serve reads from it")
            return True
        if attempt < 2:
            time.sleep(1.0)
            table = dynamodb.describe_table(TableName=RESTORED)["Table"]
    print(f"{RESTORED} is {table['TableStatus']} (restore in progress: "
          f"{table.get('RestoreSummary', {}).get('RestoreInProgress')}); move sim time on (lab clock advance 5m) "
          "and run this again", file=sys.stderr)
    sys.exit(NOT_READY)


if __name__ == "__main__":
    main()
