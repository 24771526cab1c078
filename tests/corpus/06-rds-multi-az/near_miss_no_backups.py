"""Near miss: Multi-AZ is on, and the learner believes the standby is a backup -- automated backups stay off."""

import os

import boto3

EXPECT = {"DB_INSTANCE_BACKUP_ENABLED": "backups_off"}


def main():
    rds = boto3.client("rds", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    rds.modify_db_instance(DBInstanceIdentifier="securecart-orders-db", MultiAZ=True, ApplyImmediately=True)


if __name__ == "__main__":
    main()
