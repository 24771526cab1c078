"""Issue 14: what a `lab` command costs on its own side -- its start (imports), loading the labs, its calls to the
sandbox and printing -- for the commands a learner types all the time, on a fresh world.

Run: .venv/bin/python benchmarks/bench_cli_start.py [--rounds 9] [--baseline COMMIT]

Starts one sandbox on 127.0.0.1 (stopped at the end) and runs each command as a learner does, a new `python -m
lab` process each time: `lab --version`, `lab env`, `lab clock`, `lab status`, `lab check 01-aws-backup`, `lab
check 02-s3-crr`, `lab check` (every lab). With --baseline COMMIT the same commands of that commit's tree (taken
with `git archive`, its bytecode compiled as scripts/setup compiles it) run against the same sandbox, in turns
with this tree's (A B A B ...), so both see the same load. Each figure is the median of --rounds runs, wall time
and CPU time (user + system of the `lab` process; and the least CPU time, the figure least moved by
other work on the machine), printed with the machine's speed just before
(`sum(range(1000))`, best of 5, in microseconds; 9-10 us when the machine is quiet). Each tree has its own
validation cache (XDG_CACHE_HOME), filled by one run before the timed ones, as a learner's is after their first
command; the first `lab check` with an empty cache is measured apart. Timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (("--version",), ("env",), ("clock",), ("status",), ("check", "01-aws-backup"), ("check", "02-s3-crr"),
            ("check",))
GOALS = {("check", "01-aws-backup"): "<= 250 ms", ("check", "02-s3-crr"): "<= 250 ms"}
UNWANTED = ("boto3", "botocore", "moto", "textual", "jsonschema", "yaml", "http.client", "cedarpy",
            "importlib.metadata")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reference_us() -> float:
    """The machine's speed now: microseconds per sum(range(1000)), best of 5 timings."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Tree:
    """One build of the lab: its source root (first on PYTHONPATH) and its own validation cache."""

    def __init__(self, name: str, root: Path, state: Path) -> None:
        self.name, self.root = name, root
        self.cache = Path(tempfile.mkdtemp(prefix=f"bench-cli-cache-{name}-"))
        self.env = {**os.environ, "PYTHONPATH": str(root), "LAB_STATE_DIR": str(state),
                    "XDG_CACHE_HOME": str(self.cache)}

    def run(self, *args: str) -> tuple[float, float, subprocess.CompletedProcess]:
        """(wall ms, CPU ms, the process) of one `python -m lab ARGS`."""
        cpu_before = children_cpu_seconds()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "lab", *args], env=self.env, cwd=self.root,
                              capture_output=True, text=True, check=False)
        wall = (time.perf_counter() - started) * 1000
        if done.returncode not in (0, 1):
            raise SystemExit(f"{self.name}: lab {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
        return wall, (children_cpu_seconds() - cpu_before) * 1000, done

    def loaded(self, *args: str) -> list[str]:
        """Which of UNWANTED modules one command loads (python -X importtime)."""
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "lab", *args], env=self.env,
                              cwd=self.root, capture_output=True, text=True, check=False)
        names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time")}
        return [name for name in UNWANTED if name in names]


def baseline_tree(commit: str) -> Path:
    """The tree of `commit`, extracted apart, its bytecode compiled (this machine sets PYTHONDONTWRITEBYTECODE)."""
    target = Path(tempfile.mkdtemp(prefix="bench-cli-baseline-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    compile_tree(target)
    return target


def compile_tree(root: Path) -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "lab", "checks", "tui"], cwd=root,
                   check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--baseline", default=None, help="a commit whose tree runs the same commands in turns")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="bench-cli-state-"))
    port = free_port()
    compile_tree(ROOT)
    trees = [Tree("this", ROOT, state)]
    if args.baseline:
        trees.insert(0, Tree(f"base {args.baseline[:10]}", baseline_tree(args.baseline), state))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; figures: median of {args.rounds} "
          "runs, wall / CPU ms of the `lab` process (and the best CPU); ref = us per sum(range(1000)) just before")
    up = subprocess.run([sys.executable, "-m", "lab", "up", "--port", str(port), "--state-dir", str(state)],
                        env=trees[-1].env, capture_output=True, text=True, check=False)
    if up.returncode != 0:
        raise SystemExit(f"lab up failed: {up.stderr[-2000:]}")
    try:
        for tree in trees:
            tree.run("check")  # fills the tree's validation cache; moto loads each service on first use
        print(f"{'command':32} {'goal':>10} " + " ".join(f"{tree.name:>31}" for tree in trees))
        print(f"{'':32} {'':>10} " + " ".join(f"{'wall / cpu / best cpu (ref)':>31}" for _ in trees))
        for command in COMMANDS:
            samples: dict[str, list[tuple[float, float]]] = {tree.name: [] for tree in trees}
            reference = reference_us()
            for _ in range(args.rounds):
                for tree in trees:
                    wall, cpu, _ = tree.run(*command)
                    samples[tree.name].append((wall, cpu))
            cells = []
            for tree in trees:
                wall = statistics.median(s[0] for s in samples[tree.name])
                cpu = statistics.median(s[1] for s in samples[tree.name])
                best = min(s[1] for s in samples[tree.name])
                cells.append(f"{wall:6.0f} / {cpu:4.0f} / {best:4.0f} ({reference:4.1f})")
            label = "lab " + " ".join(command)
            print(f"{label:32} {GOALS.get(command, ''):>10} " + " ".join(f"{cell:>31}" for cell in cells))
        reference = reference_us()
        cells = []
        for tree in trees:
            shutil.rmtree(tree.cache / "securecart-lab", ignore_errors=True)
            wall, cpu, _ = tree.run("check", "01-aws-backup")
            cells.append(f"{wall:6.0f} / {cpu:4.0f} ({reference:4.1f})")
        print(f"{'lab check 01, empty cache':32} {'':>10} " + " ".join(f"{cell:>31}" for cell in cells))
        print("modules loaded that the command does not need (of " + ", ".join(UNWANTED) + "):")
        for command in (("--version",), ("status",), ("check", "01-aws-backup")):
            print(f"  lab {' '.join(command):28} " + "   ".join(
                f"{tree.name}: {', '.join(tree.loaded(*command)) or '-'}" for tree in trees))
    finally:
        subprocess.run([sys.executable, "-m", "lab", "down", "--state-dir", str(state)], env=trees[-1].env,
                       capture_output=True, check=False)
        for tree in trees:
            shutil.rmtree(tree.cache, ignore_errors=True)
            if tree.root != ROOT:
                shutil.rmtree(tree.root, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
