"""Admin routes of faults: /_lab/fail, /_lab/faults, /_lab/recover, /_lab/scenarios."""

from __future__ import annotations

from typing import Any

from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body
from lab.services.faults import fis_experiments as fis_experiments
from lab.services.faults.catalog import load_scenarios
from lab.services.faults.engine import Faults, injection_dict

# -- admin API --------------------------------------------------------------------------------------------

def _engine(sandbox: Sandbox) -> Faults:
    engine = sandbox.engines.find(Faults)
    if engine is None:
        raise LookupError("this sandbox runs no faults engine")
    return engine


def faults_show(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """What is active (?all=1: also what has ended)."""
    include_ended = ctx.query_params().get("all", ["0"])[0] not in ("0", "false", "")
    return 200, _engine(sandbox).listing(include_ended)


def faults_add(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """A lab rule: {"service"?, "region"?, "operation"?, "probability"?, "error"?: {"statusCode", "code",
    "message"}, "latency_ms"?, "duration"?}."""
    return 200, _engine(sandbox).add_lab_rule(json_body(ctx))


def faults_remove(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """Remove the lab's rules (?id=rule-0001: just that one)."""
    rule_id = ctx.query_params().get("id", [None])[0]
    return 200, {"removed": _engine(sandbox).remove_lab_rules(rule_id)}


def scenarios_list(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    return 200, {"scenarios": [cls.describe() for _, cls in sorted(load_scenarios().items())]}


def fail(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"scenario": NAME, "params": {...}} -> the injection."""
    request = json_body(ctx)
    name = request.get("scenario")
    if not isinstance(name, str) or not name:
        raise ValueError('give a scenario: {"scenario": "region-outage", "params": {...}}; GET /_lab/scenarios '
                         "lists them")
    params = request.get("params") or {}
    if not isinstance(params, dict):
        raise ValueError('"params" must be an object of parameter names and values')
    injection = _engine(sandbox).start_scenario(name, params)
    return 200, injection_dict(injection)


def recover(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    return 200, _engine(sandbox).recover()


def register(router: AdminRouter) -> None:
    router.add("GET", "faults", faults_show)
    router.add("POST", "faults", faults_add, journal=True)
    router.add("DELETE", "faults", faults_remove, journal=True)
    router.add("GET", "scenarios", scenarios_list)
    router.add("POST", "fail", fail, journal=True)
    router.add("POST", "recover", recover, journal=True)
