"""What one request carries through the handler chain."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from werkzeug.datastructures import EnvironHeaders

from lab.gateway.identify import Identity

_FORM = "application/x-www-form-urlencoded"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: Iterable[bytes] | bytes = b""

    def body_bytes(self) -> bytes:
        if isinstance(self.body, (bytes, bytearray)):
            return bytes(self.body)
        self.body = b"".join(self.body)
        return self.body


@dataclass
class RequestContext:
    environ: dict[str, Any]
    method: str
    path: str  # as received, percent-encoding kept (PATH_INFO in the environ is the decoded one)
    query_string: str
    headers: EnvironHeaders
    identity: Identity | None = None
    response: Response | None = None
    # os.urandom, not uuid4: the sandbox routes uuid4 through moto's seeded generator.
    request_id: str = field(default_factory=lambda: str(uuid.UUID(bytes=os.urandom(16), version=4)))
    started: float = field(default_factory=time.perf_counter)
    replaying: bool = False  # set while the journal is played back at start-up
    mutating: bool = False  # decided by the journal handler; read by later handlers
    _body: bytes | None = None

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> RequestContext:
        return cls(
            environ=environ,
            method=environ["REQUEST_METHOD"].upper(),
            path=_raw_path(environ),
            query_string=environ.get("QUERY_STRING", ""),
            headers=EnvironHeaders(environ),
        )

    @property
    def body(self) -> bytes:
        """The request body, read once on first use (the URL backend streams it instead when nobody asked)."""
        if self._body is None:
            length = self.environ.get("CONTENT_LENGTH") or "0"
            stream = self.environ["wsgi.input"]
            if self.environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
                self._body = stream.read()
            else:
                self._body = stream.read(int(length)) if int(length) > 0 else b""
        return self._body

    @property
    def body_is_read(self) -> bool:
        return self._body is not None

    def form_body_if_small(self) -> bytes:
        """Body for identification: only form-encoded bodies carry the operation (query protocol)."""
        if self.headers.get("Content-Type", "").startswith(_FORM):
            return self.body
        return b""

    def query_params(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def respond(self, status: int, body: bytes | str = b"", content_type: str = "application/json",
                headers: list[tuple[str, str]] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.response = Response(status, [("Content-Type", content_type), *(headers or [])], data)


def _raw_path(environ: dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if path.startswith(("http://", "https://")):  # absolute-form request target
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        return path or "/"
    from urllib.parse import quote

    return quote(environ.get("PATH_INFO", "/") or "/", safe="/~!$&'()*+,;=:@")
