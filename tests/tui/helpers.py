"""Helpers for pilot tests."""

from __future__ import annotations

from textual.pilot import Pilot

SIZE = (80, 24)  # the smallest terminal the app must be usable in


async def settle(pilot: Pilot[None], rounds: int = 3) -> None:
    """Let thread workers finish and their results reach the widgets."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
