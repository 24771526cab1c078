"""What test_labs and test_corpus share: one sandbox per module, and the moves of a "round".

A round is one reset world in which several labs are played side by side. Labs only share a round when
they touch different resources and their drills do not get in each other's way, so that resets (the slow
part) are few. The sim clock is paused after every reset: time moves only when a round advances it.
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from checks import registry
from checks.base import PASS
from lab import exercises, grading, inventory
from lab.admin_client import AdminClient
from lab.commands.exercises import SolutionRun, run_solution, solution_environment

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"


@dataclass
class Variant:
    """One corpus file: a configuration a learner might apply, and what the judge must say about it."""

    lab: str
    name: str
    path: Path
    expect: dict[str, str]
    phase: str
    namespace: dict[str, Any] = field(repr=False)

    @property
    def correct(self) -> bool:
        return self.name.startswith("correct_")

    def __str__(self) -> str:
        return f"{self.lab}/{self.name}"


def load_variant(path: Path) -> Variant:
    namespace = runpy.run_path(str(path), run_name="corpus_variant")
    expect = dict(namespace.get("EXPECT", {}))
    variant = Variant(lab=path.parent.name, name=path.stem, path=path, expect=expect,
                      phase=namespace.get("PHASE", "configure"), namespace=namespace)
    assert variant.correct == (not expect), f"{variant}: correct variants expect nothing, near misses a failure"
    assert variant.correct or variant.name.startswith("near_miss_"), f"{variant}: correct_* or near_miss_*"
    return variant


def corpus(phase: str | None = None) -> list[Variant]:
    found = [load_variant(path) for path in sorted(CORPUS.glob("*/*.py"))]
    return [v for v in found if phase is None or v.phase == phase]


def variant(key: str) -> Variant:
    """'02-s3-crr/near_miss_same_region' -> the loaded variant."""
    return load_variant(CORPUS / f"{key}.py")


def failing(report: grading.Report, kinds: Iterable[str] = ("config", "data", "drill")) -> dict[str, set[str]]:
    """check id -> the reasons of its results that did not pass, for every check of `report` not passing."""
    wanted = set(kinds)
    found: dict[str, set[str]] = {}
    for outcome in report.outcomes():
        if outcome.status == PASS or registry.get(outcome.check_id).kind not in wanted:
            continue
        found.setdefault(outcome.check_id, set()).update(r.reason for r in outcome.results if r.status != PASS)
    return found


def describe(report: grading.Report) -> str:
    return "\n".join(f"  {o.check_id}: {o.status} {o.message} | {o.hint}" for o in report.outcomes())


class LabWorld:
    """The sandbox of a module, driven through its admin API and the AWS APIs."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle  # tests.conftest.SandboxHandle: `handle.lab(...)` runs the lab command on it
        self.endpoint = handle.endpoint
        self.admin = AdminClient(handle.endpoint)

    def reset(self) -> None:
        self.admin.reset()
        self.admin.post("clock", {"action": "pause"})

    def advance(self, duration: str) -> None:
        self.admin.post("clock", {"action": "advance", "duration": duration})

    def inventory(self, lab_ids: Iterable[str]) -> dict[str, Any]:
        labs = [exercises.load(lab_id) for lab_id in lab_ids]
        services = registry.services_for({ref.id for lab in labs for ref in lab.checks()})
        return inventory.collect_from_endpoint(self.endpoint, services)

    def solve(self, lab_id: str, *, recover: bool = False, incident_time: str | None = None,
              tool: str = "boto3") -> SolutionRun:
        run = run_solution(exercises.load(lab_id), self.endpoint, tool=tool, recover=recover,
                           incident_time=incident_time, capture=True, advance=self.advance)
        assert run.returncode == 0, f"lab solve {lab_id}{' --recover' if recover else ''} failed:\n{run.output}"
        return run

    def drill(self, lab_id: str) -> dict[str, Any]:
        return self.admin.post("drills", {"lab": lab_id})

    def drill_record(self, drill_id: str) -> dict[str, Any]:
        return self.admin.get(f"drills/{drill_id}")

    @staticmethod
    def apply(variant: Variant, step: str = "main") -> None:
        """Run a corpus variant's `main` (or `after_wait`) in this process, with `lab env`'s environment."""
        import boto3

        function = variant.namespace.get(step)
        if function is None:
            return
        boto3.DEFAULT_SESSION = None  # a fresh default session reads the environment set here
        function()


_SHARED: dict[str, Any] = {}  # test_labs and test_corpus play on one sandbox; each round resets it


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          lab_env: dict[str, str]) -> LabWorld:
    """The sandbox of these modules (not the shared session one: rounds reset it), stopped when the
    session ends."""
    from tests.conftest import SandboxHandle, free_port

    handle = _SHARED.get("handle")
    if handle is None:
        handle = SandboxHandle(tmp_path_factory.mktemp("labs") / "state", free_port(), lab_env)
        handle.up()
        _SHARED["handle"] = handle
        request.config.add_cleanup(handle.down)
    return LabWorld(handle)


@pytest.fixture
def lab_shell(world: LabWorld, monkeypatch: pytest.MonkeyPatch) -> LabWorld:
    """The world, with this process's environment as `eval "$(lab env)"` leaves a learner's shell."""
    environment = solution_environment(world.endpoint)
    for name in [n for n in os.environ if n.startswith("AWS_") and n not in environment]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        if os.environ.get(name) != value:
            monkeypatch.setenv(name, value)
    return world
