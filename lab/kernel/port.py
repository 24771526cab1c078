"""The Sandbox port: the typed face of the sandbox that the gateway, the services and the inventory see.

`lab.sandbox.core.Sandbox` implements it; everything below the sandbox depends on this Protocol only, so
imports point one way (down) and a service can be tested against any object with these members.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lab.backends.base import Backend
    from lab.kernel.bus import EventBus
    from lab.kernel.context import RequestContext
    from lab.kernel.data import DataAccess
    from lab.kernel.engine import Engines
    from lab.kernel.lock import CallLock
    from lab.kernel.routes import AdminRouter
    from lab.kernel.state import LabState
    from lab.sim.clock import SimClock
    from lab.sim.durations import Durations
    from lab.sim.events import EventLog


class Sandbox(Protocol):
    lock: CallLock  # every state change happens under it
    ready: threading.Event  # set once the saved world is loaded and calls are served
    endpoint: str  # http://127.0.0.1:PORT
    app: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]  # the gateway, as a WSGI app
    backend_name: str  # "embedded" (moto in this process), "localstack", or "remote"
    backend_url: str | None  # the backend's own endpoint where it has one (LocalStack, another emulator)
    backend: Backend  # what answers the AWS calls no service of the lab answers (health: GET /_localstack/health)
    warnings: list[str]  # what the sandbox could not do as asked (a service started empty, a world part missing)
    clock: SimClock
    lab: LabState  # the lab's own state (saved with every snapshot)
    engines: Engines
    data: DataAccess  # bulk reads and writes into the backend, guarded by the faults
    bus: EventBus
    router: AdminRouter
    settle_survivors: Callable[[], None] | None  # between an advance's slices: keep the heap's scans short

    @property
    def events(self) -> EventLog: ...

    @property
    def durations(self) -> Durations:
        """How long long-running AWS operations take in this sandbox (lab.sim.durations)."""

    def set_durations(self, overrides: dict[str, float]) -> None:
        """Replace this sandbox's duration overrides (ValueError/KeyError, nothing changed, for a bad one)."""

    def client(self, service: str, region: str | None = None, *, acting_as: str | None = None,
               from_address: str | None = None) -> Any:
        """A boto3 client served by this sandbox in-process. `acting_as` names the AWS service principal
        (e.g. "backup.amazonaws.com") the calls are made as, for CloudTrail; None: the learner's own calls.
        `from_address`: calls from outside, as a client at that IP address signing with the lab's access key
        makes them (a drill's attacker holding a leaked key), not the sandbox's own."""

    def apply(self, ctx: RequestContext, action: Callable[[RequestContext], None],
              mutating: bool | None = None) -> None:
        """Run `action` for a request serialised with every other state change, journaled when it changes state."""

    def serve_aws(self, ctx: RequestContext) -> None:
        """Answer an AWS call: the lab's API for the service where it has the operation, else the backend; then
        the bus tells the engines. Runs inside `apply` (the gateway's dispatch handler passes it there)."""

    def call_params(self, ctx: RequestContext) -> dict[str, Any]:
        """The input members of an AWS call, decoded by the gateway's codec (what boto3 was given); {} when the
        request cannot be read. For engines observing calls: they never read a wire format."""

    def call_output(self, ctx: RequestContext, *members: str) -> dict[str, Any]:
        """The output members of the answer to an AWS call (what boto3 returns), decoded by the codec (with
        `members`, those alone when the answer carries them in headers)."""

    def materialize_all(self) -> None:
        """Finish loading every service a restore left for later (engines may reach into any of them)."""

    def run_until(self, target: float) -> int:
        """Play every engine's due work up to sim time `target`; the number of steps."""

    def status(self, with_counts: bool = True) -> dict[str, Any]: ...

    def snapshot(self) -> dict[str, Any]:
        """Save the whole state now: {"written", "bytes", "error", ...}."""

    def save_for_shutdown(self) -> dict[str, Any]:
        """Save for `lab down`: a final snapshot, or the journal kept when it replays quickly; how it went."""

    def reset(self) -> None: ...

    def request_shutdown(self) -> None: ...
