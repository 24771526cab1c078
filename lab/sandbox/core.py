"""The sandbox: one backend, the gateway in front of it, the lab's own state, and its persistence."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lab import __version__, config
from lab.backends.base import Backend
from lab.gateway.app import GatewayApp, build_chain
from lab.gateway.context import RequestContext
from lab.sandbox import inprocess
from lab.sandbox.persistence import StateStore

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
    orders: list[dict[str, Any]] = field(default_factory=list)  # the world's orders (RDS rows to be)
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
        self.lab = LabState(seed=seed)
        self.warnings: list[str] = []
        self.store = StateStore(state_dir / "state", fsync=fsync) if backend.persistent else None
        self.app = GatewayApp(build_chain(self))
        self._clients: dict[tuple[str, str], Any] = {}

    # -- start-up ----------------------------------------------------------------------------------

    def boot(self) -> None:
        started = time.perf_counter()
        self.backend.start()
        if self.store is not None:
            self._restore()
        if self.seed_world_on_boot and not self.lab.world_seeded:
            from lab.world import seed_world

            seed_world(self)
            self.lab.world_seeded = True
            self.snapshot()
        self.boot_seconds = time.perf_counter() - started
        self.ready.set()
        log.info("sandbox ready in %.2fs (backend %s)", self.boot_seconds, self.backend.name)

    def _restore(self) -> None:
        assert self.store is not None
        loaded = self.store.load()
        for warning in loaded.warnings:
            log.warning(warning)
        self.warnings.extend(loaded.warnings)
        if loaded.snapshot is not None:
            try:
                self.backend.import_state(loaded.snapshot["backend"])  # type: ignore[attr-defined]
                self.lab = loaded.snapshot["lab"]
            except (KeyError, ValueError, TypeError) as exc:
                moved = self.store._set_aside(self.store.snapshot_path)
                message = (f"the saved sandbox state could not be used ({exc}); it was moved to {moved} and the "
                           "sandbox started from a fresh world")
                log.warning(message)
                self.warnings.append(message)
                self.backend.reset()
                self.lab = LabState(seed=self.lab.seed)
                return
        if loaded.journal:
            self._replay(loaded.journal)

    def _replay(self, records: list[dict[str, Any]]) -> None:
        import time_machine

        started = time.perf_counter()
        for record in records:
            environ = inprocess.environ_for(record["method"], self.endpoint + record["uri"], record["headers"],
                                            record["body"])
            environ["lab.replaying"] = True
            # Each call runs at the moment it first ran, so timestamps come back as the user saw them.
            with time_machine.travel(record["t"], tick=False):
                inprocess.call_app(self.app, environ)
        log.info("replayed %d journal records in %.2fs", len(records), time.perf_counter() - started)

    # -- the request path --------------------------------------------------------------------------

    def apply(self, ctx: RequestContext, action: Callable[[RequestContext], None]) -> None:
        """Run `action` for a request; if it changes state, do so in order, seeded and journaled."""
        ctx.mutating = is_mutating(ctx)
        if not ctx.mutating or self.store is None:
            with self.lock:
                action(ctx)
            return
        with self.lock:
            self.lab.seq += 1
            self.backend.reseed(f"{self.lab.seed}:{self.lab.seq}")  # type: ignore[attr-defined]
            action(ctx)
            if ctx.replaying or ctx.response is None or ctx.response.status >= 400:
                return
            self.store.append(self._record(ctx))
            if self.store.journal_records >= SNAPSHOT_EVERY:
                self.snapshot()

    def _record(self, ctx: RequestContext) -> dict[str, Any]:
        return {
            "t": time.time(),
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
        if self.store is None:
            return 0
        with self.lock:
            state = {"format": 1, "lab_version": __version__, "saved_at": time.time(),
                     "backend": self.backend.export_state(), "lab": self.lab}  # type: ignore[attr-defined]
            size = self.store.write_snapshot(state)
        log.info("snapshot written: %d bytes", size)
        return size

    def reset(self) -> None:
        with self.lock:
            self.backend.reset()
            self.lab = LabState(seed=self.lab.seed)
            if self.store is not None:
                self.store.clear()
            if self.seed_world_on_boot:
                from lab.world import seed_world

                seed_world(self)
                self.lab.world_seeded = True
            self.snapshot()

    def request_shutdown(self) -> None:
        self.shutdown_requested.set()

    def close(self) -> None:
        """Graceful stop: one last snapshot so the next start needs no replay."""
        if self.ready.is_set():
            self.snapshot()
        if self.store is not None:
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
            "persistent": self.store is not None,
            "journal_records": self.store.journal_records if self.store else 0,
            "world_seeded": self.lab.world_seeded,
            "warnings": list(self.warnings),
        }
        if with_counts and self.ready.is_set():
            body["resources"] = resource_counts(self)
        return body
