"""Hand the call to a lab service or the backend, through the sandbox's serialised, journaled path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.gateway.chain import Handler, HandlerChain
from lab.kernel.context import RequestContext

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox


def dispatch_to_backend(sandbox: Sandbox) -> Handler:
    def dispatch_to_backend(chain: HandlerChain, ctx: RequestContext) -> None:
        sandbox.apply(ctx, sandbox.serve_aws)

    return dispatch_to_backend
