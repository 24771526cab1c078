"""Forward every call to an AWS-compatible endpoint over HTTP, untouched: method, path, query,
headers (Host and Authorization included, so signatures stay valid) and body, streamed both ways."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import urllib3

from lab.errors import LabError
from lab.gateway.codec.errors import aws_error
from lab.kernel.context import RequestContext, Response
from lab.safety import check_endpoint

# Hop-by-hop headers (RFC 9110 7.6.1) are the only ones not passed on.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "transfer-encoding"}
_CHUNK = 64 * 1024
# Bodies larger than this (S3 uploads) go upstream as they arrive, unread by the lab; no engine needs them.
_STREAM_ABOVE = 1024 * 1024


class RemoteBackend:
    persistent = False

    def __init__(self, url: str, allow_remote: bool = False, name: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LabError(f"backend {url!r} is neither 'embedded', 'localstack' nor an http(s) endpoint URL")
        self.url = check_endpoint(url.rstrip("/"), allow_remote=allow_remote)
        self.name = name or f"endpoint {self.url}"
        self._pool = urllib3.PoolManager(maxsize=16, retries=False, timeout=urllib3.Timeout(connect=5, read=300))

    def start(self) -> None:
        try:
            self._pool.request("GET", self.url + "/", timeout=5, preload_content=True)
        except urllib3.exceptions.HTTPError as exc:
            raise LabError(f"the backend endpoint {self.url} does not answer: {exc}") from exc

    def stop(self) -> None:
        self._pool.clear()

    def dispatch(self, ctx: RequestContext) -> None:
        target = self.url + ctx.path + (f"?{ctx.query_string}" if ctx.query_string else "")
        headers = {k: v for k, v in ctx.headers.items() if k.lower() not in _HOP_BY_HOP}
        body: Any
        length = int(ctx.environ.get("CONTENT_LENGTH") or 0)
        if ctx.body_is_read or length <= _STREAM_ABOVE:
            # Read: engines may look at the request after the backend answered (a PutItem's item, a
            # replication rule), and a body streamed upstream would be gone by then.
            body = ctx.body or None
        else:
            body = _LimitedStream(ctx.environ["wsgi.input"], length)
        try:
            upstream = self._pool.urlopen(
                ctx.method, target, body=body, headers=headers, redirect=False,
                preload_content=False, decode_content=False, assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            ctx.response = aws_error(ctx.identity, 502, "BackendUnavailable",
                                     f"the sandbox's backend at {self.url} did not answer: {exc}", ctx.request_id,
                                     sender_fault=False)
            return
        out_headers = [(k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP]
        ctx.response = Response(upstream.status, out_headers, _stream(upstream))

    def health(self) -> dict[str, str]:
        try:
            answer = self._pool.request("GET", self.url + "/_localstack/health", timeout=3)
            if answer.status == 200:
                return dict(json.loads(answer.data).get("services", {}))
        except (urllib3.exceptions.HTTPError, ValueError):
            pass
        return {}

    def supported_services(self) -> set[str] | None:
        return None

    def reseed(self, seed: str) -> None:
        return None  # the endpoint makes its own ids

    def export_state(self) -> dict:
        return {}  # the endpoint keeps its resources

    def import_state(self, state: dict) -> None:
        return None

    def materialize_all(self) -> None:
        return None

    @property
    def pending(self) -> list[str]:
        return []

    def reset(self) -> None:
        # Both moto's server and LocalStack offer a reset endpoint; an endpoint with neither keeps its state.
        for path in ("/_localstack/state/reset", "/moto-api/reset"):
            try:
                answer = self._pool.request("POST", self.url + path, timeout=30)
            except urllib3.exceptions.HTTPError:
                continue
            if answer.status < 300:
                return
        raise LabError(f"the backend at {self.url} offers no reset endpoint; reset it by hand")


class _LimitedStream:
    """Reads exactly `length` bytes of the client's body as urllib3 asks for them."""

    def __init__(self, stream: Any, length: int) -> None:
        self._stream = stream
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        data = self._stream.read(size)
        self._left -= len(data)
        return data


def _stream(upstream: urllib3.response.BaseHTTPResponse) -> Iterator[bytes]:
    try:
        yield from upstream.stream(_CHUNK, decode_content=False)
    finally:
        upstream.release_conn()
