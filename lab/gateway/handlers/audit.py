"""The audit: every AWS call through the gateway becomes a record that the CloudTrail engine keeps.

Runs as a response handler, after the answer is made, so it sees failures too (refusals, faults, calls
nobody implements). It keeps a compact record (lab.gateway.audit.ApiCall) and renders nothing: CloudTrail JSON
is built only when LookupEvents or a trail delivery asks for it.

Consistency with the journal: recording changes the lab state, so it happens under the sandbox lock, in
the same order as everything else. Its time is the instant Sandbox.apply ran the call (stamped by the
CloudTrail engine while the call was applied), so a call replayed from the journal after a crash is
recorded again at the same sim time with the same event id: replay re-records what the journal holds and
nothing twice, because a snapshot never holds the records of calls still in the journal. Reads and
refused calls are not journaled; like them, their records since the last snapshot do not survive a crash.
"""

from __future__ import annotations

from typing import Any

from lab.gateway import audit
from lab.gateway.audit import ApiCall, Principal
from lab.gateway.chain import Handler, HandlerChain
from lab.kernel.context import RequestContext
from lab.kernel.engine import ApiCallRecorder
from lab.kernel.port import Sandbox


def record_api_call(sandbox: Sandbox) -> Handler:
    def record_api_call(chain: HandlerChain, ctx: RequestContext) -> None:
        identity = ctx.identity
        response = ctx.response
        if identity is None or identity.operation is None or response is None or audit.is_unrecorded():
            return
        trail = sandbox.engines.find(ApiCallRecorder)
        if trail is None:
            return
        service, operation = identity.service, identity.operation
        traits = audit.operation_traits(service, operation)
        environ = ctx.environ
        status = response.status
        read_only = not ctx.is_mutating()
        principal: Principal | None = None
        access_key: str | None = None
        if ctx.internal and not ctx.replaying:
            principal = audit.service_principal(ctx.acting_as or audit.INTERNAL_SOURCE)
            source = user_agent = principal.invoked_by or audit.INTERNAL_SOURCE
        else:
            source = environ.get("REMOTE_ADDR") or "127.0.0.1"
            user_agent = environ.get("HTTP_USER_AGENT", "")
            access_key = audit.access_key_of(environ.get("HTTP_AUTHORIZATION"), ctx.query_string)
        body = None
        if traits.keeps_body and ctx.body_is_read and len(ctx.body) <= audit.MAX_KEPT_BODY:
            body = ctx.body
        answer: bytes | None = None
        answer_headers: tuple[tuple[str, str], ...] = ()
        error_code = error_message = None
        if status >= 400:
            error_code, error_message = _error(service, operation, identity.protocol, response)
        elif not read_only:
            data = response.body
            if isinstance(data, (bytes, bytearray)) and len(data) <= audit.MAX_KEPT_ANSWER:
                answer = bytes(data)
                answer_headers = tuple(response.headers)
        call = ApiCall(
            number=0, ordinal=0, at=environ.get(audit.APPLIED_AT_KEY) or sandbox.clock.now(),
            service=service, operation=operation, region=identity.region, event_source=traits.event_source,
            protocol=identity.protocol,
            read_only=read_only, data_event=traits.data_event, source=source,
            principal=principal or audit.DEFAULT_PRINCIPAL, access_key=access_key, user_agent=user_agent,
            request_id=_request_id(response.headers) or ctx.request_id, status=status, error_code=error_code,
            error_message=error_message, path=ctx.path, query=ctx.query_string,
            headers=_input_headers(environ, traits), body=body, answer_headers=answer_headers, answer=answer,
            bucket=identity.bucket, key=identity.key,
        )
        with sandbox.lock:
            trail.record(call, resolve_principal=principal is None)

    return record_api_call


def _request_id(headers: list[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() in ("x-amzn-requestid", "x-amz-request-id"):
            return value
    return None


def _error(service: str, operation: str, protocol: str | None, response: Any) -> tuple[str, str]:
    from lab.gateway.codec.decode import decode_answer

    try:
        parsed = decode_answer(service, operation, protocol, response.status, response.headers,
                               response.body_bytes())
    except Exception:  # noqa: BLE001 -- an unreadable error body still is a failed call
        parsed = {}
    error = parsed.get("Error") or {}
    return str(error.get("Code") or response.status), str(error.get("Message") or "")


def _input_headers(environ: dict[str, Any], traits: audit.OperationTraits) -> tuple[tuple[str, str], ...]:
    found = [(header, environ[key]) for key, header in traits.header_keys if key in environ]
    for key_prefix, header_prefix in traits.header_prefixes:
        found.extend((header_prefix + key[len(key_prefix):].lower().replace("_", "-"), value)
                     for key, value in environ.items() if key.startswith(key_prefix))
    return tuple(found)
