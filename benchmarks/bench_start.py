"""Issue 14: start to ready -- spawning the sandbox until S3 and DynamoDB both answer -- beside moto_server's,
measured in turns in one run (goal: at most 1.5x moto_server's).

Run: .venv/bin/python benchmarks/bench_start.py [--rounds 9] [--baseline COMMIT]

Each round starts, in turn, moto_server and the sandbox (`python -m lab.sandbox.server` on a fresh state dir:
the world restored from the template cache, as `lab up` starts it), and with --baseline the sandbox of that
commit's tree too (taken with `git archive`, its bytecode compiled as scripts/setup compiles it, run with this
venv). Each build has its own cache dir (XDG_CACHE_HOME), warmed by one start before the timed ones, as a
learner's is after their first `lab up`. Printed: the median, least and most seconds of each, its ratio to
moto_server's median, and the machine's speed before the rounds (`sum(range(1000))`, best of 5, in
microseconds; 9-10 us when quiet). Everything listens on 127.0.0.1 and stops by itself. Timings are never
pass/fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli_start import baseline_tree, compile_tree
from bench_month_old import ACCOUNT, Server, aws, free_port, machine, until_ready

ROOT = Path(__file__).resolve().parent.parent


class Build:
    """A tree of the lab and its own cache dir; `start()` spawns its sandbox on a fresh state dir."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root
        self.cache = Path(tempfile.mkdtemp(prefix="bench-start-cache-"))
        self.seconds: list[float] = []

    def start(self) -> Server:
        env = dict(os.environ, PYTHONPATH=str(self.root), XDG_CACHE_HOME=str(self.cache), MOTO_ACCOUNT_ID=ACCOUNT)
        state = Path(tempfile.mkdtemp(prefix="bench-start-state-")) / "state"
        port = free_port()
        return Server([sys.executable, "-m", "lab.sandbox.server", "--port", str(port), "--state-dir", str(state)],
                      port, env)


def timed(make: Callable[[], Server]) -> float:
    started = time.perf_counter()
    server = make()
    try:
        return until_ready(server.endpoint, started)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--baseline", help="a commit whose sandbox starts in the same rounds")
    args = parser.parse_args()
    compile_tree(ROOT)
    builds = [Build("this", ROOT)]
    if args.baseline:
        builds.insert(0, Build(f"base {args.baseline[:10]}", baseline_tree(args.baseline)))
    aws("s3", "http://127.0.0.1:1")  # (the first client made pays for loading botocore's models: not timed)
    aws("dynamodb", "http://127.0.0.1:1")
    for build in builds:
        timed(build.start)  # (fills its cache dir: the world template, the model catalog)
    before = machine()
    moto: list[float] = []
    for _ in range(args.rounds):
        moto.append(timed(Server.moto))
        for build in builds:
            build.seconds.append(timed(build.start))
    after = machine()
    print(f"start to ready (S3 ListBuckets and DynamoDB ListTables answered), {args.rounds} rounds in turns; "
          f"machine {before['us']:.1f} us / load {before['load']:.1f} before, {after['us']:.1f} us / "
          f"{after['load']:.1f} after")
    reference = statistics.median(moto)
    print(f"  {'moto_server':24} median {reference:5.2f} s  (least {min(moto):.2f}, most {max(moto):.2f})")
    for build in builds:
        median = statistics.median(build.seconds)
        print(f"  {'sandbox, ' + build.name:24} median {median:5.2f} s  (least {min(build.seconds):.2f}, most "
              f"{max(build.seconds):.2f})  {median / reference:.2f}x moto_server  (goal <= 1.5x)")
    for build in builds:
        shutil.rmtree(build.cache, ignore_errors=True)


if __name__ == "__main__":
    main()
