"""Every admin route that takes a body (POST /_lab/...) answers a body of any wrong kind -- not JSON, not an
object, nested 100,000 deep, members of the wrong type, names it does not know, numbers that are not finite --
with a 4xx that says what is wrong, never a failure of the sandbox (5xx); and the sandbox answers as before
afterwards. Reset and shutdown are left out: they take no body."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from lab.admin_client import AdminClient
from lab.sandbox.assembly import admin_router
from tests.conftest import SandboxHandle, quiet_sandbox

pytestmark = pytest.mark.integration

NAMES = ("lab", "action", "name", "duration", "region", "target", "bucket", "factor", "scenario", "params",
         "enabled", "orders_per_hour", "id", "kind", "value", "until", "span", "resource", "count")
BODIES = (b"{", b"[1]", b'"x"', b"\xff\xfe", json.dumps({"a": ["x"] * 3}).encode(),
          json.dumps(dict.fromkeys(NAMES, 5)).encode(), json.dumps({name: ["x"] for name in NAMES}).encode(),
          json.dumps({name: {"x": None} for name in NAMES}).encode(),
          json.dumps({"action": "advance-to", "until": 1e300}).encode(),
          json.dumps({"action": "advance-to", "until": "nan", "target": "inf"}).encode(),
          json.dumps({"action": "speed", "factor": "nan"}).encode(),
          json.dumps({"orders_per_hour": "nan", "enabled": "false"}).encode(),
          json.dumps({"name": "x" * 100_000}).encode(), b"[" * 100_000, b'{"a": ' * 50_000 + b"1" + b"}" * 50_000)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    with quiet_sandbox(tmp_path_factory.mktemp("bodies") / "state", lab_env) as handle:
        yield handle


def post(lab: SandboxHandle, path: str, body: bytes) -> tuple[int, bytes]:
    where = urlsplit(lab.endpoint)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    try:
        connection.request("POST", f"/_lab/{path}", body=body, headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_every_admin_post_answers_a_wrong_body_with_a_4xx(lab: SandboxHandle) -> None:
    admin = AdminClient(lab.endpoint)
    before = admin.get("clock")["epoch"]
    failures = []
    for route in sorted({(r.method, r.path) for r in admin_router()}):
        method, path = route
        if method != "POST" or path in ("reset", "shutdown"):
            continue
        for body in BODIES:
            status, answer = post(lab, path.replace("*", "x"), body)
            if status >= 500:
                failures.append((path, body[:60], answer[:200]))
    assert failures == []
    assert admin.get("clock")["epoch"] - before < 86400  # (no body moved time on by more than a day)
    assert admin.status(counts=True)["resources"]["us-east-1"]["s3_buckets"] >= 1


def test_the_workload_takes_its_two_settings_in_their_types(lab: SandboxHandle) -> None:
    """{"enabled": "false"} once enabled the workload (a non-empty string is true to Python); it, an unknown
    setting and a rate that is not a number are refused, naming what the route takes."""
    admin = AdminClient(lab.endpoint)
    before = admin.get("workload")
    for body, words in (({"enabled": "false"}, "enabled must be true or false"),
                        ({"orders_per_hour": ["60"]}, "orders_per_hour must be a number"),
                        ({"orders_per_hour": True}, "orders_per_hour must be a number"),
                        ({"rate": 60}, "takes enabled and orders_per_hour")):
        status, answer = post(lab, "workload", json.dumps(body).encode())
        assert status == 400 and words in json.loads(answer)["error"], (body, answer)
    assert admin.get("workload") == before
    changed = admin.post("workload", {"enabled": False, "orders_per_hour": 90})
    assert changed["enabled"] is False and changed["orders_per_hour"] == 90


def test_the_chaos_api_answers_a_body_nested_too_deep_with_a_400(lab: SandboxHandle) -> None:
    """LocalStack's chaos API (/_localstack/chaos/faults and /effects) as the lab serves it: a body nested
    100,000 deep once failed the sandbox (a RecursionError, 500)."""
    where = urlsplit(lab.endpoint)
    for method, path in (("POST", "faults"), ("PATCH", "faults"), ("DELETE", "faults"), ("POST", "effects")):
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
        try:
            connection.request(method, f"/_localstack/chaos/{path}", body=b"[" * 100_000,
                               headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            assert answer.status == 400 and b"Error parsing JSON" in answer.read(), (method, path)
        finally:
            connection.close()
