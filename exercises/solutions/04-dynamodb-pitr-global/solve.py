#!/usr/bin/env python3
"""Lab 04 reference solution (boto3): point-in-time recovery and a us-west-2 replica for the order history.

Run it with `lab solve 04-dynamodb-pitr-global --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import boto3

PRIMARY, DR = "us-east-1", "us-west-2"
TABLE = "securecart-order-history"


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def enable_pitr(region: str) -> None:
    answer = aws("dynamodb", region).update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    status = answer["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    print(f"{TABLE} in {region}: point-in-time recovery {status}")


NOT_READY = 75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again


def wait_until(probe, what: str, tries: int = 3) -> None:
    """Poll a few times; AWS (here: the sandbox's sim clock) decides how long things take. If it is not
    ready, stop with NOT_READY and say so: run the step again later (lab clock advance 5m)."""
    for attempt in range(tries):
        state = probe()
        if state is True:
            return
        if attempt < tries - 1:
            time.sleep(1.0)
    print(f"{what} is {state}, not ready yet; move sim time on (lab clock advance 5m) and run this step again",
          file=sys.stderr)
    sys.exit(NOT_READY)


def table_state(dynamodb):
    status = dynamodb.describe_table(TableName=TABLE)["Table"]["TableStatus"]
    return True if status == "ACTIVE" else status


def replica_state(dynamodb):
    replicas = dynamodb.describe_table(TableName=TABLE)["Table"].get("Replicas", [])
    status = next((r.get("ReplicaStatus") for r in replicas if r["RegionName"] == DR), "missing")
    return True if status == "ACTIVE" else status


def step_1() -> None:
    """Point-in-time recovery on the order history table."""
    enable_pitr(PRIMARY)


def step_2() -> None:
    """Make it a global table: a replica in us-west-2 (version 2019.11.21 needs streams with new and old images)."""
    dynamodb = aws("dynamodb")
    table = dynamodb.describe_table(TableName=TABLE)["Table"]
    if not table.get("StreamSpecification", {}).get("StreamEnabled"):
        dynamodb.update_table(TableName=TABLE, StreamSpecification={"StreamEnabled": True,
                                                                    "StreamViewType": "NEW_AND_OLD_IMAGES"})
        print(f"{TABLE}: stream enabled (NEW_AND_OLD_IMAGES)")
        wait_until(lambda: table_state(dynamodb), f"table {TABLE}")
    if any(replica["RegionName"] == DR for replica in table.get("Replicas", [])):
        print(f"{TABLE} already has a replica in {DR}")
    else:
        dynamodb.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": DR}}])
        print(f"{TABLE}: creating a replica in {DR}")
    wait_until(lambda: replica_state(dynamodb), f"the replica of {TABLE} in {DR}")
    print(f"replica in {DR} is ACTIVE")


def step_3() -> None:
    """Point-in-time recovery on the replica too (PITR is set per replica)."""
    enable_pitr(DR)


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
