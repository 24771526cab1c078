"""The quality gates run with the suite: the linter's rule set, the import contracts (pyproject.toml), no type-ignore
comments while no type checker runs, and the sandbox typed with its port."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_the_code_is_clean_under_the_linters_rule_set():
    done = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_import_contracts_hold():
    """Layers point one way, only the embedded backend imports moto, checks/ is independent of lab/, the TUI
    reaches lab/ through its live source, and no packages import each other in a cycle."""
    done = run(str(BIN / "lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore")
ANY_SANDBOX = re.compile(r"\b_?sandbox: [\"']?Any\b")


def _python_files(*trees: str) -> list[Path]:
    return sorted(path for tree in trees for path in (ROOT / tree).rglob("*.py")
                  if "__pycache__" not in path.parts)


def _lines_matching(pattern: re.Pattern[str], files: list[Path]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for path in files for number, line in enumerate(path.read_text().splitlines(), 1)
            if pattern.search(line)]


def test_no_type_ignore_comments_that_no_checker_reads():
    """No type checker runs over the code, so a `type: ignore` silences nothing and only says something untrue:
    say why in words, or fix the types."""
    assert _lines_matching(TYPE_IGNORE, _python_files("lab", "checks", "tui", "tests")) == []


def test_the_sandbox_is_typed_with_the_kernels_port_never_any():
    """Everything below lab.sandbox types the sandbox as lab.kernel.port.Sandbox (issue 11)."""
    assert _lines_matching(ANY_SANDBOX, _python_files("lab", "checks", "tui")) == []
