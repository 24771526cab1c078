"""The LocalStack host-mode suite: LocalStack (localstack-core, no Docker) installed from its lock and run
by `lab up --backend localstack`. Run by ./scripts/test-localstack, after the main suite (which leaves this
folder out); it skips, saying why, where no Python 3.12 or 3.13 exists."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.backends import localstack_host
from tests.conftest import SandboxHandle, free_port


@pytest.fixture(scope="session")
def installation() -> localstack_host.Installation:
    found = localstack_host.installed()
    if found is None:
        python, problem = localstack_host.find_python()
        if python is None:
            pytest.skip(f"LocalStack host mode cannot run here: {problem}")
        found = localstack_host.ensure_installed(print)
    return found


@pytest.fixture(scope="session")
def localstack_env(lab_env: dict[str, str]) -> dict[str, str]:
    """The test environment with no LocalStack token: `lab up --backend localstack` must pick host mode."""
    env = dict(lab_env)
    env.pop("LOCALSTACK_AUTH_TOKEN", None)
    env.pop("LAB_LOCALSTACK_MODE", None)
    return env


class LocalStackSandbox(SandboxHandle):
    def detail(self) -> dict:
        """What the sandbox says about its LocalStack (without resource counts, which ask every service)."""
        from lab.admin_client import AdminClient

        return AdminClient(self.endpoint).status(counts=False)["backend_detail"]

    def localstack_client(self, service: str, region: str = "us-east-1"):
        """A client for LocalStack itself, past the lab's gateway."""
        from lab.awsclient import client

        return client(service, region, self.detail()["endpoint"])

    def localstack_log(self) -> str:
        return (self.state_dir / localstack_host.LOG_FILE).read_text(errors="replace")


@pytest.fixture(scope="module")
def ls_sandbox(tmp_path_factory: pytest.TempPathFactory, localstack_env: dict[str, str],
               installation: localstack_host.Installation) -> Iterator[LocalStackSandbox]:
    """A seeded sandbox on LocalStack in host mode, on a fresh state dir and a free port."""
    handle = LocalStackSandbox(tmp_path_factory.mktemp("localstack") / "state", free_port(), localstack_env)
    handle.up_result = handle.lab("up", "--backend", "localstack", "--port", str(handle.port), timeout=300)
    yield handle
    handle.down()
    # Nothing LocalStack started outlives the sandbox (Kinesis Local's node did, in a session of its own)
    files = localstack_host.files_dir(handle.state_dir)
    deadline = time.monotonic() + 15
    while localstack_host.started_from(files) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert localstack_host.started_from(files) == [], f"processes LocalStack started from {files} outlived lab down"


def listening_addresses(pid: int) -> list[str]:
    """The addresses (ip:port) on which process `pid` has listening TCP sockets, read from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.append(_address(fields[1]))
    return found


def _address(hex_address: str) -> str:
    import ipaddress

    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    # /proc/net/tcp{,6} hold the address as 32-bit words in host (little-endian) order
    ordered = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(ordered)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return f"{address}:{int(port, 16)}"
