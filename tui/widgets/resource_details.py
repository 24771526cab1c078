"""One resource's details: its settings as name/value rows, and lists (versions, snapshots, recovery
points, replication rules) as small tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.data import ResourceView

MAX_ROWS = 50
MAX_COLUMNS = 6


def scalar(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def list_table(name: str, rows: list[Any]) -> RenderableType:
    """A list of records as a table (first columns, first rows); a list of plain values as one line."""
    if not rows or not all(isinstance(row, Mapping) for row in rows):
        return Text.assemble((f"{name}: ", "bold"), ", ".join(scalar(v) for v in rows) or "none")
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    table = Table(title=f"{name} ({len(rows)})", title_justify="left", title_style="bold", expand=False,
                  show_edge=False, pad_edge=False)
    for column in columns[:MAX_COLUMNS]:
        table.add_column(column, overflow="fold")
    for row in rows[-MAX_ROWS:]:
        table.add_row(*(scalar(row.get(column)) for column in columns[:MAX_COLUMNS]))
    if len(rows) > MAX_ROWS:
        table.caption = f"the newest {MAX_ROWS} of {len(rows)}"
    return table


def details_renderable(resource: ResourceView | None) -> RenderableType:
    if resource is None:
        return Text("Choose a resource on the left: its settings, versions, snapshots or recovery points "
                    "show here.", style="dim")
    head = Table.grid(padding=(0, 1))
    head.add_column(style="bold", no_wrap=True)
    head.add_column(overflow="fold")
    head.add_row("name", resource.name)
    head.add_row("kind", f"{resource.service} {resource.kind}")
    head.add_row("region", resource.region + (f" ({resource.zone})" if resource.zone else ""))
    if resource.status:
        head.add_row("status", resource.status)
    if resource.id != resource.name:
        head.add_row("id", resource.id)
    lists: list[RenderableType] = []
    for key, value in resource.details.items():
        if isinstance(value, list):
            lists.append(list_table(key, value))
        elif isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
            lists.append(list_table(key, [{"name": k, **v} for k, v in value.items()]))
        else:
            head.add_row(key, scalar(value))
    parts: list[RenderableType] = [Text(resource.summary, style="italic")] if resource.summary else []
    parts.append(head)
    for table in lists:
        parts += [Text(""), table]
    return Group(*parts)


class ResourceDetails(Static):
    def on_mount(self) -> None:
        self.border_title = "Details"

    def show(self, resource: ResourceView | None) -> None:
        self.update(details_renderable(resource))

    def show_reading(self) -> None:
        self.update(Text("⟳ Reading the resources of both regions…", style="italic"))

    def show_failed(self) -> None:
        self.update(Text("The resources could not be read (the message says why); press r to try again.",
                         style="dim"))
