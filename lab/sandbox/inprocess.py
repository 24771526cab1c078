"""Serve botocore requests from the gateway inside this process: no socket, same handler chain.

The world seeder and the engines use it to act through the AWS APIs, and the journal replay uses
`environ_for` to rebuild recorded requests.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from lab.kernel.context import ACTING_AS, ACTING_AS_KEY, INTERNAL_KEY

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ_for(method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes,
                internal: bool = True) -> dict[str, Any]:
    parts = urlsplit(url)
    raw_uri = parts.path or "/"
    if parts.query:
        raw_uri += "?" + parts.query
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        # WSGI carries the path as bytes-in-latin-1 (PEP 3333), exactly as a real server would.
        "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
        "RAW_URI": raw_uri,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "127.0.0.1",
        "SERVER_PORT": str(parts.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        INTERNAL_KEY: internal,
    }
    for name, value in headers:
        if isinstance(value, bytes):  # botocore keeps some header values as bytes
            value = value.decode("latin-1")
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ["HTTP_" + key] = value
    environ.setdefault("HTTP_HOST", parts.netloc)
    return environ


def call_app(app: WSGIApp, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = headers

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], body


class _Raw(io.BytesIO):
    """The body of an in-process answer, readable both ways botocore reads one: `stream()` for parsed
    answers, `read()` for streaming ones (GetObject's Body)."""

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self.getvalue()


def attach(client: Any, app: WSGIApp, acting_as: str | None = None, from_address: str | None = None) -> Any:
    """Make `client` send its requests to `app` in this process instead of over HTTP, made as `acting_as`
    (an AWS service principal, for CloudTrail), else as the engine the clock is playing (ACTING_AS); with
    `from_address`, as requests from outside the sandbox (not internal) from that client address."""

    def send_in_process(request: Any, **_: Any) -> AWSResponse:
        body = request.body
        if body is None:
            data = b""
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body.read()
        environ = environ_for(request.method, request.url, request.headers.items(), data,
                              internal=from_address is None)
        if from_address is not None:
            environ["REMOTE_ADDR"] = from_address
        else:
            principal = acting_as or ACTING_AS.get()
            if principal:
                environ[ACTING_AS_KEY] = principal
        status, headers, payload = call_app(app, environ)
        http_headers = HTTPHeaders()
        for name, value in headers:
            http_headers[name] = value
        return AWSResponse(request.url, status, http_headers, _Raw(payload))

    client.meta.events.register("before-send", send_in_process)
    return client
