"""Admin routes of rds: /_lab/rds/digests, /_lab/sql."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lab import config
from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body
from lab.services.rds.engine import RdsData
from lab.services.rds.store import (
    QueryResult,
)
from lab.sim.clock import iso

# -- admin API -------------------------------------------------------------------------------------------

def _engine(sandbox: Sandbox) -> RdsData:
    engine = sandbox.engines.find(RdsData)
    if engine is None:
        raise ValueError("this sandbox has no RDS data plane engine")
    return engine


def sql_route(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"instance": NAME, "region"?: REGION, "sql": TEXT, "parameters"?: [VALUE, ...]}
    -> {"columns", "rows", "changed", "truncated"}.

    `parameters` are bound to the statement's `?` placeholders. A read runs unjournaled; a write runs again
    as a journaled call so that a crash replays it."""
    request = json_body(ctx)
    name, sql = request.get("instance"), request.get("sql")
    region = request.get("region") or config.PRIMARY_REGION
    parameters = request.get("parameters", [])
    if not isinstance(name, str) or not name or not isinstance(sql, str):
        raise ValueError('POST /_lab/sql needs {"instance": NAME, "sql": STATEMENT} (and optionally "region", '
                         '"parameters")')
    if not isinstance(parameters, list) or not all(
            value is None or isinstance(value, str | int | float) for value in parameters):
        raise ValueError('POST /_lab/sql: "parameters" must be a list of strings, numbers or nulls, one per "?" '
                         "in the statement")
    if region not in config.REGIONS:
        raise ValueError(f"unknown region {region!r}; the sandbox has {', '.join(config.REGIONS)}")
    engine = _engine(sandbox)
    outcome: dict[str, QueryResult | None] = {}

    def run(write: bool) -> Callable[[RequestContext], None]:
        def action(inner: RequestContext) -> None:
            outcome["result"] = engine.run_sql(region, name, sql, write, parameters)
            inner.respond(200, "{}")
        return action

    sandbox.apply(ctx, run(False), mutating=False)
    if outcome["result"] is None:
        sandbox.apply(ctx, run(True), mutating=True)
    result = outcome["result"]
    assert result is not None
    return 200, {"instance": name.lower(), "region": region, "columns": result.columns, "rows": result.rows,
                 "changed": result.changed, "truncated": result.truncated}

def digests_route(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """Per region, per DB instance: the orders it holds (count, time range, sha256 of the sorted order ids)."""
    with sandbox.lock:
        return 200, {"regions": _engine(sandbox).digests(), "at": iso(sandbox.clock.now())}


def register(router: AdminRouter) -> None:
    router.add("POST", "sql", sql_route)
    router.add("GET", "rds/digests", digests_route)
