"""The gateway: a WSGI app that runs every request through the handler chain, in this order.

  request:   health -> admin -> wait-until-ready -> identify -> decode (refuse what the service would) -> faults
             -> checksums -> lab service API or backend -> not-implemented
  response:  checksum type -> errors completed (a body, readable XML) -> request id -> audit -> access log
  exception: InternalFailure in the request's protocol
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from lab.gateway.chain import HandlerChain
from lab.gateway.handlers.admin import serve_admin
from lab.gateway.handlers.audit import record_api_call
from lab.gateway.handlers.backend import dispatch_to_backend
from lab.gateway.handlers.checksums import answer_checksum_type, verify_checksums
from lab.gateway.handlers.decode import decode_request
from lab.gateway.handlers.errors import complete_errors
from lab.gateway.handlers.fallback import answer_unhandled, internal_failure
from lab.gateway.handlers.faults import inject_faults
from lab.gateway.handlers.health import serve_health
from lab.gateway.handlers.identify import identify_request
from lab.gateway.handlers.logging import add_request_id, log_request
from lab.gateway.handlers.ready import wait_until_ready
from lab.kernel.context import RequestContext

_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
            301: "Moved Permanently", 304: "Not Modified", 307: "Temporary Redirect", 400: "Bad Request",
            403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
            411: "Length Required", 412: "Precondition Failed", 416: "Range Not Satisfiable",
            500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable"}


def build_chain(sandbox: Any) -> HandlerChain:
    return HandlerChain(
        request_handlers=[
            serve_health(sandbox),
            serve_admin(sandbox),
            wait_until_ready(sandbox),
            identify_request,
            decode_request,
            inject_faults(sandbox),
            verify_checksums(sandbox),
            dispatch_to_backend(sandbox),
            answer_unhandled,
        ],
        response_handlers=[answer_checksum_type(sandbox), complete_errors, add_request_id, record_api_call(sandbox),
                           log_request],
        exception_handlers=[internal_failure],
    )


class GatewayApp:
    """WSGI entry point; `replaying` marks requests played back from the journal."""

    def __init__(self, chain: HandlerChain) -> None:
        self.chain = chain

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        ctx = RequestContext.from_environ(environ)
        ctx.replaying = bool(environ.get("lab.replaying"))
        self.chain.handle(ctx)
        response = ctx.response
        assert response is not None  # answer_unhandled guarantees one
        status = f"{response.status} {_REASONS.get(response.status, 'Unknown')}"
        headers = list(response.headers)
        body = response.body
        if isinstance(body, (bytes, bytearray)):
            if ctx.method == "HEAD":
                # HEAD answers keep the entity's Content-Length but carry no body.
                if not any(name.lower() == "content-length" for name, _ in headers):
                    headers.append(("Content-Length", str(len(body))))
                start_response(status, headers)
                return [b""]
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
            start_response(status, headers)
            return [bytes(body)]
        start_response(status, headers)
        return body
