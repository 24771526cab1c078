"""What the RDS engine's records share: unpickling older saves, sizes, the names RDS gives backups."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

from lab import config
from lab.sim.durations import GIB_IN_MIB

GIB = 1024 * 1024 * GIB_IN_MIB


def restore_defaults(instance: Any, state: dict[str, Any]) -> None:
    """Unpickle a dataclass saved before some of its fields existed: those take their defaults."""
    for found in fields(instance):
        if found.name not in state:
            if found.default is not MISSING:
                state[found.name] = found.default
            elif found.default_factory is not MISSING:
                state[found.name] = found.default_factory()
    instance.__dict__.update(state)


def automated_backups_arn(region: str, dbi_resource_id: str) -> str:
    """The ARN of a DB instance's automated backups in `region` (its own, or replicated there)."""
    return f"arn:aws:rds:{region}:{config.ACCOUNT_ID}:auto-backup:ab-{dbi_resource_id.removeprefix('db-').lower()}"
