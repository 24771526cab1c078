"""CloudTrail in the inventory: trails and the write events of the audited event sources."""

from __future__ import annotations

from typing import Any

import msgspec

from checks.inventory.base import Model


class Trail(Model):
    name: str
    region: str
    arn: str | None = None
    home_region: str | None = None
    multi_region: bool = False
    bucket: str | None = None
    logging: bool = False
    log_file_validation: bool = False
    event_selectors: list[dict[str, Any]] = msgspec.field(default_factory=list)  # AWS's documents
    advanced_event_selectors: list[dict[str, Any]] = msgspec.field(default_factory=list)


class TrailEvent(Model):
    """A write event of an audited source (AUDITED_EVENT_SOURCES), refused ones included."""

    id: str | None = None
    name: str | None = None
    time: str | None = None
    source: str | None = None
    user: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    resources: list[str | None] = msgspec.field(default_factory=list)


class CloudTrail(Model):
    trails: dict[str, Trail] = msgspec.field(default_factory=dict)
    events: list[TrailEvent] = msgspec.field(default_factory=list)  # oldest first
