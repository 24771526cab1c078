"""Fault injection: a call that an active fault rule matches gets the rule's AWS-style error in its own
protocol (or is slowed down); LocalStack's Chaos API is served here as LocalStack serves it.

The rules apply to calls from outside the sandbox (the learner's tools). The sandbox's own machinery is
governed by the scenario instead (paused replication, refused data writes, stopped instances), and a call
played back from the journal succeeded when it was first made, so it is never failed again.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from lab.engines._fault_rules import ChaosSchemaError
from lab.gateway.chain import Handler, HandlerChain
from lab.gateway.context import RequestContext, Response
from lab.gateway.errors import aws_error
from lab.sandbox.inprocess import INTERNAL_KEY

if TYPE_CHECKING:
    from lab.sandbox.core import Sandbox

CHAOS_FAULTS = "/_localstack/chaos/faults"
CHAOS_EFFECTS = "/_localstack/chaos/effects"


def inject_faults(sandbox: Sandbox) -> Handler:
    def inject_faults(chain: HandlerChain, ctx: RequestContext) -> None:
        path = ctx.path.rstrip("/")
        if path in (CHAOS_FAULTS, CHAOS_EFFECTS):
            _serve_chaos(sandbox, ctx, path)
            return
        identity = ctx.identity
        if identity is None or identity.service is None or ctx.replaying or ctx.environ.get(INTERNAL_KEY):
            return
        engine = sandbox.engines.get("faults")
        if engine is None:
            return
        with sandbox.lock:
            decision = engine.decide(identity)
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000.0)  # wall-clock delay, as a slow network would add
        if decision.fails:
            rule = decision.rule
            error = aws_error(identity, rule.status_code, rule.code, rule.message, ctx.request_id,
                              sender_fault=rule.status_code < 500)
            ctx.response = Response(error.status, list(error.headers), error.body)

    return inject_faults


def _serve_chaos(sandbox: Any, ctx: RequestContext, path: str) -> None:
    engine = sandbox.engines["faults"]
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
        except json.JSONDecodeError as exc:
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

    sandbox.apply(ctx, change, mutating=True)
