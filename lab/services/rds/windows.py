"""RDS's two windows of a DB instance: the daily backup window and the weekly maintenance window.

Both are UTC. A backup window is `hh24:mi-hh24:mi` (daily), a maintenance window `ddd:hh24:mi-ddd:hh24:mi`
(weekly); each lasts at least 30 minutes and the two must not overlap (RDS API Reference, CreateDBInstance:
PreferredBackupWindow, PreferredMaintenanceWindow). Without one in the request, RDS picks "a 30-minute window
selected at random from an 8-hour block of time for each AWS Region" -- the maintenance window "occurring on a
random day of the week" (same page); the blocks are the RDS User Guide's table (Backup window,
USER_WorkingWithAutomatedBackups.html#USER_WorkingWithAutomatedBackups.BackupWindow). The lab's pick is seeded, so
the same seed gives the same windows.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

DAY = 86400
WEEK = 7 * DAY
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIN_MINUTES = 30
# The 8-hour block of each Region, as minutes after midnight UTC (RDS User Guide, Backup window table).
REGION_BLOCKS = {"us-east-1": 3 * 60, "us-east-2": 3 * 60, "us-west-1": 6 * 60, "us-west-2": 6 * 60}
BLOCK_MINUTES = 8 * 60

_DAILY = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_WEEKLY = re.compile(r"^([a-z]{3}):(\d{2}):(\d{2})-([a-z]{3}):(\d{2}):(\d{2})$")


class WindowError(ValueError):
    """A window RDS would refuse (the text is RDS's message, or says what is wrong)."""


def daily(window: str) -> tuple[int, int]:
    """'03:00-03:30' -> (start, end) in minutes after midnight; end may be smaller (past midnight)."""
    match = _DAILY.match(window or "")
    if match is None:
        raise WindowError(f"Invalid backup window format: {window}. Should be specified as a range hh24:mi-hh24:mi "
                          "(24H Clock UTC). Example: 04:00-04:30")
    hours = [int(match[1]), int(match[3])]
    minutes = [int(match[2]), int(match[4])]
    if max(hours) > 23 or max(minutes) > 59:
        raise WindowError(f"Invalid backup window: {window}")
    return hours[0] * 60 + minutes[0], hours[1] * 60 + minutes[1]


def weekly(window: str) -> tuple[int, int]:
    """'sun:05:00-sun:05:30' -> (start, end) in minutes after Monday 00:00; end may be smaller (past Sunday)."""
    match = _WEEKLY.match((window or "").lower())
    if match is None or match[1] not in DAYS or match[4] not in DAYS:
        raise WindowError(f"Invalid maintenance window format: {window}. Should be specified as a range "
                          "ddd:hh24:mi-ddd:hh24:mi (24H Clock UTC). Example: Sun:23:45-Mon:00:15")
    if max(int(match[2]), int(match[5])) > 23 or max(int(match[3]), int(match[6])) > 59:
        raise WindowError(f"Invalid day:hour:minute value: {window}")
    start = DAYS.index(match[1]) * 1440 + int(match[2]) * 60 + int(match[3])
    end = DAYS.index(match[4]) * 1440 + int(match[5]) * 60 + int(match[6])
    return start, end


def _length(start: int, end: int, period: int) -> int:
    return (end - start) % period


def validate(backup: str, maintenance: str) -> None:
    """WindowError with RDS's message for windows RDS refuses."""
    b_start, b_end = daily(backup)
    m_start, m_end = weekly(maintenance)
    if _length(b_start, b_end, 1440) < MIN_MINUTES:
        raise WindowError("The backup window must be at least 30 minutes.")
    if _length(m_start, m_end, 10080) < MIN_MINUTES:
        raise WindowError("The maintenance window must be at least 30 minutes.")
    if overlap(backup, maintenance):
        raise WindowError("The backup window and maintenance window must not overlap.")


def overlap(backup: str, maintenance: str, *, touching: bool = False) -> bool:
    """Whether the daily backup window meets the weekly maintenance window on any day (`touching`: or one ends
    where the other starts)."""
    b_start, b_end = daily(backup)
    m_start, m_end = weekly(maintenance)
    pad = 1 if touching else 0
    m_length = _length(m_start, m_end, 10080) + pad
    b_length = _length(b_start, b_end, 1440) + pad
    for day in range(7):
        start = day * 1440 + b_start
        # two intervals on a circle of 10080 minutes meet when either start lies inside the other
        if (start - m_start) % 10080 < m_length or (m_start - start) % 10080 < b_length:
            return True
    return False


def _start_of_week(now: float) -> float:
    moment = datetime.fromtimestamp(now, tz=UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    return midnight - moment.weekday() * DAY


def next_daily_start(window: str, now: float) -> float:
    """The next start of a daily window strictly after `now` (a day from now for a malformed one)."""
    try:
        start, _ = daily(window)
    except WindowError:
        return now + DAY
    moment = datetime.fromtimestamp(now, tz=UTC)
    at = moment.replace(hour=start // 60, minute=start % 60, second=0, microsecond=0).timestamp()
    return at if at > now else at + DAY


def next_weekly_start(window: str, now: float) -> float:
    """The next start of a weekly window strictly after `now` (a week from now for a malformed one)."""
    try:
        start, _ = weekly(window)
    except WindowError:
        return now + WEEK
    at = _start_of_week(now) + start * 60
    while at <= now:
        at += WEEK
    return at


def in_weekly(window: str, now: float) -> bool:
    """Whether `now` lies inside the weekly window."""
    try:
        start, end = weekly(window)
    except WindowError:
        return False
    minute = (now - _start_of_week(now)) / 60
    return (minute - start) % 10080 < _length(start, end, 10080)


def default_windows(seed: int, region: str, name: str, backup: str | None = None,
                    maintenance: str | None = None) -> tuple[str, str]:
    """The windows RDS assigns an instance that names none (either given one is kept): 30 minutes at random in
    the Region's 8-hour block, the maintenance window on a random day, the two apart. Seeded by the instance."""
    rng = random.Random(f"{seed}:rds-windows:{region}:{name}")
    block = REGION_BLOCKS.get(region, 3 * 60)
    for _ in range(1000):
        chosen_backup = backup or _daily_text(block + rng.randrange(0, BLOCK_MINUTES - MIN_MINUTES + 1))
        chosen_maintenance = maintenance or _weekly_text(rng.randrange(7),
                                                         block + rng.randrange(0, BLOCK_MINUTES - MIN_MINUTES + 1))
        try:
            if not overlap(chosen_backup, chosen_maintenance, touching=True):  # (apart, not end to end)
                return chosen_backup, chosen_maintenance
        except WindowError:
            break  # a given window RDS would refuse: the caller's validation says so
    return chosen_backup, chosen_maintenance


def _daily_text(start: int) -> str:
    end = (start + MIN_MINUTES) % 1440
    return f"{start // 60 % 24:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def _weekly_text(day: int, start: int) -> str:
    end = start + MIN_MINUTES
    end_day = (day + end // 1440) % 7
    end %= 1440
    return f"{DAYS[day]}:{start // 60:02d}:{start % 60:02d}-{DAYS[end_day]}:{end // 60:02d}:{end % 60:02d}"
