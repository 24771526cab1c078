"""One access-log line per request, and the request id header every AWS answer carries."""

from __future__ import annotations

import logging
import time

from lab.gateway.chain import HandlerChain
from lab.kernel.context import RequestContext

access_log = logging.getLogger("lab.access")


def add_request_id(chain: HandlerChain, ctx: RequestContext) -> None:
    if ctx.response is None:
        return
    names = {name.lower() for name, _ in ctx.response.headers}
    if "x-amzn-requestid" not in names and "x-amz-request-id" not in names:
        ctx.response.headers.append(("x-amzn-RequestId", ctx.request_id))


def log_request(chain: HandlerChain, ctx: RequestContext) -> None:
    if ctx.replaying or ctx.path.startswith("/_localstack/health"):
        return  # health polls (lab up waits on them) would drown the log
    # The lab's own in-process calls (engines, inventory) are many: only at debug level.
    level = logging.DEBUG if ctx.environ.get("lab.internal") else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    identity = ctx.identity
    status = ctx.response.status if ctx.response else 0
    access_log.log(
        level,
        "%s %s %s %s -> %d %.1fms",
        identity.region if identity else "-",
        identity.service if identity and identity.service else "-",
        identity.operation if identity and identity.operation else f"{ctx.method} {ctx.path}",
        "internal" if ctx.environ.get("lab.internal") else ctx.environ.get("REMOTE_ADDR", "-"),
        status,
        (time.perf_counter() - ctx.started) * 1000,
    )
