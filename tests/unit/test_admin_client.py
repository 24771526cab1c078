"""What the `lab` command says when the sandbox does not answer: stopped, or running but busy."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from lab.admin_client import AdminClient
from lab.errors import LabError, SandboxNotRunningError


def test_a_busy_sandbox_is_not_called_stopped():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    port = listener.getsockname()[1]
    try:
        with pytest.raises(LabError, match=r"took longer than 0.3 s to answer GET /_lab/status.*busy") as caught:
            AdminClient(f"http://127.0.0.1:{port}")._call("GET", "/_lab/status", timeout=0.3)
        assert not isinstance(caught.value, SandboxNotRunningError)
    finally:
        for connection in accepted:
            connection.close()
        listener.close()


def test_a_stopped_sandbox_says_so():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(SandboxNotRunningError):
        AdminClient(f"http://127.0.0.1:{port}")._call("GET", "/_lab/status", timeout=1)


# -- what is sent, and answers that are not whole HTTP --------------------------------------------------

def serve_once(answer: bytes, *, close: bool = True) -> tuple[int, list[bytes]]:
    """A listener that reads one request, writes `answer` and closes the connection (or keeps it open 10 s)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    requests: list[bytes] = []

    def answer_one() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(5)
            received = b""
            while b"\r\n\r\n" not in received:
                received += connection.recv(4096)
            head, _, body = received.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += connection.recv(4096)
            requests.append(head + b"\r\n\r\n" + body)
            connection.sendall(answer)
            if not close:
                threading.Event().wait(10)
        listener.close()

    threading.Thread(target=answer_one, daemon=True).start()
    return listener.getsockname()[1], requests


def test_the_request_is_plain_http_and_the_answer_is_read_to_its_end():
    port, requests = serve_once(b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"action": "advance"}')
    assert AdminClient(f"http://127.0.0.1:{port}").post("clock", {"action": "advance"}) == {"action": "advance"}
    head, _, body = requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /_lab/clock HTTP/1.1"
    assert f"Host: 127.0.0.1:{port}".encode() in lines and b"Content-Length: 21" in lines
    assert body == b'{"action": "advance"}'


def test_an_answer_with_its_length_is_not_waited_on_past_its_end():
    port, _ = serve_once(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"a": true}', close=False)
    started = time.monotonic()
    assert AdminClient(f"http://127.0.0.1:{port}")._call("GET", "/_lab/status", timeout=5) == {"a": True}
    assert time.monotonic() - started < 4  # (the server keeps the connection open for 10 s)


@pytest.mark.parametrize("answer", [b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"cut\":",
                                    b"SSH-2.0-OpenSSH_9.6\r\n", b"",
                                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{}\r\n",
                                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"])
def test_an_answer_that_is_not_whole_http_is_no_sandbox(answer: bytes):
    port, _ = serve_once(answer)
    with pytest.raises(SandboxNotRunningError):
        AdminClient(f"http://127.0.0.1:{port}")._call("GET", "/_lab/status", timeout=5)


def test_a_chunked_answer_is_put_together():
    port, _ = serve_once(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{"a":\r\nA\r\n [1, 2, 3]\r\n'
                         b"1\r\n}\r\n0\r\nTrailer: x\r\n\r\n")
    assert AdminClient(f"http://127.0.0.1:{port}")._call("GET", "/_lab/status", timeout=5) == {"a": [1, 2, 3]}


def test_an_error_answer_carries_the_sandboxs_message():
    port, _ = serve_once(b'HTTP/1.0 404 NOT FOUND\r\nContent-Type: application/json\r\n\r\n{"error": "no drill d-9"}')
    with pytest.raises(LabError, match=r"POST /_lab/drills/d-9/end: no drill d-9"):
        AdminClient(f"http://127.0.0.1:{port}").post("drills/d-9/end")


@pytest.mark.parametrize("name", ["d-1 HTTP/1.0\r\nX-Injected: 1", "d 1", "d-\u00e9"])
def test_a_path_that_cannot_stand_in_a_request_line_is_refused_unsent(name: str):
    port, requests = serve_once(b"HTTP/1.0 200 OK\r\n\r\n{}")
    with pytest.raises(LabError, match="cannot ask the sandbox for") as caught:
        AdminClient(f"http://127.0.0.1:{port}").post(f"drills/{name}/end")
    assert not isinstance(caught.value, SandboxNotRunningError) and requests == []


def test_a_werkzeug_server_streaming_without_a_length():
    """The sandbox's own HTTP server (werkzeug): an answer of unknown length ends with the connection."""
    from werkzeug.serving import make_server

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return iter([b'{"parts": [', b"1, 2", b"]}"])

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert AdminClient(f"http://127.0.0.1:{server.port}").get("inventory") == {"parts": [1, 2]}
        assert AdminClient(f"http://127.0.0.1:{server.port}").get_bytes("inventory") == b'{"parts": [1, 2]}'
    finally:
        server.shutdown()
