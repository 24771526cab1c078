"""Admin routes of dynamodb: /_lab/dynamodb/replication."""

from __future__ import annotations

from typing import Any

from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body
from lab.services.dynamodb.engine import DynamoDB

# -- admin API -------------------------------------------------------------------------------------------

def replication_route(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"action": "pause" | "resume", "table"?: NAME}: global-table replication of one table (or all)."""
    engine = sandbox.engines.find(DynamoDB)
    if engine is None:
        raise ValueError("this sandbox has no DynamoDB engine")
    request = json_body(ctx)
    action, table = request.get("action"), request.get("table")
    if table is not None and not isinstance(table, str):
        raise ValueError('"table" must be a table name')
    if action == "pause":
        engine.pause(table)
    elif action == "resume":
        engine.resume(table)
    else:
        raise ValueError(f'unknown action {action!r}: use "pause" or "resume"')
    return 200, engine.describe()


def register(router: AdminRouter) -> None:
    router.add("POST", "dynamodb/replication", replication_route, journal=True)


def _engine(sandbox: Sandbox) -> DynamoDB:
    engine = sandbox.engines.find(DynamoDB)
    if engine is None:
        raise LookupError("this sandbox runs no dynamodb engine")
    return engine
