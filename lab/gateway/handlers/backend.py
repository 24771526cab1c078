"""Hand the call to a lab service or the backend, through the sandbox's serialised, journaled path."""

from __future__ import annotations

from lab.gateway.chain import HandlerChain
from lab.kernel.context import RequestContext


def dispatch_to_backend(sandbox):  # noqa: ANN001
    def dispatch_to_backend(chain: HandlerChain, ctx: RequestContext) -> None:
        sandbox.apply(ctx, sandbox.serve_aws)

    return dispatch_to_backend
