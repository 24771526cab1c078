"""Issue 11's figures, the layered build beside the build before the restructure, measured in one run.

Run: .venv/bin/python benchmarks/bench_architecture.py [--old COMMIT] [--new COMMIT] [--rounds 3] [--ops 200]

The old build is checked out into a temporary git worktree (by default the parent of the commit that created
lab/kernel) and run with this venv: its lock is a subset of this one's, at the same versions, so each build runs
on the same libraries, with PYTHONPATH choosing which lab/ is imported. Each build gets its own cache dir, so
neither loads the other's world template. Per round and build, interleaved (a busy machine hurts both alike):
`lab up` to ready (the world from the warm template), S3 put/get of 1 KiB against the sandbox and against a
`moto.server` process (median per call; the ratio is the request path's overhead), `lab clock advance 35d` at
the default workload, and the sandbox's resident memory after it. Everything is on 127.0.0.1 and stops by
itself; the worktree is removed at the end. Timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import urllib3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
ENV_KEYS_DROPPED = ("VIRTUAL_ENV", "PYTHONPATH", "LAB_STATE_DIR", "LAB_PORT")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine_speed_us() -> float:
    """CPU reference: microseconds for sum(range(1000)), best of five."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def commit_before_kernel() -> str:
    added = subprocess.run(["git", "-C", str(ROOT), "log", "--format=%H", "--diff-filter=A", "--",
                            "lab/kernel/__init__.py"], capture_output=True, text=True, check=True).stdout.split()
    if not added:
        raise SystemExit("no commit created lab/kernel: give the old build with --old COMMIT")
    return added[-1] + "^"


class Build:
    """One checkout of the lab, run with this venv's Python."""

    def __init__(self, name: str, tree: Path, scratch: Path) -> None:
        self.name, self.tree = name, tree
        self.env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS_DROPPED}
        self.env.update(PYTHONPATH=str(tree), XDG_CACHE_HOME=str(scratch / f"cache-{name}"))
        found = subprocess.run([sys.executable, "-c", "import lab; print(lab.__file__)"], env=self.env, cwd=tree,
                               capture_output=True, text=True, check=True).stdout.strip()
        if not Path(found).resolve().is_relative_to(tree.resolve()):
            raise SystemExit(f"{name}: imports lab from {found}, not from {tree}")

    def lab(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lab", *args], env=self.env, cwd=self.tree, capture_output=True,
                              text=True, timeout=timeout, check=True)

    @contextlib.contextmanager
    def up(self, scratch: Path) -> Iterator[tuple[float, int, Path]]:
        """A sandbox with the world: (seconds from `lab up` to its return, port, state dir)."""
        state = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-", dir=scratch))
        port = free_port()
        started = time.perf_counter()
        self.lab("up", "--port", str(port), "--state-dir", str(state), timeout=300)
        seconds = time.perf_counter() - started
        try:
            yield seconds, port, state
        finally:
            with contextlib.suppress(subprocess.SubprocessError):
                self.lab("down", "--state-dir", str(state), timeout=300)


def s3_client(endpoint: str) -> object:
    return boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))


def call_ms(call: Callable[[int], object], ops: int) -> float:
    """Median milliseconds of one call, over `ops` calls (after one to warm up)."""
    call(0)
    times = []
    for i in range(ops):
        started = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def s3_put_get(endpoint: str, ops: int, bucket: str) -> dict[str, float]:
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(1024)
    return {"s3 put 1KiB": call_ms(lambda i: s3.put_object(Bucket=bucket, Key=f"k{i}", Body=body), ops),
            "s3 get 1KiB": call_ms(lambda i: s3.get_object(Bucket=bucket, Key=f"k{i}")["Body"].read(), ops)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               env=dict(os.environ, MOTO_ACCOUNT_ID="000000000000"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pool = urllib3.PoolManager()
    try:
        for _ in range(200):
            try:
                pool.request("GET", f"http://127.0.0.1:{port}/moto-api/", timeout=1, retries=False)
                break
            except urllib3.exceptions.HTTPError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def one_round(build: Build, scratch: Path, moto: str, ops: int, round_: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with build.up(scratch) as (ready_s, port, state):
        figures["start to ready (s)"] = ready_s
        tag = f"{build.name}-{round_}"
        raw = s3_put_get(moto, ops, f"raw-{tag}")
        mine = s3_put_get(f"http://127.0.0.1:{port}", ops, f"lab-{tag}")
        for name in raw:
            figures[f"{name} ratio vs moto"] = mine[name] / raw[name]
            figures[f"{name} (ms)"] = mine[name]
        started = time.perf_counter()
        build.lab("clock", "advance", "35d", "--state-dir", str(state), timeout=900)
        figures["35-day advance (s)"] = time.perf_counter() - started
        figures["RSS after the advance (MB)"] = rss_mb(int((state / "sandbox.pid").read_text()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="the build to compare with (default: the commit before lab/kernel)")
    parser.add_argument("--new", help="the build to compare it with (default: this checkout, as it is)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ops", type=int, default=200)
    args = parser.parse_args()
    old = args.old or commit_before_kernel()
    old_sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", old], capture_output=True, text=True,
                             check=True).stdout.strip()
    new_sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.new or "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-architecture-") as scratch_name:
        scratch = Path(scratch_name)
        trees = {"old": scratch / "old", "new": scratch / "new" if args.new else ROOT}
        for which, sha in (("old", old_sha), ("new", new_sha if args.new else None)):
            if sha is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--quiet", "--detach", str(trees[which]),
                                sha], check=True)
        try:
            builds = [Build(f"old-{old_sha}", trees["old"], scratch), Build(f"new-{new_sha}", trees["new"], scratch)]
            speed = machine_speed_us()
            print(f"CPU reference: sum(range(1000)) {speed:.2f} us; load {os.getloadavg()[0]:.2f}; "
                  f"{os.cpu_count()} CPUs; {args.rounds} rounds, {args.ops} calls per S3 figure")
            for build in builds:  # fill each build's world template, so that every timed start finds it warm
                with build.up(scratch):
                    pass
            results: dict[str, dict[str, list[float]]] = {build.name: {} for build in builds}
            with moto_server() as moto:
                for round_ in range(args.rounds):
                    for build in builds if round_ % 2 == 0 else reversed(builds):
                        for name, value in one_round(build, scratch, moto, args.ops, round_).items():
                            results[build.name].setdefault(name, []).append(value)
                        print(f"  round {round_ + 1} {build.name} done (load {os.getloadavg()[0]:.2f})", flush=True)
            old_name, new_name = (build.name for build in builds)
            print(f"\n{'median of the rounds':34} {old_name:>14} {new_name:>14} {'new/old':>8}")
            for name in results[old_name]:
                before = statistics.median(results[old_name][name])
                after = statistics.median(results[new_name][name])
                print(f"{name:34} {before:14.3f} {after:14.3f} {after / before:8.2f}   "
                      f"(rounds: {' '.join(f'{v:.2f}' for v in results[old_name][name])} | "
                      f"{' '.join(f'{v:.2f}' for v in results[new_name][name])})")
            print(f"CPU reference after: {machine_speed_us():.2f} us; load {os.getloadavg()[0]:.2f}")
        finally:
            for tree in {trees["old"], trees["new"]} - {ROOT}:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()
