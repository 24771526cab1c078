"""Helpers of the RDS tests: make an instance, and let sim time pass while RDS works, as a learner does with
`lab clock advance` between two `aws rds describe-db-instances`."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration._data_plane import advance, sim_now, sql


def create_db(rds: Any, name: str, **extra: Any) -> dict[str, Any]:
    params = {"DBInstanceIdentifier": name, "Engine": "postgres", "DBInstanceClass": "db.t3.micro",
              "AllocatedStorage": 20, "MasterUsername": "shop", "MasterUserPassword": "lab-password-1", **extra}
    return rds.create_db_instance(**params)["DBInstance"]


def described(rds: Any, name: str) -> dict[str, Any]:
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def status(rds: Any, name: str) -> str:
    return described(rds, name)["DBInstanceStatus"]


def snapshot_status(rds: Any, name: str) -> str:
    return rds.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"][0]["Status"]


def walk(handle: Any, look: Any, until: str = "available", step: str = "30s",
         limit: int = 400) -> list[tuple[str, float]]:
    """Advance sim time by `step` until `look()` answers `until`: every status seen, with the sim time it was
    first seen (so a status's duration is known to within one step)."""
    seen: list[tuple[str, float]] = []
    for _ in range(limit):
        now = look()
        if not seen or seen[-1][0] != now:
            seen.append((now, sim_now(handle)))
        if now == until:
            return seen
        advance(handle, step)
    raise AssertionError(f"still not {until} after {limit} steps of {step}: {seen}")


def wait_available(handle: Any, rds: Any, name: str, step: str = "1m") -> list[tuple[str, float]]:
    return walk(handle, lambda: status(rds, name), step=step)


def wait_snapshot(handle: Any, rds: Any, name: str, step: str = "1m") -> list[tuple[str, float]]:
    return walk(handle, lambda: snapshot_status(rds, name), step=step)


def durations_of(seen: list[tuple[str, float]]) -> dict[str, float]:
    """status -> how long it lasted (to within a step), from walk's answer."""
    return {state: seen[index + 1][1] - at for index, (state, at) in enumerate(seen[:-1])}


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def insert(handle: Any, instance: str, *order_ids: str, region: str = "us-east-1") -> None:
    for order_id in order_ids:
        sql(handle, instance, f"INSERT INTO orders (order_id, customer, amount, created_at) "
                              f"VALUES ('{order_id}', 'test', 10.00, '2026-01-01T00:00:00Z')", region)


def order_ids(handle: Any, instance: str, region: str = "us-east-1") -> list[str]:
    return [row[0] for row in sql(handle, instance, "SELECT order_id FROM orders ORDER BY order_id", region)["rows"]]
