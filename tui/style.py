"""How states look: one icon and one theme colour per status, shared by every widget.

Colours come from the active theme (dark or light), so widgets that bake them into Rich text re-render
when the theme changes (see `ThemedMixin`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import App

STATUS_ICON = {"PASS": "✔", "FAIL": "✘", "ERROR": "!", "NOT_APPLICABLE": "–"}
STATUS_WORD = {"NOT_APPLICABLE": "N/A"}  # what fits the checks table's status column
STATUS_TONE = {"PASS": "success", "FAIL": "error", "ERROR": "warning", "NOT_APPLICABLE": "text-muted"}
HEALTH_TONE = {"healthy": "success", "degraded": "warning", "outage": "error"}
LINK_TONE = {"replicating": "success", "idle": "text-muted", "paused": "warning", "failing": "error"}
KIND_ICON = {"bucket": "◫", "table": "▦", "db-instance": "⛁", "db-snapshot": "◔", "instance": "▣", "volume": "▤",
             "snapshot": "◔", "backup": "◔", "vault": "◆", "plan": "≣", "trail": "≡"}
STEP_ICON = {"done": "✔", "current": "▶", "failing": "✘", "todo": "·"}
STEP_TONE = {"done": "success", "current": "accent", "failing": "error", "todo": "text-muted"}


def colour(app: App[Any], tone: str) -> str:
    """The active theme's colour for a tone such as "success" or "text-muted"."""
    variables = app.theme_variables
    return variables.get(tone) or variables.get("foreground", "")


def toned(app: App[Any], text: str, tone: str, bold: bool = False) -> Text:
    style = colour(app, tone) + (" bold" if bold else "")
    return Text(text, style=style.strip())


def fitted(text: str, width: int, style: str = "") -> Text:
    """`text` cut to `width` cells with an ellipsis (DataTable columns have no fractional widths)."""
    fitted_text = Text(text, style=style, no_wrap=True, overflow="ellipsis")
    fitted_text.truncate(max(width, 1), overflow="ellipsis")
    return fitted_text


def elided(text: str, width: int) -> str:
    """`text` in at most `width` cells, shortened in the middle: names that differ only at their end
    (securecart-invoices-use1 and -usw2, ...-manual and ...-manual-usw2) stay told apart. The end keeps
    a little more, since that is where such names differ."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    room = width - 1
    tail = (room + 1) // 2
    head = room - tail
    return text[:head] + "…" + text[len(text) - tail:]


def cut_at_end(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text
    return text[:max(width - 1, 0)] + "…"


def cut_at_start(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text
    return "…" + text[len(text) - max(width - 1, 0):]


CUTS = {"end": cut_at_end, "middle": elided, "start": cut_at_start}


def cut_apart(names: Iterable[str], width: int, prefer: tuple[str, ...] = ("middle", "end", "start")) -> dict[str, str]:
    """Each name in at most `width` cells, one way of cutting for the whole column: the first of `prefer`
    that keeps different names different (else the one that keeps the most apart)."""
    distinct = list(dict.fromkeys(names))
    best: dict[str, str] = {}
    for how in prefer:
        cut = {name: CUTS[how](name, width) for name in distinct}
        if len(set(cut.values())) == len(distinct):
            return cut
        if not best or len(set(cut.values())) > len(set(best.values())):
            best = cut
    return best


def shortened(text: str, width: int) -> str:
    """`text` in at most `width` cells, cut after its last whole word that fits (an ellipsis marks the cut):
    for titles, which read best from their start."""
    if cell_len(text) <= width:
        return text
    cut = text[:max(width - 1, 0)]
    if " " in cut and len(cut.rsplit(" ", 1)[0]) >= width // 2:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,:;-") + "…"


def status_text(app: App[Any], status: str) -> Text:
    word = STATUS_WORD.get(status, status.replace("_", " "))
    return toned(app, f"{STATUS_ICON.get(status, '?')} {word}", STATUS_TONE.get(status, "text"))


def duration(seconds: float | None) -> str:
    """A length of time as people write it: 45 s, 15 min, 1 h 32 s, 2 d 3 h ("–" when unknown)."""
    if seconds is None:
        return "–"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{value} {unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s"))
             if value]
    return " ".join(parts) or "0 s"


COMPLIANCE_WORDS = {"PolicyMet": "policy met", "PolicyBreached": "policy breached"}


def compliance_text(compliance: str | None) -> str:
    """A drill's verdict in words (the sandbox answers PolicyMet / PolicyBreached, as AWS Resilience Hub)."""
    if not compliance:
        return ""
    return COMPLIANCE_WORDS.get(compliance, compliance)


def short_region(region: str) -> str:
    """us-east-1 -> use1, us-west-2 -> usw2: the short form SecureCart's own names use."""
    parts = region.split("-")
    if len(parts) == 3 and parts[1] and parts[2].isdigit():
        return f"{parts[0]}{parts[1][0]}{parts[2]}"
    return region


def short_time(iso_time: str | None) -> str:
    """'2026-01-03T10:32:05Z' -> '01-03 10:32:05' (the year rarely matters in a lab)."""
    if not iso_time:
        return "–"
    return iso_time[5:19].replace("T", " ")


class ThemedMixin:
    """For widgets that bake theme colours into their content: render again when the theme changes."""

    def watch_theme_changes(self, render: Callable[[], None]) -> None:
        app: App[Any] = self.app  # type: ignore[attr-defined]
        app.theme_changed_signal.subscribe(self, lambda _theme: render())  # type: ignore[arg-type]


def utc_text(epoch: float) -> str:
    """A sim-time instant as the lab writes one (2026-11-26T10:00:00Z)."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
