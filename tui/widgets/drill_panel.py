"""The lab's failure drill: what it injects, the RTO/RPO targets, and how the last drill measured up."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from tui.data import DrillView, LabView
from tui.style import duration, short_time


def verdict(value: float | None, target: float | None) -> str:
    if value is None or target is None:
        return ""
    return "[$success]✔ within target[/]" if value <= target else "[$error]✘ over target[/]"


def store_loss(value: object) -> str:
    """One store's loss: {"count": 3, "span_seconds": 120, ...} -> "3 lost, the oldest 2m before the incident"."""
    if isinstance(value, dict) and "count" in value:
        if not value["count"]:
            return "nothing lost"
        return f"{value['count']} lost, the oldest {duration(value.get('span_seconds'))} before the incident"
    return json.dumps(value, default=str)


def drill_markup(lab: LabView, drill: DrillView | None) -> Content:
    if lab.drill is None:
        return Content.from_markup("[dim]This lab has no failure drill.[/dim]")
    params = json.dumps(dict(lab.drill.params), sort_keys=True) if lab.drill.params else "defaults"
    lines = [
        Content.from_markup("[b]Drill[/b] $scenario [dim]($params)[/dim]", scenario=lab.drill.scenario, params=params),
        Content.from_markup("[b]Targets[/b] RTO $rto · RPO $rpo", rto=duration(lab.rto_target_seconds),
                            rpo=duration(lab.rpo_target_seconds)),
    ]
    if drill is None:
        lines.append(Content.from_markup("\n[dim]Configure every step first, then press d to start the drill. "
                                         "The failure is injected at once; recover with the tools you used, "
                                         "and the lab measures RTO and RPO.[/dim]"))
        return Content("\n").join(lines)
    lines.append(Content.from_markup("\n[b]Drill $id[/b] · incident at sim $at", id=drill.id,
                                     at=short_time(drill.incident_time)))
    if not drill.finished:
        lines.append(Content.from_markup("[$warning]⟳ running: recover the SecureCart data; the lab re-checks "
                                         "recovery as sim time passes.[/]"))
        return Content("\n").join(lines)
    rto_target = drill.rto_target_seconds if drill.rto_target_seconds is not None else lab.rto_target_seconds
    rpo_target = drill.rpo_target_seconds if drill.rpo_target_seconds is not None else lab.rpo_target_seconds
    lines.append(Content.from_markup("status $status · recovered at sim $recovered",
                                     status=drill.status, recovered=short_time(drill.recovered_time)))
    lines.append(Content.from_markup(f"[b]RTO[/b] $rto (target $target) {verdict(drill.rto_seconds, rto_target)}",
                                     rto=duration(drill.rto_seconds), target=duration(rto_target)))
    lost = "–" if drill.rpo_count is None else f"{drill.rpo_count} order(s)"
    lines.append(Content.from_markup(
        f"[b]RPO[/b] $span, $lost lost (target $target) {verdict(drill.rpo_span_seconds, rpo_target)}",
        span=duration(drill.rpo_span_seconds), lost=lost, target=duration(rpo_target)))
    for store, value in sorted(drill.rpo_per_store.items()):
        lines.append(Content.from_markup("  [dim]$store: $value[/dim]", store=store, value=store_loss(value)))
    if drill.compliance:
        tone = "success" if drill.compliance == "PolicyMet" else "error"
        lines.append(Content.from_markup(f"[${tone} b]$compliance[/]", compliance=drill.compliance))
    return Content("\n").join(lines)


class DrillPanel(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static(id="drill-text")
        yield Button("Start the drill (d)", id="start-drill", variant="error")

    shown: tuple[object, ...] = ()

    def show(self, lab: LabView, drill: DrillView | None) -> None:
        if (lab, drill) == self.shown:
            return
        self.shown = (lab, drill)
        self.query_one("#drill-text", Static).update(drill_markup(lab, drill))
        self.query_one("#start-drill", Button).display = lab.drill is not None and (drill is None or drill.finished)
