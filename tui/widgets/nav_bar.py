"""The top line of every screen: where you can go (keys 1-5, or click) and how the sandbox is."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from tui.data import SandboxView
from tui.style import HEALTH_TONE, short_time

SECTIONS = (
    ("home", "1", "Home"),
    ("map", "2", "Map"),
    ("resources", "3", "Resources"),
    ("events", "4", "Events"),
    ("clock", "5", "Clock"),
)
REGION_LETTER = {"us-east-1": "E", "us-west-2": "W"}


def tabs_markup(active: str) -> Content:
    parts = []
    for mode, key, label in SECTIONS:
        style = "bold reverse" if mode == active else ""
        parts.append(Content.from_markup(f"[@click=app.switch_mode('{mode}') {style}] {key} {label} [/]"))
    return Content(" ").join(parts)


def status_markup(view: SandboxView | None) -> Content:
    if view is None or view.state == "starting":
        return Content.from_markup("[$warning]◌ starting[/]")
    if view.state == "down":
        return Content.from_markup("[$error bold]✘ sandbox down[/]")
    if view.state == "busy":
        return Content.from_markup("[$warning]◌ busy, waiting $seconds s[/]", seconds=str(view.waiting_seconds))
    regions = Content(" ").join(
        Content.from_markup(f"[${HEALTH_TONE.get(h.state, 'text')}]●[/]$letter",
                            letter=REGION_LETTER.get(h.region, h.region))
        for h in view.regions
    )
    if view.storage_warning:
        regions = Content.assemble(Content.from_markup("[$error b]disk full[/] "), regions)
    clock = view.clock
    if clock is None:
        return regions
    pace = "⏸" if clock.paused else f"×{clock.speed:g}"
    return Content.assemble(regions, "  ", short_time(clock.now), " ", pace)


class NavBar(Horizontal):
    """Tabs on the left, the sandbox's region health and sim clock on the right."""

    def __init__(self, active: str) -> None:
        super().__init__()
        self.active = active

    def compose(self) -> ComposeResult:
        yield Static(tabs_markup(self.active), id="nav-tabs")
        yield Static(status_markup(None), id="nav-status")

    def on_mount(self) -> None:
        self.watch(self.app, "sandbox", self.show_sandbox)

    def show_sandbox(self, view: SandboxView | None) -> None:
        self.query_one("#nav-status", Static).update(status_markup(view))
