"""`lab status`'s table as a learner reads it (no server: the body is what GET /_lab/status answers)."""

from __future__ import annotations

from rich.console import Console

from lab.render import status_table


def shown(journal_records: int) -> str:
    body = {"endpoint": "http://127.0.0.1:4566", "backend": "embedded", "uptime_s": 5, "regions": ["us-east-1"],
            "account_id": "000000000000", "state_dir": "/tmp/lab", "pid": 1, "resources": {},
            "storage": {"disk_full": False, "journal_records": journal_records, "fsync": "never"}}
    console = Console(width=160, record=True, color_system=None)
    console.print(status_table(body))
    return console.export_text()


def test_the_sim_clock_is_shown_with_its_speed_and_whether_it_runs():
    """The README promises the clock in `lab status`: it was in --json alone."""
    body = {"endpoint": "http://127.0.0.1:4566", "backend": "embedded", "regions": ["us-east-1"], "state_dir": "/x",
            "clock": {"now": "2026-12-08T02:00:00Z", "speed": 60.0, "paused": False}}
    console = Console(width=160, record=True, color_system=None)
    console.print(status_table(body))
    assert "sim clock  2026-12-08T02:00:00Z (running, speed 60.0x)" in console.export_text()


def test_the_journal_counts_one_change_and_several_changes():
    assert "journal 1 change since the last snapshot" in shown(1)
    assert "journal 3 changes since the last snapshot" in shown(3)
    assert "journal 0 changes since the last snapshot" in shown(0)
