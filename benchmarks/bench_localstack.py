"""Issue 10 figures: LocalStack in host mode under the lab (`lab up --backend localstack`, no Docker).

Run: .venv/bin/python benchmarks/bench_localstack.py [--rounds 3] [--skip-install]

- installing the LocalStack venv (scripts/setup-localstack) into a throw-away folder: once with empty
  download caches (uv's and npm's, as on a fresh machine: the packages come from PyPI and npm), once with
  them filled (what a reinstall after a lock change costs);
- start to ready: LocalStack's own (from its process start to its health answer, as the lab measures it),
  `lab up --backend localstack --no-world` and `lab up --backend localstack` (the world seeded) to return;
- resident memory after the world is seeded: LocalStack's process, and its children (DynamoDB Local's JVM).

Everything runs on 127.0.0.1 and stops by itself; the installs reach only the package registries.
Prints a CPU reference (microseconds per sum(range(1000)), best of 5) beside each figure; timings are never
pass/fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

from lab.admin_client import AdminClient
from lab.backends import localstack_host


def reference_us() -> float:
    """The machine's speed now: microseconds per sum(range(1000)), best of 5 timings."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_install(cold: bool) -> float:
    """Seconds for scripts/setup-localstack into a new venv; `cold`: with empty uv and npm caches."""
    work = Path(tempfile.mkdtemp(prefix="bench-localstack-install-"))
    env = dict(os.environ, LAB_LOCALSTACK_VENV=str(work / "venv"))
    if cold:
        env["UV_CACHE_DIR"] = str(work / "uv-cache")
        env["npm_config_cache"] = str(work / "npm-cache")
        env["PIP_NO_CACHE_DIR"] = "1"
    try:
        started = time.perf_counter()
        subprocess.run([str(localstack_host.SETUP_SCRIPT)], env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)


def lab(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lab", *args], env=env, check=True, capture_output=True, text=True)


def time_up(world: bool, env: dict[str, str]) -> dict[str, float]:
    state = Path(tempfile.mkdtemp(prefix="bench-localstack-"))
    port = free_port()
    extra = [] if world else ["--no-world"]
    try:
        started = time.perf_counter()
        lab("up", "--backend", "localstack", "--port", str(port), "--state-dir", str(state), *extra, env=env)
        returned = time.perf_counter() - started
        status = AdminClient(f"http://127.0.0.1:{port}").status(counts=False)
        detail = status["backend_detail"]
        figures = {"localstack ready": float(detail["start_seconds"]), "lab up returns": returned}
        if world:
            figures["LocalStack MB"] = _resident_mb([detail["pid"]])
            figures["its children MB"] = _resident_mb(localstack_host._descendants(detail["pid"]))  # the JVM
        return figures
    finally:
        lab("down", "--state-dir", str(state), env=env)
        shutil.rmtree(state, ignore_errors=True)


def _resident_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-install", action="store_true", help="do not time the venv installs")
    args = parser.parse_args()
    python, problem = localstack_host.find_python()
    if python is None:
        sys.exit(f"LocalStack host mode cannot run here: {problem}")
    print(f"Python for LocalStack: {python}; load average {os.getloadavg()[0]:.1f}")
    if not args.skip_install:
        for cold, label in ((True, "empty download caches (fresh machine)"), (False, "download caches filled")):
            reference = reference_us()
            print(f"install the venv, {label}: {time_install(cold):.1f} s  (CPU reference {reference:.1f} us)")
    localstack_host.ensure_installed(print)
    env = dict(os.environ)
    env.pop("LOCALSTACK_AUTH_TOKEN", None)
    env["LAB_LOCALSTACK_MODE"] = "host"
    for world in (False, True):
        rounds = []
        for _ in range(args.rounds):
            reference = reference_us()
            rounds.append(time_up(world, env) | {"CPU reference us": reference})
        label = "world seeded" if world else "no world (--no-world)"
        print(f"lab up --backend localstack, {label}, median of {args.rounds}:")
        for name in rounds[0]:
            values = [each[name] for each in rounds]
            print(f"  {name:18} {statistics.median(values):7.2f}  (min {min(values):.2f}, max {max(values):.2f})")


if __name__ == "__main__":
    main()
