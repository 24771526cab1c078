"""FIS experiments in sim time: initiating -> running -> completed | stopped | failed, actions ordered by
startAfter, each action acting for its duration through an injection that ending (or stopping) undoes."""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab.services.faults.effects import EffectError
from lab.services.faults.fis_actions import ACTIONS
from lab.services.faults.fis_targets import resolve
from lab.services.faults.model import FisAction, FisExperiment

if TYPE_CHECKING:
    from lab.services.faults.engine import Faults

log = logging.getLogger("lab.faults")
INITIATING_SECONDS = 5.0  # FIS resolves targets and prepares for a few seconds before running
ALARM_CHECK_SECONDS = 60.0  # how often a running experiment looks at its CloudWatch alarm stop conditions
TERMINAL = ("completed", "stopped", "failed", "cancelled")
ACTION_TERMINAL = ("completed", "cancelled", "stopped", "failed", "skipped")


def start(engine: Faults, template: dict[str, Any], experiment_id: str, region: str, tags: dict[str, str],
          actions_mode: str) -> FisExperiment:
    now = engine.now()
    actions = {
        name: FisAction(name=name, action_id=spec["actionId"], description=spec.get("description"),
                        parameters=dict(spec.get("parameters") or {}), targets=dict(spec.get("targets") or {}),
                        start_after=list(spec.get("startAfter") or []))
        for name, spec in template["actions"].items()
    }
    options = dict(template.get("experimentOptions") or {})
    options.setdefault("accountTargeting", "single-account")
    options.setdefault("emptyTargetResolutionMode", "fail")
    options["actionsMode"] = actions_mode
    experiment = FisExperiment(
        id=experiment_id, region=region, template_id=template["id"], role_arn=template["roleArn"],
        targets=copy.deepcopy(template.get("targets") or {}), actions=actions,
        stop_conditions=copy.deepcopy(template.get("stopConditions") or []), tags=tags, options=options,
        log_configuration=copy.deepcopy(template.get("logConfiguration")), creation_time=now,
        next_check=now + INITIATING_SECONDS,
    )
    engine.emit("ExperimentStarted", kind="fault", region=region, resource=experiment.id,
                template=template["id"], actions=sorted(actions))
    return experiment


def step(engine: Faults, experiment: FisExperiment, now: float) -> None:
    """Advance one experiment to `now`."""
    experiment.next_check = None
    if experiment.status == "initiating":
        _run(engine, experiment, now)
    elif experiment.status == "stopping":
        _finish(engine, experiment, now, "stopped", experiment.reason)  # keeps why it was stopped
        return
    if experiment.status == "running":
        alarm = _alarm_in_alarm_state(engine, experiment)
        if alarm:
            stop(engine, experiment, f"Experiment stopped by the stop condition {alarm}.")
            return
        _progress(engine, experiment, now)


def _alarm_in_alarm_state(engine: Faults, experiment: FisExperiment) -> str | None:
    names = [c["value"].split(":alarm:", 1)[-1] for c in experiment.stop_conditions
             if c.get("source") == "aws:cloudwatch:alarm"]
    if not names:
        return None
    cloudwatch = engine.sandbox.client("cloudwatch", experiment.region)
    for alarm in cloudwatch.describe_alarms(AlarmNames=names).get("MetricAlarms", []):
        if alarm.get("StateValue") == "ALARM":
            return alarm["AlarmName"]
    return None


def _run(engine: Faults, experiment: FisExperiment, now: float) -> None:
    seed = f"{engine.sandbox.lab.seed}:{experiment.id}"
    for name, target in experiment.targets.items():
        try:
            experiment.resolved[name] = resolve(engine.sandbox, experiment.region, name, target, f"{seed}:{name}")
        except (LookupError, ClientError) as exc:
            _fail(engine, experiment, now, f"Target resolution failed: {exc}", "TargetResolutionFailed",
                  f"targets.{name}")
            return
        if not experiment.resolved[name] and experiment.options["emptyTargetResolutionMode"] == "fail":
            _fail(engine, experiment, now, f"Target resolution returned an empty set of resources for target {name}.",
                  "EmptyTargetResolution", f"targets.{name}")
            return
    experiment.status, experiment.reason, experiment.start_time = "running", "Experiment is running.", now
    if experiment.options.get("actionsMode") == "skip-all":
        for action in experiment.actions.values():
            action.status, action.reason = "skipped", "Action was skipped (actionsMode skip-all)."
    engine.emit("ExperimentRunning", kind="fault", region=experiment.region, resource=experiment.id,
                resolved={name: len(arns) for name, arns in experiment.resolved.items()})


def _progress(engine: Faults, experiment: FisExperiment, now: float) -> None:
    for action in experiment.actions.values():
        if action.status == "running" and action.ends_at is not None and action.ends_at <= now:
            _end_action(engine, experiment, action, now, "completed", "Action completed.")
    for _ in range(len(experiment.actions)):  # actions whose prerequisites just completed start at once
        started = False
        for action in experiment.actions.values():
            if action.status == "pending" and all(experiment.actions[name].status in ("completed", "skipped")
                                                  for name in action.start_after):
                _start_action(engine, experiment, action, now)
                started = True
                if experiment.status != "running":
                    return
        if not started:
            break
    if all(action.status in ACTION_TERMINAL for action in experiment.actions.values()):
        _finish(engine, experiment, now, "completed", "Experiment completed.")
        return
    due = [a.ends_at for a in experiment.actions.values() if a.status == "running" and a.ends_at is not None]
    if any(c.get("source") == "aws:cloudwatch:alarm" for c in experiment.stop_conditions):
        due.append(now + ALARM_CHECK_SECONDS)
    experiment.next_check = min(due) if due else None


def _start_action(engine: Faults, experiment: FisExperiment, action: FisAction, now: float) -> None:
    spec = ACTIONS[action.action_id]
    targets = {key: experiment.resolved.get(target_name, []) for key, target_name in action.targets.items()}
    action.start_time = now
    if spec.targets and not any(targets.values()):
        action.status, action.reason, action.end_time = "skipped", "Action was skipped: its targets are empty.", now
        return
    duration = spec.duration(action.parameters)
    injection = engine.new_injection("fis", action.action_id, dict(action.parameters), starts_at=now,
                                     ends_at=now + duration if duration else None,
                                     experiment=f"{experiment.id}/{action.name}")
    action.injection = injection.id
    try:
        outcome = engine.run_injection(injection, lambda effects: spec.run(effects, targets, action.parameters,
                                                                            experiment.region))
    except Exception as exc:
        if not isinstance(exc, (EffectError, ClientError, ValueError)):
            log.exception("FIS action %s of %s failed", action.name, experiment.id)
        action.status, action.reason, action.end_time = "failed", f"Action failed: {exc}", now
        _fail(engine, experiment, now, f"Action {action.name} failed.", "ActionFailed", f"actions.{action.name}")
        return
    action.status, action.reason = "running", "Action is running."
    engine.emit("ActionStarted", kind="fault", region=experiment.region, resource=experiment.id,
                action=action.name, action_id=action.action_id, outcome=outcome)
    if duration is None:
        _end_action(engine, experiment, action, now, "completed", "Action completed.")
    else:
        action.ends_at = now + duration


def _end_action(engine: Faults, experiment: FisExperiment, action: FisAction, now: float, status: str,
                reason: str) -> None:
    if action.injection is not None:
        injection = engine.state.injections[action.injection]
        if injection.status in ("active", "scheduled"):
            engine.end_injection(injection, reason)
    action.status, action.reason, action.end_time = status, reason, now
    engine.emit("ActionEnded", kind="fault", region=experiment.region, resource=experiment.id,
                action=action.name, status=status)


def stop(engine: Faults, experiment: FisExperiment, reason: str = "Experiment stopped by user.") -> None:
    """StopExperiment: undo what runs now, cancel what has not started; the experiment reports stopping
    until the engine's next step marks it stopped."""
    if experiment.status in TERMINAL or experiment.status == "stopping":
        return
    now = engine.now()
    _halt_actions(engine, experiment, now)
    experiment.status, experiment.reason = "stopping", reason
    experiment.next_check = now


def _halt_actions(engine: Faults, experiment: FisExperiment, now: float) -> None:
    for action in experiment.actions.values():
        if action.status == "running":
            _end_action(engine, experiment, action, now, "stopped", "Action was stopped.")
        elif action.status == "pending":
            action.status, action.reason = "cancelled", "Action was cancelled."


def _fail(engine: Faults, experiment: FisExperiment, now: float, reason: str, code: str, location: str) -> None:
    _halt_actions(engine, experiment, now)
    experiment.error = {"accountId": engine.account_id, "code": code, "location": location}
    _finish(engine, experiment, now, "failed", reason)


def _finish(engine: Faults, experiment: FisExperiment, now: float, status: str, reason: str) -> None:
    experiment.status, experiment.reason, experiment.end_time = status, reason, now
    experiment.next_check = None
    engine.emit(f"Experiment{status.capitalize()}", kind="fault", region=experiment.region,
                resource=experiment.id, reason=reason)


def to_dict(experiment: FisExperiment, summary: bool = False) -> dict[str, Any]:
    from lab import config

    arn = f"arn:aws:fis:{experiment.region}:{config.ACCOUNT_ID}:experiment/{experiment.id}"
    state: dict[str, Any] = {"status": experiment.status, "reason": experiment.reason}
    if experiment.error:
        state["error"] = dict(experiment.error)
    body: dict[str, Any] = {"id": experiment.id, "arn": arn, "experimentTemplateId": experiment.template_id,
                            "state": state, "creationTime": experiment.creation_time, "tags": dict(experiment.tags),
                            "experimentOptions": dict(experiment.options)}
    if summary:
        return body
    actions = {}
    for name, action in experiment.actions.items():
        entry: dict[str, Any] = {"actionId": action.action_id, "parameters": dict(action.parameters),
                                 "targets": dict(action.targets), "startAfter": list(action.start_after),
                                 "state": {"status": action.status, "reason": action.reason}}
        if action.description:
            entry["description"] = action.description
        if action.start_time is not None:
            entry["startTime"] = action.start_time
        if action.end_time is not None:
            entry["endTime"] = action.end_time
        actions[name] = entry
    body.update({"roleArn": experiment.role_arn, "targets": copy.deepcopy(experiment.targets), "actions": actions,
                 "stopConditions": copy.deepcopy(experiment.stop_conditions), "targetAccountConfigurationsCount": 0})
    if experiment.start_time is not None:
        body["startTime"] = experiment.start_time
    if experiment.end_time is not None:
        body["endTime"] = experiment.end_time
    if experiment.log_configuration:
        body["logConfiguration"] = copy.deepcopy(experiment.log_configuration)
    return body
