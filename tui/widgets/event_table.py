"""The sandbox's event log as a table: API calls and engine events, filtered, following the newest."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from tui.data import EventView
from tui.style import ThemedMixin, elided, fitted, short_region, short_time, toned, utc_text

KEPT_EVENTS = 5000
SOURCE_WIDTH = 14
EVENT_WIDTH = 22
KIND_TONE = {"api": "text-muted", "engine": "primary", "fault": "error", "drill": "warning", "workload": "success",
             "lab": "accent"}


@dataclass(frozen=True)
class EventFilter:
    kind: str | None = None  # None: every kind
    text: str = ""  # matched, case-insensitively, against source, name, region, resource
    lab_calls: bool = False  # also the API calls the lab made itself (hidden by default: they drown yours)

    def matches(self, event: EventView) -> bool:
        if event.by_lab and not self.lab_calls:
            return False
        if self.kind is not None and event.kind != self.kind:
            return False
        if not self.text:
            return True
        needle = self.text.lower()
        return any(needle in (value or "").lower() for value in (event.source, event.name, event.region,
                                                                  event.resource))


def resource_text(resource: str, width: int) -> str:
    """A resource for a narrow column: an ARN without its partition, service, region and account (the line
    under the table shows the whole event), then cut in the middle."""
    if resource.startswith("arn:") and resource.count(":") >= 5:
        resource = resource.split(":", 5)[5]
    return elided(resource, width) if resource else ""


def event_detail(event: EventView | None) -> str:
    if event is None:
        return ""
    detail = json.dumps(dict(event.detail), sort_keys=True, default=str) if event.detail else ""
    return f"#{event.seq} {utc_text(event.time)} {event.kind}/{event.source} {event.name} {detail}".strip()


class EventTable(ThemedMixin, DataTable[Text | str]):
    def __init__(self) -> None:
        super().__init__(cursor_type="row", id="event-table")
        self.kept: deque[EventView] = deque(maxlen=KEPT_EVENTS)
        self.shown: list[EventView] = []
        self.filter = EventFilter()
        self.follow = True
        self.shown_where_width = 0

    def on_mount(self) -> None:
        self.set_columns()
        self.watch_theme_changes(self.render_all)

    def set_columns(self) -> None:
        """The columns, the last one as wide as what is left (a DataTable's automatic widths only grow)."""
        self.shown_where_width = self.where_width()
        self.clear(columns=True)
        self.add_column("Sim time", key="time", width=14)
        self.add_column("Kind", key="kind", width=8)
        self.add_column("Source", key="source", width=SOURCE_WIDTH)
        self.add_column("Event", key="name", width=EVENT_WIDTH)
        self.add_column("Where", key="where", width=self.shown_where_width)

    def where_width(self) -> int:
        """What is left of the table's width for the last column."""
        return max(12, self.scrollable_content_region.width - 14 - 8 - SOURCE_WIDTH - EVENT_WIDTH - 2 * 5)

    def on_resize(self) -> None:
        if self.where_width() != self.shown_where_width:
            self.set_columns()
            self.render_all()

    def add_events(self, events: tuple[EventView, ...]) -> None:
        self.kept.extend(events)
        overflow = len(self.shown) + len(events) > KEPT_EVENTS
        if overflow:
            self.render_all()
            return
        for event in events:
            if self.filter.matches(event):
                self.add_event_row(event)
        self.follow_newest()

    def set_filter(self, event_filter: EventFilter) -> None:
        self.filter = event_filter
        self.render_all()

    def render_all(self) -> None:
        self.clear()
        self.shown = []
        for event in self.kept:
            if self.filter.matches(event):
                self.add_event_row(event)
        self.follow_newest()

    def add_event_row(self, event: EventView) -> None:
        self.shown.append(event)
        width = self.shown_where_width
        region = (short_region(event.region) if width < 30 else event.region) if event.region else ""
        resource = resource_text(event.resource or "", width - len(region) - 1 if region else width)
        where = " ".join(filter(None, [region, resource])) or "–"
        source = event.source.removesuffix(".amazonaws.com")
        self.add_row(short_time(utc_text(event.time)), toned(self.app, event.kind, KIND_TONE.get(event.kind, "text")),
                     fitted(source, SOURCE_WIDTH), fitted(event.name, EVENT_WIDTH), elided(where, width))

    def follow_newest(self) -> None:
        if self.follow and self.shown:
            self.move_cursor(row=len(self.shown) - 1, animate=False)

    def highlighted_event(self) -> EventView | None:
        if 0 <= self.cursor_row < len(self.shown):
            return self.shown[self.cursor_row]
        return None
