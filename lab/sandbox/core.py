"""The sandbox: one backend, the gateway in front of it, the lab's own state, and its persistence."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lab import __version__, config
from lab.backends.base import Backend
from lab.backends.data import data_layer
from lab.gateway.app import GatewayApp, build_chain
from lab.kernel.bus import CallAnswered, EventBus
from lab.kernel.context import RequestContext
from lab.kernel.data import DataAccess
from lab.kernel.engine import DataWriteGuard
from lab.kernel.lock import CallLock
from lab.kernel.state import LabState
from lab.sandbox import assembly, inprocess
from lab.sandbox.engines import EngineSet
from lab.sandbox.persistence import StateStore
from lab.sandbox.timetravel import time_machine  # (with the sandbox: not by its first call, 0.1 s)
from lab.sim.clock import SimClock
from lab.sim.durations import Durations
from lab.sim.events import EventLog

log = logging.getLogger("lab.sandbox")
DURATIONS_KEY = "durations"  # the sandbox's duration overrides, in the lab state's extensions

SNAPSHOT_EVERY = 1000  # journal records between automatic snapshots


class Sandbox:
    def __init__(self, backend: Backend, state_dir: Path, *, host: str = config.DEFAULT_HOST,
                 port: int = config.DEFAULT_PORT, seed: int = config.DEFAULT_SEED, seed_world: bool = True,
                 fsync: bool = False) -> None:
        self.backend = backend
        self.state_dir = state_dir
        self.host = host
        self.port = port
        # listening on every interface: clients reach it on the default (loopback) host
        wildcard = host in ("0.0.0.0", "::")  # noqa: S104 -- compares, binds nothing
        self.endpoint = config.endpoint_url(port, config.DEFAULT_HOST if wildcard else host)
        self.seed_world_on_boot = seed_world
        self.lock = CallLock()
        self.ready = threading.Event()
        self.shutdown_requested = threading.Event()
        self.started_at = time.time()
        self.boot_seconds: float | None = None
        self.world_source = "saved state"  # or "seeded" / "template" when this start created the world
        self.lab = LabState(seed=seed)
        self.warnings: list[str] = []
        self.store = StateStore(state_dir / "state", fsync=fsync)
        self.journaling = backend.persistent
        self.clock = SimClock(self.lab.clock)
        self.bus = EventBus()
        self.router = assembly.admin_router()
        self.app = GatewayApp(build_chain(self))
        self._clients: dict[tuple[str, str, str | None], Any] = {}
        # Set by the server: keep what is alive now out of the garbage collector's scans (see settle_heap
        # in lab/sandbox/server.py). Called when the world's objects change wholesale: warm-up, reset.
        self.settle_heap: Callable[[bool], None] | None = None
        self._depth = threading.local()  # nesting of apply(): only the outermost call is journaled
        self._unjournaled = 0  # changes since the last snapshot that no journal holds (remote backends)
        self._durations: Durations | None = None
        self.data: DataAccess = data_layer(self, backend, self._check_data_write)
        self.engines = EngineSet(self, assembly.ENGINE_CLASSES)
        assembly.wire(self)

    @property
    def events(self) -> EventLog:
        return self.lab.events

    @property
    def backend_name(self) -> str:
        return self.backend.name

    @property
    def durations(self) -> Durations:
        """How long long-running operations take here: the defaults with this sandbox's overrides (saved)."""
        overrides = self.lab.extensions.get(DURATIONS_KEY) or {}
        cached = self._durations
        if cached is None or cached.overrides != overrides:
            cached = self._durations = Durations(overrides)
        return cached

    def set_durations(self, overrides: dict[str, float]) -> None:
        Durations(overrides)  # ValueError/KeyError naming a value the model cannot use; nothing changed
        self.lab.extensions[DURATIONS_KEY] = dict(overrides)

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
        from lab.gateway.codec.identify import identify

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
        ctx.mutating = ctx.is_mutating() if mutating is None else mutating
        with self.lock:
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            outermost = depth == 0
            try:
                if outermost:
                    # One instant per call: the journal can replay it at exactly this sim time.
                    started = self.clock.now()
                    self.clock.pin(started)
                if ctx.mutating and outermost and (self.ready.is_set() or ctx.replaying):
                    # Replay too: what fell due before a call happened before it the first time.
                    self.run_until(started)
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
        """An AWS call: a lab service answers it if one owns it, else the backend; then the bus tells engines."""
        if ctx.mutating:
            self.engines.prepare(ctx)
        if not self.engines.serve(ctx):
            self.backend.dispatch(ctx)
        if ctx.response is not None and ctx.response.status < 400:
            self.bus.publish(CallAnswered(ctx))

    def _check_data_write(self, region: str, operation: str) -> None:
        for guard in self.engines.all(DataWriteGuard):
            guard.check_data_write(region, operation)

    def forward(self, ctx: RequestContext) -> None:
        self.backend.dispatch(ctx)

    def materialize_all(self) -> None:
        self.backend.materialize_all()

    def run_until(self, target: float) -> int:
        return self.engines.run_until(target)

    def _record(self, ctx: RequestContext, sim_time: float) -> dict[str, Any]:
        return {
            "t": sim_time,
            "method": ctx.method,
            "uri": ctx.path + (f"?{ctx.query_string}" if ctx.query_string else ""),
            "headers": [(k, v) for k, v in ctx.headers.items() if k.lower() != "content-length"],
            "body": ctx.body,
        }

    # -- lab operations ----------------------------------------------------------------------------

    def client(self, service: str, region: str | None = None, *, acting_as: str | None = None) -> Any:
        """A boto3 client served by this sandbox in-process (no socket); its calls are made as `acting_as`
        (an AWS service principal, for CloudTrail), else as the engine the clock is playing, else the lab."""
        key = (service, region or config.PRIMARY_REGION, acting_as)
        found = self._clients.get(key)
        if found is None:
            from lab.awsclient import client as make_client

            found = inprocess.attach(make_client(service, key[1], self.endpoint), self.app, acting_as=acting_as)
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
            "warnings": list(self.warnings),
            "clock": self.clock.describe(),
            "engines": self.engines.describe(),
        }
        if with_counts and self.ready.is_set():
            body["resources"] = resource_counts(self)
        return body
