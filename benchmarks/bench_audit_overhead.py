"""Issue 3 figure: request-path overhead of the engines and the audit over the bare gateway (target <= 1.10).

Two sandboxes run in this process, each behind its own HTTP server on 127.0.0.1: the full one (every
engine and service API, the audit handler) and a bare one (the same gateway with no engines, no service APIs
and no audit). The same boto3
calls -- S3 PutObject/GetObject of 1 KiB, DynamoDB PutItem/GetItem -- go to both, alternating call by
call so that drift of a busy machine falls on both alike. Both sandboxes share moto's in-process state, so each
uses its own bucket and table.

Run: .venv/bin/python benchmarks/bench_audit_overhead.py [--ops 300] [--rounds 3]
Prints per-operation median latency for each, the ratio, and the audit handler's own time per call;
timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.awsclient import client
from lab.backends.embedded import EmbeddedBackend
from lab.sandbox.apis import ServiceApis
from lab.sandbox.core import Sandbox
from lab.sandbox.server import make_server
from lab.services.cloudtrail.engine import CloudTrail


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


AUDIT_SECONDS: list[float] = []  # time spent in the audit handler of the full sandbox, per call


def timed_audit(handler: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def record_api_call(chain: Any, ctx: Any) -> None:
        began = time.perf_counter()
        handler(chain, ctx)
        AUDIT_SECONDS.append(time.perf_counter() - began)

    return record_api_call


def start(bare: bool) -> tuple[Sandbox, Any]:
    port = free_port()
    sandbox = Sandbox(EmbeddedBackend(), Path(tempfile.mkdtemp(prefix="bench-audit-")), port=port, seed_world=False)
    chain = sandbox.app.chain
    if bare:
        chain.response_handlers = [handler for handler in chain.response_handlers
                                   if getattr(handler, "__name__", "") != "record_api_call"]
        sandbox.engines.engines = []  # no engine observes or runs: the bare gateway
        sandbox.apis = ServiceApis(sandbox, ())  # and no lab service API answers
    else:
        chain.response_handlers = [timed_audit(handler) if getattr(handler, "__name__", "") == "record_api_call"
                                   else handler for handler in chain.response_handlers]
    server = make_server("127.0.0.1", port, sandbox.app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sandbox.boot()
    return sandbox, server


def workload(endpoint: str, tag: str) -> dict[str, Callable[[int], Any]]:
    s3 = client("s3", "us-east-1", endpoint)
    dynamodb = client("dynamodb", "us-east-1", endpoint)
    bucket = table = f"bench-audit-{tag}"
    s3.create_bucket(Bucket=bucket)
    dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    body = os.urandom(1024)
    return {
        "s3 put 1KiB": lambda i: s3.put_object(Bucket=bucket, Key=f"k{i}", Body=body),
        "s3 get 1KiB": lambda i: s3.get_object(Bucket=bucket, Key=f"k{i}")["Body"].read(),
        "dynamodb put": lambda i: dynamodb.put_item(TableName=table, Item={"k": {"S": str(i)}, "v": {"S": "x" * 100}}),
        "dynamodb get": lambda i: dynamodb.get_item(TableName=table, Key={"k": {"S": str(i)}}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=300, help="calls per operation per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    full, full_server = start(bare=False)
    bare, bare_server = start(bare=True)
    calls = {"full": workload(full.endpoint, "full"), "bare": workload(bare.endpoint, "bare")}
    names = list(calls["full"])
    for kind in calls:  # warm both paths (model loading, first-use imports) before measuring
        for name in names:
            for i in range(20):
                calls[kind][name](i)
    samples: dict[str, dict[str, list[float]]] = {kind: {name: [] for name in names} for kind in calls}
    AUDIT_SECONDS.clear()
    # Alternate full and bare call by call, so that a busy machine slows both alike.
    for i in range(args.rounds * args.ops):
        for name in names:
            for kind in (("full", "bare") if i % 2 == 0 else ("bare", "full")):
                began = time.perf_counter()
                calls[kind][name](1000 + i)
                samples[kind][name].append(time.perf_counter() - began)

    print(f"request-path latency over HTTP, {args.rounds * args.ops} calls per operation (ms)")
    print(f"{'operation':16} {'bare median':>12} {'full median':>12} {'ratio':>7} {'ratio of means':>15}")
    for name in names:
        bare_ms = statistics.median(samples["bare"][name]) * 1000
        full_ms = statistics.median(samples["full"][name]) * 1000
        mean_ratio = statistics.fmean(samples["full"][name]) / statistics.fmean(samples["bare"][name])
        print(f"{name:16} {bare_ms:12.3f} {full_ms:12.3f} {full_ms / bare_ms:7.3f} {mean_ratio:15.3f}")
    total_bare = sum(statistics.median(samples["bare"][name]) for name in names)
    total_full = sum(statistics.median(samples["full"][name]) for name in names)
    print(f"{'all four':16} {total_bare * 1000:12.3f} {total_full * 1000:12.3f} {total_full / total_bare:7.3f}"
          "   (target <= 1.10)")
    audit_us = statistics.median(AUDIT_SECONDS) * 1e6
    print(f"audit handler alone: median {audit_us:.1f} us per call = "
          f"{audit_us / 1e3 / (total_bare * 1000 / len(names)) * 100:.2f}% of a bare call; "
          f"{full.engines.find(CloudTrail).state.recorded} calls recorded")
    for server in (full_server, bare_server):
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
