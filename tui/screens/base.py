"""What every section screen shares: the navigation bar on top, the key footer below."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from tui.widgets.nav_bar import NavBar

if TYPE_CHECKING:
    from tui.app import LabApp


class SectionScreen(Screen[None]):
    SECTION = "home"  # the nav bar tab this screen belongs to

    @property
    def lab_app(self) -> LabApp:
        return cast("LabApp", self.app)

    def compose(self) -> ComposeResult:
        yield NavBar(self.SECTION)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()
