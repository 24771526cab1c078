"""Talk to a running sandbox's admin API (/_lab/...) from the `lab` command and the TUI."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from lab.errors import LabError, SandboxNotRunningError
from lab.safety import check_endpoint

_UNSENDABLE = re.compile(r"[^\x21-\x7e]")  # what cannot stand in a request line


class AdminClient:
    """The admin API over the standard library's HTTP client: a `lab` command makes a handful of calls to a
    sandbox on loopback, and starting a command should not wait for a connection-pooling library to load."""

    def __init__(self, endpoint: str, allow_remote: bool = False) -> None:
        self.endpoint = check_endpoint(endpoint.rstrip("/"), allow_remote=allow_remote)
        parts = urlsplit(self.endpoint)
        self._secure = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._base = parts.path.rstrip("/")

    def _request(self, method: str, path: str, data: bytes | None, timeout: float) -> tuple[int, bytes]:
        """(status, body); SandboxNotRunningError when nothing answers, LabError when it answers too late."""
        import http.client  # (here: `lab --version` and `lab env`, which every new shell runs, make no call)

        if _UNSENDABLE.search(path):  # (http.client would refuse it as if no sandbox answered)
            raise LabError(f"cannot ask the sandbox for {path!r}: a space, a control or a non-ASCII character "
                           "in the request path")
        connection_type = http.client.HTTPSConnection if self._secure else http.client.HTTPConnection
        connection = connection_type(self._host, self._port, timeout=timeout)
        try:
            try:
                connection.connect()
            except OSError as exc:
                raise SandboxNotRunningError(self.endpoint) from exc
            try:
                connection.request(method, self._base + path, body=data,
                                   headers={"Content-Type": "application/json"} if data else {})
                answer = connection.getresponse()
                return answer.status, answer.read()
            except TimeoutError as exc:
                raise LabError(f"the sandbox at {self.endpoint} took longer than {timeout:g} s to answer {method} "
                               f"{path}; it is running, but busy (a long clock advance or a large world): try "
                               "again in a moment") from exc
            except (OSError, http.client.HTTPException) as exc:
                raise SandboxNotRunningError(self.endpoint) from exc
        finally:
            connection.close()

    def _call(self, method: str, path: str, body: Any = None, timeout: float = 30.0, *, raw: bool = False) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        status, answer = self._request(method, path, data, timeout)
        if raw and status < 400:
            return answer
        payload = self._payload(method, path, status, answer)
        if status >= 400:
            raise LabError(f"{method} {path}: {payload.get('error', status)}")
        return payload

    def _payload(self, method: str, path: str, status: int, answer: bytes) -> Any:
        try:
            return json.loads(answer) if answer else {}
        except json.JSONDecodeError as exc:
            raise LabError(f"{self.endpoint} answered {method} {path} with something that is not the lab's "
                           f"admin API (HTTP {status}); is another program on that port?") from exc

    def post_or_none(self, path: str, body: Any, timeout: float = 30.0) -> Any:
        """POST /_lab/<path>'s answer; None when the sandbox has no such route (started by an earlier version of
        the lab); a refusal is the LabError of the sandbox's own words."""
        status, answer = self._request("POST", f"/_lab/{path}", json.dumps(body).encode(), timeout)
        payload = self._payload("POST", f"/_lab/{path}", status, answer)
        error = payload.get("error") if isinstance(payload, dict) else None
        if status == 404 and str(error).startswith("no admin route"):
            return None
        if status >= 400:
            raise LabError(str(error or f"POST /_lab/{path}: HTTP {status}"))
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

