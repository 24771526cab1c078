"""Grading: a lab's checks run over an inventory, scored by weight, and written for people and machines.

- `evaluate(exercise, inventory, phase)` -> Report: per step, per check reference (its weight, its results,
  partial credit = the share of its resources that pass), the score, percent and pass/fail against the
  lab's pass mark. A pure function of its inputs.
- `evaluate_recovery(exercise, inventory, drill)` -> RecoveryEvaluation: whether the data is back (the
  lab's "data" recovery checks all pass) and, per store, the order ids still missing -- what the drills
  engine turns into RPO and RTO.
- Reports as versioned JSON, JUnit XML (one testcase per check) and Markdown.
- Class grading: every learner's export (lab export) regraded from its inventory -- the verdicts inside an
  export are never read -- into one CSV row per learner with a column per check. Nothing in an export is
  trusted to decide a row: see `grade_class`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.base import ERROR, FAIL, NOT_APPLICABLE, PASS, CheckParamError, CheckResult, aggregate_status

REPORT_VERSION = "1.0"
EXPORT_VERSION = "1.1"  # 1.1: metadata.learner_id
PHASES = ("configure", "recover", "all")
RECOVER_STEP_ID = "recover"
_EPSILON = 1e-9


# -- the report ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckOutcome:
    """One check reference of a step: its verdict over every resource it judged."""

    check_id: str
    title: str
    weight: float
    params: dict[str, Any]
    status: str
    score: float  # weight x the share of its resources that pass
    max_score: float  # = weight
    results: tuple[CheckResult, ...]
    message: str  # the first result that needs attention (or the first pass), for one-line displays
    hint: str

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "title": self.title, "weight": self.weight, "params": self.params,
                "status": self.status, "score": round(self.score, 4), "max_score": self.max_score,
                "message": self.message, "hint": self.hint, "results": [r.to_dict() for r in self.results]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckOutcome:
        return cls(check_id=data["check_id"], title=data["title"], weight=data["weight"], params=data["params"],
                   status=data["status"], score=data["score"], max_score=data["max_score"],
                   results=tuple(CheckResult.from_dict(r) for r in data["results"]), message=data["message"],
                   hint=data["hint"])


@dataclass(frozen=True)
class StepReport:
    id: str
    title: str
    phase: str  # "configure" | "recover"
    passed: bool
    score: float
    max_score: float
    checks: tuple[CheckOutcome, ...]

    @property
    def results(self) -> list[CheckResult]:
        """Every per-resource result of the step's checks, in order."""
        return [result for check in self.checks for result in check.results]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "phase": self.phase, "passed": self.passed,
                "score": round(self.score, 4), "max_score": self.max_score,
                "checks": [check.to_dict() for check in self.checks]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepReport:
        return cls(id=data["id"], title=data["title"], phase=data["phase"], passed=data["passed"],
                   score=data["score"], max_score=data["max_score"],
                   checks=tuple(CheckOutcome.from_dict(c) for c in data["checks"]))


@dataclass(frozen=True)
class Report:
    lab_id: str
    lab_title: str
    phase: str
    checked_at: str | None  # the sim time of the inventory
    score: float
    max_score: float
    percent: float
    pass_mark: float
    passed: bool
    steps: tuple[StepReport, ...]
    drill: dict[str, Any] | None = None  # the lab's latest drill (RPO/RTO), when there is one
    report_version: str = REPORT_VERSION

    @property
    def status(self) -> str:
        """ERROR when a check could not judge, else PASS when the lab passes its pass mark, else FAIL: the same
        verdict as `passed` (lab.app.scoring)."""
        statuses = [check.status for step in self.steps for check in step.checks]
        if any(status == ERROR for status in statuses):
            return ERROR
        return PASS if self.passed else FAIL

    @property
    def complete(self) -> bool:
        """Every check passes (more than the pass mark asks)."""
        statuses = [check.status for step in self.steps for check in step.checks]
        return bool(statuses) and all(status == PASS for status in statuses)

    def outcomes(self) -> list[CheckOutcome]:
        return [check for step in self.steps for check in step.checks]

    def to_dict(self) -> dict[str, Any]:
        return {"report_version": self.report_version, "lab_id": self.lab_id, "lab_title": self.lab_title,
                "phase": self.phase, "checked_at": self.checked_at, "status": self.status, "complete": self.complete,
                "score": round(self.score, 4), "max_score": self.max_score, "percent": round(self.percent, 2),
                "pass_mark": self.pass_mark, "passed": self.passed, "drill": self.drill,
                "steps": [step.to_dict() for step in self.steps]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        if str(data.get("report_version", "")).split(".")[0] != REPORT_VERSION.split(".")[0]:
            raise ValueError(f"report version {data.get('report_version')!r} is not {REPORT_VERSION}")
        return cls(lab_id=data["lab_id"], lab_title=data["lab_title"], phase=data["phase"],
                   checked_at=data["checked_at"], score=data["score"], max_score=data["max_score"],
                   percent=data["percent"], pass_mark=data["pass_mark"], passed=data["passed"],
                   steps=tuple(StepReport.from_dict(s) for s in data["steps"]), drill=data.get("drill"),
                   report_version=data["report_version"])


@dataclass(frozen=True)
class RecoveryEvaluation:
    passed: bool
    results: list[CheckResult]
    lost: dict[str, list[str]] = field(default_factory=dict)


# -- running checks --------------------------------------------------------------------------------------

def _params_for(spec: Any, ref: Any, exercise: Any, drill_id: str | None) -> dict[str, Any]:
    """The reference's parameters, with the lab (and the drill being measured) filled in for recovery checks."""
    params = dict(ref.params or {})
    names = set(spec.param_names)
    if "lab" in names and "lab" not in params:
        params["lab"] = exercise.id
    if drill_id and "drillId" in names and "drillId" not in params:
        params["drillId"] = drill_id
    return params


def as_view(inventory: Any) -> Any:
    """One InventoryView per inventory (the typed models, or a decoded export of any readable schema), so that
    every check of a grading shares its indexes."""
    from checks.view import InventoryView

    return inventory if isinstance(inventory, InventoryView) else InventoryView(inventory)


def run_reference(ref: Any, exercise: Any, inventory: Any, drill_id: str | None = None, *,
                  messages: bool = True) -> CheckOutcome:
    """One check reference over the inventory (a dict or an InventoryView): never raises; a bad reference is
    an ERROR outcome. messages=False skips writing messages and hints (scores only)."""
    from checks import registry

    weight = float(ref.weight)
    try:
        spec = registry.get(ref.id)
    except KeyError as exc:
        return _error_outcome(ref, weight, "unknown_check", str(exc.args[0]),
                              "Fix the check id in the exercise file (lab validate shows it).")
    params = _params_for(spec, ref, exercise, drill_id)
    try:
        results = tuple(spec.run(as_view(inventory), params, messages=messages))
    except CheckParamError as exc:
        return _error_outcome(ref, weight, "bad_params", str(exc), "Fix the check's parameters in the exercise "
                              "file (lab validate shows every problem).", title=spec.title)
    return outcome_of(spec.id, spec.title, weight, params, results)


def outcome_of(check_id: str, title: str, weight: float, params: dict[str, Any],
               results: tuple[CheckResult, ...]) -> CheckOutcome:
    judged = [r for r in results if r.status != NOT_APPLICABLE]
    status = aggregate_status(r.status for r in results) if results else NOT_APPLICABLE
    total = sum(r.max_score for r in judged)
    fraction = (sum(r.score for r in judged) / total) if total > 0 else 0.0
    focus = next((r for r in results if r.status in (ERROR, FAIL)), None) or next(
        (r for r in results if r.status == PASS), None) or (results[0] if results else None)
    return CheckOutcome(check_id=check_id, title=title, weight=weight, params=params, status=status,
                        score=weight * fraction, max_score=weight, results=results,
                        message=focus.message if focus else "The check found nothing to judge.",
                        hint=focus.hint if focus else "")


def _not_drilled(ref: Any, exercise: Any, messages: bool) -> CheckOutcome:
    """A recovery check of a lab that has had no drill: nothing to recover yet, so it scores nothing -- what
    the check itself answers, without reading the data its verdict on a drill would need."""
    from checks import registry

    try:
        spec = registry.get(ref.id)
    except KeyError:
        return run_reference(ref, exercise, {})
    params = _params_for(spec, ref, exercise, None)
    message = hint = ""
    if messages:
        message, hint = spec.message_for("no_drill", {**params, "resource": exercise.id, "region": "",
                                                      "lab_note": f" for lab {exercise.id}"})
    result = CheckResult(check_id=spec.id, resource_id=exercise.id, resource_type=spec.resource_type, region="",
                         status=NOT_APPLICABLE, score=0.0, max_score=1.0, evidence={"lab_note": f" for lab "
                                                                                   f"{exercise.id}"},
                         reason="no_drill", message=message, hint=hint)
    return outcome_of(spec.id, spec.title, float(ref.weight), params, (result,))


def _error_outcome(ref: Any, weight: float, reason: str, message: str, hint: str, title: str = "") -> CheckOutcome:
    result = CheckResult(check_id=ref.id, resource_id="exercise", resource_type="Lab::Exercise", region="",
                         status=ERROR, score=0.0, max_score=1.0, evidence={}, reason=reason, message=message,
                         hint=hint)
    return CheckOutcome(check_id=ref.id, title=title or ref.id, weight=weight, params=dict(ref.params or {}),
                        status=ERROR, score=0.0, max_score=weight, results=(result,), message=message, hint=hint)


def _plain(model: Any) -> Any:
    """A model of the inventory as JSON-shaped values (what a report carries)."""
    from checks.inventory import to_builtins

    return to_builtins(model) if model is not None else None


def _step_report(step_id: str, title: str, phase: str, checks: list[CheckOutcome]) -> StepReport:
    return StepReport(id=step_id, title=title, phase=phase,
                      passed=bool(checks) and all(c.status == PASS for c in checks),
                      score=sum(c.score for c in checks), max_score=sum(c.max_score for c in checks),
                      checks=tuple(checks))


def evaluate(exercise: Any, inventory: Any, *, phase: str = "all", messages: bool = True) -> Report:
    """The lab's checks over the inventory (a dict or an InventoryView). phase: configure (the steps),
    recover (the recovery checks of the lab's latest drill), or all. messages=False: scores only."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; one of {', '.join(PHASES)}")
    inventory = as_view(inventory)
    steps: list[StepReport] = []
    if phase in ("configure", "all"):
        for step in exercise.steps:
            steps.append(_step_report(step.id, step.title, "configure",
                                      [run_reference(ref, exercise, inventory, messages=messages)
                                       for ref in step.checks]))
    if phase in ("recover", "all") and exercise.recovery_checks:
        drilled = inventory.drill(lab=exercise.id) is not None
        steps.append(_step_report(RECOVER_STEP_ID, "Recover from the drill", "recover",
                                  [run_reference(ref, exercise, inventory, messages=messages) if drilled
                                   else _not_drilled(ref, exercise, messages) for ref in exercise.recovery_checks]))
    score = sum(step.score for step in steps)
    max_score = sum(step.max_score for step in steps)
    share = score / max_score if max_score > 0 else 0.0
    return Report(lab_id=exercise.id, lab_title=exercise.title, phase=phase,
                  checked_at=inventory.collected_at, score=score, max_score=max_score,
                  percent=100.0 * share, pass_mark=float(exercise.pass_mark),
                  passed=max_score > 0 and share + _EPSILON >= float(exercise.pass_mark),
                  steps=tuple(steps), drill=_plain(inventory.drill(lab=exercise.id)))


def evaluate_recovery(exercise: Any, inventory: Any, drill: Mapping[str, Any]) -> RecoveryEvaluation:
    """Is the data back after `drill`? Runs the lab's recovery checks against this drill; `passed` when every
    check about the data passes (the RPO/RTO checks, which read the drill's own record, do not decide it).
    `lost` maps each store (orders, items, invoices) to the order ids the checks found missing."""
    import msgspec

    from checks import registry
    from checks.inventory.lab import Drill

    drill = dict(drill)
    judged = as_view(inventory).inventory
    others = [d for d in judged.drills if d.id != drill.get("id")]
    seen = as_view(msgspec.structs.replace(judged, drills=[*others, msgspec.convert(drill, Drill)]))
    results: list[CheckResult] = []
    lost: dict[str, set[str]] = {}
    data_statuses: list[str] = []
    for ref in exercise.recovery_checks:
        outcome = run_reference(ref, exercise, seen, drill_id=str(drill.get("id") or ""))
        results.extend(outcome.results)
        spec = registry.CHECKS.get(ref.id)
        kind = spec.kind if spec is not None else "data"
        if kind != "drill":
            data_statuses.append(outcome.status)
        if spec is not None and spec.store:
            for result in outcome.results:
                missing = result.evidence.get("missing_order_ids")
                if isinstance(missing, list):
                    lost.setdefault(spec.store, set()).update(str(order_id) for order_id in missing)
                else:
                    lost.setdefault(spec.store, set())
    passed = bool(data_statuses) and all(status == PASS for status in data_statuses)
    return RecoveryEvaluation(passed=passed, results=results,
                              lost={store: sorted(ids) for store, ids in sorted(lost.items())})


# -- writing reports -------------------------------------------------------------------------------------

def junit_xml(reports: Iterable[Report], suite_name: str = "securecart-dr-lab") -> str:
    """JUnit XML: a testsuite per lab, a testcase per check (FAIL -> failure, ERROR -> error,
    NOT_APPLICABLE -> skipped), the score as properties."""
    from xml.etree import ElementTree  # (what `lab check` does not need is loaded when it is used)

    root = ElementTree.Element("testsuites", name=suite_name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in reports:
        suite = ElementTree.SubElement(root, "testsuite", name=report.lab_id, timestamp=report.checked_at or "")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        properties = ElementTree.SubElement(suite, "properties")
        for name, value in (("score", f"{report.score:.4g}"), ("max_score", f"{report.max_score:g}"),
                            ("percent", f"{report.percent:.1f}"), ("pass_mark", f"{report.pass_mark:g}"),
                            ("passed", str(report.passed).lower()), ("phase", report.phase)):
            ElementTree.SubElement(properties, "property", name=name, value=value)
        for step in report.steps:
            for outcome in step.checks:
                counts["tests"] += 1
                case = ElementTree.SubElement(suite, "testcase", classname=f"{report.lab_id}.{step.id}",
                                              name=outcome.check_id, time="0")
                case_properties = ElementTree.SubElement(case, "properties")
                ElementTree.SubElement(case_properties, "property", name="score", value=f"{outcome.score:.4g}")
                ElementTree.SubElement(case_properties, "property", name="weight", value=f"{outcome.weight:g}")
                detail = "\n".join(f"[{r.status}] {r.resource_id}: {r.message}"
                                   + (f"\n  hint: {r.hint}" if r.hint and r.status != PASS else "")
                                   for r in outcome.results)
                if outcome.status == FAIL:
                    counts["failures"] += 1
                    ElementTree.SubElement(case, "failure", message=outcome.message, type="CheckFailed").text = detail
                elif outcome.status == ERROR:
                    counts["errors"] += 1
                    ElementTree.SubElement(case, "error", message=outcome.message, type="CheckError").text = detail
                elif outcome.status == NOT_APPLICABLE:
                    counts["skipped"] += 1
                    ElementTree.SubElement(case, "skipped", message=outcome.message)
                ElementTree.SubElement(case, "system-out").text = detail
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


_STATUS_MARK = {PASS: "PASS", FAIL: "FAIL", ERROR: "ERROR", NOT_APPLICABLE: "N/A"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: Report) -> str:
    lines = [f"# {report.lab_id}: {report.lab_title}", "",
             f"**{'Passed' if report.passed else 'Not passed'}** -- score {report.score:.2f} / {report.max_score:g} "
             f"({report.percent:.1f}%, pass mark {report.pass_mark * 100:.0f}%), phase {report.phase}, "
             f"checked at {report.checked_at} (sim time).", ""]
    if report.drill:
        drill = report.drill
        rpo = drill.get("rpo") or {}
        rto = f"{drill['rto_seconds']} s" if drill.get("rto_seconds") is not None else "not recovered yet"
        lines += [f"Drill {drill.get('id')} ({drill.get('scenario')}, {drill.get('status')}): incident at "
                  f"{drill.get('incident_time')}, RTO {rto}, RPO {rpo.get('span_seconds', 0)} s "
                  f"({rpo.get('count', 0)} orders lost), {drill.get('compliance') or 'being measured'}.", ""]
    for step in report.steps:
        lines += [f"## {step.title} ({'done' if step.passed else 'to do'}, {step.score:.2f} / {step.max_score:g})", "",
                  "| check | status | score | what it saw | what to do next |", "|---|---|---|---|---|"]
        for outcome in step.checks:
            lines.append(f"| `{outcome.check_id}` | {_STATUS_MARK[outcome.status]} | {outcome.score:.2f} / "
                         f"{outcome.weight:g} | {_cell(outcome.message)} | "
                         f"{_cell(outcome.hint if outcome.status != PASS else '')} |")
        lines.append("")
    return "\n".join(lines)


def write_reports(reports: list[Report], directory: Path) -> list[Path]:
    """report.json, report.xml (JUnit) and report.md in `directory` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    body = {"report_version": REPORT_VERSION, "reports": [r.to_dict() for r in reports]}
    for name, text in (("report.json", json.dumps(body, indent=2, sort_keys=True, default=str)),
                       ("report.xml", junit_xml(reports)),
                       ("report.md", "\n".join(markdown(r) for r in reports))):
        path = directory / name
        write_text_atomically(path, text)
        written.append(path)
    return written


def write_text_atomically(path: Path, text: str) -> None:
    import tempfile

    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# -- exports and class grading ---------------------------------------------------------------------------

MAX_EXPORT_BYTES = 256 << 20  # a year-long world exports about 180 MB; anything larger is not one
MAX_LEARNER_NAME = 200
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP, CSV injection: what makes a cell a formula
LISTED = 5  # files named in one flag before "and N more"


class ExportError(ValueError):
    """An export file that cannot be graded; the message says which and why."""


def make_export(*, inventory: Any, events: list[dict[str, Any]], reports: list[Report],
                learner: str, lab_version: str, exported_wall: str, learner_id: str | None = None) -> dict[str, Any]:
    """An export of `inventory` (checks.inventory's models) with its events and reports, as JSON-shaped values.
    `learner_id` (lab.progress.learner_id) identifies the learner in class grading; without one the export is
    identified by its file name, as the exports of older labs are."""
    document = _plain(inventory)
    metadata = {"learner": learner, "lab_version": lab_version, "exported_at": document.get("collected_at"),
                "exported_wall": exported_wall, "schema_version": document.get("schema_version")}
    if learner_id is not None:
        metadata["learner_id"] = learner_id
    return {"export_version": EXPORT_VERSION, "metadata": metadata,
            "inventory": document, "events": events, "drills": list(document.get("drills") or ()),
            "reports": {report.lab_id: report.to_dict() for report in reports}}


def read_export(path: Path, max_bytes: int = MAX_EXPORT_BYTES) -> dict[str, Any]:
    """An export file, checked for what grading needs (never its reports). ExportError names the problem:
    among others a path that is not a regular file (a FIFO would hang the reader, /dev/zero never ends) or
    a file larger than `max_bytes`, which is not read at all."""
    import orjson

    from checks.inventory import READABLE_VERSIONS, SchemaError, load
    from lab.progress import LEARNER_ID_PATTERN
    from lab.safety import RefusedFileError, read_regular_file

    try:
        data = orjson.loads(read_regular_file(path, max_bytes))
    except RefusedFileError as exc:
        why = "skipped unread (lab grade --max-export-mb raises the limit)" if exc.too_large else \
            "an export is a plain file"
        raise ExportError(f"{path}: {exc}; {why}") from exc
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except orjson.JSONDecodeError as exc:
        raise ExportError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ExportError(f"{path}: not a lab export (a JSON object with export_version, metadata, inventory)")
    if str(data.get("export_version", "")).split(".")[0] != EXPORT_VERSION.split(".")[0]:
        raise ExportError(f"{path}: export_version {data.get('export_version')!r} is not {EXPORT_VERSION} "
                          "(write it again with this lab's `lab export`)")
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        raise ExportError(f"{path}: metadata.learner is missing; export with `lab export FILE --learner NAME`")
    learner = metadata.get("learner")
    if not isinstance(learner, str) or not learner.strip():
        raise ExportError(f"{path}: metadata.learner is missing; export with `lab export FILE --learner NAME`")
    if len(learner) > MAX_LEARNER_NAME:
        raise ExportError(f"{path}: metadata.learner is {len(learner):,} characters long; a name has at most "
                          f"{MAX_LEARNER_NAME}")
    learner_id = metadata.get("learner_id")
    if learner_id is not None and not (isinstance(learner_id, str) and LEARNER_ID_PATTERN.fullmatch(learner_id)):
        raise ExportError(f"{path}: metadata.learner_id {_shorten(repr(learner_id))} is not a learner id "
                          "(lab export writes 32 hex digits)")
    inventory = data.get("inventory")
    if not isinstance(inventory, dict) or not isinstance(inventory.get("regions"), dict):
        raise ExportError(f"{path}: it holds no inventory")
    version = str(inventory.get("schema_version", ""))
    if version.split(".")[0] not in {known.split(".")[0] for known in READABLE_VERSIONS}:
        raise ExportError(f"{path}: inventory schema {_shorten(repr(version))} is not one of "
                          f"{', '.join(READABLE_VERSIONS)}")
    try:
        data["inventory"] = load(inventory)  # (schema 1.0 migrated: an old export is graded as it was)
    except SchemaError as exc:
        raise ExportError(f"{path}: {exc}") from exc
    return data


def evidence_digest(inventory: Any) -> str:
    """SHA-256 of the inventory -- the evidence a row is graded on -- in a canonical form (its typed model as
    plain values, sorted keys, no spaces), so that a copy re-saved with other spacing or key order, or in the
    older schema, has the same digest."""
    import orjson

    document = inventory if isinstance(inventory, Mapping) else _plain(inventory)
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def spreadsheet_safe(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text: one starting with =, +, -, @, a tab or a carriage return
    would be run as a formula (OWASP, CSV injection), so it is prefixed with a single quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass
class ClassGrades:
    """The class's rows (one per graded export), the files skipped (`problems`), and what grading had to
    say about the exports it graded (`notes`: exports identified by file name, identical copies). A row's
    `flags` say why it needs an instructor's look: conflicts and duplicated evidence are flagged, never
    settled by picking one of the files."""

    labs: list[str]
    columns: list[tuple[str, str, str, float]]  # (lab, step, check id, weight), in lab/step order
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files skipped, by name, with the reason
    notes: list[str] = field(default_factory=list)

    @property
    def learners(self) -> int:
        """How many learners the rows are of (a learner id, or an export without one)."""
        return len({_identity(row) for row in self.rows})

    @property
    def flagged(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["flags"]]

    def to_csv(self) -> str:
        out = io.StringIO()
        # Every cell quoted (OWASP's advice too): a carriage return inside a name would otherwise end the row.
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        header = ["learner", "learner_id", "file", "exported_at", "evidence_sha256", "flags"]
        header += [f"{lab}/{step}/{check}" for lab, step, check, _ in self.columns]
        for lab in self.labs:
            header += [f"{lab} score", f"{lab} max", f"{lab} percent", f"{lab} passed"]
        header += ["total score", "total max", "total percent", "labs passed", "passed"]
        writer.writerow([spreadsheet_safe(cell) for cell in header])
        for row in self.rows:
            line = [spreadsheet_safe(row[name]) for name in ("learner", "learner_id", "file", "exported_at",
                                                              "evidence")]
            line.append(spreadsheet_safe("; ".join(row["flags"])))
            line += [_number(row["checks"].get(key)) for key in _column_keys(self.columns)]
            for lab in self.labs:
                entry = row["labs"][lab]
                line += [_number(entry["score"]), _number(entry["max_score"]), _number(entry["percent"]),
                         "yes" if entry["passed"] else "no"]
            line += [_number(row["score"]), _number(row["max_score"]), _number(row["percent"]), row["labs_passed"],
                     "yes" if row["passed"] else "no"]
            writer.writerow(line)
        return out.getvalue()


def _column_keys(columns: list[tuple[str, str, str, float]]) -> list[str]:
    return [f"{lab}/{step}/{check}" for lab, step, check, _ in columns]


def _number(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return f"{number:.2f}".rstrip("0").rstrip(".") if math.isfinite(number) else ""


def class_columns(exercises: list[Any]) -> list[tuple[str, str, str, float]]:
    """A column per check reference: (lab, step id, check id, weight); a check twice in a step gets #2."""
    columns: list[tuple[str, str, str, float]] = []
    for exercise in exercises:
        groups = [(step.id, step.checks) for step in exercise.steps]
        if exercise.recovery_checks:
            groups.append((RECOVER_STEP_ID, exercise.recovery_checks))
        for step_id, refs in groups:
            seen: dict[str, int] = {}
            for ref in refs:
                seen[ref.id] = seen.get(ref.id, 0) + 1
                name = ref.id if seen[ref.id] == 1 else f"{ref.id}#{seen[ref.id]}"
                columns.append((exercise.id, step_id, name, float(ref.weight)))
    return columns


Scorer = Callable[..., Report]  # (exercise, inventory, *, messages) -> the lab's report (lab.app.scoring)


def _score_all(exercise: Any, inventory: Any, *, messages: bool = True) -> Report:
    return evaluate(exercise, inventory, phase="all", messages=messages)


def grade_inventory(exercises: list[Any], inventory: Mapping[str, Any], *, messages: bool = False,
                    score: Scorer = _score_all) -> dict[str, Report]:
    """Every lab's report on one inventory, scored by `score` (the application's definition of a lab's score,
    lab.app.scoring.lab_report; by default the same: phase all); scores only unless messages are asked for."""
    view = as_view(inventory)  # one view (and its indexes) for every lab
    return {exercise.id: score(exercise, view, messages=messages) for exercise in exercises}


PARALLEL_FROM = 40  # exports: below this, starting worker processes costs more than it saves

_worker: dict[str, Any] = {}


def _start_worker(exercises: list[Any], pass_rule: str, max_bytes: int = MAX_EXPORT_BYTES,
                  score: Scorer = _score_all) -> None:
    _worker.update(exercises=exercises, pass_rule=pass_rule, max_bytes=max_bytes, score=score)


def _grade_file(path: Path) -> dict[str, Any] | str:
    """One export's row, or the reason it was skipped."""
    try:
        export = read_export(path, _worker["max_bytes"])
    except ExportError as exc:
        return str(exc)
    try:
        reports = grade_inventory(_worker["exercises"], export["inventory"], score=_worker["score"])
    except Exception as exc:  # noqa: BLE001 -- a malformed inventory skips its own file, never the class
        return f"{path}: its inventory could not be graded ({type(exc).__name__}: {_shorten(str(exc))})"
    metadata = export["metadata"]
    row = _row(metadata["learner"].strip(), path, export, reports, _worker["exercises"], _worker["pass_rule"])
    row.update(learner_id=metadata.get("learner_id"), evidence=evidence_digest(export["inventory"]))
    return row


def grade_class(directory: Path, exercises: list[Any], *,
                pass_rule: str = "all",  # noqa: S107 -- pass as in pass/fail, not a password
                workers: int | None = None, max_bytes: int = MAX_EXPORT_BYTES,
                score: Scorer = _score_all) -> ClassGrades:
    """Regrade every export (*.json) in `directory` into rows. pass_rule: "all" (every lab passed) or
    "average" (the total percent reaches the mean pass mark). A large class is graded by one process per
    CPU (`workers`, default: as many as there are CPUs).

    Files that cannot be graded are skipped with the reason: unreadable, not JSON, foreign, not a regular
    file (a FIFO, a link to a device, a folder), larger than `max_bytes`, an inventory the checks cannot read.
    The rest is never trusted to pick a winner -- names, dates and ids in a file are the learner's to write:
    - a learner is identified by the learner id inside the export (older exports, without one, by their
      file name, with a note that says so), and every row names the file it came from;
    - one learner id in several files with different content, or under several names, is a conflict: each
      file keeps its own row, all of them flagged; an identical copy (same name, same evidence) counts once;
    - the same evidence (`evidence_digest` of the inventory) under different learners is flagged on each;
    - one name used by different learners is flagged on each.
    """
    if not directory.is_dir():
        raise ExportError(f"{directory}: no such folder of exports")
    grades = ClassGrades(labs=[e.id for e in exercises], columns=class_columns(exercises))
    files = sorted(directory.glob("*.json"))
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if len(files) >= PARALLEL_FROM else 1
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, initializer=_start_worker,
                                 initargs=(exercises, pass_rule, max_bytes, score)) as pool:
            graded = list(pool.map(_grade_file, files, chunksize=max(1, len(files) // (workers * 4))))
    else:
        _start_worker(exercises, pass_rule, max_bytes, score)
        graded = [_grade_file(path) for path in files]
    rows: list[dict[str, Any]] = []
    for row in graded:
        if isinstance(row, str):
            grades.problems.append(row)
        else:
            row["flags"] = []
            rows.append(row)
    grades.rows = _settle_identities(rows, grades.notes)
    return grades


def _identity(row: Mapping[str, Any]) -> tuple[str, str]:
    """Who a row is of: its learner id, or (an export without one) its file."""
    return ("id", row["learner_id"]) if row.get("learner_id") else ("file", row["file"])


def _same_name(name: str) -> str:
    """A name as people would read it: case, spacing and look-alike forms (full-width letters...) aside."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _listing(rows: list[dict[str, Any]]) -> str:
    shown = ", ".join(f"{row['learner']!r} in {row['file']}" for row in rows[:LISTED])
    return shown + (f" and {len(rows) - LISTED} more" if len(rows) > LISTED else "")


def _settle_identities(rows: list[dict[str, Any]], notes: list[str]) -> list[dict[str, Any]]:
    """The rows to write, in name order, each flagged with what an instructor must look at (see grade_class)."""
    for row in rows:
        if row["learner_id"] is None:
            row["flags"].append("no learner id (an export of an older lab): identified by its file name")
            notes.append(f"{row['file']}: no learner id inside (written by an older `lab export`), so learner "
                         f"{row['learner']!r} is identified by the file name; an export from this lab carries one")
    by_identity: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_identity[_identity(row)].append(row)
    kept: list[dict[str, Any]] = []
    for (_, learner_id), claims in by_identity.items():
        distinct: dict[tuple[str, str], dict[str, Any]] = {}
        for row in claims:
            first = distinct.setdefault((row["evidence"], _same_name(row["learner"])), row)
            if first is not row:
                notes.append(f"{row['file']}: an identical copy of {first['file']} (learner {row['learner']!r}, "
                             "the same evidence); graded once")
        versions = list(distinct.values())
        kept += versions
        if len(versions) < 2:
            continue
        names = {_same_name(row["learner"]) for row in versions}
        evidence = {row["evidence"] for row in versions}
        for row in versions:
            others = [other for other in versions if other is not row]
            if len(names) > 1:
                row["flags"].append(f"conflict: learner id {learner_id} is also claimed under another name by "
                                    f"{_listing(others)}")
            if len(evidence) > 1:
                row["flags"].append(f"conflict: learner id {learner_id} is also claimed, with different evidence, "
                                    f"by {_listing(others)}; each file has its own row, none was chosen")
    for key, label in ((lambda row: row["evidence"], "duplicated evidence: the same inventory as"),
                       (lambda row: _same_name(row["learner"]), "the same name as another learner:")):
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in kept:
            groups[key(row)].append(row)
        for group in groups.values():
            for row in group:
                others = [other for other in group if _identity(other) != _identity(row)]
                if others:
                    row["flags"].append(f"{label} {_listing(others)}")
    return sorted(kept, key=lambda row: (_same_name(row["learner"]), row["learner_id"] or "", row["file"]))


def _row(learner: str, path: Path, export: Mapping[str, Any], reports: dict[str, Report], exercises: list[Any],
         pass_rule: str) -> dict[str, Any]:
    checks: dict[str, float] = {}
    labs: dict[str, dict[str, Any]] = {}
    for exercise in exercises:
        report = reports[exercise.id]
        for step in report.steps:
            seen: dict[str, int] = {}
            for outcome in step.checks:
                seen[outcome.check_id] = seen.get(outcome.check_id, 0) + 1
                count = seen[outcome.check_id]
                name = outcome.check_id if count == 1 else f"{outcome.check_id}#{count}"
                checks[f"{exercise.id}/{step.id}/{name}"] = outcome.score
        labs[exercise.id] = {"score": report.score, "max_score": report.max_score, "percent": report.percent,
                             "passed": report.passed}
    score = sum(entry["score"] for entry in labs.values())
    max_score = sum(entry["max_score"] for entry in labs.values())
    percent = 100.0 * score / max_score if max_score > 0 else 0.0
    passed_labs = sum(1 for entry in labs.values() if entry["passed"])
    if pass_rule == "average":  # noqa: S105 -- pass as in pass/fail, not a password
        mark = 100.0 * sum(float(e.pass_mark) for e in exercises) / len(exercises) if exercises else 100.0
        passed = percent + _EPSILON >= mark
    else:
        passed = bool(labs) and passed_labs == len(labs)
    return {"learner": learner, "file": path.name, "exported_at": (export.get("metadata") or {}).get("exported_at"),
            "checks": checks, "labs": labs, "score": score, "max_score": max_score, "percent": percent,
            "labs_passed": passed_labs, "passed": passed}
