"""Near miss: a good 12-hour DLM schedule, but nothing ever copies a snapshot to us-west-2."""

import json
import os

import boto3

EXPECT = {"EBS_SNAPSHOT_CROSS_REGION_COPY": "no_copy"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    aws("iam").create_role(RoleName="AWSDataLifecycleManagerDefaultRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "dlm.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    aws("dlm").create_lifecycle_policy(
        ExecutionRoleArn="arn:aws:iam::000000000000:role/AWSDataLifecycleManagerDefaultRole",
        Description="backend volume", State="ENABLED",
        PolicyDetails={"PolicyType": "EBS_SNAPSHOT_MANAGEMENT", "ResourceTypes": ["VOLUME"],
                       "TargetTags": [{"Key": "Name", "Value": "securecart-backend-data"}],
                       "Schedules": [{"Name": "twice-a-day", "CreateRule": {"Interval": 12, "IntervalUnit": "HOURS"},
                                      "RetainRule": {"Count": 14}}]})


if __name__ == "__main__":
    main()
