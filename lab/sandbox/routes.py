"""The sandbox's own admin routes: status, reset, snapshot, shutdown, doctor, the clock and the event log."""

from __future__ import annotations

from typing import Any

from lab import config
from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body, query_flag
from lab.sim.clock import parse_duration
from lab.sim.durations import parameter

CLOCK_ACTIONS = ("advance", "speed", "pause", "resume")


def clock_show(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    body = sandbox.clock.describe()
    due = sandbox.engines.next_due()
    body["next_event"] = {"engine": due[1].name, "epoch": due[0]} if due else None
    return 200, body


def clock_change(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"action": "advance", "duration": "3d"} | {"action": "speed", "factor": 60} | pause | resume."""
    request = json_body(ctx)
    action = request.get("action")
    clock = sandbox.clock
    result: dict[str, Any] = {}
    if action == "advance":
        seconds = parse_duration(str(request.get("duration", "")))
        if seconds <= 0:
            raise ValueError("advance needs a positive duration")
        before = clock.now()
        result["steps"] = sandbox.run_until(before + seconds)
        result["advanced_seconds"] = seconds
    elif action == "speed":
        try:
            factor = float(request.get("factor"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"speed needs a number, not {request.get('factor')!r}") from exc
        clock.set_speed(factor)
    elif action == "pause":
        clock.pause()
    elif action == "resume":
        clock.resume()
    else:
        raise ValueError(f"unknown clock action {action!r}; one of {', '.join(CLOCK_ACTIONS)}")
    sandbox.events.emit(clock.now(), "lab", "clock", f"Clock{str(action).capitalize()}",
                        **{k: v for k, v in request.items() if k != "action"})
    return 200, {**clock.describe(), **result}


def clock_tick(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """Play what is due up to now: the sandbox's own ticker calls this while time runs."""
    return 200, {"steps": sandbox.run_until(sandbox.clock.now()), **sandbox.clock.describe()}


def events(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    params = ctx.query_params()

    def one(name: str) -> str | None:
        return params.get(name, [None])[0]

    kinds = [k for value in params.get("kind", []) for k in value.split(",") if k]
    found = sandbox.events.query(
        since_seq=int(one("since") or 0), kinds=kinds or None, source=one("source"), region=one("region"),
        limit=int(one("limit") or 1000),
    )
    return 200, {"events": [event.to_dict() for event in found], "last_seq": sandbox.events.last_seq}


def status(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    return 200, sandbox.status(with_counts=query_flag(ctx, "counts", default=True))


def reset(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    sandbox.reset()
    return 200, sandbox.status(with_counts=True)


def snapshot(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    result = sandbox.snapshot()
    if not result["written"]:
        return 503, {"error": result["error"], **result}
    return 200, {"snapshot_bytes": result["bytes"], **result}


def shutdown(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    # Saved before the answer, so `lab down` can say how (or that the final snapshot failed); calls that
    # still arrive until the process ends are journaled as usual.
    saved = sandbox.save_for_shutdown() if sandbox.ready.is_set() else None
    sandbox.request_shutdown()
    return 202, {"stopping": True, "saved": saved}


def doctor(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    from lab.awsclient import client
    from lab.doctor import probe_services

    # A backend with an endpoint of its own (LocalStack, another emulator) is also asked directly; its URL
    # passed the loopback check (or --allow-remote) when the backend was made.
    url = sandbox.backend_url
    backend_client = (lambda service: client(service, config.PRIMARY_REGION, url, allow_remote=True)) if url else None
    return 200, probe_services(sandbox.client, backend_client)


def durations_show(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    return 200, _durations_body(sandbox)


def durations_change(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"set": {NAME: VALUE, ...}} and/or {"reset": [NAME, ...] | true}: this sandbox's duration model."""
    request = json_body(ctx)
    overrides = dict(sandbox.durations.overrides)
    reset = request.get("reset")
    if reset is True:
        overrides.clear()
    elif isinstance(reset, list):
        for name in reset:
            parameter(str(name))  # KeyError for a name the model does not have
            overrides.pop(str(name), None)
    elif reset is not None:
        raise ValueError('"reset" is true (every parameter) or a list of parameter names')
    changes = request.get("set") or {}
    if not isinstance(changes, dict):
        raise ValueError('"set" is an object of parameter names and numbers')
    overrides.update(changes)
    try:
        sandbox.set_durations(overrides)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from exc
    sandbox.events.emit(sandbox.clock.now(), "lab", "clock", "DurationsChanged", set=changes, reset=reset)
    return 200, _durations_body(sandbox)


def _durations_body(sandbox: Sandbox) -> dict[str, Any]:
    model = sandbox.durations
    return {"parameters": [{"name": item.name, "value": value, "default": item.default, "unit": item.unit,
                            "meaning": item.meaning, "source": item.source} for item, value in model.items()]}


def register(router: AdminRouter) -> None:
    router.add("GET", "status", status)
    router.add("POST", "reset", reset)
    router.add("POST", "snapshot", snapshot)
    router.add("POST", "shutdown", shutdown)
    router.add("GET", "doctor", doctor)
    router.add("GET", "durations", durations_show)
    router.add("POST", "durations", durations_change, journal=True)
    router.add("GET", "clock", clock_show)
    router.add("POST", "clock", clock_change, journal=True)
    router.add("POST", "clock/tick", clock_tick, journal=True)
    router.add("GET", "events", events)
