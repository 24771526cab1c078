"""Simulation engines: the behaviours AWS has that emulators lack, one module each.

Every module in this package that defines a subclass of `Engine` is loaded by the sandbox (no list to
edit: a new engine is a new file). An engine:
  - keeps its state in `self.state`, a picklable object stored in the lab state (saved with snapshots);
  - may answer AWS calls itself (`handles` + `serve`: a lab service such as AWS Backup jobs), and
    observes every answered call (`observe`: e.g. S3 PutObject queues a replication);
  - acts in sim time: `next_due()` says when it next has work, `run_due(now)` does it. The clock plays
    engines in time order, ties broken by `order`, so the same seed and the same calls give the same world;
  - reads time only from `self.sandbox.clock`, and acts on resources through `self.sandbox.client(...)`
    (the AWS APIs, in-process) or, for data moto does not hold, its own state.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from lab.gateway.context import RequestContext
    from lab.sandbox.core import Sandbox

log = logging.getLogger("lab.engines")


class Engine:
    #: unique key of the engine's state in the lab state, and its name in events
    name: ClassVar[str] = ""
    #: tie-break when two engines are due at the same sim time (lower runs first)
    order: ClassVar[int] = 100

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    # -- state -------------------------------------------------------------------------------------

    def initial_state(self) -> Any:
        """The engine's state in a fresh world (picklable)."""
        return {}

    @property
    def state(self) -> Any:
        extensions = self.sandbox.lab.extensions
        try:
            return extensions[self.name]
        except KeyError:
            made = extensions[self.name] = self.initial_state()
            return made

    @state.setter
    def state(self, value: Any) -> None:
        self.sandbox.lab.extensions[self.name] = value

    # -- request path ------------------------------------------------------------------------------

    def handles(self, ctx: RequestContext) -> bool:
        """True if this engine answers the call itself instead of the backend."""
        return False

    def serve(self, ctx: RequestContext) -> None:
        """Answer the call (set ctx.response). Called only when handles() said so."""

    def observe(self, ctx: RequestContext) -> None:
        """See every answered AWS call (ctx.response is set); react to what changed."""

    # -- time --------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """Sim time of the next thing this engine will do, or None."""
        return None

    def run_due(self, now: float) -> None:
        """Do everything due at or before `now` (sim time)."""

    # -- helpers -----------------------------------------------------------------------------------

    def now(self) -> float:
        return self.sandbox.clock.now()

    def emit(self, name: str, *, kind: str = "engine", region: str | None = None, resource: str | None = None,
             **detail: Any) -> None:
        self.sandbox.events.add(self.now(), kind, self.name, name, region, resource, detail)

    def describe(self) -> dict[str, Any]:
        """A summary for `lab status` and the TUI."""
        return {}


def discover() -> list[type[Engine]]:
    """Every Engine subclass defined in the modules of this package, in a stable order."""
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    found: dict[str, type[Engine]] = {}

    def collect(cls: type[Engine]) -> None:
        for sub in cls.__subclasses__():
            if sub.name:
                if sub.name in found and found[sub.name] is not sub:
                    raise RuntimeError(f"two engines are named {sub.name!r}: {found[sub.name]} and {sub}")
                found[sub.name] = sub
            collect(sub)

    collect(Engine)
    return sorted(found.values(), key=lambda cls: (cls.order, cls.name))


class EngineSet:
    """All engines of one sandbox, and the time loop that plays them."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.engines: list[Engine] = [cls(sandbox) for cls in discover()]
        self.by_name = {engine.name: engine for engine in self.engines}

    def __getitem__(self, name: str) -> Engine:
        return self.by_name[name]

    def get(self, name: str) -> Engine | None:
        return self.by_name.get(name)

    def serve(self, ctx: RequestContext) -> bool:
        for engine in self.engines:
            if engine.handles(ctx):
                engine.serve(ctx)
                return True
        return False

    def observe(self, ctx: RequestContext) -> None:
        for engine in self.engines:
            try:
                engine.observe(ctx)
            except Exception:  # one engine's bug must not fail the learner's call that already succeeded
                log.exception("engine %s failed observing %s", engine.name,
                              ctx.identity.operation if ctx.identity else ctx.path)

    def next_due(self) -> tuple[float, Engine] | None:
        best: float | None = None
        chosen: Engine | None = None
        for engine in self.engines:
            due = engine.next_due()
            if due is not None and (best is None or due < best):
                best, chosen = due, engine
        return None if chosen is None else (best, chosen)  # type: ignore[return-value]

    def run_until(self, target: float, max_steps: int = 5_000_000) -> int:
        """Play every due event up to sim time `target`, in time order. Returns how many steps ran."""
        import time_machine

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
                engine.run_due(max(due, now))
                steps += 1
        finally:
            if traveller is not None:
                traveller.stop()
        clock.set_time(target)
        return steps
