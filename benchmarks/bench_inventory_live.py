"""Issue 14 figures, in process: what the sandbox spends on an inventory and on `lab status`'s counts in a
month-old world, without the CLI, HTTP or JSON decoding on the client side.

Run: .venv/bin/python benchmarks/bench_inventory_live.py [--keep DIR] [--days 35] [--rounds 5] [--profile]

Builds bench_backup.py's world in this process (versioning and replication on the invoices buckets, an hourly
AWS Backup plan selecting the four world resources, one order a minute, --days of sim time) and measures:
- the full inventory (`collect_in_sandbox` and its JSON, what GET /_lab/inventory answers), with the world
  unchanged since the last one, and right after a minute of sim time (an order, its replica, a backup maybe);
- the parts `lab check 01-aws-backup` and `lab check 02-s3-crr` ask for, right after a minute of sim time;
- `lab status`'s resource counts (GET /_lab/status?counts=1), right after a minute of sim time.
With --keep DIR the month-old state dir is saved there (a snapshot), and a later run with the same --keep
restores it instead of building it again. --profile prints cProfile's top functions of each figure. Every
group prints the machine's speed just before it (`sum(range(1000))`, best of 5: 9-10 us here when quiet).
Timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_backup import hourly_backups, replication_on

from lab.backends.embedded import EmbeddedBackend
from lab.sandbox.core import Sandbox
from lab.services.workload.engine import Workload

MARKER = "bench-inventory-live-built"  # in a --keep state dir: the month-old world is saved there


def reference_us() -> float:
    """The machine's speed now: microseconds per sum(range(1000)), best of 5 timings."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def world(args: argparse.Namespace) -> Sandbox:
    state = args.keep if args.keep is not None else Path(tempfile.mkdtemp(prefix="bench-inventory-live-"))
    reused = (state / MARKER).exists()
    started = time.perf_counter()
    sandbox = Sandbox(EmbeddedBackend(), state / "state")
    sandbox.boot()
    sandbox.warm_up()
    if reused:
        print(f"restored the saved world from {state} in {time.perf_counter() - started:.1f} s")
        return sandbox
    workload = sandbox.engines.find(Workload)
    assert workload is not None
    workload.state.orders_per_hour = 60.0
    workload.state.next_at = None
    replication_on(sandbox)
    hourly_backups(sandbox, False)
    with sandbox.lock:
        sandbox.engines.run_until(sandbox.clock.now() + args.days * 86400)
    print(f"built the world ({args.days:g} sim days) in {time.perf_counter() - started:.1f} s")
    if args.keep is not None:
        sandbox.snapshot("bench")
        (state / MARKER).write_text(f"{args.days:g}\n")
    return sandbox


def advance(sandbox: Sandbox, seconds: float = 60.0) -> None:
    with sandbox.lock:
        sandbox.run_until(sandbox.clock.now() + seconds)


def measure(label: str, action: Callable[[], Any], rounds: int, before: Callable[[], Any] | None, goal: str,
            profile: bool) -> Any:
    reference = reference_us()
    samples, result = [], None
    profiler = cProfile.Profile() if profile else None
    for _ in range(rounds):
        if before is not None:
            before()
        started = time.process_time()
        if profiler is not None:
            profiler.enable()
        result = action()
        if profiler is not None:
            profiler.disable()
        samples.append((time.process_time() - started) * 1000)
    print(f"  {label:62} cpu median {statistics.median(samples):7.1f} ms, best {min(samples):7.1f} ms "
          f"(ref {reference:4.1f} us, load {os.getloadavg()[0]:.1f})" + (f"  goal {goal}" if goal else ""))
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(28)
        print("\n".join("    " + line for line in out.getvalue().splitlines()[6:] if line.strip()))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="keep (or reuse) the month-old state dir here")
    parser.add_argument("--days", type=float, default=35.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile's top functions of each figure")
    args = parser.parse_args()

    from checks.inventory import dumps
    from lab import exercises
    from lab.app.checking import parts_for
    from lab.inventory import collect_in_sandbox
    from lab.world import resource_counts

    sandbox = world(args)
    try:
        collected = collect_in_sandbox(sandbox)
        s3 = collected.regions["us-east-1"].s3.buckets.get("securecart-invoices-use1")
        print(f"orders: {collected.orders.total}, invoices bucket: "
              f"{s3.objects.version_count if s3 and s3.objects else '?'} versions, recovery points: "
              f"{len(collected.regions['us-east-1'].backup.recovery_points)}, errors: {collected.errors[:3]}")
        print("CPU time in this process (the sandbox's side of each request), per call:")
        changed = lambda: advance(sandbox)  # noqa: E731 -- a minute of sim time: an order, its replica
        size = len(measure("full inventory, world unchanged", lambda: dumps(collect_in_sandbox(sandbox)),
                           args.rounds, None, "<= 300 ms", args.profile))
        measure("full inventory, right after a minute of sim time", lambda: dumps(collect_in_sandbox(sandbox)),
                args.rounds, changed, "<= 300 ms", args.profile)
        print(f"  (the full inventory is {size / 2**20:.2f} MB of JSON)")
        for lab_id in ("01-aws-backup", "02-s3-crr"):
            parts = parts_for([exercises.load(lab_id)], "configure")
            measure(f"`lab check {lab_id}`'s parts, after a minute", lambda parts=parts: dumps(collect_in_sandbox(
                sandbox, parts)), args.rounds, changed, "<= 300 ms", args.profile)
        measure("`lab status`'s resource counts, after a minute", lambda: sandbox.status(with_counts=True),
                args.rounds, changed, "<= 100 ms", args.profile)
        measure("the same, world unchanged", lambda: resource_counts(sandbox), args.rounds, None, "", False)
    finally:
        sandbox.store.close()


if __name__ == "__main__":
    main()
