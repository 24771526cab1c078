"""Talk to a running sandbox's admin API (/_lab/...) from the `lab` command and the TUI."""

from __future__ import annotations

import json
from typing import Any

import urllib3

from lab.errors import LabError, SandboxNotRunningError
from lab.safety import check_endpoint

_POOL = urllib3.PoolManager(retries=False)


class AdminClient:
    def __init__(self, endpoint: str, allow_remote: bool = False) -> None:
        self.endpoint = check_endpoint(endpoint.rstrip("/"), allow_remote=allow_remote)

    def _call(self, method: str, path: str, body: Any = None, timeout: float = 30.0, *, raw: bool = False) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        try:
            answer = _POOL.request(method, self.endpoint + path, body=data, timeout=timeout,
                                   headers={"Content-Type": "application/json"} if data else None)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise LabError(f"the sandbox at {self.endpoint} took longer than {timeout:g} s to answer {method} "
                           f"{path}; it is running, but busy (a long clock advance or a large world): try again "
                           "in a moment") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise SandboxNotRunningError(self.endpoint) from exc
        if raw and answer.status < 400:
            return answer.data
        try:
            payload = json.loads(answer.data) if answer.data else {}
        except json.JSONDecodeError as exc:
            raise LabError(f"{self.endpoint} answered {method} {path} with something that is not the lab's "
                           f"admin API (HTTP {answer.status}); is another program on that port?") from exc
        if answer.status >= 400:
            raise LabError(f"{method} {path}: {payload.get('error', answer.status)}")
        return payload

    def alive(self, timeout: float = 1.0) -> bool:
        try:
            answer = _POOL.request("GET", self.endpoint + "/_localstack/health", timeout=timeout)
        except urllib3.exceptions.HTTPError:
            return False
        return answer.status == 200

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
