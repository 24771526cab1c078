"""Home: the labs with progress and score, the highlighted lab's objectives, and the sandbox."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from tui.data import LabSummary
from tui.screens.base import SectionScreen
from tui.widgets.lab_table import LabTable
from tui.widgets.sandbox_panel import SandboxPanel


def lab_brief(summary: LabSummary | None) -> Content:
    if summary is None:
        return Content.from_markup("[dim]No labs found. Labs are YAML files in exercises/ "
                                   "(or the folder LAB_EXERCISES_DIR names).[/dim]")
    lab, progress = summary.lab, summary.progress
    hints = sum(progress.hints_revealed.values())
    lines = [Content.from_markup("[b]$title[/b]  [dim]$id · about $minutes min[/dim]", title=lab.title, id=lab.id,
                                 minutes=str(lab.estimated_minutes))]
    lines += [Content.from_markup("• $objective", objective=objective) for objective in lab.objectives]
    lines.append(Content.from_markup("[dim]attempts $attempts · hints used $hints · pass mark $mark%[/dim]",
                                     attempts=str(progress.attempts), hints=str(hints),
                                     mark=f"{lab.pass_mark * 100:.0f}"))
    return Content("\n").join(lines)


class HomeScreen(SectionScreen):
    SECTION = "home"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="home-body"):
            with Vertical(id="home-labs"):
                yield LabTable()
                yield Static(Content.from_markup("[dim]Reading the labs…[/dim]"), id="lab-brief")
            yield SandboxPanel(id="home-sandbox")

    def on_mount(self) -> None:
        self.query_one("#lab-brief").border_title = "About the lab"
        self.watch(self.app, "labs", self.show_labs)

    def show_labs(self, labs: tuple[LabSummary, ...]) -> None:
        table = self.query_one(LabTable)
        table.show(labs, select=table.highlighted_lab() or self.lab_app.resume_lab)
        self.show_brief()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_brief()

    def show_brief(self) -> None:
        table = self.query_one(LabTable)
        lab_id = table.highlighted_lab()
        summary = next((s for s in table.summaries if s.lab.id == lab_id), None)
        brief = self.query_one("#lab-brief", Static)
        if summary is None and self.lab_app.labs_loaded and not table.summaries:
            brief.update(lab_brief(None))
        elif summary is not None:
            brief.update(lab_brief(summary))
