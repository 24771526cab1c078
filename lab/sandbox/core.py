"""The sandbox: one backend, the gateway in front of it, the lab's own state, and its persistence."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lab import __version__, config
from lab.backends.base import Backend
from lab.backends.data import data_layer
from lab.gateway import audit
from lab.gateway.app import GatewayApp, build_chain
from lab.gateway.codec import calls
from lab.gateway.codec.decode import refusals
from lab.gateway.codec.errors import aws_error, encode_error, not_implemented
from lab.kernel.api import Call
from lab.kernel.bus import CallAnswered, EventBus
from lab.kernel.context import ACTING_AS, RequestContext
from lab.kernel.data import DataAccess
from lab.kernel.engine import DataWriteGuard
from lab.kernel.errors import AwsError
from lab.kernel.lock import CallLock
from lab.kernel.state import LabState
from lab.sandbox import assembly, inprocess
from lab.sandbox.apis import ServiceApis
from lab.sandbox.engines import EngineSet
from lab.sandbox.persistence import DEFAULT_FSYNC, StateStore, StorageFullError, encode_record, is_disk_full
from lab.sandbox.timetravel import time_machine  # (with the sandbox: not by its first call, 0.1 s)
from lab.sim.clock import SimClock
from lab.sim.durations import Durations
from lab.sim.events import EventLog

log = logging.getLogger("lab.sandbox")
DURATIONS_KEY = "durations"  # the sandbox's duration overrides, in the lab state's extensions

# An automatic snapshot starts (in the background) when the journal since the last one holds this many
# records, this many bytes, or this much work (seconds spent applying its calls: what a replay after a crash
# would redo). They bound how long the next start replays. 5 s of work keeps a replay well inside issue 14's
# 10 s; at 2 s a 35-day advance forked the world for a snapshot several times, each competing with the advance
# for the machine's other core (the advance's wall time 1.4x the build that journaled it as one call).
SNAPSHOT_EVERY = int(os.environ.get("LAB_SNAPSHOT_EVERY", "1000"))
SNAPSHOT_BYTES = 64 << 20
SNAPSHOT_WORK_S = float(os.environ.get("LAB_SNAPSHOT_WORK_S", "5"))
# `lab down` keeps the journals rather than write a final snapshot (seconds, for a big world) when replaying
# them at the next start would take less than this; the automatic snapshots keep them about that short.
SHUTDOWN_KEEPS_JOURNAL_S = 3.0
SNAPSHOT_RETRY_S = 30.0  # after a failed automatic snapshot (a full disk), wait this long before the next
FIRST_LOADED = ("s3", "dynamodb")  # restored services the warm-up loads first; `lab up` waits for them




def _die_with_parent(parent: int) -> None:
    """In a snapshot writer: end with the sandbox, so that no orphan renames a snapshot after a kill -9 and
    a new sandbox's start (Linux: PR_SET_PDEATHSIG; elsewhere the check below is all)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _close_sockets() -> None:
    """In a snapshot writer: let go of the sandbox's listening socket and its clients' connections, so a
    writer still finishing never holds the port or a connection open (files stay: bodies may live in them)."""
    import stat

    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for descriptor in descriptors:
        try:
            if stat.S_ISSOCK(os.fstat(descriptor).st_mode):
                os.close(descriptor)
        except OSError:
            pass




class Sandbox:
    def __init__(self, backend: Backend, state_dir: Path, *, host: str = config.DEFAULT_HOST,
                 port: int = config.DEFAULT_PORT, seed: int = config.DEFAULT_SEED, seed_world: bool = True,
                 fsync: str = DEFAULT_FSYNC) -> None:
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
        self.first_warm = threading.Event()  # set by warm_up once S3 and DynamoDB are loaded and ready
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
        self.bus = EventBus()
        self.router = assembly.admin_router()
        self.app = GatewayApp(build_chain(self))
        self._clients: dict[tuple[str, str, str | None, str | None], Any] = {}
        # Set by the server: keep what is alive now out of the garbage collector's scans (see settle_heap
        # in lab/sandbox/server.py). Called when the world's objects change wholesale: warm-up, reset.
        self.settle_heap: Callable[[bool], None] | None = None
        # Set by the server: called between the slices of a clock advance (see settle_survivors there).
        self.settle_survivors: Callable[[], None] | None = None
        self._depth = threading.local()  # nesting of apply(): only the outermost call is journaled
        self._unjournaled = 0  # changes since the last snapshot that no journal holds (remote backends)
        self._journal_suspended = False  # while a world is created or reset: the snapshot after it holds it
        self._work_since_snapshot = 0.0  # seconds spent applying the calls in the current journal
        self._work_in_flight = 0.0  # ... in the journals a snapshot being written will supersede
        self._writer_pid: int | None = None  # the child writing a snapshot
        self._abandoning = False
        self._snapshot_lock = threading.Lock()  # one snapshot at a time
        self._snapshot_wanted = threading.Event()
        self._snapshot_retry_at = 0.0
        self.fork_snapshots = False  # the server writes snapshots from a forked child, off the request path
        self.snapshot_info: dict[str, Any] = {"running": False, "last": None, "error": None}
        self.replay_progress: dict[str, Any] | None = None  # while the journal replays at start
        self.last_replay: dict[str, Any] | None = None  # what the start replayed
        self._durations: Durations | None = None
        self.data: DataAccess = data_layer(self, backend, self._check_data_write)
        self.engines = EngineSet(self, assembly.ENGINE_CLASSES)
        assembly.wire(self)
        self.apis = ServiceApis(self, assembly.SERVICE_APIS)
        if hasattr(backend, "on_load_failure"):
            backend.on_load_failure = self._service_unloadable

    def _service_unloadable(self, service: str, message: str) -> None:
        """A restored service's saved bytes would not load: keep a copy of the snapshot they came from before
        any later snapshot replaces it, and say so wherever status is shown."""
        try:
            kept = f"; the snapshot it came from was copied to {self.store.copy_snapshot_aside()}"
        except OSError as exc:
            kept = f"; the snapshot could not be copied aside ({exc.strerror})"
        self.warnings.append(f"{message}: {service} started empty{kept}")

    @property
    def events(self) -> EventLog:
        return self.lab.events

    @property
    def backend_name(self) -> str:
        return self.backend.name

    @property
    def backend_url(self) -> str | None:
        return getattr(self.backend, "url", None)

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
        limitations = getattr(self.backend, "limitations", None)
        self.warnings.extend(limitations() if limitations else [])
        if self.ephemeral:
            self.store.clear()  # the backend starts empty: what the last run saved describes nothing now
        restored = self._restore()
        if self.seed_world_on_boot and not self.lab.world_seeded:
            if restored:  # (seeding now would replace what the state holds)
                self.warnings.append(f"the state in {self.store.directory} was started without the SecureCart "
                                     "world (lab up --no-world) and keeps what was made in it; a new state dir "
                                     "(--state-dir) starts with the world")
            else:
                self._create_world()
        self.boot_seconds = time.perf_counter() - started
        self.ready.set()
        log.info("sandbox ready in %.2fs (backend %s)", self.boot_seconds, self.backend.name)

    def _create_world(self) -> None:
        """Seed the SecureCart world, from the template cache when it holds this exact world."""
        from lab.sandbox import template
        from lab.world import seed_world

        version = getattr(self.backend, "template_version", None)
        cached = template.load(self.lab.seed, version, self.warnings) if version else None
        if cached is not None:
            try:
                self.backend.import_state(cached["backend"])
                self._adopt(cached["lab"])
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                self.warnings.append(template.set_aside(self.lab.seed, version, f"it could not be used ({exc})"))
                self.backend.reset()
                self._adopt(LabState(seed=self.lab.seed))
            else:
                self._snapshot_now("new world")
                self.world_source = "template"
                log.info("world restored from the template cache")
                return
        self.world_source = "seeded"
        if version:
            # A templated backend is this process's moto: whatever else used it here (an earlier in-process
            # sandbox, a test) must not become part of the world, nor of the template later starts restore.
            self.backend.reset()
        # The world's calls are not journaled one by one: the snapshot right after holds them all.
        self._journal_suspended = True
        try:
            seed_world(self)
        finally:
            self._journal_suspended = False
        self.lab.world_seeded = True
        self._snapshot_now("new world")
        if version:
            template.save(self.lab.seed, version, self._state_for_snapshot())

    def warm_up(self) -> None:
        """Load the services a restore left as bytes, one at a time, between requests (S3 and DynamoDB
        first); and build the request matchers of the services learners use first and the clients the
        engines use, so no first call or first scheduled backup pays for them."""
        from lab.gateway.codec.identify import identify

        try:
            for name in FIRST_LOADED:
                self._load_between_calls(name)
                scope = f"Credential=test/20260101/{config.PRIMARY_REGION}/{name}/aws4_request"
                identify("GET", "/", "", {"Authorization": f"AWS4-HMAC-SHA256 {scope}, SignedHeaders=host, "
                                                           "Signature=0"}, b"")
        finally:
            self.first_warm.set()  # `lab up` returns now: S3 and DynamoDB answer at once

        for service in ("rds", "ec2", "backup", "sts", "iam"):
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
            pending = self.backend.pending
            if not pending:
                break
            self._load_between_calls(pending[0])
        if self.settle_heap is not None:
            self.settle_heap(False)  # the restored world just loaded lives as long as the process

    def _load_between_calls(self, service: str) -> None:
        """Load one restored service: its code imported first, outside the lock (EC2's takes seconds on a
        busy machine), then its state under the lock, so calls wait at most for the unpickling."""
        prepare = getattr(self.backend, "import_service", None)
        if prepare is not None:
            prepare(service)
        if service in self.backend.pending:
            with self.lock:
                self.backend.materialize(service)

    def _restore(self) -> bool:
        """Load the saved state (its snapshot, then its journal); whether there was anything to load."""
        assert self.store is not None
        loaded = self.store.load()
        for warning in loaded.warnings:
            log.warning(warning)
        self.warnings.extend(loaded.warnings)
        used_snapshot = False
        if loaded.snapshot is not None:
            try:
                self.backend.import_state(loaded.snapshot["backend"])
                lab = loaded.snapshot["lab"]
                if not isinstance(lab, LabState):
                    raise TypeError(f"its lab state is a {type(lab).__name__}")
                self._adopt(lab)
                used_snapshot = True
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                # Without its snapshot the journals cannot be replayed either: both are set aside, not lost.
                message = self.store.set_aside_all(f"the saved sandbox state could not be used ({exc})")
                self.warnings.append(message)
                self.backend.reset()
                self._adopt(LabState(seed=self.lab.seed))
                loaded.journal = []
                loaded.needs_snapshot = False
        if loaded.journal:
            self._replay(loaded.journal)
        self.store.open_journal()
        if loaded.needs_snapshot and self.lab.world_seeded:
            self.snapshot()  # supersede what was set aside or read in an older format
        return used_snapshot or bool(loaded.journal)

    def _replay(self, records: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        self.replay_progress = {"total": len(records), "done": 0, "started": time.time()}
        failed = 0
        told = started
        for done, record in enumerate(records):
            if time.perf_counter() - told >= 5.0:
                told = time.perf_counter()
                log.info("replaying the journal: %d of %d calls after %.0fs", done, len(records), told - started)
            environ = inprocess.environ_for(record["method"], self.endpoint + record["uri"], record["headers"],
                                            record["body"])
            environ["lab.replaying"] = True
            if "seq" in record:
                # The id sequence the call first ran with, even when a damaged record before it was skipped.
                self.lab.seq = record["seq"]
            # Each call runs at the sim time it first ran, so ids, timestamps and engine work come back
            # exactly as the user saw them.
            self.clock.pin(record["t"])
            status, _, _ = inprocess.call_app(self.app, environ)
            if status >= 400:
                failed += 1
            self.replay_progress["done"] = done + 1
        self.clock.pin(None)
        elapsed = time.perf_counter() - started
        self.replay_progress = None
        self.last_replay = {"records": len(records), "seconds": round(elapsed, 2), "failed": failed}
        self._work_since_snapshot = elapsed
        if elapsed >= SNAPSHOT_WORK_S:
            self._snapshot_wanted.set()  # in the background once serving: the next start need not replay it
        log.info("replayed %d journal records in %.2fs%s", len(records), elapsed,
                 f" ({failed} answered an error, as a record after a skipped one can)" if failed else "")

    # -- the request path --------------------------------------------------------------------------

    def apply(self, ctx: RequestContext, action: Callable[[RequestContext], None],
              mutating: bool | None = None) -> None:
        """Run `action` for a request, serialised with everything else that touches state.

        A state-changing call first lets the engines catch up to now (so what was due happens before it),
        runs with moto's ids seeded by its place in the sequence, and -- if it is an outermost call, not
        one an engine or the replay made -- is journaled before its answer leaves. The journal's space for
        it is reserved before it runs: a full disk refuses the call before it changes anything.
        """
        ctx.mutating = ctx.is_mutating() if mutating is None else mutating
        durable_at: tuple[int, int] | None = None
        with self.lock:
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            outermost = depth == 0
            try:
                if outermost:
                    # One instant per call: the journal can replay it at exactly this sim time.
                    started = self.clock.now()
                    self.clock.pin(started)
                journal_this = (outermost and ctx.mutating and not ctx.replaying and self.journaling
                                and not self._journal_suspended)
                record = b""
                if journal_this:
                    record = encode_record(self._record(ctx, started, self.lab.seq))
                    try:
                        self.store.reserve(len(record))
                    except StorageFullError as exc:
                        self._refuse(ctx, str(exc))
                        return
                work_started = time.perf_counter()
                if ctx.mutating and outermost and (self.ready.is_set() or ctx.replaying):
                    # Replay too: what fell due before a call happened before it the first time, with the
                    # same ids (engines draw them too).
                    self.backend.reseed(f"{self.lab.seed}:{self.lab.seq}:due")
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
                    if outermost:
                        self.backend.reseed(None)  # ids drawn outside a call come from elsewhere
                if (outermost and ctx.mutating and not ctx.replaying
                        and ctx.response is not None and ctx.response.status < 400):
                    if journal_this:
                        durable_at = self._journal(ctx, record, time.perf_counter() - work_started)
                    elif not self.journaling:
                        self._unjournaled += 1
                        if self._unjournaled >= SNAPSHOT_EVERY:
                            self._snapshot_wanted.set()
            finally:
                self._depth.value = depth
                if outermost:
                    self.clock.pin(None)
        if self._snapshot_wanted.is_set() and not self.fork_snapshots and outermost and not ctx.replaying:
            self._snapshot_wanted.clear()
            self.snapshot()  # no background writer (in-process use): take it here, after the call
        if durable_at is not None:
            self.store.wait_durable(durable_at)

    def _journal(self, ctx: RequestContext, record: bytes, work_s: float) -> tuple[int, int] | None:
        """Append the answered call's record (its space is reserved); ask for a snapshot when one is due."""
        try:
            position = self.store.append(record)
        except OSError as exc:
            # The space was reserved, so this is a failing disk. The change is made in memory: answer an
            # error (the client must not take it as saved) and try to save the whole state right away.
            message = f"the sandbox could not journal this change ({exc.strerror or exc}): it may not be saved"
            log.error("%s %s: %s", ctx.method, ctx.path, message)
            self._refuse(ctx, message)
            self._snapshot_wanted.set()
            return None
        self._work_since_snapshot += work_s
        store = self.store
        # By work, not more often than snapshots take: a big world's snapshot costs seconds (in the child).
        last = self.snapshot_info["last"] or {}
        if (store.journal_records >= SNAPSHOT_EVERY or store.journal_bytes >= SNAPSHOT_BYTES
                or self._work_since_snapshot >= max(SNAPSHOT_WORK_S, last.get("seconds") or 0.0)):
            self._snapshot_wanted.set()
        return position

    def _refuse(self, ctx: RequestContext, message: str) -> None:
        """Answer 503 in the request's protocol (SDKs retry it); nothing was changed."""
        from lab.gateway.codec.errors import aws_error

        if ctx.identity is None:  # the lab's admin API
            ctx.respond(503, json.dumps({"error": message, "__type": "ServiceUnavailable", "message": message}))
            return
        ctx.response = aws_error(ctx.identity, 503, "ServiceUnavailable", message, request_id=ctx.request_id,
                                 sender_fault=False)

    def serve_aws(self, ctx: RequestContext) -> None:
        """An AWS call: the lab's API for the service answers it where it has the operation (the codec decoding
        the request and encoding the result around it), else the backend; then the bus tells the engines."""
        identity = ctx.identity
        assert identity is not None
        # The instant the call was applied: its CloudTrail eventTime, exactly as the journal replays it.
        ctx.environ.setdefault(audit.APPLIED_AT_KEY, self.clock.now())
        if not (ctx.internal or ctx.replaying) and not self._passes_checks(ctx):
            return
        if ctx.mutating:
            self.engines.prepare(ctx)
        route = self.apis.route(identity.service, identity.operation)
        if route is None:
            self._dispatch(ctx)
        elif route.operation is None:
            ctx.response = not_implemented(identity, detail=route.api.implemented_by, request_id=ctx.request_id)
        else:
            token = ACTING_AS.set(route.api.service_principal)
            try:
                # (the API's operation sees the backend's own failures: it may know what they mean)
                calls.answer(ctx, route.operation, self._dispatch)
            finally:
                ACTING_AS.reset(token)
        if ctx.response is not None and ctx.response.status < 400:
            self.bus.publish(CallAnswered(ctx))

    def _dispatch(self, ctx: RequestContext) -> None:
        """The backend answers. Where it fails on a client's request instead of refusing it (moto raising on input
        it did not expect), the client gets a 400 in its protocol, not a 500 its SDK would retry; the failure is
        logged with its trace, as it may be the backend's bug rather than the request's. The same holds where a
        service API of the lab forwards the call: it sees that 400 as the backend's refusal."""
        try:
            self.backend.dispatch(ctx)
        except Exception as exc:
            identity = ctx.identity
            if ctx.internal or ctx.replaying or identity is None or not identity.service:
                raise
            log.warning("the backend failed on a client's %s %s; answered 400", identity.service,
                        identity.operation or ctx.path, exc_info=True)
            ctx.response = aws_error(
                identity, 400, refusals(identity.service, identity.protocol).invalid,
                f"The sandbox's backend ({self.backend.name}) could not process this {identity.service} "
                f"{identity.operation or 'request'}: {type(exc).__name__}: {str(exc)[:200]}. Check its "
                "parameters; the sandbox.log has the details.", ctx.request_id)

    def _passes_checks(self, ctx: RequestContext) -> bool:
        """The checks a service makes before anyone answers (lab.kernel.api.ServiceApi.check); False when one
        refused the call (ctx.response holds the refusal)."""
        identity = ctx.identity
        assert identity is not None
        checks = self.apis.of_service(identity.service)
        if not checks or ctx.params is None:
            return True
        call = Call(ctx, identity, ctx.params,
                    lambda members=(): calls.forwarded_output(ctx, self._dispatch, members))
        try:
            for api in checks:
                api.check(call)
        except AwsError as error:
            ctx.response = encode_error(identity, error, ctx.request_id)
            return False
        return True

    def call_params(self, ctx: RequestContext) -> dict[str, Any]:
        identity = ctx.identity
        if identity is None or not identity.service or not identity.operation:
            return {}
        try:
            return calls.request_params(ctx, strict=False)
        except ValueError:
            return {}

    def call_output(self, ctx: RequestContext, *members: str) -> dict[str, Any]:
        identity, response = ctx.identity, ctx.response
        if identity is None or not identity.service or not identity.operation or response is None:
            return {}
        return calls.answer_output(ctx, members)

    def _check_data_write(self, region: str, operation: str) -> None:
        for guard in self.engines.all(DataWriteGuard):
            guard.check_data_write(region, operation)

    def materialize_all(self) -> None:
        self.backend.materialize_all()

    def run_until(self, target: float) -> int:
        return self.engines.run_until(target)

    def _record(self, ctx: RequestContext, sim_time: float, seq: int) -> dict[str, Any]:
        return {
            "t": sim_time,
            "seq": seq,
            "method": ctx.method,
            "uri": ctx.path + (f"?{ctx.query_string}" if ctx.query_string else ""),
            "headers": [(k, v) for k, v in ctx.headers.items() if k.lower() != "content-length"],
            "body": ctx.body,
        }

    # -- lab operations ----------------------------------------------------------------------------

    def client(self, service: str, region: str | None = None, *, acting_as: str | None = None,
               from_address: str | None = None) -> Any:
        """A boto3 client served by this sandbox in-process (no socket); its calls are made as `acting_as`
        (an AWS service principal, for CloudTrail), else as the engine the clock is playing, else the lab;
        with `from_address`, as calls from outside signed with the lab's key from that address."""
        key = (service, region or config.PRIMARY_REGION, acting_as, from_address)
        found = self._clients.get(key)
        if found is None:
            from lab.awsclient import client as make_client

            found = inprocess.attach(make_client(service, key[1], self.endpoint), self.app, acting_as=acting_as,
                                     from_address=from_address)
            self._clients[key] = found
        return found

    # -- snapshots ---------------------------------------------------------------------------------

    def snapshot(self, reason: str = "requested") -> dict[str, Any]:
        """Save the whole state as a new generation and drop the journals it contains.

        The lock is held only to start a new journal and capture the state: with `fork_snapshots` a child
        process (a copy-on-write image of this one at that instant) pickles and writes it while this
        process goes on serving. Returns what happened: {"written": bool, "bytes", "seconds", "error"}.
        A failure (a full disk) keeps the previous snapshot and every journal: nothing is lost.
        """
        with self._snapshot_lock:
            began = time.perf_counter()
            self.snapshot_info["running"] = True
            try:
                with self.lock:
                    locked = time.perf_counter()
                    self.lab.clock = self.clock.state()
                    try:
                        generation = self.store.rotate()
                    except OSError as exc:
                        return self._snapshot_failed(reason, exc, began)
                    self._work_in_flight, self._work_since_snapshot = self._work_since_snapshot, 0.0
                    self._unjournaled = 0
                    if not self.fork_snapshots:
                        try:
                            size = self.store.write_snapshot(self._state_for_snapshot(), generation)
                        except OSError as exc:
                            return self._snapshot_failed(reason, exc, began)
                        child = None
                    else:
                        child = self._fork_writer(generation)
                        self._writer_pid = child[0]
                    held_ms = (time.perf_counter() - locked) * 1000
                if child is not None:
                    size, error = self._wait_writer(*child)
                    self._writer_pid = None
                    if error is not None:
                        return self._snapshot_failed(reason, OSError(error), began)
                self.store.commit(generation)
                self._work_in_flight = 0.0
            finally:
                self.snapshot_info["running"] = False
            seconds = time.perf_counter() - began
            result = {"written": True, "bytes": size, "seconds": round(seconds, 3), "generation": generation,
                      "lock_held_ms": round(held_ms, 1), "error": None}
            self.snapshot_info["last"] = {**result, "at": time.time(), "reason": reason}
            self.snapshot_info["error"] = None
            log.info("snapshot %d written (%s): %d bytes in %.2fs, the lock held %.0f ms", generation, reason, size,
                     seconds, held_ms)
            return result

    def _snapshot_failed(self, reason: str, exc: BaseException, began: float) -> dict[str, Any]:
        self.store.snapshot_tmp_path().unlink(missing_ok=True)
        with self.lock:  # the journals it would have superseded stay, and so does their work
            self._work_since_snapshot += self._work_in_flight
            self._work_in_flight = 0.0
        if self._abandoning:
            log.info("the %s snapshot under way was abandoned at shutdown; the journals hold its changes", reason)
            return {"written": False, "bytes": 0, "seconds": round(time.perf_counter() - began, 3),
                    "error": None, "abandoned": True}
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if is_disk_full(exc) or "No space" in detail:
            detail = f"the disk is full ({detail})"
        message = (f"the {reason} snapshot could not be written: {detail}; the previous snapshot and the "
                   "journal since it still hold every acknowledged change")
        log.error("%s", message)
        self.snapshot_info["error"] = message
        self._snapshot_retry_at = time.monotonic() + SNAPSHOT_RETRY_S
        return {"written": False, "bytes": 0, "seconds": round(time.perf_counter() - began, 3), "error": message}

    def _state_for_snapshot(self) -> dict[str, Any]:
        self.lab.clock = self.clock.state()
        return {"format": 1, "lab_version": __version__, "saved_at": time.time(),
                "backend": self.backend.export_state(), "lab": self.lab}

    def _fork_writer(self, generation: int) -> tuple[int, int]:
        """Fork a child that writes the state of this instant as snapshot `generation` (caller holds the lock)."""
        read_end, write_end = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: pickle, write, report, exit -- never return into the server's code
            code = 1
            try:
                os.close(read_end)
                _die_with_parent(parent)
                _close_sockets()
                gc.disable()  # everything here is garbage soon; the collector would only touch pages
                size = self.store.write_snapshot(self._state_for_snapshot(), generation)
                os.write(write_end, f"ok {size}".encode())
                code = 0
            except BaseException as exc:  # noqa: BLE001 -- reported to the parent, whatever it is
                try:
                    os.write(write_end, f"error {exc}".encode(errors="replace")[:4000])
                except OSError:
                    pass
            finally:
                os._exit(code)
        os.close(write_end)
        return pid, read_end

    def _wait_writer(self, pid: int, read_end: int) -> tuple[int, str | None]:
        chunks = []
        while True:
            chunk = os.read(read_end, 4096)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
        report = b"".join(chunks).decode(errors="replace")
        if report.startswith("ok "):
            return int(report[3:]), None
        if not report:
            report = f"error the snapshot writer ended with status {status}"
        return 0, report.removeprefix("error ")

    def start_background_snapshots(self) -> None:
        """Server mode: automatic snapshots are taken by a thread, written by a forked child."""
        self.fork_snapshots = hasattr(os, "fork")
        threading.Thread(target=self._snapshotter, name="snapshotter", daemon=True).start()

    def _snapshotter(self) -> None:
        while not self.shutdown_requested.is_set():
            if not self._snapshot_wanted.wait(1.0):
                continue
            if time.monotonic() < self._snapshot_retry_at:
                time.sleep(0.5)
                continue
            self._snapshot_wanted.clear()
            try:
                self.snapshot(reason="automatic")
            except Exception:
                log.exception("automatic snapshot failed")
                self._snapshot_retry_at = time.monotonic() + SNAPSHOT_RETRY_S

    def save_for_shutdown(self) -> dict[str, Any]:
        """Before stopping. When replaying the journals at the next start would be quick, keep them (a
        snapshot under way is abandoned: `lab down` is quick whatever the world's size); otherwise let the
        snapshot under way finish, and write a final one if the journal still needs it."""
        replay_s = self._work_in_flight + self._work_since_snapshot
        if self.journaling and replay_s < SHUTDOWN_KEEPS_JOURNAL_S:
            writer = self._writer_pid
            if writer is not None:
                self._abandoning = True
                try:
                    os.kill(writer, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            with self._snapshot_lock:
                pass  # the snapshot thread has cleaned up after its writer
            self._abandoning = False
            records = self.store.journal_records
            if records == 0 and self.store.generation == self.store.snapshot_generation:
                return {"saved": True, "how": "snapshot", "snapshot": self.snapshot_info["last"],
                        "journal_records": 0}
            saved = {"saved": True, "how": "journal", "journal_records": records,
                     "detail": f"the last snapshot and the changes journaled since it ({replay_s:.1f} s to replay)"}
            if self.snapshot_info["error"]:  # (a full disk): not a snapshot, but nothing acknowledged is lost
                saved["error"] = self.snapshot_info["error"]
            return saved
        with self._snapshot_lock:
            pass  # a snapshot under way finishes first
        if (self.journaling and self._work_since_snapshot < SHUTDOWN_KEEPS_JOURNAL_S
                and self.store.generation == self.store.snapshot_generation):
            return {"saved": True, "how": "snapshot" if self.store.journal_records == 0 else "journal",
                    "snapshot": self.snapshot_info["last"], "journal_records": self.store.journal_records}
        result = self.snapshot(reason="final")
        if result["written"]:
            return {"saved": True, "how": "snapshot", "snapshot": result, "journal_records": 0}
        if self.journaling:
            return {"saved": True, "how": "journal", "journal_records": self.store.journal_records,
                    "error": result["error"],
                    "detail": "the final snapshot failed; the journal holds every acknowledged change and is "
                              "replayed at the next start"}
        return {"saved": False, "error": result["error"]}

    # -- reset and stop -----------------------------------------------------------------------------

    def reset(self) -> None:
        with self._snapshot_lock, self.lock:
            self.backend.reset()
            self._adopt(LabState(seed=self.lab.seed))
            if self.seed_world_on_boot:
                self._create_world()
            else:
                self._snapshot_now("reset")
            if self.settle_heap is not None:
                self.settle_heap(True)  # the old world is garbage now, the new one lives on

    def _snapshot_now(self, reason: str) -> None:
        """A snapshot written in this thread, under the lock (boot, reset: small worlds; nothing else runs).
        Raises on failure: the caller's change must not be taken as saved."""
        generation = self.store.rotate()
        self._work_since_snapshot = 0.0
        self._unjournaled = 0
        size = self.store.write_snapshot(self._state_for_snapshot(), generation)
        self.store.commit(generation)
        self.snapshot_info["last"] = {"written": True, "bytes": size, "generation": generation,
                                      "at": time.time(), "reason": reason}
        log.info("snapshot %d written (%s): %d bytes", generation, reason, size)

    def request_shutdown(self) -> None:
        self.shutdown_requested.set()

    def close(self) -> dict[str, Any] | None:
        """Graceful stop: make sure everything acknowledged is saved (see save_for_shutdown)."""
        if self.ephemeral:
            # Nothing of this run is restored (the next start begins anew): stop the backend first, so a call
            # still waiting on it ends now instead of holding the lock a snapshot would wait for.
            self.backend.stop()
            self.store.close()
            return None
        result = None
        if self.ready.is_set():
            try:
                self._journal_the_clock()
                result = self.save_for_shutdown()
            except Exception:
                log.exception("saving at shutdown failed; the journal holds every acknowledged change")
        self.store.close()
        self.backend.stop()
        return result

    def tick(self) -> None:
        """Play what is due up to now through the clock's tick route, a journaled call: the journal then holds
        the clock's time too (the ticker of a running clock calls this)."""
        inprocess.call_app(self.app, inprocess.environ_for("POST", self.endpoint + "/_lab/clock/tick", [], b""))

    def _journal_the_clock(self) -> None:
        """A running clock's time, journaled as the ticker's calls are: a start that replays the journal resumes
        the clock where this stop left it, not at the last change journaled before (sim time went backwards)."""
        if self.journaling and not self.clock.paused:
            self.tick()

    def storage_status(self) -> dict[str, Any]:
        """How the state is kept: `lab status` shows it, and warns while the disk is full."""
        store = self.store
        return {
            "fsync": store.fsync,
            "disk_full": store.full is not None,
            "disk_full_message": store.full,
            "generation": store.generation,
            "journal_records": store.journal_records,
            "journal_bytes": store.journal_bytes,
            "snapshot_running": self.snapshot_info["running"],
            "last_snapshot": self.snapshot_info["last"],
            "snapshot_error": self.snapshot_info["error"],
            "replay": dict(self.replay_progress) if self.replay_progress else None,
            "last_replay": self.last_replay,
        }

    def current_warnings(self) -> list[str]:
        found = list(self.warnings) + self.backend_problems()
        if self.store.full:
            found.insert(0, self.store.full)
        if self.snapshot_info["error"]:
            found.append(self.snapshot_info["error"])
        return found

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
            "storage": self.storage_status(),
            "world_seeded": self.lab.world_seeded,
            "world_source": self.world_source,
            "services_loading": list(self.backend.pending),
            "loading_first": [] if self.first_warm.is_set() or not hasattr(self.backend, "import_service")
                             else list(FIRST_LOADED),
            "warnings": self.current_warnings(),
            "clock": self.clock.describe(),
            "engines": self.engines.describe(),
        }
        describe = getattr(self.backend, "describe", None)
        if describe is not None:
            body["backend_detail"] = describe()
        if with_counts and self.ready.is_set() and not self.backend_problems():
            with self.lock:  # (counted as the world stands: an advance's slice changes it under the lock)
                body["resources"] = resource_counts(self)
        return body

    def backend_problems(self) -> list[str]:
        """Why the backend cannot answer now (LocalStack exited), for a backend that can tell; else []."""
        problem = getattr(self.backend, "problem", None)
        found = problem() if problem else None
        return [found] if found else []
