"""Snapshot tests of the main screens at 80x24, over the canned source (frozen sim clock, fixed world).

Update the stored SVGs after an intended change of look with:
    .venv/bin/python -m pytest tests/tui/test_snapshots.py --snapshot-update
and look at them (tests/tui/__snapshots__/) before committing.
"""

from __future__ import annotations

from tests.tui.canned import CannedSource
from tests.tui.helpers import SIZE, settle
from tui.app import LabApp


def app_over(source: CannedSource, theme: str | None = None) -> LabApp:
    if theme:
        source.saved["theme"] = theme
    return LabApp(source, poll_seconds=0.0, live_check_seconds=0.0)


def test_home(snap_compare) -> None:
    assert snap_compare(app_over(CannedSource()), terminal_size=SIZE, run_before=settle)


def test_home_light_theme(snap_compare) -> None:
    assert snap_compare(app_over(CannedSource(), theme="light"), terminal_size=SIZE, run_before=settle)


def test_lab_instructions(snap_compare) -> None:
    async def open_lab(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app_over(CannedSource()), terminal_size=SIZE, run_before=open_lab)


def test_lab_checks(snap_compare) -> None:
    source = CannedSource()
    source.passing = {"S3_BUCKET_VERSIONING_ENABLED"}

    async def check(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pilot.app.screen.action_show_tab("checks")
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(app_over(source), terminal_size=SIZE, run_before=check)


def test_region_map_during_an_outage(snap_compare) -> None:
    source = CannedSource()
    source.inject("region-outage", {"region": "us-east-1"})
    source.inject("az-power-interruption", {"zone": "us-west-2a"})

    async def show_map(pilot) -> None:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(app_over(source), terminal_size=SIZE, run_before=show_map)


def test_resource_explorer(snap_compare) -> None:
    async def show_bucket(pilot) -> None:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "enter", "down")
        await settle(pilot)

    assert snap_compare(app_over(CannedSource()), terminal_size=SIZE, run_before=show_bucket)


def test_event_log(snap_compare) -> None:
    async def show_events(pilot) -> None:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(app_over(CannedSource()), terminal_size=SIZE, run_before=show_events)


def test_clock_and_failures(snap_compare) -> None:
    source = CannedSource()
    source.inject("region-outage", {"region": "us-east-1"})

    async def show_clock(pilot) -> None:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)

    assert snap_compare(app_over(source), terminal_size=SIZE, run_before=show_clock)


def test_help(snap_compare) -> None:
    async def show_help(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app_over(CannedSource()), terminal_size=SIZE, run_before=show_help)


def test_lab_drill_started(snap_compare) -> None:
    """The Drill tab once the incident has happened: the briefing, then how to recover."""
    async def start_drill(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("d", "y")
        await settle(pilot)
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(app_over(CannedSource()), terminal_size=SIZE, run_before=start_drill)


def test_lab_checks_with_similar_names(snap_compare) -> None:
    """Names that differ only at their end stay apart in the checks table at 80 columns."""
    source = CannedSource()
    source.resources = {"S3_BUCKET_VERSIONING_ENABLED": (
        "securecart-invoices-use1", "securecart-invoices-usw2", "securecart-orders-manual",
        "securecart-orders-manual-usw2")}

    async def check(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(app_over(source), terminal_size=SIZE, run_before=check)


def test_home_while_the_sandbox_is_busy(snap_compare) -> None:
    """A sandbox slow to answer is shown busy, with what it said last."""
    async def busy(pilot) -> None:
        await settle(pilot)
        pilot.app.show_busy(9.0)
        await settle(pilot)

    assert snap_compare(app_over(CannedSource()), terminal_size=SIZE, run_before=busy)
