"""RDS's backup and maintenance windows: parsing, overlap, the next window, and the defaults RDS assigns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lab.services.rds import windows
from lab.services.rds.modifications import DEFERRED, outage_of, retention_message

MONDAY = datetime(2026, 11, 23, tzinfo=UTC).timestamp()  # a Monday, 00:00 UTC


def test_windows_are_parsed_and_bad_ones_named():
    assert windows.daily("03:00-03:30") == (180, 210)
    assert windows.daily("23:45-00:15") == (1425, 15)
    assert windows.weekly("Sun:23:45-Mon:00:15") == (6 * 1440 + 1425, 15)
    for bad in ("3:00-3:30", "25:00-25:30", ""):
        with pytest.raises(windows.WindowError, match="backup window"):
            windows.daily(bad)
    with pytest.raises(windows.WindowError, match="Invalid maintenance window format"):
        windows.weekly("xyz:01:00-xyz:01:30")


@pytest.mark.parametrize(("backup", "maintenance", "meets"), [
    ("03:00-03:30", "sun:03:30-sun:04:00", False),
    ("03:00-03:30", "sun:03:29-sun:04:00", True),
    ("03:00-03:30", "wed:02:45-wed:03:15", True),
    ("23:45-00:15", "mon:00:00-mon:00:30", True),  # past midnight, on the next day
    ("23:45-00:15", "sun:23:50-mon:00:20", True),  # past the end of the week
    ("12:00-12:30", "sun:23:50-mon:00:20", False),
])
def test_a_daily_backup_window_meets_a_weekly_maintenance_window_on_any_day(backup, maintenance, meets):
    assert windows.overlap(backup, maintenance) is meets


def test_validation_uses_rds_messages():
    windows.validate("03:00-03:30", "sun:05:00-sun:05:30")
    with pytest.raises(windows.WindowError, match=r"^The backup window and maintenance window must not overlap\.$"):
        windows.validate("05:15-05:45", "sun:05:00-sun:05:30")
    with pytest.raises(windows.WindowError, match="at least 30 minutes"):
        windows.validate("05:15-05:30", "sun:01:00-sun:01:30")


def test_the_next_window_and_whether_one_is_open():
    assert windows.next_daily_start("03:00-03:30", MONDAY) == MONDAY + 3 * 3600
    assert windows.next_daily_start("03:00-03:30", MONDAY + 3 * 3600) == MONDAY + 27 * 3600  # strictly after
    assert windows.next_weekly_start("tue:01:00-tue:01:30", MONDAY) == MONDAY + 25 * 3600
    assert windows.next_weekly_start("mon:00:00-mon:00:30", MONDAY + 60) == MONDAY + 7 * 86400
    assert windows.in_weekly("sun:23:45-mon:00:15", MONDAY + 600)
    assert not windows.in_weekly("sun:23:45-mon:00:15", MONDAY + 900)


def test_default_windows_are_random_in_the_regions_block_but_seeded():
    for region, block in (("us-east-1", 180), ("us-west-2", 360)):
        chosen = {windows.default_windows(20260101, region, f"db-{n}") for n in range(200)}
        assert len(chosen) > 150  # random per instance
        for backup, maintenance in chosen:
            start, end = windows.daily(backup)
            week_start, week_end = windows.weekly(maintenance)
            assert block <= start and end <= block + 480 and end - start == 30
            assert block <= week_start % 1440 and (week_end - week_start) % 10080 == 30
            assert not windows.overlap(backup, maintenance)
    assert windows.default_windows(1, "us-east-1", "a") == windows.default_windows(1, "us-east-1", "a")
    given = windows.default_windows(1, "us-east-1", "a", backup="05:00-05:30")
    assert given[0] == "05:00-05:30" and not windows.overlap(*given)


def test_which_modifications_are_an_outage():
    assert outage_of({"DBInstanceClass"}, {"DBInstanceClass": "db.t3.small"}, 1)
    assert not outage_of({"MultiAZ", "AllocatedStorage"}, {"MultiAZ": True, "AllocatedStorage": 40}, 1)
    assert outage_of({"BackupRetentionPeriod"}, {"BackupRetentionPeriod": 7}, 0)  # backups switched on
    assert not outage_of({"BackupRetentionPeriod"}, {"BackupRetentionPeriod": 7}, 3)
    assert set(DEFERRED) >= {"DBInstanceClass", "MultiAZ", "AllocatedStorage", "EngineVersion"}
    assert retention_message(36) == "Invalid backup retention period: 36. Backup retention period must be between " \
                                    "0 and 35."


def test_default_windows_are_apart_not_end_to_end():
    assert not windows.overlap("03:00-03:30", "sun:03:30-sun:04:00")
    assert windows.overlap("03:00-03:30", "sun:03:30-sun:04:00", touching=True)
    for n in range(500):
        assert not windows.overlap(*windows.default_windows(7, "us-east-1", f"x{n}"), touching=True)
