"""LocalStack's Chaos API, served as LocalStack serves it: GET/POST/PATCH/DELETE /_localstack/chaos/faults and
GET/POST /_localstack/chaos/effects (rules kept by the faults engine, changes journaled like any call)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lab.kernel.context import RequestContext
from lab.services.faults.rules import ChaosSchemaError

if TYPE_CHECKING:
    from lab.services.faults.engine import Faults

CHAOS_FAULTS = "/_localstack/chaos/faults"
CHAOS_EFFECTS = "/_localstack/chaos/effects"


def serve_chaos(engine: Faults, ctx: RequestContext) -> bool:
    """Answer `ctx` when it is a Chaos API call (True), else leave it alone (False)."""
    path = ctx.path.rstrip("/")
    if path not in (CHAOS_FAULTS, CHAOS_EFFECTS):
        return False
    _serve(engine, ctx, path)
    return True


def _serve(engine: Faults, ctx: RequestContext, path: str) -> None:
    allowed = ("GET", "POST", "PATCH", "DELETE") if path == CHAOS_FAULTS else ("GET", "POST")
    if ctx.method not in allowed:
        ctx.respond(405, json.dumps({"message": f"{ctx.method} is not supported on {path}; use {', '.join(allowed)}"}))
        return
    if ctx.method == "GET":
        body = engine.chaos_faults() if path == CHAOS_FAULTS else engine.chaos_effects()
        ctx.respond(200, json.dumps(body))
        return

    def change(ctx: RequestContext) -> None:
        try:
            document = json.loads(ctx.body or b"null")
        except RecursionError:
            ctx.respond(400, json.dumps({"message": "Error parsing JSON: the body nests deeper than any rule can"}))
            return
        except ValueError as exc:  # (JSONDecodeError, and UnicodeDecodeError for bytes that are not text)
            ctx.respond(400, json.dumps({"message": f"Error parsing JSON: {exc}"}))
            return
        try:
            if path == CHAOS_FAULTS:
                body: Any = engine.set_chaos_faults(ctx.method, document)
            else:
                body = engine.set_chaos_effects(document)
        except ChaosSchemaError as exc:
            ctx.respond(400, json.dumps({"message": str(exc)}))
            return
        ctx.respond(200, json.dumps(body))

    engine.sandbox.apply(ctx, change, mutating=True)
