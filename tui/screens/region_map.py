"""Region map: both regions and their AZs, the world's resources in each, replication and outages.

Health and failures follow the app's sandbox polling (every second); resources and replication are read
from the inventory every ten seconds while the map is showing (r reads it at once).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll

from tui.data import SandboxView, WorldView
from tui.screens.base import SectionScreen
from tui.widgets.region_panel import RegionPanel
from tui.widgets.replication_links import ReplicationLinks

WORLD_REFRESH_SECONDS = 10.0  # the inventory holds the sandbox's lock a moment: not too often


class RegionMapScreen(SectionScreen):
    SECTION = "map"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh_world", "Refresh")]

    def __init__(self) -> None:
        super().__init__()
        self.world: WorldView | None = None
        self.reading = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="map-regions"):
            for region in self.lab_app.source.regions:
                with VerticalScroll(classes="region-scroll"):
                    yield RegionPanel(region)
        yield ReplicationLinks(self.lab_app.source.regions, id="map-links")

    def on_mount(self) -> None:
        self.watch(self.app, "sandbox", self.show_health)
        self.action_refresh_world()
        if self.lab_app.poll_seconds:
            self.set_interval(WORLD_REFRESH_SECONDS, self.refresh_if_showing)

    def refresh_if_showing(self) -> None:
        if self.is_current:
            self.action_refresh_world()

    def action_refresh_world(self) -> None:
        if self.reading:
            return
        self.reading = True
        self.lab_app.call_source(self.lab_app.source.world, done=self.world_arrived, failed=self.read_failed,
                                 label="read the regions", group="world")

    def world_arrived(self, world: WorldView) -> None:
        self.reading = False
        self.world = world
        self.show()

    def read_failed(self) -> None:
        self.reading = False

    def show_health(self, view: SandboxView | None) -> None:
        self.show()

    def show(self) -> None:
        view = self.lab_app.sandbox
        health = {h.region: h for h in view.regions} if view else {}
        faults = view.faults if view else ()
        for panel in self.query(RegionPanel):
            region = self.world.region(panel.region_name) if self.world else None
            panel.show(region, health.get(panel.region_name), faults)
        self.query_one(ReplicationLinks).show(self.world.links if self.world else None)
