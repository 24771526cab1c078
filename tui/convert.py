"""Turn the lab's answers (admin API bodies, exercises, grading reports, progress) into tui.data snapshots.

Pure functions: no I/O, so each is tested on its own with bodies shaped as the admin API sends them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from lab import config
from tui.data import (
    CheckOutcome,
    CheckRefView,
    ClockView,
    DrillSpecView,
    DrillView,
    EventBatch,
    EventView,
    FaultView,
    LabProgressView,
    LabReport,
    LabView,
    ParamSpec,
    RegionHealth,
    SandboxView,
    ScenarioView,
    StepResult,
    StepView,
    WorkloadView,
    frozen_mapping,
)

# -- the sandbox -------------------------------------------------------------------------------------------

def clock_view(body: Mapping[str, Any]) -> ClockView:
    return ClockView(str(body["now"]), float(body["epoch"]), float(body["speed"]), bool(body["paused"]))


def workload_view(body: Mapping[str, Any] | None) -> WorkloadView | None:
    if not body:
        return None
    return WorkloadView(bool(body.get("enabled")), float(body.get("orders_per_hour", 0)),
                        int(body.get("orders_total", 0)), int(body.get("failed_writes", 0)))


def _param_text(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(params.items()) if value not in (None, ""))


def injection_view(record: Mapping[str, Any]) -> FaultView:
    """An injection of GET /_lab/faults or POST /_lab/fail; its summary: the parameters not shown as its
    place, and when it ends."""
    params = record.get("params") or {}
    zone = params.get("az") if isinstance(params.get("az"), str) else None
    region = params.get("region") if isinstance(params.get("region"), str) else (zone[:-1] if zone else None)
    shown = {k: v for k, v in params.items() if k not in ("region", "az", "duration")}
    summary = _param_text(shown)
    ends = record.get("ends_at")
    if ends:
        summary = ", ".join(filter(None, [summary, f"until {str(ends)[11:19]}"]))
    if record.get("status") == "scheduled":
        summary = f"scheduled for {record.get('starts_at')}" + (f"; {summary}" if summary else "")
    return FaultView(id=str(record.get("id", "")), scenario=str(record.get("name", "")), summary=summary,
                     regions=(region,) if region and not zone else (), zones=(zone,) if zone else (),
                     started=str(record.get("started") or record.get("created") or ""))


def rule_view(rule: Mapping[str, Any]) -> FaultView:
    what = " ".join(filter(None, [rule.get("service"), ",".join(rule.get("operations") or [])])) or "every call"
    effect = f"{rule.get('code')}" if rule.get("fails", True) else f"+{rule.get('latency_ms')}ms"
    region = rule.get("region")
    return FaultView(id=str(rule.get("id", "")), scenario="fault rule",
                     summary=f"{what}: {effect} (p={rule.get('probability', 1)})",
                     regions=(region,) if region else ())


def active_faults(faults: Mapping[str, Any]) -> tuple[FaultView, ...]:
    """Active and scheduled injections, plus the lab's own rules (rules an injection owns go with it)."""
    found = [injection_view(i) for i in faults.get("injections") or () if i.get("status") in ("active", "scheduled")]
    found += [rule_view(rule) for rule in faults.get("rules") or () if rule.get("source") == "lab"]
    return tuple(found)


def region_health(faults: Mapping[str, Any], active: tuple[FaultView, ...],
                  regions: Iterable[str] = config.REGIONS) -> tuple[RegionHealth, ...]:
    down = set(faults.get("regions_down") or ())
    paused = list(faults.get("replication_paused") or ())
    databases = list(faults.get("databases_unavailable") or ())
    health = []
    for region in regions:
        reasons: list[str] = []
        for fault in active:
            if region in fault.regions or any(zone.startswith(region) for zone in fault.zones) or (
                    not fault.regions and not fault.zones and fault.scenario != "fault rule"):
                reasons.append(f"{fault.scenario}" + (f" ({', '.join(fault.zones)})" if fault.zones else ""))
            elif fault.scenario == "fault rule" and not fault.regions:
                reasons.append(f"fault rule: {fault.summary}")
        reasons += [f"{name.split(':', 1)[1]} unavailable" for name in databases if name.startswith(f"{region}:")]
        if paused:
            reasons.append(f"replication paused ({', '.join(paused)})")
        state = "outage" if region in down else "degraded" if reasons else "healthy"
        health.append(RegionHealth(region, state, tuple(dict.fromkeys(reasons))))
    return tuple(health)


def sandbox_view(status: Mapping[str, Any], faults: Mapping[str, Any], endpoint: str) -> SandboxView:
    active = active_faults(faults)
    engines = status.get("engines") or {}
    return SandboxView(
        state="running", endpoint=str(status.get("endpoint") or endpoint), backend=str(status.get("backend", "")),
        pid=status.get("pid"), state_dir=str(status.get("state_dir", "")),
        clock=clock_view(status["clock"]) if status.get("clock") else None,
        workload=workload_view(engines.get("workload")),
        regions=region_health(faults, active, status.get("regions") or config.REGIONS), faults=active,
        storage_warning=str((status.get("storage") or {}).get("disk_full_message") or ""))


# -- labs ----------------------------------------------------------------------------------------------------

def _refs(refs: Iterable[Any]) -> tuple[CheckRefView, ...]:
    return tuple(CheckRefView(ref.id, float(ref.weight), frozen_mapping(dict(ref.params))) for ref in refs)


def drill_spec_view(drill: Any) -> DrillSpecView:
    """A lab.exercises.DrillSpec with its briefing and follow-up scenarios."""
    return DrillSpecView(drill.scenario, frozen_mapping(dict(drill.params)), str(drill.briefing_md or ""),
                         int(drill.after_seconds or 0), tuple(drill_spec_view(then) for then in drill.then))


def lab_view(exercise: Any) -> LabView:
    drill = exercise.drill
    return LabView(
        id=exercise.id, title=exercise.title, objectives=tuple(exercise.objectives),
        estimated_minutes=int(exercise.estimated_minutes),
        steps=tuple(StepView(step.id, step.title, step.instructions_md, tuple(step.hints), _refs(step.checks))
                    for step in exercise.steps),
        drill=drill_spec_view(drill) if drill else None,
        recovery_checks=_refs(exercise.recovery_checks),
        rto_target_seconds=int(exercise.targets.rto_seconds), rpo_target_seconds=int(exercise.targets.rpo_seconds),
        pass_mark=float(exercise.pass_mark),
        recovery_instructions_md=str(exercise.recovery_instructions_md or ""),
        recovery_hints=tuple(exercise.recovery_hints))


def progress_view(progress: Any, exercise: Any) -> LabProgressView:
    """The learner's progress in one lab (lab.progress.Progress; a lab never opened has an empty record): its
    latest score, passed when that check passed (lab.app.scoring, as `lab exercises` says)."""
    from lab.app.scoring import standing

    record = progress.lab(exercise.id)
    return LabProgressView(
        lab_id=exercise.id, steps_done=frozenset(record.steps_done),
        hints_revealed=frozen_mapping({k: int(v) for k, v in record.hints_revealed.items()}),
        attempts=int(record.attempts), last_percent=record.last_percent, passed=standing(record).passed,
        current_step=record.current_step)


def result_view(result: Any) -> CheckOutcome:
    """One resource's verdict (a checks.base.CheckResult)."""
    return CheckOutcome(
        check_id=result.check_id, resource_id=str(result.resource_id or ""),
        resource_type=str(result.resource_type or ""), region=str(result.region or ""), status=result.status,
        score=float(result.score), max_score=float(result.max_score),
        evidence=frozen_mapping(dict(result.evidence or {})), message=str(result.message or ""),
        hint=str(result.hint or ""), reason=str(result.reason or ""))


def outcome_views(outcome: Any) -> tuple[CheckOutcome, ...]:
    """A check of a step (lab.grading.CheckOutcome): one row per resource it judged, or one for the check
    when it judged none."""
    if outcome.results:
        return tuple(result_view(result) for result in outcome.results)
    return (CheckOutcome(outcome.check_id, "", "", "", outcome.status, float(outcome.score),
                         float(outcome.max_score), frozen_mapping({}), str(outcome.message or ""),
                         str(outcome.hint or "")),)


def report_view(exercise: Any, report: Any) -> LabReport:
    """A lab.grading.Report as the checks panel shows it. The recovery checks come as a step with id ""."""
    from lab.grading import RECOVER_STEP_ID

    steps = []
    for step in report.steps:
        recovery = step.phase == "recover" or step.id == RECOVER_STEP_ID
        outcomes = tuple(view for outcome in step.checks for view in outcome_views(outcome))
        steps.append(StepResult("" if recovery else step.id, step.title, bool(step.passed), float(step.score),
                                float(step.max_score), outcomes))
    return LabReport(exercise.id, report.phase, str(report.checked_at or ""), float(report.score),
                     float(report.max_score), float(report.percent), bool(report.passed), tuple(steps))


# -- events, scenarios, drills -------------------------------------------------------------------------------

def made_by_lab(event: Mapping[str, Any]) -> bool:
    """Is this API call one the lab made in-process? The audit gives those the source "AWS Internal", or
    the service principal of the engine acting (backup.amazonaws.com...), as CloudTrail does for AWS's
    own calls; a call over the network, the learner's, has the caller's IP address."""
    if event.get("kind") != "api":
        return False
    source = (event.get("detail") or {}).get("sourceIPAddress")
    if not isinstance(source, str) or not source:
        return False
    try:
        ipaddress.ip_address(source)
    except ValueError:
        return True
    return False


def event_batch(body: Mapping[str, Any]) -> EventBatch:
    events = tuple(EventView(int(e["seq"]), float(e["time"]), str(e["kind"]), str(e["source"]), str(e["name"]),
                             e.get("region"), e.get("resource"), frozen_mapping(e.get("detail") or {}),
                             made_by_lab(e))
                   for e in body.get("events") or ())
    return EventBatch(events, int(body.get("last_seq", events[-1].seq if events else 0)))


SCENARIO_PARAM_TYPES = {"str": "string", "int": "integer", "bool": "boolean"}


def scenario_views(body: Mapping[str, Any]) -> tuple[ScenarioView, ...]:
    views = []
    for scenario in body.get("scenarios") or ():
        params = []
        for param in scenario.get("parameters") or ():
            kind = str(param.get("type", "str"))
            choices = tuple(param.get("choices") or (config.REGIONS if kind == "region" else ()))
            params.append(ParamSpec(str(param["name"]), SCENARIO_PARAM_TYPES.get(kind, kind), param.get("default"),
                                    str(param.get("help") or param.get("description") or ""), choices,
                                    bool(param.get("required", False))))
        title = scenario.get("title") or ""
        description = str(scenario.get("description") or "")
        views.append(ScenarioView(str(scenario["name"]), f"{title}: {description}" if title else description,
                                  tuple(params)))
    return tuple(views)


def drill_view(drill: Mapping[str, Any], exercise: Any | None) -> DrillView:
    rpo = drill.get("rpo") or {}
    targets = drill.get("targets") or {}
    if not targets and exercise is not None:
        targets = {"rto_seconds": exercise.targets.rto_seconds, "rpo_seconds": exercise.targets.rpo_seconds}
    return DrillView(
        id=str(drill.get("id", "")), lab=str(drill.get("lab", "")), scenario=str(drill.get("scenario", "")),
        status=str(drill.get("status", "running")), incident_time=str(drill.get("incident_time", "")),
        recovered_time=drill.get("recovered_time"), rto_seconds=_number(drill.get("rto_seconds")),
        rpo_count=rpo.get("count"), rpo_span_seconds=_number(rpo.get("span_seconds")),
        rpo_per_store=frozen_mapping(rpo.get("per_store") or {}),
        rto_target_seconds=targets.get("rto_seconds"), rpo_target_seconds=targets.get("rpo_seconds"),
        compliance=drill.get("compliance"))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
