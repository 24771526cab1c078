"""The live DataSource: the running sandbox's admin API, the exercise files, the checks and the learner's
progress on disk. It holds no lab logic of its own: it asks lab.exercises, lab.inventory, lab.grading,
lab.progress and the admin API, and turns their answers into the snapshots of tui.data.

boto3 (through lab.inventory) is imported only when checks or the resources are first read, so the app's
first frame does not wait for it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from lab import config
from lab.admin_client import AdminClient
from lab.errors import LabError, SandboxNotRunningError
from tui import convert
from tui.data import (
    RECOVERY_HINTS,
    ClockView,
    DataSource,
    DrillView,
    EventBatch,
    FaultView,
    LabProgressView,
    LabReport,
    LabSummary,
    SandboxView,
    ScenarioView,
    WorldView,
)

SETTINGS_FILE = "tui.json"
# what the map and the explorer show (object, item and order counts included)
WORLD_PARTS = ("s3", "s3.objects", "dynamodb", "dynamodb.items", "rds", "rds.orders", "ec2", "backup", "cloudtrail")
POLL_TIMEOUT = 30.0  # seconds a status poll may wait; the app shows "busy" long before, while it waits


class LiveSource(DataSource):
    sandbox_gone = SandboxNotRunningError
    regions = tuple(config.REGIONS)

    def __init__(self, state_dir: Path, port: int | None = None, backend: str = "embedded") -> None:
        self.state_dir = state_dir
        self.port = port
        self.backend = backend
        self._exercises: dict[str, Any] | None = None
        self._settings_lock = threading.Lock()  # the UI's settings file: one writer at a time (lab.progress
        # locks its own file)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> LiveSource:
        """The sandbox the `lab` command would use: LAB_STATE_DIR, LAB_PORT, LAB_BACKEND (for a start)."""
        state_dir = config.default_state_dir().expanduser().resolve()
        port = int(environ["LAB_PORT"]) if environ.get("LAB_PORT") else None
        return cls(state_dir, port, environ.get("LAB_BACKEND") or "embedded")

    # -- the sandbox ----------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        from lab import process

        return process.endpoint_for(self.state_dir, self.port)

    def admin(self) -> AdminClient:
        return AdminClient(self.endpoint)

    def sandbox(self) -> SandboxView:
        """The sandbox now. Only a refused connection or an exited process is "down": a sandbox that takes
        long to answer (a long clock advance, a large world) is "busy", and the app keeps waiting."""
        client = self.admin()
        try:
            status = client.get("status?counts=0", timeout=POLL_TIMEOUT)
            faults = client.get("faults", timeout=POLL_TIMEOUT) if "faults" in status.get("engines", {}) else {}
        except SandboxNotRunningError as exc:
            return SandboxView("down", client.endpoint, message=str(exc))
        except LabError as exc:
            if timed_out(exc) and self.process_alive() is not False:
                return SandboxView("busy", client.endpoint, message=f"no answer within {POLL_TIMEOUT:g} s")
            return SandboxView("down", client.endpoint, message=str(exc))
        if not status.get("ready", True):
            return SandboxView("starting", client.endpoint, message="restoring its saved state…",
                               backend=str(status.get("backend", "")), pid=status.get("pid"))
        return convert.sandbox_view(status, faults, client.endpoint)

    def port_open(self) -> bool:
        """Does something take connections at the sandbox's endpoint?"""
        address = urlsplit(self.endpoint)
        try:
            with socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), timeout=1.0):
                return True
        except OSError:
            return False

    def process_alive(self) -> bool | None:
        """Does the sandbox process of this state dir still run? None: not known (no pid file: a sandbox
        started some other way, such as in a container)."""
        from lab import process

        info = process.runtime_info(self.state_dir)
        if not info or not info.get("pid"):
            return None
        return process.pid_alive(int(info["pid"]))

    def ensure_running(self) -> SandboxView:
        from lab import process

        try:
            running = process.find_running(self.state_dir, self.port)
            # A live process whose port takes connections but did not answer find_running's short probe
            # is busy, not gone: wait for it rather than start a second one.
            if running is None and not (self.process_alive() and self.port_open()):
                process.start(self.state_dir, port=self.port or config.DEFAULT_PORT, backend=self.backend,
                              foreground=False)
        except LabError as exc:
            return SandboxView("down", self.endpoint, message=str(exc))
        return self.sandbox()

    def restart(self) -> SandboxView:
        return self.ensure_running()

    # -- labs and progress ----------------------------------------------------------------------------------
    def exercises(self) -> dict[str, Any]:
        if self._exercises is None:
            from lab import exercises

            self._exercises = exercises.load_all()
        return self._exercises

    def exercise(self, lab_id: str) -> Any:
        found = self.exercises().get(lab_id)
        if found is None:
            raise KeyError(f"no lab {lab_id!r}; the labs are {', '.join(sorted(self.exercises())) or 'none'}")
        return found

    def _progress(self) -> Any:
        from lab import progress

        return progress.load(self.state_dir)

    def labs(self) -> tuple[LabSummary, ...]:
        exercises = self.exercises()
        progress = self._progress()
        return tuple(LabSummary(convert.lab_view(exercise), convert.progress_view(progress, exercise))
                     for exercise in sorted(exercises.values(), key=lambda e: e.id))

    def lab(self, lab_id: str) -> LabSummary:
        exercise = self.exercise(lab_id)
        return LabSummary(convert.lab_view(exercise), convert.progress_view(self._progress(), exercise))

    def run_checks(self, lab_id: str, phase: str = "configure", *, attempt: bool = True) -> LabReport:
        from lab.app.checking import check_lab

        exercise = self.exercise(lab_id)
        report = check_lab(self.endpoint, exercise, phase, state_dir=self.state_dir, attempt=attempt)
        return convert.report_view(exercise, report)

    def reveal_hint(self, lab_id: str, step_id: str) -> LabProgressView:
        from lab import progress

        exercise = self.exercise(lab_id)
        if step_id == RECOVERY_HINTS:
            progress.record_hint(self.state_dir, lab_id, RECOVERY_HINTS, available=len(exercise.recovery_hints))
        else:
            step = exercise.step(step_id)
            progress.record_hint(self.state_dir, lab_id, step.id, available=len(step.hints))
        return convert.progress_view(self._progress(), exercise)

    def set_current_step(self, lab_id: str, step_id: str) -> LabProgressView:
        from lab import progress

        exercise = self.exercise(lab_id)
        progress.record_current_step(self.state_dir, lab_id, exercise.step(step_id).id)
        return convert.progress_view(self._progress(), exercise)

    # -- the UI's own settings ------------------------------------------------------------------------------
    def settings(self) -> Mapping[str, Any]:
        """The theme from the UI's own file; the last lab from the learner's progress."""
        return {**self._saved_settings(), "last_lab": self._progress().last_lab}

    def _saved_settings(self) -> dict[str, Any]:
        try:
            value = json.loads((self.state_dir / SETTINGS_FILE).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return value if isinstance(value, dict) else {}

    def save_setting(self, name: str, value: Any) -> None:
        with self._settings_lock:
            current = self._saved_settings()
            current[name] = value
            self.state_dir.mkdir(parents=True, exist_ok=True)
            path = self.state_dir / SETTINGS_FILE
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(current, indent=2, sort_keys=True))
            os.replace(temporary, path)

    # -- the world, events, failures, drills, the clock -----------------------------------------------------
    def world(self) -> WorldView:
        from lab import inventory
        from tui.world import world_view

        collected = inventory.collect_from_endpoint(self.endpoint, WORLD_PARTS)
        return world_view(collected, self._get_or_empty("faults"))

    def events(self, since: int = 0, limit: int = 500) -> EventBatch:
        body = self.admin().get("events?" + urlencode({"since": since, "limit": limit}), timeout=10)
        return convert.event_batch(body)

    def scenarios(self) -> tuple[ScenarioView, ...]:
        return convert.scenario_views(self.admin().get("scenarios", timeout=10))

    def inject(self, scenario: str, params: Mapping[str, Any]) -> FaultView:
        record = self.admin().post("fail", {"scenario": scenario, "params": dict(params)}, timeout=120)
        return convert.injection_view(record)

    def recover(self) -> None:
        self.admin().post("recover", {}, timeout=120)

    def start_drill(self, lab_id: str) -> DrillView:
        exercise = self.exercise(lab_id)
        return convert.drill_view(self.admin().post("drills", {"lab": lab_id}, timeout=120), exercise)

    def drills(self, lab_id: str | None = None) -> tuple[DrillView, ...]:
        body = self._get_or_empty("drills")
        found = [d for d in body.get("drills", []) if lab_id is None or d.get("lab") == lab_id]
        exercises = self.exercises()
        return tuple(convert.drill_view(d, exercises.get(str(d.get("lab")))) for d in found)

    def clock(self, action: str, value: str | None = None) -> ClockView:
        payload: dict[str, Any] = {"action": action}
        if action == "advance":
            payload["duration"] = value
        elif action == "speed":
            payload["factor"] = value
        return convert.clock_view(self.admin().post("clock", payload, timeout=600))

    def _get_or_empty(self, path: str) -> dict[str, Any]:
        """GET /_lab/<path>, or {} when this sandbox has no such route (an older sandbox still running)."""
        try:
            return self.admin().get(path, timeout=30)
        except SandboxNotRunningError:
            raise
        except LabError as exc:
            if "no admin route" in str(exc):
                return {}
            raise



def timed_out(error: LabError) -> bool:
    """Did the sandbox accept the request and not answer in time (as against refusing it)?"""
    return isinstance(error.__cause__, TimeoutError)
