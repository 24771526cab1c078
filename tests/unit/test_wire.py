"""lab.gateway.codec.wire: requests read back into what boto3 was given, answers written as boto3 parses them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lab.gateway.codec import wire
from lab.gateway.codec.identify import identify
from tests.unit.botocore_wire import boto3_parse, wire_request


def parsed(service: str, method: str, **params):
    http_method, path, query, headers, body = wire_request(service, method, **params)
    identity = identify(http_method, path, query, headers, body)
    return wire.request_params(identity.service, identity.operation, identity.protocol, path, query, headers, body)


def test_json_protocol_request():
    params = parsed("dynamodb", "put_item", TableName="orders", Item={"id": {"S": "1"}, "n": {"N": "2"}})
    assert params == {"TableName": "orders", "Item": {"id": {"S": "1"}, "n": {"N": "2"}}}


def test_rest_xml_request_with_labels_headers_and_payload():
    params = parsed("s3", "put_object", Bucket="invoices", Key="a/b c.json", Body=b"{}", ContentType="text/plain",
                    Metadata={"owner": "shop"})
    assert params["Bucket"] == "invoices" and params["Key"] == "a/b c.json"
    assert params["ContentType"] == "text/plain" and params["Metadata"] == {"owner": "shop"}
    config = parsed("s3", "create_bucket", Bucket="dr-bucket",
                    CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert config == {"Bucket": "dr-bucket", "CreateBucketConfiguration": {"LocationConstraint": "us-west-2"}}


def test_rest_xml_body_and_querystring_members():
    change = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "www.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.1"}]}}]}
    params = parsed("route53", "change_resource_record_sets", HostedZoneId="Z1", ChangeBatch=change)
    assert params == {"HostedZoneId": "Z1", "ChangeBatch": change}
    query = parsed("route53", "test_dns_answer", HostedZoneId="Z1", RecordName="www.example.com", RecordType="A")
    assert query == {"HostedZoneId": "Z1", "RecordName": "www.example.com", "RecordType": "A"}
    listing = parsed("s3", "list_objects_v2", Bucket="logs", Prefix="AWSLogs/", MaxKeys=5)
    assert listing["Prefix"] == "AWSLogs/" and listing["MaxKeys"] == 5


def test_rest_json_request():
    params = parsed("backup", "create_backup_vault", BackupVaultName="vault", BackupVaultTags={"app": "shop"})
    assert params["BackupVaultName"] == "vault" and params["BackupVaultTags"] == {"app": "shop"}


def test_query_protocol_request_with_lists_and_nested_structures():
    params = parsed("rds", "create_db_instance", DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro",
                    Engine="postgres", AllocatedStorage=20, MultiAZ=True, VpcSecurityGroupIds=["sg-1", "sg-2"],
                    Tags=[{"Key": "app", "Value": "shop"}])
    assert params == {"DBInstanceIdentifier": "db1", "DBInstanceClass": "db.t3.micro", "Engine": "postgres",
                      "AllocatedStorage": 20, "MultiAZ": True, "VpcSecurityGroupIds": ["sg-1", "sg-2"],
                      "Tags": [{"Key": "app", "Value": "shop"}]}


def test_ec2_protocol_request():
    params = parsed("ec2", "describe_volumes", VolumeIds=["vol-1", "vol-2"],
                    Filters=[{"Name": "tag:Name", "Values": ["data"]}])
    assert params == {"VolumeIds": ["vol-1", "vol-2"], "Filters": [{"Name": "tag:Name", "Values": ["data"]}]}


def test_compressed_request_body():
    params = parsed("cloudwatch", "put_metric_data", Namespace="Shop",
                    MetricData=[{"MetricName": "Orders", "Value": 3.0}] * 40)  # large enough to be gzipped
    assert params["Namespace"] == "Shop" and len(params["MetricData"]) == 40


def test_body_that_does_not_match_the_model_is_a_value_error():
    with pytest.raises(ValueError, match="does not match its model"):
        wire.request_params("dynamodb", "PutItem", "json", "/", "", {}, b"[1, 2]")


def test_json_answer_round_trips_through_botocore():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    output = {"Events": [{"EventId": "e1", "EventName": "CreateBucket", "ReadOnly": "false",
                          "EventTime": moment.timestamp(), "Resources": [{"ResourceType": "AWS::S3::Bucket",
                                                                          "ResourceName": "b"}],
                          "CloudTrailEvent": "{}"}], "NextToken": "t"}
    status, headers, body = wire.serialize_response("cloudtrail", "LookupEvents", "json", output)
    parsed_answer = boto3_parse("cloudtrail", "LookupEvents", status, headers, body)
    event = parsed_answer["Events"][0]
    assert event["EventTime"] == moment and event["Resources"][0]["ResourceName"] == "b"
    assert parsed_answer["NextToken"] == "t"
    assert ("Content-Type", "application/x-amz-json-1.1") in headers


def test_rest_xml_answer_round_trips_through_botocore():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    output = {"HealthCheckObservations": [
        {"Region": "us-east-1", "IPAddress": "15.177.2.21",
         "StatusReport": {"Status": "Success: HTTP Status Code 200, OK", "CheckedTime": moment.timestamp()}},
        {"Region": "eu-west-1", "IPAddress": "15.177.26.60",
         "StatusReport": {"Status": "Failure: x < y & z", "CheckedTime": moment.timestamp()}}]}
    status, headers, body = wire.serialize_response("route53", "GetHealthCheckStatus", "rest-xml", output)
    answer = boto3_parse("route53", "GetHealthCheckStatus", status, headers, body)
    observations = answer["HealthCheckObservations"]
    assert [o["Region"] for o in observations] == ["us-east-1", "eu-west-1"]
    assert observations[1]["StatusReport"]["Status"] == "Failure: x < y & z"
    assert observations[0]["StatusReport"]["CheckedTime"] == moment
    dns = {"Nameserver": "ns-1.awsdns-01.com", "RecordName": "www.example.com", "RecordType": "A",
           "RecordData": ["10.0.0.1", "10.0.0.2"], "ResponseCode": "NOERROR", "Protocol": "UDP"}
    status, headers, body = wire.serialize_response("route53", "TestDNSAnswer", "rest-xml", dns)
    answer = boto3_parse("route53", "TestDNSAnswer", status, headers, body)
    assert answer["RecordData"] == ["10.0.0.1", "10.0.0.2"] and answer["ResponseCode"] == "NOERROR"


def test_response_params_reads_answers_and_errors():
    body = (b'<?xml version="1.0"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist'
            b'</Message></Error>')
    error = wire.response_params("s3", "DeleteBucket", "rest-xml", 404, [("Content-Type", "application/xml")], body)
    assert error["Error"] == {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist"}
    answer = wire.response_params("s3", "PutObject", "rest-xml", 200, [("ETag", '"abc"'), ("x-amz-version-id", "v1")],
                                  b"")
    assert answer == {"ETag": '"abc"', "VersionId": "v1"}
