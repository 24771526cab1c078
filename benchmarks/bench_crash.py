"""Issue 13 figure: kill -9 at random moments under concurrent writers, many rounds; every acknowledged write
(S3 body and VersionId, DynamoDB item) must be back after each restart.

The same rounds as tests/integration/test_crash.py (two S3 writers to a versioned bucket, one DynamoDB
writer, error answers and status polls alongside), more of them, with automatic snapshots every
--snapshot-every records so that kills land before, during and after snapshots.

Run: .venv/bin/python benchmarks/bench_crash.py [--rounds 20] [--snapshot-every 200] [--fsync never]
Loopback only; bounded in rounds and in writes per round; prints figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import GUARD_DIR, SandboxHandle, free_port
from tests.integration._crash import Acknowledged, crash_round, prepare


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--snapshot-every", type=int, default=200, help="journal records between automatic snapshots")
    parser.add_argument("--fsync", choices=("always", "batch", "never"), default="never")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    reference = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    env = dict(os.environ, LAB_SNAPSHOT_EVERY=str(args.snapshot_every),
               PYTHONPATH=os.pathsep.join([str(GUARD_DIR), str(ROOT)]))
    env.pop("LAB_STATE_DIR", None)
    sandbox = SandboxHandle(Path(tempfile.mkdtemp(prefix="bench-crash-")) / "lab", free_port(), env)
    rng = random.Random(args.seed)
    acked = Acknowledged()
    lost_total, restarts = 0, []
    print(f"kill -9 rounds: {args.rounds}, automatic snapshot every {args.snapshot_every} records, "
          f"fsync {args.fsync}; machine speed {reference:.1f} us per sum(range(1000))")
    started = time.perf_counter()
    try:
        sandbox.up("--fsync", args.fsync)
        prepare(sandbox)
        for number in range(args.rounds):
            before = len(acked.objects) + len(acked.items)
            result = crash_round(sandbox, acked, rng, number, kill_window=(0.0, 1.0), writes_per_thread=3000,
                                 writes_before_kill=(10, 300))
            lost_total += len(result.lost)
            restarts.append(result.restart_s)
            print(f"  round {number + 1}: killed after {result.kill_after_s:.2f} s, "
                  f"{result.objects + result.items - before} writes acknowledged this round, "
                  f"restart {result.restart_s:.2f} s, lost {len(result.lost)}"
                  + (f": {result.lost[:3]}" if result.lost else ""))
        snapshots = (sandbox.state_dir / "sandbox.log").read_text().count("(automatic)")
    finally:
        sandbox.down()
    print(f"rounds {args.rounds}, acknowledged writes {len(acked.objects)} S3 versions + {len(acked.items)} "
          f"DynamoDB items, lost {lost_total}; automatic snapshots {snapshots}; restart (lab up after kill -9) "
          f"median {statistics.median(restarts):.2f} s, max {max(restarts):.2f} s; "
          f"{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
