"""What the `lab` command says when the sandbox does not answer: stopped, or running but busy."""

from __future__ import annotations

import socket
import threading

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
