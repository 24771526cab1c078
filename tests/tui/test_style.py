"""How the TUI writes things: lengths of time, verdicts, names cut to a column, the glyphs it draws."""

from __future__ import annotations

import unicodedata

import pytest
from rich.cells import cell_len

from tui import style
from tui.widgets.checks_panel import name_widths
from tui.widgets.drill_panel import param_text
from tui.widgets.replication_links import ARROW


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


@pytest.mark.parametrize(("names", "width"), [
    (("securecart-invoices-use1", "securecart-invoices-usw2"), 12),
    (("securecart-orders-manual", "securecart-orders-manual-usw2"), 14),
    (("securecart-vault", "securecart-vault-dr"), 10),
])
def test_elided_names_keep_their_ends_apart(names, width) -> None:
    """Cut to a column, names that differ only at their end stay different and keep their ending."""
    cut = [style.elided(name, width) for name in names]
    assert cut[0] != cut[1]
    for name, text in zip(names, cut, strict=True):
        assert cell_len(text) <= width and "…" in text and name.endswith(text.split("…")[1])
    assert style.elided("short", 10) == "short"


def test_titles_are_shortened_at_a_word() -> None:
    """A lab title too long for its column ends at a whole word with an ellipsis."""
    title = "Enable cross-region replication for S3"
    assert style.shortened(title, 28) == "Enable cross-region…"
    assert style.shortened(title, 60) == title
    assert cell_len(style.shortened("Supercalifragilisticexpialidocious", 10)) <= 10


def test_check_and_resource_columns_share_the_room() -> None:
    """Both names whole when they fit; else the resource gets the larger share, and nothing overflows."""
    assert name_widths(60, 22, 24) == (22, 24)
    check, resource = name_widths(36, 43, 28)
    assert check + resource <= 36 and resource > check
    check, resource = name_widths(36, 20, 40)
    assert check == 16 and resource == 20


def test_every_glyph_is_one_cell_wide() -> None:
    """The icons drawn in bordered panels take one cell everywhere (☰ is two in newer Unicode: it broke the
    Map's border)."""
    glyphs = {*style.KIND_ICON.values(), *style.STATUS_ICON.values(), *style.STEP_ICON.values(),
              *"".join(ARROW.values())}
    for glyph in glyphs:
        assert cell_len(glyph) == 1, glyph
        assert unicodedata.east_asian_width(glyph) not in ("W", "F"), glyph


def test_scenario_parameters_read_as_name_value() -> None:
    assert param_text({"count": 25, "delete_versions": True, "bucket": "b"}) == \
        "bucket=b, count=25, delete_versions=true"


def test_a_column_is_cut_the_way_that_keeps_its_names_apart() -> None:
    """Check ids are cut at their end unless that merges two of them; then in the middle."""
    ids = ("S3_BUCKET_VERSIONING_ENABLED", "S3_BUCKET_REPLICATION_ENABLED")
    cut = style.cut_apart(ids, 18, prefer=("end", "middle", "start"))
    assert cut == {ids[0]: "S3_BUCKET_VERSION…", ids[1]: "S3_BUCKET_REPLICA…"}
    ids = ("BACKUP_RECOVERY_POINT_ENCRYPTED", "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED")
    cut = style.cut_apart(ids, 16, prefer=("end", "middle", "start"))
    assert len(set(cut.values())) == 2 and all(cell_len(text) <= 16 for text in cut.values())


def test_regions_have_a_short_form() -> None:
    assert [style.short_region(r) for r in ("us-east-1", "us-west-2", "eu-central-1", "local")] == [
        "use1", "usw2", "euc1", "local"]
