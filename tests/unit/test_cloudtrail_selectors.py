"""Which calls a trail logs: regions, global services, basic and advanced event selectors, log file names."""

from __future__ import annotations

import pytest

from lab.gateway import audit
from lab.kernel.errors import AwsError
from lab.services.cloudtrail.api import _check_advanced_selectors, _check_basic_selectors, _check_trail_name
from lab.services.cloudtrail.engine import (
    _advanced_matches,
    _basic_matches,
    _next_boundary,
    _policy_allows,
    default_event_selectors,
)
from tests.unit.botocore_wire import api_call


def matches_basic(selector, call):
    return _basic_matches(selector, call, audit.request_params(call))


def matches_advanced(selector, call):
    return _advanced_matches(selector, call, audit.request_params(call))


def test_default_selector_logs_management_events_only():
    [default] = default_event_selectors()
    assert matches_basic(default, api_call("s3", "create_bucket", Bucket="logs-a"))
    assert matches_basic(default, api_call("rds", "describe_db_instances"))
    assert not matches_basic(default, api_call("s3", "put_object", Bucket="logs-a", Key="k", Body=b"x"))


def test_basic_data_resources_and_read_write_type():
    selector = {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False, "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::invoices/2026/"]},
        {"Type": "AWS::DynamoDB::Table", "Values": ["arn:aws:dynamodb:us-east-1:000000000000:table/orders"]}]}
    assert matches_basic(selector, api_call("s3", "put_object", Bucket="invoices", Key="2026/a.json", Body=b"x"))
    assert not matches_basic(selector, api_call("s3", "put_object", Bucket="invoices", Key="2025/a.json", Body=b"x"))
    assert not matches_basic(selector, api_call("s3", "create_bucket", Bucket="invoices"))  # management excluded
    assert matches_basic(selector, api_call("dynamodb", "put_item", TableName="orders", Item={"id": {"S": "1"}}))
    assert not matches_basic(selector, api_call("dynamodb", "put_item", TableName="other", Item={"id": {"S": "1"}}))
    everything = {"ReadWriteType": "ReadOnly", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}
    assert matches_basic(everything, api_call("s3", "get_object", Bucket="any", Key="k"))
    assert not matches_basic(everything, api_call("s3", "put_object", Bucket="any", Key="k", Body=b"x"))
    excluded = {"ExcludeManagementEventSources": ["kms.amazonaws.com"]}
    assert not matches_basic(excluded, api_call("kms", "list_keys"))


def test_advanced_selectors():
    deletes = {"Name": "deletions", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventName", "StartsWith": ["Delete"]},
        {"Field": "eventSource", "NotEquals": ["iam.amazonaws.com"]}]}
    assert matches_advanced(deletes, api_call("backup", "delete_recovery_point", BackupVaultName="v",
                                              RecoveryPointArn="arn:rp"))
    assert not matches_advanced(deletes, api_call("iam", "delete_user", UserName="u"))
    assert not matches_advanced(deletes, api_call("s3", "create_bucket", Bucket="b-b-b"))
    objects = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                  {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                  {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::invoices/"]}]}
    assert matches_advanced(objects, api_call("s3", "delete_object", Bucket="invoices", Key="a"))
    assert not matches_advanced(objects, api_call("s3", "delete_object", Bucket="images", Key="a"))
    failures = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                   {"Field": "errorCode", "Equals": ["AccessDenied"]}]}
    assert matches_advanced(failures, api_call("s3", "delete_bucket", Bucket="b-b-b", status=403,
                                               error=("AccessDenied", "no")))


def test_selector_refusals():
    with pytest.raises(AwsError, match="not valid in EventSelectors"):
        _check_basic_selectors([{"DataResources": [{"Type": "AWS::EC2::Snapshot", "Values": ["x"]}]}])
    with pytest.raises(AwsError, match="arn:aws:s3:::BUCKET/"):
        _check_basic_selectors([{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["invoices"]}]}])
    with pytest.raises(AwsError, match="needs an eventCategory"):
        _check_advanced_selectors([{"FieldSelectors": [{"Field": "eventName", "Equals": ["X"]}]}])
    with pytest.raises(AwsError, match=r"resources\.type"):
        _check_advanced_selectors([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}])


@pytest.mark.parametrize("name, ok", [("securecart-trail", True), ("org.trail_1", True), ("ab", False),
                                      ("-trail", False), ("my--trail", False), ("10.0.0.1", False),
                                      ("trail!", False)])
def test_trail_names(name, ok):
    if ok:
        _check_trail_name(name)
    else:
        with pytest.raises(AwsError) as caught:
            _check_trail_name(name)
        assert caught.value.code == "InvalidTrailNameException" and name in str(caught.value)


def test_bucket_policy_check():
    policy = {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]}, "Action": "s3:GetBucketAcl",
         "Resource": "arn:aws:s3:::logs"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": ["s3:PutObject"],
         "Resource": "arn:aws:s3:::logs/AWSLogs/000000000000/*"}]}
    assert _policy_allows(policy, "s3:PutObject", "arn:aws:s3:::logs/AWSLogs/000000000000/CloudTrail/x.gz")
    assert not _policy_allows(policy, "s3:PutObject", "arn:aws:s3:::logs/other/AWSLogs/000000000000/x.gz")
    assert not _policy_allows({"Statement": [{**policy["Statement"][1], "Principal": {"Service": "s3.amazonaws.com"}}]},
                              "s3:PutObject", "arn:aws:s3:::logs/AWSLogs/000000000000/x")


def test_deliveries_fall_on_five_minute_boundaries():
    assert _next_boundary(1_800_000_000.0) == 1_800_000_300.0
    assert _next_boundary(1_800_000_299.9) == 1_800_000_300.0
