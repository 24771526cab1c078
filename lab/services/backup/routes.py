"""Admin routes of backup: /_lab/backup, /_lab/backup/frameworks, /_lab/backup/frameworks/evaluation."""

from __future__ import annotations

from typing import Any

from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter
from lab.services.backup.engine import Backup


def _frameworks(sandbox: Sandbox, region: str | None, name: str | None) -> list[dict[str, Any]]:
    engine: Backup = _engine(sandbox)
    return [engine.evaluate_framework(framework)
            for (found_region, found_name), framework in sorted(engine.state.frameworks.items())
            if (region is None or found_region == region) and (name is None or found_name == name)]


def backup_summary(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    return 200, _engine(sandbox).describe()


def framework_evaluations(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """Every Audit Manager framework with its controls evaluated now: ?region=us-east-1 narrows the list."""
    region = ctx.query_params().get("region", [None])[0]
    with sandbox.lock:
        return 200, {"frameworks": _frameworks(sandbox, region, None)}


def framework_evaluation(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """One framework's evaluation: ?name=FRAMEWORK[&region=us-east-1] (default: the first region holding it)."""
    params = ctx.query_params()
    name = params.get("name", [None])[0]
    if not name:
        raise ValueError("name the framework: /_lab/backup/frameworks/evaluation?name=FRAMEWORK[&region=REGION]")
    with sandbox.lock:
        found = _frameworks(sandbox, params.get("region", [None])[0], name)
    if not found:
        return 404, {"error": f"no Backup Audit Manager framework named {name}"}
    return 200, found[0]


def register(router: AdminRouter) -> None:
    router.add("GET", "backup", backup_summary)
    router.add("GET", "backup/frameworks", framework_evaluations)
    router.add("GET", "backup/frameworks/evaluation", framework_evaluation)


def _engine(sandbox: Sandbox) -> Backup:
    engine = sandbox.engines.find(Backup)
    if engine is None:
        raise LookupError("this sandbox runs no backup engine")
    return engine
