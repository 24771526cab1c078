"""A lab: its steps, the current step's instructions, live checks, hints, and the failure drill.

Checks run in a thread worker (collecting the sandbox's inventory takes a moment) while the UI stays
live; they re-run on a timer while this screen is showing. A re-check only records which steps pass;
pressing k is an attempt, which lab.progress counts with its score.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Button, Static, TabbedContent, TabPane

from tui.data import RECOVERY_HINTS, DrillView, LabProgressView, LabReport, LabSummary, StepView
from tui.messages import StepChosen
from tui.screens.base import SectionScreen
from tui.screens.confirm import ConfirmScreen
from tui.style import compliance_text, duration
from tui.widgets.checks_panel import ChecksPanel, ChecksTable
from tui.widgets.drill_panel import DrillPanel
from tui.widgets.hints_panel import HintsPanel
from tui.widgets.instructions import InstructionsView
from tui.widgets.step_list import StepList

DRILL_POLL_SECONDS = 2.0
PANE_FOCUS = {"instructions": InstructionsView, "checks": ChecksTable, "hints": HintsPanel, "drill": DrillPanel}


def first_open_step(summary: LabSummary) -> str:
    progress = summary.progress
    steps = summary.lab.steps
    if progress.current_step and any(step.id == progress.current_step for step in steps):
        return progress.current_step
    return next((step.id for step in steps if step.id not in progress.steps_done), steps[-1].id if steps else "")


def next_open_step(summary: LabSummary, after: str) -> str:
    """The first step not done after `after` (wrapping round to earlier ones); `after` when all are done."""
    steps = [step.id for step in summary.lab.steps]
    start = steps.index(after) + 1 if after in steps else 0
    for step_id in steps[start:] + steps[:start]:
        if step_id not in summary.progress.steps_done:
            return step_id
    return after


class LabScreen(SectionScreen):
    SECTION = "home"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Labs"),
        Binding("k", "check", "Check"),
        Binding("n", "reveal_hint", "Hint"),
        Binding("d", "drill", "Drill"),
        Binding("left_square_bracket", "step(-1)", "Prev step", show=False),
        Binding("right_square_bracket", "step(1)", "Next step", show=False),
        Binding("i", "show_tab('instructions')", "Instructions", show=False),
    ]

    def __init__(self, lab_id: str) -> None:
        super().__init__()
        self.lab_id = lab_id
        self.summary: LabSummary | None = None
        self.current = ""
        self.report: LabReport | None = None
        self.drill: DrillView | None = None
        self.checking = False
        self.attempt_waiting = False
        self.hint_pending = False
        self.shown_step = ""
        self._live_timer: Timer | None = None
        self._drill_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(Content.from_markup("[dim]Loading lab $id…[/dim]", id=self.lab_id), id="lab-title")
        with Horizontal(id="lab-body"):
            yield StepList()
            with TabbedContent(id="lab-tabs", initial="instructions"):
                with TabPane("Instructions", id="instructions"):
                    yield InstructionsView(id="instructions-view")
                with TabPane("Checks", id="checks"):
                    yield ChecksPanel(self.lab_app.live_check_seconds)
                with TabPane("Hints", id="hints"):
                    yield HintsPanel(id="hints-panel")
                with TabPane("Drill", id="drill"):
                    yield DrillPanel(id="drill-panel")

    def on_mount(self) -> None:
        self.lab_app.call_source(self.lab_app.source.lab, self.lab_id, done=self.loaded,
                                 label=f"open lab {self.lab_id}")

    # -- loading and showing -------------------------------------------------------------------------------
    def loaded(self, summary: LabSummary) -> None:
        self.summary = summary
        self.current = first_open_step(summary)
        self.lab_app.remember_lab(self.lab_id)
        self.lab_app.call_source(self.lab_app.source.set_current_step, self.lab_id, self.current, label="save progress")
        self.show()
        self.run_checks(attempt=False)
        self.lab_app.call_source(self.lab_app.source.drills, self.lab_id, done=self.drills_loaded,
                                 label="read drills")
        if self.lab_app.live_check_seconds:
            self._live_timer = self.set_interval(self.lab_app.live_check_seconds, self.live_recheck)

    def current_step(self) -> tuple[StepView, int]:
        assert self.summary is not None
        steps = self.summary.lab.steps
        index = next((i for i, step in enumerate(steps) if step.id == self.current), 0)
        return steps[index], index + 1

    def show(self) -> None:
        if self.summary is None or not self.summary.lab.steps:
            return
        lab, progress = self.summary.lab, self.summary.progress
        step, number = self.current_step()
        score = "" if progress.last_percent is None else f" · {progress.last_percent:.0f}%"
        attempts = f" · {progress.attempts} attempt{'s' if progress.attempts != 1 else ''}" if progress.attempts else ""
        self.query_one("#lab-title", Static).update(Content.from_markup(
            "[dim]step $number/$total$score$attempts ·[/dim] [b]$title[/b]",
            title=lab.title, number=str(number), total=str(len(lab.steps)), score=score, attempts=attempts))
        self.query_one(StepList).show(lab, self.current, progress, self.report)
        if self.shown_step != step.id:
            self.shown_step = step.id
            self.run_worker(self.query_one(InstructionsView).show(step, number, len(lab.steps)), group="markdown",
                            exclusive=True)
        self.query_one(HintsPanel).show(step, progress.hints_for(step.id))
        self.query_one(ChecksPanel).show(lab, self.report, self.checking)
        self.query_one(DrillPanel).show(lab, self.drill, progress.hints_for(RECOVERY_HINTS))

    # -- checks ---------------------------------------------------------------------------------------------
    def phase(self) -> str:
        return "configure" if self.drill is None else "all"

    def run_checks(self, attempt: bool) -> None:
        if self.checking or self.summary is None:
            return
        self.checking = True
        self.show()
        source, phase = self.lab_app.source, self.phase()

        def check_and_reload() -> tuple[LabReport, LabSummary]:
            report = source.run_checks(self.lab_id, phase, attempt=attempt)
            return report, source.lab(self.lab_id)

        self.lab_app.call_source(check_and_reload, done=self.checked, failed=self.check_failed, label="checks",
                                 group=f"checks-{self.lab_id}")

    def checked(self, result: tuple[LabReport, LabSummary]) -> None:
        report, summary = result
        before = self.summary.progress.steps_done if self.summary else frozenset()
        self.checking = False
        self.report, self.summary = report, summary
        newly_done = [s for s in report.steps if s.passed and s.step_id and s.step_id not in before]
        for step_result in newly_done:
            self.notify(f"Step done: {step_result.title}", title="✔ Passed")
        if newly_done and any(s.step_id == self.current for s in newly_done):
            self.current = next_open_step(summary, self.current)
            self.lab_app.call_source(self.lab_app.source.set_current_step, self.lab_id, self.current,
                                     label="save progress")
        self.show()
        self.lab_app.refresh_labs()
        self.run_waiting_attempt()

    def check_failed(self) -> None:
        self.checking = False
        self.show()
        self.run_waiting_attempt()

    def run_waiting_attempt(self) -> None:
        if self.attempt_waiting:
            self.attempt_waiting = False
            self.run_checks(attempt=True)

    def live_recheck(self) -> None:
        if self.is_current and not self.checking:
            self.run_checks(attempt=False)

    def action_check(self) -> None:
        self.action_show_tab("checks")
        if self.checking:
            self.attempt_waiting = True  # counted once the run under way is over, on fresh results
            return
        self.run_checks(attempt=True)

    # -- steps and hints ------------------------------------------------------------------------------------
    def on_step_chosen(self, message: StepChosen) -> None:
        self.choose_step(message.step_id)

    def choose_step(self, step_id: str) -> None:
        if self.summary is None or step_id == self.current:
            return
        self.current = step_id
        self.show()
        self.action_show_tab("instructions")
        self.lab_app.call_source(self.lab_app.source.set_current_step, self.lab_id, step_id, label="save progress")

    def action_step(self, delta: int) -> None:
        if self.summary is None:
            return
        steps = self.summary.lab.steps
        _, number = self.current_step()
        index = min(max(number - 1 + delta, 0), len(steps) - 1)
        self.choose_step(steps[index].id)

    def action_reveal_hint(self) -> None:
        """The next hint: of the drill's recovery while its tab shows a drill, else of the current step. A
        hint is counted only once its tab is on screen, after the switch has been drawn."""
        if self.summary is None:
            return
        lab, progress = self.summary.lab, self.summary.progress
        if self.query_one(TabbedContent).active == "drill" and self.drill is not None and lab.recovery_hints:
            tab, key, total = "drill", RECOVERY_HINTS, len(lab.recovery_hints)
            none_left = "No more recovery hints."
        else:
            step, _ = self.current_step()
            tab, key, total = "hints", step.id, len(step.hints)
            none_left = "No more hints for this step." if step.hints else "This step has no hints."
        self.action_show_tab(tab)
        if progress.hints_for(key) >= total:
            self.notify(none_left)
            return
        self.call_after_refresh(self.reveal_if_shown, tab, key)

    def reveal_if_shown(self, tab: str, key: str) -> None:
        if self.hint_pending or not self.tab_on_screen(tab):
            return  # not charged: the learner would not see it (or one is on its way)
        self.hint_pending = True
        self.lab_app.call_source(self.lab_app.source.reveal_hint, self.lab_id, key, done=self.hint_revealed,
                                 failed=self.hint_failed, label="reveal a hint")

    def hint_failed(self) -> None:
        self.hint_pending = False

    def hint_revealed(self, progress: LabProgressView) -> None:
        self.hint_pending = False
        if self.summary is not None:
            self.summary = LabSummary(self.summary.lab, progress)
            self.show()
            self.call_after_refresh(self.scroll_to_newest_hint)
        self.lab_app.refresh_labs()

    def scroll_to_newest_hint(self) -> None:
        """The hint just revealed is the last one of its list: bring it into view."""
        if self.query_one(TabbedContent).active == "drill":
            self.query_one("#drill-hints").scroll_visible(animate=False)
        else:
            self.query_one(HintsPanel).scroll_end(animate=False)

    def action_show_tab(self, tab: str) -> None:
        """Show a tab, wherever the focus is. Focus inside another tab moves to the shown tab first: a
        focused widget that gets hidden hands its focus to a sibling in the same pane, and a pane that
        receives focus makes itself the active tab again (the keys would seem to do nothing)."""
        tabs = self.query_one(TabbedContent)
        focused = self.focused
        pane = next((node for node in focused.ancestors_with_self if isinstance(node, TabPane)), None) \
            if focused is not None else None
        if pane is not None and pane.id != tab:
            self.set_focus(self.query_one(PANE_FOCUS[tab]))
        tabs.active = tab

    def tab_on_screen(self, tab: str) -> bool:
        """Is this tab what the learner sees now (this screen on top, no dialog over it, the tab active)?"""
        return self.is_active and self.query_one(TabbedContent).active == tab

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("reveal-hint", "reveal-recovery-hint"):
            self.action_reveal_hint()
        elif event.button.id == "start-drill":
            self.action_drill()

    # -- the drill ------------------------------------------------------------------------------------------
    def drills_loaded(self, drills: tuple[DrillView, ...]) -> None:
        self.drill = drills[-1] if drills else None
        self.show()
        self.follow_drill()

    def action_drill(self) -> None:
        if self.summary is None:
            return
        self.action_show_tab("drill")
        spec = self.summary.lab.drill
        if spec is None:
            self.notify("This lab has no failure drill.")
            return
        if self.drill is not None and not self.drill.finished:
            self.notify("A drill is already running.")
            return
        question = (f"Start the drill? It injects {spec.scenario} now, and measures RPO and RTO "
                    f"until the SecureCart data is recovered.")
        self.app.push_screen(ConfirmScreen(question, "Start the drill"), self.confirmed_drill)

    def confirmed_drill(self, confirmed: bool | None) -> None:
        if confirmed:
            self.lab_app.call_source(self.lab_app.source.start_drill, self.lab_id, done=self.drill_started,
                                     label="start the drill")

    def drill_started(self, drill: DrillView) -> None:
        self.drill = drill
        self.notify(f"Drill {drill.id}: {drill.scenario} injected. Recover the data!", severity="warning",
                    title="Drill started")
        self.show()
        self.follow_drill()
        self.lab_app.poll_sandbox()

    def follow_drill(self) -> None:
        if self.drill is not None and not self.drill.finished and self._drill_timer is None:
            self._drill_timer = self.set_interval(DRILL_POLL_SECONDS, self.poll_drill)

    def poll_drill(self) -> None:
        self.lab_app.call_source(self.lab_app.source.drills, self.lab_id, done=self.drill_polled,
                                 label="follow the drill", group=f"drill-{self.lab_id}")

    def drill_polled(self, drills: tuple[DrillView, ...]) -> None:
        latest = drills[-1] if drills else None
        was_running = self.drill is not None and not self.drill.finished
        self.drill = latest
        if latest is not None and latest.finished and self._drill_timer is not None:
            self._drill_timer.stop()
            self._drill_timer = None
            if was_running:
                self.notify(f"RTO {duration(latest.rto_seconds)}, RPO {duration(latest.rpo_span_seconds)}: "
                            f"{compliance_text(latest.compliance) or latest.status}", title="Drill over",
                            severity="information" if latest.compliance == "PolicyMet" else "warning")
                self.action_show_tab("drill")
        self.show()
