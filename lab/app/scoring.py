"""A lab's score and pass, defined once, for everything that shows or records one: `lab check`, `lab exercises`,
`lab grade`, `lab export`, class grading, the TUI (through its live source) and the learner's progress.

- The score of a lab is its report over the whole lab (lab.grading.evaluate, phase "all"): every step's checks,
  and the recovery checks of its latest drill -- which score nothing while the lab has had no drill, so a lab
  whose steps are done but whose drill is still to run is not yet passed, whatever command asks.
- A lab is passed when that score reaches its pass mark. Its status is ERROR when a check could not judge,
  else PASS when passed, else FAIL; `complete` says every check passes.
- Asking for one phase (lab check --phase configure) shows only its steps; the score stays the lab's.
- What a list of labs shows (Home, the header, lab exercises) is the latest check's score and verdict, with a
  note when the lab passed before but does not now.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.exercises import Exercise
    from lab.grading import Report
    from lab.progress import LabProgress

SCORED_PHASE = "all"


def lab_report(exercise: Exercise, inventory: Any, *, messages: bool = True) -> Report:
    """The lab's report, its score and its pass: the one definition."""
    from lab import grading

    return grading.evaluate(exercise, inventory, phase=SCORED_PHASE, messages=messages)


def showing(report: Report, phase: str) -> Report:
    """The report restricted to the steps of `phase` (configure or recover) for display; score, percent and
    pass stay those of the whole lab."""
    if phase in ("all", "auto", SCORED_PHASE):
        return report
    wanted = "recover" if phase == "recover" else "configure"
    return replace(report, phase=phase, steps=tuple(step for step in report.steps if step.phase == wanted))


def exit_code(reports: list[Report]) -> int:
    """`lab check` and `lab grade`: 2 when a check could not judge, 0 when every lab passed, else 1."""
    if any(report.status == "ERROR" for report in reports):
        return 2
    return 0 if reports and all(report.passed for report in reports) else 1


@dataclass(frozen=True)
class Standing:
    """Where a learner stands in a lab, as lists of labs show it: the latest check's score and verdict."""

    percent: float | None  # None: never checked
    passed: bool  # the latest check passed the pass mark
    passed_before: bool  # an earlier check did, the latest did not

    def text(self) -> str:
        """'85% passed', '40%', '40% (passed before)' or '-'."""
        if self.percent is None:
            return "-"
        if self.passed:
            return f"{self.percent:.0f}% passed"
        return f"{self.percent:.0f}%" + (" (passed before)" if self.passed_before else "")


def standing(progress: LabProgress) -> Standing:
    last = progress.last_passed if progress.last_passed is not None else progress.passed
    return Standing(percent=progress.last_percent, passed=bool(last) and progress.last_percent is not None,
                    passed_before=progress.passed and not last)


__all__ = ["SCORED_PHASE", "Standing", "exit_code", "lab_report", "showing", "standing"]
