"""Figures of the RDS data plane and the DynamoDB engine (issue 3): how long 35 days of sim time take with
one order a minute (an RDS row and a DynamoDB item each), hourly recovery points of the orders database
and the order history table, PITR and automated backups on; and what restoring from that history costs.

Run: .venv/bin/python benchmarks/bench_rds_dynamodb.py [--days 35]
The sandbox runs in this process (embedded moto, a temporary state dir); nothing listens on a port.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab import world
from lab.backends.embedded import EmbeddedBackend
from lab.sandbox import inprocess
from lab.sandbox.core import Sandbox
from lab.services.dynamodb.engine import DynamoDB
from lab.services.rds.engine import RdsData


def admin(sandbox: Sandbox, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else b""
    environ = inprocess.environ_for(method, f"{sandbox.endpoint}/_lab/{path}",
                                    [("Content-Type", "application/json")], data, internal=False)
    status, _, answer = inprocess.call_app(sandbox.app, environ)
    if status >= 400:
        raise RuntimeError(f"{method} /_lab/{path}: {answer[:300]!r}")
    return json.loads(answer)


def timed(label: str, figures: dict[str, float], action: Any) -> Any:
    started = time.perf_counter()
    result = action()
    figures[label] = round(time.perf_counter() - started, 3)
    return result


def _epoch(created_at: str) -> float:
    return datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def _measure_engine_share(rds_engine: Any, ddb_engine: Any) -> dict[str, float]:
    """Wrap the engines' per-order work in timers: what they add to each order, apart from moto's own cost."""
    spent = {"rds": 0.0, "dynamodb": 0.0}
    insert_order, record = rds_engine.insert_order, ddb_engine._record

    def timed_insert(order: dict[str, Any]) -> bool:
        started = time.perf_counter()
        try:
            return insert_order(order)
        finally:
            spent["rds"] += time.perf_counter() - started

    def timed_record(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            record(*args, **kwargs)
        finally:
            spent["dynamodb"] += time.perf_counter() - started

    rds_engine.insert_order, ddb_engine._record = timed_insert, timed_record
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=35.0)
    args = parser.parse_args()
    figures: dict[str, float] = {}
    state_dir = Path(tempfile.mkdtemp(prefix="bench-rds-ddb-"))
    sandbox = Sandbox(EmbeddedBackend(), state_dir)
    timed("boot_seconds", figures, sandbox.boot)
    rds, dynamodb = sandbox.client("rds"), sandbox.client("dynamodb")
    rds.modify_db_instance(DBInstanceIdentifier=world.ORDERS_DB, BackupRetentionPeriod=35, ApplyImmediately=True)
    dynamodb.update_continuous_backups(TableName=world.ORDER_HISTORY_TABLE,
                                       PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    admin(sandbox, "POST", "workload", {"orders_per_hour": 60})
    rds_engine, ddb_engine = sandbox.engines.find(RdsData), sandbox.engines.find(DynamoDB)
    db_arn = rds.describe_db_instances(DBInstanceIdentifier=world.ORDERS_DB)["DBInstances"][0]["DBInstanceArn"]
    table_arn = dynamodb.describe_table(TableName=world.ORDER_HISTORY_TABLE)["Table"]["TableArn"]
    started_at = sandbox.clock.now()

    # 35 days in one advance; recovery points hourly in sim time, as AWS Backup's scheduler would take them.
    hours = int(args.days * 24)
    points: list[tuple[float, Any, Any]] = []

    def advance_with_hourly_points() -> None:
        for _ in range(hours):
            admin(sandbox, "POST", "clock", {"action": "advance", "duration": "1h"})
            with sandbox.lock:
                points.append((sandbox.clock.now(), rds_engine.backup_resource(db_arn),
                               ddb_engine.backup_resource(table_arn)))

    engine_seconds = _measure_engine_share(rds_engine, ddb_engine)
    timed("advance_with_hourly_recovery_points_seconds", figures, advance_with_hourly_points)
    figures["of_which_rds_insert_seconds"] = round(engine_seconds["rds"], 3)
    figures["of_which_dynamodb_journal_seconds"] = round(engine_seconds["dynamodb"], 3)
    figures["orders_placed"] = len(sandbox.lab.orders)
    figures["recovery_points"] = 2 * len(points)
    started = time.perf_counter()
    with sandbox.lock:
        for _ in range(1000):
            rds_engine.backup_resource(db_arn)
            ddb_engine.backup_resource(table_arn)
    figures["backup_resource_pair_microseconds"] = round((time.perf_counter() - started) * 1000, 1)

    # Halfway through, between two orders: a ledger time has whole seconds, the sim time of the write does not.
    placed = [_epoch(order["created_at"]) for order in sandbox.lab.orders]
    middle = next(when for when in placed if when > started_at + args.days * 86400 / 2) - 30
    moment = datetime.fromtimestamp(middle, tz=UTC)
    timed("rds_point_in_time_restore_seconds", figures, lambda: rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier=world.ORDERS_DB, TargetDBInstanceIdentifier="bench-pitr", RestoreTime=moment,
        BackupRetentionPeriod=0))
    # the restored instance is creating (inaccessible) for the restore's sim time: let it pass
    restoring = sandbox.durations.rds_restore(20, log_seconds=86400.0)
    admin(sandbox, "POST", "clock", {"action": "advance", "duration": f"{int(restoring) + 60}s"})
    figures["rds_restore_sim_minutes"] = round(restoring / 60, 1)
    rows = timed("rds_first_query_of_restored_seconds", figures, lambda: admin(
        sandbox, "POST", "sql", {"instance": "bench-pitr", "sql": "SELECT count(*) FROM orders"}))["rows"][0][0]
    expected = sum(1 for order in sandbox.lab.orders
                   if _epoch(order["created_at"]) <= middle and order.get("stored", {}).get("rds", True))
    figures["rds_restored_rows"], figures["rds_expected_rows"] = rows, expected
    timed("dynamodb_point_in_time_restore_seconds", figures, lambda: dynamodb.restore_table_to_point_in_time(
        SourceTableName=world.ORDER_HISTORY_TABLE, TargetTableName="bench-pitr", RestoreDateTime=moment))
    figures["dynamodb_restored_items"] = dynamodb.describe_table(TableName="bench-pitr")["Table"]["ItemCount"]
    _, rds_point, ddb_point = points[len(points) // 2]
    with sandbox.lock:
        timed("rds_restore_resource_seconds", figures, lambda: rds_engine.restore_resource(
            rds_point, {"DBInstanceIdentifier": "bench-backup"}, "us-west-2"))
        timed("dynamodb_restore_resource_seconds", figures, lambda: ddb_engine.restore_resource(
            ddb_point, {"TargetTableName": "bench-backup"}, "us-west-2"))
    figures["snapshot_bytes"] = timed("snapshot_seconds", figures, sandbox.snapshot)["bytes"]
    with sandbox.lock:
        rds_engine.store.clear_cache()  # as after a restart: every database rebuilt from its journal
        timed("rds_rebuild_all_digests_seconds", figures, rds_engine.digests)
    sandbox.close()
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
