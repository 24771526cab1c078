"""Hand the call to the backend; state-changing calls go through the sandbox's journal."""

from __future__ import annotations

from lab.gateway.chain import HandlerChain
from lab.gateway.context import RequestContext


def dispatch_to_backend(sandbox):  # noqa: ANN001
    def dispatch_to_backend(chain: HandlerChain, ctx: RequestContext) -> None:
        sandbox.apply(ctx, sandbox.backend.dispatch)

    return dispatch_to_backend
