"""The four DR strategies measured the same way: labs 09-12 each built by its reference solution in a world of
its own, the same region outage at the same time of day, the documented recovery, and the drill's meter.

Used by tests/integration/test_labs.py (the ordering) and benchmarks/bench_dr_strategies.py (the figures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lab.sim.clock import parse_duration

#: labs 09-12, from the cheapest strategy to the dearest (AWS whitepaper "Disaster Recovery of Workloads on
#: AWS: Recovery in the Cloud", disaster-recovery-options-in-the-cloud.html)
STRATEGIES = ("09-dr-backup-restore", "10-dr-pilot-light", "11-dr-warm-standby", "12-dr-active-active")
NAMES = {"09-dr-backup-restore": "Backup & Restore", "10-dr-pilot-light": "Pilot Light",
         "11-dr-warm-standby": "Warm Standby", "12-dr-active-active": "Multi-Site Active/Active"}
#: the whitepaper's range for each (RPO/RTO "hours", "10s of minutes", "minutes", "real-time"), in seconds:
#: (lowest, highest) of a figure that lies in it
WHITEPAPER = {"09-dr-backup-restore": ("hours", 3600, 86400),
              "10-dr-pilot-light": ("tens of minutes", 600, 3600),
              "11-dr-warm-standby": ("minutes", 60, 600),
              "12-dr-active-active": ("near zero", 0, 60)}
INCIDENT_TIME_OF_DAY = 11 * 3600 + 40 * 60  # 11:40 UTC, as the labs' briefings tell it
SETTLED = 20 * 3600  # the incident comes this long after the solution at least: the daily 05:00 backup has run


@dataclass(frozen=True)
class Measured:
    lab: str
    rto_seconds: int
    rpo_seconds: int
    lost_orders: int
    per_store: dict[str, Any]
    incident_time: str
    record: dict[str, Any]
    recovered: bool = True  # False: the drill had not recovered when measuring gave up (rto_seconds: that long)

    def within(self) -> dict[str, bool]:
        """Is each figure within the whitepaper's range for the strategy (at most its upper bound; RTO also
        at least its lower one)?"""
        _, low, high = WHITEPAPER[self.lab]
        return {"rto": self.recovered and low <= self.rto_seconds <= high, "rpo": self.rpo_seconds <= high}

    def failing(self) -> list[str]:
        """What kept the drill from recovering: its failing recovery checks' messages."""
        return [f"{c['check_id']}: {c['message']}" for c in self.record.get("last_checks", [])
                if c.get("status") == "FAIL" and c["check_id"].startswith("RECOVERY_")
                and not c["check_id"].endswith("_WITHIN_TARGET")]


def next_incident(now: float) -> float:
    """The next 11:40 UTC at least SETTLED after `now`."""
    day = 86400.0
    moment = math.floor(now / day) * day + INCIDENT_TIME_OF_DAY
    while moment < now + SETTLED:
        moment += day
    return moment


def solve(world: Any, lab_id: str, *, rounds: int = 6, **options: Any) -> None:
    """`lab solve` until the reference script is done: one run waits at most MAX_WAITS steps of sim time, and at
    the model's own durations a lab may wait longer (the scripts are idempotent: a new run goes on where the
    last one stopped). `world` is a tests.integration._lab_rounds.LabWorld."""
    from lab import exercises
    from lab.commands.exercises import NOT_READY, run_solution

    exercise = exercises.load(lab_id)
    output = ""
    for _ in range(rounds):
        run = run_solution(exercise, world.endpoint, capture=True, advance=world.advance, **options)
        output += run.output
        if run.returncode != NOT_READY:
            break
    assert run.returncode == 0, f"lab solve {lab_id} {options} failed:\n{output}"


def build(world: Any, lab_id: str, *, tool: str = "boto3") -> None:
    """The strategy built by the lab's reference solution."""
    solve(world, lab_id, tool=tool)


def measure(world: Any, lab_id: str, *, tool: str = "boto3", give_up: str = "12h",
            must_recover: bool = True) -> Measured:
    """Run the lab's drill at 11:40 UTC at least a night after the strategy was built, apply the documented
    recovery and let sim time pass until the drill has recovered; what its meter says (`must_recover` False:
    a drill still running after `give_up` is measured as not recovered, its RTO at least that long)."""
    now = float(world.admin.get("clock")["epoch"])
    world.advance(f"{int(next_incident(now) - now)}s")
    drill = world.drill(lab_id)
    solve(world, lab_id, recover=True, incident_time=drill["incident_time"], tool=tool)
    record = world.drill_record(drill["id"])
    waited, limit = 0.0, parse_duration(give_up)
    while record["status"] == "running" and waited < limit:
        world.advance("10m")
        waited += 600
        record = world.drill_record(drill["id"])
    recovered = record["status"] == "recovered"
    assert recovered or not must_recover, f"{lab_id}: the drill did not recover: {record['last_checks']}"
    rpo = record["rpo"]
    incident = datetime.fromisoformat(record["incident_time"].replace("Z", "+00:00")).timestamp()
    rto = record["rto_seconds"] if recovered else float(world.admin.get("clock")["epoch"]) - incident
    return Measured(lab_id, int(rto), int(rpo["span_seconds"]), int(rpo["count"]), dict(rpo["per_store"]),
                    record["incident_time"], record, recovered)


def play(world: Any, lab_id: str, *, tool: str = "boto3", durations: dict[str, float] | None = None,
         data_scale: float | None = None, must_recover: bool = True) -> Measured:
    """A fresh world (with these duration overrides), the strategy built, its drill measured. With `data_scale`
    the model reads sizes that many times the world's sample (`data.scale`) from when the strategy is built: the
    night's backups, copies and replication, the outage and the recovery run at that size; the one-time build
    runs at the sample's (its time is not what the drill measures)."""
    world.reset()
    if durations:
        world.admin.post("durations", {"set": dict(durations)})
    build(world, lab_id, tool=tool)
    if data_scale is not None:
        world.admin.post("durations", {"set": {"data.scale": data_scale}})
    return measure(world, lab_id, tool=tool, must_recover=must_recover)
