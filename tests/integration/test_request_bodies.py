"""Request bodies over raw sockets: read whole, within AWS's limits and a read timeout, before the sandbox's lock.

A hostile or broken client must not grow the sandbox's memory beyond the limits (a chunk size of
``ffffffffffff``), must not stall anyone else (headers sent, body withheld), and must not get a truncated
upload stored as complete. Every test is bounded in time and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SandboxHandle, free_port

BUCKET = "securecart-invoices-use1"
# The sandbox below refuses a body after this many silent seconds (LAB_READ_TIMEOUT_S): short enough for the
# suite, long enough that other calls answer well within it on a busy machine.
READ_TIMEOUT_S = 12


def s3_auth() -> str:
    return ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, "
            "Signature=0")


@pytest.fixture(scope="module")
def quick_sandbox(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    env = dict(lab_env, LAB_READ_TIMEOUT_S=str(READ_TIMEOUT_S))
    handle = SandboxHandle(tmp_path_factory.mktemp("bodies") / "state", free_port(), env)
    handle.up()
    yield handle
    handle.down()


def connect(sandbox: SandboxHandle, timeout: float = 30) -> socket.socket:
    return socket.create_connection(("127.0.0.1", sandbox.port), timeout=timeout)


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The HTTP answer on a raw socket (status, headers, body), read with http.client's parser."""
    response = http.client.HTTPResponse(sock, method="PUT")
    response.begin()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def object_size(sandbox: SandboxHandle, key: str) -> int | None:
    s3 = sandbox.client("s3")
    try:
        return s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"]
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def journal_bytes(sandbox: SandboxHandle) -> int:
    return sum(p.stat().st_size for p in (sandbox.state_dir / "state").rglob("journal*") if p.is_file())


def test_a_huge_chunk_size_is_refused_at_once_without_growing_memory(quick_sandbox: SandboxHandle) -> None:
    pid = quick_sandbox.pid()
    before = rss_bytes(pid)
    key = f"huge-chunk-{uuid.uuid4().hex[:8]}"
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("PUT", f"/{BUCKET}/{key}", {"Authorization": s3_auth(),
                                                      "Transfer-Encoding": "chunked"}))
        sock.sendall(b"ffffffffffff\r\n" + b"x" * 65536)
        status, headers, body = read_answer(sock)
    assert status == 400, body
    assert b"<Code>EntityTooLarge</Code>" in body
    assert headers.get("connection") == "close"
    assert rss_bytes(pid) - before < 64 * 1024 * 1024  # nothing near the declared 256 TiB was allocated
    assert object_size(quick_sandbox, key) is None


def test_a_chunked_body_cut_short_is_refused_and_not_stored(quick_sandbox: SandboxHandle) -> None:
    key = f"cut-chunked-{uuid.uuid4().hex[:8]}"
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("PUT", f"/{BUCKET}/{key}", {"Authorization": s3_auth(), "Transfer-Encoding": "chunked"}))
        sock.sendall(b"100\r\n" + b"y" * 10)
        sock.shutdown(socket.SHUT_WR)  # the client dies mid-chunk
        status, _, body = read_answer(sock)
    assert status == 400 and b"<Code>IncompleteBody</Code>" in body, body
    assert object_size(quick_sandbox, key) is None


def test_a_badly_framed_chunked_body_is_refused(quick_sandbox: SandboxHandle) -> None:
    key = f"bad-chunked-{uuid.uuid4().hex[:8]}"
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("PUT", f"/{BUCKET}/{key}", {"Authorization": s3_auth(), "Transfer-Encoding": "chunked"}))
        sock.sendall(b"zz\r\nabc\r\n0\r\n\r\n")
        status, _, body = read_answer(sock)
    assert status == 400 and b"<Code>IncompleteBody</Code>" in body, body
    assert object_size(quick_sandbox, key) is None


def test_a_well_formed_chunked_upload_is_stored_whole(quick_sandbox: SandboxHandle) -> None:
    key = f"chunked-{uuid.uuid4().hex[:8]}"
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("PUT", f"/{BUCKET}/{key}", {"Authorization": s3_auth(), "Transfer-Encoding": "chunked"}))
        sock.sendall(b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n")
        status, _, body = read_answer(sock)
    assert status == 200, body
    got = quick_sandbox.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert got == b"hello world"


def test_a_declared_length_beyond_s3s_limit_is_refused_before_reading(quick_sandbox: SandboxHandle) -> None:
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("PUT", f"/{BUCKET}/too-large", {"Authorization": s3_auth(),
                                                          "Content-Length": str(5 * 1024**3 + 1)}))
        status, _, body = read_answer(sock)
    assert status == 400 and b"<Code>EntityTooLarge</Code>" in body, body


def test_a_json_api_body_beyond_its_limit_is_refused_in_json(quick_sandbox: SandboxHandle) -> None:
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("POST", "/", {
            "Authorization": s3_auth().replace("/s3/", "/dynamodb/"), "X-Amz-Target": "DynamoDB_20120810.PutItem",
            "Content-Type": "application/x-amz-json-1.0", "Content-Length": str(17 * 1024**2)}))
        status, headers, body = read_answer(sock)
    assert status == 413, body
    assert headers.get("x-amzn-errortype") == "RequestEntityTooLarge"


@pytest.mark.parametrize(("declared", "sent"), [(100, 3), (5_000_000, 655_360)])
def test_a_body_shorter_than_its_content_length_is_refused_and_not_stored(quick_sandbox: SandboxHandle,
                                                                         declared: int, sent: int) -> None:
    key = f"short-{declared}-{uuid.uuid4().hex[:8]}"
    journal_before = journal_bytes(quick_sandbox)
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("PUT", f"/{BUCKET}/{key}", {"Authorization": s3_auth(), "Content-Length": str(declared)}))
        sock.sendall(b"z" * sent)
        sock.shutdown(socket.SHUT_WR)  # the client dies before the rest
        status, _, body = read_answer(sock)
    assert status == 400 and b"<Code>IncompleteBody</Code>" in body, body
    assert object_size(quick_sandbox, key) is None
    assert journal_bytes(quick_sandbox) == journal_before  # nothing journaled either


def test_a_stalled_upload_blocks_no_other_call_and_times_out(quick_sandbox: SandboxHandle) -> None:
    key = f"stalled-{uuid.uuid4().hex[:8]}"
    answers: dict[str, object] = {}
    s3, dynamodb = quick_sandbox.client("s3"), quick_sandbox.client("dynamodb")  # (made before: slow when busy)
    with connect(quick_sandbox, timeout=READ_TIMEOUT_S * 3) as stalled:
        stalled.sendall(head("PUT", f"/{BUCKET}/{key}", {"Authorization": s3_auth(), "Content-Length": "1000"}))
        stalled.sendall(b"partial")
        time.sleep(0.3)  # the sandbox is now waiting for the other 993 bytes

        def others() -> None:
            # Read the admin API, S3 and DynamoDB while the upload is stalled; each would wait for it if the
            # body were read under the lock.
            connection = http.client.HTTPConnection("127.0.0.1", quick_sandbox.port, timeout=READ_TIMEOUT_S * 0.9)
            connection.request("GET", "/_lab/status")
            answers["status"] = connection.getresponse().status
            connection.close()
            answers["s3"] = len(s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1)["Contents"])
            answers["dynamodb"] = len(dynamodb.list_tables()["TableNames"])

        # (bounded below the read timeout: answered while the upload is still stalled, or not at all)
        worker = threading.Thread(target=others, daemon=True)
        worker.start()
        worker.join(READ_TIMEOUT_S * 0.9)
        assert answers.get("status") == 200, answers
        assert answers.get("s3") == 1 and answers.get("dynamodb"), answers
        status, headers, body = read_answer(stalled)  # and the stalled upload is refused after the timeout
    assert status == 400 and b"<Code>RequestTimeout</Code>" in body, body
    assert headers.get("connection") == "close"
    assert object_size(quick_sandbox, key) is None


def test_a_form_encoded_put_stores_its_bytes(quick_sandbox: SandboxHandle) -> None:
    # curl --data-binary @file -X PUT with no Content-Type sends application/x-www-form-urlencoded.
    key = f"form-{uuid.uuid4().hex[:8]}"
    payload = b"a=1&b=2 raw bytes \x00\xff"
    connection = http.client.HTTPConnection("127.0.0.1", quick_sandbox.port, timeout=20)
    connection.request("PUT", f"/{BUCKET}/{key}", body=payload, headers={
        "Authorization": s3_auth(), "Content-Type": "application/x-www-form-urlencoded"})
    answer = connection.getresponse()
    assert answer.status == 200, answer.read()
    connection.close()
    got = quick_sandbox.client("s3").get_object(Bucket=BUCKET, Key=key)
    assert got["Body"].read() == payload
    assert got["ContentType"] == "application/x-www-form-urlencoded"


def test_an_admin_body_cut_short_is_refused(quick_sandbox: SandboxHandle) -> None:
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("POST", "/_lab/clock", {"Content-Type": "application/json", "Content-Length": "50"}))
        sock.sendall(b'{"advance": ')
        sock.shutdown(socket.SHUT_WR)
        status, _, body = read_answer(sock)
    assert status == 400 and b"Content-Length" in body, body


def test_a_transfer_coding_other_than_chunked_is_refused(quick_sandbox: SandboxHandle) -> None:
    key = f"gzip-chunked-{uuid.uuid4().hex[:8]}"
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("PUT", f"/{BUCKET}/{key}", {"Authorization": s3_auth(),
                                                      "Transfer-Encoding": "gzip, chunked"}))
        sock.sendall(b"5\r\nhello\r\n0\r\n\r\n")
        status, _, body = read_answer(sock)
    assert status == 501 and b"<Code>NotImplemented</Code>" in body, body
    assert object_size(quick_sandbox, key) is None


def test_chunked_requests_keep_the_connection_usable(quick_sandbox: SandboxHandle) -> None:
    # Two chunked uploads and a read on one keep-alive connection: each body is read exactly to its end.
    connection = http.client.HTTPConnection("127.0.0.1", quick_sandbox.port, timeout=20)
    keys = [f"keepalive-{n}-{uuid.uuid4().hex[:6]}" for n in range(2)]
    try:
        for number, key in enumerate(keys):
            connection.request("PUT", f"/{BUCKET}/{key}", body=iter([b"part-%d-" % number, b"end"]),
                               headers={"Authorization": s3_auth()}, encode_chunked=True)
            answer = connection.getresponse()
            assert answer.status == 200, answer.read()
            answer.read()
        connection.request("GET", f"/{BUCKET}/{keys[1]}", headers={"Authorization": s3_auth()})
        answer = connection.getresponse()
        assert answer.status == 200 and answer.read() == b"part-1-end"
    finally:
        connection.close()


def test_a_content_length_of_non_ascii_digits_is_refused_not_a_crash(quick_sandbox: SandboxHandle) -> None:
    with connect(quick_sandbox, timeout=20) as sock:
        sock.sendall(head("PUT", f"/{BUCKET}/superscript", {"Authorization": s3_auth()})[:-2]
                     + "Content-Length: \u00b2\r\n\r\n".encode("latin-1"))
        status, _, body = read_answer(sock)
    assert status == 400 and b"<Code>InvalidArgument</Code>" in body, body
