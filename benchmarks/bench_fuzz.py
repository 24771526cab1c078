"""Issue 13 figure: how the gateway answers thousands of random mutations of valid requests (every protocol).

Starts a sandbox (`lab up`) on 127.0.0.1 in a throw-away state dir, sends --count mutations of the fuzz test's
valid requests (tests/integration/_fuzz_requests.py: json, rest-json, rest-xml, query, ec2, smithy-rpc-v2-cbor),
one at a time, seeded, and prints the answers by status class and by protocol, how many were not AWS answers
(a 5xx other than 501 NotImplemented, an HTML page, an error without a code botocore reads) with the first few
of them, whether the sandbox stayed healthy and its canary object and item intact, and the time taken with a
CPU reference. Stops the sandbox by itself.

Run: .venv/bin/python benchmarks/bench_fuzz.py [--count 3000] [--seed 13]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port
from tests.integration._fuzz_requests import (
    CANARY_BUCKET,
    CANARY_TABLE,
    FUZZ_BUCKET,
    base_requests,
    error_code,
    mutate,
    problem_with,
    send,
)

CANARY_BODY = b"the canary"


def lab(*args: str, state: Path, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "lab", *args, "--state-dir", str(state)], env=env, check=True,
                   capture_output=True, timeout=180)


def cpu_reference() -> float:
    """us per sum(range(1000)), best of 5, printed: the machine's speed to read the run's times against."""
    reference = min(timeit.repeat("sum(range(1000))", number=1000, repeat=5)) * 1000
    print(f"CPU reference: sum(range(1000)) takes {reference:.1f} us")
    return reference


@contextlib.contextmanager
def throwaway_sandbox(prefix: str) -> Iterator[tuple[int, Path]]:
    """`lab up` on 127.0.0.1 in a temporary state dir, (port, state dir), stopped and removed afterwards."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": "fuzz", "AWS_SECRET_ACCESS_KEY": "fuzz"}
    env.pop("AWS_ENDPOINT_URL", None)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        state = Path(tmp) / "state"
        lab("up", "--port", str(port), state=state, env=env)
        try:
            yield port, state
        finally:
            lab("down", state=state, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--show", type=int, default=10, help="print the first N problems")
    args = parser.parse_args()
    reference = cpu_reference()
    with throwaway_sandbox("bench-fuzz-") as (port, _):
        return run(args, port, reference)


def run(args: argparse.Namespace, port: int, reference: float) -> int:
    from lab.awsclient import client

    endpoint = f"http://127.0.0.1:{port}"
    s3, dynamodb = client("s3", "us-east-1", endpoint), client("dynamodb", "us-east-1", endpoint)
    s3.create_bucket(Bucket=FUZZ_BUCKET)
    s3.create_bucket(Bucket=CANARY_BUCKET)
    s3.put_object(Bucket=CANARY_BUCKET, Key="canary.txt", Body=CANARY_BODY)
    dynamodb.create_table(TableName=CANARY_TABLE, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    dynamodb.put_item(TableName=CANARY_TABLE, Item={"id": {"S": "canary"}})
    bases = base_requests()
    rng = random.Random(args.seed)
    by_class: collections.Counter[str] = collections.Counter()
    by_protocol: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    problems: list[str] = []
    server_errors: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    for _ in range(args.count):
        base = rng.choice(bases)
        request = mutate(base, rng)
        try:
            answer = send("127.0.0.1", port, request)
        except OSError as exc:
            by_class["no answer"] += 1
            problems.append(f"{request.label}: no answer ({exc})")
            continue
        status_class = f"{answer.status // 100}xx"
        by_class[status_class] += 1
        by_protocol[base.protocol][status_class] += 1
        if answer.status >= 500:
            server_errors[f"{answer.status} {error_code(answer) or '?'} ({base.label})"] += 1
        problem = problem_with(request, answer)
        if problem:
            by_class["not an AWS answer"] += 1
            problems.append(f"{request.label} ({request.method} {request.path[:60]}?{request.query[:60]}): "
                            f"{problem[:240]}")
    elapsed = time.perf_counter() - started
    print(f"{args.count} mutations (seed {args.seed}) in {elapsed:.1f} s, {elapsed / args.count * 1000:.1f} ms each")
    for name in ("2xx", "3xx", "4xx", "5xx", "no answer", "not an AWS answer"):
        print(f"  {name:>18}: {by_class.get(name, 0)}")
    for protocol, counts in sorted(by_protocol.items()):
        print(f"  {protocol:>18}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for line, count in server_errors.most_common():
        print(f"  5xx: {count} x {line}")
    for line in problems[:args.show]:
        print("  problem:", line)
    healthy = send("127.0.0.1", port, base_requests()[0]).status == 200
    canary = s3.get_object(Bucket=CANARY_BUCKET, Key="canary.txt")["Body"].read() == CANARY_BODY
    item = "Item" in dynamodb.get_item(TableName=CANARY_TABLE, Key={"id": {"S": "canary"}}, ConsistentRead=True)
    print(f"afterwards: healthy {healthy}, canary object intact {canary}, canary item intact {item}")
    return 0 if healthy and canary and item and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
