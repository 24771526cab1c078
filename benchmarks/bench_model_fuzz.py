"""Hostile values, well-formed requests: every operation of the labs' services called with parameters drawn
from its botocore input shape (tests/integration/_model_fuzz.py), through boto3 against a real sandbox on
127.0.0.1. Prints the answers by kind per service, every defect (a 5xx but 501, an answer botocore cannot
parse, a dropped connection, no answer within the read timeout) with the operation and the parameters that
caused it, whether the sandbox stayed healthy with its canary intact, its resident memory before and after,
and the time taken with a CPU reference. Stops the sandbox by itself.

Run: .venv/bin/python benchmarks/bench_model_fuzz.py [--examples 5] [--services s3,rds] [--seed 0]
     [--operations CreateBucket,...] [--show 40]
Loopback only; bounded by --examples per operation and the client's read timeout per call.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # (the benchmarks are not a package)

from bench_architecture import rss_mb
from bench_fuzz import cpu_reference, throwaway_sandbox
from botocore.exceptions import BotoCoreError, ClientError

from tests.integration._model_fuzz import SERVICES, Outcome, fuzz_client, fuzz_operation, live_names, operations

CANARY_BUCKET, CANARY_KEY, CANARY_BODY = "model-fuzz-canary", "canary.txt", b"the canary of the model fuzz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=5, help="calls per operation")
    parser.add_argument("--services", default=",".join(SERVICES))
    parser.add_argument("--operations", default="", help="only these operations (comma-separated)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=40, help="print at most this many defects")
    args = parser.parse_args()
    cpu_reference()
    with throwaway_sandbox("bench-model-fuzz-") as (port, state):
        return run(args, f"http://127.0.0.1:{port}", state)


def run(args: argparse.Namespace, endpoint: str, state: Path) -> int:
    s3 = fuzz_client("s3", endpoint)
    s3.create_bucket(Bucket=CANARY_BUCKET)
    s3.put_object(Bucket=CANARY_BUCKET, Key=CANARY_KEY, Body=CANARY_BODY)
    wanted = {name for name in args.operations.split(",") if name}
    extra = live_names(endpoint)
    pid = int((state / "sandbox.pid").read_text())
    memory_before = rss_mb(pid)
    defects: list[tuple[Outcome, dict]] = []
    per_service: dict[str, collections.Counter[str]] = {}
    slowest: list[tuple[float, str]] = []
    started = time.perf_counter()
    calls = 0
    for service in [name for name in args.services.split(",") if name]:
        client = fuzz_client(service, endpoint)
        counts = per_service.setdefault(service, collections.Counter())
        for operation in operations(service):
            if wanted and operation not in wanted:
                continue
            began = time.perf_counter()
            for outcome, params in fuzz_operation(client, operation, args.examples, args.seed, extra):
                counts[outcome.kind] += 1
                calls += 1
                if outcome.defect:
                    defects.append((outcome, params))
            slowest.append((time.perf_counter() - began, f"{service} {operation}"))
    elapsed = time.perf_counter() - started
    print(f"{calls} calls, {args.examples} per operation (seed {args.seed}), in {elapsed:.1f} s")
    kinds = ("ok", "error", "not-implemented", "refused-by-client", "server-error", "unparseable",
             "connection-dropped", "timeout")
    print(f"  {'service':<16}" + "".join(f"{kind:>19}" for kind in kinds))
    for service, counts in per_service.items():
        print(f"  {service:<16}" + "".join(f"{counts.get(kind, 0):>19}" for kind in kinds))
    print("slowest operations (all their calls):")
    for seconds, label in sorted(slowest, reverse=True)[:5]:
        print(f"  {seconds:6.2f} s  {label}")
    by_operation = collections.Counter(f"{o.service} {o.operation}: {o.kind} {o.detail[:150]}" for o, _ in defects)
    print(f"defects: {len(defects)} in {len({(o.service, o.operation) for o, _ in defects})} operations")
    for line, count in by_operation.most_common(args.show):
        print(f"  {count} x {line}")
    shown: set[tuple[str, str]] = set()
    for outcome, params in defects:
        if (outcome.service, outcome.operation) not in shown and len(shown) < args.show:
            shown.add((outcome.service, outcome.operation))
            print(f"  e.g. {outcome.service} {outcome.operation}({str(params)[:400]})")
    healthy = canary = False
    try:
        canary = s3.get_object(Bucket=CANARY_BUCKET, Key=CANARY_KEY)["Body"].read() == CANARY_BODY
        healthy = True
    except (ClientError, BotoCoreError) as error:  # the verdict is printed, not raised
        print(f"  after the fuzz: {type(error).__name__}: {error}")
    print(f"afterwards: healthy {healthy}, canary intact {canary}; resident memory {memory_before:.0f} MB before, "
          f"{rss_mb(pid):.0f} MB after")
    return 0 if healthy and canary and not defects else 1


if __name__ == "__main__":
    sys.exit(main())
