"""EngineSet finds engines by class or Protocol, and answers a kind once, not once per question."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from lab.kernel.bus import EventBus
from lab.kernel.engine import Engine, OrderStore
from lab.sandbox.engines import EngineSet


class _Sandbox:
    def __init__(self) -> None:
        self.bus = EventBus()


class Ledger(Engine):
    name = "ledger"
    order = 1

    def insert_order(self, order: dict) -> bool:
        return True

    def digests(self) -> dict:
        return {}


class Quiet(Engine):
    name = "quiet"
    order = 2


CHECKS: list[str] = []


class _CountingMeta(type(Protocol)):
    def __instancecheck__(cls, instance: object) -> bool:
        CHECKS.append(type(instance).__name__)
        return super().__instancecheck__(instance)


@runtime_checkable
class Counted(Protocol, metaclass=_CountingMeta):
    def insert_order(self, order: dict) -> bool: ...


def test_engines_are_found_by_class_and_by_protocol():
    engines = EngineSet(_Sandbox(), (Quiet, Ledger))
    assert [engine.name for engine in engines] == ["ledger", "quiet"]
    assert isinstance(engines.find(OrderStore), Ledger) and engines.find(Quiet) is engines.all(Engine)[1]
    assert engines.all(OrderStore) == (engines.find(Ledger),)


def test_a_protocol_is_checked_once_per_engine_however_often_it_is_asked():
    """A 35-day advance asked `find(OrderStore)` on every order: 165,000 structural isinstance checks, two
    thirds of the advance's time (measured by benchmarks/bench_architecture.py)."""
    engines = EngineSet(_Sandbox(), (Quiet, Ledger))
    CHECKS.clear()
    for _ in range(100):
        assert isinstance(engines.find(Counted), Ledger)
    assert sorted(CHECKS) == ["Ledger", "Quiet"]
    listed = engines.all(Counted)
    assert listed is engines.all(Counted) and listed == (engines.find(Ledger),)  # kept, and no caller can edit it
