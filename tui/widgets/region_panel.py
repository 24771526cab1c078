"""One region on the map: its health, its availability zones with what runs in each, its regional resources.

Outages show as they happen: a region down turns the panel red; an AZ that lost power is marked on its row.
"""

from __future__ import annotations

from collections import Counter

from textual.content import Content
from textual.widgets import Static

from tui.data import FaultView, RegionHealth, RegionView, ResourceView
from tui.style import HEALTH_TONE, KIND_ICON

# Resources drawn one by one on the map; the others (snapshots, recovery points...) are counted.
DRAWN_KINDS = ("db-instance", "db-cluster", "instance", "volume", "bucket", "table", "vault", "plan")
STATUS_TONE = {"available": "success", "running": "success", "ACTIVE": "success", "in-use": "success",
               "Enabled": "success", "stopped": "warning", "failing-over": "warning", "rebooting": "warning",
               "deleting": "error", "unavailable": "error", "impaired": "error"}


def resource_line(resource: ResourceView, indent: str) -> Content:
    icon = KIND_ICON.get(resource.kind, "•")
    tone = STATUS_TONE.get(resource.status, "text-muted")
    return Content.from_markup(f"{indent}$icon $name [${tone}]$status[/]", icon=icon, name=resource.name,
                               status=resource.status)


def zone_faults(zone: str, faults: tuple[FaultView, ...]) -> list[FaultView]:
    return [fault for fault in faults if zone in fault.zones]


def region_markup(region: RegionView | None, health: RegionHealth | None, faults: tuple[FaultView, ...]) -> Content:
    lines: list[Content] = []
    if health is not None and health.state != "healthy":
        tone = HEALTH_TONE.get(health.state, "error")
        lines.append(Content.from_markup(f"[${tone} b]$state[/]", state=health.state.upper()))
        lines += [Content.from_markup(f"[${tone}]$reason[/]", reason=reason) for reason in health.reasons]
    if region is None:
        lines.append(Content.from_markup("[dim]⟳ reading the resources…[/dim]"))
        return Content("\n").join(lines)
    drawn = [r for r in region.resources if r.kind in DRAWN_KINDS]
    for zone in region.zones:
        here = [r for r in drawn if r.zone == zone]
        down = zone_faults(zone, faults)
        mark = Content.from_markup(" [$error b]✘ $what[/]", what=", ".join(f.scenario for f in down)) if down else ""
        lines.append(Content.assemble(Content.from_markup("[b]$zone[/b]", zone=zone), mark))
        lines += [resource_line(resource, "  ") for resource in here]
    regional = [r for r in drawn if r.zone is None or r.zone not in region.zones]
    if regional:
        lines.append(Content.from_markup("[b]regional[/b]"))
        lines += [resource_line(resource, "  ") for resource in regional]
    counted = Counter(r.kind for r in region.resources if r.kind not in DRAWN_KINDS)
    if counted:
        summary = ", ".join(f"{count} {kind}{'s' if count != 1 else ''}" for kind, count in sorted(counted.items()))
        lines.append(Content.from_markup("[dim]$summary[/dim]", summary=summary))
    return Content("\n").join(lines)


class RegionPanel(Static):
    def __init__(self, region: str) -> None:
        super().__init__(id=f"region-{region}", classes="region-panel")
        self.region_name = region

    def show(self, region: RegionView | None, health: RegionHealth | None, faults: tuple[FaultView, ...]) -> None:
        state = health.state if health else "unknown"
        self.border_title = f"{self.region_name} · {state}"
        for name in ("healthy", "degraded", "outage"):
            self.set_class(state == name, f"-{name}")
        self.update(region_markup(region, health, faults))
