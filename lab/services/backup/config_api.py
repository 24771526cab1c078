"""AWS Backup's configuration rules, shared by its API (lab.services.backup.api) and its jobs: the defaults of a
plan rule, the limits AWS enforces, the error codes, and the checks of a vault ARN and of a lifecycle."""

from __future__ import annotations

import re
from typing import Any

from lab import config
from lab.kernel.errors import AwsError

DEFAULT_SCHEDULE = "cron(0 5 ? * * *)"  # what AWS Backup runs when a rule names no schedule
DEFAULT_START_WINDOW = 480
DEFAULT_COMPLETION_WINDOW = 10080
MAX_RETENTION_DAYS = 36500
MIN_CHANGEABLE_DAYS = 3
_VAULT_ARN = re.compile(r"^arn:aws:backup:([a-z0-9-]+):(\d{12}):backup-vault:([a-zA-Z0-9\-_]{2,50})$")

INVALID = "InvalidParameterValueException"
NOT_FOUND = "ResourceNotFoundException"
EXISTS = "AlreadyExistsException"
REQUEST = "InvalidRequestException"


def parse_vault_arn(arn: str) -> tuple[str, str]:
    found = _VAULT_ARN.match(arn or "")
    if not found:
        raise AwsError(INVALID, f"{arn!r} is not a backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME)")
    if found.group(2) != config.ACCOUNT_ID:
        raise AwsError(INVALID, f"backup vault {arn} belongs to account {found.group(2)}; the lab has only "
                                f"account {config.ACCOUNT_ID}")
    return found.group(1), found.group(3)


def check_lifecycle(lifecycle: dict[str, Any] | None, where: str) -> None:
    if not lifecycle:
        return
    delete = lifecycle.get("DeleteAfterDays")
    cold = lifecycle.get("MoveToColdStorageAfterDays")
    for name, value in (("DeleteAfterDays", delete), ("MoveToColdStorageAfterDays", cold)):
        if value is not None and not 1 <= value <= MAX_RETENTION_DAYS:
            raise AwsError(INVALID, f"{where}: {name} must be between 1 and {MAX_RETENTION_DAYS}, not {value}")
    if delete is not None and cold is not None and delete < cold + 90:
        raise AwsError(INVALID, f"{where}: DeleteAfterDays ({delete}) must be at least 90 days more than "
                                f"MoveToColdStorageAfterDays ({cold})")
    if lifecycle.get("DeleteAfterEvent"):
        raise AwsError(INVALID, f"{where}: DeleteAfterEvent applies to continuous backups, which the lab does "
                                "not simulate")
