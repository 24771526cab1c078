"""Issue 12 figure: the four DR strategies of the seed, measured. Labs 09-12 build backup and restore, pilot
light, warm standby and multi-site active/active for SecureCart with their reference solutions, each in a
world of its own; the same region outage (us-east-1, at 11:40 UTC the day after) hits each, the documented
recovery runs, and the drill's meter gives RTO and RPO. The table compares them with the range AWS's DR
whitepaper gives each ("Disaster Recovery of Workloads on AWS: Recovery in the Cloud",
https://docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws/disaster-recovery-options-in-the-cloud.html).

Run: .venv/bin/python benchmarks/bench_dr_strategies.py [--scale 1] [--data-scales 1,50] [--tool boto3|cli]
     [--json FILE]
The RTOs come from the sandbox's duration model (lab/sim/durations.py, docs/durations.md) and the services'
own timings: restores and AWS Backup jobs, Elastic Disaster Recovery's launch, a replica's promotion, Route 53's
health checks. One table per data size: `data.scale` 1 is the world's own sample (a 20 GiB orders database
holding about 1,900 orders at the outage), 50 a production shop whose orders database is 1000 GiB (every size the model
reads 50 times the sample's, from the night before the outage on). Figures are sim time (exact for a given
model); the wall time it took and a CPU reference (`sum(range(1000))`, best of 5) are printed beside them,
never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.sim.clock import format_duration
from tests.conftest import GUARD_DIR, SandboxHandle, free_port
from tests.integration._lab_rounds import LabWorld
from tests.integration._strategies import NAMES, STRATEGIES, WHITEPAPER, Measured, play


def row(found: Measured) -> str:
    words, _, _ = WHITEPAPER[found.lab]
    within = found.within()
    stores = ", ".join(f"{store} {entry['count']}" for store, entry in sorted(found.per_store.items())
                       if entry.get("count")) or "none"
    rto = format_duration(found.rto_seconds)
    if not found.recovered:
        rto = f"not recovered after {rto}"
    return (f"| {NAMES[found.lab]} | {rto} | {format_duration(found.rpo_seconds)} | "
            f"{found.lost_orders} ({stores}) | {words} | {'yes' if within['rto'] else 'NO'} / "
            f"{'yes' if within['rpo'] else 'NO'} |")


def table(measured: list[Measured]) -> list[str]:
    lines = ["| strategy | RTO measured | RPO measured | orders lost (by store) | whitepaper RPO/RTO "
             "| within (RTO / RPO) |", "|---|---|---|---|---|---|"]
    lines += [row(found) for found in measured]
    rto = [m.rto_seconds for m in measured]
    rpo = [m.rpo_seconds for m in measured]
    lines.append(f"ordered by RTO (longest first): {'yes' if rto == sorted(rto, reverse=True) else 'NO'}; "
                 f"by RPO: {'yes' if rpo == sorted(rpo, reverse=True) else 'NO'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="the duration model's scale (1: its own durations)")
    parser.add_argument("--data-scales", default="1,50",
                        help="comma-separated data.scale values, one table each (1: the world's sample; 50: a "
                             "shop with a 1000 GiB orders database)")
    parser.add_argument("--tool", choices=("boto3", "cli"), default="boto3", help="which reference scripts run")
    parser.add_argument("--json", type=Path, default=None, help="write the figures there too")
    args = parser.parse_args()
    data_scales = [float(value) for value in args.data_scales.split(",") if value.strip()]
    reference = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    os.environ["LAB_WAIT_TRIES"] = "1"  # the reference scripts: the clock is paused, one look per sim-time step
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(GUARD_DIR), str(ROOT)]))
    env.pop("LAB_STATE_DIR", None)
    env.pop("AWS_ENDPOINT_URL", None)
    handle = SandboxHandle(Path(tempfile.mkdtemp(prefix="bench-dr-")) / "lab", free_port(), env)
    print(f"the four DR strategies, one region outage each (duration scale {args.scale:g}, data scales "
          f"{', '.join(f'{d:g}' for d in data_scales)}, {args.tool} scripts); machine speed {reference:.1f} us per "
          "sum(range(1000))")
    results: dict[float, list[Measured]] = {}
    walls: dict[tuple[float, str], float] = {}
    try:
        handle.up()
        world = LabWorld(handle)
        for data_scale in data_scales:
            measured = results[data_scale] = []
            for lab_id in STRATEGIES:
                began = time.perf_counter()
                found = play(world, lab_id, tool=args.tool,
                             durations={"scale": args.scale} if args.scale != 1.0 else None,
                             data_scale=data_scale if data_scale != 1.0 else None, must_recover=False)
                walls[(data_scale, lab_id)] = time.perf_counter() - began
                measured.append(found)
                print(f"  data.scale {data_scale:g}, {NAMES[lab_id]}: RTO {format_duration(found.rto_seconds)}, "
                      f"RPO {format_duration(found.rpo_seconds)} ({found.lost_orders} orders lost), incident "
                      f"{found.incident_time}; {walls[(data_scale, lab_id)]:.0f} s wall", flush=True)
                for reason in ([] if found.recovered else found.failing()):
                    print(f"    not recovered: {reason}", flush=True)
    finally:
        handle.down()
    for data_scale, measured in results.items():
        print()
        print(f"data.scale {data_scale:g}" + (" (the world's sample)" if data_scale == 1.0 else ""))
        print("\n".join(table(measured)))
    print(f"\n{sum(walls.values()):.0f} s wall in all")
    if args.json is not None:
        args.json.write_text(json.dumps({
            "scale": args.scale, "tool": args.tool, "machine_us": reference,
            "tables": [{"data_scale": data_scale, "strategies": [
                {"lab": m.lab, "strategy": NAMES[m.lab], "rto_seconds": m.rto_seconds, "recovered": m.recovered,
                 "not_recovered_because": [] if m.recovered else m.failing(),
                 "rpo_seconds": m.rpo_seconds, "lost_orders": m.lost_orders, "per_store": m.per_store,
                 "whitepaper": WHITEPAPER[m.lab][0], "within": m.within(),
                 "wall_seconds": walls[(data_scale, m.lab)]} for m in measured]}
                for data_scale, measured in results.items()]}, indent=2))


if __name__ == "__main__":
    main()
