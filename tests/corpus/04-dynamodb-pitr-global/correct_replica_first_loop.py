"""Correct: the replica is added first (stream, then replica), and PITR is turned on in both regions by
one loop afterwards."""

import os

import boto3

EXPECT: dict[str, str] = {}
TABLE = "securecart-order-history"


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    dynamodb = aws("dynamodb")
    dynamodb.update_table(TableName=TABLE, StreamSpecification={"StreamEnabled": True,
                                                                "StreamViewType": "NEW_AND_OLD_IMAGES"})
    dynamodb.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])


def after_wait():
    """Once the replica exists (the corpus runner moves sim time on first), PITR in both regions."""
    for region in ("us-west-2", "us-east-1"):
        aws("dynamodb", region).update_continuous_backups(
            TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


if __name__ == "__main__":
    main()
