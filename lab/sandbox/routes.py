"""The sandbox's own admin routes: status, reset, snapshot, shutdown, doctor, the clock and the event log."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from lab import config
from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body, query_flag
from lab.sandbox import inprocess
from lab.sim.clock import parse_duration
from lab.sim.durations import parameter

CLOCK_ACTIONS = ("advance", "advance-to", "speed", "pause", "resume")
SLICE_SECONDS = 0.04  # wall time one slice of an advance aims at: what another call may wait for it
FIRST_SLICE = 600.0  # sim seconds of the first slice; the next ones are sized by how long the last one took
MAX_ADVANCE_DAYS = 366  # one advance: a year of the shop takes minutes; more would run for hours


def clock_show(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    body = sandbox.clock.describe()
    due = sandbox.engines.next_due()
    body["next_event"] = {"engine": due[1].name, "epoch": due[0]} if due else None
    return 200, body


def clock_change(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"action": "advance", "duration": "3d"} | {"action": "advance-to", "until": EPOCH} |
    {"action": "speed", "factor": 60} | pause | resume.

    An advance runs in slices, each one journaled call that plays the engines up to a sim time ("advance-to"),
    the sandbox's lock free between two: other calls go on while time advances, and the journal replays the
    slices and the calls in the order they ran. A crash mid-advance leaves the world at the last slice done.
    Every other change is one journaled call, as is an advance replayed from a journal written before slices.
    """
    request = json_body(ctx)
    if request.get("action") == "advance" and not ctx.replaying:
        return _advance_in_slices(sandbox, ctx, request)
    return _journaled(sandbox, ctx, lambda: _change_clock(sandbox, request))


def _journaled(sandbox: Sandbox, ctx: RequestContext, change: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """Run `change` as a journal=True route runs: serialised with every other change, and journaled."""
    if not (ctx.replaying or ctx.internal):
        sandbox.ready.wait(120)  # a learner's clock change waits for the restore to finish
    answers: list[tuple[int, Any]] = []

    def run(ctx: RequestContext) -> None:
        status, body = change()
        answers.append((status, body))
        ctx.respond(status, json.dumps(body, default=str))

    sandbox.apply(ctx, run, mutating=True)
    return answers[0]


def _change_clock(sandbox: Sandbox, request: dict[str, Any]) -> tuple[int, Any]:
    action = request.get("action")
    clock = sandbox.clock
    result: dict[str, Any] = {}
    event: str | None = f"Clock{str(action).capitalize()}"
    if action == "advance":  # (only from a journal written before advances ran in slices)
        seconds = _duration(request)
        result["steps"] = sandbox.run_until(clock.now() + seconds)
        result["advanced_seconds"] = seconds
    elif action == "advance-to":
        # A slice of an advance: the first names the advance's duration (its end is counted from this call's
        # sim time, as one journaled call: replayed, it is the same) and the sim time it plays up to ("span"
        # from now); each next one the sim time it plays up to ("until") and the advance's end ("target").
        now = clock.now()
        if "until" in request:
            until, target = _epoch(request, "until"), _epoch(request, "target", required=False)
        else:
            target = now + _duration(request)
            span = _epoch(request, "span", required=False)
            until = target if span is None else min(target, now + span)
        if not until - now <= MAX_ADVANCE_DAYS * 86400 or (target is not None and not math.isfinite(target)):
            raise ValueError(f"advance-to plays at most {MAX_ADVANCE_DAYS} days from now (sim time {now:.0f}), "
                             f"not up to {until!r}")
        result["steps"] = sandbox.run_until(until)
        result["target"] = target
        # (the slice that ends an advance names it in the event log; the others are not events of their own)
        event = "ClockAdvance" if target is not None and until >= target else None
        request = {"duration": request["duration"]} if event and "duration" in request else {}
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
    if event is not None:
        sandbox.events.emit(clock.now(), "lab", "clock", event, **{k: v for k, v in request.items() if k != "action"})
    return 200, {**clock.describe(), **result}


def _epoch(request: dict[str, Any], name: str, required: bool = True) -> Any:
    """request[name] as epoch seconds (a sim time); None when absent and not `required`."""
    if name not in request and not required:
        return None
    try:
        return float(request[name])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"advance-to needs {name} as a sim time in epoch seconds, not {request.get(name)!r}"
                         ) from exc


def _duration(request: dict[str, Any]) -> float:
    seconds = parse_duration(str(request.get("duration", "")))
    if seconds <= 0:
        raise ValueError("advance needs a positive duration")
    if not seconds <= MAX_ADVANCE_DAYS * 86400:  # (not: also refuses inf and nan)
        raise ValueError(f"an advance is at most {MAX_ADVANCE_DAYS} days (a year); to go further, advance again "
                         f"after this one: {request.get('duration')!s:.40} is more")
    return seconds


def _advance_in_slices(sandbox: Sandbox, ctx: RequestContext, request: dict[str, Any]) -> tuple[int, Any]:
    seconds = _duration(request)
    if not ctx.internal:
        sandbox.ready.wait(120)
    span, steps, reached = FIRST_SLICE, 0, None
    body: dict[str, Any] = {"action": "advance-to", "duration": request["duration"], "span": span}
    while True:
        started = time.perf_counter()
        status, _, answer = inprocess.call_app(sandbox.app, inprocess.environ_for(
            "POST", sandbox.endpoint + "/_lab/clock", [("Content-Type", "application/json")],
            json.dumps(body).encode()))
        result = json.loads(answer)
        if status != 200:
            where = f"at {reached} (sim time) " if reached is not None else ""
            return status, {"error": f"the advance stopped {where}: {result.get('error', status)}", "steps": steps}
        steps += result["steps"]
        target = result["target"]
        reached = body.get("until", min(target, target - seconds + span))
        if reached >= target:
            return 200, {**sandbox.clock.describe(), "steps": steps, "advanced_seconds": seconds}
        took = time.perf_counter() - started
        span = min(span * 4, max(60.0, span * SLICE_SECONDS / max(took, 1e-4)))
        body = {"action": "advance-to", "until": min(target, reached + span), "target": target,
                "duration": request["duration"]}
        if sandbox.settle_survivors is not None:
            sandbox.settle_survivors()
        sandbox.lock.let_waiting_in()  # (every call that waited for this slice goes first)


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
    router.add("POST", "clock", clock_change)  # (it journals its changes itself: an advance in slices)
    router.add("POST", "clock/tick", clock_tick, journal=True)
    router.add("GET", "events", events)
