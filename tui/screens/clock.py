"""Clock and failures: drive sim time; inject any scenario with its parameters, and end the failures."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, OptionList
from textual.widgets.option_list import Option

from tui.data import ScenarioView
from tui.screens.base import SectionScreen
from tui.widgets.clock_panel import ClockPanel
from tui.widgets.fault_list import FaultList
from tui.widgets.scenario_form import ScenarioForm


class ClockScreen(SectionScreen):
    SECTION = "clock"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "app.clock('pause')", "Pause"),
        Binding("r", "app.clock('resume')", "Resume"),
        Binding("plus", "app.clock('advance', '1h')", "+1h"),
        Binding("x", "recover", "End failures"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.scenarios: tuple[ScenarioView, ...] = ()

    def compose_body(self) -> ComposeResult:
        yield ClockPanel(id="clock-panel")
        with Horizontal(id="scenario-area"):
            yield OptionList(id="scenario-list")
            yield ScenarioForm(id="scenario-form")
        yield FaultList(id="fault-list")

    def on_mount(self) -> None:
        self.query_one("#scenario-list").border_title = "Scenarios"
        self.query_one("#scenario-form").border_title = "Parameters"
        self.lab_app.call_source(self.lab_app.source.scenarios, done=self.show_scenarios, label="list the scenarios")

    def show_scenarios(self, scenarios: tuple[ScenarioView, ...]) -> None:
        self.scenarios = scenarios
        listing = self.query_one("#scenario-list", OptionList)
        listing.set_options([Option(s.name, id=s.name) for s in scenarios])
        if scenarios:
            listing.highlighted = 0

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        scenario = next((s for s in self.scenarios if s.name == event.option.id), None)
        if scenario is not None:
            await self.query_one(ScenarioForm).show(scenario)

    def choose(self, name: str) -> None:
        """Highlight a scenario (the palette uses this)."""
        index = next((i for i, s in enumerate(self.scenarios) if s.name == name), None)
        if index is not None:
            self.query_one("#scenario-list", OptionList).highlighted = index

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "recover":
            event.stop()
            self.action_recover()

    def action_recover(self) -> None:
        self.lab_app.recover()
