"""The codec around one call: the request decoded for the lab's operation, its result or error encoded, and the
backend's answer read back for an operation that forwards.

The sandbox routes a call to the operation of the service API that answers it (lab.kernel.api) and calls
`answer`: the operation sees decoded parameters and returns an output dict (or raises AwsError), and never a
wire format.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lab.gateway.codec.decode import decode_answer, decode_header_members, decode_request, streams_output
from lab.gateway.codec.encode import add_output_headers, encode_output
from lab.gateway.codec.errors import encode_error
from lab.gateway.codec.model import operation_model
from lab.kernel.api import BackendAnswer, BackendRefusedError, Call, Operation, Output
from lab.kernel.context import Identity, RequestContext
from lab.kernel.errors import AwsError

__all__ = ["answer", "answer_output", "forwarded_output", "request_params"]


def request_params(ctx: RequestContext, *, strict: bool = True) -> dict[str, Any]:
    """The call's input members (decoded once per request and kept on the context). Strictly, raises AwsError
    with the service's code for a request the service would refuse."""
    if ctx.params is not None:
        return ctx.params
    identity = ctx.identity
    assert identity is not None and identity.service and identity.operation
    body = ctx.body if reads_body(identity.service, identity.operation, identity.protocol) else None
    params = decode_request(identity.service, identity.operation, identity.protocol, ctx.path, ctx.query_string,
                            ctx.headers, body, strict=strict, bucket=identity.bucket, key=identity.key)
    ctx.params = params
    return params


@lru_cache(maxsize=4096)
def reads_body(service: str, operation: str, protocol: str | None) -> bool:
    """Whether the operation's input is (partly) in the body: False for bodiless REST calls and for a streamed
    body, an object's bytes (S3 PutObject), which decoding never reads."""
    model = operation_model(service, operation)
    shape = model.input_shape
    if shape is None:
        return False
    if (protocol or model.metadata.get("protocol")) not in ("rest-json", "rest-xml"):
        return True
    payload = shape.serialization.get("payload")
    if payload:
        return not shape.members[payload].serialization.get("streaming")
    return any("location" not in member.serialization for member in shape.members.values())


@lru_cache(maxsize=4096)
def takes_no_body(service: str, operation: str, protocol: str | None) -> bool:
    """Whether a REST operation's input has nothing in the body at all (S3 ListObjectsV2, Route 53
    ListHostedZones); RPC protocols always carry a body."""
    model = operation_model(service, operation)
    if (protocol or model.metadata.get("protocol")) not in ("rest-json", "rest-xml"):
        return False
    shape = model.input_shape
    return shape is None or (not shape.serialization.get("payload")
                             and all("location" in member.serialization for member in shape.members.values()))


def answer(ctx: RequestContext, operation: Operation, forward: Callable[[RequestContext], None]) -> None:
    """Answer `ctx` with the lab's `operation` (sets ctx.response); `forward` lets the backend answer."""
    identity = ctx.identity
    assert identity is not None and identity.service and identity.operation
    try:
        params = request_params(ctx)
        call = Call(ctx, identity, params, lambda members=(): forwarded_output(ctx, forward, members))
        result = operation(call)
    except AwsError as error:
        ctx.response = encode_error(identity, error, ctx.request_id)
        return
    if isinstance(result, BackendAnswer):
        if ctx.response is None:
            forward(ctx)
        if result.added and ctx.response is not None and ctx.response.status < 300:
            add_output_headers(identity.service, identity.operation, ctx.response, result.added)
        return
    ctx.response = encode_output(identity.service, identity.operation, identity.protocol, result, ctx.request_id)


def forwarded_output(ctx: RequestContext, forward: Callable[[RequestContext], None],
                     members: tuple[str, ...] = ()) -> Output:
    """Let the backend answer `ctx`; the output members of its answer (only `members`, when they are strings in
    its headers: decode_header_members). BackendRefusedError when it refused."""
    identity = ctx.identity
    assert identity is not None and identity.service and identity.operation
    ctx.response = None
    forward(ctx)
    response = ctx.response
    if response is None:
        raise AwsError("InternalFailure", f"the backend gave no answer to {identity.operation}", 500)
    if response.status >= 300:
        raise _refused(identity, response)
    return answer_output(ctx, members)


def _refused(identity: Identity, response: Any) -> BackendRefusedError:
    try:
        parsed = decode_answer(identity.service or "", identity.operation or "", identity.protocol, response.status,
                               response.headers, response.body_bytes())
    except Exception:  # noqa: BLE001 -- an error answer botocore cannot read is still the backend's refusal
        parsed = {}
    error = parsed.get("Error") or {}
    return BackendRefusedError(str(error.get("Code") or response.status), str(error.get("Message") or ""),
                          response.status, response)


def answer_output(ctx: RequestContext, members: tuple[str, ...] = ()) -> Output:
    """The output members of the answer ctx holds (for engines observing a call: only `members`, when they are
    strings in its headers); {} for an error answer."""
    identity, response = ctx.identity, ctx.response
    assert identity is not None and identity.service and identity.operation and response is not None
    if response.status >= 300:
        return {}
    if members:
        found = decode_header_members(identity.service, identity.operation, response.headers, members)
        if found is not None:
            return found
    streaming = streams_output(identity.service, identity.operation)
    return decode_answer(identity.service, identity.operation, identity.protocol, response.status, response.headers,
                         response.body if streaming else response.body_bytes())
