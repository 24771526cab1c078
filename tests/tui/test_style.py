"""How the TUI writes things: lengths of time, verdicts, names cut to a column, the glyphs it draws."""

from __future__ import annotations

import pytest

from tui import style
from tui.widgets.drill_panel import param_text


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "–"), (0, "0 s"), (45, "45 s"), (900, "15 min"), (5552, "1 h 32 min 32 s"), (3632, "1 h 32 s"),
    (183600, "2 d 3 h"), (59.6, "1 min"),
])
def test_durations_read_as_people_write_them(seconds, text) -> None:
    """Durations are spaced words (1 h 32 s), not 1h32s."""
    assert style.duration(seconds) == text


def test_verdicts_are_words() -> None:
    """A drill's PolicyMet / PolicyBreached reads as words."""
    assert style.compliance_text("PolicyMet") == "policy met"
    assert style.compliance_text("PolicyBreached") == "policy breached"
    assert style.compliance_text(None) == ""


def test_scenario_parameters_read_as_name_value() -> None:
    assert param_text({"count": 25, "delete_versions": True, "bucket": "b"}) == \
        "bucket=b, count=25, delete_versions=true"
