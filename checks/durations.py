"""Durations as people write them ('90', '15m', '1h30m', '35d', '2w'): the checks' `duration` parameters, and
the lab's `clock advance` (lab.sim.clock imports this one parser, so both accept the same text)."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s|ms)?", re.IGNORECASE)
_UNIT_SECONDS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, None: 1.0}


def parse_duration(text: str) -> float:
    """'90', '15m', '1h30m', '35d', '2w' -> seconds. Raises ValueError naming what is wrong."""
    source = str(text).strip().replace(" ", "")
    if not source:
        raise ValueError("empty duration")
    total, position = 0.0, 0
    for match in _DURATION.finditer(source):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "").lower() or None]
        position = match.end()
    if position != len(source):
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 1h30m, 35d)")
    return total
