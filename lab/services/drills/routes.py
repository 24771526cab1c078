"""Admin routes of drills: /_lab/drills, /_lab/drills/*."""

from __future__ import annotations

from typing import Any

from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body
from lab.services.drills.engine import Drills, drill_dict

# -- admin API --------------------------------------------------------------------------------------------

def _engine(sandbox: Sandbox) -> Drills:
    engine = sandbox.engines.find(Drills)
    if engine is None:
        raise LookupError("this sandbox runs no drills engine")
    return engine


def drills_start(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"lab": "02-s3-crr"}: inject the lab's failure now and start measuring."""
    lab_id = json_body(ctx).get("lab")
    if not isinstance(lab_id, str) or not lab_id:
        raise ValueError('give the lab: {"lab": "02-s3-crr"}')
    engine = _engine(sandbox)
    return 200, drill_dict(engine, engine.start(lab_id))


def drills_list(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    engine = _engine(sandbox)
    return 200, {"drills": [drill_dict(engine, d) for d in sorted(engine.state.drills.values(), key=lambda d: d.id)]}


def drills_show(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    engine = _engine(sandbox)
    drill_id = ctx.path.rstrip("/").rsplit("/", 1)[-1]
    try:
        return 200, drill_dict(engine, engine.get(drill_id))
    except KeyError as exc:
        return 404, {"error": exc.args[0]}


def drills_end(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """POST /_lab/drills/<id>/end: stop measuring a drill that has not recovered (it is then breached)."""
    parts = ctx.path.rstrip("/").split("/")
    if len(parts) < 2 or parts[-1] != "end":
        raise ValueError("the drill action is POST /_lab/drills/<id>/end")
    engine = _engine(sandbox)
    try:
        return 200, drill_dict(engine, engine.end(parts[-2]))
    except KeyError as exc:
        return 404, {"error": exc.args[0]}


def register(router: AdminRouter) -> None:
    router.add("POST", "drills", drills_start, journal=True)
    router.add("GET", "drills", drills_list)
    router.add("GET", "drills/*", drills_show)
    router.add("POST", "drills/*", drills_end, journal=True)
