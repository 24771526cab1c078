"""Admin routes of s3: /_lab/s3/replication."""

from __future__ import annotations

from typing import Any

from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import AdminRouter, json_body
from lab.services.s3.engine import S3
from lab.sim.clock import parse_duration


def replication_show(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    return 200, _engine(sandbox).describe()


def replication_change(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """{"action": "pause", "bucket"?: NAME, "duration"?: "30m"} | {"action": "resume", "bucket"?: NAME}"""
    engine: S3 = _engine(sandbox)
    request = json_body(ctx)
    bucket = request.get("bucket") or None
    if bucket is not None and not isinstance(bucket, str):
        raise ValueError(f"bucket must be a bucket name, not {bucket!r}")
    action = request.get("action")
    if action == "pause":
        duration = request.get("duration")
        engine.pause(bucket, engine.now() + parse_duration(str(duration)) if duration else None)
    elif action == "resume":
        engine.resume(bucket)
    else:
        raise ValueError(f"unknown replication action {action!r}; one of pause, resume")
    return 200, engine.describe()


def register(router: AdminRouter) -> None:
    router.add("GET", "s3/replication", replication_show)
    router.add("POST", "s3/replication", replication_change, journal=True)


def _engine(sandbox: Sandbox) -> S3:
    engine = sandbox.engines.find(S3)
    if engine is None:
        raise LookupError("this sandbox runs no s3 engine")
    return engine
