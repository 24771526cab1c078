"""The sandbox's resources as a tree: region, then service, then each resource."""

from __future__ import annotations

from itertools import groupby

from textual.widgets import Tree
from textual.widgets.tree import TreeNode, UnknownNodeID

from tui.data import ResourceView, WorldView
from tui.style import KIND_ICON

SERVICE_TITLE = {"s3": "S3", "dynamodb": "DynamoDB", "rds": "RDS", "ec2": "EC2 / EBS", "backup": "AWS Backup",
                 "route53": "Route 53", "cloudtrail": "CloudTrail", "iam": "IAM"}


def resource_key(resource: ResourceView) -> str:
    return f"{resource.region}/{resource.service}/{resource.kind}/{resource.id}"


class ResourceTree(Tree[ResourceView | None]):
    def __init__(self) -> None:
        super().__init__("Sandbox", id="resource-tree")
        self.show_root = False
        self.branch_paths: dict[int, str] = {}  # node id -> "region" or "region/service"

    def on_mount(self) -> None:
        self.border_title = "Resources"

    def show_reading(self) -> None:
        """Until the first resources arrive: say they are on their way."""
        self.root.set_label("⟳ reading the resources…")
        self.root.allow_expand = False
        self.show_root = True

    def show(self, world: WorldView) -> None:
        """Rebuild, keeping the highlighted resource and the branches that were open."""
        if self.show_root:  # the reading line goes: nothing is highlighted yet
            self.show_root = False
            self.root.set_label("Sandbox")
            self.root.allow_expand = True
            self.cursor_line = -1
        cursor = self.cursor_node
        keep = resource_key(cursor.data) if cursor is not None and cursor.data is not None else None
        first_time = not self.branch_paths
        opened = {path for node_id, path in self.branch_paths.items() if self._expanded(node_id)}
        self.clear()
        self.branch_paths = {}
        target: TreeNode[ResourceView | None] | None = None
        for region in world.regions:
            region_node = self.root.add(region.region)
            self.branch_paths[region_node.id] = region.region
            ordered = sorted(region.resources, key=lambda r: (r.service, r.kind, r.name))
            for service, grouped in groupby(ordered, key=lambda r: r.service):
                resources = list(grouped)
                path = f"{region.region}/{service}"
                service_node = region_node.add(f"{SERVICE_TITLE.get(service, service)} ({len(resources)})")
                self.branch_paths[service_node.id] = path
                for resource in resources:
                    leaf = service_node.add_leaf(f"{KIND_ICON.get(resource.kind, '•')} {resource.name}", data=resource)
                    if keep is not None and resource_key(resource) == keep:
                        target = leaf
                if path in opened:
                    service_node.expand()
            if first_time or region.region in opened:
                region_node.expand()
        if target is not None:
            self.move_cursor(target)

    def _expanded(self, node_id: int) -> bool:
        try:
            return self.get_node_by_id(node_id).is_expanded
        except UnknownNodeID:
            return False
