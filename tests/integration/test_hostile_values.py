"""Well-formed calls with hostile values, each one a defect benchmarks/bench_model_fuzz.py found: the sandbox
answers them as AWS does (an error with AWS's code, in the request's protocol), and what it held before is
still readable by every client afterwards."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import quiet_sandbox
from tests.integration._model_fuzz import call, fuzz_client


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, lab_env):
    with quiet_sandbox(tmp_path_factory.mktemp("hostile") / "state", lab_env) as handle:
        yield handle


def refused(client, operation: str, **params) -> dict:
    """The error a call is answered with (it must be refused, readably, below 500)."""
    outcome = call(client, operation, params)
    assert outcome.kind == "error", outcome
    with pytest.raises(ClientError) as caught:
        getattr(client, _snake(operation))(**params)
    return caught.value.response


def _snake(operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation)


def test_a_control_character_in_a_query_call_is_refused_and_listings_stay_readable(sandbox):
    """A description XML cannot carry is refused by name; DescribeSecurityGroups answers parseable XML."""
    ec2 = fuzz_client("ec2", sandbox.endpoint)
    answer = refused(ec2, "CreateSecurityGroup", GroupName="fuzz-control", Description="bad \x0f char")
    assert answer["Error"]["Code"] == "InvalidParameterValue"
    assert "Description" in answer["Error"]["Message"] and "U+000F" in answer["Error"]["Message"]
    assert call(ec2, "DescribeSecurityGroups", {}).kind == "ok"
    rds = fuzz_client("rds", sandbox.endpoint)
    answer = refused(rds, "CreateDBSnapshot", DBInstanceIdentifier="securecart-orders-db",
                     DBSnapshotIdentifier="fuzz\x01snap")
    assert answer["Error"]["Code"] == "InvalidParameterValue"
    # tabs and line ends are text XML carries: they pass the gateway (the service judges them)
    assert call(ec2, "CreateSecurityGroup", {"GroupName": "fuzz-tab", "Description": "a\tb"}).kind == "ok"


def test_a_json_error_of_the_backend_reaches_an_xml_client_as_xml(sandbox):
    """moto's paginator refuses a bad Marker in JSON; an RDS client reads an XML error with its code."""
    rds = fuzz_client("rds", sandbox.endpoint)
    answer = refused(rds, "DescribeDBInstances", Marker="vol-ffffffff")
    assert answer["Error"]["Code"] == "InvalidToken"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_rds_calls_missing_their_source_are_refused_as_aws_does(sandbox):
    """A restore without a snapshot, a replica without a source and a promotion of no instance: 4xx, not 500."""
    rds = fuzz_client("rds", sandbox.endpoint)
    answer = refused(rds, "RestoreDBInstanceFromDBSnapshot", DBInstanceIdentifier="fuzz-restored")
    assert answer["Error"]["Code"] == "InvalidParameterCombination"
    answer = refused(rds, "CreateDBInstanceReadReplica", DBInstanceIdentifier="fuzz-replica")
    assert answer["Error"]["Code"] == "InvalidParameterCombination"
    answer = refused(rds, "PromoteReadReplica", DBInstanceIdentifier="no-such-replica")
    assert answer["Error"]["Code"] == "DBInstanceNotFound"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 404
    outcome = call(rds, "RestoreDBInstanceFromDBSnapshot", {"DBInstanceIdentifier": "fuzz-restored",
                                                            "DBClusterSnapshotIdentifier": "some-cluster-snapshot"})
    assert (outcome.kind, outcome.status) == ("not-implemented", 501)


def test_s3_copies_and_restores_of_nothing_are_refused_as_s3_does(sandbox):
    """A copy source without a key, and a restore without a body of a missing bucket or key: S3's 4xx."""
    s3 = fuzz_client("s3", sandbox.endpoint)
    s3.create_bucket(Bucket="fuzz-copies")
    s3.put_object(Bucket="fuzz-copies", Key="source.txt", Body=b"source")
    for operation, extra in (("CopyObject", {}), ("UploadPartCopy", {"PartNumber": 1, "UploadId": "none"})):
        for source in ("fuzz-copies", "/fuzz-copies/", ""):
            answer = refused(s3, operation, Bucket="fuzz-copies", Key="copy.txt", CopySource=source, **extra)
            assert answer["Error"]["Code"] == "InvalidArgument", (operation, source)
            assert "sourcebucket/sourcekey" in answer["Error"]["Message"]
    assert call(s3, "CopyObject", {"Bucket": "fuzz-copies", "Key": "copy.txt",
                                   "CopySource": "fuzz-copies/source.txt"}).kind == "ok"
    assert refused(s3, "RestoreObject", Bucket="fuzz-no-such-bucket", Key="k")["Error"]["Code"] == "NoSuchBucket"
    assert refused(s3, "RestoreObject", Bucket="fuzz-copies", Key="missing.txt")["Error"]["Code"] == "NoSuchKey"
    answer = refused(s3, "RestoreObject", Bucket="fuzz-copies", Key="source.txt", VersionId="no-such-version")
    assert answer["Error"]["Code"] == "NoSuchVersion"


def test_an_image_copy_from_a_region_the_sandbox_lacks_is_refused(sandbox):
    """CopyImage names the sandbox's Regions when its SourceRegion is not one (it was a KeyError, a 500)."""
    ec2 = fuzz_client("ec2", sandbox.endpoint)
    answer = refused(ec2, "CopyImage", Name="copy", SourceImageId="ami-12345678", SourceRegion="mars-1")
    assert answer["Error"]["Code"] == "InvalidParameterValue"
    assert "us-east-1" in answer["Error"]["Message"] and "mars-1" in answer["Error"]["Message"]


def test_run_instances_counts_are_checked_and_bounded(sandbox):
    """MinCount above the instance limit is refused at once (the backend would make 2**31 instances one at a
    time, holding the sandbox); counts below 1 or crossed are refused; within the limit, instances launch."""
    ec2 = fuzz_client("ec2", sandbox.endpoint)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    answer = refused(ec2, "RunInstances", ImageId=image, MinCount=2**31 - 1, MaxCount=2**31 - 1)
    assert answer["Error"]["Code"] == "InstanceLimitExceeded" and "20" in answer["Error"]["Message"]
    for low, high in ((0, 1), (-1, 5), (3, 2)):
        answer = refused(ec2, "RunInstances", ImageId=image, MinCount=low, MaxCount=high)
        assert answer["Error"]["Code"] == "InvalidParameterValue", (low, high)
    launched = ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)["Instances"]
    assert len(launched) == 2


def test_a_table_arn_of_no_table_is_answered_as_a_missing_table(sandbox):
    """TableName "arn:" (an ARN naming no table) was an IndexError in the lab's own check, a 500."""
    dynamodb = fuzz_client("dynamodb", sandbox.endpoint)
    for name in ("arn:", "arn:aws:dynamodb:us-east-1:000000000000:stream/x"):
        answer = refused(dynamodb, "Query", TableName=name)
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400, name


def test_a_backend_failure_under_a_lab_operation_is_a_400_not_a_500(sandbox):
    """Tags without a Value under the lab's CreateDBSnapshot and EBS StartSnapshot: moto raised KeyError
    and the client got a 500 it would retry; now the 400 the backend's direct calls already got."""
    rds = fuzz_client("rds", sandbox.endpoint)
    answer = refused(rds, "CreateDBSnapshot", DBInstanceIdentifier="securecart-orders-db",
                     DBSnapshotIdentifier="fuzz-tags", Tags=[{"Key": "no-value"}])
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "sandbox.log" in answer["Error"]["Message"]
    ebs = fuzz_client("ebs", sandbox.endpoint)
    answer = refused(ebs, "StartSnapshot", VolumeSize=1, Tags=[{"Value": "no-key"}])
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_trail_to_a_bucket_name_s3_cannot_have_is_refused_by_cloudtrail(sandbox):
    """CreateTrail asked the lab's own S3 client about an invalid name (a ParamValidationError, a 500)."""
    cloudtrail = fuzz_client("cloudtrail", sandbox.endpoint)
    for bucket in ("arn:aws:s3:::x", "Upper_Case", "\u00dc\u00e8"):
        answer = refused(cloudtrail, "CreateTrail", Name="fuzz-trail", S3BucketName=bucket)
        assert answer["Error"]["Code"] == "InvalidS3BucketNameException", bucket


def test_route53_refuses_a_control_character_it_would_echo(sandbox):
    """A Marker with a control character came back in ListReusableDelegationSets' XML, unreadable."""
    route53 = fuzz_client("route53", sandbox.endpoint)
    answer = refused(route53, "ListReusableDelegationSets", Marker="2\x18x")
    assert answer["Error"]["Code"] == "InvalidInput" and "U+0018" in answer["Error"]["Message"]


def test_a_key_xml_cannot_carry_leaves_the_bucket_s_version_listing_readable(sandbox):
    """S3 keys may hold any character; boto3's ListObjectVersions (encoding-type=url) reads them back."""
    s3 = fuzz_client("s3", sandbox.endpoint)
    s3.create_bucket(Bucket="fuzz-control-keys")
    s3.put_bucket_versioning(Bucket="fuzz-control-keys", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="fuzz-control-keys", Key="a\x01b", Body=b"x")
    listed = s3.list_object_versions(Bucket="fuzz-control-keys")
    assert [v["Key"] for v in listed["Versions"]] == ["a\x01b"]
    assert s3.get_object(Bucket="fuzz-control-keys", Key="a\x01b")["Body"].read() == b"x"


def test_storage_sizes_beyond_aws_s_ranges_are_refused(sandbox):
    """A 10**12 GiB database or volume was accepted, and the duration model timed its restores and snapshots
    in millennia; AWS refuses sizes outside each storage type's range."""
    rds = fuzz_client("rds", sandbox.endpoint)
    request = {"DBInstanceIdentifier": "fuzz-huge", "DBInstanceClass": "db.t3.micro", "Engine": "postgres",
               "MasterUsername": "owner", "MasterUserPassword": "password1"}
    for size in (10**12, 65537, 19):
        answer = refused(rds, "CreateDBInstance", AllocatedStorage=size, **request)
        assert answer["Error"]["Code"] == "InvalidParameterCombination"
        assert f"engine name postgres and storage type gp2: {size}" in answer["Error"]["Message"]
    answer = refused(rds, "ModifyDBInstance", DBInstanceIdentifier="securecart-orders-db", AllocatedStorage=70000,
                     ApplyImmediately=True)
    assert answer["Error"]["Code"] == "InvalidParameterCombination"
    ec2 = fuzz_client("ec2", sandbox.endpoint)
    answer = refused(ec2, "CreateVolume", AvailabilityZone="us-east-1a", Size=10**12)
    assert answer["Error"]["Message"] == "Volume of 1000000000000GiB is too large; maximum is 16384GiB."
    assert refused(ec2, "CreateVolume", AvailabilityZone="us-east-1a", Size=10, VolumeType="st1")["Error"][
        "Code"] == "InvalidParameterValue"
    assert refused(ec2, "CreateVolume", AvailabilityZone="us-east-1a")["Error"]["Code"] == "MissingParameter"
    ebs = fuzz_client("ebs", sandbox.endpoint)
    answer = refused(ebs, "StartSnapshot", VolumeSize=2**62)
    assert answer["Error"]["Code"] == "ValidationException"


def test_counts_ec2_would_act_on_one_by_one_are_bounded(sandbox):
    """Spot requests, hosts and addresses counted in the billions held the sandbox (moto makes each one in a
    loop, under the sandbox's lock); EC2's limits refuse them at once, naming the member."""
    ec2 = fuzz_client("ec2", sandbox.endpoint)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    answer = refused(ec2, "RequestSpotInstances", InstanceCount=2**31 - 1, LaunchSpecification={"ImageId": image})
    assert answer["Error"]["Code"] == "InstanceLimitExceeded" and "InstanceCount" in answer["Error"]["Message"]
    assert refused(ec2, "AllocateHosts", AvailabilityZone="us-east-1a", InstanceType="m5.large",
                   Quantity=10**6)["Error"]["Code"] == "HostLimitExceeded"
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    answer = refused(ec2, "CreateNetworkInterface", SubnetId=subnet, SecondaryPrivateIpAddressCount=2**31)
    assert answer["Error"]["Code"] == "PrivateIpAddressLimitExceeded"
    answer = refused(ec2, "RunInstances", ImageId=image, MinCount=1, MaxCount=1,
                     NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Ipv6AddressCount": 10**9}])
    assert "Ipv6AddressCount" in answer["Error"]["Message"]
    assert call(ec2, "RequestSpotInstances", {"InstanceCount": 2, "LaunchSpecification": {"ImageId": image}}
                ).kind == "ok"


def test_metric_queries_walked_period_by_period_are_bounded(sandbox):
    """The backend walks a metric query one period at a time: a Period of 0 never ended and a century at one
    second held the sandbox; CloudWatch's own limits refuse both at once."""
    from datetime import UTC, datetime

    cloudwatch = fuzz_client("cloudwatch", sandbox.endpoint)
    metric = {"Namespace": "SecureCart", "MetricName": "Orders"}
    start, end = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
    for period in (0, 7, -60):  # (below the model's minimum of 1: its validation error; 7: CloudWatch's own)
        answer = refused(cloudwatch, "GetMetricData", StartTime=start, EndTime=end, MetricDataQueries=[
            {"Id": "q", "MetricStat": {"Metric": metric, "Period": period, "Stat": "Sum"}}])
        assert answer["Error"]["Code"] == ("InvalidParameterValue" if period > 0 else "ValidationException")
        assert "eriod" in answer["Error"]["Message"]
    answer = refused(cloudwatch, "GetMetricData", StartTime=start, EndTime=end, MetricDataQueries=[
        {"Id": "q", "MetricStat": {"Metric": metric, "Period": 1, "Stat": "Sum"}}])
    assert answer["Error"]["Code"] == "InvalidParameterCombination"
    answer = refused(cloudwatch, "GetMetricStatistics", StartTime=start, EndTime=end, Period=60,
                     Statistics=["Sum"], **metric)
    assert "exceeds the limit of 1440" in answer["Error"]["Message"]
    day = datetime(2026, 12, 6, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)
    assert call(cloudwatch, "GetMetricStatistics", {"StartTime": day[0], "EndTime": day[1], "Period": 60,
                                                    "Statistics": ["Sum"], **metric}).kind == "ok"


def test_a_long_poll_of_an_empty_queue_answers_and_leaves_the_sandbox_free(sandbox):
    """ReceiveMessage with WaitTimeSeconds (or a queue's ReceiveMessageWaitTimeSeconds) waited on a clock the
    sandbox holds still during a call: it never returned, and every other client waited with it."""
    import time

    sqs = fuzz_client("sqs", sandbox.endpoint)
    url = sqs.create_queue(QueueName="fuzz-long-poll", Attributes={"ReceiveMessageWaitTimeSeconds": "20"})["QueueUrl"]
    started = time.monotonic()
    for wait in ({"WaitTimeSeconds": 20}, {}):  # (the second polls for the queue's 20 s)
        assert sqs.receive_message(QueueUrl=url, **wait).get("Messages", []) == []
    assert time.monotonic() - started < 15
    sqs.send_message(QueueUrl=url, MessageBody="order placed")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in got] == ["order placed"]
    answer = refused(sqs, "ReceiveMessage", QueueUrl=url, WaitTimeSeconds=21)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_s3_listings_answer_at_most_a_thousand_entries_a_page(sandbox):
    """S3 never returns more than 1,000 entries a page, whatever MaxKeys asks: a script that never pages
    passed in the sandbox and missed objects on AWS (and one page of a month's versions held the sandbox)."""
    from concurrent.futures import ThreadPoolExecutor

    s3 = fuzz_client("s3", sandbox.endpoint)
    s3.create_bucket(Bucket="fuzz-many-keys")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket="fuzz-many-keys", Key=f"k{i:05d}", Body=b"x"), range(1005)))
    first = s3.list_objects_v2(Bucket="fuzz-many-keys", MaxKeys=5000)
    assert len(first["Contents"]) == 1000 and first["IsTruncated"]
    rest = s3.list_objects_v2(Bucket="fuzz-many-keys", MaxKeys=5000, ContinuationToken=first["NextContinuationToken"])
    assert len(rest["Contents"]) == 5 and not rest["IsTruncated"]
    assert len(s3.list_objects(Bucket="fuzz-many-keys", MaxKeys=10**9)["Contents"]) == 1000
    assert len(s3.list_object_versions(Bucket="fuzz-many-keys", MaxKeys=2**31 - 1)["Versions"]) == 1000
    assert len(s3.list_objects_v2(Bucket="fuzz-many-keys", MaxKeys=7)["Contents"]) == 7
    paged = [key["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="fuzz-many-keys")
             for key in page["Contents"]]
    assert len(paged) == 1005


def test_values_beyond_the_model_s_bounds_are_refused_in_aws_s_words(sandbox):
    """botocore checks each minimum itself but never a maximum: MaxResults=5000 reached the backend and was
    taken, where AWS's JSON services answer their validation error naming the member and the bound."""
    backup = fuzz_client("backup", sandbox.endpoint)
    answer = refused(backup, "ListBackupJobs", MaxResults=5000)
    assert answer["Error"]["Code"] == "InvalidParameterValueException"
    assert answer["Error"]["Message"] == ("1 validation error detected: Value '5000' at 'maxResults' failed to "
                                          "satisfy constraint: Member must have value less than or equal to 1000")
    dynamodb = fuzz_client("dynamodb", sandbox.endpoint)
    answer = refused(dynamodb, "Scan", TableName="securecart-order-history", Limit=0)
    assert answer["Error"]["Code"] == "ValidationException" and "'limit'" in answer["Error"]["Message"]
    answer = refused(dynamodb, "DescribeTable", TableName="t" * 2000)
    assert "Member must have length less than or equal to 1024" in answer["Error"]["Message"]
    assert call(backup, "ListBackupJobs", {"MaxResults": 1000}).kind == "ok"


def test_a_control_character_in_a_map_key_of_a_query_call_is_refused(sandbox):
    """The keys of a query call's map (SNS attributes) were stored unchecked: ListPlatformApplications became
    unreadable to every client."""
    sns = fuzz_client("sns", sandbox.endpoint)
    answer = refused(sns, "CreatePlatformApplication", Name="fuzz-app", Platform="GCM",
                     Attributes={"Platform\x16Credential": "key"})
    assert answer["Error"]["Code"] == "InvalidParameterValue" and "U+0016" in answer["Error"]["Message"]
    assert call(sns, "ListPlatformApplications", {}).kind == "ok"
