"""Resource explorer: per region and service, every resource of the sandbox with its details."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Tree

from tui.data import ResourceView, WorldView
from tui.screens.base import SectionScreen
from tui.widgets.resource_details import ResourceDetails
from tui.widgets.resource_tree import ResourceTree, resource_key


class ResourceExplorerScreen(SectionScreen):
    SECTION = "resources"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh_world", "Refresh")]

    def __init__(self) -> None:
        super().__init__()
        self.reading = False
        self.loaded = False
        self.chosen: ResourceView | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="explorer"):
            yield ResourceTree()
            with VerticalScroll(id="details-scroll"):
                yield ResourceDetails(id="resource-details")

    def on_mount(self) -> None:
        self.query_one(ResourceDetails).show_reading()
        self.query_one(ResourceTree).focus()
        # Read once the first frame is on screen: the reading thread would otherwise compete with it.
        self.call_after_refresh(self.action_refresh_world)

    def action_refresh_world(self) -> None:
        """Read the resources (a few seconds in a large world): the tree says it is reading them until the
        first answer, and marks its border while a later one is on its way."""
        if self.reading:
            return
        self.reading = True
        tree = self.query_one(ResourceTree)
        if self.loaded:
            tree.border_subtitle = "⟳ reading"
        else:
            tree.show_reading()
        self.lab_app.call_source(self.lab_app.source.world, done=self.world_arrived, failed=self.read_failed,
                                 label="read the resources", group="world")

    def done_reading(self) -> None:
        self.reading = False
        self.query_one(ResourceTree).border_subtitle = ""

    def world_arrived(self, world: WorldView) -> None:
        first = not self.loaded
        self.loaded = True
        self.done_reading()
        if first and self.chosen is None:
            self.query_one(ResourceDetails).show(None)
        self.query_one(ResourceTree).show(world)
        if self.chosen is not None:
            key = resource_key(self.chosen)
            fresh = next((r for region in world.regions for r in region.resources if resource_key(r) == key), None)
            self.chosen = fresh
            self.query_one(ResourceDetails).show(fresh)

    def read_failed(self) -> None:
        self.done_reading()
        if not self.loaded:
            self.query_one(ResourceDetails).show_failed()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[ResourceView | None]) -> None:
        if event.node.data is not None:
            self.chosen = event.node.data
            self.query_one(ResourceDetails).show(self.chosen)
