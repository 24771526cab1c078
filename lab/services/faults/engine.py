"""The faults engine: failure injection in sim time.

It holds the fault rules the gateway consults on every call (lab/gateway/handlers/faults.py), runs the
named scenarios (`_scenario_*.py`) and AWS Fault Injection Service experiments (`_fis_*.py`, it owns the
`fis` API), and ends each injection when its duration runs out or on `lab recover`, undoing what it did.
Every injection and every end is an event of kind "fault".

Admin API: GET/POST/DELETE /_lab/faults, GET /_lab/scenarios, POST /_lab/fail, POST /_lab/recover.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.context import Identity, RequestContext
from lab.kernel.engine import DrillClock, Engine, FaultDecision
from lab.kernel.errors import AwsError
from lab.services.faults import fis_experiments as fis_experiments
from lab.services.faults.catalog import get_scenario
from lab.services.faults.chaos import serve_chaos
from lab.services.faults.effects import Effects
from lab.services.faults.model import FaultsState, Injection
from lab.services.faults.rules import (
    ChaosConfig,
    decide,
    rule_from_chaos,
    rule_from_lab,
    validate_chaos,
    validate_chaos_effects,
)
from lab.sim.clock import iso, parse_duration

log = logging.getLogger("lab.faults")
ONE_SHOT_REASON = "the scenario acted once; what it destroyed stays destroyed until it is recovered"


class Faults(Engine):
    name = "faults"
    order = 5  # a failure starting at an instant is in place before the workload writes at that instant

    def initial_state(self) -> FaultsState:
        return FaultsState()

    @property
    def account_id(self) -> str:
        return config.ACCOUNT_ID

    # -- the gateway's question ------------------------------------------------------------------------

    def decide(self, identity: Identity) -> FaultDecision:
        """Does a call fail or slow down? Counts it against the rules (call under the sandbox lock)."""
        state = self.state
        decision = decide([*state.rules, *state.chaos_rules], identity, self.sandbox.lab.seed, self.now())
        rule = decision.rule
        error = (AwsError(rule.code, rule.message, rule.status_code) if rule is not None and decision.fails
                 else None)
        return FaultDecision(decision.latency_ms + state.chaos.latency_ms, error)

    def serve_chaos(self, ctx: RequestContext) -> bool:
        return serve_chaos(self, ctx)

    def region_is_down(self, region: str) -> bool:
        return region in self.state.regions_down

    def check_data_write(self, region: str, operation: str) -> None:
        """The data layer's guard: a region that is down takes no writes from the engines."""
        if region in self.state.regions_down:
            raise ClientError({"Error": {"Code": "ServiceUnavailable",
                                         "Message": f"{region} is unavailable: the sandbox is simulating a region "
                                                    "outage"},
                               "ResponseMetadata": {"HTTPStatusCode": 503}}, operation)

    # -- time ------------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        state = self.state
        if not (state.injections or state.rules or state.fis.experiments):
            return None  # (asked before every step of an advance: the usual answer, quickly)
        times = [inj.starts_at for inj in state.injections.values() if inj.status == "scheduled"]
        times += [inj.ends_at for inj in state.injections.values()
                  if inj.status == "active" and inj.ends_at is not None and inj.experiment is None]
        times += [rule.until for rule in state.rules if rule.until is not None]
        times += [e.next_check for e in state.fis.experiments.values() if e.next_check is not None]
        return min(times) if times else None

    def run_due(self, now: float) -> None:
        state = self.state
        for rule in [r for r in state.rules if r.until is not None and r.until <= now]:
            state.rules.remove(rule)
            self.emit("FaultRuleExpired", kind="fault", region=rule.region, resource=rule.id, rule=rule.to_dict())
        for injection in sorted(state.injections.values(), key=lambda i: (i.starts_at, i.id)):
            if injection.status == "scheduled" and injection.starts_at <= now:
                self._activate(injection)
            elif (injection.status == "active" and injection.experiment is None
                  and injection.ends_at is not None and injection.ends_at <= now):
                self.end_injection(injection, "its duration ran out")
        for experiment in list(state.fis.experiments.values()):
            if experiment.next_check is not None and experiment.next_check <= now:
                fis_experiments.step(self, experiment, now)

    # -- injections ------------------------------------------------------------------------------------

    def new_injection(self, source: str, name: str, params: dict[str, Any], *, starts_at: float,
                      ends_at: float | None, drill: str | None = None, experiment: str | None = None) -> Injection:
        injection = Injection(id=self.state.next_id("inj"), source=source, name=name, params=params,
                              created=self.now(), starts_at=starts_at, ends_at=ends_at, drill=drill,
                              experiment=experiment)
        self.state.injections[injection.id] = injection
        return injection

    def run_injection(self, injection: Injection, act: Callable[[Effects], dict[str, Any]]) -> dict[str, Any]:
        """Apply an injection now. If it fails part-way, what it already did is undone and the error raised."""
        now = self.now()
        injection.status, injection.started = "active", now
        effects = Effects(self, injection)
        try:
            outcome = act(effects)
        except Exception as exc:
            if isinstance(exc, ValueError) and not injection.effects:
                injection.status = "failed"  # refused before it changed anything: a bad parameter or target
                injection.error = str(exc)
                raise
            problems = effects.undo_all()
            injection.status, injection.ended = "failed", now
            injection.error = f"{exc}" + (f" (and undoing failed: {'; '.join(problems)})" if problems else "")
            self.emit("FaultFailed", kind="fault", resource=injection.id, fault=injection.name, error=injection.error,
                      drill=injection.drill)
            raise
        injection.outcome = outcome
        self.emit("FaultInjected", kind="fault", region=_region_of(injection), resource=injection.id,
                  origin=injection.source, fault=injection.name, params=injection.params, outcome=_compact(outcome),
                  ends_at=injection.ends_at, drill=injection.drill, experiment=injection.experiment)
        return outcome

    def end_injection(self, injection: Injection, reason: str) -> None:
        problems = Effects(self, injection).undo_all() if injection.status == "active" else []
        injection.status, injection.ended, injection.end_reason = "ended", self.now(), reason
        if problems:
            injection.error = "could not undo: " + "; ".join(problems)
        self.emit("FaultEnded", kind="fault", region=_region_of(injection), resource=injection.id,
                  fault=injection.name, reason=reason, problems=problems, drill=injection.drill)
        drills = self.sandbox.engines.find(DrillClock)
        if injection.drill and drills is not None and injection.source == "scenario":
            drills.wake(injection.drill)  # the failure's end may be the recovery

    def end_drill(self, drill: str, reason: str) -> list[str]:
        """A drill is over: its failures end, and those still scheduled never start (a follow-up due after the
        drill was recovered or ended would otherwise strike a world the learner has moved on from)."""
        ended = []
        for injection in sorted(self.state.injections.values(), key=lambda i: i.id):
            if injection.drill == drill and injection.status in ("active", "scheduled"):
                self.end_injection(injection, reason)
                ended.append(injection.id)
        return ended

    def start_scenario(self, name: str, given: dict[str, Any], *, drill: str | None = None,
                       delay_seconds: float = 0.0) -> Injection:
        """Inject scenario `name` now (or after its delay). ValueError, with nothing changed, for an unknown
        scenario, bad parameters, or a target the scenario cannot find."""
        try:
            scenario = get_scenario(name)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from exc
        params = scenario.parse_params(given)
        delay = delay_seconds + ((params.get(scenario.delay_param) or 0.0) if scenario.delay_param else 0.0)
        now = self.now()
        issued = self.state.issued
        injection = self.new_injection("scenario", name, params, starts_at=now + delay, ends_at=None, drill=drill)
        if delay <= 0:
            try:
                self._activate(injection, raise_invalid=True)
            except ValueError:
                if not injection.effects:  # refused before touching anything: leave no trace
                    del self.state.injections[injection.id]
                    self.state.issued = issued
                raise
        else:
            self.emit("FaultScheduled", kind="fault", resource=injection.id, fault=name, params=params,
                      starts_at=injection.starts_at, drill=drill)
        return injection

    def _activate(self, injection: Injection, raise_invalid: bool = False) -> None:
        scenario = get_scenario(injection.name)()
        duration = injection.params.get(scenario.duration_param) if scenario.duration_param else None
        injection.ends_at = self.now() + duration if duration else None
        try:
            self.run_injection(injection, lambda effects: scenario.inject(effects, injection.params))
        except ValueError as exc:
            if raise_invalid:
                raise
            if not injection.effects:  # run_injection records a refusal quietly; a scheduled one is news
                injection.ended = self.now()
                self.emit("FaultFailed", kind="fault", resource=injection.id, fault=injection.name, error=str(exc),
                          drill=injection.drill)
            return
        except Exception:
            log.exception("scenario %s (%s) failed", injection.name, injection.id)
            return
        if scenario.duration_param is None:
            self.end_injection(injection, ONE_SHOT_REASON)

    def recover(self) -> dict[str, Any]:
        """End everything active: scenario runs, FIS experiments, lab rules, the Chaos API's configuration."""
        state = self.state
        stopped = []
        for experiment in state.fis.experiments.values():
            if experiment.status in ("initiating", "running"):
                fis_experiments.stop(self, experiment, "Experiment stopped: the sandbox recovered (lab recover).")
                stopped.append(experiment.id)
        ended = []
        for injection in sorted(state.injections.values(), key=lambda i: i.id):
            if injection.status in ("active", "scheduled"):
                self.end_injection(injection, "lab recover")
                ended.append(injection.id)
        lab_rules = [rule.id for rule in state.rules if rule.source == "lab"]
        state.rules = [rule for rule in state.rules if rule.source != "lab"]
        chaos_cleared = bool(state.chaos.rules or state.chaos.latency_ms)
        state.chaos, state.chaos_rules = ChaosConfig(), []
        self.emit("Recovered", kind="fault", injections=ended, experiments=stopped, rules=lab_rules,
                  chaos_cleared=chaos_cleared)
        return {"injections_ended": ended, "experiments_stopped": stopped, "rules_removed": lab_rules,
                "chaos_cleared": chaos_cleared}

    # -- the lab's own rules ---------------------------------------------------------------------------

    def add_lab_rule(self, document: dict[str, Any]) -> dict[str, Any]:
        duration = document.get("duration")
        seconds = parse_duration(str(duration)) if duration not in (None, "") else None
        rule = rule_from_lab(self.state.next_id("rule"), document, self.now(), seconds)
        self.state.rules.append(rule)
        self.emit("FaultRuleAdded", kind="fault", region=rule.region, resource=rule.id, rule=rule.to_dict())
        return rule.to_dict()

    def remove_lab_rules(self, rule_id: str | None) -> list[str]:
        removed = [r.id for r in self.state.rules if r.source == "lab" and rule_id in (None, r.id)]
        if rule_id is not None and not removed:
            raise ValueError(f"no lab fault rule {rule_id!r}; `lab faults` lists them")
        self.state.rules = [r for r in self.state.rules if r.id not in removed]
        if removed:
            self.emit("FaultRuleRemoved", kind="fault", rules=removed)
        return removed

    # -- LocalStack's Chaos API ------------------------------------------------------------------------

    def chaos_faults(self) -> list[dict[str, Any]]:
        return list(self.state.chaos.rules)

    def set_chaos_faults(self, method: str, document: Any) -> list[dict[str, Any]]:
        """POST replaces the rules, PATCH appends, DELETE removes rules equal to the given ones."""
        rules = validate_chaos(document)
        chaos = self.state.chaos
        if method == "POST":
            chaos.rules = list(rules)
        elif method == "PATCH":
            chaos.rules = [*chaos.rules, *rules]
        else:
            chaos.rules = [rule for rule in chaos.rules if rule not in rules]
        self.state.chaos_rules = [rule_from_chaos(index, rule) for index, rule in enumerate(chaos.rules)]
        self.emit("ChaosFaultsChanged", kind="fault", method=method, rules=chaos.rules)
        return list(chaos.rules)

    def chaos_effects(self) -> dict[str, Any]:
        return {"latency": self.state.chaos.latency_ms}

    def set_chaos_effects(self, document: Any) -> dict[str, Any]:
        effects = validate_chaos_effects(document)
        self.state.chaos.latency_ms = int(effects.get("latency", 0))
        self.emit("ChaosEffectsChanged", kind="fault", latency=self.state.chaos.latency_ms)
        return self.chaos_effects()

    # -- views -----------------------------------------------------------------------------------------

    def listing(self, include_ended: bool = False) -> dict[str, Any]:
        state = self.state
        injections = [injection_dict(inj) for inj in sorted(state.injections.values(), key=lambda i: i.id)
                      if include_ended or inj.status in ("active", "scheduled")]
        running = [fis_experiments.to_dict(e, summary=True) for e in state.fis.experiments.values()
                   if include_ended or e.status in ("initiating", "running", "stopping")]
        return {
            "injections": injections,
            "rules": [rule.to_dict() for rule in state.rules],
            "chaos": {"faults": list(state.chaos.rules), "effects": self.chaos_effects(),
                      "counters": [rule.to_dict() for rule in state.chaos_rules]},
            "experiments": running,
            "regions_down": sorted(state.regions_down),
            "replication_paused": sorted(state.paused),
            "volumes_io_paused": sorted(state.volumes_paused),
            "databases_unavailable": sorted(state.dbs_down),
            "endpoints_down": sorted(state.endpoints_down),
        }

    def describe(self) -> dict[str, Any]:
        state = self.state
        return {"active_injections": sum(1 for i in state.injections.values() if i.status == "active"),
                "scheduled_injections": sum(1 for i in state.injections.values() if i.status == "scheduled"),
                "rules": len(state.rules) + len(state.chaos_rules), "regions_down": sorted(state.regions_down),
                "experiments_running": sum(1 for e in state.fis.experiments.values()
                                           if e.status in ("initiating", "running"))}


def injection_dict(injection: Injection) -> dict[str, Any]:
    def when(epoch: float | None) -> str | None:
        return iso(epoch) if epoch is not None else None

    return {
        "id": injection.id, "source": injection.source, "name": injection.name, "params": injection.params,
        "status": injection.status, "created": when(injection.created), "starts_at": when(injection.starts_at),
        "ends_at": when(injection.ends_at), "started": when(injection.started), "ended": when(injection.ended),
        "end_reason": injection.end_reason, "error": injection.error, "drill": injection.drill,
        "experiment": injection.experiment, "outcome": injection.outcome,
        "effects": [effect.to_dict() for effect in injection.effects],
    }


def _compact(outcome: dict[str, Any], keep: int = 20) -> dict[str, Any]:
    """The outcome for the event log: long lists (every invoice a ransomware run overwrote) cut short; the
    injection record keeps them whole."""
    return {key: ([*value[:keep], f"... {len(value) - keep} more"] if isinstance(value, list) and len(value) > keep
                  else value) for key, value in outcome.items()}


def _region_of(injection: Injection) -> str | None:
    for key in ("region", "az"):
        value = injection.params.get(key)
        if isinstance(value, str) and value:
            return value if key == "region" else value[:-1]
    return None
