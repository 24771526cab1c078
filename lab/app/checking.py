"""Checking a lab: which parts of the inventory its checks read, and the use case itself -- collect those
parts from the sandbox, grade the labs, record the learner's progress. The TUI's "Check my progress" runs
`check_labs`; `lab check` runs `check_in_sandbox`, which scores the built-in labs inside the sandbox
(POST /_lab/check, `check_route`), where the checks are loaded and warm, and records the progress here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checks.inventory import Inventory
    from lab.admin_client import AdminClient
    from lab.exercises import Exercise
    from lab.grading import Report
    from lab.kernel.context import RequestContext
    from lab.kernel.port import Sandbox
    from lab.kernel.routes import AdminRouter

    #: what the checks read the sandbox through: the inventory parts asked for -> the inventory
    InventoryRead = Callable[[set[str]], Inventory]

PHASES = ("auto", "configure", "recover", "all")
MAX_LAB_ID = 100  # (the check route names the lab asked for in its refusal)


def _check_phase(phase: object) -> None:
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; one of {', '.join(PHASES)}")


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


def reader_of(source: str | InventoryRead) -> InventoryRead:
    """`source` as a reader: an endpoint is read through its GET /_lab/inventory (lab.inventory)."""
    if not isinstance(source, str):
        return source

    def read(parts: set[str]) -> Inventory:
        from lab import inventory

        return inventory.collect_from_endpoint(source, parts)

    return read


def collect_for(source: str | InventoryRead, labs: list[Exercise]) -> Inventory:
    """What the labs' scores read, in one instant: every step's parts and the drills, and for the labs that
    have had a drill the parts their recovery checks read too (the data: only those pay for reading it).
    `source`: the sandbox's endpoint, or a reader of its inventory."""
    read = reader_of(source)
    collected = read(parts_for(labs, "configure"))
    done = [exercise for exercise in labs if drilled(exercise, collected)]
    if done and not parts_for(done, "all") <= set(collected.services):
        # One collection again, so that every check sees the same instant.
        collected = read(parts_for(labs, "configure") | parts_for(done, "all"))
    return collected


@dataclass(frozen=True)
class Scored:
    """Labs scored on one inventory: each lab's whole report (what the progress records), the report showing
    the steps asked for, and the inventory the checks saw."""

    full: list[Report]
    shown: list[Report]
    inventory: Inventory


def score_labs(source: str | InventoryRead, labs: list[Exercise], phase: str = "auto") -> Scored:
    """Collect what the labs' scores read from `source` and score each lab (the whole lab: lab.app.scoring),
    each shown with the steps of `phase` (auto: the recovery too)."""
    from lab.app import scoring

    _check_phase(phase)
    collected = collect_for(source, labs)
    full = [scoring.lab_report(exercise, collected) for exercise in labs]
    shown = [scoring.showing(report, phase_of(phase, exercise, collected))
             for exercise, report in zip(labs, full, strict=True)]
    return Scored(full, shown, collected)


@dataclass(frozen=True)
class CheckRun:
    """What a check of labs gives: a report per lab, how many parts of the sandbox could not be read, and the
    progress that could not be recorded (the state dir not writable), one error per lab."""

    reports: list[Report]
    collection_errors: int = 0
    progress_errors: list[OSError] = field(default_factory=list)


def _record(state_dir: Path | None, reports: list[Report], attempt: bool, learner: str | None) -> list[OSError]:
    """The scores in the learner's progress under `state_dir` (None: not recorded); one error per lab when
    the progress cannot be written (each lab's progress is then unrecorded, as callers expect)."""
    from lab import progress

    if state_dir is None:
        return []
    try:
        progress.record_lab_reports(state_dir, reports, attempt=attempt, learner=learner)
    except OSError as exc:
        return [exc] * len(reports)
    return []


def check_labs(source: str | InventoryRead, labs: list[Exercise], phase: str = "auto", *, state_dir: Path | None,
               attempt: bool = True, learner: str | None = None) -> CheckRun:
    """Check `labs` on the sandbox (`source`: its endpoint, or a reader of its inventory): score each lab,
    record the scores in the learner's progress under `state_dir` (None: not recorded), and give each report
    showing the steps of `phase`."""
    scored = score_labs(source, labs, phase)
    errors = _record(state_dir, scored.full, attempt, learner)
    return CheckRun(scored.shown, len(scored.inventory.errors), errors)


def check_in_sandbox(client: AdminClient, lab_id: str | None, phase: str = "auto", *, state_dir: Path | None,
                     attempt: bool = True, learner: str | None = None) -> CheckRun | None:
    """`check_labs` of the built-in labs (one by id or number, every lab without one), scored inside the sandbox
    (POST /_lab/check), the progress recorded here. None when the sandbox has no such route (one started by an
    earlier version): the caller then checks from here. A lab that does not exist or a broken exercise file is
    the LabError the sandbox describes."""
    from lab.grading import Report

    _check_phase(phase)
    answer = client.post_or_none("check", {"lab": lab_id, "phase": phase}, timeout=120)
    if answer is None:
        return None
    full = [Report.from_dict(report) for report in answer["full"]]
    shown = [Report.from_dict(report) for report in answer["reports"]]
    errors = _record(state_dir, full, attempt, learner)
    return CheckRun(shown, int(answer.get("collection_errors", 0)), errors)


def check_route(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """POST /_lab/check {"lab": "01-aws-backup" (every lab: null), "phase": "auto"}: the built-in labs scored
    on the sandbox's inventory of one instant -> {"reports": each lab's report showing the phase's steps,
    "full": each lab's whole report, "collection_errors": the parts that could not be read}. Reads only:
    the learner's progress is the caller's."""
    from lab import exercises, inventory
    from lab.errors import LabError
    from lab.kernel.routes import json_body

    body = json_body(ctx)
    lab_id, phase = body.get("lab"), body.get("phase", "auto")
    if lab_id is not None and (not isinstance(lab_id, str) or not lab_id or len(lab_id) > MAX_LAB_ID):
        raise ValueError(f'give the lab by id or number (at most {MAX_LAB_ID} characters), or null for every lab: '
                         '{"lab": "01-aws-backup"}')
    _check_phase(phase)
    built_in = [exercises.REPO_EXERCISES_DIR]
    try:
        labs = [exercises.load(lab_id, built_in)] if lab_id else list(exercises.load_all(built_in).values())
    except LabError as exc:  # (no such lab, a broken exercise file: ExerciseError is a LabError)
        raise ValueError(str(exc)) from exc
    scored = score_labs(lambda parts: inventory.collect_in_sandbox(sandbox, parts), labs, phase)
    return 200, {"reports": [report.to_dict() for report in scored.shown],
                 "full": [report.to_dict() for report in scored.full],
                 "collection_errors": len(scored.inventory.errors)}


def register(router: AdminRouter) -> None:
    router.add("POST", "check", check_route)


def check_lab(endpoint: str, exercise: Exercise, phase: str, *, state_dir: Path | None, attempt: bool = True,
              learner: str | None = None) -> Report:
    """One lab's report (`check_labs` for one lab); a progress that cannot be recorded raises its OSError."""
    run = check_labs(endpoint, [exercise], phase, state_dir=state_dir, attempt=attempt, learner=learner)
    if run.progress_errors:
        raise run.progress_errors[0]
    return run.reports[0]


__all__ = ["PHASES", "CheckRun", "Scored", "check_in_sandbox", "check_lab", "check_labs", "check_route", "collect_for",
           "drilled", "parts_for", "phase_of", "reader_of", "register", "score_labs"]
