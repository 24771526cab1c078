"""Helpers shared by the RDS data plane and DynamoDB engine tests: the admin API, sim time, an in-process
sandbox for the engines' Python contracts (AWS Backup calls them in-process)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.admin_client import AdminClient

BIN = Path(sys.executable).parent


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def admin(handle: Any) -> AdminClient:
    return AdminClient(handle.endpoint)


def advance(handle: Any, duration: str) -> dict[str, Any]:
    return admin(handle).post("clock", {"action": "advance", "duration": duration})


def sim_now(handle: Any) -> float:
    return float(admin(handle).get("clock")["epoch"])


def sql(handle: Any, instance: str, statement: str, region: str = "us-east-1") -> dict[str, Any]:
    return admin(handle).post("sql", {"instance": instance, "region": region, "sql": statement})


def moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def epoch_of(created_at: str) -> float:
    return datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def ids_digest(order_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(order_ids)).encode()).hexdigest()


def aws_cli(handle: Any, region: str, *args: str) -> Any:
    """The aws CLI as a learner runs it after `eval "$(lab env)"`; its JSON answer."""
    env = getattr(handle, "_cli_env", {}).get(region)
    if env is None:
        env = handle.tool_env(region)
        handle.__dict__.setdefault("_cli_env", {})[region] = env
    # `lab env` defines aws() as `aws --endpoint-url "$AWS_ENDPOINT_URL"`: the same, without a shell
    command = [str(BIN / "aws"), "--endpoint-url", env["AWS_ENDPOINT_URL"], *args, "--output", "json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return json.loads(result.stdout) if result.stdout.strip() else None


class InProcess:
    """A sandbox in the test process (embedded moto, no server), for calling engines directly."""

    def __init__(self, state_dir: Path) -> None:
        from lab.backends.embedded import EmbeddedBackend
        from lab.sandbox.core import Sandbox

        self.sandbox = Sandbox(EmbeddedBackend(), state_dir)
        self.sandbox.boot()
        self.endpoint = self.sandbox.endpoint

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        from lab.sandbox import inprocess

        data = json.dumps(body).encode() if body is not None else b""
        environ = inprocess.environ_for(method, f"{self.endpoint}/_lab/{path}",
                                        [("Content-Type", "application/json")], data, internal=False)
        status, _, answer = inprocess.call_app(self.sandbox.app, environ)
        payload = json.loads(answer)
        if status >= 400:
            raise AssertionError(f"{method} /_lab/{path} answered {status}: {payload}")
        return payload

    def advance(self, duration: str) -> None:
        self.call("POST", "clock", {"action": "advance", "duration": duration})

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return self.sandbox.client(service, region)

    def close(self) -> None:
        self.sandbox.close()


def in_process(state_dir: Path, cache_home: Path) -> Iterator[InProcess]:
    """A fixture body: the in-process sandbox, with the world template cache beside the tests' HOME."""
    import os

    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache_home)
    box = InProcess(state_dir)
    try:
        yield box
    finally:
        box.close()
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved
