"""Hints for the current step, revealed one at a time; the count is kept in the learner's progress."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from tui.data import StepView


def hints_markup(step: StepView, revealed: int) -> Content:
    total = len(step.hints)
    if total == 0:
        return Content.from_markup("[dim]This step has no hints.[/dim]")
    shown = min(revealed, total)
    lines = [Content.from_markup("[b]Hints for $title[/b] [dim]($shown of $total revealed)[/dim]",
                                 title=step.title, shown=str(shown), total=str(total))]
    for number, hint in enumerate(step.hints[:shown], start=1):
        lines.append(Content.from_markup("[$accent]$number.[/] $hint", number=str(number), hint=hint))
    if shown < total:
        lines.append(Content.from_markup("[dim]Press n for the next hint; hints used are counted.[/dim]"))
    return Content("\n\n").join(lines)


class HintsPanel(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static(id="hints-text")
        yield Button("Reveal next hint (n)", id="reveal-hint", variant="primary")

    shown: tuple[object, ...] = ()

    def show(self, step: StepView, revealed: int) -> None:
        if (step, revealed) == self.shown:
            return
        self.shown = (step, revealed)
        self.query_one("#hints-text", Static).update(hints_markup(step, revealed))
        button = self.query_one("#reveal-hint", Button)
        button.display = revealed < len(step.hints)
