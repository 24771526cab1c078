"""SimClock: the one clock of the sandbox. Every timestamp the sandbox shows, moto's included, is sim time.

Sim time runs at `speed` times wall time while not paused, and stands still while the sandbox is down.
`advance` jumps ahead, letting the engines play every due event in time order (see lab/sandbox/engines.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

# one grammar for the clock and the checks' duration parameters (the checks own it: they depend on nothing here)
from checks.durations import parse_duration as parse_duration


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else "",
             f"{secs}s" if secs or not (days or hours or minutes) else ""]
    return "".join(parts)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_midnight(epoch: float) -> float:
    """The 00:00 UTC that begins the day of `epoch` (AWS's daily work is scheduled in UTC days)."""
    return epoch - epoch % 86400


@dataclass
class ClockState:
    """What survives a restart: the sim time reached, the speed, paused or not."""

    sim_time: float
    speed: float = 1.0
    paused: bool = False


class SimClock:
    def __init__(self, state: ClockState, wall: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self.speed = state.speed
        self.paused = state.paused
        self._anchor_sim = state.sim_time
        self._anchor_wall = wall()
        self._pinned: float | None = None

    def now(self) -> float:
        if self._pinned is not None:
            return self._pinned
        if self.paused:
            return self._anchor_sim
        return self._anchor_sim + (self._wall() - self._anchor_wall) * self.speed

    def _reanchor(self, sim_time: float) -> None:
        self._anchor_sim = sim_time
        self._anchor_wall = self._wall()

    def set_time(self, sim_time: float) -> float:
        """Jump to `sim_time` (only forwards: time never runs back); a pinned clock stays pinned there.
        Returns the sim time now."""
        target = max(sim_time, self.now())
        if self._pinned is not None:
            self._pinned = target
        self._reanchor(target)
        return target

    def set_speed(self, factor: float) -> None:
        if not factor > 0 or factor > 1_000_000:
            raise ValueError(f"speed must be > 0 and <= 1000000, not {factor}")
        self._reanchor(self.now())
        self.speed = factor

    def pause(self) -> None:
        self._reanchor(self.now())
        self.paused = True

    def resume(self) -> None:
        self._reanchor(self.now())
        self.paused = False

    def pin(self, sim_time: float | None) -> None:
        """Hold the clock at `sim_time` (journal replay); None releases it."""
        if sim_time is None and self._pinned is not None:
            self._reanchor(self._pinned)
        self._pinned = sim_time

    def state(self) -> ClockState:
        return ClockState(sim_time=self.now(), speed=self.speed, paused=self.paused)

    def describe(self) -> dict[str, object]:
        now = self.now()
        return {"now": iso(now), "epoch": round(now, 3), "speed": self.speed, "paused": self.paused}
