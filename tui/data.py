"""What the terminal UI shows, and where it comes from.

The app never computes lab logic itself: a `DataSource` answers every question (the live one over the
sandbox's admin API, lab.exercises, lab.grading, lab.inventory and lab.progress: `tui.live.LiveSource`;
tests inject a canned one). Answers are immutable snapshots that the app pushes into reactive attributes,
so a widget only ever renders a value it was given, and a test can freeze every one of them.

Every `DataSource` method may block (network, disk): the app calls them from thread workers, never from
the event loop. They raise the source's `sandbox_gone` exception when the sandbox is gone, and any other
exception, whose message a person can act on, for other failures.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

RECOVERY_HINTS = "recover"  # the progress key of the drill's recovery hints (lab.grading's recovery step id)


def frozen_mapping(value: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only view, so a snapshot cannot be changed behind a widget's back."""
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True)
class ClockView:
    now: str  # sim time, ISO 8601
    epoch: float
    speed: float
    paused: bool


@dataclass(frozen=True)
class WorkloadView:
    enabled: bool
    orders_per_hour: float
    orders_total: int
    failed_writes: int


@dataclass(frozen=True)
class FaultView:
    """An active failure: a scenario the learner or a drill injected, or a lab fault rule."""

    id: str
    scenario: str
    summary: str
    regions: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    started: str = ""


@dataclass(frozen=True)
class RegionHealth:
    region: str
    state: str  # "healthy" | "degraded" | "outage"
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class SandboxView:
    """The sandbox as last read. "busy": it runs but has not answered for `waiting_seconds` (the other
    fields are what it said last); "down": it refused the connection or its process exited."""

    state: str  # "starting" | "running" | "busy" | "down"
    endpoint: str
    message: str = ""
    backend: str = ""
    pid: int | None = None
    state_dir: str = ""
    clock: ClockView | None = None
    workload: WorkloadView | None = None
    regions: tuple[RegionHealth, ...] = ()
    faults: tuple[FaultView, ...] = ()
    waiting_seconds: int = 0
    storage_warning: str = ""  # set while the sandbox's disk is full (changes are refused)

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def answering(self) -> bool:
        """Running, or busy with its last answer still the best we know."""
        return self.state in ("running", "busy")


@dataclass(frozen=True)
class CheckRefView:
    id: str
    weight: float = 1.0
    params: Mapping[str, Any] = field(default_factory=frozen_mapping)


@dataclass(frozen=True)
class StepView:
    id: str
    title: str
    instructions_md: str
    hints: tuple[str, ...] = ()
    checks: tuple[CheckRefView, ...] = ()


@dataclass(frozen=True)
class DrillSpecView:
    """A lab's drill: the scenario injected at the incident, what the learner is told of it (Markdown), and
    the scenarios that follow it (`after_seconds` after the one before)."""

    scenario: str
    params: Mapping[str, Any] = field(default_factory=frozen_mapping)
    briefing_md: str = ""
    after_seconds: int = 0
    then: tuple[DrillSpecView, ...] = ()


@dataclass(frozen=True)
class LabView:
    id: str
    title: str
    objectives: tuple[str, ...]
    estimated_minutes: int
    steps: tuple[StepView, ...]
    drill: DrillSpecView | None
    recovery_checks: tuple[CheckRefView, ...]
    rto_target_seconds: int
    rpo_target_seconds: int
    pass_mark: float
    recovery_instructions_md: str = ""  # how to recover from the drill (Markdown), shown once it has started
    recovery_hints: tuple[str, ...] = ()  # revealed one at a time, counted under RECOVERY_HINTS

    def step(self, step_id: str) -> StepView:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"lab {self.id} has no step {step_id!r}; its steps: {', '.join(s.id for s in self.steps)}")


@dataclass(frozen=True)
class LabProgressView:
    lab_id: str
    steps_done: frozenset[str] = frozenset()
    hints_revealed: Mapping[str, int] = field(default_factory=frozen_mapping)  # step id -> hints shown
    attempts: int = 0
    last_percent: float | None = None
    passed: bool = False
    current_step: str | None = None  # where the learner was; None: the first step not done

    def hints_for(self, step_id: str) -> int:
        return int(self.hints_revealed.get(step_id, 0))


@dataclass(frozen=True)
class LabSummary:
    lab: LabView
    progress: LabProgressView


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    resource_id: str
    resource_type: str
    region: str
    status: str  # "PASS" | "FAIL" | "ERROR" | "NOT_APPLICABLE"
    score: float
    max_score: float
    evidence: Mapping[str, Any]
    message: str
    hint: str = ""
    reason: str = ""


@dataclass(frozen=True)
class StepResult:
    step_id: str
    title: str
    passed: bool
    score: float
    max_score: float
    outcomes: tuple[CheckOutcome, ...]


@dataclass(frozen=True)
class LabReport:
    lab_id: str
    phase: str  # "configure" | "recover" | "all"
    checked_at: str  # sim time of the inventory the checks saw
    score: float
    max_score: float
    percent: float
    passed: bool
    steps: tuple[StepResult, ...]

    def outcomes(self) -> tuple[CheckOutcome, ...]:
        return tuple(outcome for step in self.steps for outcome in step.outcomes)


@dataclass(frozen=True)
class DrillView:
    id: str
    lab: str
    scenario: str
    status: str  # "running" | "recovered" | "ended"
    incident_time: str
    recovered_time: str | None
    rto_seconds: float | None
    rpo_count: int | None
    rpo_span_seconds: float | None
    rpo_per_store: Mapping[str, Any]
    rto_target_seconds: int | None
    rpo_target_seconds: int | None
    compliance: str | None  # "PolicyMet" | "PolicyBreached" | None while running

    @property
    def finished(self) -> bool:
        return self.status != "running"


@dataclass(frozen=True)
class ResourceView:
    region: str
    service: str  # "s3", "dynamodb", "rds", "ec2", "backup", ...
    kind: str  # "bucket", "table", "db-instance", "instance", "volume", "vault", ...
    id: str
    name: str
    status: str = ""
    zone: str | None = None  # availability zone, for zonal resources
    summary: str = ""  # one line for lists and the map
    details: Mapping[str, Any] = field(default_factory=frozen_mapping)


@dataclass(frozen=True)
class ReplicationLink:
    kind: str  # "S3 CRR", "DynamoDB replica", "Backup copy", "RDS read replica", ...
    source_region: str
    source: str
    target_region: str
    target: str
    state: str  # "replicating" | "paused" | "failing" | "idle"
    detail: str = ""


@dataclass(frozen=True)
class RegionView:
    region: str
    zones: tuple[str, ...]
    resources: tuple[ResourceView, ...]


@dataclass(frozen=True)
class WorldView:
    collected_at: str
    regions: tuple[RegionView, ...]
    links: tuple[ReplicationLink, ...]

    def region(self, name: str) -> RegionView | None:
        return next((region for region in self.regions if region.region == name), None)


@dataclass(frozen=True)
class EventView:
    seq: int
    time: float  # sim epoch seconds
    kind: str
    source: str
    name: str
    region: str | None = None
    resource: str | None = None
    detail: Mapping[str, Any] = field(default_factory=frozen_mapping)
    by_lab: bool = False  # an API call the lab made itself (seeding the world, an engine acting as AWS)


@dataclass(frozen=True)
class EventBatch:
    events: tuple[EventView, ...]
    last_seq: int


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str  # "string" | "integer" | "number" | "boolean" | "duration" | ...
    default: Any = None
    description: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class ScenarioView:
    name: str
    description: str
    params: tuple[ParamSpec, ...] = ()


class DataSource(ABC):
    """Everything the app reads or asks the lab to do. Blocking: call from a thread worker."""

    #: what the source raises when the sandbox is gone (the app then offers to restart it)
    sandbox_gone: type[Exception] = ConnectionError
    #: the sandbox's regions, the primary first and the disaster-recovery region second
    regions: tuple[str, ...] = ()

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """The sandbox's endpoint, for messages."""

    @abstractmethod
    def sandbox(self) -> SandboxView:
        """The sandbox now: state "down" when it refuses connections or its process exited, "busy" when
        it runs but did not answer in time; never raises for either."""

    @abstractmethod
    def ensure_running(self) -> SandboxView:
        """Start the sandbox if it is not running, then describe it."""

    @abstractmethod
    def restart(self) -> SandboxView:
        """Start the sandbox again after it died (its saved state comes back)."""

    @abstractmethod
    def labs(self) -> tuple[LabSummary, ...]:
        """Every lab, with the learner's progress."""

    @abstractmethod
    def lab(self, lab_id: str) -> LabSummary:
        """One lab with its progress; KeyError (with a clear message) for an unknown id."""

    @abstractmethod
    def run_checks(self, lab_id: str, phase: str = "configure", *, attempt: bool = True) -> LabReport:
        """Collect the sandbox's inventory and grade the lab; records steps passed and, for an `attempt`
        (the learner asked), the attempt and its score."""

    @abstractmethod
    def reveal_hint(self, lab_id: str, step_id: str) -> LabProgressView:
        """Count one more hint shown for the step (never beyond the step's hints); step_id RECOVERY_HINTS
        counts one of the drill's recovery hints."""

    @abstractmethod
    def set_current_step(self, lab_id: str, step_id: str) -> LabProgressView:
        """Remember where the learner is (this lab, this step), so reopening resumes there."""

    @abstractmethod
    def settings(self) -> Mapping[str, Any]:
        """What the UI starts with: "theme" (saved with save_setting), "last_lab" (the lab of the last
        set_current_step)."""

    @abstractmethod
    def save_setting(self, name: str, value: Any) -> None:
        """Keep one UI choice for the next start."""

    @abstractmethod
    def world(self) -> WorldView:
        """Both regions' resources and the replication between them."""

    @abstractmethod
    def events(self, since: int = 0, limit: int = 500) -> EventBatch:
        """Events after sequence number `since` (oldest first, at most `limit`)."""

    @abstractmethod
    def scenarios(self) -> tuple[ScenarioView, ...]:
        """Failure scenarios that can be injected."""

    @abstractmethod
    def inject(self, scenario: str, params: Mapping[str, Any]) -> FaultView:
        """Inject a failure scenario now."""

    @abstractmethod
    def recover(self) -> None:
        """End every active scenario and fault."""

    @abstractmethod
    def start_drill(self, lab_id: str) -> DrillView:
        """Inject the lab's drill and start measuring RPO/RTO."""

    @abstractmethod
    def drills(self, lab_id: str | None = None) -> tuple[DrillView, ...]:
        """Drills so far (of one lab), oldest first."""

    @abstractmethod
    def clock(self, action: str, value: str | None = None) -> ClockView:
        """Drive sim time: "pause", "resume", "speed" (value: the factor) or "advance" (value: a duration)."""
