"""A canned DataSource for the TUI tests: fixed labs, a frozen sim clock, a small world, scripted checks.

It behaves like the live source (progress is recorded, hints are counted, the clock advances, failures
come and go, drills finish when told), so pilot tests can drive the app and assert on what it asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from lab.errors import SandboxNotRunningError
from lab.sim.clock import iso, parse_duration
from tui.data import (
    RECOVERY_HINTS,
    CheckOutcome,
    CheckRefView,
    ClockView,
    DataSource,
    DrillSpecView,
    DrillView,
    EventBatch,
    EventView,
    FaultView,
    LabProgressView,
    LabReport,
    LabSummary,
    LabView,
    ParamSpec,
    RegionHealth,
    RegionView,
    ReplicationLink,
    ResourceView,
    SandboxView,
    ScenarioView,
    StepResult,
    StepView,
    WorldView,
    frozen_mapping,
)

FROZEN_EPOCH = datetime(2026, 1, 3, 10, 0, 0, tzinfo=UTC).timestamp()
ENDPOINT = "http://127.0.0.1:4566"
REGIONS = ("us-east-1", "us-west-2")


def _lab(lab_id: str, title: str, steps: list[tuple[str, str, str, list[str], list[str]]],
         drill: str | None) -> LabView:
    return LabView(
        id=lab_id, title=title, objectives=(f"Protect SecureCart with {title.lower()}.",
                                            "Recover the data after a failure and measure RPO and RTO."),
        estimated_minutes=30,
        steps=tuple(StepView(step_id, step_title, body, tuple(hints), tuple(CheckRefView(c) for c in checks))
                    for step_id, step_title, body, hints, checks in steps),
        drill=DrillSpecView(drill, frozen_mapping({"bucket": "securecart-invoices-use1"}), DRILL_BRIEFING, 0,
                            (DrillSpecView("region-outage", frozen_mapping({"region": "us-east-1"}), "", 900),))
        if drill else None,
        recovery_checks=(CheckRefView("RECOVERY_INVOICES_READABLE"),) if drill else (),
        rto_target_seconds=900, rpo_target_seconds=300, pass_mark=0.8,
        recovery_instructions_md=RECOVERY_INSTRUCTIONS if drill else "",
        recovery_hints=RECOVERY_HINT_TEXTS if drill else ())


DRILL_BRIEFING = ("Someone overwrote 25 invoices in `securecart-invoices-use1` with junk. Fifteen minutes later "
                  "us-east-1 goes down.\n")
RECOVERY_INSTRUCTIONS = ("Work in us-west-2: the replica still holds each invoice's good version.\n\n"
                         "```bash\naws s3api list-object-versions --region us-west-2 --bucket "
                         "securecart-invoices-usw2 --prefix invoices/\n```\n\nCopy each good version back.\n")
RECOVERY_HINT_TEXTS = ("Nothing in us-east-1 answers until the outage ends.",
                       "LastModified tells a good version from a junk one.")


LABS = (
    _lab("02-s3-crr", "Enable cross-region replication for S3", [
        ("versioning", "Turn on versioning",
         "Replication needs versioning on **both** buckets.\n\n```bash\n$ aws s3api put-bucket-versioning "
         "--bucket securecart-invoices-use1 --versioning-configuration Status=Enabled\n```\n\nThen check it.",
         ["Versioning is a bucket setting: put-bucket-versioning.", "Do the destination bucket too."],
         ["S3_BUCKET_VERSIONING_ENABLED"]),
        ("replication", "Add a replication rule",
         "Create `securecart-invoices-usw2` in us-west-2 and a rule that replicates to it.\n\n```bash\n"
         "aws s3api put-bucket-replication --bucket securecart-invoices-use1 --replication-configuration "
         "file://replication.json\n```",
         ["The rule needs a role that S3 can assume."], ["S3_BUCKET_REPLICATION_ENABLED"]),
    ], "ransomware-overwrite"),
    _lab("06-rds-multi-az", "Multi-AZ for RDS", [
        ("multi-az", "Turn on Multi-AZ", "Modify the instance:\n\n```\naws rds modify-db-instance "
         "--db-instance-identifier securecart-orders-db --multi-az --apply-immediately\n```",
         [], ["RDS_MULTI_AZ_SUPPORT"]),
    ], None),
)

SCENARIOS = (
    ScenarioView("region-outage", "A whole region stops answering. Everything in it is unreachable.",
                 (ParamSpec("region", "region", "us-east-1", "the region that goes down",
                            ("us-east-1", "us-west-2")),
                  ParamSpec("duration", "duration", "30m", "how long it lasts"))),
    ScenarioView("az-power-interruption", "An availability zone loses power for a while.",
                 (ParamSpec("zone", "str", "us-east-1a", "the zone"),
                  ParamSpec("recover_instances", "bool", True, "restart instances after"))),
    ScenarioView("accidental-deletion", "Accidental deletion: items, objects or rows are deleted.",
                 (ParamSpec("count", "integer", 10, "how many items, objects or rows"),
                  ParamSpec("resource", "string", "",
                            "the table, bucket, DB instance or volume id (empty: SecureCart's own)"))),
)


def _world() -> WorldView:
    east = (
        ResourceView("us-east-1", "rds", "db-instance", "securecart-orders-db", "securecart-orders-db",
                     "available", "us-east-1a", "postgres, 50 orders",
                     frozen_mapping({"engine": "postgres", "multi_az": False, "backup_retention_days": 0,
                                     "row_count": 50,
                                     "snapshots": [{"id": "manual-1", "created": "2026-01-03T09:00:00Z",
                                                    "status": "available"}]})),
        ResourceView("us-east-1", "ec2", "instance", "i-0abc", "securecart-backend", "running", "us-east-1b"),
        ResourceView("us-east-1", "s3", "bucket", "securecart-invoices-use1", "securecart-invoices-use1",
                     "", None, "versioning Enabled",
                     frozen_mapping({"versioning": "Enabled", "replication": "to securecart-invoices-usw2",
                                     "objects": [{"key": "invoices/2026/01/ORD-000050.json", "versions": 2,
                                                  "replication_status": "COMPLETED"}]})),
        ResourceView("us-east-1", "dynamodb", "table", "securecart-order-history", "securecart-order-history",
                     "ACTIVE", None, "50 items"),
        ResourceView("us-east-1", "backup", "vault", "Default", "Default", "", None, "2 recovery points",
                     frozen_mapping({"recovery_points": [{"id": "rp-1", "resource": "securecart-orders-db",
                                                          "created": "2026-01-03T05:00:00Z"}]})),
        ResourceView("us-east-1", "rds", "db-snapshot", "manual-1", "manual-1", "available"),
    )
    west = (
        ResourceView("us-west-2", "s3", "bucket", "securecart-invoices-usw2", "securecart-invoices-usw2", "",
                     None, "replica"),
    )
    return WorldView(iso(FROZEN_EPOCH), (
        RegionView("us-east-1", ("us-east-1a", "us-east-1b"), east),
        RegionView("us-west-2", ("us-west-2a", "us-west-2b"), west),
    ), (ReplicationLink("S3 CRR", "us-east-1", "securecart-invoices-use1", "us-west-2",
                        "securecart-invoices-usw2", "replicating", "0 pending"),))


def _events() -> tuple[EventView, ...]:
    names = [("api", "dynamodb.amazonaws.com", "BatchWriteItem", "us-east-1", None, "AWS Internal"),
             ("api", "s3", "PutBucketVersioning", "us-east-1", "securecart-invoices-use1", "127.0.0.1"),
             ("workload", "workload", "OrderPlaced", "us-east-1", "ORD-000050", None),
             ("engine", "s3-replication", "ReplicationCompleted", "us-west-2", "securecart-invoices-usw2", None),
             ("fault", "faults", "ScenarioInjected", "us-east-1", "region-outage", None),
             ("lab", "clock", "ClockAdvance", None, None, None)]
    return tuple(EventView(seq, FROZEN_EPOCH - 60 * (len(names) - seq), kind, source, name, region, resource,
                           frozen_mapping({"sourceIPAddress": caller} if caller else {}),
                           by_lab=caller == "AWS Internal")
                 for seq, (kind, source, name, region, resource, caller) in enumerate(names, start=1))


class CannedSource(DataSource):
    sandbox_gone = SandboxNotRunningError
    regions = ("us-east-1", "us-west-2")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[Any, ...]] = []
        self.alive = True
        self.clock_view = ClockView(iso(FROZEN_EPOCH), FROZEN_EPOCH, 1.0, False)
        self.faults: list[FaultView] = []
        self.passing: set[str] = set()  # check ids that pass
        self.progress: dict[str, LabProgressView] = {lab.id: LabProgressView(lab.id) for lab in LABS}
        self.drill_list: list[DrillView] = []
        self.event_list = list(_events())
        self.saved: dict[str, Any] = {}
        self.check_gate: threading.Event | None = None  # when set up, a check run waits until it is set
        self.sandbox_gate: threading.Event | None = None  # when set up, the status waits until it is set (busy)
        self.world_gate: threading.Event | None = None  # when set up, reading the world waits until it is set
        self.resources: dict[str, tuple[str, ...]] = {}  # check id -> the resources it judges (one row each)

    def _log(self, *call: Any) -> None:
        with self.lock:
            self.calls.append(call)

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [call for call in self.calls if call[0] == name]

    def _need_sandbox(self) -> None:
        if not self.alive:
            raise SandboxNotRunningError(ENDPOINT)

    @property
    def endpoint(self) -> str:
        return ENDPOINT

    def sandbox(self) -> SandboxView:
        if self.sandbox_gate is not None and not self.sandbox_gate.wait(timeout=10):
            raise TimeoutError("the test never let the status answer")
        if not self.alive:
            return SandboxView("down", ENDPOINT, message="connection refused")
        health = []
        for region in REGIONS:
            down = [f for f in self.faults if region in f.regions]
            zonal = [f for f in self.faults if any(z.startswith(region) for z in f.zones)]
            state = "outage" if down else "degraded" if zonal else "healthy"
            health.append(RegionHealth(region, state, tuple(f.scenario for f in down + zonal)))
        return SandboxView("running", ENDPOINT, backend="embedded", pid=4242, state_dir="/tmp/lab-state",
                           clock=self.clock_view, workload=self._workload(), regions=tuple(health),
                           faults=tuple(self.faults))

    def _workload(self):
        from tui.data import WorkloadView

        return WorkloadView(True, 60.0, 50, 0)

    def ensure_running(self) -> SandboxView:
        self._log("ensure_running")
        return self.sandbox()

    def restart(self) -> SandboxView:
        self._log("restart")
        self.alive = True
        return self.sandbox()

    def labs(self) -> tuple[LabSummary, ...]:
        return tuple(LabSummary(lab, self.progress[lab.id]) for lab in LABS)

    def lab(self, lab_id: str) -> LabSummary:
        for lab in LABS:
            if lab.id == lab_id:
                return LabSummary(lab, self.progress[lab_id])
        raise KeyError(f"no lab {lab_id!r}")

    def run_checks(self, lab_id: str, phase: str = "configure", *, attempt: bool = True) -> LabReport:
        self._need_sandbox()
        self._log("run_checks", lab_id, phase, attempt)
        if self.check_gate is not None and not self.check_gate.wait(timeout=10):
            raise TimeoutError("the test never let the checks finish")
        lab = self.lab(lab_id).lab
        steps = []
        for step in lab.steps:
            outcomes = tuple(self._outcome(ref.id, resource) for ref in step.checks
                             for resource in self.resources.get(ref.id, ("securecart-invoices-use1",)))
            steps.append(StepResult(step.id, step.title, all(o.status == "PASS" for o in outcomes),
                                    sum(o.score for o in outcomes), float(len(outcomes)), outcomes))
        if phase != "configure" and lab.recovery_checks:
            outcomes = tuple(self._outcome(ref.id) for ref in lab.recovery_checks)
            steps.append(StepResult("", "Recovery", all(o.status == "PASS" for o in outcomes),
                                    sum(o.score for o in outcomes), float(len(outcomes)), outcomes))
        score = sum(s.score for s in steps)
        total = sum(s.max_score for s in steps) or 1.0
        percent = 100.0 * score / total
        report = LabReport(lab_id, phase, self.clock_view.now, score, total, percent, percent >= 80.0, tuple(steps))
        with self.lock:
            progress = self.progress[lab_id]
            done = progress.steps_done | {s.step_id for s in steps if s.passed and s.step_id}
            progress = replace(progress, steps_done=frozenset(done))
            if attempt:
                progress = replace(progress, attempts=progress.attempts + 1, last_percent=percent,
                                   passed=report.passed)
            self.progress[lab_id] = progress
        return report

    def _outcome(self, check_id: str, resource: str = "securecart-invoices-use1") -> CheckOutcome:
        ok = check_id in self.passing
        return CheckOutcome(check_id, resource, "AWS::S3::Bucket", "us-east-1",
                            "PASS" if ok else "FAIL", 1.0 if ok else 0.0, 1.0,
                            frozen_mapping({"versioning": "Enabled" if ok else "Suspended"}),
                            "versioning is Enabled" if ok else "versioning is off on securecart-invoices-use1",
                            "" if ok else "Turn versioning on with put-bucket-versioning.")

    def reveal_hint(self, lab_id: str, step_id: str) -> LabProgressView:
        self._log("reveal_hint", lab_id, step_id)
        with self.lock:
            progress = self.progress[lab_id]
            hints = dict(progress.hints_revealed)
            lab = self.lab(lab_id).lab
            available = len(lab.recovery_hints if step_id == RECOVERY_HINTS else lab.step(step_id).hints)
            hints[step_id] = min(hints.get(step_id, 0) + 1, available)
            progress = replace(progress, hints_revealed=frozen_mapping(hints))
            self.progress[lab_id] = progress
        return progress

    def set_current_step(self, lab_id: str, step_id: str) -> LabProgressView:
        self._log("set_current_step", lab_id, step_id)
        with self.lock:
            self.progress[lab_id] = replace(self.progress[lab_id], current_step=step_id)
            self.saved["last_lab"] = lab_id
            return self.progress[lab_id]

    def settings(self) -> Mapping[str, Any]:
        return dict(self.saved)

    def save_setting(self, name: str, value: Any) -> None:
        self.saved[name] = value

    def world(self) -> WorldView:
        self._need_sandbox()
        if self.world_gate is not None and not self.world_gate.wait(timeout=10):
            raise TimeoutError("the test never let the world be read")
        return _world()

    def events(self, since: int = 0, limit: int = 500) -> EventBatch:
        self._need_sandbox()
        found = tuple(e for e in self.event_list if e.seq > since)[-limit:]
        return EventBatch(found, self.event_list[-1].seq if self.event_list else 0)

    def scenarios(self) -> tuple[ScenarioView, ...]:
        self._need_sandbox()
        return SCENARIOS

    def inject(self, scenario: str, params: Mapping[str, Any]) -> FaultView:
        self._need_sandbox()
        self._log("inject", scenario, dict(params))
        region = str(params.get("region", ""))
        zone = str(params.get("zone", ""))
        fault = FaultView(f"inj-{len(self.faults) + 1:04d}", scenario, f"{scenario} injected",
                          (region,) if region else (), (zone,) if zone else (), self.clock_view.now)
        self.faults.append(fault)
        return fault

    def recover(self) -> None:
        self._need_sandbox()
        self._log("recover")
        self.faults.clear()

    def start_drill(self, lab_id: str) -> DrillView:
        self._need_sandbox()
        self._log("start_drill", lab_id)
        lab = self.lab(lab_id).lab
        assert lab.drill is not None
        drill = DrillView(f"drill-{len(self.drill_list) + 1:04d}", lab_id, lab.drill.scenario, "running",
                          self.clock_view.now, None, None, None, None, frozen_mapping({}), lab.rto_target_seconds,
                          lab.rpo_target_seconds, None)
        self.drill_list.append(drill)
        return drill

    def finish_drill(self, rto: float, rpo: float, lost: int) -> None:
        drill = self.drill_list[-1]
        met = rto <= (drill.rto_target_seconds or 0) and rpo <= (drill.rpo_target_seconds or 0)
        self.drill_list[-1] = replace(drill, status="recovered", recovered_time=iso(FROZEN_EPOCH + rto),
                                      rto_seconds=rto, rpo_count=lost, rpo_span_seconds=rpo,
                                      rpo_per_store=frozen_mapping({"invoices": lost}),
                                      compliance="PolicyMet" if met else "PolicyBreached")

    def drills(self, lab_id: str | None = None) -> tuple[DrillView, ...]:
        self._need_sandbox()
        return tuple(d for d in self.drill_list if lab_id is None or d.lab == lab_id)

    def clock(self, action: str, value: str | None = None) -> ClockView:
        self._need_sandbox()
        self._log("clock", action, value)
        view = self.clock_view
        if action == "pause":
            view = replace(view, paused=True)
        elif action == "resume":
            view = replace(view, paused=False)
        elif action == "speed":
            view = replace(view, speed=float(value or 1))
        elif action == "advance":
            epoch = view.epoch + parse_duration(value or "")
            view = replace(view, epoch=epoch, now=iso(epoch))
        else:
            raise ValueError(f"unknown clock action {action!r}")
        self.clock_view = view
        return view
