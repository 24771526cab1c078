"""docs/architecture.md names real code: every file path and every dotted lab/checks/tui name it cites exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
CODE = re.compile(r"`([^`\s]+)`")
PATH = re.compile(r"(?:lab|checks|tui|tests|benchmarks|scripts|docs)/[\w./-]*")
DOTTED = re.compile(r"(?:lab|checks|tui)(?:\.\w+)+")


def _cited() -> list[str]:
    return CODE.findall(DOC.read_text())


def _resolves(dotted: str) -> bool:
    """A module, or an attribute (class, function, method) reached from the longest importable module prefix."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def test_every_cited_path_exists():
    paths = [token.split("(")[0] for token in _cited() if PATH.fullmatch(token.split("(")[0])]
    assert len(paths) > 20
    assert [path for path in paths if not (ROOT / path).exists()] == []


def test_every_cited_dotted_name_exists():
    names = [token.split("(")[0] for token in _cited() if DOTTED.fullmatch(token.split("(")[0])]
    assert len(names) > 40
    assert [name for name in names if not _resolves(name)] == []
