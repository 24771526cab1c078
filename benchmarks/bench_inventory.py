"""Issue 5 figures: a full inventory of both regions (target <= 1 s) and one lab's checks (target <= 300 ms)
against a running, seeded sandbox.

Run: .venv/bin/python benchmarks/bench_inventory.py [--rounds 7] [--advance 1d]
Starts its own sandbox on 127.0.0.1 (stopped at the end). `--advance` plays sim time first so the world
holds more orders (one a minute). Prints the figures; timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab import exercises, grading, inventory
from lab.admin_client import AdminClient
from lab.commands.checks import services_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "lab", *args], check=True, capture_output=True, text=True).stdout


def timed(action, rounds: int) -> tuple[float, float, object]:
    """(median ms, best ms, last result)."""
    samples, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--advance", default="", help="sim time to play before measuring, e.g. 1d")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="bench-inventory-"))
    port = free_port()
    lab("up", "--port", str(port), "--state-dir", str(state))
    endpoint = f"http://127.0.0.1:{port}"
    try:
        if args.advance:
            AdminClient(endpoint).post("clock", {"action": "advance", "duration": args.advance})
        inventory.collect_from_endpoint(endpoint)  # warm: moto loads each service's backend on first use
        median, best, collected = timed(lambda: inventory.collect_from_endpoint(endpoint), args.rounds)
        size = len(inventory.dumps(collected))  # type: ignore[arg-type]
        orders = collected["orders"]["total"]  # type: ignore[index]
        print(f"full inventory, both regions ({orders} orders, {size / 1024:.0f} KiB JSON): "
              f"median {median:.0f} ms, best {best:.0f} ms (target <= 1000 ms)")
        median, best, _ = timed(lambda: inventory.collect_from_endpoint(endpoint), 1)
        labs = exercises.load_all()
        print("one lab's checks (inventory of the parts it reads + evaluation), target <= 300 ms:")
        for exercise in labs.values():
            parts = services_for([exercise], "all")

            def check_lab(exercise=exercise, parts=parts):
                return grading.evaluate(exercise, inventory.collect_from_endpoint(endpoint, parts), phase="all")

            median, best, _report = timed(check_lab, args.rounds)
            evaluation, _, _ = timed(lambda exercise=exercise: grading.evaluate(exercise, collected, phase="all"),
                                     args.rounds)
            print(f"  {exercise.id:26} median {median:4.0f} ms, best {best:4.0f} ms  (checks alone "
                  f"{evaluation:.1f} ms; parts: {', '.join(sorted(parts))})")
        cli = timed(lambda: subprocess.run([sys.executable, "-m", "lab", "check", "02-s3-crr", "--json",
                                            "--state-dir", str(state)], capture_output=True, check=False), 3)
        print(f"`lab check 02-s3-crr --json` end to end (process start included): median {cli[0]:.0f} ms")
        print(json.dumps({"errors": collected["errors"]}, indent=None)[:500])  # type: ignore[index]
    finally:
        lab("down", "--state-dir", str(state))


if __name__ == "__main__":
    main()
