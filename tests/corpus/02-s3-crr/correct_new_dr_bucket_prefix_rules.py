"""Correct: a new destination bucket of its own name in us-west-2, a role of another name, and two rules --
one for the invoices/ prefix (with delete markers), one extra for archive/."""

import json
import os

import boto3

EXPECT: dict[str, str] = {}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    west = aws("s3", "us-west-2")
    west.create_bucket(Bucket="securecart-invoices-dr-oregon", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    for client, bucket in ((aws("s3"), "securecart-invoices-use1"), (west, "securecart-invoices-usw2"),
                           (west, "securecart-invoices-dr-oregon")):
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    aws("iam").create_role(RoleName="invoice-replicator", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    destination = {"Bucket": "arn:aws:s3:::securecart-invoices-dr-oregon"}
    aws("s3").put_bucket_replication(Bucket="securecart-invoices-use1", ReplicationConfiguration={
        "Role": "arn:aws:iam::000000000000:role/invoice-replicator",
        "Rules": [
            {"ID": "invoices", "Status": "Enabled", "Priority": 2, "Filter": {"Prefix": "invoices/"},
             "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": destination},
            {"ID": "archive", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": "archive/"},
             "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": destination},
        ]})


if __name__ == "__main__":
    main()
