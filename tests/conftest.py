"""Shared fixtures: a real sandbox on 127.0.0.1 in a throw-away state dir, and the no-real-AWS guard."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUARD_DIR = Path(__file__).resolve().parent / "guard"
REAL_LOOKING_KEYS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "FQoGZXIvYXdzEXAMPLETOKEN",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def violations_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("guard") / "violations.txt"
    path.touch()
    yield path
    leaked = path.read_text()
    assert not leaked, f"something tried to reach a non-loopback address:\n{leaked}"


@pytest.fixture(scope="session")
def user_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME whose ~/.aws holds real-looking credentials and a profile the lab must never read."""
    home = tmp_path_factory.mktemp("home")
    aws = home / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text("[default]\naws_access_key_id = AKIAUSERFILEEXAMPLE\n"
                                     "aws_secret_access_key = user-file-secret\n")
    (aws / "config").write_text("[default]\nregion = eu-central-1\nendpoint_url = https://203.0.113.10\n")
    return home


@pytest.fixture(scope="session")
def lab_env(violations_file: Path, user_home: Path) -> dict[str, str]:
    """Environment for every process a test starts: real-looking keys set, the connect guard on."""
    env = dict(os.environ)
    env.update(REAL_LOOKING_KEYS)
    env["HOME"] = str(user_home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUARD_DIR), str(ROOT), env.get("PYTHONPATH")]))
    env["LAB_TEST_NETWORK_VIOLATIONS"] = str(violations_file)
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("LAB_STATE_DIR", None)
    env.pop("LAB_PORT", None)
    return env


def run_lab(args: list[str], env: dict[str, str], check: bool = True, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "lab", *args], env=env, capture_output=True, text=True,
                            timeout=timeout, input=input, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"lab {' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout}\n"
                             f"stderr:\n{result.stderr}")
    return result


class SandboxHandle:
    def __init__(self, state_dir: Path, port: int, env: dict[str, str]) -> None:
        self.state_dir = state_dir
        self.port = port
        self.env = env
        self.endpoint = f"http://127.0.0.1:{port}"

    def lab(self, *args: str, check: bool = True, timeout: float = 120, input: str | None = None):
        return run_lab([*args, "--state-dir", str(self.state_dir)], self.env, check=check, timeout=timeout,
                       input=input)

    def up(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.lab("up", "--port", str(self.port), *extra)

    def down(self) -> None:
        """Stop the sandbox. One that outlives `lab down` (a save that failed or timed out) is killed: no test
        run leaves a sandbox behind."""
        try:
            pid: int | None = self.pid()
        except (OSError, ValueError):
            pid = None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.lab("down", check=False)
        if pid is None:
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:  # (a pid reused by someone else's process)
                return
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)

    def status(self) -> dict:
        return json.loads(self.lab("status", "--json").stdout)

    def pid(self) -> int:
        return int((self.state_dir / "sandbox.pid").read_text())

    def client(self, service: str, region: str = "us-east-1"):
        from lab.awsclient import client

        return client(service, region, self.endpoint)

    def tool_env(self, region: str = "us-east-1") -> dict[str, str]:
        """The test env plus what `lab env` prints, as a learner's shell would have after eval."""
        env = dict(self.env)
        out = self.lab("env", "--shell", "bash", "--region", region).stdout
        for line in out.splitlines():
            if line.startswith("export "):
                name, value = line[len("export "):].split("=", 1)
                env[name] = value.strip("'")
        return env


@contextlib.contextmanager
def quiet_sandbox(state_dir: Path, env: dict[str, str]) -> Iterator[SandboxHandle]:
    """A sandbox of a test module's own with the workload off: sim hours and days pass fast without orders."""
    from lab.admin_client import AdminClient

    handle = SandboxHandle(state_dir, free_port(), env)
    handle.up()
    try:
        AdminClient(handle.endpoint).post("workload", {"enabled": False})
        yield handle
    finally:
        handle.down()


def backup_role(handle: SandboxHandle, name: str) -> str:
    """The ARN of a new IAM role AWS Backup may assume (the trust policy AWS Backup's jobs need)."""
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    return handle.client("iam").create_role(RoleName=name, Path="/service-role/",
                                            AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


@pytest.fixture
def fresh_sandbox(tmp_path: Path, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    handle = SandboxHandle(tmp_path / "state", free_port(), lab_env)
    yield handle
    handle.down()


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    """One seeded sandbox shared by the tests that only read or create uniquely named things."""
    handle = SandboxHandle(tmp_path_factory.mktemp("shared") / "state", free_port(), lab_env)
    handle.up()
    yield handle
    handle.down()


@pytest.fixture(autouse=True)
def _no_real_aws_in_test_process(monkeypatch: pytest.MonkeyPatch, user_home: Path) -> None:
    """The test process itself: real-looking keys in the environment, and no connection, datagram or name
    lookup off loopback (the guard of tests/guard/network_guard.py, undone after the test)."""
    for key, value in REAL_LOOKING_KEYS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HOME", str(user_home))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    from tests.guard import network_guard

    def violation(kind: str, what: str) -> NoReturn:
        pytest.fail(f"the test process tried a {what}")

    for name, method in network_guard.guarded_socket_methods(violation).items():
        monkeypatch.setattr(socket.socket, name, method)
    for name, function in network_guard.guarded_lookups(violation).items():
        monkeypatch.setattr(socket, name, function)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size: str = "8m", read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs at `path` (a real full disk, or a read-only one), unmounted afterwards; the test is
    skipped, saying why, where this machine refuses the mount (it needs root with CAP_SYS_ADMIN)."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0755" + (",ro" if read_only else "")
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=False,
                                capture_output=True,
                                text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("needs the mount command to make a small tmpfs")
    if result.returncode != 0:
        pytest.skip(f"needs a tmpfs mount (root with CAP_SYS_ADMIN): {result.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True, timeout=30)
