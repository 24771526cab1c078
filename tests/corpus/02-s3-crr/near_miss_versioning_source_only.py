"""Near miss: versioning only on the source bucket. S3 then refuses the replication rule (the destination
must be versioned too), and the learner's script stops there."""

import json
import os

import boto3
from botocore.exceptions import ClientError

EXPECT = {"S3_BUCKET_VERSIONING_ENABLED": "never_enabled", "S3_BUCKET_REPLICATION_ENABLED": "no_replication"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    s3 = aws("s3")
    s3.put_bucket_versioning(Bucket="securecart-invoices-use1", VersioningConfiguration={"Status": "Enabled"})
    aws("iam").create_role(RoleName="securecart-s3-replication", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    try:
        s3.put_bucket_replication(Bucket="securecart-invoices-use1", ReplicationConfiguration={
            "Role": "arn:aws:iam::000000000000:role/securecart-s3-replication",
            "Rules": [{"ID": "to-usw2", "Status": "Enabled", "Priority": 1, "Filter": {},
                       "DeleteMarkerReplication": {"Status": "Enabled"},
                       "Destination": {"Bucket": "arn:aws:s3:::securecart-invoices-usw2"}}]})
    except ClientError as exc:
        print(f"replication refused: {exc.response['Error']['Message']}")


if __name__ == "__main__":
    main()
