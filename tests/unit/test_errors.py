"""Tests for lab.gateway.codec.errors: botocore itself must read our error responses.

Two levels: botocore's protocol parsers directly, and real boto3 clients whose
``before-send`` hook answers with our response, checking the raised ClientError
and that it came after exactly one attempt (no retries).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore
import pytest
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

from lab.gateway.codec.errors import aws_error, not_implemented
from lab.gateway.codec.identify import identify, service_model
from lab.kernel.context import Identity, Response

ENDPOINT = "http://127.0.0.1:4566"
MESSAGE = "Bad <input> & 'quotes' \"here\" — ünïcödé ✓"

# (service, operation, protocol): one per protocol and error-document variant.
PROTOCOL_CASES = [
    ("s3", "GetObject", "rest-xml"),  # <Error> document
    ("route53", "GetHostedZone", "rest-xml"),  # <ErrorResponse> document
    ("rds", "DescribeDBInstances", "query"),
    ("sts", "GetCallerIdentity", "query"),
    ("ec2", "DescribeVolumes", "ec2"),
    ("dynamodb", "GetItem", "json"),
    ("logs", "CreateLogGroup", "json"),
    ("backup", "ListBackupVaults", "rest-json"),
    ("cloudwatch", "PutMetricData", "json"),  # awsQueryCompatible
    ("cloudwatch", "PutMetricData", "smithy-rpc-v2-cbor"),
    ("cloudwatch", "PutMetricData", "query"),
]
CASE_IDS = [f"{s}.{p}" for s, _, p in PROTOCOL_CASES]


def parse(response: Response, protocol: str, output_shape: Any = None) -> dict[str, Any]:
    return create_parser(protocol).parse(
        {
            "status_code": response.status,
            "headers": HeadersDict(response.headers),
            "body": response.body,
        },
        output_shape,
    )


# --------------------------------------------------------------------------
# botocore's parsers


@pytest.mark.parametrize(("service", "operation", "protocol"), PROTOCOL_CASES, ids=CASE_IDS)
@pytest.mark.parametrize(
    ("status", "code", "sender_fault"),
    [(400, "ValidationException", True), (404, "NoSuchThing", True), (501, "NotImplemented", False)],
)
def test_parsers_read_code_and_message(
    service: str, operation: str, protocol: str, status: int, code: str, sender_fault: bool
) -> None:
    identity = Identity(service, "us-east-1", operation, protocol, service_model(service).signing_name)
    response = aws_error(identity, status, code, MESSAGE, request_id="req-123", sender_fault=sender_fault)
    assert response.status == status
    output_shape = service_model(service).operation_model(operation).output_shape
    parsed = parse(response, protocol, output_shape)
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == MESSAGE
    assert parsed["ResponseMetadata"]["RequestId"] == "req-123"
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status
    if protocol == "query" or (protocol == "rest-xml" and service != "s3"):
        assert parsed["Error"]["Type"] == ("Sender" if sender_fault else "Receiver")


def test_query_error_uses_the_model_namespace() -> None:
    identity = Identity("rds", "us-east-1", "DescribeDBInstances", "query", "rds")
    body = aws_error(identity, 400, "InvalidParameterValue", "m").body.decode()
    namespace = service_model("rds").metadata["xmlNamespace"]
    assert f'<ErrorResponse xmlns="{namespace}">' in body


def test_content_types_and_headers() -> None:
    def headers(service: str, protocol: str) -> dict[str, str]:
        identity = Identity(service, "us-east-1", None, protocol, None)
        return {k.lower(): v for k, v in aws_error(identity, 400, "C", "m", "rid").headers}

    assert headers("dynamodb", "json")["content-type"] == "application/x-amz-json-1.0"
    assert headers("logs", "json")["content-type"] == "application/x-amz-json-1.1"
    assert headers("backup", "rest-json")["content-type"] == "application/json"
    assert headers("backup", "rest-json")["x-amzn-errortype"] == "C"
    assert headers("dynamodb", "json")["x-amzn-requestid"] == "rid"
    assert headers("s3", "rest-xml")["x-amz-request-id"] == "rid"
    cbor = headers("cloudwatch", "smithy-rpc-v2-cbor")
    assert (cbor["content-type"], cbor["smithy-protocol"]) == ("application/cbor", "rpc-v2-cbor")
    assert cbor["x-amzn-query-error"] == "C;Sender"
    assert "x-amzn-query-error" not in headers("dynamodb", "json")


@pytest.mark.parametrize(
    "identity",
    [None, Identity(None, "us-east-1", None, None, None), Identity("nosuch", "us-east-1", "X", None, None)],
)
def test_unknown_service_gets_json(identity: Identity | None) -> None:
    response = aws_error(identity, 400, "UnrecognizedClientException", MESSAGE)
    assert json.loads(response.body) == {"__type": "UnrecognizedClientException", "message": MESSAGE}
    for protocol in ("json", "rest-json"):
        parsed = parse(response, protocol)
        assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == (
            "UnrecognizedClientException", MESSAGE)


def test_cbor_encoding_of_long_strings() -> None:
    # Lengths on either side of each CBOR length-encoding boundary.
    identity = Identity("cloudwatch", "us-east-1", "PutMetricData", "smithy-rpc-v2-cbor", "monitoring")
    for size in (0, 23, 24, 255, 256, 65535, 65536):
        message = "é" * (size // 2) + "x" * (size % 2)
        parsed = parse(aws_error(identity, 400, "C" * 30, message), "smithy-rpc-v2-cbor")
        assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == ("C" * 30, message)


@pytest.mark.parametrize(("service", "operation", "protocol"), PROTOCOL_CASES, ids=CASE_IDS)
def test_not_implemented(service: str, operation: str, protocol: str) -> None:
    identity = Identity(service, "us-east-1", operation, protocol, None)
    response = not_implemented(identity, detail="backend: embedded moto")
    xml = protocol in ("query", "ec2", "rest-xml")
    assert response.status == (501 if xml else 400)
    parsed = parse(response, protocol)
    assert parsed["Error"]["Code"] == ("NotImplemented" if xml else "UnknownOperationException")
    assert parsed["Error"]["Message"] == (
        f"The sandbox does not implement {service} operation {operation} (backend: embedded moto)")


def test_not_implemented_messages_without_operation() -> None:
    unknown_op = not_implemented(Identity("s3", "us-east-1", None, "rest-xml", "s3"))
    assert b"does not recognise this s3 operation" in unknown_op.body
    unknown = not_implemented(Identity(None, "us-east-1", None, None, None))
    assert (unknown.status, json.loads(unknown.body)["__type"]) == (400, "UnknownOperationException")


# --------------------------------------------------------------------------
# Real clients: parsed error and no retries


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@cache
def _session(service: str, protocol: str | None) -> boto3.session.Session:
    session = boto3.session.Session()  # own loader: the override stays in it
    if protocol is not None:  # force one of the service's protocols
        loader = session._session.get_component("data_loader")
        original = loader.load_service_model(service, "service-2")
        # A changed copy, never the loaded dict itself: parsed models may be shared across the process.
        forced = {**original, "metadata": {**original["metadata"], "protocols": [protocol]}}
        load_service_model = loader.load_service_model

        def load(name: str, type_name: str, api_version: str | None = None) -> Any:
            return forced if (name, type_name) == (service, "service-2") else load_service_model(
                name, type_name, api_version)

        loader.load_service_model = load
    return session


@cache
def _client(service: str, mode: str, protocol: str | None = None) -> Any:
    return _session(service, protocol).client(
        service,
        region_name="us-west-2",
        endpoint_url=ENDPOINT,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 5, "mode": mode}),
    )


def _answer_with(c: Any, make_error: Any, head: bool = False) -> list[Identity]:
    """Answer every request with make_error(identity); returns the identities seen."""
    seen: list[Identity] = []

    def before_send(request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body or b""
        body = body.read() if hasattr(body, "read") else body
        body = body.encode("utf-8") if isinstance(body, str) else body
        headers = {**request.headers, "Host": url.netloc}
        identity = identify(request.method, url.path, url.query, headers, body)
        seen.append(identity)
        error = make_error(identity)
        # A HEAD response has no body on the wire.
        raw = _Raw(b"" if head else error.body)
        return AWSResponse(request.url, error.status, HeadersDict(error.headers), raw)

    # Clients are cached across tests: replace the previous test's responder.
    c.meta.events.unregister("before-send", unique_id="lab-test-responder")
    c.meta.events.register("before-send", before_send, unique_id="lab-test-responder")
    return seen


CLIENT_CASES = [
    ("s3", None, "GetObject", {"Bucket": "lab-bucket", "Key": "a/b c"}),
    ("s3", None, "PutBucketInventoryConfiguration", {
        "Bucket": "lab-bucket", "Id": "i", "InventoryConfiguration": {
            "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::d", "Format": "CSV"}},
            "IsEnabled": True, "Id": "i", "IncludedObjectVersions": "All",
            "Schedule": {"Frequency": "Daily"}}}),
    ("route53", None, "GetHostedZone", {"Id": "Z1"}),
    ("rds", None, "DescribeDBInstances", {}),
    ("sts", None, "GetCallerIdentity", {}),
    ("ec2", None, "DescribeVolumes", {}),
    ("dynamodb", None, "GetItem", {"TableName": "t", "Key": {"pk": {"S": "1"}}}),
    ("dynamodbstreams", None, "ListStreams", {}),
    ("backup", None, "ListBackupVaults", {}),
    ("fis", None, "ListExperiments", {}),
    ("cloudwatch", None, "PutMetricData", {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.0}]}),
    ("cloudwatch", "smithy-rpc-v2-cbor", "ListMetrics", {}),
    ("cloudwatch", "query", "ListMetrics", {}),
]
CLIENT_IDS = [f"{s}.{o}.{p or 'default'}" for s, p, o, _ in CLIENT_CASES]


@pytest.mark.parametrize("mode", ["standard", "legacy"])
@pytest.mark.parametrize(("service", "protocol", "operation", "params"), CLIENT_CASES, ids=CLIENT_IDS)
def test_client_not_implemented_is_not_retried(
    service: str, protocol: str | None, operation: str, params: dict[str, Any], mode: str
) -> None:
    c = _client(service, mode, protocol)
    seen = _answer_with(c, lambda i: not_implemented(i, detail="backend: embedded moto"))
    with pytest.raises(ClientError) as raised:
        getattr(c, botocore.xform_name(operation))(**params)
    assert len(seen) == 1  # exactly one attempt
    identity = seen[0]
    assert (identity.service, identity.operation) == (service, operation)
    error = raised.value.response["Error"]
    xml = identity.protocol in ("query", "ec2", "rest-xml")
    assert error["Code"] == ("NotImplemented" if xml else "UnknownOperationException")
    assert error["Message"] == (
        f"The sandbox does not implement {service} operation {operation} (backend: embedded moto)")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == (501 if xml else 400)


@pytest.mark.parametrize("mode", ["standard", "legacy"])
@pytest.mark.parametrize(("service", "protocol", "operation", "params"), CLIENT_CASES, ids=CLIENT_IDS)
def test_client_reads_aws_error(
    service: str, protocol: str | None, operation: str, params: dict[str, Any], mode: str
) -> None:
    c = _client(service, mode, protocol)
    seen = _answer_with(c, lambda i: aws_error(i, 400, "InvalidParameterValue", MESSAGE, "rid-1"))
    with pytest.raises(ClientError) as raised:
        getattr(c, botocore.xform_name(operation))(**params)
    assert len(seen) == 1
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert raised.value.response["Error"]["Message"] == MESSAGE
    assert raised.value.response["ResponseMetadata"]["RequestId"] == "rid-1"


@pytest.mark.parametrize("mode", ["standard", "legacy"])
def test_client_s3_head_sees_only_the_status(mode: str) -> None:
    c = _client("s3", mode)
    seen = _answer_with(c, not_implemented, head=True)
    with pytest.raises(ClientError) as raised:
        c.head_object(Bucket="lab-bucket", Key="k")
    assert len(seen) == 1
    assert raised.value.response["Error"]["Code"] == "501"


@pytest.mark.parametrize("mode", ["standard", "legacy"])
@pytest.mark.parametrize(
    ("status", "code"), [(503, "ServiceUnavailable"), (400, "ThrottlingException")]
)
def test_control_retryable_errors_are_retried(
    mode: str, status: int, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Proves the attempt counting above would notice retries.
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _s: None)
    c = _client("dynamodb", mode)
    seen = _answer_with(c, lambda i: aws_error(i, status, code, "slow down"))
    with pytest.raises(ClientError) as raised:
        c.list_tables()
    assert raised.value.response["Error"]["Code"] == code
    assert len(seen) == 6  # max_attempts counts retries: 1 + 5
