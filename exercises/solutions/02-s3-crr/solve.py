#!/usr/bin/env python3
"""Lab 02 reference solution (boto3): cross-region replication of SecureCart's invoices.

Run it with `lab solve 02-s3-crr --tool boto3 [--step N]`, or yourself after `eval "$(lab env)"`:
    python solve.py [--step N]
Every step can run again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

PRIMARY, DR = "us-east-1", "us-west-2"
ACCOUNT = "000000000000"
SOURCE = "securecart-invoices-use1"
DESTINATION = "securecart-invoices-usw2"
ROLE = "securecart-s3-replication"


def aws(service: str, region: str = PRIMARY):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def step_1() -> None:
    """Versioning on the source bucket and on the destination bucket."""
    for region, bucket in ((PRIMARY, SOURCE), (DR, DESTINATION)):
        aws("s3", region).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        print(f"versioning enabled on {bucket} ({region})")


def replication_role() -> str:
    """The IAM role S3 assumes to read the source's versions and write replicas into the destination."""
    iam = aws("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    permissions = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
         "Resource": f"arn:aws:s3:::{SOURCE}"},
        {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                                       "s3:GetObjectVersionTagging"],
         "Resource": f"arn:aws:s3:::{SOURCE}/*"},
        {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
         "Resource": f"arn:aws:s3:::{DESTINATION}/*"},
    ]}
    try:
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust),
                        Description="S3 replication of SecureCart invoices to us-west-2")
        print(f"created role {ROLE}")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        print(f"role {ROLE} already exists")
    iam.put_role_policy(RoleName=ROLE, PolicyName="replicate-invoices", PolicyDocument=json.dumps(permissions))
    return f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"


def step_2() -> None:
    """A replication role and rule to the us-west-2 bucket (delete markers too); the older invoices copied once."""
    role_arn = replication_role()
    s3 = aws("s3")
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration={
        "Role": role_arn,
        "Rules": [{
            "ID": "invoices-to-usw2",
            "Status": "Enabled",
            "Priority": 1,
            "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}", "StorageClass": "STANDARD"},
        }],
    })
    print(f"replication rule invoices-to-usw2: {SOURCE} -> {DESTINATION}")
    # Replication only copies objects written after the rule exists; bring the older invoices across once.
    dr = aws("s3", DR)
    present = {obj["Key"] for page in dr.get_paginator("list_objects_v2").paginate(Bucket=DESTINATION)
               for obj in page.get("Contents", [])}
    copied = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=SOURCE):
        for obj in page.get("Contents", []):
            if obj["Key"] not in present:
                dr.copy_object(Bucket=DESTINATION, Key=obj["Key"], CopySource={"Bucket": SOURCE, "Key": obj["Key"]})
                copied += 1
    print(f"copied {copied} invoices written before the rule")


STEPS = {1: step_1, 2: step_2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, choices=sorted(STEPS), help="run only this step")
    args = parser.parse_args()
    for number, step in STEPS.items():
        if args.step in (None, number):
            print(f"== step {number}: {step.__doc__}")
            step()


if __name__ == "__main__":
    main()
