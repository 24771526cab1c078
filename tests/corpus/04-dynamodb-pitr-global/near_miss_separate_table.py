"""Near miss: instead of a replica, a separate table of the same name is created in us-west-2 (PITR on in
both regions). Nothing is ever copied to it."""

import os

import boto3

EXPECT = {"DYNAMODB_GLOBAL_TABLE_REPLICA": "not_linked"}
TABLE = "securecart-order-history"


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    aws("dynamodb", "us-west-2").create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    for region in ("us-east-1", "us-west-2"):
        aws("dynamodb", region).update_continuous_backups(
            TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


if __name__ == "__main__":
    main()
