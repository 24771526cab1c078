"""The live checks panel: each check's status, and for the highlighted one its message, hint and evidence.

The panel only shows reports; the lab screen runs the checks in a thread worker and hands them over.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static

from tui.data import CheckOutcome, LabReport, LabView
from tui.style import ThemedMixin, cut_apart, short_time, status_text


def summary_line(report: LabReport | None, lab: LabView | None, checking: bool, live_seconds: float) -> Content:
    live = f"re-checks every {live_seconds:g}s" if live_seconds else "re-check with k"
    if report is None:
        state = "[$warning]⟳ checking…[/]" if checking else "[dim]not checked yet: press k[/dim]"
        return Content.from_markup(f"{state}  [dim]$live[/dim]", live=live)
    outcomes = report.outcomes()
    passing = sum(1 for o in outcomes if o.status == "PASS")
    tone = "success" if report.passed else "warning"
    mark = f"{lab.pass_mark * 100:.0f}%" if lab else "?"
    state = " [$warning]⟳[/]" if checking else ""
    return Content.from_markup(
        f"[${tone} b]$percent%[/] $passing/$total pass · pass mark $mark · [dim]sim $at · $live[/dim]{state}",
        percent=f"{report.percent:.0f}", passing=str(passing), total=str(len(outcomes)), mark=mark,
        at=short_time(report.checked_at), live=live)


def resource_name(outcome: CheckOutcome) -> str:
    return outcome.resource_id or outcome.region or "–"


def evidence_markup(outcome: CheckOutcome | None) -> Content:
    if outcome is None:
        return Content.from_markup("[dim]Highlight a check to see what it saw.[/dim]")
    where = " ".join(filter(None, [outcome.region, outcome.resource_type, outcome.resource_id])) or "–"
    lines = [
        Content.from_markup("[b]$check[/b] [dim]$where[/dim]", check=outcome.check_id, where=where),
        Content(outcome.message or "(no message)"),
    ]
    if outcome.hint and outcome.status != "PASS":
        lines.append(Content.from_markup("[$accent]hint:[/] $hint", hint=outcome.hint))
    score = f"score {outcome.score:g}/{outcome.max_score:g}"
    lines.append(Content.from_markup("[dim]$score[/dim]", score=score))
    if outcome.evidence:
        lines.append(Content.from_markup("[b]evidence[/b]"))
        lines.append(Content(json.dumps(dict(outcome.evidence), indent=1, sort_keys=True, default=str)))
    return Content("\n").join(lines)


STATUS_WIDTH = 7  # "! ERROR"
STEP_WIDTH = 2
MIN_NAME_WIDTH = 12
RESOURCE_SHARE = 0.55


def name_widths(room: int, longest_check: int, longest_resource: int) -> tuple[int, int]:
    """(check, resource) column widths sharing `room` cells: each as long as its longest name when both
    fit; else the resource, what the learner has to find and fix, gets the larger share (the evidence
    below the table names the highlighted check in full)."""
    longest_check, longest_resource = max(longest_check, 5), max(longest_resource, 8)
    if longest_check + longest_resource <= room:
        return longest_check, longest_resource
    resource = min(longest_resource, max(MIN_NAME_WIDTH, round(room * RESOURCE_SHARE)))
    check = max(MIN_NAME_WIDTH, room - resource)
    if check > longest_check:
        check = longest_check
    return check, max(MIN_NAME_WIDTH, room - check)


class ChecksTable(ThemedMixin, DataTable[Text | str]):
    """One row per check and resource. Column widths are set for the table's width on every showing
    (a DataTable's automatic widths only ever grow); names too long for them are cut where that keeps
    them apart: a resource name loses its middle, not its end, where names of a kind differ (-use1 / -usw2)."""

    def __init__(self) -> None:
        super().__init__(cursor_type="row", id="checks-table")
        self.outcomes: list[CheckOutcome] = []
        self.report: LabReport | None = None
        self.column_widths: tuple[int, int] = (0, 0)

    def on_mount(self) -> None:
        self.show(None)
        self.watch_theme_changes(lambda: self.show(self.report))

    def on_resize(self) -> None:
        self.show(self.report)

    def widths(self, report: LabReport | None) -> tuple[int, int]:
        """(check, resource) widths that fit beside the status and step columns."""
        outcomes = report.outcomes() if report is not None else ()
        padding = 2 * self.cell_padding * 4
        room = max(2 * MIN_NAME_WIDTH, self.scrollable_content_region.width - STATUS_WIDTH - STEP_WIDTH - padding)
        return name_widths(room, max((len(o.check_id) for o in outcomes), default=0),
                           max((len(resource_name(o)) for o in outcomes), default=0))

    def show(self, report: LabReport | None) -> None:
        row = self.cursor_row
        self.report = report
        widths = self.widths(report)
        if widths != self.column_widths or not self.columns:
            self.column_widths = widths
            self.clear(columns=True)
            self.add_column("Status", key="status", width=STATUS_WIDTH)
            self.add_column("#", key="step", width=STEP_WIDTH)
            self.add_column("Check", key="check", width=widths[0])
            self.add_column("Resource", key="resource", width=widths[1])
        else:
            self.clear()
        self.outcomes = []
        if report is None:
            return
        check_width, resource_width = widths
        outcomes = report.outcomes()
        # Check ids read best from their start; resource names keep their ends (-use1, -usw2): each column
        # is cut the first of its ways that keeps its different names apart.
        checks = cut_apart((o.check_id for o in outcomes), check_width, prefer=("end", "middle", "start"))
        resources = cut_apart((resource_name(o) for o in outcomes), resource_width)
        for number, step in enumerate(report.steps, start=1):
            for outcome in step.outcomes:
                self.outcomes.append(outcome)
                self.add_row(status_text(self.app, outcome.status), str(number) if step.step_id else "R",
                             checks[outcome.check_id], resources[resource_name(outcome)])
        if self.outcomes:
            self.move_cursor(row=min(max(row, 0), len(self.outcomes) - 1))

    def highlighted_outcome(self) -> CheckOutcome | None:
        if 0 <= self.cursor_row < len(self.outcomes):
            return self.outcomes[self.cursor_row]
        return None


class ChecksPanel(Vertical):
    def __init__(self, live_seconds: float) -> None:
        super().__init__(id="checks-panel")
        self.live_seconds = live_seconds
        self.lab: LabView | None = None
        self.report: LabReport | None = None
        self.checking = False

    def compose(self) -> ComposeResult:
        yield Static(summary_line(None, None, False, self.live_seconds), id="checks-summary")
        yield ChecksTable()
        with VerticalScroll(id="checks-evidence"):
            yield Static(evidence_markup(None), id="checks-evidence-text")

    def show(self, lab: LabView, report: LabReport | None, checking: bool) -> None:
        self.lab, self.report, self.checking = lab, report, checking
        self.query_one("#checks-summary", Static).update(summary_line(report, lab, checking, self.live_seconds))
        table = self.query_one(ChecksTable)
        if table.report is not report:
            table.show(report)
            self.show_evidence()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_evidence()

    def show_evidence(self) -> None:
        outcome = self.query_one(ChecksTable).highlighted_outcome()
        self.query_one("#checks-evidence-text", Static).update(evidence_markup(outcome))
