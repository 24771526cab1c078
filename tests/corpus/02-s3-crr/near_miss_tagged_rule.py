"""Near miss: both buckets versioned and a cross-region rule to us-west-2 -- but its filter asks for the tag
replicate=yes as well as the prefix invoices/, and the shop tags no invoice, so nothing is replicated; the rule
also leaves out delete markers. The message must say both, without contradicting itself."""

import json
import os

import boto3

EXPECT = {"S3_BUCKET_REPLICATION_ENABLED": "prefix_not_covered"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    for bucket, region in (("securecart-invoices-use1", "us-east-1"), ("securecart-invoices-usw2", "us-west-2")):
        aws("s3", region).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    role = aws("iam").create_role(RoleName="invoice-replication", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    aws("s3").put_bucket_replication(Bucket="securecart-invoices-use1", ReplicationConfiguration={
        "Role": role,
        "Rules": [{"ID": "tagged-invoices", "Status": "Enabled", "Priority": 1,
                   "Filter": {"And": {"Prefix": "invoices/", "Tags": [{"Key": "replicate", "Value": "yes"}]}},
                   "DeleteMarkerReplication": {"Status": "Disabled"},
                   "Destination": {"Bucket": "arn:aws:s3:::securecart-invoices-usw2"}}]})


if __name__ == "__main__":
    main()
