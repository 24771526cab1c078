"""Issue 14 and 11: `lab clock advance 35d` -- its time, another client's longest wait during it, and the
sandbox's memory after it -- this build beside an older one, in one run.

Run: .venv/bin/python benchmarks/bench_advance.py [--old 4a0c824] [--rounds 2] [--days 35] [--world default|month]
                                                  [--then 30]

Each build is a checkout run with this venv (PYTHONPATH picks its lab/; the old one is checked out into a
temporary git worktree, removed at the end). Per round and build, interleaved (a busy machine hurts both alike):
`lab up` (the CLI, the world from the template), with `--world month` the month-old world of
bench_month_old.py (versioned invoices replicated to us-west-2, hourly AWS Backup of the four world resources,
one order a minute), then `lab clock advance DAYS` through the CLI while another client (bench_month_old's
Prober: an S3 get, an S3 put and a DynamoDB get, one every 20 ms) calls the sandbox. Printed per build: the
advance's wall time and the sandbox's CPU time during it (the CPU time does not count the waits for a core on
a busy machine), the other client's longest wait and p99, the resident memory before and after, and with
--then a second advance of that many days (memory per sim day). Every round prints the CPU reference
(`sum(range(1000))`, 9-10 us when quiet) and the load average. With --no-probe no other client runs (an old
build without slices makes it wait the whole advance, so it calls far less: the CPU times compare only so).
Loopback only; everything stops by itself.
Timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# (the benchmarks directory is not a package: its modules are imported from the path set above)
from bench_architecture import Build, rss_mb
from bench_month_old import Prober, configure_world, machine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OLD = "4a0c824"  # the build before lab/kernel, issue 11's baseline
_NO_CALLS = {"calls": 0, "max_ms": float("nan"), "p50_ms": float("nan"), "p99_ms": float("nan")}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Running:
    """A build's sandbox as bench_month_old's configure_world wants it: an endpoint and the admin API."""

    def __init__(self, build: Build, port: int, state: Path) -> None:
        self.build, self.state = build, state
        self.endpoint = f"http://127.0.0.1:{port}"
        self.pid = int((state / "sandbox.pid").read_text())

    def admin(self, method: str, path: str, body: Any = None, timeout: float = 900) -> Any:
        import urllib3

        answer = urllib3.PoolManager().request(method, f"{self.endpoint}/_lab/{path}", timeout=timeout,
                                               body=json.dumps(body).encode() if body is not None else None,
                                               headers={"Content-Type": "application/json"})
        if answer.status >= 400:
            raise RuntimeError(f"{method} /_lab/{path}: {answer.status} {answer.data[:300]!r}")
        return json.loads(answer.data)

    def advance(self, days: float, probe: bool = True) -> dict[str, Any]:
        prober = Prober(self.endpoint) if probe else None
        if prober is not None:
            prober.start()
            time.sleep(0.2)
        reference = machine()
        cpu, started = cpu_seconds(self.pid), time.perf_counter()
        self.build.lab("clock", "advance", f"{days:g}d", "--state-dir", str(self.state), timeout=3600)
        wall = time.perf_counter() - started
        return {"seconds": wall, "cpu_s": cpu_seconds(self.pid) - cpu, "machine": reference,
                "other_client": prober.finish() if prober is not None else _NO_CALLS, "rss_mb": rss_mb(self.pid)}


def one_round(build: Build, scratch: Path, args: argparse.Namespace) -> dict[str, Any]:
    with build.up(scratch) as (_, port, state):
        sandbox = Running(build, port, state)
        if args.world == "month":
            configure_world(sandbox)
        figures: dict[str, Any] = {"rss_before_mb": rss_mb(sandbox.pid)}
        figures["advance"] = sandbox.advance(args.days, probe=not args.no_probe)
        if args.then:
            figures["then"] = sandbox.advance(args.then, probe=not args.no_probe)
        return figures


@contextlib.contextmanager
def old_tree(commit: str, scratch: Path) -> Any:
    tree = scratch / f"old-{commit}"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit], check=True,
                   capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False,
                       capture_output=True)


def report(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> None:
    def median(name: str, pick: Any) -> str:
        values = [pick(found) for found in results[name]]
        return f"{statistics.median(values):.2f}" + (f" ({min(values):.2f}-{max(values):.2f})" if len(values) > 1
                                                     else "")

    rows: list[tuple[str, Any]] = [
        (f"`lab clock advance {args.days:g}d` (s)", lambda f: f["advance"]["seconds"]),
        ("  the sandbox's CPU time during it (s)", lambda f: f["advance"]["cpu_s"]),
        ("  CPU reference before it (us)", lambda f: f["advance"]["machine"]["us"]),
        ("  load average before it", lambda f: f["advance"]["machine"]["load"]),
        ("  another client's longest wait (ms)", lambda f: f["advance"]["other_client"]["max_ms"]),
        ("  its p99 / p50 (ms)", None),
        ("RSS before / after (MB)", None),
    ]
    if args.then:
        rows += [(f"then `lab clock advance {args.then:g}d` (s)", lambda f: f["then"]["seconds"]),
                 ("  the sandbox's CPU time (s)", lambda f: f["then"]["cpu_s"]),
                 ("  another client's longest wait (ms)", lambda f: f["then"]["other_client"]["max_ms"]),
                 ("  RSS after (MB)", lambda f: f["then"]["rss_mb"]),
                 ("  RSS per sim day of it (MB)",
                  lambda f: (f["then"]["rss_mb"] - f["advance"]["rss_mb"]) / args.then)]
    names = list(results)
    print(f"{'figure':<46}" + "".join(f"{name:>28}" for name in names))
    for label, pick in rows:
        cells = []
        for name in names:
            if label.startswith("  its p99"):
                waits = [found["advance"]["other_client"] for found in results[name]]
                cells.append(" / ".join(f"{statistics.median(wait[k] for wait in waits):.0f}"
                                        for k in ("p99_ms", "p50_ms")))
            elif label.startswith("RSS before"):
                cells.append(f"{statistics.median(f['rss_before_mb'] for f in results[name]):.0f} / "
                             f"{statistics.median(f['advance']['rss_mb'] for f in results[name]):.0f}")
            else:
                cells.append(median(name, pick))
        print(f"{label:<46}" + "".join(f"{cell:>28}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=DEFAULT_OLD, help="the build to compare with ('' for none)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--days", type=float, default=35.0)
    parser.add_argument("--then", type=float, default=0.0, help="a second advance of this many days")
    parser.add_argument("--no-probe", action="store_true",
                        help="no other client during the advances (the CPU time is then the advance's alone)")
    parser.add_argument("--world", choices=("default", "month"), default="default",
                        help="default: the world as `lab up` makes it; month: bench_month_old's month-old world")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-advance-"))
    with contextlib.ExitStack() as stack:
        builds = [Build("this build", ROOT, scratch)]
        if args.old:
            builds.insert(0, Build(f"old {args.old}", stack.enter_context(old_tree(args.old, scratch)), scratch))
        results: dict[str, list[dict[str, Any]]] = {build.name: [] for build in builds}
        for round_ in range(1, args.rounds + 1):
            for build in builds:
                found = one_round(build, scratch, args)
                results[build.name].append(found)
                print(f"round {round_}, {build.name}: {found['advance']['seconds']:.2f} s, "
                      f"cpu {found['advance']['cpu_s']:.2f} s, longest wait "
                      f"{found['advance']['other_client']['max_ms']:.0f} ms, RSS {found['advance']['rss_mb']:.0f} MB "
                      f"(ref {found['advance']['machine']['us']:.1f} us, L{found['advance']['machine']['load']:.1f})",
                      file=sys.stderr, flush=True)
        print(json.dumps(results), file=sys.stderr)
        report(results, args)


if __name__ == "__main__":
    main()
