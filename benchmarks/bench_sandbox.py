"""Issue 2 figures: `lab up` to healthy, gateway overhead against raw moto, resident memory; and (issue 14)
start to ready beside moto_server's, in the same run.

Run: .venv/bin/python benchmarks/bench_sandbox.py [--rounds 5] [--ops 300]
Everything runs on 127.0.0.1 and stops by itself. Prints the figures; timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_month_old import (  # (the same measures as bench_month_old.py's)
    Server,
    compile_tree,
    reference_us,
    start_to_ready,
)

from lab.awsclient import client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "lab", *args], check=True, capture_output=True, text=True)


HEALTHY: list[float] = []  # time to the first answer of /_localstack/health, per `lab up` timed


def time_up(extra: list[str], reuse_dir: Path | None = None) -> tuple[float, Path, int]:
    """Seconds from running `lab up` to its return (the sandbox ready: state restored, world seeded);
    the time to the first health answer (LocalStack's notion of healthy) goes to HEALTHY."""
    state = reuse_dir or Path(tempfile.mkdtemp(prefix="bench-lab-"))
    port = free_port()
    pool = urllib3.PoolManager()
    started = time.perf_counter()
    command = subprocess.Popen([sys.executable, "-m", "lab", "up", "--port", str(port), "--state-dir", str(state),
                                *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    healthy = None
    while command.poll() is None:
        if healthy is None:
            try:
                if pool.request("GET", f"http://127.0.0.1:{port}/_localstack/health", timeout=0.2,
                                retries=False).status == 200:
                    healthy = time.perf_counter() - started
            except urllib3.exceptions.HTTPError:
                pass
        time.sleep(0.005)
    ready = time.perf_counter() - started
    if command.returncode != 0:
        raise RuntimeError(f"lab up failed: {command.stderr.read() if command.stderr else ''}")
    HEALTHY.append(healthy if healthy is not None else ready)
    return ready, state, port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def startup(rounds: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, extra, reuse in (("empty", ["--no-world"], False), ("world", [], False), ("restart", [], True)):
            seconds, state, _ = time_up(extra, reuse_dir=results.get("_last") if reuse else None)  # type: ignore[arg-type]
            results.setdefault(name, []).append(seconds)
            results.setdefault(f"{name} healthy", []).append(HEALTHY[-1])
            lab("down", "--state-dir", str(state))
            results["_last"] = state  # type: ignore[assignment]
    results.pop("_last")
    return results


def operations(endpoint: str, ops: int, tag: str) -> dict[str, float]:
    s3 = client("s3", "us-east-1", endpoint)
    dynamodb = client("dynamodb", "us-east-1", endpoint)
    rds = client("rds", "us-east-1", endpoint)
    bucket, table = f"bench-{tag}", f"bench-{tag}"
    s3.create_bucket(Bucket=bucket)
    dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    body = os.urandom(1024)
    calls = {
        "s3 put 1KiB": lambda i: s3.put_object(Bucket=bucket, Key=f"k{i}", Body=body),
        "s3 get 1KiB": lambda i: s3.get_object(Bucket=bucket, Key=f"k{i}")["Body"].read(),
        "dynamodb put": lambda i: dynamodb.put_item(TableName=table, Item={"k": {"S": str(i)}, "v": {"S": "x" * 100}}),
        "dynamodb get": lambda i: dynamodb.get_item(TableName=table, Key={"k": {"S": str(i)}}),
        "rds describe": lambda i: rds.describe_db_instances(),
    }
    out = {}
    for name, call in calls.items():
        call(0)  # warm: first use of a service loads it
        started = time.perf_counter()
        for i in range(ops):
            call(i)
        out[name] = (time.perf_counter() - started) / ops * 1000
    return out


def overhead(ops: int) -> tuple[dict[str, float], dict[str, float], float]:
    moto_port = free_port()
    env = dict(os.environ, MOTO_ACCOUNT_ID="000000000000")
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pool = urllib3.PoolManager()
    for _ in range(200):
        try:
            pool.request("GET", f"http://127.0.0.1:{moto_port}/moto-api/", timeout=1)
            break
        except urllib3.exceptions.HTTPError:
            time.sleep(0.05)
    _, state, port = time_up(["--no-world"])
    try:
        # Interleave the two so that a busy machine hurts both alike.
        raw: dict[str, list[float]] = {}
        lab_: dict[str, list[float]] = {}
        for round_ in range(3):
            for name, ms in operations(f"http://127.0.0.1:{moto_port}", ops, f"raw{round_}").items():
                raw.setdefault(name, []).append(ms)
            for name, ms in operations(f"http://127.0.0.1:{port}", ops, f"lab{round_}").items():
                lab_.setdefault(name, []).append(ms)
        pid = int((state / "sandbox.pid").read_text())
        memory_empty = rss_mb(pid)
    finally:
        lab("down", "--state-dir", str(state))
        moto.terminate()
        moto.wait(10)
    return ({k: statistics.median(v) for k, v in raw.items()}, {k: statistics.median(v) for k, v in lab_.items()},
            memory_empty)


def memory_with_world() -> float:
    _, state, port = time_up([])
    try:
        pid = int((state / "sandbox.pid").read_text())
        operations(f"http://127.0.0.1:{port}", 50, "mem")
        return rss_mb(pid)
    finally:
        lab("down", "--state-dir", str(state))


def ready_beside_moto(rounds: int) -> None:
    """Spawning the process until S3 ListBuckets and DynamoDB ListTables both answer: the sandbox (the world
    restored from the template cache) and moto_server, in turns."""
    compile_tree(ROOT)
    lab_s: list[float] = []
    moto_s: list[float] = []
    reference = reference_us()
    for _ in range(rounds):
        moto_s.append(start_to_ready(Server.moto, 1)["median_s"])
        lab_s.append(start_to_ready(lambda: Server.lab(Path(tempfile.mkdtemp(prefix="bench-ready-")) / "state"),
                                    1)["median_s"])
    lab_median, moto_median = statistics.median(lab_s), statistics.median(moto_s)
    print(f"start to ready (S3 and DynamoDB answering), median of {rounds} in turns, machine speed {reference:.1f} us "
          f"(target <= 1.5x moto_server):")
    print(f"  lab {lab_median:.2f} s (min {min(lab_s):.2f}), moto_server {moto_median:.2f} s (min {min(moto_s):.2f}), "
          f"ratio {lab_median / moto_median:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--ready-only", action="store_true", help="only start to ready beside moto_server")
    args = parser.parse_args()
    ready_beside_moto(args.rounds)
    if args.ready_only:
        return
    up = startup(args.rounds)
    print(f"lab up, median of {args.rounds} (target to healthy <= 1.0 s empty, <= 2.0 s with the world):")
    for name, label in (("empty", "no world (--no-world)"), ("world", "world seeded (fresh state)"),
                        ("restart", "restart with saved world")):
        healthy, ready = up[f"{name} healthy"], up[name]
        print(f"  {label:30} healthy {statistics.median(healthy):.2f} s   ready (lab up returns) "
              f"{statistics.median(ready):.2f} s  (min {min(ready):.2f}, max {max(ready):.2f})")
    raw, gateway, _ = overhead(args.ops)
    print(f"gateway vs raw moto server, ms per call, median of 3 interleaved rounds of {args.ops} "
          "(target ratio <= 1.15):")
    for name in raw:
        print(f"  {name:14} raw moto {raw[name]:.3f}  lab {gateway[name]:.3f}  ratio {gateway[name] / raw[name]:.2f}")
    print(f"resident memory with the world seeded (target <= 250 MB): {memory_with_world():.0f} MB")


if __name__ == "__main__":
    main()
