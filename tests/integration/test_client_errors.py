"""Client errors over HTTP: every request a client gets wrong is answered in its own protocol with AWS's 4xx
code, never a 500 (which SDKs retry) and never a page that is not an AWS answer.

Requests are sent raw (http.client), as a buggy or hostile client would send them; each answer is read with
botocore's own parser for the request's protocol, as an SDK would read it.
"""

from __future__ import annotations

import gzip
import http.client
import json
import uuid
from typing import Any

import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

WORLD_TABLE = "securecart-order-history"
WORLD_BUCKET = "securecart-invoices-use1"
JSON_10 = "application/x-amz-json-1.0"
FORM = "application/x-www-form-urlencoded"


def signed(service: str, region: str = "us-east-1") -> str:
    return (f"AWS4-HMAC-SHA256 Credential=test/20260101/{region}/{service}/aws4_request, SignedHeaders=host, "
            "Signature=0")


def send(sandbox, method: str, path: str, headers: dict[str, str] | None = None,
         body: bytes = b"") -> tuple[int, HeadersDict, bytes]:
    host, port = sandbox.endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        given = headers or {}
        for name, value in given.items():
            connection.putheader(name, value)
        if "Content-Length" not in given:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body:
            connection.send(body)
        answer = connection.getresponse()
        data = answer.read()
        return answer.status, HeadersDict(answer.getheaders()), data
    finally:
        connection.close()


def aws_error(protocol: str, status: int, headers: HeadersDict, body: bytes) -> dict[str, Any]:
    """The error as botocore's parser for `protocol` reads it (what an SDK raises)."""
    assert "html" not in headers.get("Content-Type", ""), body[:200]
    parsed = create_parser(protocol).parse({"status_code": status, "headers": headers, "body": body}, None)
    return parsed["Error"]


def json_call(sandbox, target: str, body: bytes, service: str = "dynamodb", **headers: str):
    return send(sandbox, "POST", "/", {"X-Amz-Target": target, "Content-Type": JSON_10,
                                       "Authorization": signed(service), **headers}, body)


@pytest.mark.parametrize(("service", "target"), [
    ("dynamodb", "Nonsense.ListTables"),
    ("dynamodb", "DynamoDB_20120810.Nope"),
    ("sqs", "AmazonSQS.Nope"),
])
def test_an_unknown_json_target_is_an_unknown_operation(sandbox, service, target):
    status, headers, body = json_call(sandbox, target, b"{}", service)
    assert status == 400
    assert aws_error("json", status, headers, body)["Code"] == "UnknownOperationException"


@pytest.mark.parametrize("service", ["rds", "ec2", "sts", "iam", "sns", "cloudformation"])
def test_an_unknown_query_action_is_invalid_action(sandbox, service):
    status, headers, body = send(sandbox, "POST", "/", {"Content-Type": FORM, "Authorization": signed(service)},
                                 b"Action=Nope&Version=2014-10-31")
    assert status == 400
    protocol = "ec2" if service == "ec2" else "query"
    assert aws_error(protocol, status, headers, body)["Code"] == "InvalidAction"


DEEP = b'{"TableName":"' + WORLD_TABLE.encode() + b'","Item":{"id":{"S":"x"},"a":' + b'{"L":[' * 3000 \
    + b']}' * 3000 + b'}}'
HUGE_FILTER = json.dumps({"TableName": WORLD_TABLE, "FilterExpression": "a = a AND " * 2000 + "a = a"}).encode()


@pytest.mark.parametrize(("operation", "body", "code"), [
    ("PutItem", b"", "ValidationException"),
    ("ListTables", b"this is not json", "SerializationException"),
    ("PutItem", DEEP, "SerializationException"),
    ("GetItem", json.dumps({"TableName": WORLD_TABLE, "Key": {"id": {"X": "1"}}}).encode(), "ValidationException"),
    ("GetItem", b'{"TableName":"' + WORLD_TABLE.encode() + b'","Key":{"id":{"S":"\\ud800"}}}',
     "SerializationException"),
    ("Scan", HUGE_FILTER, "ValidationException"),
], ids=["empty", "not-json", "deep-nesting", "bad-type-tag", "lone-surrogate", "huge-expression"])
def test_malformed_dynamodb_bodies_are_refused(sandbox, operation, body, code):
    status, headers, answer = json_call(sandbox, f"DynamoDB_20120810.{operation}", body)
    assert status == 400, answer[:300]
    assert aws_error("json", status, headers, answer)["Code"] == code


@pytest.mark.parametrize(("service", "protocol", "target", "status", "code"), [
    ("dynamodb", "json", "DynamoDB_20120810.ListTables", 403, "InvalidSignatureException"),
    ("s3", "rest-xml", None, 400, "AuthorizationHeaderMalformed"),
    ("sts", "query", None, 403, "SignatureDoesNotMatch"),
])
@pytest.mark.parametrize("region", ["mars-1", ""])
def test_a_credential_scope_without_a_real_region_is_refused(sandbox, service, protocol, target, status, code,
                                                             region):
    headers = {"Authorization": signed(service, region)}
    if target:
        headers.update({"X-Amz-Target": target, "Content-Type": JSON_10})
        answer = send(sandbox, "POST", "/", headers, b"{}")
    elif service == "s3":
        answer = send(sandbox, "GET", f"/{WORLD_BUCKET}?list-type=2", headers)
    else:
        answer = send(sandbox, "POST", "/", {**headers, "Content-Type": FORM},
                      b"Action=GetCallerIdentity&Version=2011-06-15")
    assert answer[0] == status
    assert aws_error(protocol, *answer)["Code"] == code


def s3(sandbox, method: str, path: str, body: bytes = b"", **headers: str):
    return send(sandbox, method, path, {"Authorization": signed("s3"), **headers}, body)


def test_truncated_s3_xml_is_malformed(sandbox):
    answer = s3(sandbox, "PUT", f"/{WORLD_BUCKET}?lifecycle", b"<LifecycleConfiguration><Rule><ID>x</I")
    assert answer[0] == 400 and aws_error("rest-xml", *answer)["Code"] == "MalformedXML"


@pytest.mark.parametrize(("method", "query", "body"), [
    ("PUT", "partNumber=1&uploadId=no-such-upload", b"part"),
    ("POST", "uploadId=no-such-upload",
     b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"),
    ("GET", "uploadId=no-such-upload", b""),
    ("DELETE", "uploadId=no-such-upload", b""),
], ids=["UploadPart", "CompleteMultipartUpload", "ListParts", "AbortMultipartUpload"])
def test_an_unknown_multipart_upload_is_no_such_upload(sandbox, method, query, body):
    answer = s3(sandbox, method, f"/{WORLD_BUCKET}/uploads/a.bin?{query}", body)
    assert answer[0] == 404, answer[2][:300]
    assert aws_error("rest-xml", *answer)["Code"] == "NoSuchUpload"


@pytest.mark.parametrize("query", ["list-type=2&max-keys=abc", "list-type=2&continuation-token=not-a-token",
                                   "list-type=2&fetch-owner=maybe"])
def test_bad_listing_parameters_are_invalid_arguments(sandbox, query):
    answer = s3(sandbox, "GET", f"/{WORLD_BUCKET}?{query}")
    assert answer[0] == 400 and aws_error("rest-xml", *answer)["Code"] == "InvalidArgument"


def test_a_bad_date_is_an_invalid_argument(sandbox):
    answer = s3(sandbox, "PUT", f"/{WORLD_BUCKET}/dated.txt", b"x", **{
        "x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": "the day after tomorrow"})
    assert answer[0] == 400 and aws_error("rest-xml", *answer)["Code"] == "InvalidArgument"


def test_a_bucket_name_s3_refuses(sandbox):
    answer = s3(sandbox, "PUT", "/Bad_Bucket..Name")
    assert answer[0] == 400 and aws_error("rest-xml", *answer)["Code"] == "InvalidBucketName"


def test_content_length_that_is_not_a_number(sandbox):
    answer = s3(sandbox, "PUT", f"/{WORLD_BUCKET}/length.txt", **{"Content-Length": "abc"})
    assert answer[0] == 400 and aws_error("rest-xml", *answer)["Code"] == "InvalidArgument"
    answer = json_call(sandbox, "DynamoDB_20120810.ListTables", b"", **{"Content-Length": "abc"})
    assert answer[0] == 400 and aws_error("json", *answer)["Code"] == "SerializationException"


def test_a_body_that_claims_gzip_and_is_not(sandbox):
    answer = json_call(sandbox, "DynamoDB_20120810.ListTables", b"{}", **{"Content-Encoding": "gzip"})
    assert answer[0] == 400 and aws_error("json", *answer)["Code"] == "SerializationException"
    status, headers, body = send(sandbox, "POST", "/", {
        "Content-Type": FORM, "Authorization": signed("monitoring"), "Content-Encoding": "gzip"},
        b"Action=PutMetricData&Version=2010-08-01&Namespace=x")
    assert status == 400 and aws_error("query", status, headers, body)["Code"] == "InvalidQueryParameter"
    # A real gzip body is read as the SDKs send it (CloudWatch PutMetricData compresses large requests).
    compressed = gzip.compress(b"Action=ListMetrics&Version=2010-08-01&Namespace=AWS/Nothing")
    status, _, body = send(sandbox, "POST", "/", {"Content-Type": FORM, "Authorization": signed("monitoring"),
                                                  "Content-Encoding": "gzip"}, compressed)
    assert status == 200, body[:300]


@pytest.mark.parametrize(("what", "path", "headers"), [
    ("414 URI too long", "/" + "a" * 70_000, {}),
    ("431 header too large", "/", {"X-Big": "a" * 70_000}),
], ids=["414", "431"])
def test_the_http_server_answers_its_own_errors_as_aws_does(sandbox, what, path, headers):
    status, answer_headers, body = send(sandbox, "GET", path, {"Authorization": signed("s3"), **headers})
    assert 400 <= status < 500, what
    assert aws_error("rest-xml", status, answer_headers, body)["Code"]


def test_a_malformed_request_line_is_answered_as_aws_does(sandbox):
    import socket

    host, port = sandbox.endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := raw.recv(65536):  # (the server closes the connection after its answer)
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0]
    assert b"html" not in head.lower() and b"<Error>" in body


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("given", ["aa", "bytes", "bytes=x-y", "items=0-1"])
def test_a_range_s3_cannot_read_is_ignored_and_the_whole_object_answered(sandbox, method, given):
    """S3 treats a Range it cannot read as a request for the whole object (moto failed on "aa" with a 500)."""
    s3 = sandbox.client("s3")
    bucket = f"range-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    status, headers, body = send(sandbox, method, f"/{bucket}/k", {"Range": given, "Authorization": signed("s3"),
                                                                  "x-amz-checksum-mode": "ENABLED"})
    assert status == 200, body[:300]
    assert headers["Content-Length"] == "10" and body == (b"0123456789" if method == "GET" else b"")
    status, headers, body = send(sandbox, method, f"/{bucket}/k", {"Range": "bytes=2-4",
                                                                  "Authorization": signed("s3")})
    assert status == 206 and headers["Content-Range"] == "bytes 2-4/10"
