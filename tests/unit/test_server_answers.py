"""The sandbox's HTTP server: a stopping process waits for the answers it is still writing.

`lab down` once printed "its state is in <dir>" instead of how the state was saved (or that the final snapshot
failed on a full disk): the sandbox answered the shutdown request, and its main thread ended the process while
the handler thread was still writing that answer. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator

from lab.sandbox.server import Answering, make_server


def test_wait_idle_returns_once_the_answer_being_written_is_whole():
    answering = Answering()
    began = threading.Event()

    def slow_answer(environ: dict, start_response) -> Iterator[bytes]:
        start_response("202 Accepted", [("Content-Type", "application/json"), ("Content-Length", "16")])
        began.set()
        time.sleep(0.3)  # the main thread is told to stop here, before the body is written
        yield b'{"saved": "yes"}'

    server = make_server("127.0.0.1", 0, slow_answer, answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    received: list[bytes] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.request("POST", "/_lab/shutdown")
        received.append(connection.getresponse().read())
        connection.close()

    asking = threading.Thread(target=client)
    asking.start()
    assert began.wait(10)
    assert not answering.wait_idle(0.01)  # the answer is being written
    assert answering.wait_idle(5)  # ...and now it is whole: the process may end
    server.shutdown()
    server.server_close()
    asking.join(10)
    assert received == [b'{"saved": "yes"}']


def test_wait_idle_is_bounded_when_an_answer_never_ends():
    answering = Answering()
    with answering:
        began = time.monotonic()
        assert answering.wait_idle(0.2) is False
        assert 0.15 <= time.monotonic() - began < 2
    assert answering.wait_idle(0) is True
