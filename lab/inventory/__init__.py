"""The collector of the inventory: reads the sandbox into checks.inventory's typed models (schema 2.0), one
module per service, mirroring checks/inventory/: s3, dynamodb, rds, ec2, backup, cloudtrail, iam, route53 and
the lab's own parts (lab.inventory.lab: the ledger, the drills, the fault injections).

Entry points:
- `collect_in_sandbox(sandbox, parts)`: inside the sandbox process, one consistent instant (the sandbox lock
  held throughout), direct reads of the engines and the data layer, unseen by faults and the audit;
- `collect_from_endpoint(endpoint, parts)`: from outside: the sandbox's GET /_lab/inventory (fast and
  complete), else the AWS APIs of whatever AWS-compatible endpoint answers (slower, capped listings);
- GET /_lab/inventory?services=s3,rds (`register`): the first, for the second.
Parts (checks.inventory.PARTS) name what to read; None reads everything.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from checks.inventory import PARTS, SCHEMA_VERSION, Inventory, dumps, loads, normalise_parts

if TYPE_CHECKING:
    from lab.kernel.context import RequestContext
    from lab.kernel.port import Sandbox
    from lab.kernel.routes import AdminRouter

# (the collector, the sources and boto3 are imported where they are used: `lab check` only asks the sandbox)


class InventoryReader:
    """The sandbox's inventory reader: what it keeps between collections (sources.Digests)."""

    def __init__(self, sandbox: Sandbox) -> None:
        from lab.inventory.sources import Digests

        self.sandbox = sandbox
        self.digests = Digests()

    def collect(self, parts: Iterable[str] | None = None) -> Inventory:
        """One instant (the sandbox lock held throughout), unseen by faults and the audit."""
        from lab.gateway import audit
        from lab.inventory.collector import Collector
        from lab.inventory.sources import SandboxSource

        chosen = normalise_parts(parts)
        with self.sandbox.lock, audit.unrecorded():
            return Collector(SandboxSource(self.sandbox, self.digests), chosen).run()


_READERS: weakref.WeakKeyDictionary[Any, InventoryReader] = weakref.WeakKeyDictionary()
_READERS_LOCK = threading.Lock()


def reader_for(sandbox: Sandbox) -> InventoryReader:
    """The sandbox's reader, made on first use (the route and the drills engine share it; it goes with the
    sandbox)."""
    with _READERS_LOCK:
        found = _READERS.get(sandbox)
        if found is None:
            found = _READERS[sandbox] = InventoryReader(sandbox)
        return found


def collect_in_sandbox(sandbox: Sandbox, parts: Iterable[str] | None = None) -> Inventory:
    return reader_for(sandbox).collect(parts)


def collect_from_endpoint(endpoint: str, parts: Iterable[str] | None = None, *,
                          allow_remote: bool = False) -> Inventory:
    """The inventory of the sandbox at `endpoint`: its own GET /_lab/inventory when it has one (fast and
    complete), else read through the AWS APIs from here (any AWS-compatible endpoint)."""
    from lab.admin_client import AdminClient
    from lab.errors import LabError

    chosen = normalise_parts(parts)
    query = "inventory" + (f"?services={','.join(sorted(chosen))}" if parts is not None else "")
    try:
        return loads(AdminClient(endpoint, allow_remote=allow_remote).get_bytes(query, timeout=120))
    except LabError as exc:
        if "no admin route" not in str(exc) and "not the lab's admin API" not in str(exc):
            raise
    return collect_through_apis(endpoint, chosen, allow_remote=allow_remote)


def collect_through_apis(endpoint: str, parts: Iterable[str] | None = None, *,
                         allow_remote: bool = False) -> Inventory:
    """The inventory read from outside through the AWS APIs (and the admin API, where there is one): slower,
    listings capped (API_MAX_VERSIONS), no per-version replication status, and the reads are API calls that
    CloudTrail records."""
    from lab.inventory.collector import Collector
    from lab.inventory.sources import EndpointSource

    return Collector(EndpointSource(endpoint, allow_remote=allow_remote), normalise_parts(parts),
                     parallel=True).run()


def inventory_route(sandbox: Sandbox, ctx: RequestContext) -> tuple[int, Any]:
    """?services=s3,rds (default: everything) -> the inventory, collected inside the sandbox."""
    wanted = ctx.query_params().get("services", [""])[0]
    chosen = {part for part in wanted.split(",") if part} or None
    return 200, dumps(collect_in_sandbox(sandbox, chosen))


def register(router: AdminRouter) -> None:
    router.add("GET", "inventory", inventory_route)


__all__ = ["PARTS", "SCHEMA_VERSION", "InventoryReader", "collect_from_endpoint", "collect_in_sandbox",
           "collect_through_apis", "dumps", "inventory_route", "loads", "register"]
