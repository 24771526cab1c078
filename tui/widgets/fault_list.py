"""The failures active now (from scenarios, drills or fault rules), and the button that ends them all."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, Static

from tui.data import SandboxView
from tui.style import short_time


def faults_markup(view: SandboxView | None) -> Content:
    if view is None or not view.answering:
        return Content.from_markup("[dim]unknown while the sandbox is not answering[/dim]")
    if not view.faults:
        return Content.from_markup("[$success]none: every region is healthy[/]")
    lines = []
    for fault in view.faults:
        where = ", ".join(fault.regions + fault.zones) or "everywhere"
        lines.append(Content.from_markup("[$error]✘ $scenario[/] [dim]$where · since $since[/dim] $summary",
                                         scenario=fault.scenario, where=where, since=short_time(fault.started),
                                         summary=fault.summary))
    return Content("\n").join(lines)


class FaultList(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(faults_markup(None), id="fault-lines")
        yield Button("End all failures (x)", id="recover", compact=True, variant="warning")

    def on_mount(self) -> None:
        self.border_title = "Active failures"
        self.watch(self.app, "sandbox", self.show)

    def show(self, view: SandboxView | None) -> None:
        self.query_one("#fault-lines", Static).update(faults_markup(view))
        self.query_one("#recover", Button).display = bool(view and view.faults)
