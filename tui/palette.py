"""The command palette's lab actions (ctrl+p): open a lab, check, hint, drill, drive the clock, inject."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.data import ScenarioView

if TYPE_CHECKING:
    from tui.app import LabApp

Command = tuple[str, str, Callable[[], Any]]  # (text, help, what it does)
SECTIONS = (("home", "Home: labs and the sandbox"), ("map", "Region map"), ("resources", "Resource explorer"),
            ("events", "Event log"), ("clock", "Clock and failures"))
ADVANCES = ("15m", "1h", "6h", "1d")
SPEEDS = ("1", "60", "600")


class LabCommands(Provider):
    """Commands built from what the app knows now (the labs, the open lab, the scenarios)."""

    scenarios: tuple[ScenarioView, ...] = ()

    @property
    def lab_app(self) -> LabApp:
        return cast("LabApp", self.app)

    async def startup(self) -> None:
        try:
            self.scenarios = await asyncio.to_thread(self.lab_app.source.scenarios)
        except Exception:  # noqa: BLE001 -- without the sandbox the palette still offers everything else
            self.scenarios = ()

    def commands(self) -> list[Command]:
        from tui.screens.clock import ClockScreen
        from tui.screens.lab import LabScreen

        app = self.lab_app
        found: list[Command] = []
        screen = self.screen
        if isinstance(screen, LabScreen):
            found += [
                ("Run the checks now", "grade the open lab against the sandbox", screen.action_check),
                ("Reveal the next hint", "counted in your progress", screen.action_reveal_hint),
                ("Start the drill", "inject this lab's failure and measure RTO/RPO", screen.action_drill),
                ("Next step", "", partial(screen.action_step, 1)),
                ("Previous step", "", partial(screen.action_step, -1)),
            ]
        for summary in app.labs:
            found.append((f"Open lab: {summary.lab.title}", summary.lab.id, partial(app.open_lab, summary.lab.id)))
        for mode, title in SECTIONS:
            found.append((f"Go to {title}", "", partial(app.switch_mode, mode)))
        found += [
            ("Clock: pause", "sim time stands still", partial(app.action_clock, "pause")),
            ("Clock: resume", "", partial(app.action_clock, "resume")),
        ]
        found += [(f"Clock: advance {step}", "engines play everything due", partial(app.action_clock, "advance", step))
                  for step in ADVANCES]
        found += [(f"Clock: speed ×{factor}", "sim seconds per wall second", partial(app.action_clock, "speed", factor))
                  for factor in SPEEDS]

        def open_scenario(name: str) -> None:
            app.switch_mode("clock")
            if isinstance(app.screen, ClockScreen):
                app.screen.choose(name)

        for scenario in self.scenarios:
            found.append((f"Inject failure: {scenario.name}", scenario.description.split(".")[0],
                          partial(open_scenario, scenario.name)))
        found += [
            ("End every failure", "recover: end all active scenarios and faults", app.recover),
            ("Restart the sandbox", "its saved state comes back", app.action_restart_sandbox),
            ("Toggle dark / light theme", "", app.action_toggle_theme),
            ("Help: keys", "", app.action_help),
        ]
        return found

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, run in self.commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), run, text=text, help=help_text or None)

    async def discover(self) -> Hits:
        for text, help_text, run in self.commands():
            yield DiscoveryHit(text, run, text=text, help=help_text or None)
