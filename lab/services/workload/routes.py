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


SETTINGS = ("enabled", "orders_per_hour")


def workload_change(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"enabled": false} | {"orders_per_hour": 120} (or both): checked whole before anything changes."""
    engine = _engine(sandbox)
    request = json_body(ctx)
    unknown = sorted(set(request) - set(SETTINGS))
    if unknown:
        raise ValueError(f"the workload takes enabled and orders_per_hour, not {', '.join(unknown)[:200]}")
    enabled, rate = request.get("enabled"), request.get("orders_per_hour")
    if "enabled" in request and not isinstance(enabled, bool):
        raise ValueError(f"enabled must be true or false (JSON), not {enabled!r:.40}")
    if "orders_per_hour" in request:
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise ValueError(f"orders_per_hour must be a number, not {rate!r:.40}")
        if not 0 < rate <= 36000:
            raise ValueError("orders_per_hour must be > 0 and <= 36000")
    state = engine.state
    if "orders_per_hour" in request:
        state.orders_per_hour = float(rate)
        state.next_at = None
    if "enabled" in request:
        state.enabled = enabled
        state.next_at = None
    engine.emit("WorkloadChanged", kind="workload", **{name: request[name] for name in SETTINGS if name in request})
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
