"""Near miss (recovery): after the bad deploy, the learner restores the manual snapshot taken while solving
instead of restoring to just before T -- the new instance lacks every order placed between the snapshot
and T."""

import json
import os
import urllib.request

import boto3

PHASE = "recover"
EXPECT = {"RECOVERY_ORDERS_RESTORED": "orders_missing"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def advance_clock(duration):
    """What a learner does while RDS works: lab clock advance (the sandbox's admin API)."""
    request = urllib.request.Request(f"{os.environ['AWS_ENDPOINT_URL']}/_lab/clock", method="POST",
                                     data=json.dumps({"action": "advance", "duration": duration}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=60).read()


def wait_for(look, wanted="available"):
    """Look, and let sim time pass until RDS says `wanted` (an hour at most)."""
    for _ in range(60):
        if look() == wanted:
            return
        advance_clock("1m")
    raise RuntimeError(f"still {look()} after an hour")


def main():
    rds = aws("rds")
    manual = [s for s in rds.describe_db_snapshots(DBInstanceIdentifier="securecart-orders-db",
                                                   SnapshotType="manual")["DBSnapshots"] if s["Status"] == "available"]
    newest = max(manual, key=lambda s: s["SnapshotCreateTime"])
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="securecart-orders-from-snapshot",
                                             DBSnapshotIdentifier=newest["DBSnapshotIdentifier"],
                                             DBInstanceClass="db.t3.micro")
    # the restored instance is inaccessible while it is created: the learner waits for it, then looks
    wait_for(lambda: rds.describe_db_instances(DBInstanceIdentifier="securecart-orders-from-snapshot")[
        "DBInstances"][0]["DBInstanceStatus"])


if __name__ == "__main__":
    main()
