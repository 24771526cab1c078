"""No web page drives the sandbox: loopback Host names only, no cross-origin admin call, S3 CORS as AWS answers it.

Requests are sent raw (http.client) with the headers a browser would send for a hostile page: a foreign
Origin, a text/plain "simple" POST, a DNS-rebinding Host. Loopback only, each bounded in time.
"""

from __future__ import annotations

import http.client
import json
import uuid

import pytest

from tests.conftest import SandboxHandle

WORLD_BUCKET = "securecart-invoices-use1"
EVIL = "http://evil.example"
APP = "http://app.example"


def auth(service: str) -> str:
    return (f"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, "
            "Signature=0")


def send(sandbox: SandboxHandle, method: str, path: str, headers: dict[str, str] | None = None,
         body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host="Host" in (headers or {}), skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize(("path", "body"), [("/_lab/reset", b"{}"), ("/_lab/fail", b'{"scenario": "region-outage"}'),
                                            ("/_lab/clock", b'{"advance": "1h"}')])
def test_a_foreign_page_cannot_post_to_the_admin_api(sandbox: SandboxHandle, path: str, body: bytes) -> None:
    status, _, answer = send(sandbox, "POST", path, {"Origin": EVIL, "Content-Type": "text/plain"}, body)
    assert status == 403, answer
    assert "web page" in json.loads(answer)["error"]


def test_another_site_cannot_read_the_admin_api_without_an_origin(sandbox: SandboxHandle) -> None:
    status, _, answer = send(sandbox, "GET", "/_lab/status", {"Sec-Fetch-Site": "cross-site"})
    assert status == 403 and b"another site" in answer


def test_the_sandboxs_own_origin_and_no_origin_are_served(sandbox: SandboxHandle) -> None:
    assert send(sandbox, "GET", "/_lab/status", {"Origin": f"http://127.0.0.1:{sandbox.port}"})[0] == 200
    assert send(sandbox, "GET", "/_lab/status", {"Origin": f"http://localhost:{sandbox.port}",
                                                 "Host": f"localhost:{sandbox.port}"})[0] == 200
    assert send(sandbox, "GET", "/_lab/status")[0] == 200


@pytest.mark.parametrize(("method", "path"), [("POST", "/_lab/sql"), ("GET", "/_lab/status"), ("GET", "/")])
def test_a_dns_rebinding_host_is_refused(sandbox: SandboxHandle, method: str, path: str) -> None:
    headers = {"Host": f"rebind.evil.example:{sandbox.port}", "Content-Type": "application/json"}
    if path == "/":
        headers["Authorization"] = auth("s3")
    status, _, answer = send(sandbox, method, path, headers, b'{"sql": "select 1"}' if method == "POST" else b"")
    assert status == 403, answer
    assert b"loopback host names" in answer


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]",
                                  f"{WORLD_BUCKET}.localhost", f"{WORLD_BUCKET}.s3.localhost.localstack.cloud"])
def test_loopback_host_names_are_served(sandbox: SandboxHandle, host: str) -> None:
    path = "/?max-keys=1" if host.startswith(WORLD_BUCKET) else f"/{WORLD_BUCKET}?max-keys=1"
    status, _, answer = send(sandbox, "GET", path, {"Host": f"{host}:{sandbox.port}", "Authorization": auth("s3")})
    assert status == 200, answer
    assert b"<ListBucketResult" in answer


def test_s3_without_a_cors_configuration_reflects_no_origin(sandbox: SandboxHandle) -> None:
    status, headers, _ = send(sandbox, "GET", f"/{WORLD_BUCKET}?max-keys=1", {"Origin": EVIL})
    assert status == 200
    assert not [name for name in headers if name.startswith("access-control-")], headers
    status, headers, answer = send(sandbox, "OPTIONS", f"/{WORLD_BUCKET}/x", {
        "Origin": EVIL, "Access-Control-Request-Method": "GET"})
    assert status == 403 and b"<Code>AccessForbidden</Code>" in answer
    assert "access-control-allow-origin" not in headers


def test_other_services_take_no_call_from_a_foreign_page(sandbox: SandboxHandle) -> None:
    headers = {"Authorization": auth("dynamodb"), "X-Amz-Target": "DynamoDB_20120810.ListTables",
               "Content-Type": "application/x-amz-json-1.0"}
    status, answered, answer = send(sandbox, "POST", "/", {**headers, "Origin": EVIL}, b"{}")
    assert status == 403 and answered.get("x-amzn-errortype") == "AccessDenied", answer
    assert "access-control-allow-origin" not in answered
    status, answered, _ = send(sandbox, "POST", "/", headers, b"{}")
    assert status == 200 and "access-control-allow-origin" not in answered


@pytest.fixture(scope="module")
def cors_bucket(sandbox: SandboxHandle) -> str:
    name = f"cors-{uuid.uuid4().hex[:10]}"
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": [APP], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["content-type", "x-amz-*"],
         "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300},
        {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
    ]})
    s3.put_object(Bucket=name, Key="page.txt", Body=b"hello")
    return name


def test_s3_preflight_is_answered_by_the_first_matching_rule(sandbox: SandboxHandle, cors_bucket: str) -> None:
    status, headers, answer = send(sandbox, "OPTIONS", f"/{cors_bucket}/new.txt", {
        "Origin": APP, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type,x-amz-meta-a"})
    assert status == 200, answer
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-methods"] == "GET, PUT"
    assert headers["access-control-allow-headers"] == "content-type,x-amz-meta-a"
    assert headers["access-control-max-age"] == "300"
    assert headers["access-control-expose-headers"] == "ETag"
    status, headers, _ = send(sandbox, "OPTIONS", f"/{cors_bucket}/page.txt", {
        "Origin": EVIL, "Access-Control-Request-Method": "HEAD"})
    assert status == 200 and headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(("origin", "method", "request_headers"), [
    (EVIL, "PUT", ""), (APP, "DELETE", ""), (APP, "PUT", "authorization-extra")])
def test_s3_preflight_not_allowed_by_any_rule_is_refused(sandbox: SandboxHandle, cors_bucket: str, origin: str,
                                                         method: str, request_headers: str) -> None:
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers:
        headers["Access-Control-Request-Headers"] = request_headers
    status, answered, answer = send(sandbox, "OPTIONS", f"/{cors_bucket}/page.txt", headers)
    assert status == 403 and b"<Code>AccessForbidden</Code>" in answer
    assert "access-control-allow-origin" not in answered


def test_s3_actual_requests_get_cors_headers_only_as_a_rule_allows(sandbox: SandboxHandle, cors_bucket: str) -> None:
    signed = {"Authorization": auth("s3")}
    status, headers, body = send(sandbox, "GET", f"/{cors_bucket}/page.txt", {"Origin": APP, **signed})
    assert status == 200 and body == b"hello", body
    assert headers["access-control-allow-origin"] == APP and headers["access-control-expose-headers"] == "ETag"
    status, headers, body = send(sandbox, "GET", f"/{cors_bucket}/page.txt", {"Origin": EVIL,
                                                                           "Authorization": auth("s3")})
    assert status == 200 and "access-control-allow-origin" not in headers
    status, _, answer = send(sandbox, "PUT", f"/{cors_bucket}/dropped.txt",
                             {"Origin": EVIL, "Content-Type": "text/plain", "Authorization": auth("s3")},
                             b"from a page")
    assert status == 403 and b"<Code>AccessForbidden</Code>" in answer
    s3 = sandbox.client("s3")
    assert s3.list_objects_v2(Bucket=cors_bucket, Prefix="dropped")["KeyCount"] == 0
    status, headers, _ = send(sandbox, "PUT", f"/{cors_bucket}/allowed.txt",
                              {"Origin": APP, "Content-Type": "text/plain", "Authorization": auth("s3")},
                              b"from the app")
    assert status == 200 and headers["access-control-allow-origin"] == APP
