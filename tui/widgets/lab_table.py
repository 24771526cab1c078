"""The labs with the learner's progress and last score; Enter opens one."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from tui.data import LabSummary
from tui.messages import OpenLab
from tui.style import ThemedMixin, shortened, toned

STEPS_WIDTH = 5  # "10/12"
SCORE_WIDTH = 6  # "100% ✔"
MIN_TITLE_WIDTH = 16


def lab_label(summary: LabSummary, width: int) -> str:
    """The lab's number and title in `width` cells, the title cut after a whole word when it is longer
    (the brief under the table has it in full)."""
    number = summary.lab.id.split("-", 1)[0]
    prefix = f"{number} " if number.isdigit() else ""
    return prefix + shortened(summary.lab.title, max(width - len(prefix), 1))


class LabTable(ThemedMixin, DataTable[Text | str]):
    """Its columns are sized for its width on every showing, so Steps and Score always stay in view (a
    DataTable's automatic widths only ever grow)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open lab")]

    def __init__(self) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, id="lab-table")
        self.summaries: tuple[LabSummary, ...] = ()
        self.shown_title_width = 0

    def on_mount(self) -> None:
        self.border_title = "Labs"
        self.watch_theme_changes(lambda: self.show(self.summaries))

    def title_width(self) -> int:
        """What is left for the title beside the steps and score columns."""
        padding = 2 * self.cell_padding * 3
        room = self.scrollable_content_region.width - STEPS_WIDTH - SCORE_WIDTH - padding
        longest = max((len(lab_label(s, 200)) for s in self.summaries), default=MIN_TITLE_WIDTH)
        return max(MIN_TITLE_WIDTH, min(room, longest))

    def show(self, summaries: tuple[LabSummary, ...], select: str | None = None) -> None:
        chosen = select or self.highlighted_lab()
        self.summaries = summaries
        width = self.title_width()
        if width != self.shown_title_width or not self.columns:
            self.shown_title_width = width
            self.clear(columns=True)
            self.add_column("Lab", key="lab", width=width)
            self.add_column("Steps", key="steps", width=STEPS_WIDTH)
            self.add_column("Score", key="score", width=SCORE_WIDTH)
        else:
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
            self.add_row(lab_label(summary, width), steps, score, key=lab.id)
        if chosen is not None and chosen in {s.lab.id for s in summaries}:
            self.move_cursor(row=self.get_row_index(chosen))

    def on_resize(self) -> None:
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
