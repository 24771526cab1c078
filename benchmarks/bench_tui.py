"""Issue 6 figures: start to first frame, UI stalls while checks run, the TUI process's memory.

Run: .venv/bin/python benchmarks/bench_tui.py [--rounds 5] [--checks 5]
It starts its own sandbox (a throw-away state dir, a free port on 127.0.0.1) and stops it at the end.
  - first frame: `lab tui` in a pseudo-terminal, from spawn to the first screen it draws (the sandbox already
    runs, as when a learner reopens the lab);
  - stalls: the app (headless, over the live sandbox) opens a lab and runs its checks N times; a 10 ms timer
    on the UI's event loop records the longest gap between its ticks while the checks run;
  - memory: the peak resident set of that app process after checks, the region map and the explorer.
Prints the figures; timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import pty
import resource
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_FRAME_MARK = b"Home"  # the navigation bar, in the first frame of every start
TICK_SECONDS = 0.010


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "lab", *args], check=True, capture_output=True, text=True, env=env)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_frame_seconds(env: dict[str, str], timeout: float = 30.0,
                        python: str = sys.executable) -> tuple[float, float]:
    """Spawn `lab tui` on a pty and time it until its first frame (the nav bar) reaches the terminal:
    (wall seconds, CPU seconds of the process by then -- what the wall time would be on an idle machine)."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    started = time.perf_counter()
    process = subprocess.Popen([python, "-m", "lab", "tui"], stdin=slave, stdout=slave, stderr=slave,
                               env={**env, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"},
                               start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
                if FIRST_FRAME_MARK in seen:
                    return time.perf_counter() - started, cpu_seconds(process.pid)
        raise RuntimeError(f"no first frame within {timeout}s; the terminal got: {seen[-400:]!r}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        os.close(master)


def stalls_and_memory(state_dir: Path, port: int, checks: int, lab_id: str) -> dict[str, float]:
    """Run in this process: the app over the live sandbox, headless, checks in its worker, a tick timer.

    A stall is a gap between two ticks of a 10 ms timer on the UI's event loop. Gaps are counted while the
    checks work in their thread (collecting the inventory, grading, recording progress) and, separately,
    up to the moment their results are on screen."""
    from tui.app import LabApp
    from tui.live import LiveSource
    from tui.screens.lab import LabScreen

    source = LiveSource(state_dir, port)
    runs: list[tuple[float, float]] = []  # when each run_checks call worked, in its thread
    measured_checks = source.run_checks

    def timed_checks(*args, **kwargs):
        started = time.perf_counter()
        try:
            return measured_checks(*args, **kwargs)
        finally:
            runs.append((started, time.perf_counter()))

    source.run_checks = timed_checks  # type: ignore[method-assign]
    app = LabApp(source, poll_seconds=1.0, live_check_seconds=0.0)
    ticks: list[float] = []
    shown: list[tuple[float, float]] = []  # from asking for checks to their results on screen

    async def drive() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            app.set_interval(TICK_SECONDS, lambda: ticks.append(time.perf_counter()))
            await _until(lambda: app.labs_loaded and app.sandbox is not None and app.sandbox.running)
            app.open_lab(lab_id)
            await _until(lambda: isinstance(app.screen, LabScreen) and app.screen.lab_id == lab_id
                         and app.screen.summary is not None)
            screen = app.screen
            await _until(lambda: not screen.checking and screen.report is not None, timeout=120)
            runs.clear()
            for _ in range(checks):
                started = time.perf_counter()
                screen.run_checks(attempt=False)
                await _until(lambda: not screen.checking, timeout=120)
                await pilot.pause()
                shown.append((started, time.perf_counter()))
            await asyncio.sleep(0.2)  # ticks again, so a later stall (opening the map) is not counted above
            for mode in ("map", "resources"):
                await app.switch_mode(mode)
                await _until(lambda: getattr(app.screen, "reading", True) is False, timeout=120)
            await pilot.pause()

    asyncio.run(drive())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"max_stall_during_checks_ms": _longest_gap(ticks, runs) * 1000,
            "max_stall_until_shown_ms": _longest_gap(ticks, shown) * 1000,
            "check_seconds_median": statistics.median(end - begin for begin, end in runs),
            "peak_rss_mb": peak_mb}


def _longest_gap(ticks: list[float], windows: list[tuple[float, float]]) -> float:
    """The longest time between consecutive ticks whose gap overlaps one of the windows."""
    longest = 0.0
    for before, after in itertools.pairwise(ticks):
        if any(before < end and after > begin for begin, end in windows):
            longest = max(longest, after - before)
    return longest


async def _until(condition, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="starts of `lab tui` to time")
    parser.add_argument("--checks", type=int, default=5, help="check runs to watch for stalls")
    parser.add_argument("--lab", default="02-s3-crr")
    parser.add_argument("--measure-app", nargs=2, metavar=("STATE_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_app:
        print(json.dumps(stalls_and_memory(Path(args.measure_app[0]), int(args.measure_app[1]), args.checks,
                                           args.lab)))
        return
    state = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    port = free_port()
    env = {**os.environ, "LAB_STATE_DIR": str(state), "LAB_PORT": str(port)}
    lab("up", "--port", str(port), env=env)
    try:
        frames = [first_frame_seconds(env) for _ in range(args.rounds)]
        # A fresh process, so the memory figure is the app's alone.
        measured = subprocess.run([sys.executable, __file__, "--checks", str(args.checks), "--lab", args.lab,
                                   "--measure-app", str(state), str(port)], check=True, capture_output=True,
                                  text=True, env=env)
        figures = json.loads(measured.stdout.strip().splitlines()[-1])
    finally:
        lab("down", env=env)
    walls, cpus = [wall for wall, _ in frames], [cpu for _, cpu in frames]
    print(f"start to first frame: median {statistics.median(walls):.2f}s, max {max(walls):.2f}s wall; "
          f"median {statistics.median(cpus):.2f}s of CPU by then ({args.rounds} starts, load average "
          f"{os.getloadavg()[0]:.1f}; target <= 1.5s)")
    print(f"UI stalls while checks run: longest {figures['max_stall_during_checks_ms']:.0f} ms while they work, "
          f"{figures['max_stall_until_shown_ms']:.0f} ms until their results are drawn ({args.checks} runs, median "
          f"{figures['check_seconds_median']:.2f}s each; a {TICK_SECONDS * 1000:.0f} ms timer; target: none over "
          f"100 ms)")
    print(f"TUI process memory: peak RSS {figures['peak_rss_mb']:.0f} MB after checks, map and explorer "
          f"(target <= 150 MB)")
    print(f"(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
