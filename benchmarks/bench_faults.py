"""Issue 4 figures: what fault injection and drills cost.

1. The fault decision per AWS call (pure, in-process): median microseconds with 0, 10 and 100 rules that do
   not match (the worst case: every rule is looked at).
2. A boto3 S3 GetObject over HTTP through the gateway with no rules and with 50 non-matching rules: median
   milliseconds and their ratio.
3. A running drill's recovery evaluations: wall seconds of `clock advance` 1h and 1d with lab 01's drill
   running, against the same advance without a drill.

Run: .venv/bin/python benchmarks/bench_faults.py [--calls 300]
Timings are never pass/fail; the machine's load shows in them.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.admin_client import AdminClient
from lab.awsclient import client
from lab.backends.embedded import EmbeddedBackend
from lab.gateway.codec.identify import Identity
from lab.sandbox.core import Sandbox
from lab.sandbox.server import make_server
from lab.services.faults.rules import FaultRule, decide


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def decision_microseconds(rules: int, calls: int) -> float:
    table = [FaultRule(id=f"r{n}", source="lab", service="kms", region="eu-west-1", probability=0.5)
             for n in range(rules)]
    identity = Identity("s3", "us-east-1", "GetObject", "rest-xml", "s3", bucket="b", key="k")
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        decide(table, identity, seed=1, now=0.0)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def start_sandbox() -> tuple[Sandbox, str]:
    port = free_port()
    sandbox = Sandbox(EmbeddedBackend(), Path(tempfile.mkdtemp(prefix="bench-faults-")), port=port)
    server = make_server("127.0.0.1", port, sandbox.app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sandbox.boot()
    return sandbox, f"http://127.0.0.1:{port}"


def get_object_ms(endpoint: str, calls: int) -> float:
    s3 = client("s3", "us-east-1", endpoint)
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        s3.get_object(Bucket="securecart-product-images", Key="products/mug.png")["Body"].read()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def advance_seconds(admin: AdminClient, duration: str) -> float:
    started = time.perf_counter()
    admin.post("clock", {"action": "advance", "duration": duration})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()

    for rules in (0, 10, 100):
        print(f"fault decision, {rules:3d} rules: {decision_microseconds(rules, args.calls * 10):7.1f} us (median)")

    sandbox, endpoint = start_sandbox()
    admin = AdminClient(endpoint)
    get_object_ms(endpoint, 20)  # warm up
    bare = get_object_ms(endpoint, args.calls)
    for n in range(50):
        admin.post("faults", {"service": "kms", "region": "eu-west-1", "operation": f"Op{chr(65 + n % 26)}"})
    ruled = get_object_ms(endpoint, args.calls)
    admin._call("DELETE", "/_lab/faults")
    print(f"S3 GetObject over HTTP: {bare:.2f} ms without rules, {ruled:.2f} ms with 50 rules "
          f"(ratio {ruled / bare:.3f})")

    admin.post("clock", {"action": "pause"})
    without = {duration: advance_seconds(admin, duration) for duration in ("1h", "1d")}
    admin.post("drills", {"lab": "01-aws-backup"})
    with_drill = {duration: advance_seconds(admin, duration) for duration in ("1h", "1d")}
    evaluations = admin.get("drills")["drills"][-1]["evaluations"]
    for duration in ("1h", "1d"):
        print(f"clock advance {duration}: {without[duration]:.2f} s without a drill, {with_drill[duration]:.2f} s "
              "with lab 01's drill running")
    print(f"recovery evaluations in those 25 hours: {evaluations}")
    sandbox.request_shutdown()


if __name__ == "__main__":
    main()
