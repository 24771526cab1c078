"""Last resort: nothing answered, so the operation is not implemented by any layer."""

from __future__ import annotations

from lab.gateway.chain import HandlerChain
from lab.gateway.codec.errors import aws_error, not_implemented
from lab.kernel.context import RequestContext


def answer_unhandled(chain: HandlerChain, ctx: RequestContext) -> None:
    ctx.response = not_implemented(ctx.identity, request_id=ctx.request_id) if ctx.identity and \
        ctx.identity.service else aws_error(ctx.identity, 404, "UnknownEndpoint",
                                            f"the sandbox has nothing at {ctx.method} {ctx.path}", ctx.request_id)


def internal_failure(chain: HandlerChain, ctx: RequestContext, exc: BaseException) -> None:
    """An exception inside the sandbox becomes AWS's InternalFailure, naming what failed; the log has the trace."""
    import logging

    logging.getLogger("lab.gateway").exception("request %s %s failed", ctx.method, ctx.path)
    operation = ctx.identity.operation if ctx.identity else None
    service = ctx.identity.service if ctx.identity else None
    ctx.response = aws_error(ctx.identity, 500, "InternalFailure",
                             f"the sandbox failed while handling {service or '?'} {operation or ctx.path}: "
                             f"{type(exc).__name__}: {exc}", ctx.request_id, sender_fault=False)
