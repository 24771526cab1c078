"""`lab serve` answers only its own page: a foreign Host (DNS rebinding) and a WebSocket from another page's
origin are refused before any TUI session starts. (That its own page still connects is what
tests/tui/test_serve_browser.py shows in Chromium.)"""

from __future__ import annotations

import base64
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.integration


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def web_port(tmp_path: Path, lab_env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "lab", "serve", "--port", str(port), "--state-dir", str(tmp_path / "state"),
             "--sandbox-port", str(free_port())],
            env=lab_env, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not port_open(port) and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert port_open(port), f"lab serve did not listen:\n{log_path.read_text()}"
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.putrequest("GET", path, skip_host="Host" in headers)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.read() if answer.status != 101 else b""
    finally:
        connection.close()


def websocket_headers(origin: str) -> dict[str, str]:
    return {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(), "Origin": origin}


def test_a_websocket_from_another_origin_is_refused(web_port: int) -> None:
    status, body = get(web_port, "/ws?width=80&height=24", websocket_headers("http://evil.example"))
    assert status == 403 and b"another page" in body
    status, body = get(web_port, "/ws", websocket_headers(f"http://127.0.0.1:{web_port + 1}"))
    assert status == 403  # another port on this machine is another origin too


def test_a_dns_rebinding_host_is_refused(web_port: int) -> None:
    status, body = get(web_port, "/", {"Host": f"rebind.evil.example:{web_port}"})
    assert status == 403 and b"loopback host names" in body
    status, body = get(web_port, "/", {"Host": f"localhost:{web_port}"})
    assert status == 200 and b"<html" in body.lower()
