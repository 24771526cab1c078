"""Correct, with the aws CLI instead of boto3: Multi-AZ and 10 days of backups in one modify-db-instance call."""

import os
import subprocess

EXPECT: dict[str, str] = {}


def main():
    subprocess.run(["aws", "--endpoint-url", os.environ["AWS_ENDPOINT_URL"], "rds", "modify-db-instance",
                    "--region", "us-east-1", "--db-instance-identifier", "securecart-orders-db", "--multi-az",
                    "--backup-retention-period", "10", "--apply-immediately"], check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
