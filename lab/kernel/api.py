"""The lab's AWS service APIs: operations that take a decoded call and return its output, or raise AwsError.

A service the lab simulates beyond what the backend does declares its operations in one class,
`lab/services/<service>/api.py`, a `ServiceApi` with one method per AWS operation it answers, named
`op_<Operation>` as botocore's model spells the operation. An operation receives the `Call` -- who, where,
which operation, and its input parameters decoded from the wire by the gateway's codec (member name ->
value, timestamps as aware datetimes, blobs as bytes) -- and returns the output members (a dict) or raises
`AwsError`; the codec writes either in the request's protocol. It never reads or writes a wire format.

An operation that adds to what the backend does calls `call.forward()`: the backend answers the call as it
would without the lab, and forward returns the answer's output members (or raises the backend's refusal as
an `AwsError`, which reaches the client exactly as the backend wrote it). When the backend's answer stands
with at most a few members added, `call.backend_answer(Member=value)` says so without rewriting it. A part
the lab does not simulate raises `NotSimulatedError` (answered NotImplemented).

The sandbox's assembly (lab/sandbox/assembly.py) lists the ServiceApi classes; nothing registers itself by
being imported. A call to an operation no registered API answers goes to the backend, except for services an
API owns outright (`owns_service`), whose other operations answer NotImplemented.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from lab.kernel.errors import AwsError

if TYPE_CHECKING:
    from lab.kernel.context import Identity, RequestContext, Response
    from lab.kernel.port import Sandbox

Output = dict[str, Any]


@dataclass(frozen=True, slots=True)
class BackendAnswer:
    """The backend's answer to the call stands; `added` output members (bound to headers) are set on it."""

    added: Mapping[str, Any] = field(default_factory=dict)


class BackendRefusedError(AwsError):
    """The backend refused a forwarded call: its own answer (`response`) goes back to the client unchanged."""

    def __init__(self, code: str, message: str, status: int, response: Response) -> None:
        super().__init__(code, message, status)
        self.response = response


class Call:
    """One AWS call as an operation sees it: identity, decoded input, and the backend behind it."""

    __slots__ = ("_forward", "ctx", "identity", "params")

    def __init__(self, ctx: RequestContext, identity: Identity, params: dict[str, Any],
                 forward: Callable[..., Output]) -> None:
        self.ctx = ctx  # the request itself: an escape hatch, for what no decoded member carries
        self.identity = identity
        self.params = params
        self._forward = forward

    @classmethod
    def in_process(cls, service: str, operation: str, region: str, params: dict[str, Any]) -> Call:
        """A call the sandbox makes to one of its own service APIs without a request on the wire (the inventory
        reading the lab's AWS Backup): internal, made as the lab itself; it has no backend to forward to."""
        from lab.kernel.context import INTERNAL_KEY, Identity, RequestContext

        environ: dict[str, Any] = {INTERNAL_KEY: True, "REQUEST_METHOD": "POST", "PATH_INFO": "/"}
        ctx = RequestContext.from_environ(environ)
        identity = Identity(service, region, operation, None, None)
        ctx.identity, ctx.params = identity, params

        def no_backend(*members: str) -> Output:
            raise AwsError("InternalFailure", f"{service} {operation} called in-process has no backend to forward "
                                              "to", 500)

        return cls(ctx, identity, params, no_backend)

    @property
    def service(self) -> str:
        return self.identity.service or ""

    @property
    def operation(self) -> str:
        return self.identity.operation or ""

    @property
    def region(self) -> str:
        return self.identity.region

    @property
    def internal(self) -> bool:
        """A call the sandbox made to itself in-process (an engine's), not a learner's."""
        return self.ctx.internal

    def forward(self, *members: str) -> Output:
        """Let the backend answer the call; the output members of its answer (with `members`, those alone when
        the answer carries them in headers: cheaper for an operation that lets the answer stand). Raises
        BackendRefusedError (an AwsError carrying the backend's own answer) when the backend refused the call."""
        return self._forward(members)

    def backend_answer(self, **added: Any) -> BackendAnswer:
        """Return this from an operation to let the backend's answer stand (the backend answers now if forward()
        was not called), with `added` output members (only members the model binds to headers) set on it."""
        return BackendAnswer(added)


Operation = Callable[[Call], "Output | BackendAnswer"]


class ServiceApi:
    """The operations the lab answers for one AWS service (botocore's name for it in `service`)."""

    service: ClassVar[str] = ""
    #: True: the lab owns the whole service; operations without an op_ method answer NotImplemented
    owns_service: ClassVar[bool] = False
    #: named in the NotImplemented answer of an owned service ("the lab's AWS Backup")
    implemented_by: ClassVar[str] = ""
    #: the AWS service principal the lab acts as while answering (its in-process calls show it in CloudTrail)
    service_principal: ClassVar[str | None] = None

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def operations(self) -> dict[str, Operation]:
        """AWS operation name -> the method answering it (every `op_<Operation>` of the class)."""
        return {name[3:]: getattr(self, name) for name in dir(type(self)) if name.startswith("op_")}

    def check(self, call: Call) -> None:
        """Refuse a call of this service before anyone answers it (the lab or the backend), for limits AWS
        enforces and the backend does not; raise AwsError. Runs for every call from outside the sandbox."""

    def now(self) -> float:
        return self.sandbox.clock.now()


def paginate(items: Sequence[Any], params: Mapping[str, Any], *, default_size: int = 1000,
             next_member: str = "NextToken", size_member: str = "MaxResults",
             invalid_code: str = "InvalidParameterValueException") -> tuple[list[Any], str | None]:
    """One page of `items` (already in a stable order) and the token of the next page, if any."""
    start = 0
    given = params.get(next_member)
    if given:
        try:
            start = int(base64.urlsafe_b64decode(given.encode()).decode().removeprefix("page:"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise AwsError(invalid_code, f"{next_member} {given!r} was not issued by this service") from exc
        if start < 0:
            raise AwsError(invalid_code, f"{next_member} {given!r} was not issued by this service")
    count = params.get(size_member) or default_size
    if count < 1:
        raise AwsError(invalid_code, f"{size_member} must be at least 1, not {count}")
    end = start + count
    next_token = base64.urlsafe_b64encode(f"page:{end}".encode()).decode() if end < len(items) else None
    return list(items[start:end]), next_token
