"""Valid AWS requests in every protocol the gateway speaks, random mutations of them, and what makes an answer
AWS-shaped: the material of the fuzz test (test_fuzz.py) and of the fuzz benchmark (benchmarks/bench_fuzz.py).

The requests are serialised and signed by botocore exactly as boto3 sends them; a mutation changes one part a
client controls (body bytes or structure, a header, the path, the query string, the method) the way a buggy
or hostile client would. Nothing here addresses the canary bucket and table the checks read afterwards.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import string
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import botocore.session
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

WORLD_TABLE = "securecart-order-history"
WORLD_BUCKET = "securecart-invoices-use1"
FUZZ_BUCKET = "fuzz-scratch"  # created by the test; writes go here
CANARY_BUCKET = "fuzz-canary-bucket"  # never addressed by a request below
CANARY_TABLE = "fuzz-canary-table"
_SESSION = botocore.session.Session()


@dataclass(frozen=True)
class WireRequest:
    label: str  # "service Operation", for reports
    protocol: str  # the protocol of the request as sent (its answer comes in the same one)
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class _CapturedError(Exception):
    pass


def _signed(service: str, operation: str, params: dict[str, Any], protocol: str | None = None) -> WireRequest:
    """The request boto3 sends for the call (protocol: one of the service's others, serialised by botocore)."""
    client = _SESSION.create_client(service, region_name="us-east-1", aws_access_key_id="fuzz",
                                    aws_secret_access_key="fuzz", endpoint_url="http://127.0.0.1:1")
    model = client.meta.service_model.operation_model(operation)
    if protocol is not None and protocol != client.meta.service_model.resolved_protocol:
        serialized = create_serializer(protocol).serialize_to_request(params, model)
        body = serialized["body"]
        if isinstance(body, dict):
            body = urlencode(body).encode()
        headers = dict(serialized["headers"])
        if protocol == "query":
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential=fuzz/20260101/us-east-1/"
                                    f"{client.meta.service_model.signing_name}/aws4_request, "
                                    "SignedHeaders=host, Signature=0")
        return WireRequest(f"{service} {operation} ({protocol})", protocol, serialized["method"],
                           serialized["url_path"], urlencode(serialized["query_string"]), tuple(headers.items()),
                           body or b"")
    captured: dict[str, Any] = {}

    def before_send(request: Any, **_: Any) -> None:
        captured["request"] = request
        raise _CapturedError

    client.meta.events.register("before-send", before_send)
    try:
        getattr(client, _snake(operation))(**params)
    except _CapturedError:
        pass
    request = captured["request"]
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    url = urlsplit(request.url)
    headers = tuple((name, value.decode() if isinstance(value, bytes) else value)
                    for name, value in request.headers.items() if name.lower() not in ("host", "content-length"))
    return WireRequest(f"{service} {operation}", client.meta.service_model.resolved_protocol, request.method,
                       url.path or "/", url.query, headers, body)


def _snake(name: str) -> str:
    from botocore import xform_name

    return xform_name(name)


def base_requests() -> list[WireRequest]:
    """Valid calls in each protocol: json, rest-json, rest-xml, query, ec2, smithy-rpc-v2-cbor."""
    key = {"order_id": {"S": "fuzz-no-such-order"}}
    return [
        # json
        _signed("dynamodb", "ListTables", {}),
        _signed("dynamodb", "GetItem", {"TableName": WORLD_TABLE, "Key": key}),
        _signed("dynamodb", "Query", {"TableName": WORLD_TABLE, "KeyConditionExpression": "order_id = :o",
                                      "ExpressionAttributeValues": {":o": {"S": "x"}}}),
        _signed("dynamodb", "PutItem", {"TableName": WORLD_TABLE,
                                        "Item": {"order_id": {"S": "fuzz-item"}, "n": {"N": "1"},
                                                 "tags": {"L": [{"S": "a"}, {"M": {"b": {"BOOL": True}}}]}}}),
        _signed("sqs", "ListQueues", {}),
        _signed("cloudtrail", "LookupEvents", {"MaxResults": 5}),
        # rest-xml
        _signed("s3", "ListBuckets", {}),
        _signed("s3", "ListObjectsV2", {"Bucket": WORLD_BUCKET, "MaxKeys": 5, "Prefix": "invoices/"}),
        _signed("s3", "PutObject", {"Bucket": FUZZ_BUCKET, "Key": "fuzz/object.txt", "Body": b"fuzz body"}),
        _signed("s3", "GetObject", {"Bucket": FUZZ_BUCKET, "Key": "fuzz/object.txt"}),
        _signed("s3", "UploadPart", {"Bucket": FUZZ_BUCKET, "Key": "fuzz/part.bin", "UploadId": "no-such-upload",
                                     "PartNumber": 1, "Body": b"part"}),
        _signed("s3", "PutBucketLifecycleConfiguration", {
            "Bucket": FUZZ_BUCKET, "LifecycleConfiguration": {"Rules": [
                {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 3}}]}}),
        _signed("s3", "CreateBucket", {"Bucket": "fuzz-made-bucket"}),
        _signed("route53", "ListHostedZones", {}),
        _signed("route53", "GetHealthCheckStatus", {"HealthCheckId": "fuzz-no-such-check"}),
        # rest-json
        _signed("backup", "ListBackupVaults", {}),
        _signed("backup", "CreateBackupVault", {"BackupVaultName": "fuzz-vault"}),
        _signed("backup", "ListBackupJobs", {"ByState": "COMPLETED", "MaxResults": 5}),
        _signed("dlm", "GetLifecyclePolicies", {}),
        _signed("fis", "ListExperimentTemplates", {}),
        # query
        _signed("rds", "DescribeDBInstances", {"MaxRecords": 20}),
        _signed("rds", "DescribeEvents", {"SourceType": "db-instance", "Duration": 60}),
        _signed("sts", "GetCallerIdentity", {}),
        _signed("iam", "ListRoles", {"MaxItems": 5}),
        _signed("sns", "ListTopics", {}),
        _signed("cloudformation", "ListStacks", {}),
        _signed("cloudwatch", "ListMetrics", {"Namespace": "SecureCart"}, protocol="query"),
        # ec2
        _signed("ec2", "DescribeVolumes", {"Filters": [{"Name": "status", "Values": ["in-use"]}]}),
        _signed("ec2", "DescribeVolumeStatus", {}),
        # smithy-rpc-v2-cbor
        _signed("cloudwatch", "ListDashboards", {"DashboardNamePrefix": "fuzz"}, protocol="smithy-rpc-v2-cbor"),
    ]


# -- mutations -------------------------------------------------------------------------------------------

_JUNK = string.ascii_letters + string.digits + string.punctuation + " \t\x00\x7f\u00e9\u2603"


def _junk(rng: random.Random, size: int | None = None) -> str:
    return "".join(rng.choice(_JUNK) for _ in range(size if size is not None else rng.randint(0, 24)))


def _any_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, 1.5, -1e308, 10**30])
    if kind == 3:
        return _junk(rng)
    if kind == 4:
        return "\ud800" + _junk(rng, 3)
    if kind == 5 and depth < 3:
        return [_any_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == 6 and depth < 3:
        return {_junk(rng, 3): _any_json(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if kind == 7:
        return "x" * rng.choice([5000, 70_000])
    return rng.choice(["S", "N", "", "NaN", "2026-13-45T99:99:99Z"])


def _mutate_json(rng: random.Random, document: Any) -> Any:
    """`document` with one node replaced by a value of a random type."""
    if not isinstance(document, (dict, list)) or not document or rng.random() < 0.25:
        return _any_json(rng)
    if isinstance(document, dict):
        name = rng.choice(sorted(document))
        return {**document, name: _mutate_json(rng, document[name])}
    index = rng.randrange(len(document))
    return [*document[:index], _mutate_json(rng, document[index]), *document[index + 1:]]


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _with_header(request: WireRequest, name: str, value: str) -> WireRequest:
    headers = [(k, v) for k, v in request.headers if k.lower() != name.lower()]
    return replace(request, headers=(*headers, (name, value)))


def _header(request: WireRequest, name: str) -> str:
    return next((v for k, v in request.headers if k.lower() == name.lower()), "")


def mutate(request: WireRequest, rng: random.Random) -> WireRequest:
    """One random mutation of `request` (sometimes two)."""
    choice = rng.randrange(14)
    body = request.body
    if choice == 0 and body:  # flip bytes
        data = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        mutated = replace(request, body=bytes(data))
    elif choice == 1 and body:  # truncate
        mutated = replace(request, body=body[:rng.randrange(len(body))])
    elif choice == 2:  # junk in the body
        cut = rng.randint(0, len(body))
        mutated = replace(request, body=body[:cut] + _junk(rng).encode("utf-8", "surrogatepass") + body[cut:])
    elif choice == 3 and _json_or_none(body) is not None:  # a JSON node of another type
        document = _mutate_json(rng, _json_or_none(body))
        mutated = replace(request, body=json.dumps(document, ensure_ascii=True).encode())
    elif choice == 4 and request.protocol in ("query", "ec2"):  # a form parameter mangled, dropped or added
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True) or [("Action", "")]
        index = rng.randrange(len(pairs))
        action = rng.randrange(3)
        if action == 0:
            pairs[index] = (pairs[index][0], _junk(rng))
        elif action == 1:
            del pairs[index]
        else:
            pairs.append((rng.choice(["MaxRecords", "Filter.1.Name", "Marker", "VolumeId.1", _junk(rng, 6)]),
                          _junk(rng)))
        mutated = replace(request, body=urlencode(pairs).encode())
    elif choice == 5:  # the operation named differently
        target = _header(request, "X-Amz-Target")
        if target:
            prefix, _, operation = target.rpartition(".")
            mutated = _with_header(request, "X-Amz-Target", rng.choice(
                [f"Nonsense.{operation}", f"{prefix}.{_junk(rng, 8)}", operation, f"{prefix}.DescribeTable", ""]))
        elif request.protocol in ("query", "ec2"):
            mutated = replace(request, body=body.replace(b"Action=", b"Action=" + quote(_junk(rng, 3)).encode(), 1))
        else:
            mutated = replace(request, method=rng.choice(["GET", "POST", "PUT", "PATCH", "OPTIONS"]))
    elif choice == 6:  # the signing region
        auth = _header(request, "Authorization")
        mutated = _with_header(request, "Authorization", auth.replace("/us-east-1/", rng.choice(
            ["/mars-1/", "//", "/us-east-1/x/", f"/{_junk(rng, 5)}/"]), 1))
    elif choice == 7:  # Content-Type / Content-Encoding
        if rng.random() < 0.5:
            mutated = _with_header(request, "Content-Type", rng.choice(
                ["text/html", "application/x-amz-json-1.1", "application/cbor", _junk(rng), ""]))
        else:
            mutated = _with_header(request, "Content-Encoding", rng.choice(["gzip", "deflate", "br", _junk(rng)]))
    elif choice == 8:  # Content-Length that is not a number (the body is left out: nothing to wait for)
        mutated = replace(_with_header(request, "Content-Length", rng.choice(["abc", "-1", "1e3", " "])), body=b"")
    elif choice == 9:  # the path
        extra = rng.choice(["/" + quote(_junk(rng), safe=""), "/..", "/%zz", "//", "/" + "a" * rng.choice(
            [300, 70_000])])
        mutated = replace(request, path=request.path.rstrip("/") + extra)
    elif choice == 10:  # the query string
        mutated = replace(request, query="&".join(filter(None, [request.query, rng.choice(
            ["max-keys=abc", "max-keys=-5", "list-type=9", "continuation-token=bogus", "uploadId=x",
             "versionId=\x00", f"{_junk(rng, 4)}={_junk(rng)}", "fetch-owner=maybe", "partNumber=0"])])))
    elif choice == 11:  # a header botocore would never send, or a huge one
        mutated = _with_header(request, rng.choice(["If-Modified-Since", "x-amz-date", "Range", "X-Junk",
                                                    "x-amz-object-lock-retain-until-date"]),
                               rng.choice([_junk(rng), "a" * rng.choice([10, 70_000])]))
    elif choice == 12 and request.headers:  # a header dropped
        dropped = rng.choice(request.headers)
        mutated = replace(request, headers=tuple(h for h in request.headers if h != dropped))
    else:  # no body at all
        mutated = replace(request, body=b"")
    return mutate(mutated, rng) if rng.random() < 0.2 else mutated


# -- sending, and judging answers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: HeadersDict
    body: bytes


def send(host: str, port: int, request: WireRequest, timeout: float = 30.0) -> Answer:
    """Send the request byte for byte as it is (a raw socket: http.client refuses control characters in a URL)
    and read the answer."""
    target = (request.path or "/") + (f"?{request.query}" if request.query else "")
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    names = {name.lower() for name, _ in request.headers}
    lines.extend(f"{name}: {value}" for name, value in request.headers)
    if "content-length" not in names:
        lines.append(f"Content-Length: {len(request.body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(head + request.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading everything (a request line or headers too long)
        answer = http.client.HTTPResponse(sock, method=request.method)
        answer.begin()
        return Answer(answer.status, HeadersDict(answer.getheaders()), answer.read())


def problem_with(request: WireRequest, answer: Answer) -> str | None:
    """Why `answer` is not an AWS answer to client input (None: it is one)."""
    if answer.body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return f"{answer.status} with an HTML page"
    if answer.status >= 500 and not (answer.status == 501 and error_code(answer) == "NotImplemented"):
        return f"{answer.status} {error_code(answer) or ''}: {answer.body[:200]!r}"
    if answer.status >= 400:
        if request.method == "HEAD" or (answer.status in (304, 412) and not answer.body):
            return None  # no body to carry a code (S3 HEAD errors, conditional answers)
        if not error_code(answer):
            return f"{answer.status} without an AWS error code: {answer.body[:200]!r}"
    return None


def error_code(answer: Answer) -> str | None:
    content_type = answer.headers.get("Content-Type", "")
    body = answer.body
    if not body:
        return None
    try:
        if "cbor" in content_type:
            protocol = "smithy-rpc-v2-cbor"
        elif "json" in content_type:
            protocol = "json"
        else:
            root = ElementTree.fromstring(body)
            protocol = {"Response": "ec2", "ErrorResponse": "query"}.get(root.tag.rsplit("}", 1)[-1], "rest-xml")
        error = create_parser(protocol).parse({"status_code": answer.status, "headers": answer.headers,
                                               "body": body}, None).get("Error") or {}
    except Exception:  # noqa: BLE001 -- an answer no AWS parser reads is exactly what this reports
        return None
    code = str(error.get("Code") or "")
    return code if code and code != str(answer.status) else None
