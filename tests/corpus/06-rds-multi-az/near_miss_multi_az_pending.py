"""Near miss: Multi-AZ and backups are both asked for, but the Multi-AZ change is made without
--apply-immediately: it waits for the next maintenance window, and until then the database runs in one zone."""

import json
import os
import urllib.request

import boto3

EXPECT = {"RDS_MULTI_AZ_SUPPORT": "single_az"}


def rds():
    return boto3.client("rds", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def advance_clock(duration):
    """What a learner does while RDS works: lab clock advance (the sandbox's admin API)."""
    request = urllib.request.Request(f"{os.environ['AWS_ENDPOINT_URL']}/_lab/clock", method="POST",
                                     data=json.dumps({"action": "advance", "duration": duration}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=60).read()


def wait_until_available():
    """RDS takes a modification only from an available instance: let sim time pass (an hour at most)."""
    for _ in range(60):
        if rds().describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0][
                "DBInstanceStatus"] == "available":
            return
        advance_clock("1m")
    raise RuntimeError("securecart-orders-db is still not available after an hour")


def main():
    rds().modify_db_instance(DBInstanceIdentifier="securecart-orders-db", BackupRetentionPeriod=7,
                             ApplyImmediately=True)
    wait_until_available()
    rds().modify_db_instance(DBInstanceIdentifier="securecart-orders-db", MultiAZ=True, ApplyImmediately=False)


def unsupported():
    """Why the sandbox cannot show this configuration (None: it can)."""
    shown = rds().describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0]
    if "MultiAZ" not in (shown.get("PendingModifiedValues") or {}):
        return ("this sandbox applies ModifyDBInstance at once whatever ApplyImmediately says: the variant needs "
                "RDS's PendingModifiedValues and maintenance windows in the sandbox")
    return None


if __name__ == "__main__":
    main()
