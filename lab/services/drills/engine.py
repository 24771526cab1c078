"""Drills: a lab's failure injected on purpose, and the RPO/RTO it costs, measured by the sandbox itself.

A drill records the incident time and what existed before it, starts the lab's scenario (and its follow-ups)
through the faults engine, then evaluates the lab's recovery checks in sim time -- every minute at first, then
every tenth of the time elapsed (a measured RTO is within 10%, and a week-long drill costs some eighty
evaluations), exactly at the RTO target (so PolicyMet or PolicyBreached is never an artefact of the cadence),
and at once after each learner call that changed something and when one of the drill's failures ends --
through lab.grading.evaluate_recovery over an inventory of the sandbox. The first passing evaluation fixes
the RTO; the RPO comes from what the checks found missing (see _drill_meter). The incident time is kept to
the second, as everyone reads it (ISO 8601 in the drill record, CloudTrail, the checks). Each result is also given in
the shape of an AWS Resilience Hub assessment.

Admin API: POST /_lab/drills {"lab": ID}, GET /_lab/drills, GET /_lab/drills/<id>, POST /_lab/drills/<id>/end.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from lab import config, world
from lab.kernel.context import RequestContext
from lab.kernel.engine import DrillJudge, Engine, OrderStore
from lab.kernel.port import Sandbox
from lab.services.drills.meter import measure_rpo, measure_rto, resilience_hub_result
from lab.services.faults.catalog import get_scenario
from lab.services.faults.engine import Faults
from lab.sim.clock import iso

log = logging.getLogger("lab.drills")

MIN_EVERY_SECONDS = 60.0  # evaluation cadence at first, while recovery may be quick (a failover)
GIVE_UP_SECONDS = 7 * 86400.0  # a drill not recovered in a week has ended: its policy is breached
NO_LOSS = {"count": 0, "span_seconds": 0, "per_store": {}}


@dataclass
class Drill:
    id: str
    lab: str
    scenario: str
    params: dict[str, Any]
    disruption_type: str
    incident_time: float
    targets: dict[str, int]
    before: dict[str, Any]
    injections: list[str]
    status: str = "running"  # running | recovered | ended
    recovered_time: float | None = None
    ended_time: float | None = None
    end_reason: str | None = None
    rpo: dict[str, Any] = field(default_factory=lambda: dict(NO_LOSS))
    evaluations: int = 0
    last_evaluated: float | None = None
    last_checks: list[dict[str, Any]] = field(default_factory=list)
    next_evaluation: float | None = None
    error: str | None = None


@dataclass
class DrillsState:
    drills: dict[str, Drill] = field(default_factory=dict)
    issued: int = 0


class Drills(Engine):
    name = "drills"
    order = 200  # evaluates after every other engine has acted at the same instant

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self.judge: DrillJudge | None = None  # the labs' side, wired in by the sandbox's assembly

    def initial_state(self) -> DrillsState:
        return DrillsState()

    def _judge(self) -> DrillJudge:
        if self.judge is None:
            raise ValueError("this sandbox's drills engine has no judge of the labs wired in")
        return self.judge

    # -- starting and ending -------------------------------------------------------------------------

    def start(self, lab_id: str) -> Drill:
        """Run lab `lab_id`'s drill now. ValueError (nothing changed) for an unknown lab, one without a
        drill, or a scenario that refuses its parameters."""
        plan = self._judge().plan(lab_id)  # (a new drill reads the lab afresh: its file may have changed)
        lab_id = plan.lab  # "03" and "03-rds-snapshot-restore" name the same lab: keep the full id
        faults = self.sandbox.engines.find(Faults)
        if faults is None:
            raise ValueError("this sandbox runs no faults engine to inject the drill's failure")

        (_, scenario, params), *follow_ups = plan.timeline
        state = self.state
        drill_id = f"drill-{state.issued + 1:04d}"
        before = self._before()
        first = faults.start_scenario(scenario, dict(params), drill=drill_id)
        state.issued += 1
        injections = [first.id]
        for delay, follow_up, follow_params in follow_ups:
            injections.append(faults.start_scenario(follow_up, dict(follow_params), drill=drill_id,
                                                    delay_seconds=float(delay)).id)
        for other in state.drills.values():
            if other.lab == lab_id and other.status == "running":
                self._end(other, f"superseded by {drill_id}")
        drill = Drill(id=drill_id, lab=lab_id, scenario=scenario, params=dict(first.params),
                      disruption_type=get_scenario(scenario).disruption_type,
                      incident_time=float(math.floor(first.starts_at)),
                      targets={"rto_seconds": plan.rto_seconds, "rpo_seconds": plan.rpo_seconds},
                      before=before, injections=injections)
        drill.next_evaluation = drill.incident_time + MIN_EVERY_SECONDS
        state.drills[drill_id] = drill
        self.emit("DrillStarted", kind="drill", resource=drill_id, lab=lab_id, scenario=scenario,
                  injections=injections, incident_time=iso(drill.incident_time))
        if first.status == "failed":  # e.g. a bad deploy against a database that is down: nothing to measure
            self._end(drill, f"its failure could not be injected: {first.error}")
        return drill

    def end(self, drill_id: str, reason: str = "ended by the learner") -> Drill:
        drill = self.get(drill_id)
        if drill.status == "running":
            self._end(drill, reason)
        return drill

    def _end(self, drill: Drill, reason: str) -> None:
        drill.status, drill.ended_time, drill.end_reason = "ended", self.now(), reason
        drill.next_evaluation = None
        self.emit("DrillEnded", kind="drill", resource=drill.id, lab=drill.lab, reason=reason)
        self._stop_failures(drill, f"{drill.id} ended")

    def _stop_failures(self, drill: Drill, reason: str) -> None:
        """The drill's failures end with it, its scheduled follow-ups never start."""
        faults = self.sandbox.engines.find(Faults)
        if faults is not None:
            faults.end_drill(drill.id, reason)

    def get(self, drill_id: str) -> Drill:
        drill = self.state.drills.get(drill_id)
        if drill is None:
            known = ", ".join(sorted(self.state.drills)) or "none yet"
            raise KeyError(f"no drill {drill_id!r} (drills: {known})")
        return drill

    def _before(self) -> dict[str, Any]:
        """What existed before the incident: the ledger and the SecureCart stores' counts."""
        ledger = self.sandbox.lab.orders
        summary: dict[str, Any] = {"orders_total": len(ledger),
                                   "last_order_id": ledger[-1]["order_id"] if ledger else None}
        region = config.PRIMARY_REGION
        rds = self.sandbox.engines.find(OrderStore)
        if rds is not None:
            digest = rds.digests().get(region, {}).get(world.ORDERS_DB)
            summary["rds_orders"] = digest.get("orders") if digest else None
        dynamodb = self.sandbox.client("dynamodb", region)
        try:
            summary["dynamodb_items"] = dynamodb.scan(TableName=world.ORDER_HISTORY_TABLE, Select="COUNT")["Count"]
        except Exception:  # noqa: BLE001 -- a table the learner deleted is part of the picture, not an error
            summary["dynamodb_items"] = None
        s3 = self.sandbox.client("s3", region)
        try:
            summary["s3_invoices"] = sum(page.get("KeyCount", 0) for page in s3.get_paginator(
                "list_objects_v2").paginate(Bucket=world.INVOICES_BUCKET))
        except Exception:  # noqa: BLE001
            summary["s3_invoices"] = None
        return summary

    # -- measuring -----------------------------------------------------------------------------------

    def observe(self, ctx: RequestContext) -> None:
        """A learner's call that changed something may have completed the recovery: evaluate at once."""
        if not ctx.mutating or not (ctx.replaying or not ctx.internal):
            return
        for drill in self.state.drills.values():
            self.wake(drill.id)

    def wake(self, drill_id: str) -> None:
        """Evaluate `drill` at the engines' next step (something that may complete its recovery happened)."""
        drill = self.state.drills.get(drill_id)
        now = self.now()
        if drill is not None and drill.status == "running" and now >= drill.incident_time:
            drill.next_evaluation = now

    def next_due(self) -> float | None:
        drills = self.state.drills
        if not drills:
            return None
        due = [d.next_evaluation for d in drills.values()
               if d.status == "running" and d.next_evaluation is not None]
        return min(due) if due else None

    def run_due(self, now: float) -> None:
        for drill in sorted(self.state.drills.values(), key=lambda d: d.id):
            if drill.status == "running" and drill.next_evaluation is not None and drill.next_evaluation <= now:
                self.evaluate(drill, now)

    def evaluate(self, drill: Drill, now: float) -> None:
        drill.next_evaluation = None
        try:
            verdict = self._judge().judge(self.sandbox, drill.lab, drill_dict(self, drill))
        except Exception as exc:
            log.exception("evaluating %s failed", drill.id)
            drill.error = f"recovery could not be evaluated: {type(exc).__name__}: {exc}"
            self._schedule(drill, now)
            return
        drill.error = None
        drill.evaluations += 1
        drill.last_evaluated = now
        drill.last_checks = [dict(check) for check in verdict.checks]
        drill.rpo = measure_rpo(self.sandbox.lab.orders, drill.incident_time, verdict.lost)
        if verdict.passed:
            drill.status, drill.recovered_time = "recovered", now
            self.emit("DrillRecovered", kind="drill", resource=drill.id, lab=drill.lab,
                      rto_seconds=measure_rto(drill.incident_time, now), rpo=drill.rpo)
            self._stop_failures(drill, f"{drill.id} recovered")
            return
        self._schedule(drill, now)

    def _schedule(self, drill: Drill, now: float) -> None:
        elapsed = now - drill.incident_time
        if elapsed >= GIVE_UP_SECONDS:
            self._end(drill, f"not recovered within {int(GIVE_UP_SECONDS // 86400)} days")
            return
        due = now + max(MIN_EVERY_SECONDS, elapsed / 10.0)
        deadline = drill.incident_time + drill.targets["rto_seconds"]
        drill.next_evaluation = deadline if now < deadline < due else due

    def describe(self) -> dict[str, Any]:
        drills = self.state.drills.values()
        return {"drills": len(self.state.drills), "running": sum(1 for d in drills if d.status == "running")}


def drill_dict(engine: Drills, drill: Drill) -> dict[str, Any]:
    now = engine.now()
    rto = measure_rto(drill.incident_time, drill.recovered_time)
    end = drill.recovered_time if drill.recovered_time is not None else drill.ended_time
    elapsed = round((end if end is not None else now) - drill.incident_time)
    result = resilience_hub_result(
        drill_id=drill.id, lab=drill.lab, disruption_type=drill.disruption_type, incident_time=drill.incident_time,
        end_time=end, status=drill.status, rto_seconds=rto, elapsed_seconds=max(elapsed, 0), rpo=drill.rpo,
        targets=drill.targets, account_id=config.ACCOUNT_ID, region=config.PRIMARY_REGION)
    return {
        "id": drill.id, "lab": drill.lab, "scenario": drill.scenario, "params": drill.params,
        "incident_time": iso(drill.incident_time), "status": drill.status,
        "recovered_time": iso(drill.recovered_time) if drill.recovered_time is not None else None,
        "ended_time": iso(drill.ended_time) if drill.ended_time is not None else None,
        "end_reason": drill.end_reason, "rto_seconds": rto, "rpo": drill.rpo, "targets": drill.targets,
        "compliance": result.get("complianceStatus"), "result": result, "before": drill.before,
        "injections": drill.injections, "evaluations": drill.evaluations,
        "last_evaluated": iso(drill.last_evaluated) if drill.last_evaluated is not None else None,
        "last_checks": drill.last_checks, "error": drill.error,
    }
