"""Near miss: snapshots copied to us-west-2 as asked, but once a day: the lab's RPO is 12 hours, so a snapshot
every 12 hours is asked (issue 15: the check accepted 24 while the text and the RPO said 12)."""

import json
import os

import boto3

EXPECT = {"EBS_SNAPSHOT_SCHEDULE_ENABLED": "interval_too_long"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    aws("iam").create_role(RoleName="AWSDataLifecycleManagerDefaultRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "dlm.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    aws("dlm").create_lifecycle_policy(
        ExecutionRoleArn="arn:aws:iam::000000000000:role/AWSDataLifecycleManagerDefaultRole",
        Description="backend volume, daily", State="ENABLED",
        PolicyDetails={"PolicyType": "EBS_SNAPSHOT_MANAGEMENT", "ResourceTypes": ["VOLUME"],
                       "TargetTags": [{"Key": "Name", "Value": "securecart-backend-data"}],
                       "Schedules": [{"Name": "daily", "CreateRule": {"Interval": 24, "IntervalUnit": "HOURS",
                                                                      "Times": ["03:00"]},
                                      "RetainRule": {"Count": 7},
                                      "CrossRegionCopyRules": [{"Target": "us-west-2", "Encrypted": True,
                                                                "RetainRule": {"Interval": 4, "IntervalUnit": "WEEKS"}}]}]})


if __name__ == "__main__":
    main()
