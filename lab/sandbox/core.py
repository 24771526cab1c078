"""The sandbox: one backend, the gateway in front of it, the lab's own state, and its persistence."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import time_machine  # (loaded with the sandbox: not by the first call or the first clock advance, 0.1 s)

from lab import __version__, config
from lab.backends.base import Backend
from lab.gateway.app import GatewayApp, build_chain
from lab.gateway.context import RequestContext
from lab.sandbox import inprocess
from lab.sandbox.persistence import StateStore
from lab.sim.clock import ClockState, SimClock
from lab.sim.events import EventLog

log = logging.getLogger("lab.sandbox")

# Operations that only read, by botocore naming convention; everything else may change state.
_READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Test", "Search", "Scan", "Query", "BatchGet",
                  "Select", "Estimate", "Validate", "Check", "Preview")
SNAPSHOT_EVERY = 1000  # journal records between automatic snapshots


@dataclass
class LabState:
    """What the lab itself owns, saved in the snapshot beside the backend's resources."""

    seed: int = config.DEFAULT_SEED
    seq: int = 0  # state-changing requests applied so far; seeds moto's ids for the next one
    world_seeded: bool = False
    world_missing: list[str] = field(default_factory=list)  # parts the backend could not hold ("rds", ...)
    orders: list[dict[str, Any]] = field(default_factory=list)  # the world's initial orders
    clock: ClockState = field(default_factory=lambda: ClockState(sim_time=time.time()))
    events: EventLog = field(default_factory=EventLog)
    extensions: dict[str, Any] = field(default_factory=dict)  # engines keep their state here, by name


def is_mutating(ctx: RequestContext) -> bool:
    identity = ctx.identity
    if identity is not None and identity.operation:
        return not identity.operation.startswith(_READ_PREFIXES)
    return ctx.method not in ("GET", "HEAD", "OPTIONS")


class Sandbox:
    def __init__(self, backend: Backend, state_dir: Path, *, host: str = config.DEFAULT_HOST,
                 port: int = config.DEFAULT_PORT, seed: int = config.DEFAULT_SEED, seed_world: bool = True,
                 fsync: bool = False) -> None:
        self.backend = backend
        self.state_dir = state_dir
        self.host = host
        self.port = port
        self.endpoint = config.endpoint_url(port, host if host not in ("0.0.0.0", "::") else config.DEFAULT_HOST)
        self.seed_world_on_boot = seed_world
        self.lock = threading.RLock()
        self.ready = threading.Event()
        self.shutdown_requested = threading.Event()
        self.started_at = time.time()
        self.boot_seconds: float | None = None
        self.world_source = "saved state"  # or "seeded" / "template" when this start created the world
        self.lab = LabState(seed=seed)
        self.warnings: list[str] = []
        # A backend that keeps nothing across restarts (LocalStack in host mode) gets a lab state of its own,
        # begun anew at every start: the saved state of another backend in this state dir stays untouched.
        self.ephemeral = bool(getattr(backend, "ephemeral", False))
        self.store = StateStore(state_dir / getattr(backend, "lab_state_subdir", "state"), fsync=fsync)
        self.journaling = backend.persistent
        self.clock = SimClock(self.lab.clock)
        self.app = GatewayApp(build_chain(self))
        self._clients: dict[tuple[str, str], Any] = {}
        # Set by the server: keep what is alive now out of the garbage collector's scans (see settle_heap
        # in lab/sandbox/server.py). Called when the world's objects change wholesale: warm-up, reset.
        self.settle_heap: Callable[[bool], None] | None = None
        self._depth = threading.local()  # nesting of apply(): only the outermost call is journaled
        self._unjournaled = 0  # changes since the last snapshot that no journal holds (remote backends)
        from lab.engines import EngineSet

        self.engines = EngineSet(self)

    @property
    def events(self) -> EventLog:
        return self.lab.events

    def _adopt(self, lab: LabState) -> None:
        """Make `lab` the current lab state (restore, reset) and the clock follow it."""
        self.lab = lab
        self.clock = SimClock(lab.clock)

    @contextlib.contextmanager
    def sim_time(self) -> Iterator[None]:
        """Let everything in this block (moto included) see the sim clock's time."""
        with time_machine.travel(self.clock.now(), tick=False):
            yield

    # -- start-up ----------------------------------------------------------------------------------

    def boot(self) -> None:
        started = time.perf_counter()
        self.backend.start()
        limitations = getattr(self.backend, "limitations", None)
        self.warnings.extend(limitations() if limitations else [])
        if self.ephemeral:
            self.store.clear()  # the backend starts empty: what the last run saved describes nothing now
        self._restore()
        if self.seed_world_on_boot and not self.lab.world_seeded:
            self._create_world()
        self.boot_seconds = time.perf_counter() - started
        self.ready.set()
        log.info("sandbox ready in %.2fs (backend %s)", self.boot_seconds, self.backend.name)

    def _create_world(self) -> None:
        """Seed the SecureCart world, from the template cache when it holds this exact world."""
        from lab.sandbox import template
        from lab.world import seed_world

        version = getattr(self.backend, "template_version", None)
        cached = template.load(self.lab.seed, version) if version else None
        if cached is not None:
            self.backend.import_state(cached["backend"])
            self._adopt(cached["lab"])
            self.snapshot()
            self.world_source = "template"
            log.info("world restored from the template cache")
            return
        self.world_source = "seeded"
        seed_world(self)
        self.lab.world_seeded = True
        self.snapshot()
        if version:
            template.save(self.lab.seed, version, self._state_for_snapshot())

    def warm_up(self) -> None:
        """Load the services a restore left as bytes, one at a time, between requests; and build the
        request matchers of the services learners use first and the clients the engines use, so no first
        call or first scheduled backup pays for them."""
        from lab.gateway.identify import identify

        for service in ("s3", "dynamodb", "rds", "ec2", "backup", "sts", "iam"):
            scope = f"Credential=test/20260101/{config.PRIMARY_REGION}/{service}/aws4_request"
            identify("GET", "/", "", {"Authorization": f"AWS4-HMAC-SHA256 {scope}, SignedHeaders=host, Signature=0"},
                     b"")
        # What AWS Backup's first scheduled run lists resources with (botocore reads paginators from disk).
        for service, operations in (("rds", ("describe_db_instances",)), ("dynamodb", ("list_tables",)),
                                    ("ec2", ("describe_volumes", "describe_instances")), ("s3", ())):
            client = self.client(service)
            for operation in operations:
                client.get_paginator(operation)
        for _ in range(len(self.backend.pending)):
            with self.lock:
                pending = self.backend.pending
                if not pending:
                    break
                self.backend.materialize(pending[0])  # type: ignore[attr-defined]
        if self.settle_heap is not None:
            self.settle_heap(False)  # the restored world just loaded lives as long as the process

    def _restore(self) -> None:
        assert self.store is not None
        loaded = self.store.load()
        for warning in loaded.warnings:
            log.warning(warning)
        self.warnings.extend(loaded.warnings)
        if loaded.snapshot is not None:
            try:
                self.backend.import_state(loaded.snapshot["backend"])
                self._adopt(loaded.snapshot["lab"])
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                moved = self.store._set_aside(self.store.snapshot_path)
                message = (f"the saved sandbox state could not be used ({exc}); it was moved to {moved} and the "
                           "sandbox started from a fresh world")
                log.warning(message)
                self.warnings.append(message)
                self.backend.reset()
                self._adopt(LabState(seed=self.lab.seed))
                return
        if loaded.journal:
            self._replay(loaded.journal)

    def _replay(self, records: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        for record in records:
            environ = inprocess.environ_for(record["method"], self.endpoint + record["uri"], record["headers"],
                                            record["body"])
            environ["lab.replaying"] = True
            # Each call runs at the sim time it first ran, so ids, timestamps and engine work come back
            # exactly as the user saw them.
            self.clock.pin(record["t"])
            inprocess.call_app(self.app, environ)
        self.clock.pin(None)
        log.info("replayed %d journal records in %.2fs", len(records), time.perf_counter() - started)

    # -- the request path --------------------------------------------------------------------------

    def apply(self, ctx: RequestContext, action: Callable[[RequestContext], None],
              mutating: bool | None = None) -> None:
        """Run `action` for a request, serialised with everything else that touches state.

        A state-changing call first lets the engines catch up to now (so what was due happens before it),
        runs with moto's ids seeded by its place in the sequence, and -- if it is an outermost call, not
        one an engine or the replay made -- is journaled before its answer leaves.
        """
        ctx.mutating = is_mutating(ctx) if mutating is None else mutating
        with self.lock:
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            outermost = depth == 0
            try:
                if outermost:
                    # One instant per call: the journal can replay it at exactly this sim time.
                    started = self.clock.now()
                    self.clock.pin(started)
                if ctx.mutating:
                    if outermost and (self.ready.is_set() or ctx.replaying):
                        # Replay too: what fell due before a call happened before it the first time.
                        self.engines.run_until(started)
                seq_before = self.lab.seq
                if ctx.mutating:
                    self.lab.seq += 1
                    self.backend.reseed(f"{self.lab.seed}:{self.lab.seq}")
                try:
                    with self.sim_time():
                        action(ctx)
                finally:
                    if outermost and (ctx.response is None or ctx.response.status >= 400):
                        # A refused call is not journaled, so it must not move the id sequence either:
                        # the replay would otherwise seed every later call differently.
                        self.lab.seq = seq_before
                if (outermost and ctx.mutating and not ctx.replaying
                        and ctx.response is not None and ctx.response.status < 400):
                    if self.journaling:
                        self.store.append(self._record(ctx, started))
                    else:
                        self._unjournaled += 1
                    if self.store.journal_records + self._unjournaled >= SNAPSHOT_EVERY:
                        self.snapshot()
            finally:
                self._depth.value = depth
                if outermost:
                    self.clock.pin(None)

    def serve_aws(self, ctx: RequestContext) -> None:
        """An AWS call: a lab service answers it if one owns it, else the backend; then engines observe."""
        if not self.engines.serve(ctx):
            self.backend.dispatch(ctx)
        if ctx.response is not None and ctx.response.status < 400:
            self.engines.observe(ctx)

    def tick(self) -> int:
        """Play what is due up to now (the clock moves on its own between calls)."""
        return self.engines.run_until(self.clock.now())

    def _record(self, ctx: RequestContext, sim_time: float) -> dict[str, Any]:
        return {
            "t": sim_time,
            "method": ctx.method,
            "uri": ctx.path + (f"?{ctx.query_string}" if ctx.query_string else ""),
            "headers": [(k, v) for k, v in ctx.headers.items() if k.lower() != "content-length"],
            "body": ctx.body,
        }

    # -- lab operations ----------------------------------------------------------------------------

    def client(self, service: str, region: str = config.PRIMARY_REGION) -> Any:
        """A boto3 client served by this sandbox in-process (no socket)."""
        key = (service, region)
        found = self._clients.get(key)
        if found is None:
            from lab.awsclient import client as make_client

            found = inprocess.attach(make_client(service, region, self.endpoint), self.app)
            self._clients[key] = found
        return found

    def snapshot(self) -> int:
        with self.lock:
            self._unjournaled = 0
            size = self.store.write_snapshot(self._state_for_snapshot())
        log.info("snapshot written: %d bytes", size)
        return size

    def _state_for_snapshot(self) -> dict[str, Any]:
        self.lab.clock = self.clock.state()
        return {"format": 1, "lab_version": __version__, "saved_at": time.time(),
                "backend": self.backend.export_state(), "lab": self.lab}

    def reset(self) -> None:
        with self.lock:
            self.backend.reset()
            self._adopt(LabState(seed=self.lab.seed))
            self.store.clear()
            if self.seed_world_on_boot:
                self._create_world()
            else:
                self.snapshot()
            if self.settle_heap is not None:
                self.settle_heap(True)  # the old world is garbage now, the new one lives on

    def request_shutdown(self) -> None:
        self.shutdown_requested.set()

    def close(self) -> None:
        """Graceful stop: one last snapshot so the next start needs no replay."""
        if self.ephemeral:
            # Nothing of this run is restored (the next start begins anew): stop the backend first, so a call
            # still waiting on it ends now instead of holding the lock a snapshot would wait for.
            self.backend.stop()
            self.store.close()
            return
        if self.ready.is_set():
            self.snapshot()
        self.store.close()
        self.backend.stop()

    def status(self, with_counts: bool = True) -> dict[str, Any]:
        from lab.world import resource_counts

        now = time.time()
        body: dict[str, Any] = {
            "version": __version__,
            "ready": self.ready.is_set(),
            "backend": self.backend.name,
            "endpoint": self.endpoint,
            "pid": os.getpid(),
            "started_at": self.started_at,
            "uptime_seconds": round(now - self.started_at, 3),
            "boot_seconds": self.boot_seconds,
            "regions": list(config.REGIONS),
            "account_id": config.ACCOUNT_ID,
            "state_dir": str(self.state_dir),
            "persistent": self.journaling,
            "journal_records": self.store.journal_records,
            "world_seeded": self.lab.world_seeded,
            "world_source": self.world_source,
            "services_loading": list(self.backend.pending),
            "warnings": list(self.warnings) + self.backend_problems(),
            "clock": self.clock.describe(),
            "engines": {engine.name: engine.describe() for engine in self.engines.engines},
        }
        describe = getattr(self.backend, "describe", None)
        if describe is not None:
            body["backend_detail"] = describe()
        if with_counts and self.ready.is_set() and not self.backend_problems():
            body["resources"] = resource_counts(self)
        return body

    def backend_problems(self) -> list[str]:
        """Why the backend cannot answer now (LocalStack exited), for a backend that can tell; else []."""
        problem = getattr(self.backend, "problem", None)
        found = problem() if problem else None
        return [found] if found else []
