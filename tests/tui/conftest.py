"""Fixtures for the TUI tests: the app over a canned source, with no timers (a frozen, deterministic UI)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.tui.canned import CannedSource
from tui.app import LabApp


@pytest.fixture
def source() -> CannedSource:
    return CannedSource()


@pytest.fixture
def make_app(source: CannedSource) -> Callable[..., LabApp]:
    def make(poll_seconds: float = 0.0, live_check_seconds: float = 0.0) -> LabApp:
        return LabApp(source, poll_seconds=poll_seconds, live_check_seconds=live_check_seconds)

    return make
