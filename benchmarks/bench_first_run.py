"""Issue 10 figure: a new learner's first run, from a fresh clone to the TUI's first frame.

Run: .venv/bin/python benchmarks/bench_first_run.py [--rounds 2] [--cold]
Each round clones this repository's HEAD into a throw-away folder and, as `./scripts/lab` does there:
  - runs `scripts/setup` (a new .venv from requirements/lab.lock), timing each phase it prints;
  - then `lab tui` on a pseudo-terminal, with a fresh state dir and a free port on 127.0.0.1, to the first
    frame it draws (this includes starting the sandbox and seeding the world from the template cache).
With --cold the installer's download cache is a new empty folder (every package is downloaded again);
otherwise the machine's cache is used, as on a second clone. The machine's speed is printed beside the
figures (microseconds per sum(range(1000)), best of 5); timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_tui import first_frame_seconds, free_port

_STEP = re.compile(r"^setup: (.*)$")


def machine_speed() -> float:
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def one_round(cold: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="lab-first-run-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
        env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
        if cold:
            env["UV_CACHE_DIR"] = str(Path(scratch) / "uv-cache")
        phases: dict[str, float] = {}
        started = last = time.perf_counter()
        process = subprocess.Popen([str(clone / "scripts" / "setup")], cwd=clone, env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        previous = "start"
        for line in process.stdout:
            match = _STEP.match(line.strip())
            now = time.perf_counter()
            if match:
                phases[previous] = now - last
                previous, last = match[1].split(" (")[0][:40], now
            elif line.strip():
                print(f"    unexpected output: {line.rstrip()}")
        if process.wait() != 0:
            raise RuntimeError("scripts/setup failed in the clone")
        phases.pop("start", None)
        setup_seconds = time.perf_counter() - started
        state = Path(scratch) / "state"
        lab_env = {**env, "LAB_STATE_DIR": str(state), "LAB_PORT": str(free_port()),
                   "PATH": f"{clone / '.venv' / 'bin'}:{env.get('PATH', '')}"}
        frame_wall, frame_cpu = first_frame_seconds(lab_env, python=str(clone / ".venv" / "bin" / "python"))
        subprocess.run([str(clone / ".venv" / "bin" / "lab"), "down"], env=lab_env, capture_output=True,
                       timeout=60, check=False)
        shutil.rmtree(state, ignore_errors=True)
        return {"setup": setup_seconds, "first frame": frame_wall, "first frame (cpu)": frame_cpu,
                "total": setup_seconds + frame_wall, **{f"  {k}": v for k, v in phases.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="an empty download cache (downloads everything)")
    args = parser.parse_args()
    rounds = []
    for number in range(args.rounds):
        speed = machine_speed()
        figures = one_round(args.cold)
        rounds.append(figures)
        print(f"round {number + 1}: machine speed {speed:.1f} us; "
              + ", ".join(f"{k.strip()} {v:.1f} s" for k, v in figures.items()))
    print(f"\nfirst run, fresh clone -> first frame ({'cold' if args.cold else 'warm'} download cache), "
          f"median of {len(rounds)}:")
    for key in rounds[0]:
        print(f"  {key:<44} {statistics.median(r[key] for r in rounds):6.1f} s")


if __name__ == "__main__":
    main()
