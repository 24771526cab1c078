"""The gateway's handler chain: plain lists of small callables, each one concern.

A request handler receives the chain and the context; it may set `ctx.response`, after which the
remaining request handlers are skipped. Response handlers always run (audit, journal, headers).
Exception handlers turn an exception into a response; the first that sets one wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from lab.kernel.context import RequestContext

log = logging.getLogger("lab.gateway")

Handler = Callable[["HandlerChain", RequestContext], None]
ExceptionHandler = Callable[["HandlerChain", RequestContext, BaseException], None]


@dataclass
class HandlerChain:
    request_handlers: list[Handler] = field(default_factory=list)
    response_handlers: list[Handler] = field(default_factory=list)
    exception_handlers: list[ExceptionHandler] = field(default_factory=list)

    def handle(self, ctx: RequestContext) -> None:
        try:
            for handler in self.request_handlers:
                handler(self, ctx)
                if ctx.response is not None:
                    break
        except Exception as exc:  # noqa: BLE001 -- every failure becomes an AWS-style answer
            self._handle_exception(ctx, exc)
        for handler in self.response_handlers:
            try:
                handler(self, ctx)
            except Exception:  # a failing audit or journal must not lose the answer already made
                log.exception("response handler %s failed", getattr(handler, "__name__", handler))

    def _handle_exception(self, ctx: RequestContext, exc: BaseException) -> None:
        for handler in self.exception_handlers:
            handler(self, ctx, exc)
            if ctx.response is not None:
                return
        raise exc
