"""The lab's own parts of the inventory: the shop's ledger of orders, the drills, the fault injections and
the sim clock.

The ledger is what the shop believes it wrote: every order with its creation time and the stores that refused
it. It is kept as runs (orders numbered one after the other, created a steady step apart: a month of one order
a minute is two runs, the seeded orders and the workload's), so that its size does not grow with the world.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from checks.inventory.base import IdSet, Model, number_id, order_number

STORES = ("rds", "dynamodb", "s3")  # the ledger's names of the stores an order is written to


class LedgerRun(Model, array_like=True):
    """Orders first..first+count-1, created at start, start+step, ... (epoch seconds)."""

    first: int
    count: int
    start: int
    step: int


class LedgerEntry(Model, array_like=True):
    """An order whose id is not of the numbered form (ORD-000001), with its creation (epoch seconds)."""

    order_id: str
    created: int


class Ledger(Model):
    total: int = 0
    runs: list[LedgerRun] = msgspec.field(default_factory=list)
    unnumbered: list[LedgerEntry] = msgspec.field(default_factory=list)
    refused: dict[str, IdSet] = msgspec.field(default_factory=dict)  # store -> the orders it refused

    @classmethod
    def of(cls, orders: Iterable[tuple[str, int, Iterable[str]]]) -> Ledger:
        """From (order id, creation epoch seconds, the stores that refused it), in the order they were placed."""
        builder = LedgerBuilder()
        for order_id, created, refused in orders:
            builder.add(order_id, created, refused)
        return builder.ledger()

    def created(self, order_id: str) -> int | None:
        """When the order was created (epoch seconds); None for an order the ledger does not hold."""
        number = order_number(order_id)
        if number is not None:
            for run in self.runs:
                if run.first <= number < run.first + run.count:
                    return run.start + (number - run.first) * run.step
        for entry in self.unnumbered:
            if entry.order_id == order_id:
                return entry.created
        return None

    def before(self, moment: float, store: str | None = None) -> IdSet:
        """The orders created before `moment` (epoch) -- of those, the ones `store` accepted when placed."""
        numbers: list[tuple[int, int]] = []
        for run in self.runs:
            if run.start >= moment:
                continue
            taken = run.count if run.step <= 0 else min(run.count, math.ceil((moment - run.start) / run.step))
            if taken > 0:
                numbers.append((run.first, run.first + taken - 1))
        chosen = IdSet(runs=merge_runs(numbers),
                       others=sorted({entry.order_id for entry in self.unnumbered if entry.created < moment}))
        refused = self.refused.get(store) if store else None
        return chosen.difference(refused) if refused else chosen

    def entries(self) -> Iterator[tuple[str, int]]:
        """(order id, creation) of every order."""
        for run in self.runs:
            for index in range(run.count):
                yield number_id(run.first + index), run.start + index * run.step
        for entry in self.unnumbered:
            yield entry.order_id, entry.created


def merge_runs(runs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(runs):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


class LedgerBuilder:
    """Builds a Ledger one order at a time, so that a growing ledger is encoded once per order."""

    def __init__(self) -> None:
        self.runs: list[LedgerRun] = []
        self.unnumbered: list[LedgerEntry] = []
        self.refused: dict[str, list[str]] = {}
        self.total = 0

    def add(self, order_id: str, created: int, refused: Iterable[str] = ()) -> None:
        self.total += 1
        for store in refused:
            self.refused.setdefault(store, []).append(order_id)
        number = order_number(order_id)
        if number is None:
            self.unnumbered.append(LedgerEntry(order_id, created))
            return
        if self.runs:
            last = self.runs[-1]
            if number == last.first + last.count:
                if last.count == 1 and created >= last.start:
                    last.step, last.count = created - last.start, 2
                    return
                if created == last.start + last.count * last.step:
                    last.count += 1
                    return
        self.runs.append(LedgerRun(number, 1, created, 0))

    def ledger(self) -> Ledger:
        return Ledger(total=self.total, runs=[LedgerRun(r.first, r.count, r.start, r.step) for r in self.runs],
                      unnumbered=list(self.unnumbered),
                      refused={store: IdSet.of(ids) for store, ids in sorted(self.refused.items())})


def epoch_of(iso_time: str) -> int:
    """'2026-03-01T12:00:00Z' -> epoch seconds."""
    moment = datetime.fromisoformat(iso_time.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


# -- drills and fault injections ---------------------------------------------------------------------------

class StoreLoss(Model):
    count: int = 0
    span_seconds: int = 0
    oldest: str | None = None
    newest: str | None = None


class Rpo(Model):
    count: int = 0
    span_seconds: int = 0
    per_store: dict[str, StoreLoss] = msgspec.field(default_factory=dict)


class Targets(Model):
    rto_seconds: int = 0
    rpo_seconds: int = 0


class Drill(Model):
    id: str
    lab: str | None = None
    scenario: str | None = None
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    incident_time: str | None = None
    status: str | None = None  # "running" | "recovered" | "ended"
    recovered_time: str | None = None
    ended_time: str | None = None
    end_reason: str | None = None
    rto_seconds: int | None = None
    rpo: Rpo = msgspec.field(default_factory=Rpo)
    targets: Targets = msgspec.field(default_factory=Targets)
    compliance: str | None = None
    result: dict[str, Any] | None = None  # Resilience Hub's assessment shape
    before: dict[str, Any] | None = None
    injections: list[str] = msgspec.field(default_factory=list)
    evaluations: int = 0
    last_evaluated: str | None = None
    last_checks: list[dict[str, Any]] = msgspec.field(default_factory=list)
    error: str | None = None


class Effect(Model):
    kind: str | None = None  # e.g. "data-destroyed"
    target: str | None = None
    detail: dict[str, Any] = msgspec.field(default_factory=dict)
    undone: bool = False


class Injection(Model):
    id: str
    source: str | None = None
    name: str | None = None
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    status: str | None = None
    created: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    started: str | None = None
    ended: str | None = None
    end_reason: str | None = None
    error: str | None = None
    drill: str | None = None
    experiment: str | None = None
    outcome: dict[str, Any] = msgspec.field(default_factory=dict)  # what it did (counts, ids)
    effects: list[Effect] = msgspec.field(default_factory=list)


class Faults(Model):
    injections: list[Injection] = msgspec.field(default_factory=list)
    regions_down: list[str] = msgspec.field(default_factory=list)


class Clock(Model):
    now: str | None = None
    epoch: float | None = None
    speed: float | None = None
    paused: bool | None = None

