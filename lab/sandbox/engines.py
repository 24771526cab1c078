"""All engines of one sandbox, found by capability, and the time loop that plays them in sim-time order."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from lab.kernel.bus import CallAnswered
from lab.kernel.context import ACTING_AS
from lab.kernel.engine import Engine
from lab.sandbox.timetravel import time_machine

if TYPE_CHECKING:
    from lab.kernel.context import RequestContext
    from lab.kernel.port import Sandbox

log = logging.getLogger("lab.engines")
T = TypeVar("T")


class EngineSet:
    def __init__(self, sandbox: Sandbox, classes: Sequence[type[Engine]]) -> None:
        self.sandbox = sandbox
        names = [cls.name for cls in classes]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates or not all(names):
            raise ValueError(f"every engine needs a unique name: {duplicates or names}")
        self.engines: list[Engine] = [cls(sandbox) for cls in sorted(classes, key=lambda c: (c.order, c.name))]
        # kind -> the engines that are one, found once: the engines never change, and a runtime-checkable
        # Protocol's isinstance walks its members on every check (the data layer asks on every write).
        self._by_kind: dict[type, tuple[Engine, ...]] = {}
        self.steps_run = 0  # every step ever played: with the lab's request sequence, what says the world changed
        sandbox.bus.subscribe(CallAnswered, self.observe)
        # (only the engines that act before calls are asked on every call)
        self._preparing = [engine for engine in self.engines if type(engine).prepare is not Engine.prepare]

    def __iter__(self) -> Iterator[Engine]:
        return iter(self.engines)

    def _of_kind(self, kind: type[T]) -> tuple[T, ...]:
        """Answered once per kind: an isinstance check against a runtime-checkable Protocol inspects the class's
        members every time (tens of microseconds), and the workload asks for its order store on every order, a
        month of them in a long advance. The engines are made once, with the sandbox, and what they are is their
        classes' (the Protocols have methods and class variables, no instance data), so the answer holds."""
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = tuple(engine for engine in self.engines if isinstance(engine, kind))
        return found

    def find(self, kind: type[T]) -> T | None:
        """The first engine that is a `kind` (a class or a runtime-checkable Protocol), or None."""
        found = self._of_kind(kind)
        return found[0] if found else None

    def all(self, kind: type[T]) -> tuple[T, ...]:
        """Every engine that is a `kind`, in engine order: the tuple kept, not a list made per question (the
        data layer's write guards ask on every write)."""
        return self._of_kind(kind)

    def prepare(self, ctx: RequestContext) -> None:
        for engine in self._preparing:
            engine.prepare(ctx)

    def observe(self, event: CallAnswered) -> None:
        """Every engine sees an answered call, in engine order, as the service it simulates."""
        ctx = event.ctx
        for engine in self.engines:
            token = ACTING_AS.set(engine.service_principal)
            try:
                engine.observe(ctx)
            except Exception:  # one engine's bug must not fail the learner's call that already succeeded
                log.exception("engine %s failed observing %s", engine.name,
                              ctx.identity.operation if ctx.identity else ctx.path)
            finally:
                ACTING_AS.reset(token)

    def next_due(self) -> tuple[float, Engine] | None:
        best: float | None = None
        chosen: Engine | None = None
        for engine in self.engines:
            due = engine.next_due()
            if due is not None and (best is None or due < best):
                best, chosen = due, engine
        return None if best is None or chosen is None else (best, chosen)

    def run_until(self, target: float, max_steps: int = 5_000_000) -> int:
        """Play every due event up to sim time `target`, in time order. Returns how many steps ran."""
        clock = self.sandbox.clock
        steps = 0
        # Everything an engine does (moto included) sees the step's sim time. One traveller moved from step
        # to step costs a quarter of entering and leaving one per step, and a long advance has millions.
        traveller: Any = None
        try:
            while steps < max_steps:
                found = self.next_due()
                if found is None or found[0] > target:
                    break
                due, engine = found
                now = clock.set_time(due)
                if traveller is None:
                    # (a restored service an engine reaches into loads on that first touch: see
                    # _loads_first in lab/backends/embedded.py)
                    traveller = time_machine.travel(now, tick=False)
                    coordinates = traveller.start()
                else:
                    coordinates.move_to(now)
                token = ACTING_AS.set(engine.service_principal)
                try:
                    engine.run_due(max(due, now))
                finally:
                    ACTING_AS.reset(token)
                steps += 1
        finally:
            self.steps_run += steps
            if traveller is not None:
                traveller.stop()
        clock.set_time(target)
        return steps

    def describe(self) -> dict[str, Any]:
        return {engine.name: engine.describe() for engine in self.engines}
