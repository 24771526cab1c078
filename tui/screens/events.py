"""Event log: API calls and engine events (replication, backups, failovers, faults), filterable, live.

The API calls shown are the learner's; the lab's own (seeding the world, engines acting as AWS services)
are left out until asked for (a), so that what you did is not lost among them.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import DataTable, Input, Select, Static

from tui.data import EventBatch
from tui.screens.base import SectionScreen
from tui.widgets.event_table import EventFilter, EventTable, event_detail

KINDS = ("api", "engine", "fault", "drill", "workload", "lab")
EVENTS_POLL_SECONDS = 1.0
FIRST_LOAD = 500


def scope_text(lab_calls: bool) -> Content:
    return Content.from_markup("[b]all calls[/b]" if lab_calls else "your calls")


class EventLogScreen(SectionScreen):
    SECTION = "events"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "toggle_follow", "Follow"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("a", "toggle_lab_calls", "Lab's calls"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.last_seq = 0
        self.fetching = False
        self.lab_calls = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="event-filters"):
            yield Input(placeholder="/ filter: source, event, region or resource", id="event-text", compact=True)
            yield Select([(kind, kind) for kind in KINDS], prompt="every kind", id="event-kind", compact=True)
            yield Static(scope_text(False), id="event-scope")
            yield Static("following", id="event-follow")
        yield EventTable()
        yield Static("", id="event-detail")

    def on_mount(self) -> None:
        self.fetch()
        if self.lab_app.poll_seconds:
            self.set_interval(EVENTS_POLL_SECONDS, self.fetch)
        self.query_one(EventTable).focus()

    def fetch(self) -> None:
        if self.fetching or not self.is_current:
            return
        self.fetching = True
        limit = FIRST_LOAD if self.last_seq == 0 else 1000
        self.lab_app.call_source(self.lab_app.source.events, self.last_seq, limit, done=self.arrived,
                                 failed=self.fetch_failed, label="read the event log", group="events")

    def arrived(self, batch: EventBatch) -> None:
        self.fetching = False
        if batch.last_seq < self.last_seq:  # the sandbox was reset: its log starts again
            self.query_one(EventTable).kept.clear()
        self.last_seq = batch.last_seq
        if batch.events:
            self.query_one(EventTable).add_events(batch.events)

    def fetch_failed(self) -> None:
        self.fetching = False

    def on_input_changed(self, event: Input.Changed) -> None:
        self.apply_filter()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.apply_filter()

    def apply_filter(self) -> None:
        kind = self.query_one("#event-kind", Select).value
        text = self.query_one("#event-text", Input).value.strip()
        self.query_one(EventTable).set_filter(EventFilter(kind if isinstance(kind, str) else None, text,
                                                          self.lab_calls))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        detail = event_detail(self.query_one(EventTable).highlighted_event())
        self.query_one("#event-detail", Static).update(Content(detail))

    def action_toggle_follow(self) -> None:
        table = self.query_one(EventTable)
        table.follow = not table.follow
        self.query_one("#event-follow", Static).update("following" if table.follow else "paused")
        table.follow_newest()

    def action_toggle_lab_calls(self) -> None:
        self.lab_calls = not self.lab_calls
        self.query_one("#event-scope", Static).update(scope_text(self.lab_calls))
        self.apply_filter()

    def action_focus_filter(self) -> None:
        self.query_one("#event-text", Input).focus()
