"""A learner's progress, kept in the state dir: per lab the steps done, the hints revealed per step, the
number of attempts (each `lab check` or "Check my progress"), the latest score, and where the learner was.

One JSON file per learner (`<state dir>/progress/<learner>.json`), replaced atomically on every change
and changed under a file lock, so the TUI and the `lab` command can both record without losing a write.
A step, once passed, stays done (as on lab platforms). Keys that an earlier version wrote and nothing reads
any more (a history of attempts, best and raw scores, timestamps) are dropped when the file is next saved. A
damaged file is set aside (never deleted) and progress starts again.

Each learner's progress holds a learner id, made once (the first time the file is saved, or asked for by
`learner_id`) and kept: `lab export` writes it into the export, so that class grading identifies a learner
by it rather than by a file name or a typed name.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROGRESS_VERSION = 1
PROGRESS_DIR = "progress"
LEARNER_ENV = "LAB_LEARNER"
LEARNER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{7,63}")  # what an export's learner id may be


def _log() -> Any:
    """The module's logger, loaded when there is something to say (`lab check` otherwise starts without logging)."""
    import logging

    return logging.getLogger("lab.progress")


def new_learner_id() -> str:
    """A fresh learner id: 32 hex digits from the operating system's randomness. (Not uuid.uuid4, which the
    sandbox process replaces with moto's seeded generator so that resource ids replay the same.)"""
    import secrets

    return secrets.token_hex(16)


def default_learner() -> str:
    """$LAB_LEARNER, else $USER (or $USERNAME), else "learner"."""
    for name in (LEARNER_ENV, "USER", "USERNAME"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return "learner"


def _file_name(learner: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", learner).strip("._") or "learner"
    return f"{safe}.json"


@dataclass
class LabProgress:
    lab_id: str
    steps_done: list[str] = field(default_factory=list)  # passed at least once
    hints_revealed: dict[str, int] = field(default_factory=dict)  # step id -> hints shown
    attempts: int = 0
    last_percent: float | None = None
    passed: bool = False  # passed the lab's pass mark at least once
    last_passed: bool | None = None  # the latest check passed it (None: progress of an older lab)
    current_step: str | None = None

    def hints_for(self, step_id: str) -> int:
        return int(self.hints_revealed.get(step_id, 0))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabProgress:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Progress:
    learner: str
    labs: dict[str, LabProgress] = field(default_factory=dict)
    last_lab: str | None = None
    learner_id: str | None = None  # given on the first save, then kept

    def lab(self, lab_id: str) -> LabProgress:
        """The lab's progress (a fresh one for a lab never opened; not saved until something is recorded)."""
        return self.labs.get(lab_id) or LabProgress(lab_id)

    def to_dict(self) -> dict[str, Any]:
        return {"version": PROGRESS_VERSION, "learner": self.learner, "learner_id": self.learner_id,
                "last_lab": self.last_lab,
                "labs": {k: asdict(v) for k, v in sorted(self.labs.items())}}

    @classmethod
    def from_dict(cls, data: dict[str, Any], learner: str) -> Progress:
        if data.get("version") != PROGRESS_VERSION:
            raise ValueError(f"progress version {data.get('version')!r} is not {PROGRESS_VERSION}")
        labs = {lab_id: LabProgress.from_dict(entry) for lab_id, entry in (data.get("labs") or {}).items()}
        learner_id = data.get("learner_id")
        if learner_id is not None and not (isinstance(learner_id, str) and LEARNER_ID_PATTERN.fullmatch(learner_id)):
            _log().warning("the progress of %s holds %r, which is not a learner id; a new one is made", learner,
                           learner_id)
            learner_id = None
        return cls(learner=data.get("learner") or learner, labs=labs, last_lab=data.get("last_lab"),
                   learner_id=learner_id)


def progress_path(state_dir: Path, learner: str | None = None) -> Path:
    return Path(state_dir) / PROGRESS_DIR / _file_name(learner or default_learner())


def load(state_dir: Path, learner: str | None = None) -> Progress:
    """The learner's progress (empty when there is none yet). A damaged file is set aside with a warning."""
    learner = learner or default_learner()
    path = progress_path(state_dir, learner)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Progress(learner=learner)
    try:
        return Progress.from_dict(json.loads(text), learner)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
        with contextlib.suppress(OSError):
            path.replace(aside)
        _log().warning("the progress file %s could not be read (%s); it was moved to %s and progress starts again",
                       path, exc, aside)
        return Progress(learner=learner)


def save(state_dir: Path, progress: Progress) -> Path:
    """Write the progress atomically; a progress saved for the first time is given its learner id."""
    path = progress_path(state_dir, progress.learner)
    path.parent.mkdir(parents=True, exist_ok=True)
    if progress.learner_id is None:
        progress.learner_id = new_learner_id()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(progress.to_dict(), stream, indent=2, sort_keys=True)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def _locked(state_dir: Path, learner: str) -> Iterator[None]:
    path = progress_path(state_dir, learner)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        try:
            import fcntl
        except ImportError:  # no POSIX locks (Windows): writes are still atomic, only concurrency is lost
            yield
            return
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def learner_id(state_dir: Path, learner: str | None = None) -> str:
    """The learner's id in this state dir: made and saved (under the lock) the first time it is asked for,
    the same ever after. OSError when the state dir cannot be written and holds no id yet."""
    learner = learner or default_learner()
    with _locked(state_dir, learner):
        progress = load(state_dir, learner)
        if progress.learner_id is None:
            save(state_dir, progress)
    assert progress.learner_id is not None
    return progress.learner_id


def update(state_dir: Path, lab_id: str, change: Callable[[LabProgress], None],
           learner: str | None = None) -> LabProgress:
    """Read, change one lab's progress, write -- under the lock. Returns the lab's new progress."""
    learner = learner or default_learner()
    with _locked(state_dir, learner):
        progress = load(state_dir, learner)
        entry = progress.labs.get(lab_id) or LabProgress(lab_id)
        change(entry)
        progress.labs[lab_id] = entry
        progress.last_lab = lab_id
        save(state_dir, progress)
    return entry


def record_report(state_dir: Path, exercise: Any, report: Any, *, attempt: bool = True,
                  learner: str | None = None) -> LabProgress:
    """A lab's report (lab.grading.Report of `exercise`, the whole lab's: lab.app.scoring): steps passed become
    done, its score is the lab's latest; an attempt also counts."""
    return record_reports(state_dir, [(exercise, report)], attempt=attempt, learner=learner)[0]


def record_reports(state_dir: Path, checked: list[tuple[Any, Any]], *, attempt: bool = True,
                   learner: str | None = None) -> list[LabProgress]:
    """`record_report` of each (exercise, report), in that order, read and written once under the lock: a check
    of every lab writes (and fsyncs) the progress once, not once per lab."""
    for exercise, report in checked:
        if report.lab_id != exercise.id:
            raise ValueError(f"the report is of lab {report.lab_id}, not of {exercise.id}")
    return record_lab_reports(state_dir, [report for _, report in checked], attempt=attempt, learner=learner)


def record_lab_reports(state_dir: Path, reports: list[Any], *, attempt: bool = True,
                       learner: str | None = None) -> list[LabProgress]:
    """Each report's lab, its steps done and its score, in the learner's progress (`record_reports`, for
    reports whose labs are known by their lab_id alone: those the sandbox scored)."""
    if not reports:
        return []
    learner = learner or default_learner()
    entries: list[LabProgress] = []
    with _locked(state_dir, learner):
        progress = load(state_dir, learner)
        for report in reports:
            entry = progress.labs.get(report.lab_id) or LabProgress(report.lab_id)
            passing = [step.id for step in report.steps if step.passed]
            entry.steps_done = sorted(set(entry.steps_done) | set(passing))
            # Every check is the lab's latest standing (lab.app.scoring): the steps it shows and its score agree.
            entry.last_percent = round(report.percent, 2)
            entry.last_passed = bool(report.passed)
            entry.passed = entry.passed or bool(report.passed)
            if attempt:
                entry.attempts += 1
            progress.labs[report.lab_id] = entry
            progress.last_lab = report.lab_id
            entries.append(entry)
        save(state_dir, progress)
    return entries


def record_hint(state_dir: Path, lab_id: str, step_id: str, available: int, learner: str | None = None) -> LabProgress:
    """One more hint shown for the step, never more than the `available` hints."""

    def change(entry: LabProgress) -> None:
        entry.hints_revealed[step_id] = min(entry.hints_for(step_id) + 1, max(available, 0))

    return update(state_dir, lab_id, change, learner)


def record_current_step(state_dir: Path, lab_id: str, step_id: str, learner: str | None = None) -> LabProgress:
    def change(entry: LabProgress) -> None:
        entry.current_step = step_id

    return update(state_dir, lab_id, change, learner)


