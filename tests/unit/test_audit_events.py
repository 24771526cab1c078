"""lab.gateway.audit: a compact call record renders as the CloudTrail event AWS would log."""

from __future__ import annotations

import uuid

from lab.gateway import audit
from lab.gateway.audit import Principal
from tests.unit.botocore_wire import AT
from tests.unit.botocore_wire import api_call as call_of


def test_management_event_has_every_cloudtrail_field():
    call = call_of("s3", "create_bucket", Bucket="invoices-dr",
                   CreateBucketConfiguration={"LocationConstraint": "us-west-2"},
                   answer=b"", answer_headers=(("Location", "/invoices-dr"),))
    event = audit.render(call)
    assert event["eventVersion"] == "1.11"
    assert event["eventTime"] == "2026-09-21T14:13:20Z"
    assert (event["eventSource"], event["eventName"], event["awsRegion"]) == ("s3.amazonaws.com", "CreateBucket",
                                                                               "us-east-1")
    assert event["sourceIPAddress"] == "127.0.0.1" and event["userAgent"].startswith("Botocore/")
    # The lab's `test` key is the account's root, in CloudTrail's form for root access keys.
    assert event["userIdentity"] == {"type": "Root", "principalId": "000000000000",
                                     "arn": "arn:aws:iam::000000000000:root", "accountId": "000000000000",
                                     "accessKeyId": "test"}
    assert event["requestParameters"] == {"bucketName": "invoices-dr",
                                          "createBucketConfiguration": {"locationConstraint": "us-west-2"}}
    assert event["responseElements"] == {"location": "/invoices-dr"}
    assert (event["eventType"], event["managementEvent"], event["eventCategory"]) == ("AwsApiCall", True, "Management")
    assert event["recipientAccountId"] == "000000000000" and event["readOnly"] is False
    assert event["requestID"] == "req-1" and uuid.UUID(event["eventID"]).version == 4
    assert "errorCode" not in event and "resources" not in event


def test_object_write_is_a_data_event_without_its_body():
    call = call_of("s3", "put_object", Bucket="invoices", Key="2026/01/ORD-1.json", Body=b"secret invoice bytes",
                   ContentType="application/json", answer=b"", answer_headers=(("x-amz-version-id", "v7"),))
    event = audit.render(call)
    assert call.body is None  # the object's bytes are never kept
    assert event["requestParameters"]["bucketName"] == "invoices"
    assert event["requestParameters"]["key"] == "2026/01/ORD-1.json"
    assert "body" not in event["requestParameters"] and "secret" not in str(event)
    assert event["responseElements"] == {"versionId": "v7"}
    assert (event["managementEvent"], event["eventCategory"]) == (False, "Data")
    assert event["resources"] == [
        {"accountId": "000000000000", "type": "AWS::S3::Object", "ARN": "arn:aws:s3:::invoices/2026/01/ORD-1.json"},
        {"accountId": "000000000000", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::invoices"}]


def test_blobs_are_left_out_and_secrets_hidden():
    rds = audit.render(call_of("rds", "create_db_instance", DBInstanceIdentifier="orders-dr",
                               DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="admin",
                               MasterUserPassword="hunter2hunter2"))
    assert rds["requestParameters"]["dBInstanceIdentifier"] == "orders-dr"
    assert rds["requestParameters"]["masterUserPassword"] == audit.HIDDEN
    invoke = audit.render(call_of("lambda", "invoke", FunctionName="restore", Payload=b'{"secret": 1}'))
    assert invoke["requestParameters"] == {"functionName": "restore"}
    item = audit.render(call_of("dynamodb", "put_item", TableName="orders",
                                Item={"id": {"S": "1"}, "pdf": {"B": b"\x00\x01"}}))
    assert item["requestParameters"]["item"] == {"id": {"S": "1"}, "pdf": {}}
    assert item["resources"][0]["ARN"] == "arn:aws:dynamodb:us-east-1:000000000000:table/orders"


def test_failed_and_read_only_calls_have_no_response_elements():
    failed = audit.render(call_of("s3", "delete_bucket", Bucket="gone", status=404,
                                  error=("NoSuchBucket", "The specified bucket does not exist")))
    assert failed["errorCode"] == "NoSuchBucket" and failed["errorMessage"] == "The specified bucket does not exist"
    assert failed["responseElements"] is None
    read = audit.render(call_of("rds", "describe_db_instances", DBInstanceIdentifier="orders",
                                answer=b"<DescribeDBInstancesResponse/>"))
    assert read["readOnly"] is True and read["responseElements"] is None
    assert read["requestParameters"] == {"dBInstanceIdentifier": "orders"}


def test_lookup_resources_name_what_a_call_touched():
    call = call_of("ec2", "stop_instances", InstanceIds=["i-1", "i-2"])
    assert audit.lookup_resources(call, audit.request_params(call)) == [("AWS::EC2::Instance", "i-1"),
                                                                       ("AWS::EC2::Instance", "i-2")]
    trail = call_of("cloudtrail", "start_logging", Name="org-trail")
    assert audit.lookup_resources(trail, audit.request_params(trail)) == [("AWS::CloudTrail::Trail", "org-trail")]


def test_event_ids_are_a_function_of_the_call():
    first = audit.event_id(AT, "s3", "PutObject", "us-east-1", 0)
    assert first == audit.event_id(AT, "s3", "PutObject", "us-east-1", 0)
    assert first != audit.event_id(AT, "s3", "PutObject", "us-east-1", 1)
    assert first != audit.event_id(AT + 1, "s3", "PutObject", "us-east-1", 0)


def test_access_key_comes_from_the_signature_or_a_presigned_url():
    header = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE123/20260101/us-east-1/s3/aws4_request, SignedHeaders=host"
    assert audit.access_key_of(header, "") == "AKIAEXAMPLE123"
    query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
    assert audit.access_key_of(None, query) == "ASIAEXAMPLE"
    assert audit.access_key_of(None, "") is None


def test_user_identity_of_an_assumed_role_and_an_aws_service():
    role = Principal("AssumedRole", arn="arn:aws:sts::000000000000:assumed-role/dr-operator/alice",
                     principal_id="AROAEXAMPLE:alice", user_name="alice",
                     issuer_arn="arn:aws:iam::000000000000:role/dr-operator", issuer_id="AROAEXAMPLE", issued_at=AT)
    identity = role.user_identity("ASIAEXAMPLE")
    assert identity["type"] == "AssumedRole" and identity["accessKeyId"] == "ASIAEXAMPLE"
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role", "principalId": "AROAEXAMPLE", "arn": "arn:aws:iam::000000000000:role/dr-operator",
        "accountId": "000000000000", "userName": "dr-operator"}
    assert identity["sessionContext"]["attributes"]["creationDate"] == "2026-09-21T14:13:20Z"
    service = audit.service_principal("backup.amazonaws.com").user_identity(None)
    assert service == {"type": "AWSService", "invokedBy": "backup.amazonaws.com"}


def test_calls_the_lab_makes_are_attributed_to_the_acting_service(tmp_path):
    """An engine's calls show the AWS service it simulates: named explicitly (acting_as), or the engine the
    clock or the bus is running; the lab's own calls show AWS Internal."""
    from lab.backends.embedded import EmbeddedBackend
    from lab.kernel.context import ACTING_AS
    from lab.sandbox.core import Sandbox
    from lab.services.cloudtrail.engine import CloudTrail

    sandbox = Sandbox(EmbeddedBackend(), tmp_path, port=4598, seed_world=False)
    sandbox.boot()
    trail = sandbox.engines.find(CloudTrail)
    assert trail is not None

    def last_caller() -> str:
        return trail.state.calls[-1].principal.invoked_by

    sandbox.client("s3", acting_as="backup.amazonaws.com").list_buckets()
    assert last_caller() == "backup.amazonaws.com"
    sandbox.client("s3").list_buckets()
    assert last_caller() == audit.INTERNAL_SOURCE  # no engine at work: the lab itself
    token = ACTING_AS.set("rds.amazonaws.com")  # as the clock's loop sets it around an engine's step
    try:
        sandbox.client("s3").list_buckets()
    finally:
        ACTING_AS.reset(token)
    assert last_caller() == "rds.amazonaws.com"
    sandbox.close()

