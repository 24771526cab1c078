"""LocalStack's health endpoint, same path and shape, so tools written for LocalStack find the sandbox."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lab import __version__
from lab.gateway.chain import Handler, HandlerChain
from lab.kernel.context import RequestContext

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

HEALTH_PATHS = ("/_localstack/health", "/health")


def serve_health(sandbox: Sandbox) -> Handler:
    def serve_health(chain: HandlerChain, ctx: RequestContext) -> None:
        if ctx.path.rstrip("/") not in HEALTH_PATHS or ctx.method not in ("GET", "HEAD"):
            return
        body = {
            "services": sandbox.backend.health(),
            "edition": "securecart-lab",
            "version": __version__,
            "backend": sandbox.backend.name,
            "ready": sandbox.ready.is_set(),
        }
        ctx.respond(200, json.dumps(body))

    return serve_health
