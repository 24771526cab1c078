"""The lab's admin API under /_lab/: status, reset, snapshot, shutdown, doctor.

Later concerns (clock, faults, drills) add routes to `ROUTES` from their own modules.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from lab import config
from lab.gateway.chain import HandlerChain
from lab.gateway.context import RequestContext

PREFIX = "/_lab/"

# (method, path below /_lab/) -> function(sandbox, ctx) returning (status, json-able body)
Route = Callable[[Any, RequestContext], tuple[int, Any]]
ROUTES: dict[tuple[str, str], Route] = {}
JOURNALED: set[tuple[str, str]] = set()


def route(method: str, path: str, journal: bool = False) -> Callable[[Route], Route]:
    """Register an admin route. `journal=True` for routes that change the lab's state (clock, faults...):
    they run serialised with AWS calls and are replayed after a crash like them."""

    def register(func: Route) -> Route:
        ROUTES[(method, path)] = func
        if journal:
            JOURNALED.add((method, path))
        return func

    return register


def serve_admin(sandbox):  # noqa: ANN001
    def serve_admin(chain: HandlerChain, ctx: RequestContext) -> None:
        if not ctx.path.startswith(PREFIX):
            return
        name = ctx.path[len(PREFIX):].strip("/")
        if (ctx.method, name) not in ROUTES:  # "drills/*" serves drills/<id>...: the handler reads ctx.path
            name = name.split("/", 1)[0] + "/*" if "/" in name else name
        handler = ROUTES.get((ctx.method, name))
        if handler is None:
            known = sorted({f"{m} /_lab/{p}" for m, p in ROUTES})
            allowed = [m for m, p in ROUTES if p == name]
            status = 405 if allowed else 404
            ctx.respond(status, json.dumps({"error": f"no admin route {ctx.method} {ctx.path}", "routes": known}))
            return

        def run(ctx: RequestContext) -> None:
            try:
                status, body = handler(sandbox, ctx)
            except ValueError as exc:
                status, body = 400, {"error": str(exc)}
            ctx.respond(status, json.dumps(body, default=str))

        if (ctx.method, name) in JOURNALED:
            if not (ctx.replaying or ctx.environ.get("lab.internal")):
                sandbox.ready.wait(120)  # a learner's clock change waits for the restore to finish
            sandbox.apply(ctx, run, mutating=True)
        else:
            run(ctx)

    return serve_admin


def json_body(ctx: RequestContext) -> dict[str, Any]:
    if not ctx.body:
        return {}
    try:
        value = json.loads(ctx.body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"request body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError("request body must be a JSON object")
    return value


@route("GET", "status")
def status(sandbox, ctx: RequestContext) -> tuple[int, Any]:  # noqa: ANN001
    counts = ctx.query_params().get("counts", ["1"])[0] not in ("0", "false")
    return 200, sandbox.status(with_counts=counts)


@route("POST", "reset")
def reset(sandbox, ctx: RequestContext) -> tuple[int, Any]:  # noqa: ANN001
    sandbox.reset()
    return 200, sandbox.status(with_counts=True)


@route("POST", "snapshot")
def snapshot(sandbox, ctx: RequestContext) -> tuple[int, Any]:  # noqa: ANN001
    size = sandbox.snapshot()
    return 200, {"snapshot_bytes": size}


@route("POST", "shutdown")
def shutdown(sandbox, ctx: RequestContext) -> tuple[int, Any]:  # noqa: ANN001
    sandbox.request_shutdown()
    return 202, {"stopping": True}


@route("GET", "doctor")
def doctor(sandbox, ctx: RequestContext) -> tuple[int, Any]:  # noqa: ANN001
    from lab.awsclient import client
    from lab.doctor import probe_services

    # A backend with an endpoint of its own (LocalStack, another emulator) is also asked directly; its URL
    # passed the loopback check (or --allow-remote) when the backend was made.
    url = getattr(sandbox.backend, "url", None)
    backend_client = (lambda service: client(service, config.PRIMARY_REGION, url, allow_remote=True)) if url else None
    return 200, probe_services(sandbox.client, backend_client)


# Routes of the simulation's admin API live beside the clock; importing registers them.
import lab.sim.api  # noqa: E402,F401
import lab.inventory  # noqa: E402,F401  -- GET /_lab/inventory
