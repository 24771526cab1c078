"""EngineSet: engines found by class or Protocol, each engine checked against a kind once.

A runtime-checkable Protocol's isinstance walks the Protocol's members on every check; the data layer asks for
every DataWriteGuard on every write, so a month of sim time asked it millions of times (most of a clock advance).
"""

from __future__ import annotations

from typing import Any

from lab.kernel.bus import EventBus
from lab.kernel.engine import Engine
from lab.sandbox.engines import EngineSet


class _CountingKind(type):
    checks = 0

    def __instancecheck__(cls, instance: Any) -> bool:
        _CountingKind.checks += 1
        return getattr(instance, "guards", False)


class Guarding(metaclass=_CountingKind):
    """A kind whose isinstance checks are counted."""


class _Sandbox:
    def __init__(self) -> None:
        self.bus = EventBus()


def _engine(name: str, guards: bool) -> type[Engine]:
    return type(f"Engine{name}", (Engine,), {"name": name, "guards": guards})


def test_every_engine_is_checked_against_a_kind_once():
    engines = EngineSet(_Sandbox(), [_engine("a", True), _engine("b", False), _engine("c", True)])  # type: ignore[arg-type]
    _CountingKind.checks = 0
    for _ in range(100):
        found = engines.all(Guarding)
        first = engines.find(Guarding)
    assert [engine.name for engine in found] == ["a", "c"]
    assert first is found[0]
    assert _CountingKind.checks == 3


def test_answers_are_the_engines_own_and_cannot_be_edited_by_a_caller():
    engines = EngineSet(_Sandbox(), [_engine("a", True), _engine("b", False)])  # type: ignore[arg-type]
    engines.all(Guarding).clear()
    assert [engine.name for engine in engines.all(Guarding)] == ["a"]
    assert engines.find(_engine("z", True)) is None
