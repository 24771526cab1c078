"""Drills, the labs' side: a lab's drill plan from its exercise file, and a drill's recovery judged by the lab's
recovery checks over the sandbox's inventory. The sandbox's drills engine asks through lab.kernel's DrillJudge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lab import exercises, grading, inventory
from lab.errors import LabError
from lab.exercises import Exercise
from lab.kernel.engine import DrillPlan, DrillVerdict
from lab.kernel.port import Sandbox


def recovery_parts(exercise: Exercise) -> set[str] | None:
    """The inventory parts the lab's recovery checks read (None: everything)."""
    from checks import registry

    services: set[str] = set()
    for ref in exercise.recovery_checks:
        try:
            spec = registry.get(ref.id)
        except KeyError:
            return None
        services |= set(spec.services)
    return services or None


class ExerciseDrillJudge:
    """Plans and judges drills from the exercise files (lab.exercises), keeping each lab's exercise between
    the evaluations of its drill (loading the exercise files costs ~0.1 s)."""

    def __init__(self) -> None:
        self._exercises: dict[str, Exercise] = {}

    def _exercise(self, lab_id: str, fresh: bool = False) -> Exercise:
        if fresh:
            self._exercises.pop(lab_id, None)
        found = self._exercises.get(lab_id)
        if found is None:
            try:
                found = exercises.load(lab_id)
            except (KeyError, LabError) as exc:
                raise ValueError(str(exc.args[0]) if exc.args else str(exc)) from exc
            self._exercises[lab_id] = self._exercises[found.id] = found
        return found

    def plan(self, lab_id: str) -> DrillPlan:
        exercise = self._exercise(lab_id, fresh=True)  # a new drill reads the lab afresh: its file may change
        if exercise.drill is None:
            raise ValueError(f"lab {exercise.id} has no drill")
        self._exercises[exercise.id] = exercise
        return DrillPlan(lab=exercise.id, timeline=tuple(exercise.drill.schedule()),
                         rto_seconds=int(exercise.targets.rto_seconds),
                         rpo_seconds=int(exercise.targets.rpo_seconds))

    def judge(self, sandbox: Sandbox, lab_id: str, drill: Mapping[str, Any]) -> DrillVerdict:
        exercise = self._exercise(lab_id)
        collected = inventory.collect_in_sandbox(sandbox, recovery_parts(exercise))
        evaluation = grading.evaluate_recovery(exercise, collected, drill)
        checks = tuple({"check_id": r.check_id, "resource_id": r.resource_id, "status": r.status,
                        "message": r.message} for r in evaluation.results)
        return DrillVerdict(passed=evaluation.passed, checks=checks, lost=evaluation.lost)
