"""Near miss: versioning everywhere and a good rule -- but the copy goes to a bucket in us-east-1, the same
region as the source, so a regional outage takes both."""

import json
import os

import boto3

EXPECT = {"S3_BUCKET_REPLICATION_ENABLED": "same_region"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    s3 = aws("s3")
    s3.create_bucket(Bucket="securecart-invoices-copy")
    for client, bucket in ((s3, "securecart-invoices-use1"), (s3, "securecart-invoices-copy"),
                           (aws("s3", "us-west-2"), "securecart-invoices-usw2")):
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    aws("iam").create_role(RoleName="securecart-s3-replication", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    s3.put_bucket_replication(Bucket="securecart-invoices-use1", ReplicationConfiguration={
        "Role": "arn:aws:iam::000000000000:role/securecart-s3-replication",
        "Rules": [{"ID": "copy", "Status": "Enabled", "Priority": 1, "Filter": {},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": "arn:aws:s3:::securecart-invoices-copy"}}]})


if __name__ == "__main__":
    main()
