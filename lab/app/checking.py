"""Checking a lab: which parts of the inventory its checks read, and the use case itself -- collect those
parts from the sandbox, grade the labs, record the learner's progress. `lab check` and the TUI's "Check my
progress" both run `check_labs`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checks.inventory import Inventory
    from lab.exercises import Exercise
    from lab.grading import Report

PHASES = ("auto", "configure", "recover", "all")


def parts_for(labs: Iterable[Exercise], phase: str) -> set[str]:
    """The inventory parts the labs' checks read in `phase` (configure, recover or all), and the drills (a
    report shows the lab's latest drill). A check id the registry does not know is left to the report, which
    flags it without reading anything."""
    from checks import registry

    needed = {"drills"}
    for exercise in labs:
        for ref in exercise.checks(phase):
            spec = registry.CHECKS.get(ref.id)
            if spec is not None:
                needed |= spec.services
    return needed


def phase_of(requested: str, exercise: Exercise, inventory: Inventory) -> str:
    """auto: the configure phase, plus the recovery checks once the lab has had a drill."""
    if requested != "auto":
        return requested
    drilled = any(drill.lab == exercise.id for drill in inventory.drills)
    return "all" if drilled and exercise.recovery_checks else "configure"


@dataclass(frozen=True)
class CheckRun:
    """What a check of labs gives: a report per lab, the inventory the checks saw, and the progress that could
    not be recorded (the state dir not writable), one error per lab."""

    reports: list[Report]
    inventory: Inventory
    progress_errors: list[OSError] = field(default_factory=list)


def check_labs(endpoint: str, labs: list[Exercise], phase: str = "auto", *, state_dir: Path | None,
               attempt: bool = True, learner: str | None = None) -> CheckRun:
    """Check `labs` on the sandbox at `endpoint`: collect only the parts their checks read (for `auto`, the
    recovery checks' parts too once a lab has had a drill), grade each lab, and record the reports in the
    learner's progress under `state_dir` (None: not recorded)."""
    from lab import grading, inventory, progress

    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; one of {', '.join(PHASES)}")
    collected = inventory.collect_from_endpoint(endpoint, parts_for(labs, "configure" if phase == "auto" else phase))
    phases = {exercise.id: phase_of(phase, exercise, collected) for exercise in labs}
    drilled = [exercise for exercise in labs if phases[exercise.id] == "all" and phase == "auto"]
    if drilled and not parts_for(drilled, "all") <= set(collected.services):
        # A lab has had a drill: its recovery checks read more (the data). One collection again, so that every
        # check sees the same instant.
        collected = inventory.collect_from_endpoint(
            endpoint, parts_for(labs, "configure") | parts_for(drilled, "all"))
    reports = [grading.evaluate(exercise, collected, phase=phases[exercise.id]) for exercise in labs]
    errors: list[OSError] = []
    if state_dir is not None:
        for exercise, report in zip(labs, reports, strict=True):
            try:
                progress.record_report(state_dir, exercise, report, attempt=attempt, learner=learner)
            except OSError as exc:
                errors.append(exc)
    return CheckRun(reports, collected, errors)


def check_lab(endpoint: str, exercise: Exercise, phase: str, *, state_dir: Path | None, attempt: bool = True,
              learner: str | None = None) -> Report:
    """One lab's report (`check_labs` for one lab); a progress that cannot be recorded raises its OSError."""
    run = check_labs(endpoint, [exercise], phase, state_dir=state_dir, attempt=attempt, learner=learner)
    if run.progress_errors:
        raise run.progress_errors[0]
    return run.reports[0]


__all__ = ["PHASES", "CheckRun", "check_lab", "check_labs", "parts_for", "phase_of"]
