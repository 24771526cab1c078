"""Pilot tests: drive the app at 80x24 over the canned source and check what it shows and asks for."""

from __future__ import annotations

import asyncio
import io
import threading
from dataclasses import replace

import pytest
from rich.console import Console
from textual.widgets import Input, Markdown, OptionList, Static, TabbedContent

from tests.tui.helpers import SIZE, settle
from tui.app import LabApp
from tui.data import RECOVERY_HINTS
from tui.screens.clock import ClockScreen
from tui.screens.events import EventLogScreen
from tui.screens.help import HelpScreen, help_renderable
from tui.screens.home import HomeScreen
from tui.screens.lab import LabScreen
from tui.screens.sandbox_down import SandboxDownScreen
from tui.widgets.checks_panel import ChecksTable
from tui.widgets.event_table import EventTable
from tui.widgets.instructions import CommandFence, StepMarkdown
from tui.widgets.lab_table import LabTable
from tui.widgets.region_panel import RegionPanel
from tui.widgets.resource_details import ResourceDetails
from tui.widgets.resource_tree import ResourceTree
from tui.widgets.scenario_form import ScenarioForm

pytestmark = pytest.mark.asyncio


def text_of(widget: Static) -> str:
    return str(widget.render())


async def open_first_lab(pilot) -> LabScreen:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LabScreen)
    return screen


async def test_home_lists_the_labs_and_the_sandbox(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        table = app.screen.query_one(LabTable)
        assert [s.lab.id for s in table.summaries] == ["02-s3-crr", "06-rds-multi-az"]
        panel = text_of(app.screen.query_one("#home-sandbox", Static))
        assert "embedded" in panel and "us-east-1 healthy" in panel and "01-03 10:00:00" in panel


async def test_opening_a_lab_shows_its_step_and_a_command_to_copy(make_app, source) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lab(pilot)
        assert screen.current == "versioning"
        markdown = screen.query_one(StepMarkdown)
        assert "Turn on versioning" in markdown.source
        fence = screen.query_one(CommandFence)
        fence.focus()
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard.startswith("aws s3api put-bucket-versioning --bucket securecart-invoices-use1")
        assert source.saved["last_lab"] == "02-s3-crr"


async def test_running_checks_records_the_attempt_and_moves_on(make_app, source) -> None:
    source.passing = {"S3_BUCKET_VERSIONING_ENABLED"}
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lab(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert source.called("run_checks")[-1] == ("run_checks", "02-s3-crr", "configure", True)
        progress = source.progress["02-s3-crr"]
        assert progress.attempts == 1 and "versioning" in progress.steps_done
        assert progress.last_percent == pytest.approx(50.0)
        assert screen.current == "replication"  # the step passed: on to the next one
        table = screen.query_one(ChecksTable)
        assert [o.status for o in table.outcomes] == ["PASS", "FAIL"]
        assert "50%" in text_of(screen.query_one("#checks-summary", Static))
        evidence = text_of(screen.query_one("#checks-evidence-text", Static))
        assert "S3_BUCKET_VERSIONING_ENABLED" in evidence and "versioning is Enabled" in evidence


async def test_the_ui_stays_live_while_checks_run(make_app, source) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lab(pilot)
        source.check_gate = threading.Event()  # the next check run blocks until the test lets it go
        await pilot.press("k")
        assert screen.checking
        await pilot.press("right_square_bracket")  # the UI answers while the checks are still running
        await pilot.press("n")
        assert screen.checking and screen.current == "replication"
        assert "Hints for Add a replication rule" in text_of(screen.query_one("#hints-text", Static))
        source.check_gate.set()
        await settle(pilot)
        assert not screen.checking and screen.report is not None


async def test_hints_are_revealed_one_at_a_time_and_counted(make_app, source) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lab(pilot)
        hints = screen.query_one("#hints-text", Static)
        for expected in (1, 2, 2):
            await pilot.press("n")
            await settle(pilot)
            assert source.progress["02-s3-crr"].hints_for("versioning") == expected
        assert "2 of 2 revealed" in text_of(hints)
        assert "Do the destination bucket too." in text_of(hints)
        assert len(source.called("reveal_hint")) == 2  # the third press asked for nothing


async def test_a_drill_starts_and_shows_rpo_and_rto_against_the_targets(make_app, source) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lab(pilot)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert source.called("start_drill") == [("start_drill", "02-s3-crr")]
        assert screen.drill is not None and screen.drill.status == "running"
        assert screen.phase() == "all"
        source.finish_drill(rto=240.0, rpo=120.0, lost=2)
        screen.poll_drill()
        await settle(pilot)
        text = text_of(screen.query_one("#drill-text", Static))
        assert "RTO 4 min (target 15 min) ✔ within target" in text
        assert "RPO 2 min, 2 order(s) lost (target 5 min) ✔ within target" in text
        assert "policy met" in text and "PolicyMet" not in text


async def test_the_clock_advances_and_pauses(make_app, source) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, ClockScreen)
        advance = app.screen.query_one("#clock-advance", Input)
        advance.value = "2h"
        await pilot.click("#clock-do-advance")
        await settle(pilot)
        assert source.called("clock") == [("clock", "advance", "2h")]
        assert app.sandbox is not None and app.sandbox.clock.now == "2026-01-03T12:00:00Z"
        await pilot.press("p")
        await settle(pilot)
        assert app.sandbox.clock.paused
        assert "paused" in text_of(app.screen.query_one("#clock-now", Static))


async def test_a_scenario_is_checked_injected_with_its_parameters_and_ended(make_app, source) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        form = screen.query_one(ScenarioForm)
        assert form.scenario is not None and form.scenario.name == "region-outage"
        region = screen.query_one("#param-region", Input)
        region.value = "eu-west-1"  # not a region of the sandbox: refused before anything is injected
        await pilot.click("#inject")
        await settle(pilot)
        assert not source.called("inject")
        assert any("region must be one of" in n.message for n in app._notifications)
        app.clear_notifications()  # the toast can sit over the button at 80x24, as it would for a person
        await settle(pilot)
        region.value = "us-west-2"
        await pilot.click("#inject")
        await settle(pilot)
        assert source.called("inject") == [("inject", "region-outage", {"region": "us-west-2", "duration": "30m"})]
        west = next(h for h in app.sandbox.regions if h.region == "us-west-2")
        assert west.state == "outage"
        assert "region-outage" in text_of(screen.query_one("#fault-lines", Static))
        await pilot.press("2")
        await settle(pilot)
        panel = app.screen.query_one("#region-us-west-2", RegionPanel)
        assert panel.has_class("-outage") and "OUTAGE" in text_of(panel)
        await pilot.press("5")
        await pilot.press("x")
        await settle(pilot)
        assert source.called("recover") and not app.sandbox.faults


async def test_a_dead_sandbox_is_reported_and_restarted(make_app, source) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        source.alive = False
        app.poll_sandbox()
        await settle(pilot)
        assert isinstance(app.screen, SandboxDownScreen)
        assert app.sandbox.state == "down"
        await pilot.press("r")
        await settle(pilot)
        assert source.called("restart")
        assert app.sandbox.running and not isinstance(app.screen, SandboxDownScreen)


async def test_reopening_resumes_the_last_lab_at_its_step(make_app, source) -> None:
    source.saved["last_lab"] = "02-s3-crr"
    source.set_current_step("02-s3-crr", "replication")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LabScreen)
        assert app.screen.current == "replication"
        assert "Add a replication rule" in app.screen.query_one(StepMarkdown).source


async def test_the_palette_opens_a_lab(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"multi")
        await asyncio.sleep(0.3)  # the palette searches in the background
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LabScreen) and app.screen.lab_id == "06-rds-multi-az"


async def test_help_lists_the_keys_of_the_screen(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_first_lab(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=80, record=True, file=io.StringIO())
        console.print(help_renderable(app, app.screen.under))
        text = console.export_text()
        for expected in ("k", "Check", "Hint", "Drill", "ctrl+p", "1 … 5"):
            assert expected in text
        assert "Cursor up" not in text  # a table's stock keys are not the lab's
        await pilot.press("escape")
        assert isinstance(app.screen, LabScreen)


async def test_the_theme_toggles_and_is_remembered(make_app, source) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.theme == "textual-light" and source.saved["theme"] == "light"
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.theme == "textual-light"


async def test_the_event_log_filters(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, EventLogScreen)
        table = app.screen.query_one(EventTable)
        assert len(table.shown) == 5
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#event-text", Input)
        app.focused.value = "replication"
        await pilot.pause()
        assert [e.name for e in table.shown] == ["ReplicationCompleted"]
        app.screen.query_one("#event-text", Input).value = ""
        app.screen.query_one("#event-kind").value = "fault"
        await pilot.pause()
        assert [e.kind for e in table.shown] == ["fault"]


async def test_the_step_list_moves_between_steps(make_app, source) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lab(pilot)
        steps = screen.query_one(OptionList)
        steps.focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert screen.current == "replication"
        assert source.progress["02-s3-crr"].current_step == "replication"


# -- the walk of issue 15 -------------------------------------------------------------------------------------

async def until(pilot, condition, seconds: float = 10.0) -> None:
    """Let the app run until `condition()` holds (a bound, never a measured time)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the app never got there")


async def test_the_drill_tab_briefs_before_the_incident_and_tells_how_to_recover_after(make_app, source) -> None:
    """The drill's briefing shows before it starts; its recovery instructions and hints once it has."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lab(pilot)
        await pilot.press("d", "escape")  # the Drill tab, without starting
        await settle(pilot)
        briefing = screen.query_one("#drill-briefing", Markdown)
        recovery = screen.query_one("#drill-recovery", StepMarkdown)
        assert briefing.display and "overwrote 25 invoices" in briefing.source
        assert "15 min later region-outage region=us-east-1" in text_of(screen.query_one("#drill-text"))
        assert not recovery.display and not screen.query_one("#drill-hints").display
        await pilot.press("d", "y")
        await settle(pilot)
        assert recovery.display and "Work in us-west-2" in recovery.source
        fences = list(recovery.query(CommandFence))
        assert fences and fences[0].code.startswith("aws s3api list-object-versions --region us-west-2")
        hints = screen.query_one("#drill-hints", Static)
        assert "0 of 2 revealed" in text_of(hints) and "Nothing in us-east-1" not in text_of(hints)
        await pilot.press("n")  # on the Drill tab of a started drill: the next recovery hint
        await settle(pilot)
        assert source.progress["02-s3-crr"].hints_for(RECOVERY_HINTS) == 1
        assert source.progress["02-s3-crr"].hints_for("versioning") == 0
        assert "1. Nothing in us-east-1 answers" in text_of(hints) and "LastModified" not in text_of(hints)
        assert screen.query_one(TabbedContent).active == "drill"


async def test_tab_keys_work_with_the_focus_in_the_checks_table_or_a_code_block(make_app, source) -> None:
    """i, n and k switch tabs wherever the focus is, and k both runs the checks and shows them."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lab(pilot)
        tabs = screen.query_one(TabbedContent)
        await pilot.press("k")
        await settle(pilot)
        screen.query_one(ChecksTable).focus()
        await pilot.pause()
        await pilot.press("i")
        await settle(pilot)
        assert tabs.active == "instructions"
        screen.query_one(CommandFence).focus()
        await pilot.pause()
        await pilot.press("k")
        await settle(pilot)
        assert tabs.active == "checks" and len(source.called("run_checks")) >= 2
        screen.query_one(ChecksTable).focus()
        await pilot.pause()
        await pilot.press("n")
        await settle(pilot)
        assert tabs.active == "hints"
        assert "1. Versioning is a bucket setting" in text_of(screen.query_one("#hints-text", Static))


async def test_a_hint_is_counted_only_when_it_is_on_screen(make_app, source) -> None:
    """A hint asked for while its tab cannot be seen (a dialog is over the lab) is not counted."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_lab(pilot)
        await app.push_screen(HelpScreen(screen))
        screen.action_reveal_hint()
        await settle(pilot)
        assert not source.called("reveal_hint")
        await pilot.press("escape")
        await pilot.press("n")
        await settle(pilot)
        assert source.progress["02-s3-crr"].hints_for("versioning") == 1
        assert screen.query_one(TabbedContent).active == "hints"


def table_fits(table) -> bool:
    widths = sum(column.get_render_width(table) for column in table.columns.values())
    return widths <= table.scrollable_content_region.width


async def test_home_keeps_steps_and_score_in_view_at_80_columns(make_app, monkeypatch) -> None:
    """Long lab titles are shortened at a word, so Steps and Score stay in view, also after a resize."""
    from tests.tui import canned

    long_title = "DynamoDB point-in-time recovery and global tables"
    monkeypatch.setattr(canned, "LABS", (replace(canned.LABS[0], title=long_title), canned.LABS[1]))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(LabTable)
        assert table_fits(table) and long_title in str(table.get_row_at(0)[0])
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert table_fits(table)
        assert [c.label.plain for c in table.columns.values()] == ["Lab", "Steps", "Score"]
        title = str(table.get_row_at(0)[0])
        assert title.startswith("02 DynamoDB point-in-time") and title.endswith("…") and long_title not in title


@pytest.mark.parametrize("columns", [80, 100])
async def test_checks_keep_names_that_differ_at_their_end_apart(make_app, source, columns) -> None:
    """Names too long for the checks table lose their middle, so -use1 and -usw2 stay told apart."""
    names = ("securecart-invoices-use1", "securecart-invoices-usw2", "securecart-orders-manual",
             "securecart-orders-manual-usw2", "securecart-vault", "securecart-vault-dr")
    source.resources = {"S3_BUCKET_VERSIONING_ENABLED": names}
    app = make_app()
    async with app.run_test(size=(columns, 24)) as pilot:
        screen = await open_first_lab(pilot)
        await pilot.press("k")
        await settle(pilot)
        table = screen.query_one(ChecksTable)
        assert table_fits(table)
        shown = [str(table.get_row_at(row)[3]) for row in range(len(names))]
        assert len(set(shown)) == len(names), shown
        for name, cell in zip(names, shown, strict=True):
            assert cell == name or ("…" in cell and name.endswith(cell.split("…")[1]))


async def test_a_busy_sandbox_looks_busy_not_dead(source) -> None:
    """A status that takes long shows "busy, waiting N s"; only a refused connection would be "down"."""
    app = LabApp(source, poll_seconds=0.05, live_check_seconds=0, busy_after_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        source.sandbox_gate = threading.Event()
        await until(pilot, lambda: app.sandbox is not None and app.sandbox.state == "busy")
        assert not isinstance(app.screen, SandboxDownScreen)
        await until(pilot, lambda: app.sandbox.waiting_seconds >= 1)
        status = text_of(app.screen.query_one("#nav-status", Static))
        assert "busy, waiting" in status and " s" in status
        panel = text_of(app.screen.query_one("#home-sandbox", Static))
        assert "sandbox busy, waiting for an answer" in panel and "embedded" in panel  # the last known state
        source.sandbox_gate.set()
        await until(pilot, lambda: app.sandbox.state == "running")
        source.sandbox_gate = None
        source.alive = False  # now it refuses: that one is down
        await until(pilot, lambda: isinstance(app.screen, SandboxDownScreen))


async def test_resources_show_that_they_are_being_read(make_app, source) -> None:
    """The explorer says it is reading the resources until the first read of them comes back."""
    source.world_gate = threading.Event()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await pilot.pause()
        tree = app.screen.query_one(ResourceTree)
        assert tree.show_root and "reading the resources" in str(tree.root.label)
        assert "Reading the resources" in text_of(app.screen.query_one(ResourceDetails))
        source.world_gate.set()
        await settle(pilot)
        assert not tree.show_root and app.focused is tree
        assert "Choose a resource" in text_of(app.screen.query_one(ResourceDetails))


async def test_an_empty_parameter_says_what_to_type(make_app) -> None:
    """A parameter with no default shows what leaving it empty means, not its type as if it were a value."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        app.screen.choose("accidental-deletion")
        await settle(pilot)
        field = app.screen.query_one("#param-resource", Input)
        assert field.value == "" and field.placeholder == "empty: SecureCart's own"
        assert app.screen.query_one("#param-count", Input).value == "10"


async def test_the_event_log_shows_your_calls_and_the_labs_on_request(make_app) -> None:
    """The lab's own API calls are left out of the event log until a asks for them."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        assert "BatchWriteItem" not in [e.name for e in table.shown]
        assert "PutBucketVersioning" in [e.name for e in table.shown]
        await pilot.press("a")
        await pilot.pause()
        assert table.shown[0].name == "BatchWriteItem"
        assert "all calls" in text_of(app.screen.query_one("#event-scope", Static))
        await pilot.press("a")
        await pilot.pause()
        assert "BatchWriteItem" not in [e.name for e in table.shown]
