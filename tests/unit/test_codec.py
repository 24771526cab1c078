"""lab.gateway.codec: requests read back into what boto3 was given (and refused as the service refuses them),
answers written as boto3 parses them, in every protocol the gateway speaks."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest

from lab.gateway.codec.decode import decode_answer, decode_request
from lab.gateway.codec.encode import encode_output
from lab.gateway.codec.identify import identify
from lab.kernel.errors import AwsError
from tests.unit.botocore_wire import boto3_parse, wire_request


def parsed(service: str, method: str, **params):
    http_method, path, query, headers, body = wire_request(service, method, **params)
    identity = identify(http_method, path, query, headers, body)
    return decode_request(identity.service, identity.operation, identity.protocol, path, query, headers, body)


def answered(service: str, operation: str, protocol: str, output: dict):
    """What boto3 makes of the answer the codec writes for `output`."""
    response = encode_output(service, operation, protocol, output, "req-1")
    return boto3_parse(service, operation, response.status, response.headers, response.body)


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


def test_body_that_does_not_match_the_model_is_a_value_error_when_lenient():
    with pytest.raises(ValueError, match="does not match its model"):
        decode_request("dynamodb", "PutItem", "json", "/", "", {}, b"[1, 2]", strict=False)


def test_json_answer_round_trips_through_botocore():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    output = {"Events": [{"EventId": "e1", "EventName": "CreateBucket", "ReadOnly": "false",
                          "EventTime": moment.timestamp(), "Resources": [{"ResourceType": "AWS::S3::Bucket",
                                                                          "ResourceName": "b"}],
                          "CloudTrailEvent": "{}"}], "NextToken": "t"}
    response = encode_output("cloudtrail", "LookupEvents", "json", output, "req-1")
    parsed_answer = boto3_parse("cloudtrail", "LookupEvents", response.status, response.headers, response.body)
    event = parsed_answer["Events"][0]
    assert event["EventTime"] == moment and event["Resources"][0]["ResourceName"] == "b"
    assert parsed_answer["NextToken"] == "t"
    assert ("Content-Type", "application/x-amz-json-1.1") in response.headers


def test_rest_xml_answer_round_trips_through_botocore():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    output = {"HealthCheckObservations": [
        {"Region": "us-east-1", "IPAddress": "15.177.2.21",
         "StatusReport": {"Status": "Success: HTTP Status Code 200, OK", "CheckedTime": moment.timestamp()}},
        {"Region": "eu-west-1", "IPAddress": "15.177.26.60",
         "StatusReport": {"Status": "Failure: x < y & z", "CheckedTime": moment.timestamp()}}]}
    answer = answered("route53", "GetHealthCheckStatus", "rest-xml", output)
    observations = answer["HealthCheckObservations"]
    assert [o["Region"] for o in observations] == ["us-east-1", "eu-west-1"]
    assert observations[1]["StatusReport"]["Status"] == "Failure: x < y & z"
    assert observations[0]["StatusReport"]["CheckedTime"] == moment
    dns = {"Nameserver": "ns-1.awsdns-01.com", "RecordName": "www.example.com", "RecordType": "A",
           "RecordData": ["10.0.0.1", "10.0.0.2"], "ResponseCode": "NOERROR", "Protocol": "UDP"}
    answer = answered("route53", "TestDNSAnswer", "rest-xml", dns)
    assert answer["RecordData"] == ["10.0.0.1", "10.0.0.2"] and answer["ResponseCode"] == "NOERROR"


def test_decode_answer_reads_answers_and_errors():
    body = (b'<?xml version="1.0"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist'
            b'</Message></Error>')
    error = decode_answer("s3", "DeleteBucket", "rest-xml", 404, [("Content-Type", "application/xml")], body)
    assert error["Error"] == {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist"}
    answer = decode_answer("s3", "PutObject", "rest-xml", 200, [("ETag", '"abc"'), ("x-amz-version-id", "v1")], b"")
    assert answer == {"ETag": '"abc"', "VersionId": "v1"}


def test_query_protocol_request_typed_and_nested_with_timestamps():
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    params = parsed("rds", "describe_events", SourceType="db-instance", SourceIdentifier="db1", StartTime=moment,
                    Duration=90, MaxRecords=20, EventCategories=["failover", "backup"])
    assert params == {"SourceType": "db-instance", "SourceIdentifier": "db1", "StartTime": moment, "Duration": 90,
                      "MaxRecords": 20, "EventCategories": ["failover", "backup"]}
    assert parsed("rds", "reboot_db_instance", DBInstanceIdentifier="db1", ForceFailover=True) == {
        "DBInstanceIdentifier": "db1", "ForceFailover": True}


def test_query_answer_reads_back_the_same_through_botocore():
    moment = datetime(2026, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
    answer = {"DBInstances": [{
        "DBInstanceIdentifier": "db1", "MultiAZ": True, "AllocatedStorage": 20, "InstanceCreateTime": moment,
        "AvailabilityZone": "us-east-1b", "SecondaryAvailabilityZone": "us-east-1a",
        "ReadReplicaDBInstanceIdentifiers": ["r1", "arn:aws:rds:us-west-2:000000000000:db:r2"],
        "StatusInfos": [{"StatusType": "read replication", "Normal": True, "Status": "replicating"}],
        "Endpoint": {"Address": "db1.example", "Port": 5432}, "TagList": [{"Key": "app", "Value": "x & <y>"}],
    }], "Marker": "m1"}
    parsed_answer = answered("rds", "DescribeDBInstances", "query", answer)
    assert parsed_answer.pop("ResponseMetadata")["RequestId"] == "req-1"
    assert parsed_answer == answer


def test_ec2_answer_reads_back_the_same_through_botocore():
    statuses = {"VolumeStatuses": [{
        "VolumeId": "vol-1", "AvailabilityZone": "us-east-1a",
        "VolumeStatus": {"Status": "impaired", "Details": [{"Name": "io-enabled", "Status": "failed"}]},
        "Events": [], "Actions": []}]}
    parsed_answer = answered("ec2", "DescribeVolumeStatus", "ec2", statuses)
    assert parsed_answer.pop("ResponseMetadata")["RequestId"] == "req-1"
    assert parsed_answer["VolumeStatuses"][0]["VolumeStatus"] == statuses["VolumeStatuses"][0]["VolumeStatus"]
    assert parsed_answer["VolumeStatuses"][0]["VolumeId"] == "vol-1"


def test_rest_json_answer_with_timestamps_and_headers():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    answer = answered("backup", "CreateBackupVault", "rest-json",
                      {"BackupVaultName": "v", "BackupVaultArn": "arn:aws:backup:us-east-1:000000000000:backup-vault:v",
                       "CreationDate": moment.timestamp()})
    assert answer["CreationDate"] == moment and answer["BackupVaultName"] == "v"


def test_cbor_request_and_answer_round_trip():
    import botocore.session
    from botocore.serialize import create_serializer

    model = botocore.session.Session().get_service_model("cloudwatch")
    operation = model.operation_model("ListDashboards")
    request = create_serializer("smithy-rpc-v2-cbor").serialize_to_request({"DashboardNamePrefix": "shop"}, operation)
    assert decode_request("cloudwatch", "ListDashboards", "smithy-rpc-v2-cbor", "/", "", request["headers"],
                          request["body"]) == {"DashboardNamePrefix": "shop"}
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    output = {"DashboardEntries": [{"DashboardName": "shop", "LastModified": moment, "Size": 12}]}
    response = encode_output("cloudwatch", "ListDashboards", "smithy-rpc-v2-cbor", output, "req-1")
    from botocore.parsers import create_parser

    parsed_answer = create_parser("smithy-rpc-v2-cbor").parse(
        {"status_code": 200, "headers": dict(response.headers), "body": response.body}, operation.output_shape)
    assert parsed_answer["DashboardEntries"] == output["DashboardEntries"]


def refusal(service, operation, protocol, body=b"", path="/", query="", headers=None) -> AwsError:
    with pytest.raises(AwsError) as caught:
        decode_request(service, operation, protocol, path, query, headers or {}, body)
    assert caught.value.status == 400
    return caught.value


@pytest.mark.parametrize(("body", "code", "words"), [
    (b"not json", "SerializationException", "not valid JSON"),
    (b"[1, 2]", "SerializationException", "must be a JSON object"),
    (b"[" * 100_000 + b"]" * 100_000, "SerializationException", "nests deeper"),
    (b'{"TableName": 5, "Key": {}}', "SerializationException", "TableName: expected a string"),
    (b'{"TableName": "t", "Key": {"id": {"X": "1"}}}', "ValidationException", "Supplied AttributeValue is empty"),
    (b'{"TableName": "t", "Key": {"id": {"S": "1", "N": "2"}}}', "ValidationException", "more than one"),
    (b'{"TableName": "t", "Key": {"id": {"S": "\\ud800"}}}', "SerializationException", "lone surrogate"),
    (b'{"Key": {"id": {"S": "1"}}}', "ValidationException", "TableName"),
])
def test_json_requests_are_refused_as_dynamodb_refuses_them(body, code, words):
    error = refusal("dynamodb", "GetItem", "json", body)
    assert error.code == code and words in error.message


def test_an_empty_json_body_is_no_members():
    assert decode_request("dynamodb", "ListTables", "json", "/", "", {}, b"") == {}
    assert refusal("dynamodb", "GetItem", "json", b"").code == "ValidationException"


def test_a_body_that_claims_gzip_but_is_not():
    error = refusal("dynamodb", "ListTables", "json", b"{}", headers={"Content-Encoding": "gzip"})
    assert error.code == "SerializationException" and "not gzip" in error.message
    assert decode_request("dynamodb", "ListTables", "json", "/", "", {"Content-Encoding": "gzip"},
                          gzip.compress(json.dumps({"Limit": 3}).encode())) == {"Limit": 3}


def test_query_requests_refused_with_the_common_errors():
    assert refusal("rds", "DescribeDBInstances", "query", b"Action=DescribeDBInstances&MaxRecords=abc").code \
        == "InvalidParameterValue"
    assert refusal("rds", "RebootDBInstance", "query", b"Action=RebootDBInstance").code == "MissingParameter"
    assert refusal("ec2", "DescribeVolumes", "ec2", b"Action=DescribeVolumes&MaxResults=x").code \
        == "InvalidParameterValue"


def test_rest_requests_refused_with_the_services_codes():
    error = refusal("s3", "ListObjectsV2", "rest-xml", path="/bucket", query="list-type=2&max-keys=abc")
    assert error.code == "InvalidArgument" and "MaxKeys" in error.message
    truncated = b"<ReplicationConfiguration><Role>x</Ro"
    assert refusal("s3", "PutBucketReplication", "rest-xml", truncated, path="/bucket", query="replication").code \
        == "MalformedXML"
    assert refusal("s3", "PutBucketReplication", "rest-xml", b"", path="/bucket", query="replication").code \
        == "MissingRequestBodyError"
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><ReplicationConfiguration/>'
    assert refusal("s3", "PutBucketReplication", "rest-xml", doctype, path="/bucket", query="replication").code \
        == "MalformedXML"
    assert refusal("backup", "CreateBackupVault", "rest-json", b'{"BackupVaultTags": "x"}',
                   path="/backup-vaults/v").code == "SerializationException"
    assert refusal("backup", "ListBackupJobs", "rest-json", path="/backup-jobs/", query="maxResults=x").code \
        == "InvalidParameterValueException"
    assert refusal("route53", "GetHealthCheckStatus", "rest-xml", path="/2013-04-01/healthcheck/").code \
        == "InvalidInput"


def test_header_members_found_in_any_case_and_from_the_environ():
    """The decoder reads a shape's header members from one lower-cased pass over the headers: the same members
    whatever the spelling, from a plain dict or from the WSGI environ's view (where the gateway reads them)."""
    from werkzeug.datastructures import EnvironHeaders

    sent = {"Content-Type": "text/plain", "X-Amz-Meta-Owner": "shop", "x-amz-tagging": "a=b",
            "CONTENT-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==", "x-amz-storage-class": "STANDARD_IA"}
    environ = {"REQUEST_METHOD": "PUT", "CONTENT_TYPE": "text/plain", "HTTP_X_AMZ_META_OWNER": "shop",
               "HTTP_X_AMZ_TAGGING": "a=b", "HTTP_CONTENT_MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
               "HTTP_X_AMZ_STORAGE_CLASS": "STANDARD_IA"}
    expected = {"Bucket": "invoices", "Key": "k", "ContentType": "text/plain", "Metadata": {"owner": "shop"},
                "Tagging": "a=b", "ContentMD5": "1B2M2Y8AsgTpgAmY7PhCfg==", "StorageClass": "STANDARD_IA"}
    for headers in (sent, EnvironHeaders(environ)):
        assert decode_request("s3", "PutObject", "rest-xml", "/invoices/k", "", headers, None) == expected


def test_answers_decode_as_botocore_reads_them_headers_in_any_case():
    """decode_answer's header view finds members by any spelling (the first kept, the last value), and reads
    an HTTP date into the very datetime botocore's own parser makes (UTC as dateutil's tzutc)."""
    from botocore.utils import parse_timestamp

    last_modified = "Mon, 07 Dec 2026 05:29:29 GMT"
    headers = [("content-length", "4"), ("ETAG", '"abc"'), ("Last-Modified", last_modified),
               ("x-amz-version-id", "v1"), ("x-amz-meta-Owner", "shop"), ("X-Amz-Version-Id", "v2")]
    output = decode_answer("s3", "GetObject", "rest-xml", 200, headers, [b"data"])
    assert output["ContentLength"] == 4 and output["ETag"] == '"abc"' and output["VersionId"] == "v2"
    assert output["Metadata"] == {"Owner": "shop"} and output["Body"] == [b"data"]
    assert output["LastModified"] == parse_timestamp(last_modified)
    assert repr(output["LastModified"]) == repr(parse_timestamp(last_modified))
    assert boto3_parse("s3", "GetObject", 200, headers, b"data")["LastModified"] == output["LastModified"]


@pytest.mark.parametrize("value", ["Tue, 29 Feb 2028 23:59:59 GMT", "2026-12-07T05:29:29Z", "2026-12-07T05:29:29.5Z",
                                   "2026-12-07T05:29:29+02:00", "1700000000", "1700000000.25",
                                   "Mon, 7 Dec 2026 05:29:29 GMT"])
def test_timestamps_read_as_botocore_reads_them(value):
    from botocore.utils import parse_timestamp

    from lab.gateway.codec.decode import _botocore_timestamp

    assert repr(_botocore_timestamp(value)) == repr(parse_timestamp(value))


def test_header_members_alone_are_what_the_whole_answer_decodes():
    """decode_header_members reads the string members a model binds to headers as decode_answer reads them, in
    any spelling of the header; a member not bound to a header, or not a string, asks for the whole answer."""
    from lab.gateway.codec.decode import decode_header_members

    headers = [("ETag", '"abc"'), ("X-Amz-Version-Id", "v1"), ("x-amz-replication-status", "COMPLETED"),
               ("Content-Length", "3"), ("Last-Modified", "Wed, 01 Mar 2026 12:00:00 GMT")]
    whole = decode_answer("s3", "GetObject", "rest-xml", 200, headers, b"abc")
    alone = decode_header_members("s3", "GetObject", headers, ("VersionId", "ReplicationStatus", "ETag"))
    assert alone == {name: whole[name] for name in ("VersionId", "ReplicationStatus", "ETag")}
    assert decode_header_members("s3", "HeadObject", [("ETag", '"abc"')], ("VersionId",)) == {}
    assert decode_header_members("s3", "GetObject", headers, ("ContentLength",)) is None  # (a long)
    assert decode_header_members("s3", "GetObject", headers, ("Body",)) is None  # (the payload)
    assert decode_header_members("s3", "ListBuckets", headers, ("Buckets",)) is None
