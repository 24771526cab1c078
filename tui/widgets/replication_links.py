"""The replication between the regions as arrows, coloured by state (replicating, paused, failing, idle)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui.data import ReplicationLink
from tui.style import LINK_TONE

ARROW = {"replicating": "━━▶", "idle": "──▷", "paused": "╌╌⏸", "failing": "━━✘"}


def link_line(link: ReplicationLink, regions: tuple[str, ...] = ()) -> Content:
    """'S3 CRR  securecart-invoices-use1 ━━▶ securecart-invoices-usw2  replicating': the regions are named only
    when the copy does not go from the primary region to the DR region (`regions`: primary, DR)."""
    tone = LINK_TONE.get(link.state, "text")
    usual = (link.source_region, link.target_region) == tuple(regions[:2])
    direction = "" if usual else f" ({link.source_region} → {link.target_region})"
    detail = f" · {link.detail}" if link.detail else ""
    return Content.from_markup(f"[b]$kind[/b]  $source [${tone}]$arrow[/] $target  [${tone}]$state[/]"
                               f"[dim]$direction$detail[/dim]",
                               kind=link.kind, source=link.source, arrow=ARROW.get(link.state, "──▶"),
                               target=link.target, state=link.state, direction=direction, detail=detail)


def links_markup(links: tuple[ReplicationLink, ...] | None, regions: tuple[str, ...] = ()) -> Content:
    if links is None:
        return Content.from_markup("[dim]reading the sandbox…[/dim]")
    if not links:
        primary, dr = (*regions, "the primary region", "the DR region")[:2]
        return Content.from_markup(f"[dim]No replication between the regions yet: nothing in {primary} is copied "
                                   f"to {dr} (the labs set it up).[/dim]")
    return Content("\n").join(link_line(link, regions) for link in links)


class ReplicationLinks(Static):
    def __init__(self, regions: tuple[str, ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.regions = regions

    def on_mount(self) -> None:
        self.border_title = "Replication"

    def show(self, links: tuple[ReplicationLink, ...] | None) -> None:
        self.update(links_markup(links, self.regions))
