"""The gateway over HTTP: health in LocalStack's shape, admin API, protocols, unknown operations."""

from __future__ import annotations

import json
import uuid

import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError

from lab.awsclient import client as lab_client

http = urllib3.PoolManager()


def test_localstack_health_shape(sandbox):
    answer = http.request("GET", sandbox.endpoint + "/_localstack/health")
    body = json.loads(answer.data)
    assert answer.status == 200
    assert body["services"]["s3"] in ("available", "running")
    assert body["services"]["s3"] == "running"  # the world touched it
    assert {"services", "edition", "version"} <= set(body)


def test_admin_status_and_unknown_route(sandbox):
    status = json.loads(http.request("GET", sandbox.endpoint + "/_lab/status?counts=0").data)
    assert status["ready"] is True and status["backend"] == "embedded"
    missing = http.request("GET", sandbox.endpoint + "/_lab/nope")
    assert missing.status == 404 and "GET /_lab/status" in json.loads(missing.data)["routes"]


def counting_client(sandbox, service, region="us-east-1"):
    made = lab_client(service, region, sandbox.endpoint)
    calls = []
    made.meta.events.register("before-send", lambda request, **_: calls.append(request.url))
    return made, calls


@pytest.mark.parametrize("service, call, code", [
    ("s3", lambda c: c.get_bucket_analytics_configuration(Bucket="securecart-logs", Id="x"), "NotImplemented"),
    ("dynamodb", lambda c: c.describe_contributor_insights(TableName="securecart-order-history"),
     "UnknownOperationException"),
    ("rds", lambda c: c.describe_db_recommendations(), "NotImplemented"),
])
def test_unimplemented_operation_answers_aws_style_once(sandbox, service, call, code):
    made, calls = counting_client(sandbox, service)
    with pytest.raises(ClientError) as caught:
        call(made)
    error = caught.value.response["Error"]
    assert error["Code"] == code
    operation = caught.value.operation_name
    assert service in error["Message"] and operation in error["Message"]
    assert len(calls) == 1  # not retried


def test_unknown_service_is_not_implemented(sandbox):
    made, calls = counting_client(sandbox, "cloudsearch")
    with pytest.raises(ClientError) as caught:
        made.describe_domains()
    assert caught.value.response["Error"]["Code"] in ("NotImplemented", "UnknownOperationException")
    assert "cloudsearch" in caught.value.response["Error"]["Message"]
    assert len(calls) == 1


def test_s3_virtual_host_and_presigned(sandbox):
    import boto3

    virtual = boto3.client("s3", region_name="us-east-1", endpoint_url=f"http://localhost:{sandbox.port}",
                           aws_access_key_id="test", aws_secret_access_key="test",
                           config=Config(s3={"addressing_style": "virtual"}))

    def via_loopback(request, **_):
        # *.localhost names do not resolve on every machine: connect to 127.0.0.1, keep the virtual Host.
        host = request.url.split("/")[2]
        request.headers["Host"] = host
        request.url = request.url.replace(host, f"127.0.0.1:{sandbox.port}", 1)

    virtual.meta.events.register("before-send", via_loopback)
    virtual.put_object(Bucket="securecart-logs", Key="virtual/host style.txt", Body=b"vh")
    path_style = sandbox.client("s3")
    assert path_style.get_object(Bucket="securecart-logs", Key="virtual/host style.txt")["Body"].read() == b"vh"
    url = path_style.generate_presigned_url("get_object", Params={"Bucket": "securecart-logs",
                                                                  "Key": "virtual/host style.txt"})
    answer = http.request("GET", url)
    assert answer.status == 200 and answer.data == b"vh"


def test_protocols_round_trip_in_both_regions(sandbox):
    for region in ("us-east-1", "us-west-2"):
        assert "Volumes" in sandbox.client("ec2", region).describe_volumes()  # ec2
        assert "DBInstances" in sandbox.client("rds", region).describe_db_instances()  # query
        assert "TableNames" in sandbox.client("dynamodb", region).list_tables()  # json
        assert "BackupVaultList" in sandbox.client("backup", region).list_backup_vaults()  # rest-json
        assert "HostedZones" in sandbox.client("route53", region).list_hosted_zones()  # rest-xml
        assert "Buckets" in sandbox.client("s3", region).list_buckets()  # s3


def test_malformed_request_gets_an_aws_error_not_a_crash(sandbox):
    answer = http.request("POST", sandbox.endpoint + "/", body=b"{not json",
                          headers={"X-Amz-Target": "DynamoDB_20120810.PutItem",
                                   "Content-Type": "application/x-amz-json-1.0",
                                   "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/"
                                                    "aws4_request, SignedHeaders=host, Signature=0"})
    assert 400 <= answer.status < 600
    assert b"__type" in answer.data or b"<Code>" in answer.data


def replacing_body(made, body: bytes):
    """`made` sends `body` instead of the request body botocore serialized (as a hand-written client would)."""
    def replace(request, **_):
        request.body = body
        request.headers["Content-Length"] = str(len(body))
        for name in ("Content-MD5", "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm"):
            request.headers.pop(name, None)

    made.meta.events.register("before-send", replace)
    return made


def test_xml_bodies_with_a_doctype_are_refused_not_expanded(sandbox):
    s3 = sandbox.client("s3")
    bucket = f"doctype-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="keep", Body=b"kept")
    entity = (b'<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY k "keep">]>'
              b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>&k;</Key></Object></Delete>')
    with pytest.raises(ClientError) as refused:
        replacing_body(sandbox.client("s3"), entity).delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": "other"}]})
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400 and error["Error"]["Code"] == "MalformedXML"
    assert "DOCTYPE" in error["Error"]["Message"]
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"kept"  # "&k;" was not expanded

    route53 = sandbox.client("route53")
    reference = f"doctype-{uuid.uuid4().hex[:8]}"
    declared = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY ref "' + reference.encode() + b'">]>'
                b'<CreateHealthCheckRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
                b"<CallerReference>&ref;</CallerReference><HealthCheckConfig><IPAddress>192.0.2.1</IPAddress>"
                b"<Port>80</Port><Type>TCP</Type></HealthCheckConfig></CreateHealthCheckRequest>")
    with pytest.raises(ClientError) as refused:
        replacing_body(sandbox.client("route53"), declared).create_health_check(
            CallerReference="plain", HealthCheckConfig={"IPAddress": "192.0.2.1", "Port": 80, "Type": "TCP"})
    assert refused.value.response["Error"]["Code"] == "InvalidInput"
    checks = route53.list_health_checks()["HealthChecks"]
    assert not [c for c in checks if c["CallerReference"] in (reference, "plain")]


def test_cloudtrail_answers_the_target_smithy_sdks_send(sandbox):
    """The JavaScript SDK v3 (and every SDK generated from the Smithy models) sends CloudTrail's target as
    CloudTrail_20131101.LookupEvents; botocore sends com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*.
    AWS answers both."""
    trail = sandbox.client("cloudtrail")
    sent = []

    def short_target(request, **_):
        long_form = request.headers["X-Amz-Target"]
        request.headers.replace_header("X-Amz-Target", "CloudTrail_20131101." + long_form.rpartition(".")[2])
        sent.append(request.headers["X-Amz-Target"])

    trail.meta.events.register("before-sign.cloudtrail.*", short_target)
    sandbox.client("s3").list_buckets()  # one call on the trail at least
    events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListBuckets"}],
                                 MaxResults=5)["Events"]
    assert sent == ["CloudTrail_20131101.LookupEvents"]
    assert events and all(event["EventName"] == "ListBuckets" for event in events)
    assert trail.describe_trails()["trailList"] is not None
