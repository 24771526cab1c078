"""Start, find and stop the sandbox process from the `lab` command."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import config
from lab.admin_client import AdminClient
from lab.config import LOG_FILE, PID_FILE, RUNTIME_FILE
from lab.errors import LabError


@dataclass
class Running:
    endpoint: str
    pid: int | None
    runtime: dict[str, Any]


def runtime_info(state_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((state_dir / RUNTIME_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; only its parent has not collected it yet
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def find_running(state_dir: Path, port: int | None = None) -> Running | None:
    """The sandbox this state dir belongs to, if it runs and answers; else None (stale files removed)."""
    info = runtime_info(state_dir)
    if info is None:
        # No marker files (removed by hand?): a sandbox of this state dir may still answer on the port.
        endpoint = config.endpoint_url(port or config.DEFAULT_PORT)
        client = AdminClient(endpoint)
        if client.alive():
            status = client.status(counts=False)
            if Path(status.get("state_dir", "")) == state_dir:
                return Running(endpoint, status.get("pid"), {"backend": status.get("backend")})
        return None
    endpoint = info["endpoint"]
    if pid_alive(int(info["pid"])) and AdminClient(endpoint).alive(timeout=2.0):
        return Running(endpoint, int(info["pid"]), info)
    if not pid_alive(int(info["pid"])):
        # A sandbox killed without a chance to clean up: its state is safe, only these markers are stale.
        for name in (PID_FILE, RUNTIME_FILE):
            (state_dir / name).unlink(missing_ok=True)
    return None


def endpoint_for(state_dir: Path, port: int | None = None) -> str:
    info = runtime_info(state_dir)
    if info and port is None:
        return info["endpoint"]
    return config.endpoint_url(port or int(os.environ.get("LAB_PORT", config.DEFAULT_PORT)))


# `lab up` waits for the sandbox as long as it answers (a long journal replay after a crash takes what it
# takes, and says how far it is); it gives up only when the sandbox has not answered for this long.
STALL_TIMEOUT_S = 120.0
PROGRESS_EVERY_S = float(os.environ.get("LAB_UP_PROGRESS_S", "5"))  # a start slower than this says what it does


def start(state_dir: Path, *, port: int, backend: str, foreground: bool, allow_remote: bool = False,
          seed: int | None = None, no_world: bool = False, timeout: float | None = None,
          fsync: str | None = None, progress: Callable[[str], None] | None = None) -> Running:
    import subprocess  # (only `lab up` starts a process: the other commands do not load the module)

    from lab.sandbox.persistence import check_writable
    from lab.sandbox.server import check_port_free

    check_writable(state_dir)
    if (state_dir / "state").exists():
        check_writable(state_dir / "state")
    check_port_free(config.DEFAULT_HOST, port)
    command = [sys.executable, "-m", "lab.sandbox.server", "--port", str(port), "--backend", backend,
               "--state-dir", str(state_dir)]
    if fsync:
        command += ["--fsync", fsync]
    if allow_remote:
        command.append("--allow-remote")
    if seed is not None:
        command += ["--seed", str(seed)]
    if no_world:
        command.append("--no-world")
    if foreground:
        os.execv(sys.executable, [*command, "--foreground"])  # noqa: S606 -- this Python, our own argument list
    log_path = state_dir / LOG_FILE
    with open(log_path, "ab") as log_handle:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_handle, stderr=log_handle,
                                   start_new_session=True, close_fds=True)
    client = AdminClient(config.endpoint_url(port))
    began = time.monotonic()
    stall = timeout or (150.0 if backend == "localstack" else STALL_TIMEOUT_S)
    answered_at, told_at = began, began
    while time.monotonic() - answered_at < stall:
        code = process.poll()
        if code is not None:
            raise LabError(f"the sandbox exited while starting (exit {code}):\n{_tail(log_path)}")
        try:
            health = client.health(timeout=1.0)
            answered_at = time.monotonic()
            # Ready, and the saved S3 and DynamoDB state loaded (a month-old world's takes a second or two):
            # the first call after `lab up` returns is answered at once.
            if health.get("ready") and not _loading_first(client):
                return Running(client.endpoint, process.pid, runtime_info(state_dir) or {})
        except LabError:
            pass
        now = time.monotonic()
        if now - told_at >= PROGRESS_EVERY_S and progress is not None:
            told_at = now
            progress(f"still starting after {now - began:.0f} s: {_starting_progress(client) or 'loading'}")
        time.sleep(0.02)
    process.terminate()
    raise LabError(f"the sandbox has not answered for {stall:.0f} s while starting; its log {log_path} ends:\n"
                   f"{_tail(log_path)}")


def _loading_first(client: AdminClient) -> bool:
    return bool(client.status(counts=False).get("loading_first"))


def _starting_progress(client: AdminClient) -> str | None:
    """What a starting sandbox is doing, as `lab up` shows it (the journal replay after a crash)."""
    try:
        status = client.status(counts=False)
    except LabError:
        return None
    replay = (status.get("storage") or {}).get("replay")
    if replay:
        return f"replaying the journal, {replay['done']} of {replay['total']} calls"
    if status.get("ready"):
        return "loading the saved S3 and DynamoDB state"
    return "restoring the saved state" if status.get("world_seeded") else "seeding the world"


def stop(state_dir: Path, running: Running, timeout: float = 30.0) -> dict[str, Any] | None:
    """Stop the sandbox; returns how it saved its state (see Sandbox.save_for_shutdown), when it said."""
    saved = None
    try:
        saved = AdminClient(running.endpoint).shutdown().get("saved")
    except LabError:
        if running.pid:
            import signal

            os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running.pid and pid_alive(running.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if running.pid and pid_alive(running.pid):
        raise LabError(f"the sandbox (pid {running.pid}) did not stop within {timeout:.0f} s; "
                       f"its state is saved; stop it with: kill {running.pid}")
    return saved


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
