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


def drilled(exercise: Exercise, inventory: Inventory) -> bool:
    """The lab has recovery checks and has had a drill: its recovery checks then score, and read the data."""
    return bool(exercise.recovery_checks) and any(drill.lab == exercise.id for drill in inventory.drills)


def phase_of(requested: str, exercise: Exercise, inventory: Inventory) -> str:
    """The steps shown for `requested`: auto shows the whole lab, its recovery (still to do until the lab has
    had a drill) too, since it counts in the score (lab.app.scoring)."""
    return "all" if requested == "auto" else requested


def collect_for(endpoint: str, labs: list[Exercise]) -> Inventory:
    """What the labs' scores read, in one instant: every step's parts and the drills, and for the labs that
    have had a drill the parts their recovery checks read too (the data: only those pay for reading it)."""
    from lab import inventory

    collected = inventory.collect_from_endpoint(endpoint, parts_for(labs, "configure"))
    done = [exercise for exercise in labs if drilled(exercise, collected)]
    if done and not parts_for(done, "all") <= set(collected.services):
        # One collection again, so that every check sees the same instant.
        collected = inventory.collect_from_endpoint(endpoint, parts_for(labs, "configure") | parts_for(done, "all"))
    return collected


@dataclass(frozen=True)
class CheckRun:
    """What a check of labs gives: a report per lab, the inventory the checks saw, and the progress that could
    not be recorded (the state dir not writable), one error per lab."""

    reports: list[Report]
    inventory: Inventory
    progress_errors: list[OSError] = field(default_factory=list)


def check_labs(endpoint: str, labs: list[Exercise], phase: str = "auto", *, state_dir: Path | None,
               attempt: bool = True, learner: str | None = None) -> CheckRun:
    """Check `labs` on the sandbox at `endpoint`: collect what their scores read, score each lab (the whole lab:
    lab.app.scoring), record the scores in the learner's progress under `state_dir` (None: not recorded), and
    give each report showing the steps of `phase` (auto: the recovery too once the lab has had a drill)."""
    from lab import progress
    from lab.app import scoring

    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; one of {', '.join(PHASES)}")
    collected = collect_for(endpoint, labs)
    full = [scoring.lab_report(exercise, collected) for exercise in labs]
    errors: list[OSError] = []
    if state_dir is not None:
        try:
            progress.record_reports(state_dir, list(zip(labs, full, strict=True)), attempt=attempt, learner=learner)
        except OSError as exc:
            errors = [exc] * len(labs)  # (each lab's progress is unrecorded: one error per lab, as callers expect)
    reports = [scoring.showing(report, phase_of(phase, exercise, collected))
               for exercise, report in zip(labs, full, strict=True)]
    return CheckRun(reports, collected, errors)


def check_lab(endpoint: str, exercise: Exercise, phase: str, *, state_dir: Path | None, attempt: bool = True,
              learner: str | None = None) -> Report:
    """One lab's report (`check_labs` for one lab); a progress that cannot be recorded raises its OSError."""
    run = check_labs(endpoint, [exercise], phase, state_dir=state_dir, attempt=attempt, learner=learner)
    if run.progress_errors:
        raise run.progress_errors[0]
    return run.reports[0]


__all__ = ["PHASES", "CheckRun", "check_lab", "check_labs", "collect_for", "drilled", "parts_for", "phase_of"]
