"""The lab's failure drill: what it injects and the RTO/RPO targets; its briefing (what happens at the
incident); once it has started, how to recover (with commands to copy) and the recovery hints, revealed
one at a time; and how the last drill measured up.
"""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Markdown, Static

from tui.data import DrillSpecView, DrillView, LabView
from tui.style import compliance_text, duration, short_time
from tui.widgets.instructions import StepMarkdown


def verdict(value: float | None, target: float | None) -> str:
    if value is None or target is None:
        return ""
    return "[$success]✔ within target[/]" if value <= target else "[$error]✘ over target[/]"


def store_loss(value: object) -> str:
    """One store's loss: {"count": 3, "span_seconds": 120, ...} -> "3 lost, the oldest 2 min before the incident"."""
    if isinstance(value, dict) and "count" in value:
        if not value["count"]:
            return "nothing lost"
        return f"{value['count']} lost, the oldest {duration(value.get('span_seconds'))} before the incident"
    return json.dumps(value, default=str)


def param_text(params: object) -> str:
    """Scenario parameters as name=value (lists and booleans as JSON would write them)."""
    if not isinstance(params, dict) and not hasattr(params, "items"):
        return ""
    shown = []
    for name, value in sorted(params.items()):  # type: ignore[union-attr]
        text = json.dumps(value) if isinstance(value, (bool, list, dict)) or value is None else str(value)
        shown.append(f"{name}={text}")
    return ", ".join(shown)


def scenario_lines(spec: DrillSpecView) -> list[Content]:
    """The drill's scenario, then each one that follows it and when."""
    lines = [Content.from_markup("[b]Drill[/b] $scenario [dim]$params[/dim]", scenario=spec.scenario,
                                 params=param_text(spec.params) or "(its defaults)")]
    for follow_up in spec.then:
        lines.append(Content.from_markup("  [b]$after later[/b] $scenario [dim]$params[/dim]",
                                         scenario=follow_up.scenario, params=param_text(follow_up.params),
                                         after=duration(follow_up.after_seconds)))
    return lines


def drill_markup(lab: LabView, drill: DrillView | None) -> Content:
    if lab.drill is None:
        return Content.from_markup("[dim]This lab has no failure drill.[/dim]")
    lines = scenario_lines(lab.drill)
    lines.append(Content.from_markup("[b]Targets[/b] RTO $rto · RPO $rpo", rto=duration(lab.rto_target_seconds),
                                     rpo=duration(lab.rpo_target_seconds)))
    if drill is None:
        lines.append(Content.from_markup("[dim]Configure every step first, then press d to start the drill. "
                                         "The failure is injected at once; recover with the tools you used, "
                                         "and the lab measures RTO and RPO.[/dim]"))
        return Content("\n").join(lines)
    lines.append(Content.from_markup("\n[b]Drill $id[/b] · incident at sim $at", id=drill.id,
                                     at=short_time(drill.incident_time)))
    if not drill.finished:
        lines.append(Content.from_markup("[$warning]⟳ running: recover the SecureCart data (below); the lab "
                                         "re-checks recovery as sim time passes.[/]"))
        return Content("\n").join(lines)
    rto_target = drill.rto_target_seconds if drill.rto_target_seconds is not None else lab.rto_target_seconds
    rpo_target = drill.rpo_target_seconds if drill.rpo_target_seconds is not None else lab.rpo_target_seconds
    if drill.recovered_time:
        lines.append(Content.from_markup("recovered at sim $recovered", recovered=short_time(drill.recovered_time)))
    else:
        lines.append(Content.from_markup("$status before the data was recovered", status=drill.status))
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
        lines.append(Content.from_markup(f"[${tone} b]$compliance[/]", compliance=compliance_text(drill.compliance)))
    return Content("\n").join(lines)


def recovery_hints_markup(lab: LabView, revealed: int) -> Content:
    total = len(lab.recovery_hints)
    if total == 0:
        return Content.from_markup("[dim]This drill has no recovery hints.[/dim]")
    shown = min(revealed, total)
    lines = [Content.from_markup("[b]Recovery hints[/b] [dim]($shown of $total revealed)[/dim]",
                                 shown=str(shown), total=str(total))]
    for number, hint in enumerate(lab.recovery_hints[:shown], start=1):
        lines.append(Content.from_markup("[$accent]$number.[/] $hint", number=str(number), hint=hint))
    if shown < total:
        lines.append(Content.from_markup("[dim]Press n for the next hint; hints used are counted.[/dim]"))
    return Content("\n").join(lines)


class DrillPanel(VerticalScroll):
    """Shows what it is given (`show`); its buttons' presses go up to the lab screen."""

    def compose(self) -> ComposeResult:
        yield Static(id="drill-text")
        yield Static(Content.from_markup("[b]Briefing[/b]"), id="drill-briefing-title", classes="drill-heading")
        yield Markdown(id="drill-briefing", open_links=False)
        yield Button("Start the drill (d)", id="start-drill", variant="error")
        yield Static(Content.from_markup("[b]Recover[/b]"), id="drill-recovery-title", classes="drill-heading")
        yield StepMarkdown(id="drill-recovery", open_links=False)
        yield Static(id="drill-hints")
        yield Button("Reveal next recovery hint (n)", id="reveal-recovery-hint", variant="primary")

    shown: tuple[object, ...] = ()
    texts: tuple[str, str] = ("", "")

    def show(self, lab: LabView, drill: DrillView | None, hints_revealed: int = 0) -> None:
        if (lab, drill, hints_revealed) == self.shown:
            return
        self.shown = (lab, drill, hints_revealed)
        started = drill is not None
        briefing = lab.drill.briefing_md.strip() if lab.drill else ""
        recovery = lab.recovery_instructions_md.strip() if started else ""
        self.query_one("#drill-text", Static).update(drill_markup(lab, drill))
        self.query_one("#drill-briefing-title").display = bool(briefing)
        self.query_one("#drill-briefing").display = bool(briefing)
        self.query_one("#start-drill", Button).display = lab.drill is not None and (drill is None or drill.finished)
        self.query_one("#drill-recovery-title").display = bool(recovery)
        self.query_one("#drill-recovery").display = bool(recovery)
        recovery_hints = started and bool(lab.recovery_hints)
        hints = self.query_one("#drill-hints", Static)
        hints.display = recovery_hints
        if recovery_hints:
            hints.update(recovery_hints_markup(lab, hints_revealed))
        self.query_one("#reveal-recovery-hint", Button).display = (
            recovery_hints and hints_revealed < len(lab.recovery_hints))
        if (briefing, recovery) != self.texts:
            self.texts = (briefing, recovery)
            self.run_worker(self.show_texts(briefing, recovery), group="drill-markdown", exclusive=True)

    async def show_texts(self, briefing: str, recovery: str) -> None:
        await self.query_one("#drill-briefing", Markdown).update(briefing)
        await self.query_one("#drill-recovery", StepMarkdown).update(recovery)
