"""The sandbox at a glance: backend, each region's health, the sim clock, the SecureCart workload."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui.data import SandboxView
from tui.style import HEALTH_TONE, short_time


def describe(view: SandboxView | None) -> Content:
    if view is None or view.state == "starting":
        message = view.message if view else "looking for the sandbox…"
        return Content.from_markup("[$warning]◌ starting[/]\n$message", message=message)
    if view.state == "down":
        return Content.from_markup("[$error bold]✘ not answering[/]\n$endpoint\n$message\n\n"
                                   "Press [b]ctrl+r[/b] to start it again.",
                                   endpoint=view.endpoint, message=view.message)
    lines = [Content.from_markup("[b]backend[/b] $backend", backend=view.backend or "?"),
             Content.from_markup("[dim]$endpoint[/dim]", endpoint=view.endpoint)]
    if view.state == "busy":
        lines.insert(0, Content.from_markup("[$warning]◌ $message[/]\n[dim]still running; as it was last:[/dim]",
                                            message=view.message))
    if view.storage_warning:
        lines.append(Content.from_markup("[$error b]✘ disk full[/] [$error]$warning[/]", warning=view.storage_warning))
    for health in view.regions:
        tone = HEALTH_TONE.get(health.state, "text")
        lines.append(Content.from_markup(f"[${tone}]●[/] $region [${tone}]$state[/]",
                                         region=health.region, state=health.state))
        for reason in health.reasons[:2]:
            lines.append(Content.from_markup("  [dim]$reason[/dim]", reason=reason))
    if view.clock is not None:
        clock = view.clock
        pace = "paused" if clock.paused else f"×{clock.speed:g}"
        lines.append(Content.from_markup("[b]clock[/b] $now $pace", now=short_time(clock.now), pace=pace))
    if view.workload is not None:
        work = view.workload
        state = f"{work.orders_per_hour:g}/h" if work.enabled else "off"
        lines.append(Content.from_markup("[b]workload[/b] $state, $total orders", state=state,
                                         total=str(work.orders_total)))
        if work.failed_writes:
            lines.append(Content.from_markup("  [$warning]$failed with a failed write[/]",
                                             failed=str(work.failed_writes)))
    if view.faults:
        lines.append(Content.from_markup("[$error b]$count active failure(s)[/]", count=str(len(view.faults))))
        for fault in view.faults[:3]:
            lines.append(Content.from_markup("  [$error]$scenario[/]", scenario=fault.scenario))
    return Content("\n").join(lines)


class SandboxPanel(Static):
    """Follows the app's `sandbox` attribute."""

    def on_mount(self) -> None:
        self.border_title = "Sandbox"
        self.watch(self.app, "sandbox", self.show)

    def show(self, view: SandboxView | None) -> None:
        self.update(describe(view))
