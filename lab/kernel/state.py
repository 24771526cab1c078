"""The lab's own state: what the sandbox owns beside the backend's resources, saved in every snapshot."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from lab import config
from lab.sim.clock import ClockState
from lab.sim.events import EventLog


@dataclass
class LabState:
    seed: int = config.DEFAULT_SEED
    seq: int = 0  # state-changing requests applied so far; seeds moto's ids for the next one
    world_seeded: bool = False
    world_missing: list[str] = field(default_factory=list)  # parts the backend could not hold ("rds", ...)
    orders: list[dict[str, Any]] = field(default_factory=list)  # the world's initial orders
    clock: ClockState = field(default_factory=lambda: ClockState(sim_time=time.time()))
    events: EventLog = field(default_factory=EventLog)
    extensions: dict[str, Any] = field(default_factory=dict)  # engines keep their state here, by name
