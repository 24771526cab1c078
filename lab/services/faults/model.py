"""What the faults engine keeps (picklable, saved with every snapshot): rules, injections and their effects,
the Chaos API's configuration, FIS templates and experiments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.services.faults.rules import ChaosConfig, FaultRule


@dataclass
class Effect:
    """One change an injection made to the sandbox, kept so that ending the injection can undo it.

    kind: "rule" | "region-down" | "replication-paused" | "instances-stopped" | "volumes-paused" |
          "db-unavailable" | "db-rebooted" | "endpoints-down" | "data-destroyed"
    One-shot kinds (db-rebooted, data-destroyed) have nothing to undo: what they destroyed stays destroyed.
    """

    kind: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict)
    undone: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "detail": self.detail, "undone": self.undone}


@dataclass
class Injection:
    """A scenario run or a FIS action: what was injected, when, for how long, and what it did."""

    id: str
    source: str  # "scenario" | "fis"
    name: str  # scenario name, or FIS action id
    params: dict[str, Any]
    created: float
    starts_at: float
    ends_at: float | None  # None: until `lab recover` (or, for FIS, until the experiment stops)
    status: str = "scheduled"  # scheduled | active | ended | failed
    effects: list[Effect] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)
    started: float | None = None
    ended: float | None = None
    end_reason: str | None = None
    error: str | None = None
    drill: str | None = None  # the drill this injection belongs to
    experiment: str | None = None  # the FIS experiment (and action name) this injection belongs to


@dataclass
class FisAction:
    name: str
    action_id: str
    description: str | None
    parameters: dict[str, str]
    targets: dict[str, str]
    start_after: list[str]
    status: str = "pending"
    reason: str = "Initial state"
    start_time: float | None = None
    end_time: float | None = None
    ends_at: float | None = None  # when its duration runs out
    injection: str | None = None


@dataclass
class FisExperiment:
    id: str
    region: str
    template_id: str
    role_arn: str
    targets: dict[str, dict[str, Any]]
    actions: dict[str, FisAction]
    stop_conditions: list[dict[str, Any]]
    tags: dict[str, str]
    options: dict[str, Any]
    log_configuration: dict[str, Any] | None
    creation_time: float
    status: str = "initiating"
    reason: str = "Experiment is initiating."
    error: dict[str, str] | None = None
    start_time: float | None = None
    end_time: float | None = None
    resolved: dict[str, list[str]] = field(default_factory=dict)  # target name -> resource ARNs
    next_check: float | None = None  # when the engine next looks at it


@dataclass
class FisState:
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> stored template (API shape)
    experiments: dict[str, FisExperiment] = field(default_factory=dict)
    client_tokens: dict[str, str] = field(default_factory=dict)  # "template:<token>" / "experiment:<token>" -> id
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # resource ARN -> tags
    created: int = 0  # ids issued so far


@dataclass
class FaultsState:
    rules: list[FaultRule] = field(default_factory=list)  # lab rules and the rules injections own, in order
    chaos: ChaosConfig = field(default_factory=ChaosConfig)
    chaos_rules: list[FaultRule] = field(default_factory=list)  # compiled from chaos.rules, with counters
    injections: dict[str, Injection] = field(default_factory=dict)
    regions_down: dict[str, int] = field(default_factory=dict)  # region -> injections holding it down
    paused: dict[str, int] = field(default_factory=dict)  # "engine:resource" -> injections pausing it
    volumes_paused: dict[str, int] = field(default_factory=dict)  # volume id -> injections pausing its I/O
    dbs_down: dict[str, int] = field(default_factory=dict)  # "region:db" -> injections holding it unavailable
    endpoints_down: dict[str, int] = field(default_factory=dict)  # endpoint -> injections holding it down
    fis: FisState = field(default_factory=FisState)
    issued: int = 0  # ids issued so far (rules, injections)

    def next_id(self, prefix: str) -> str:
        self.issued += 1
        return f"{prefix}-{self.issued:04d}"
