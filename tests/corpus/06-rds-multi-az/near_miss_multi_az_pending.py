"""Near miss: Multi-AZ and backups are both asked for, but the Multi-AZ change is made without
--apply-immediately: it waits for the next maintenance window, and until then the database runs in one zone."""

import os

import boto3

EXPECT = {"RDS_MULTI_AZ_SUPPORT": "single_az"}


def rds():
    return boto3.client("rds", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    rds().modify_db_instance(DBInstanceIdentifier="securecart-orders-db", BackupRetentionPeriod=7,
                             ApplyImmediately=True)
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
