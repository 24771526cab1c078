"""CloudTrail in the sandbox: every call recorded, LookupEvents as AWS answers it, trails delivering log files."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import urllib3
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
_HTTP = urllib3.PoolManager(retries=False)


def admin(sandbox: Any, method: str, path: str, body: Any = None) -> Any:
    answer = _HTTP.request(method, f"{sandbox.endpoint}/_lab/{path}",
                           body=json.dumps(body).encode() if body is not None else None, timeout=120)
    assert answer.status < 400, answer.data
    return json.loads(answer.data)


def advance(sandbox: Any, duration: str) -> None:
    admin(sandbox, "POST", "clock", {"action": "advance", "duration": duration})


def sim_now(sandbox: Any) -> datetime:
    return datetime.fromtimestamp(admin(sandbox, "GET", "clock")["epoch"], tz=UTC)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def lookup(client: Any, key: str, value: str, **extra: Any) -> list[dict[str, Any]]:
    return client.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], **extra)["Events"]


def error_code(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_failed_call_is_recorded_with_its_error(sandbox):
    s3, trail = sandbox.client("s3"), sandbox.client("cloudtrail")
    bucket = unique("ct-missing")
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=bucket)
    events = lookup(trail, "ResourceName", bucket)
    assert [event["EventName"] for event in events] == ["DeleteBucket"]
    event = events[0]
    assert event["EventSource"] == "s3.amazonaws.com" and event["ReadOnly"] == "false"
    assert event["AccessKeyId"] == "test" and event["Resources"] == [{"ResourceType": "AWS::S3::Bucket",
                                                                      "ResourceName": bucket}]
    record = json.loads(event["CloudTrailEvent"])
    assert record["errorCode"] == "NoSuchBucket" and "does not exist" in record["errorMessage"]
    assert record["requestID"] == caught.value.response["ResponseMetadata"]["RequestId"]
    assert record["eventID"] == event["EventId"] and record["eventName"] == "DeleteBucket"
    assert record["awsRegion"] == "us-east-1" and record["sourceIPAddress"] == "127.0.0.1"
    # The lab's `test` key is the account's root: CloudTrail's form for a call made with root access keys
    # (CloudTrail User Guide: CloudTrail userIdentity element), and "root" in the event history.
    assert record["userIdentity"] == {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                                      "accountId": ACCOUNT, "accessKeyId": "test"}
    assert event["Username"] == "root"
    assert record["requestParameters"] == {"bucketName": bucket} and record["responseElements"] is None
    assert record["eventType"] == "AwsApiCall" and record["recipientAccountId"] == ACCOUNT
    sim_time = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((sim_time - sim_now(sandbox)).total_seconds()) < 120
    assert event["EventTime"] == sim_time


def test_lookup_attributes_regions_and_identities(sandbox):
    iam, trail = sandbox.client("iam"), sandbox.client("cloudtrail")
    user = unique("ct-auditor")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    from lab.awsclient import client as lab_client

    as_user = lab_client("s3", "us-east-1", sandbox.endpoint)
    as_user._request_signer._credentials.access_key = key["AccessKeyId"]  # the learner's own IAM user key
    as_user.list_buckets()
    mine = lookup(trail, "Username", user)
    assert "ListBuckets" in [event["EventName"] for event in mine]
    listed = next(event for event in mine if event["EventName"] == "ListBuckets")
    identity = json.loads(listed["CloudTrailEvent"])["userIdentity"]
    assert identity["type"] == "IAMUser" and identity["userName"] == user
    assert identity["principalId"] == iam.get_user(UserName=user)["User"]["UserId"]
    assert identity["arn"] == f"arn:aws:iam::{ACCOUNT}:user/{user}" and identity["accessKeyId"] == key["AccessKeyId"]
    assert listed["ReadOnly"] == "true" and json.loads(listed["CloudTrailEvent"])["responseElements"] is None
    assert [e["EventName"] for e in lookup(trail, "AccessKeyId", key["AccessKeyId"])] == ["ListBuckets"]

    role = unique("ct-dr-operator")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                "Action": "sts:AssumeRole"}]}))
    credentials = sandbox.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                                    RoleSessionName="drill-session")["Credentials"]
    as_role = lab_client("dynamodb", "us-west-2", sandbox.endpoint)
    as_role._request_signer._credentials.access_key = credentials["AccessKeyId"]
    as_role._request_signer._credentials.token = credentials["SessionToken"]
    as_role.list_tables()
    west = sandbox.client("cloudtrail", "us-west-2")
    assumed = lookup(west, "AccessKeyId", credentials["AccessKeyId"])
    assert [e["EventName"] for e in assumed] == ["ListTables"] and assumed[0]["Username"] == "drill-session"
    identity = json.loads(assumed[0]["CloudTrailEvent"])["userIdentity"]
    assert identity["type"] == "AssumedRole" and identity["arn"].endswith(f":assumed-role/{role}/drill-session")
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == f"arn:aws:iam::{ACCOUNT}:role/{role}"
    role_id = iam.get_role(RoleName=role)["Role"]["RoleId"]
    assert identity["principalId"] == f"{role_id}:drill-session"
    assert identity["sessionContext"]["sessionIssuer"]["principalId"] == role_id
    # (the AssumeRole call itself was the root's)
    issued = [e for e in lookup(trail, "EventName", "AssumeRole", MaxResults=50)
              if json.loads(e["CloudTrailEvent"])["requestParameters"].get("roleArn", "").endswith(f"/{role}")]
    assert json.loads(issued[0]["CloudTrailEvent"])["userIdentity"]["type"] == "Root"
    assert lookup(trail, "AccessKeyId", credentials["AccessKeyId"]) == []  # us-west-2 events stay in us-west-2

    created = lookup(trail, "ResourceName", user)
    assert {"CreateUser", "CreateAccessKey"} <= {event["EventName"] for event in created}
    assert all(event["EventSource"] == "iam.amazonaws.com" for event in lookup(trail, "EventSource",
                                                                                "iam.amazonaws.com", MaxResults=5))
    assert all(event["ReadOnly"] == "true" for event in lookup(trail, "ReadOnly", "true", MaxResults=5))
    event_id = created[0]["EventId"]
    assert [event["EventId"] for event in lookup(trail, "EventId", event_id)] == [event_id]


def test_data_events_keep_no_bodies_and_stay_out_of_event_history(sandbox):
    s3, dynamodb, trail = sandbox.client("s3"), sandbox.client("dynamodb"), sandbox.client("cloudtrail")
    bucket = unique("ct-data")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="invoice.json", Body=b"TOP-SECRET-INVOICE-BYTES")
    dynamodb.list_tables()
    assert "PutObject" not in {event["EventName"] for event in lookup(trail, "ResourceName", bucket)}
    recorded = admin(sandbox, "GET", "cloudtrail/events?name=PutObject&data=1&limit=20")["events"]
    put = next(event for event in recorded if event["requestParameters"].get("bucketName") == bucket)
    assert put["requestParameters"]["key"] == "invoice.json" and "TOP-SECRET" not in json.dumps(put)
    assert (put["eventCategory"], put["managementEvent"]) == ("Data", False)
    assert put["resources"][0] == {"accountId": ACCOUNT, "type": "AWS::S3::Object",
                                   "ARN": f"arn:aws:s3:::{bucket}/invoice.json"}
    api_events = admin(sandbox, "GET", "events?kind=api&limit=200")["events"]
    assert any(event["name"] == "PutObject" and event["resource"] == f"{bucket}/invoice.json" for event in api_events)


def test_lookup_refusals(sandbox):
    trail = sandbox.client("cloudtrail")
    two = [{"AttributeKey": "EventName", "AttributeValue": "A"}, {"AttributeKey": "ReadOnly", "AttributeValue": "true"}]
    assert error_code(lambda: trail.lookup_events(LookupAttributes=two)) == "InvalidLookupAttributesException"
    assert error_code(lambda: trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "Colour", "AttributeValue": "red"}])) == "InvalidLookupAttributesException"
    assert error_code(lambda: trail.lookup_events(MaxResults=51)) == "InvalidMaxResultsException"
    assert error_code(lambda: trail.lookup_events(NextToken="not-a-token")) == "InvalidNextTokenException"
    now = datetime.now(UTC)
    assert error_code(lambda: trail.lookup_events(StartTime=now, EndTime=now - timedelta(hours=1))) == \
        "InvalidTimeRangeException"
    assert error_code(lambda: trail.get_trail_status(Name="no-such-trail")) == "TrailNotFoundException"
    assert error_code(lambda: trail.put_insight_selectors(
        TrailName="x", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])) == "UnknownOperationException"


def test_pagination_walks_every_event(sandbox):
    trail = sandbox.client("cloudtrail")
    pages = list(trail.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 7, "MaxItems": 30}))
    ids = [event["EventId"] for page in pages for event in page["Events"]]
    assert len(ids) == len(set(ids)) == 30 and len(pages) >= 5
    times = [event["EventTime"] for page in pages for event in page["Events"]]
    assert times == sorted(times, reverse=True)


def test_aws_cli_lookup_events(sandbox):
    s3 = sandbox.client("s3")
    bucket = unique("ct-cli")
    with pytest.raises(ClientError):
        s3.delete_bucket(Bucket=bucket)
    env = {**sandbox.env, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    aws = Path(sys.executable).parent / "aws"
    result = subprocess.run(
        [str(aws), "cloudtrail", "lookup-events", "--endpoint-url", sandbox.endpoint, "--lookup-attributes",
         f"AttributeKey=ResourceName,AttributeValue={bucket}", "--output", "json"],
        env=env, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)["Events"]
    assert [event["EventName"] for event in events] == ["DeleteBucket"]
    assert json.loads(events[0]["CloudTrailEvent"])["errorCode"] == "NoSuchBucket"
    assert events[0]["Username"] == "root"
    assert json.loads(events[0]["CloudTrailEvent"])["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:root"


def log_policy(bucket: str, prefix: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/{prefix}/AWSLogs/{ACCOUNT}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]})


def log_records(s3: Any, bucket: str, prefix: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[item["Key"]] = json.loads(gzip.decompress(body))["Records"]
    return found


def test_trail_delivers_log_files_on_the_clock_and_survives_a_crash(fresh_sandbox):
    sandbox = fresh_sandbox
    sandbox.up()
    s3, trail = sandbox.client("s3"), sandbox.client("cloudtrail")
    west_trail = sandbox.client("cloudtrail", "us-west-2")
    bucket, prefix, name = "ct-logs-bucket", "audit", "securecart-trail"
    s3.create_bucket(Bucket=bucket)
    assert error_code(lambda: trail.create_trail(Name=name, S3BucketName="no-such-bucket")) == \
        "S3BucketDoesNotExistException"
    assert error_code(lambda: trail.create_trail(Name=name, S3BucketName=bucket, S3KeyPrefix=prefix)) == \
        "InsufficientS3BucketPolicyException"
    assert error_code(lambda: trail.create_trail(Name="x", S3BucketName=bucket)) == "InvalidTrailNameException"
    s3.put_bucket_policy(Bucket=bucket, Policy=log_policy(bucket, prefix))
    created = trail.create_trail(Name=name, S3BucketName=bucket, S3KeyPrefix=prefix, IsMultiRegionTrail=True)
    arn = created["TrailARN"]
    assert arn == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{name}" and created["IsMultiRegionTrail"]
    assert trail.get_trail_status(Name=name)["IsLogging"] is False
    shadow = west_trail.describe_trails()["trailList"]
    assert [(t["Name"], t["HomeRegion"]) for t in shadow] == [(name, "us-east-1")]
    assert error_code(lambda: west_trail.get_trail(Name=name)) == "TrailNotFoundException"
    assert west_trail.get_trail(Name=arn)["Trail"]["TrailARN"] == arn
    assert error_code(lambda: west_trail.start_logging(Name=arn)) == "InvalidHomeRegionException"
    trail.start_logging(Name=name)

    started = sim_now(sandbox)
    s3.create_bucket(Bucket="ct-marker-east")
    sandbox.client("dynamodb", "us-west-2").list_tables()
    sandbox.client("iam").create_user(UserName="ct-marker-user")
    s3.put_object(Bucket="ct-marker-east", Key="data.txt", Body=b"not logged: a data event")
    advance(sandbox, "6m")
    files = log_records(s3, bucket, prefix)
    pattern = re.compile(rf"{prefix}/AWSLogs/{ACCOUNT}/CloudTrail/(us-east-1|us-west-2)/\d{{4}}/\d{{2}}/\d{{2}}/"
                         rf"{ACCOUNT}_CloudTrail_\1_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz")
    assert files and all(pattern.fullmatch(key) for key in files), list(files)
    by_region = {region: [r for key, records in files.items() if f"/CloudTrail/{region}/" in key for r in records]
                 for region in ("us-east-1", "us-west-2")}
    east_names = [record["eventName"] for record in by_region["us-east-1"]]
    assert {"StartLogging", "CreateBucket", "CreateUser"} <= set(east_names) and "PutObject" not in east_names
    assert [record["eventName"] for record in by_region["us-west-2"]] == ["ListTables"]
    status = trail.get_trail_status(Name=name)
    assert status["IsLogging"] and "LatestDeliveryError" not in status
    assert status["LatestDeliveryTime"] > started

    # Time ranges: what happened before the advance, and what happens after it.
    before = lookup(trail, "EventName", "CreateUser", StartTime=started - timedelta(minutes=1),
                    EndTime=started + timedelta(minutes=1))
    assert [event["EventName"] for event in before] == ["CreateUser"]
    advance(sandbox, "2h")
    later = sim_now(sandbox)
    s3.create_bucket(Bucket="ct-marker-later")
    assert lookup(trail, "EventName", "CreateBucket", StartTime=later)[0]["Resources"][0]["ResourceName"] == \
        "ct-marker-later"
    assert lookup(trail, "EventName", "CreateUser", StartTime=later) == []
    assert lookup(trail, "EventName", "CreateBucket", EndTime=later)[0]["Resources"][0]["ResourceName"] == \
        "ct-marker-east"

    # Data events reach the trail once an event selector asks for them.
    trail.put_event_selectors(TrailName=name, EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::ct-marker-east/"]}]}])
    assert trail.get_trail(Name=name)["Trail"]["HasCustomEventSelectors"] is True
    assert error_code(lambda: trail.put_event_selectors(TrailName=name, EventSelectors=[{
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["bucket-without-arn"]}]}])) == \
        "InvalidEventSelectorsException"
    s3.put_object(Bucket="ct-marker-east", Key="logged.txt", Body=b"SECRET-BYTES")
    s3.get_object(Bucket="ct-marker-east", Key="logged.txt")
    advance(sandbox, "6m")
    records = [record for records in log_records(s3, bucket, prefix).values() for record in records]
    data = [record for record in records if record["eventCategory"] == "Data"]
    assert [(r["eventName"], r["requestParameters"]["key"]) for r in data] == [("PutObject", "logged.txt")]
    assert "SECRET-BYTES" not in json.dumps(data)

    # A bucket that stops CloudTrail writing is a delivery error, as on AWS.
    s3.delete_bucket_policy(Bucket=bucket)
    s3.create_bucket(Bucket="ct-marker-denied")
    advance(sandbox, "6m")
    assert trail.get_trail_status(Name=name)["LatestDeliveryError"] == "AccessDenied"

    # After kill -9 the journal replays every state change: its events come back with the same ids and times.
    journaled = {event["EventId"]: (event["EventName"], event["EventTime"])
                 for page in trail.get_paginator("lookup_events").paginate(
                     LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])
                 for event in page["Events"] if not json.loads(event["CloudTrailEvent"]).get("errorCode")}
    assert len(journaled) >= 8
    os.kill(sandbox.pid(), signal.SIGKILL)
    sandbox.up()
    trail = sandbox.client("cloudtrail")
    replayed = {event["EventId"]: (event["EventName"], event["EventTime"])
                for page in trail.get_paginator("lookup_events").paginate(
                    LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])
                for event in page["Events"]}
    assert journaled.items() <= replayed.items()
    trail.stop_logging(Name=name)
    assert trail.get_trail_status(Name=name)["IsLogging"] is False
