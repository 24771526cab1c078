"""How long AWS Backup's jobs run: the underlying service's own operation, from the one duration model.

A backup job is RUNNING for as long as the service's snapshot or backup of the resource takes, a copy job for
the service's copy (cross-Region when the vault is in another Region), a restore job for the service's
restore, plus `backup.restore.cold_extra` from cold storage ("Restoring from cold storage typically takes 4
hours more than restoring from warm storage", AWS Backup Developer Guide: Restoring a backup). The engine that
holds the resource type (kernel.engine.BackupProvider) knows its own times best and says them through
`backup_duration(data)`, `copy_duration(data, region)` and `restore_duration(data, metadata)`; for a provider
without them, the formulas below stand in, from the recovery point's size.
"""

from __future__ import annotations

from typing import Any

from lab.sim.durations import Durations

GIB = float(2**30)


def backup_seconds(durations: Durations, provider: Any, resource_type: str, data: Any,
                   size_bytes: int | None) -> float:
    named = getattr(provider, "backup_duration", None)
    if named is not None:
        return float(named(data))
    size = (size_bytes or 0) / GIB
    if resource_type == "RDS":
        return durations.rds_snapshot(size)
    if resource_type == "DynamoDB":
        return durations.dynamodb_backup(size)
    if resource_type in ("EBS", "EC2"):
        return durations.ebs_snapshot(size)
    return durations.backup_s3(size)


def copy_seconds(durations: Durations, provider: Any, resource_type: str, data: Any, size_bytes: int | None,
                 source_region: str, region: str) -> float:
    named = getattr(provider, "copy_duration", None)
    if named is not None:
        return float(named(data, region))
    size = (size_bytes or 0) / GIB
    cross = source_region != region
    if resource_type == "RDS":
        queue, creating = durations.rds_copy(size, cross)
        return queue + creating
    if resource_type in ("EBS", "EC2"):
        return durations.ebs_copy(size, cross)
    return durations.backup_copy(size)


def restore_seconds(durations: Durations, provider: Any, resource_type: str, data: Any, metadata: dict[str, str],
                    size_bytes: int | None) -> float:
    named = getattr(provider, "restore_duration", None)
    if named is not None:
        return float(named(data, metadata))
    size = (size_bytes or 0) / GIB
    if resource_type == "RDS":
        storage = _number(metadata.get("AllocatedStorage")) or _number(_attributes(data).get("AllocatedStorage"))
        return durations.rds_restore(storage or size)
    if resource_type == "DynamoDB":
        return durations.dynamodb_restore(size)
    if resource_type == "EBS":
        return durations.ebs_volume_create()
    if resource_type == "EC2":
        return durations.ec2_launch()
    return durations.backup_s3(size)


def _attributes(data: Any) -> dict[str, Any]:
    attributes = getattr(data, "attributes", None)
    try:
        return dict(attributes or {})
    except (TypeError, ValueError):
        return {}


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
