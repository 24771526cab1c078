"""The replication between the regions as arrows, coloured by state (replicating, paused, failing, idle)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from lab import config
from tui.data import ReplicationLink
from tui.style import LINK_TONE

ARROW = {"replicating": "━━▶", "idle": "──▷", "paused": "╌╌⏸", "failing": "━━✘"}


def link_line(link: ReplicationLink) -> Content:
    """'S3 CRR  securecart-invoices-use1 ━━▶ securecart-invoices-usw2  replicating': the regions are named only
    when the copy does not go from the primary region to the DR region."""
    tone = LINK_TONE.get(link.state, "text")
    usual = (link.source_region, link.target_region) == (config.PRIMARY_REGION, config.DR_REGION)
    direction = "" if usual else f" ({link.source_region} → {link.target_region})"
    detail = f" · {link.detail}" if link.detail else ""
    return Content.from_markup(f"[b]$kind[/b]  $source [${tone}]$arrow[/] $target  [${tone}]$state[/]"
                               f"[dim]$direction$detail[/dim]",
                               kind=link.kind, source=link.source, arrow=ARROW.get(link.state, "──▶"),
                               target=link.target, state=link.state, direction=direction, detail=detail)


def links_markup(links: tuple[ReplicationLink, ...] | None) -> Content:
    if links is None:
        return Content.from_markup("[dim]reading the sandbox…[/dim]")
    if not links:
        return Content.from_markup("[dim]No replication between the regions yet: nothing in us-east-1 is copied "
                                   "to us-west-2 (the labs set it up).[/dim]")
    return Content("\n").join(link_line(link) for link in links)


class ReplicationLinks(Static):
    def on_mount(self) -> None:
        self.border_title = "Replication"

    def show(self, links: tuple[ReplicationLink, ...] | None) -> None:
        self.update(links_markup(links))
