"""What one request carries through the handler chain."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from werkzeug.datastructures import EnvironHeaders

_FORM = "application/x-www-form-urlencoded"
#: environ keys of calls the sandbox makes to itself in-process (engines, the world seeder, the inventory)
INTERNAL_KEY = "lab.internal"
ACTING_AS_KEY = "lab.acting_as"  # the AWS service principal an engine's call is made as ("backup.amazonaws.com")
#: the AWS service principal of the engine at work in this thread (set by the clock's loop and the bus)
ACTING_AS: ContextVar[str | None] = ContextVar("lab_acting_as", default=None)
# Operations that only read, by botocore naming convention; everything else may change state.
_READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Test", "Search", "Scan", "Query", "BatchGet",
                  "Select", "Estimate", "Validate", "Check", "Preview")


@dataclass(frozen=True, slots=True)
class Identity:
    service: str | None  # botocore service name ("s3", "dynamodbstreams", "cloudwatch", ...)
    region: str  # from the SigV4 credential scope, else the default region
    operation: str | None  # botocore operation name ("PutObject", ...)
    protocol: str | None  # the protocol THIS request used
    signing_name: str | None  # from the credential scope; None for unsigned requests
    bucket: str | None = None  # S3 only
    key: str | None = None  # S3 only


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
    params: dict[str, Any] | None = None  # the call's input members, once the gateway's codec decoded them
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
    def internal(self) -> bool:
        """A call the sandbox made to itself in-process (not a learner's, not replayed from the journal)."""
        return bool(self.environ.get(INTERNAL_KEY))

    @property
    def acting_as(self) -> str | None:
        """The AWS service principal an in-process call is made as (None: the learner's own call)."""
        return self.environ.get(ACTING_AS_KEY)

    def is_mutating(self) -> bool:
        """Whether the call may change state: by operation name where it is known, else by HTTP method."""
        identity = self.identity
        if identity is not None and identity.operation:
            return not identity.operation.startswith(_READ_PREFIXES)
        return self.method not in ("GET", "HEAD", "OPTIONS")

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
