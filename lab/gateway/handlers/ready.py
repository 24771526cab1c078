"""Hold AWS calls from outside until the sandbox has restored its state and seeded the world."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.gateway.chain import Handler, HandlerChain
from lab.gateway.codec.errors import aws_error
from lab.kernel.context import RequestContext

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

READY_TIMEOUT_S = 120.0


def wait_until_ready(sandbox: Sandbox) -> Handler:
    def wait_until_ready(chain: HandlerChain, ctx: RequestContext) -> None:
        if ctx.internal or sandbox.ready.is_set():
            return
        if not sandbox.ready.wait(READY_TIMEOUT_S):
            ctx.response = aws_error(ctx.identity, 503, "ServiceUnavailable",
                                     "the sandbox is still starting (restoring state or seeding the world)",
                                     ctx.request_id, sender_fault=False)

    return wait_until_ready
