"""A lab's steps with their state: done, the one being worked on, still to do."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.data import LabProgressView, LabReport, LabView
from tui.messages import StepChosen
from tui.style import STEP_ICON, STEP_TONE


def step_state(step_id: str, current: str, progress: LabProgressView, report: LabReport | None) -> str:
    if step_id in progress.steps_done:
        return "done"
    if report is not None:
        result = next((s for s in report.steps if s.step_id == step_id), None)
        if result is not None and result.passed:
            return "done"
    return "current" if step_id == current else "todo"


class StepList(OptionList):
    def __init__(self) -> None:
        super().__init__(id="step-list")
        self.lab: LabView | None = None
        self.shown: tuple[object, ...] = ()

    def on_mount(self) -> None:
        self.border_title = "Steps"

    def show(self, lab: LabView, current: str, progress: LabProgressView, report: LabReport | None) -> None:
        states = tuple(step_state(step.id, current, progress, report) for step in lab.steps)
        if (lab.id, current, states) == self.shown:
            return  # nothing a learner would see changed: keep the list (and its cursor) as it is
        self.shown = (lab.id, current, states)
        self.lab = lab
        options = []
        for number, (step, state) in enumerate(zip(lab.steps, states, strict=True), start=1):
            tone = STEP_TONE[state]
            prompt = Content.from_markup(f"[${tone}]$icon[/] $number $title", icon=STEP_ICON[state],
                                         number=str(number), title=step.title)
            options.append(Option(prompt, id=step.id))
        highlighted = self.highlighted
        self.set_options(options)
        index = next((i for i, s in enumerate(lab.steps) if s.id == current), highlighted or 0)
        self.highlighted = index

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(StepChosen(event.option.id))
