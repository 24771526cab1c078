"""The SecureCart world exactly as DESIGN.md names it, in both regions."""

from __future__ import annotations

import pytest

from tests.conftest import SandboxHandle, free_port


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, lab_env):
    """A world of its own: the session's shared sandbox is changed by other tests (labs enable versioning)."""
    handle = SandboxHandle(tmp_path_factory.mktemp("world") / "state", free_port(), lab_env)
    handle.up()
    yield handle
    handle.down()


def tags(tag_list):
    return {t["Key"]: t["Value"] for t in tag_list or []}


def test_s3_buckets_in_their_regions(sandbox):
    east = sandbox.client("s3", "us-east-1")
    for name in ("securecart-invoices-use1", "securecart-product-images", "securecart-logs"):
        assert east.get_bucket_location(Bucket=name)["LocationConstraint"] in (None, "us-east-1")
        assert east.get_bucket_versioning(Bucket=name).get("Status") is None
        assert tags(east.get_bucket_tagging(Bucket=name)["TagSet"])["app"] == "securecart"
    west = sandbox.client("s3", "us-west-2")
    assert west.get_bucket_location(Bucket="securecart-invoices-usw2")["LocationConstraint"] == "us-west-2"
    invoices = east.list_objects_v2(Bucket="securecart-invoices-use1")
    assert invoices["KeyCount"] >= 48  # the workload keeps adding orders
    assert all(obj["Key"].startswith("invoices/") for obj in invoices["Contents"])


def test_orders_db(sandbox):
    rds = sandbox.client("rds")
    db = rds.describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0]
    assert db["Engine"] == "postgres"
    assert db["BackupRetentionPeriod"] == 0
    assert db["MultiAZ"] is False
    assert tags(db["TagList"])["app"] == "securecart"
    assert sandbox.client("rds", "us-west-2").describe_db_instances()["DBInstances"] == []


def test_order_history_table(sandbox):
    dynamodb = sandbox.client("dynamodb")
    table = dynamodb.describe_table(TableName="securecart-order-history")["Table"]
    pitr = dynamodb.describe_continuous_backups(TableName="securecart-order-history")
    described = pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert described["PointInTimeRecoveryStatus"] == "DISABLED"
    assert tags(dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"])["app"] == "securecart"
    item = dynamodb.get_item(TableName="securecart-order-history", Key={"order_id": {"S": "ORD-000001"}})["Item"]
    assert set(item) >= {"order_id", "customer", "amount", "created_at"}


def test_backend_instance_and_volume(sandbox):
    ec2 = sandbox.client("ec2")
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend"]}])
    instances = [i for r in reservations["Reservations"] for i in r["Instances"]]
    assert len(instances) == 1 and tags(instances[0]["Tags"])["app"] == "securecart"
    volumes = ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": ["securecart-backend-data"]}])["Volumes"]
    assert len(volumes) == 1
    assert tags(volumes[0]["Tags"])["app"] == "securecart"
    assert volumes[0]["Attachments"][0]["InstanceId"] == instances[0]["InstanceId"]


def test_account_is_the_labs(sandbox):
    assert sandbox.client("sts").get_caller_identity()["Account"] == "000000000000"


def test_the_tagging_api_lists_each_resource_once(sandbox):
    """`aws resourcegroupstaggingapi get-resources --tag-filters Key=app,Values=securecart` (what a learner
    checks before selecting by tag) names every tagged resource exactly once (issue 15: every ARN came twice)."""
    tagging = sandbox.client("resourcegroupstaggingapi")
    arns = [item["ResourceARN"] for page in tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": "app", "Values": ["securecart"]}]) for item in page["ResourceTagMappingList"]]
    assert arns, "the SecureCart world is tagged app=securecart"
    assert len(arns) == len(set(arns)), sorted(arn for arn in arns if arns.count(arn) > 1)
    assert any(":db:securecart-orders-db" in arn for arn in arns)
    assert any(arn == "arn:aws:s3:::securecart-invoices-use1" for arn in arns)
