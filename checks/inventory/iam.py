"""IAM in the inventory (global): roles with their trust policies."""

from __future__ import annotations

from typing import Any

import msgspec

from checks.inventory.base import Model


class Role(Model):
    name: str
    arn: str | None = None
    created: str | None = None
    trust_policy: dict[str, Any] | None = None  # the assume-role policy document
    attached_policies: list[str] = msgspec.field(default_factory=list)
    inline_policies: list[str] = msgspec.field(default_factory=list)
    tags: dict[str, str] = msgspec.field(default_factory=dict)


class IAM(Model):
    roles: dict[str, Role] = msgspec.field(default_factory=dict)
