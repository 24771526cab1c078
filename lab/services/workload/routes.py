"""Admin routes of workload: /_lab/orders, /_lab/workload."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body
from lab.services.workload.engine import Workload


def workload_show(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    return 200, _engine(sandbox).describe()


def workload_change(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"enabled": false} | {"orders_per_hour": 120}"""
    engine = _engine(sandbox)
    request = json_body(ctx)
    state = engine.state
    if "orders_per_hour" in request:
        rate = float(request["orders_per_hour"])
        if not 0 < rate <= 36000:
            raise ValueError("orders_per_hour must be > 0 and <= 36000")
        state.orders_per_hour = rate
        state.next_at = None
    if "enabled" in request:
        state.enabled = bool(request["enabled"])
        state.next_at = None
    engine.emit("WorkloadChanged", kind="workload", **request)
    return 200, engine.describe()


def orders(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """The ledger of every order the shop placed: ?after=EPOCH&before=EPOCH&limit=N (oldest first)."""
    params = ctx.query_params()
    after = float(params.get("after", ["-inf"])[0])
    before = float(params.get("before", ["inf"])[0])
    chosen = [order for order in sandbox.lab.orders
              if after <= _epoch(order["created_at"]) < before]
    limit = int(params.get("limit", ["0"])[0])
    return 200, {"orders": chosen[-limit:] if limit else chosen, "total": len(sandbox.lab.orders)}


def _epoch(created_at: str) -> float:
    return datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def register(router: AdminRouter) -> None:
    router.add("GET", "workload", workload_show)
    router.add("POST", "workload", workload_change, journal=True)
    router.add("GET", "orders", orders)


def _engine(sandbox: Sandbox) -> Workload:
    engine = sandbox.engines.find(Workload)
    if engine is None:
        raise LookupError("this sandbox runs no workload engine")
    return engine
