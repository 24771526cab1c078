"""Sim time: what it is, and buttons to pause, resume, set the speed and jump ahead."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Static

from tui.data import SandboxView
from tui.messages import ClockAction


def clock_markup(view: SandboxView | None) -> Content:
    if view is None or view.clock is None:
        return Content.from_markup("[dim]sim time unknown: the sandbox is not answering[/dim]")
    clock = view.clock
    pace = "[$warning b]paused[/]" if clock.paused else f"running at [b]×{clock.speed:g}[/b]"
    return Content.from_markup(f"[b]$now[/b]  {pace}", now=clock.now.replace("T", " "))


class ClockPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(clock_markup(None), id="clock-now")
        with Horizontal(id="clock-controls"):
            yield Button("Pause", id="clock-pause", compact=True)
            yield Button("Resume", id="clock-resume", compact=True)
            yield Static(" speed ", classes="label")
            yield Input(placeholder="60", id="clock-speed", compact=True, type="number")
            yield Button("Set", id="clock-set-speed", compact=True)
            yield Static(" advance ", classes="label")
            yield Input(placeholder="1h", id="clock-advance", compact=True)
            yield Button("Advance", id="clock-do-advance", compact=True, variant="primary")

    def on_mount(self) -> None:
        self.border_title = "Sim clock"
        self.watch(self.app, "sandbox", self.show)

    def show(self, view: SandboxView | None) -> None:
        self.query_one("#clock-now", Static).update(clock_markup(view))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "clock-pause":
            self.post_message(ClockAction("pause"))
        elif event.button.id == "clock-resume":
            self.post_message(ClockAction("resume"))
        elif event.button.id == "clock-set-speed":
            self.request_speed()
        elif event.button.id == "clock-do-advance":
            self.request_advance()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "clock-speed":
            self.request_speed()
        elif event.input.id == "clock-advance":
            self.request_advance()

    def request_speed(self) -> None:
        value = self.query_one("#clock-speed", Input).value.strip()
        if not value:
            self.app.notify("Type a speed factor first, e.g. 60 (one sim minute per second).", severity="warning")
            return
        self.post_message(ClockAction("speed", value))

    def request_advance(self) -> None:
        value = self.query_one("#clock-advance", Input).value.strip() or "1h"
        self.post_message(ClockAction("advance", value))
