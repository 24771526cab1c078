"""Admin routes of route53: /_lab/dns, /_lab/route53/health."""

from __future__ import annotations

from typing import Any

from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body
from lab.services.route53.engine import Route53
from lab.services.route53.health import target_of
from lab.sim.clock import iso

# -- admin API ------------------------------------------------------------------------------------------


def mark_health(sandbox: Any, ctx: RequestContext) -> tuple[int, Any]:
    """{"region": "us-east-1", "down": true} | {"endpoint": "shop.us-east-1.securecart.lab", "down": false}"""
    engine: Route53 = _engine(sandbox)
    request = json_body(ctx)
    if "down" not in request or not isinstance(request["down"], bool):
        raise ValueError('say what to do: {"region" or "endpoint": NAME, "down": true or false}')
    if ("region" in request) == ("endpoint" in request):
        raise ValueError('name exactly one of "region" (e.g. us-east-1) or "endpoint" (an FQDN, IP address, '
                         'DB instance or bucket)')
    if "region" in request:
        engine.set_region_down(str(request["region"]), request["down"])
    else:
        engine.set_endpoint_down(str(request["endpoint"]), request["down"])
    return 200, health_report(engine)


def show_health(sandbox: Any, ctx: RequestContext) -> tuple[int, Any]:
    with sandbox.lock:  # one consistent instant, as an API call sees
        return 200, health_report(_engine(sandbox))


def health_report(engine: Route53) -> dict[str, Any]:
    checks = {}
    for check_id, tracked in sorted(engine.state.checks.items()):
        health = engine.health(check_id)
        checks[check_id] = {"type": tracked.config.get("Type"), "target": target_of(tracked.config).address or None,
                            "healthy": health.healthy, "reason": health.reason, "since": health.since}
    return {**engine.describe(), "checks": checks}


def dns_answer(sandbox: Any, ctx: RequestContext) -> tuple[int, Any]:
    """?name=shop.securecart.lab&type=A[&view=client|nameserver]: what a client resolving the name uses now (it
    keeps an answer for its record's TTL after Route 53's answer changed), or what Route 53's name servers
    answer; which record gave it and why."""
    params = ctx.query_params()
    name = params.get("name", [""])[0]
    record_type = (params.get("type", ["A"])[0] or "A").upper()
    view = params.get("view", ["client"])[0] or "client"
    if not name:
        raise ValueError("name the record to resolve: /_lab/dns?name=shop.securecart.lab&type=A")
    if view not in ("client", "nameserver"):
        raise ValueError(f"view is client (what a resolver's cache holds) or nameserver, not {view!r}")
    engine: Route53 = _engine(sandbox)
    with sandbox.lock:  # one consistent instant, as an API call sees
        resolver = engine.resolver(name, record_type)
        zone = resolver.zone_of(name)
        if view == "nameserver":
            answer = resolver.resolve(name, record_type)
            return 200, {**answer.to_dict(), "zone": zone + "." if zone else None, "view": view}
        seen = engine.client_view(name, record_type)
    body = {**seen.answer.to_dict(), "zone": zone + "." if zone else None, "view": view}
    if seen.kept_until is not None:
        body["why"] = [f"a client that resolved {body['name']} before Route 53's answer changed at "
                       f"{iso(seen.resolved_at or 0)} keeps {', '.join(seen.answer.data) or 'its answer'} for the "
                       f"record's TTL ({seen.answer.ttl if seen.answer.ttl is not None else 'the alias target'}"
                       f"{'' if seen.answer.ttl is None else ' s'}), until {iso(seen.kept_until)}", *body["why"]]
        body["kept_until"] = seen.kept_until
        body["nameserver"] = seen.current.to_dict()
    return 200, body


def register(router: AdminRouter) -> None:
    router.add("POST", "route53/health", mark_health, journal=True)
    router.add("GET", "route53/health", show_health)
    router.add("GET", "dns", dns_answer)


def _engine(sandbox: Sandbox) -> Route53:
    engine = sandbox.engines.find(Route53)
    if engine is None:
        raise LookupError("this sandbox runs no route53 engine")
    return engine
