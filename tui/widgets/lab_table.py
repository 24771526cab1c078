"""The labs with the learner's progress and last score; Enter opens one."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from tui.data import LabSummary
from tui.messages import OpenLab
from tui.style import ThemedMixin, toned


class LabTable(ThemedMixin, DataTable[Text | str]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open lab")]

    def __init__(self) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, id="lab-table")
        self.summaries: tuple[LabSummary, ...] = ()

    def on_mount(self) -> None:
        self.border_title = "Labs"
        self.add_column("Lab", key="lab")
        self.add_column("Steps", key="steps")
        self.add_column("Score", key="score")
        self.watch_theme_changes(lambda: self.show(self.summaries))

    def show(self, summaries: tuple[LabSummary, ...], select: str | None = None) -> None:
        chosen = select or self.highlighted_lab()
        self.summaries = summaries
        self.clear()
        for summary in summaries:
            lab, progress = summary.lab, summary.progress
            done = len(progress.steps_done & {step.id for step in lab.steps})
            steps = toned(self.app, f"{done}/{len(lab.steps)}", "success" if done == len(lab.steps) else "text")
            if progress.last_percent is None:
                score = toned(self.app, "–", "text-muted")
            else:
                mark = " ✔" if progress.passed else ""
                score = toned(self.app, f"{progress.last_percent:.0f}%{mark}",
                              "success" if progress.passed else "warning")
            title = Text(lab.title, overflow="ellipsis", no_wrap=True)
            title.truncate(self.title_width(), overflow="ellipsis")
            self.add_row(title, steps, score, key=lab.id)
        if chosen is not None and chosen in {s.lab.id for s in summaries}:
            self.move_cursor(row=self.get_row_index(chosen))

    def title_width(self) -> int:
        """What is left for the title beside the steps and score columns (at least 20 cells)."""
        return max(20, self.scrollable_content_region.width - 19)

    def on_resize(self) -> None:
        if self.summaries:
            self.show(self.summaries)

    def highlighted_lab(self) -> str | None:
        if not self.summaries or self.cursor_row < 0 or self.cursor_row >= len(self.summaries):
            return None
        return self.summaries[self.cursor_row].lab.id

    def action_open_lab(self) -> None:
        lab_id = self.highlighted_lab()
        if lab_id is not None:
            self.post_message(OpenLab(lab_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_lab()
