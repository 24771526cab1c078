"""The lab's admin API under /_lab/: the sandbox's route table (`sandbox.router`) answers, in JSON.

Routes that change the lab's state (journal=True) run through `sandbox.apply`, serialised with AWS calls and
journaled like them; the others read.
"""

from __future__ import annotations

import json

from lab.gateway.chain import Handler, HandlerChain
from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import PREFIX


def serve_admin(sandbox: Sandbox) -> Handler:
    def serve_admin(chain: HandlerChain, ctx: RequestContext) -> None:
        if not ctx.path.startswith(PREFIX):
            return
        path = ctx.path[len(PREFIX):]
        route = sandbox.router.find(ctx.method, path)
        if route is None:
            allowed = sandbox.router.methods_for(path)
            known = sorted(f"{r.method} /_lab/{r.path}" for r in sandbox.router)
            ctx.respond(405 if allowed else 404,
                        json.dumps({"error": f"no admin route {ctx.method} {ctx.path}", "routes": known}))
            return

        def run(ctx: RequestContext) -> None:
            try:
                status, body = route.handler(sandbox, ctx)
            except ValueError as exc:
                status, body = 400, {"error": str(exc)}
            # (a route may answer JSON it encoded itself: the inventory, encoded by its schema's encoder)
            ctx.respond(status, body if isinstance(body, bytes) else json.dumps(body, default=str))

        if route.journal:
            if not (ctx.replaying or ctx.internal):
                sandbox.ready.wait(120)  # a learner's clock change waits for the restore to finish
            sandbox.apply(ctx, run, mutating=True)
        else:
            run(ctx)

    return serve_admin
