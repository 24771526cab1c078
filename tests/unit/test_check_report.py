"""`lab check`'s report is printed in one print, and reads exactly as if each of its lines were printed apart: the
same wrapping at any width, the same styles, and a style a line leaves open ends with that line."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console

from lab import exercises, grading
from lab.commands.checks import print_report, report_lines
from tests.unit.inventory_builder import Inv

DRILL = {"id": "d-7", "scenario": "s3-[bold]outage", "status": "ended", "incident_time": "2026-01-05T10:00:00Z",
         "rto_seconds": None, "targets": {"rto_seconds": 3600, "rpo_seconds": 900},
         "rpo": {"span_seconds": 120, "count": 3}, "compliance": "within targets " * 12}


def reports() -> list[grading.Report]:
    inventory = Inv().orders(5).build()
    found = [grading.evaluate(exercises.load(lab_id), inventory, phase="all") for lab_id in ("01", "02", "07")]
    return [*found, dataclasses.replace(found[0], drill=DRILL)]


def printed(print_lines, width: int, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, color_system="truecolor" if terminal else None,
                      highlight=False)
    print_lines(console)
    return out.getvalue()


@pytest.mark.parametrize("width", [24, 80, 200])
@pytest.mark.parametrize("terminal", [True, False])
@pytest.mark.parametrize("detailed", [True, False])
def test_one_print_reads_as_a_print_per_line(width: int, terminal: bool, detailed: bool) -> None:
    for report in reports():
        def line_by_line(console: Console, report: grading.Report = report) -> None:
            for line in report_lines(report, detailed=detailed):
                console.print(line)

        once = printed(lambda console, report=report: print_report(console, report, detailed=detailed), width,
                       terminal)
        assert once == printed(line_by_line, width, terminal)
        assert once.count("\n") >= len(report_lines(report, detailed=detailed))


def test_a_style_left_open_ends_with_its_line() -> None:
    text = printed(lambda console: print_report(console, reports()[-1], detailed=True), 1000, True)
    drill, step = text.splitlines()[1:3]
    assert drill.startswith("  Drill d-7 (s3-") and "\x1b[1m" in drill
    assert step.startswith("  Step 1: ") and "\x1b[1m" not in step
