"""The instructor's use cases: grade labs on the running sandbox, export a learner's work, grade a class of
exports. Every score is the one lab.app.scoring defines, as `lab check` and the TUI show it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.app import scoring
from lab.app.checking import collect_for

if TYPE_CHECKING:
    from checks.inventory import Inventory
    from lab.exercises import Exercise
    from lab.grading import ClassGrades, Report


def grade_labs(endpoint: str, labs: list[Exercise], phase: str = "all") -> tuple[list[Report], Inventory]:
    """Each lab's report on the sandbox at `endpoint` (showing the steps of `phase`), and the inventory."""
    collected = collect_for(endpoint, labs)
    return [scoring.showing(scoring.lab_report(exercise, collected), phase) for exercise in labs], collected


@dataclass(frozen=True)
class Export:
    body: dict[str, Any]  # what `lab export` writes
    reports: list[Report]
    inventory: Inventory
    events: int
    learner_id: str | None
    learner_id_problem: OSError | None  # the learner id could not be kept (the export then carries none)


def export_labs(endpoint: str, labs: list[Exercise], *, learner: str, state_dir: Path, lab_version: str,
                exported_wall: str, events_limit: int) -> Export:
    """One file's content for the instructor: the whole inventory (class grading regrades from it), the events,
    the drills and every lab's report."""
    from lab import grading, inventory, progress
    from lab.admin_client import AdminClient

    collected = inventory.collect_from_endpoint(endpoint)  # every part: the instructor regrades from it
    events = AdminClient(endpoint).get(f"events?limit={events_limit}").get("events", [])
    reports = [scoring.lab_report(exercise, collected) for exercise in labs]
    problem: OSError | None = None
    try:
        learner_id: str | None = progress.learner_id(state_dir, learner)
    except OSError as exc:
        learner_id, problem = None, exc
    body = grading.make_export(inventory=collected, events=events, reports=reports, learner=learner,
                               lab_version=lab_version, learner_id=learner_id, exported_wall=exported_wall)
    return Export(body, reports, collected, len(events), learner_id, problem)


def grade_class(directory: Path, labs: list[Exercise], *, pass_rule: str = "all",  # noqa: S107 -- pass/fail
                max_bytes: int) -> ClassGrades:
    """Every export in `directory` regraded from its inventory, each lab scored as lab.app.scoring says."""
    from lab import grading

    return grading.grade_class(directory, labs, pass_rule=pass_rule, max_bytes=max_bytes,
                               score=scoring.lab_report)


__all__ = ["Export", "export_labs", "grade_class", "grade_labs"]
