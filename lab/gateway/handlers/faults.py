"""Fault injection: a call that an active fault rule matches gets the rule's AWS-style error in its own
protocol (or is slowed down); LocalStack's Chaos API is answered by the fault policy too.

The rules apply to calls from outside the sandbox (the learner's tools). The sandbox's own machinery is
governed by the scenario instead (paused replication, refused data writes, stopped instances), and a call
played back from the journal succeeded when it was first made, so it is never failed again.
"""

from __future__ import annotations

import time

from lab.gateway.chain import Handler, HandlerChain
from lab.gateway.codec.errors import encode_error
from lab.kernel.context import RequestContext
from lab.kernel.engine import FaultPolicy
from lab.kernel.port import Sandbox


def inject_faults(sandbox: Sandbox) -> Handler:
    def inject_faults(chain: HandlerChain, ctx: RequestContext) -> None:
        policy = sandbox.engines.find(FaultPolicy)
        if policy is None or policy.serve_chaos(ctx):
            return
        identity = ctx.identity
        if identity is None or identity.service is None or ctx.replaying or ctx.internal:
            return
        with sandbox.lock:
            decision = policy.decide(identity)
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000.0)  # wall-clock delay, as a slow network would add
        if decision.error is not None:
            ctx.response = encode_error(identity, decision.error, ctx.request_id)

    return inject_faults
