"""Issue 14, persistence figures on a month-old world, through a real sandbox (`lab up`, HTTP, `lab down`).

The world: `lab clock advance 35d` with hourly AWS Backup of the four world resources, S3 replication on
and one order a minute (as bench_backup.py builds it, here over HTTP). Then, each beside its goal:
  - the longest wait of another client's call (S3 GetObject, in a loop) while a snapshot is taken
    (POST /_lab/snapshot), and while 1,100 writes make the automatic snapshot after 1,000 come due (the
    writer's own calls are measured too: the automatic snapshot must not land on one);
  - `lab down` of that world (the journal holding the writes since the last snapshot);
  - `lab up` on it, and the first S3 call (and DynamoDB call) made right after `lab up` returns.

Run: .venv/bin/python benchmarks/bench_persistence.py [--days 35] [--lab-root DIR]
--lab-root runs another checkout of the lab (e.g. a worktree of an older commit) with this venv, to
measure before and after in the same session. Loopback only; every loop is bounded; never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_backup import hourly_backups, replication_on
from lab.admin_client import AdminClient
from lab.awsclient import client
from tests.conftest import free_port

GOALS = {"snapshot": "<= 100 ms", "auto": "<= 100 ms", "down": "<= 1 s", "first": "<= 200 ms"}


def reference_us() -> float:
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


class Lab:
    """`lab` commands of one checkout, on one state dir and port."""

    def __init__(self, root: Path, state_dir: Path, port: int) -> None:
        self.root, self.state_dir, self.port = root, state_dir, port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.env = dict(os.environ, PYTHONPATH=str(root))

    def run(self, *args: str, timeout: float = 900) -> tuple[float, str]:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "lab", *args, "--state-dir", str(self.state_dir)],
                              cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=True)
        return time.perf_counter() - started, done.stdout + done.stderr

    def up(self) -> float:
        return self.run("up", "--port", str(self.port))[0]

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return client(service, region, self.endpoint)

    def admin(self) -> AdminClient:
        return AdminClient(self.endpoint)

    def rss_mb(self) -> float:
        pid = int((self.state_dir / "sandbox.pid").read_text())
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


class Prober:
    """Another client's calls in a loop (S3 GetObject of a small object): their latencies, by start time."""

    def __init__(self, lab: Lab, bucket: str, key: str) -> None:
        self.s3 = lab.client("s3")
        self.bucket, self.key = bucket, key
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + 600
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.perf_counter()
            self.s3.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
            self.samples.append((started, time.perf_counter() - started))
            time.sleep(0.002)

    def __enter__(self) -> Prober:
        self._thread.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def longest(self, since: float = 0.0) -> float:
        return max((latency for started, latency in self.samples if started >= since), default=0.0)


def wait_for_quiet(lab: Lab, timeout: float = 300) -> dict[str, Any]:
    """Until no snapshot is being written (the new sandbox's status says; an older one has no such field)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = lab.admin().status(counts=False)
        if not (status.get("storage") or {}).get("snapshot_running"):
            return status
        time.sleep(0.2)
    return {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=float, default=35.0)
    parser.add_argument("--lab-root", type=Path, default=ROOT, help="the checkout of the lab to run")
    args = parser.parse_args()
    root = args.lab_root.resolve()
    state = Path(tempfile.mkdtemp(prefix="bench-persistence-")) / "lab"
    lab = Lab(root, state, free_port())
    figures: dict[str, str] = {}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True, capture_output=True,
                            check=False).stdout.strip()
    print(f"checkout {root} ({commit or 'not a git checkout'})")
    print(f"machine speed: {reference_us():.1f} us per sum(range(1000)), load {os.getloadavg()[0]:.1f}")
    lab.up()
    try:
        admin = lab.admin()
        admin.post("workload", {"enabled": True, "orders_per_hour": 60})
        replication_on(lab)
        hourly_backups(lab, copy=False)
        s3 = lab.client("s3")
        s3.create_bucket(Bucket="bench-probe")
        s3.put_object(Bucket="bench-probe", Key="small", Body=b"x" * 1024)
        started = time.perf_counter()
        admin.post("clock", {"action": "advance", "duration": f"{args.days:g}d"}, timeout=1800)
        print(f"built the world: {args.days:g} days in {time.perf_counter() - started:.1f} s; sandbox RSS "
              f"{lab.rss_mb():.0f} MB")
        began = time.perf_counter()
        wait_for_quiet(lab)
        print(f"  (an automatic snapshot after the advance, if any, done {time.perf_counter() - began:.1f} s later)")

        with Prober(lab, "bench-probe", "small") as probe:
            time.sleep(3)
            quiet = probe.longest()  # the same calls with no snapshot: the noise floor of this machine now
            started = time.perf_counter()
            answer = admin.snapshot()
            took = time.perf_counter() - started
            held = f", the lock held {answer['lock_held_ms']:.0f} ms" if "lock_held_ms" in answer else ""
            figures["snapshot"] = (f"{probe.longest(started) * 1000:.0f} ms longest GetObject while a "
                                   f"{answer.get('snapshot_bytes', 0) / 2**20:.0f} MB snapshot was taken "
                                   f"({took:.2f} s{held}); {quiet * 1000:.0f} ms longest in 3 s without")
        print("snapshot:", figures["snapshot"])

        with Prober(lab, "bench-probe", "small") as probe:
            writer = lab.client("s3")
            own: list[float] = []
            started = time.perf_counter()
            for n in range(1100):
                began = time.perf_counter()
                writer.put_object(Bucket="bench-probe", Key=f"w{n % 50}", Body=b"w" * 512)
                own.append(time.perf_counter() - began)
            wait_for_quiet(lab)
            time.sleep(0.3)
            figures["auto"] = (f"{probe.longest(started) * 1000:.0f} ms longest GetObject of another client, "
                               f"{max(own) * 1000:.0f} ms the writer's slowest of its 1,100 puts")
        print("automatic snapshot:", figures["auto"])

        # Clients made and used once before the restart: their first call after it measures the sandbox,
        # not botocore loading a service's model and endpoint rules (half a second for DynamoDB here).
        s3_after, dynamodb_after = lab.client("s3"), lab.client("dynamodb")
        s3_after.get_object(Bucket="bench-probe", Key="small")["Body"].read()
        dynamodb_after.get_item(TableName="securecart-order-history", Key={"order_id": {"S": "ORD-000001"}})
        status = admin.status(counts=False)
        journal = (status.get("storage") or {}).get("journal_records", status.get("journal_records"))
        rss = lab.rss_mb()
        seconds, said = lab.run("down")
        figures["down"] = f"{seconds:.2f} s ({journal} changes in the journal; RSS was {rss:.0f} MB): {said.strip()}"
        print("lab down:", figures["down"])

        up_seconds = lab.up()
        began = time.perf_counter()
        s3_after.get_object(Bucket="bench-probe", Key="small")["Body"].read()
        first_s3 = time.perf_counter() - began
        began = time.perf_counter()
        dynamodb_after.get_item(TableName="securecart-order-history", Key={"order_id": {"S": "ORD-000001"}})
        first_dynamodb = time.perf_counter() - began
        figures["first"] = (f"first S3 call {first_s3 * 1000:.0f} ms, then DynamoDB {first_dynamodb * 1000:.0f} ms "
                            f"after `lab up` returned in {up_seconds:.2f} s")
        print("restart:", figures["first"])
        status = admin.status(counts=True)
        print(f"  orders {status['resources']['orders']['rds_rows']}, S3 objects us-east-1 "
              f"{status['resources']['us-east-1']['s3_objects']}, RSS {lab.rss_mb():.0f} MB")
    finally:
        subprocess.run([sys.executable, "-m", "lab", "down", "--state-dir", str(state)], cwd=root, env=lab.env,
                       capture_output=True, timeout=300, check=False)
    print()
    print("| figure | goal | measured |")
    print("|---|---|---|")
    for name, label in (("snapshot", "longest wait of another client's call during a snapshot"),
                        ("auto", "longest wait during the automatic snapshot after 1,000 writes"),
                        ("down", "`lab down`, month-old world"),
                        ("first", "first call after `lab up` returns, month-old world")):
        print(f"| {label} | {GOALS[name]} | {figures.get(name, '-')} |")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
