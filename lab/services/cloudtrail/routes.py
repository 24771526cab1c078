"""Admin routes of cloudtrail: /_lab/cloudtrail/events."""

from __future__ import annotations

from typing import Any

from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter
from lab.services.cloudtrail.engine import CloudTrail

# -- admin API ------------------------------------------------------------------------------------------


def cloudtrail_events(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """Recorded calls as CloudTrail event records, newest first: ?region=&name=&limit=N&data=1 (data events too)."""
    params = ctx.query_params()

    def one(name: str) -> str | None:
        return params.get(name, [None])[0]

    engine: CloudTrail = _engine(sandbox)
    limit = int(one("limit") or 100)
    region, name, with_data = one("region"), one("name"), one("data") in ("1", "true")
    found = []
    with sandbox.lock:
        for call in reversed(engine.state.calls):
            if (region and call.region != region) or (name and call.operation != name) \
                    or (call.data_event and not with_data):
                continue
            found.append(engine.render(call))
            if len(found) >= limit:
                break
    return 200, {"events": found, "recorded": engine.state.recorded}


def register(router: AdminRouter) -> None:
    router.add("GET", "cloudtrail/events", cloudtrail_events)


def _engine(sandbox: Sandbox) -> CloudTrail:
    engine = sandbox.engines.find(CloudTrail)
    if engine is None:
        raise LookupError("this sandbox runs no cloudtrail engine")
    return engine
