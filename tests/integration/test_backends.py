"""The forwarding path (a real second emulator on loopback), header fidelity, and the refusals."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import yaml

from tests.conftest import ROOT, SandboxHandle, free_port, run_lab, wait_for


@pytest.fixture
def moto_server(lab_env):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               env=lab_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib3

    def answers():
        try:
            return urllib3.PoolManager().request("GET", f"http://127.0.0.1:{port}/moto-api/", timeout=1).status < 500
        except urllib3.exceptions.HTTPError:
            return False

    wait_for(answers, timeout=30)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


def test_forward_to_standalone_moto(moto_server, tmp_path, lab_env):
    handle = SandboxHandle(tmp_path / "state", free_port(), lab_env)
    try:
        handle.up("--backend", moto_server)
        status = handle.status()
        assert status["backend"] == f"endpoint {moto_server}"
        assert status["persistent"] is False
        # The world was seeded through the gateway into the other emulator...
        from lab.awsclient import client

        direct = client("s3", "us-east-1", moto_server)
        assert "securecart-invoices-use1" in {b["Name"] for b in direct.list_buckets()["Buckets"]}
        # ...and learner calls in both regions go through it.
        west = handle.client("dynamodb", "us-west-2")
        west.create_table(TableName="fwd", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
        assert "fwd" in client("dynamodb", "us-west-2", moto_server).list_tables()["TableNames"]
        big = bytes(range(256)) * 8192  # 2 MiB, streamed both ways
        s3 = handle.client("s3")
        s3.put_object(Bucket="securecart-logs", Key="big.bin", Body=big)
        assert hashlib.sha256(s3.get_object(Bucket="securecart-logs", Key="big.bin")["Body"].read()).digest() == \
            hashlib.sha256(big).digest()
    finally:
        handle.down()


def test_forwarded_writes_reach_the_engines(moto_server, tmp_path, lab_env):
    """A write forwarded to another emulator is still seen by the engines that act on its body: here the
    global-table replication of DynamoDB items (the body was once streamed upstream and gone by then)."""
    handle = SandboxHandle(tmp_path / "state", free_port(), lab_env)
    try:
        handle.up("--backend", moto_server, "--no-world")
        east = handle.client("dynamodb", "us-east-1")
        east.create_table(TableName="fwd-global", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST",
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        east.update_table(TableName="fwd-global", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
        east.put_item(TableName="fwd-global", Item={"k": {"S": "written-in-east"}})
        handle.lab("clock", "advance", "6m")  # the new replica is CREATING for dynamodb.replica.base (5 minutes)
        west = handle.client("dynamodb", "us-west-2")
        assert west.get_item(TableName="fwd-global", Key={"k": {"S": "written-in-east"}}).get("Item") == \
            {"k": {"S": "written-in-east"}}
        assert "failed observing" not in (handle.state_dir / "sandbox.log").read_text()
    finally:
        handle.down()


class CaptureHandler(BaseHTTPRequestHandler):
    captured: ClassVar[list[dict]] = []

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        CaptureHandler.captured.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
        self.send_response(200)
        self.send_header("ETag", '"abc"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        payload = b"<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        return None


def test_forwarding_keeps_headers_signature_and_body(tmp_path, lab_env):
    server = ThreadingHTTPServer(("127.0.0.1", 0), CaptureHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_address[1]}"
    handle = SandboxHandle(tmp_path / "state", free_port(), lab_env)
    try:
        handle.up("--backend", upstream, "--no-world")
        body = b"signed payload " * 1000
        sent = {}
        s3 = handle.client("s3")
        s3.meta.events.register("before-send", lambda request, **_: sent.update(headers={
            k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))
        s3.put_object(Bucket="any", Key="k/with space", Body=body)
        got = CaptureHandler.captured[-1]
        assert got["body"] == body
        assert got["path"] == "/any/k/with%20space"
        assert got["headers"]["Authorization"] == sent["headers"]["Authorization"]
        assert got["headers"]["X-Amz-Date"] == sent["headers"]["X-Amz-Date"]
        assert got["headers"]["Host"] == f"127.0.0.1:{handle.port}"
    finally:
        handle.down()
        server.shutdown()


def test_non_loopback_backend_is_refused(tmp_path, lab_env, violations_file):
    result = run_lab(["up", "--backend", "http://203.0.113.10:4566", "--port", str(free_port()),
                      "--state-dir", str(tmp_path / "s")], lab_env, check=False)
    assert result.returncode == 2
    assert "203.0.113.10" in result.stderr and "--allow-remote" in result.stderr
    assert violations_file.read_text() == ""


def test_localstack_in_docker_without_token_or_engine_says_which(tmp_path, lab_env):
    env = dict(lab_env)
    env["LAB_LOCALSTACK_MODE"] = "docker"  # (auto would run LocalStack in host mode instead)
    env.pop("LOCALSTACK_AUTH_TOKEN", None)
    no_token = run_lab(["up", "--backend", "localstack", "--port", str(free_port()),
                        "--state-dir", str(tmp_path / "a")], env, check=False)
    assert no_token.returncode == 2 and "LOCALSTACK_AUTH_TOKEN" in no_token.stderr
    env["LOCALSTACK_AUTH_TOKEN"] = "ls-test-token"
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    no_engine = run_lab(["up", "--backend", "localstack", "--port", str(free_port()),
                         "--state-dir", str(tmp_path / "b")], env, check=False)
    assert no_engine.returncode == 2 and "Docker engine" in no_engine.stderr


def _docker_engine_and_token() -> str | None:
    import os

    if not os.environ.get("LOCALSTACK_AUTH_TOKEN"):
        return "needs LOCALSTACK_AUTH_TOKEN (the LocalStack image refuses to start without one)"
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as exc:  # noqa: BLE001 -- any failure means no engine to test against
        return f"needs a running Docker engine ({type(exc).__name__}); this machine has the docker client only"
    return None


@pytest.mark.skipif(_docker_engine_and_token() is not None, reason=str(_docker_engine_and_token()))
def test_localstack_container_round_trip(tmp_path, lab_env):
    handle = SandboxHandle(tmp_path / "state", free_port(), lab_env)
    try:
        handle.up("--backend", "localstack")
        assert handle.status()["backend"] == "localstack"
        s3 = handle.client("s3", "us-west-2")
        s3.create_bucket(Bucket="through-localstack", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        s3.put_object(Bucket="through-localstack", Key="k", Body=b"v")
        assert s3.get_object(Bucket="through-localstack", Key="k")["Body"].read() == b"v"
    finally:
        handle.down()


def test_docker_compose_defines_localstack_and_the_lab():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    localstack = compose["services"]["localstack"]
    assert "LOCALSTACK_AUTH_TOKEN" in json.dumps(localstack["environment"])
    assert any(str(p).startswith("127.0.0.1:") for p in localstack["ports"])
    lab = compose["services"]["lab"]
    assert any(str(p).startswith("127.0.0.1:4566") for p in lab["ports"])
    assert (ROOT / lab["build"]["dockerfile"] if isinstance(lab["build"], dict) else ROOT / "Dockerfile").exists()
