"""A schedule's longest gap between runs: a schedule that runs every day at the same times is reduced from its
minutes and hours at once, and gives what stepping through two months of its runs gives."""

from __future__ import annotations

import itertools

import pytest

from checks import schedule


def stepped(expression: str, monkeypatch: pytest.MonkeyPatch) -> float:
    schedule.max_interval_seconds.cache_clear()
    with monkeypatch.context() as patched:
        patched.setattr(schedule, "_every_day_gap", lambda spec: None)
        return schedule.max_interval_seconds(expression)


@pytest.mark.parametrize(("minutes", "hours"), itertools.product(
    ["0", "*/10", "5,35", "0-5", "*", "59", "7/20"], ["*", "0", "*/3", "1-4", "6,18", "23", "0/8"]))
def test_every_day_schedules_match_stepping_through_their_runs(minutes, hours, monkeypatch):
    expression = f"cron({minutes} {hours} ? * * *)"
    schedule.max_interval_seconds.cache_clear()
    assert schedule.max_interval_seconds(expression) == stepped(expression, monkeypatch)


def test_other_schedules_are_still_stepped_through(monkeypatch):
    assert schedule._every_day_gap(schedule.cron_to_croniter("cron(0 5 ? * 2 *)")) is None  # weekly
    assert schedule.max_interval_seconds("cron(0 5 ? * 2 *)") == 7 * 86400
    assert schedule.max_interval_seconds("cron(0 5 1 * ? *)") == stepped("cron(0 5 1 * ? *)", monkeypatch)
    assert schedule.max_interval_seconds("cron(0 * ? * * *)") == 3600
    assert schedule.max_interval_seconds(None) == 86400  # AWS Backup's default: daily


def test_durations_read_as_a_person_writes_them():
    """A check said "backed up 5.11667 minutes ago" and "RPO about 0.0833333 minutes"."""
    assert [schedule.describe_seconds(s) for s in (0, 5, 60, 90, 307, 3600, 7200, 86400)] == [
        "0 seconds", "5 seconds", "1 minute", "1 minute 30 seconds", "5 minutes 7 seconds", "1 hour", "2 hours",
        "1 day"]
