"""Schedule expressions of AWS Backup rules and DLM policies: AWS cron and rate, in UTC or a time zone.

AWS cron has six fields (minutes hours day-of-month month day-of-week year), numbers days of the week
1-7 from Sunday, and needs `?` in one of the two day fields; croniter has five fields and numbers days
0-6, so expressions are translated, and the year field is applied here.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

MIN_INTERVAL_SECONDS = 3600.0  # AWS Backup runs a rule at most hourly
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.IGNORECASE)
_CRON = re.compile(r"^cron\((.*)\)$", re.IGNORECASE | re.DOTALL)
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_DOW_NUMBER = re.compile(r"\d+")
_YEAR_PART = re.compile(r"^(\*|\d{4})(?:-(\d{4}))?(?:/(\d+))?$")
_MAX_YEAR_SKIPS = 200  # bounded search for the next allowed year
_ITERATORS: dict[tuple[str, str], tuple[float, croniter]] = {}


class ScheduleError(ValueError):
    """The expression is not one AWS accepts; the message says which part and why."""


@dataclass(frozen=True)
class Schedule:
    expression: str
    timezone: str = "UTC"

    def next_after(self, after: float, anchor: float) -> float | None:
        """The first run strictly after sim time `after` (epoch seconds); `anchor` starts rate schedules."""
        parsed = _parse(self.expression)
        if isinstance(parsed, float):
            if after < anchor:
                return anchor + parsed
            steps = int((after - anchor) // parsed) + 1
            return anchor + steps * parsed
        fields, years = parsed
        zone = _zone(self.timezone)
        # A schedule asks for its next run right after its last: keep the iterator (derived, not state).
        cache_key = (fields, self.timezone)
        cached = _ITERATORS.get(cache_key)
        if cached is not None and cached[0] == after:
            iterator = cached[1]
        else:
            iterator = croniter(fields, datetime.fromtimestamp(after, tz=UTC).astimezone(zone))
        for _ in range(_MAX_YEAR_SKIPS):
            candidate: datetime = iterator.get_next(datetime)
            if years is None or candidate.year in years:
                found = candidate.timestamp()
                _ITERATORS[cache_key] = (found, iterator)
                return found
            later = [year for year in years if year > candidate.year]
            if not later:
                return None
            iterator = croniter(fields, datetime(min(later), 1, 1, tzinfo=zone) - timedelta(seconds=1))
        return None

    def shortest_interval(self, start: float, anchor: float, samples: int = 400) -> float | None:
        """The smallest gap between consecutive runs over the next `samples` runs (None: fewer than two)."""
        times: list[float] = []
        cursor = start
        for _ in range(samples):
            found = self.next_after(cursor, anchor)
            if found is None:
                break
            times.append(found)
            cursor = found
        gaps = [b - a for a, b in itertools.pairwise(times)]
        return min(gaps) if gaps else None


def validate(expression: str, zone_name: str | None = None, *, minimum: float = MIN_INTERVAL_SECONDS,
             now: float = 0.0) -> Schedule:
    """A Schedule, or ScheduleError naming what is wrong (syntax, time zone, or runs closer than `minimum`)."""
    zone = zone_name or "UTC"
    _zone(zone)
    parsed = _parse(expression)
    schedule = Schedule(expression.strip(), zone)
    if isinstance(parsed, float):
        interval: float | None = parsed
    else:
        interval = schedule.shortest_interval(now, now, samples=200)
        if interval is None and schedule.next_after(now, now) is None:
            raise ScheduleError(f"schedule expression {expression!r} never runs after now")
    if interval is not None and interval < minimum:
        raise ScheduleError(f"schedule expression {expression!r} runs every {int(interval // 60)} minutes; "
                            f"the shortest allowed interval is {int(minimum // 60)} minutes")
    return schedule


def _zone(name: str) -> timezone | ZoneInfo:
    if name.upper() in ("UTC", "ETC/UTC", "GMT"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from exc


@lru_cache(maxsize=256)
def _parse(expression: str) -> float | tuple[str, frozenset[int] | None]:
    """A rate's interval in seconds, or a cron's croniter fields and allowed years (None: every year)."""
    text = (expression or "").strip()
    rate = _RATE.match(text)
    if rate:
        count = int(rate.group(1))
        if count < 1:
            raise ScheduleError(f"rate expression {expression!r} needs a positive value")
        return float(count * _RATE_UNITS[rate.group(2).lower().rstrip("s")])
    cron = _CRON.match(text)
    if not cron:
        raise ScheduleError(f"schedule expression {expression!r} is neither cron(...) nor rate(...)")
    parts = cron.group(1).split()
    if len(parts) != 6:
        raise ScheduleError(f"cron expression {expression!r} needs 6 fields (minutes hours day-of-month month "
                            f"day-of-week year), it has {len(parts)}")
    minutes, hours, day_of_month, month, day_of_week, year = parts
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleError(f"cron expression {expression!r}: exactly one of day-of-month and day-of-week "
                            "must be '?'")
    fields = " ".join([minutes, hours, "*" if day_of_month == "?" else day_of_month, month,
                       "*" if day_of_week == "?" else _croniter_day_of_week(day_of_week, expression)])
    if not croniter.is_valid(fields):
        raise ScheduleError(f"cron expression {expression!r} is not valid")
    try:
        croniter(fields, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (CroniterError, ValueError, KeyError) as exc:
        raise ScheduleError(f"cron expression {expression!r} is not valid: {exc}") from exc
    return fields, _years(year, expression)


def _croniter_day_of_week(field: str, expression: str) -> str:
    """AWS numbers days 1 (Sunday) to 7 (Saturday); croniter 0 to 6. 'L' alone is Saturday, 'nL' the
    month's last day n, which croniter writes 'L(n-1)'."""
    if field == "L":
        return "6"

    def shift(match: re.Match[str]) -> str:
        number = int(match.group(0))
        if not 1 <= number <= 7:
            raise ScheduleError(f"cron expression {expression!r}: day-of-week {number} is outside 1-7")
        return str(number - 1)

    converted = []
    for part in field.split(","):
        if re.fullmatch(r"\d+L", part):
            converted.append("L" + shift(re.match(r"\d+", part)))
        elif "#" in part:
            day, _, nth = part.partition("#")
            converted.append(f"{_DOW_NUMBER.sub(shift, day)}#{nth}")
        elif "/" in part:
            head, _, step = part.partition("/")
            converted.append(f"{_DOW_NUMBER.sub(shift, head)}/{step}")
        else:
            converted.append(_DOW_NUMBER.sub(shift, part))
    return ",".join(converted)


def _years(field: str, expression: str) -> frozenset[int] | None:
    allowed: set[int] = set()
    for part in field.split(","):
        found = _YEAR_PART.match(part)
        if not found:
            raise ScheduleError(f"cron expression {expression!r}: year field {field!r} is not valid")
        first, last, step = found.groups()
        if first == "*" and last is None and step is None:
            return None
        low = 1970 if first == "*" else int(first)
        high = int(last) if last else (2199 if first == "*" or step else low)
        if not 1970 <= low <= high <= 2199:
            raise ScheduleError(f"cron expression {expression!r}: years must be within 1970-2199")
        allowed.update(range(low, high + 1, int(step) if step else 1))
    return frozenset(allowed)
