"""Hold AWS calls from outside until the sandbox has restored its state and seeded the world."""

from __future__ import annotations

from lab.gateway.chain import HandlerChain
from lab.gateway.codec.errors import aws_error
from lab.kernel.context import RequestContext, Response

READY_TIMEOUT_S = 120.0


def wait_until_ready(sandbox):  # noqa: ANN001
    def wait_until_ready(chain: HandlerChain, ctx: RequestContext) -> None:
        if ctx.internal or sandbox.ready.is_set():
            return
        if not sandbox.ready.wait(READY_TIMEOUT_S):
            error = aws_error(ctx.identity, 503, "ServiceUnavailable",
                              "the sandbox is still starting (restoring state or seeding the world)", sender_fault=False)
            ctx.response = Response(error.status, list(error.headers), error.body)

    return wait_until_ready
