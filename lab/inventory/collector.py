"""The collector: reads the parts asked for from a source into checks.inventory's typed models.

One module per service (lab/inventory/<service>.py, mirroring checks/inventory/) turns that service's answers
into its models; this module runs them, region by region, and keeps what could not be read as the
inventory's `errors` (the rest is still read). A source is where the answers come from: the sandbox itself
(lab.inventory.sources.SandboxSource: direct reads, one instant) or an endpoint from outside
(EndpointSource: the AWS APIs and the lab's admin API).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from checks.inventory import (
    GLOBAL_SERVICES,
    REGION_SERVICES,
    SCHEMA_VERSION,
    CollectionError,
    Global,
    Inventory,
    Region,
)
from checks.inventory.lab import Clock
from lab.inventory.convert import error_code, iso

if TYPE_CHECKING:
    from lab.inventory.sources import Source

T = TypeVar("T")


class SourceError(Exception):
    """A source could not answer (the admin API, a data read); the message says which and why."""


class Collector:
    def __init__(self, source: Source, parts: set[str], *, parallel: bool = False) -> None:
        self.source = source
        self.parts = parts
        self.parallel = parallel
        self.errors: list[CollectionError] = []
        self._errors_lock = threading.Lock()

    # -- bookkeeping -------------------------------------------------------------------------------

    def wants(self, part: str) -> bool:
        return part in self.parts

    def client(self, service: str, region: str) -> Any:
        return self.source.client(service, region)

    def note(self, service: str, region: str | None, part: str, exc: Exception) -> None:
        text = str(exc) or type(exc).__name__
        with self._errors_lock:
            self.errors.append(CollectionError(service=service, region=region, part=part, error=text))

    def attempt(self, service: str, region: str | None, part: str, read: Callable[[], T], default: T) -> T:
        try:
            return read()
        except (ClientError, BotoCoreError, SourceError, LookupError, ValueError, KeyError, TypeError) as exc:
            self.note(service, region, part, exc)
            return default

    @staticmethod
    def optional(call: Callable[[], T], *absent: str) -> T | None:
        """The answer, or None when AWS answers one of the `absent` error codes (nothing configured)."""
        try:
            return call()
        except ClientError as exc:
            if error_code(exc) in absent:
                return None
            raise

    # -- the whole ---------------------------------------------------------------------------------

    def run(self) -> Inventory:
        from lab.inventory import backup, cloudtrail, dynamodb, ec2, iam, rds, route53, s3
        from lab.inventory import lab as lab_parts

        # the collector of each service section, by the section's name
        modules = {"s3": s3, "dynamodb": dynamodb, "rds": rds, "ec2": ec2, "backup": backup,
                   "cloudtrail": cloudtrail, "iam": iam, "route53": route53}

        clock = self.attempt("clock", None, "clock", self.source.clock, None) or Clock()
        epoch = clock.epoch if clock.epoch is not None else datetime.now(tz=UTC).timestamp()
        regions = list(self.source.regions)
        tasks: list[tuple[str, str | None, Callable[[], Any]]] = []
        for region in regions:
            for service in REGION_SERVICES:
                if service in self.parts:
                    tasks.append((service, region, lambda s=service, r=region: modules[s].collect(self, r)))
        for service in GLOBAL_SERVICES:
            if service in self.parts:
                tasks.append((service, None, lambda s=service: modules[s].collect(self, regions[0])))

        def one(task: tuple[str, str | None, Callable[[], Any]]) -> Any:
            service, region, read = task
            try:
                return read()
            except Exception as exc:  # noqa: BLE001 -- one unreadable part must not lose the others
                self.note(service, region, "all", exc)
                return None

        if self.parallel and len(tasks) > 1:
            with ThreadPoolExecutor(max_workers=min(8, len(tasks))) as pool:
                results = list(pool.map(one, tasks))
        else:
            results = [one(task) for task in tasks]
        inventory = Inventory(schema_version=SCHEMA_VERSION, collected_at=clock.now or iso(epoch),
                              collected_epoch=epoch, account_id=self.source.account_id,
                              services=sorted(self.parts), regions={region: Region() for region in regions},
                              global_=Global(), clock=clock)
        for (service, region, _), result in zip(tasks, results, strict=True):
            if result is None:
                continue  # the section stays empty; the error says why
            if region is not None:
                setattr(inventory.regions[region], service, result)
            else:
                setattr(inventory.global_, service, result)
        lab_parts.collect(self, inventory)
        inventory.errors = sorted(self.errors, key=lambda e: (e.service, e.region or "", e.part))
        return inventory
