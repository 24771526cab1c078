"""Talk to a running sandbox's admin API (/_lab/...) from the `lab` command and the TUI."""

from __future__ import annotations

import json
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from lab.errors import LabError, SandboxNotRunningError
from lab.safety import check_endpoint

_UNSENDABLE = re.compile(r"[^\x21-\x7e]")  # what cannot stand in a request line
MAX_HEAD_BYTES = 64 * 1024  # the status line and headers of an answer; the admin API's are a few hundred bytes


class AdminClient:
    """The admin API: a `lab` command makes a handful of calls to a sandbox on loopback, one request per
    connection. Over plain HTTP a request is written and its answer read on a socket (HTTP/1.0, so that the
    answer is never chunked and ends where the connection does): the standard library's HTTP client loads the
    email and ssl packages, more than the rest of a command's calls cost. An https endpoint (allowed off
    loopback only with allow_remote) goes through http.client."""

    def __init__(self, endpoint: str, allow_remote: bool = False) -> None:
        self.endpoint = check_endpoint(endpoint.rstrip("/"), allow_remote=allow_remote)
        parts = urlsplit(self.endpoint)
        self._secure = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._base = parts.path.rstrip("/")

    def _request(self, method: str, path: str, data: bytes | None, timeout: float) -> tuple[int, bytes]:
        """(status, body); SandboxNotRunningError when nothing answers, LabError when it answers too late."""
        try:
            if self._secure:
                return self._https_request(method, path, data, timeout)
            return self._plain_request(method, path, data, timeout)
        except TimeoutError as exc:
            raise LabError(f"the sandbox at {self.endpoint} took longer than {timeout:g} s to answer {method} "
                           f"{path}; it is running, but busy (a long clock advance or a large world): try "
                           "again in a moment") from exc
        except (OSError, _BadAnswerError) as exc:
            raise SandboxNotRunningError(self.endpoint) from exc

    def _plain_request(self, method: str, path: str, data: bytes | None, timeout: float) -> tuple[int, bytes]:
        if _UNSENDABLE.search(path):  # (as http.client refuses them: they would end the request line)
            raise LabError(f"cannot ask the sandbox for {path!r}: a space, a control or a non-ASCII character "
                           "in the request path")
        try:
            connection = socket.create_connection((_address_of(self._host), self._port or 80), timeout=timeout)
        except OSError as exc:  # refused, unreachable, or no answer to the connect: nothing runs there
            raise _NotListeningError(str(exc)) from exc
        with connection:
            host = f"[{self._host}]" if ":" in self._host else self._host
            head = [f"{method} {self._base + path} HTTP/1.0", f"Host: {host}:{self._port or 80}",
                    "Accept-Encoding: identity"]
            if data:
                head += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
            elif method in ("POST", "PUT"):
                head.append("Content-Length: 0")
            connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (data or b""))
            received = bytearray()
            head_seen, total = False, None  # the answer's length once its head gives it, else up to the close
            while total is None or len(received) < total:
                chunk = connection.recv(1 << 16)
                if not chunk:
                    break
                received += chunk
                if not head_seen:
                    head_seen, total = _answer_length(received)
        return _parse_answer(bytes(received))

    def _https_request(self, method: str, path: str, data: bytes | None, timeout: float) -> tuple[int, bytes]:
        import http.client

        connection = http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
        try:
            try:
                connection.connect()
            except OSError as exc:
                raise _NotListeningError(str(exc)) from exc
            try:
                connection.request(method, self._base + path, body=data,
                                   headers={"Content-Type": "application/json"} if data else {})
                answer = connection.getresponse()
                return answer.status, answer.read()
            except http.client.HTTPException as exc:
                raise _BadAnswerError(str(exc)) from exc
        finally:
            connection.close()

    def _call(self, method: str, path: str, body: Any = None, timeout: float = 30.0, *, raw: bool = False) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        status, answer = self._request(method, path, data, timeout)
        if raw and status < 400:
            return answer
        try:
            payload = json.loads(answer) if answer else {}
        except json.JSONDecodeError as exc:
            raise LabError(f"{self.endpoint} answered {method} {path} with something that is not the lab's "
                           f"admin API (HTTP {status}); is another program on that port?") from exc
        if status >= 400:
            raise LabError(f"{method} {path}: {payload.get('error', status)}")
        return payload

    def alive(self, timeout: float = 1.0) -> bool:
        try:
            status, _ = self._request("GET", "/_localstack/health", None, timeout)
        except LabError:
            return False
        return status == 200

    def health(self, timeout: float = 2.0) -> dict[str, Any]:
        return self._call("GET", "/_localstack/health", timeout=timeout)

    def status(self, counts: bool = True) -> dict[str, Any]:
        return self._call("GET", f"/_lab/status?counts={'1' if counts else '0'}")

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/_lab/reset", timeout=120)

    def snapshot(self) -> dict[str, Any]:
        return self._call("POST", "/_lab/snapshot", timeout=120)

    def shutdown(self) -> dict[str, Any]:
        return self._call("POST", "/_lab/shutdown")

    def doctor(self) -> dict[str, Any]:
        return self._call("GET", "/_lab/doctor", timeout=120)

    def get(self, path: str, timeout: float = 60.0) -> Any:
        """GET /_lab/<path> (query string allowed)."""
        return self._call("GET", f"/_lab/{path}", timeout=timeout)

    def get_bytes(self, path: str, timeout: float = 60.0) -> bytes:
        """GET /_lab/<path>: the answer's JSON as it came (for a reader that decodes it into its own types)."""
        return self._call("GET", f"/_lab/{path}", timeout=timeout, raw=True)

    def post(self, path: str, body: Any = None, timeout: float = 600.0) -> Any:
        """POST /_lab/<path> with a JSON body."""
        return self._call("POST", f"/_lab/{path}", body=body if body is not None else {}, timeout=timeout)


class _NotListeningError(OSError):
    """Nothing accepted the connection (told apart from a timeout while waiting for the answer)."""


class _BadAnswerError(Exception):
    """An answer that is not HTTP, or that ended before its Content-Length."""


def _address_of(host: str) -> str | bytes:
    """The host as getaddrinfo takes it: an ASCII name (an address, localhost) as bytes, which spares the IDNA
    codec that a str costs to load (a name written in another script stays a str, encoded by IDNA)."""
    return host.encode("ascii") if host.isascii() else host


def _answer_length(received: bytearray) -> tuple[bool, int | None]:
    """(whether the answer's head has come, the whole answer's length when the head gives a Content-Length): a
    server that would keep the connection open after the answer is not waited for."""
    end = received.find(b"\r\n\r\n", 0, MAX_HEAD_BYTES)
    if end < 0:
        return False, None
    for line in bytes(received[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return True, end + 4 + int(value.strip())
    return True, None


def _parse_answer(raw: bytes) -> tuple[int, bytes]:
    """(status, body) of an HTTP/1.x answer read to the end of its connection."""
    end = raw.find(b"\r\n\r\n", 0, MAX_HEAD_BYTES)
    if end < 0:
        raise _BadAnswerError("no complete HTTP answer" if raw else "the connection closed without an answer")
    status_line, *header_lines = raw[:end].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
        raise _BadAnswerError(f"not an HTTP status line: {status_line[:80]!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = raw[end + 4:]
    if "chunked" in headers.get("transfer-encoding", "").lower():  # (werkzeug streams so even to HTTP/1.0)
        return int(rest[:3]), _dechunked(body)
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit() or len(body) < int(length):
            raise _BadAnswerError(f"the answer ended after {len(body)} of its {length} bytes")
        body = body[:int(length)]
    return int(rest[:3]), body


def _dechunked(body: bytes) -> bytes:
    """The data of a chunked body (RFC 9112 7.1): hex size lines, each chunk, a last chunk of size 0."""
    data = bytearray()
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        try:
            size = int(body[position:line_end].split(b";", 1)[0], 16) if line_end >= 0 else -1
        except ValueError:
            size = -1
        if size < 0:
            raise _BadAnswerError(f"a chunked answer cut short or malformed after {len(data)} bytes")
        if size == 0:
            return bytes(data)
        start = line_end + 2
        if len(body) < start + size + 2:
            raise _BadAnswerError(f"a chunked answer cut short after {len(data)} bytes")
        data += body[start:start + size]
        position = start + size + 2
