"""Issue 3 figure: `lab clock advance 35d` with hourly AWS Backup of the world's four resources (RDS
securecart-orders-db, DynamoDB securecart-order-history, EBS securecart-backend-data, S3
securecart-invoices-use1), S3 replication on and one order per minute.

Run: .venv/bin/python benchmarks/bench_backup.py [--days 35] [--copy] [--no-workload] [--snapshot] [--rounds 5]
The sandbox runs in this process (the advance is exactly what `lab clock advance` runs, without HTTP), so
the time spent inside the backup engine -- its own work and the recovery data it asks the RDS, DynamoDB
and EBS engines for -- is measured apart from the whole advance. Timings are never pass/fail.
With --rounds N, N fresh processes (moto's state is per process) each run the advance: the shared
machine's speed drifts by a quarter from minute to minute, so the median and the best say more than one run.
Each run also times a fixed pure-Python loop (`sum(range(1000))`, best of 5) just before the advance: the
machine's speed at that moment, to read the figure against (it took 14.8 us here at the quietest).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.backends.embedded import EmbeddedBackend
from lab.sandbox.core import Sandbox
from lab.sandbox.server import settle_heap
from lab.services.backup.engine import Backup
from lab.services.workload.engine import Workload

EAST, WEST, ACCOUNT = "us-east-1", "us-west-2", "000000000000"


def role(sandbox: Sandbox, name: str, service: str) -> str:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    return sandbox.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def replication_on(sandbox: Sandbox) -> None:
    for bucket, region in (("securecart-invoices-use1", EAST), ("securecart-invoices-usw2", WEST)):
        sandbox.client("s3", region).put_bucket_versioning(Bucket=bucket,
                                                           VersioningConfiguration={"Status": "Enabled"})
    sandbox.client("s3").put_bucket_replication(Bucket="securecart-invoices-use1", ReplicationConfiguration={
        "Role": role(sandbox, "bench-s3-replication", "s3.amazonaws.com"),
        "Rules": [{"ID": "invoices-to-dr", "Priority": 1, "Status": "Enabled", "Filter": {},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": "arn:aws:s3:::securecart-invoices-usw2"}}]})


def hourly_backups(sandbox: Sandbox, copy: bool) -> None:
    backup = sandbox.client("backup")
    backup.create_backup_vault(BackupVaultName="bench-vault")
    rule: dict[str, Any] = {"RuleName": "hourly", "TargetBackupVaultName": "bench-vault",
                            "ScheduleExpression": "cron(0 * ? * * *)", "Lifecycle": {"DeleteAfterDays": 35}}
    if copy:
        sandbox.client("backup", WEST).create_backup_vault(BackupVaultName="bench-dr")
        rule["CopyActions"] = [{"DestinationBackupVaultArn": f"arn:aws:backup:{WEST}:{ACCOUNT}:backup-vault:bench-dr",
                                "Lifecycle": {"DeleteAfterDays": 35}}]
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": "bench-hourly", "Rules": [rule]})
    volume = sandbox.client("ec2").describe_volumes(
        Filters=[{"Name": "tag:Name", "Values": ["securecart-backend-data"]}])["Volumes"][0]["VolumeId"]
    backup.create_backup_selection(BackupPlanId=plan["BackupPlanId"], BackupSelection={
        "SelectionName": "world", "IamRoleArn": role(sandbox, "bench-backup", "backup.amazonaws.com"),
        "Resources": [f"arn:aws:rds:{EAST}:{ACCOUNT}:db:securecart-orders-db",
                      f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/securecart-order-history",
                      f"arn:aws:ec2:{EAST}:{ACCOUNT}:volume/{volume}",
                      "arn:aws:s3:::securecart-invoices-use1"]})


def reference_us() -> float:
    """The machine's speed now: microseconds per sum(range(1000)), best of 5 timings."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Stopwatch:
    """Wall time spent inside one engine's run_due (its own work and what it asks other engines for)."""

    def __init__(self, engine: Backup) -> None:
        self.seconds = 0.0
        self.calls = 0
        inner = engine.run_due

        def timed(now: float) -> None:
            started = time.perf_counter()
            try:
                inner(now)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        engine.run_due = timed  # type: ignore[method-assign]


def rounds(args: argparse.Namespace) -> None:
    passed_on = ["--days", str(args.days), *(["--copy"] if args.copy else []),
                 *(["--no-workload"] if args.no_workload else [])]
    seconds: list[float] = []
    for number in range(1, args.rounds + 1):
        output = subprocess.run([sys.executable, __file__, *passed_on], check=True, capture_output=True,
                                text=True).stdout
        if number == 1:
            print(output.splitlines()[0])
        whole = next(line for line in output.splitlines() if "whole advance" in line)
        speed = next(line for line in output.splitlines() if "machine speed" in line)
        seconds.append(float(whole.split(":")[1].split()[0]))
        print(f"  round {number}: {seconds[-1]:.2f} s  (machine speed {speed.split(':')[1].split()[0]} us)")
    print(f"  median {statistics.median(seconds):.2f} s, best {min(seconds):.2f} s, worst {max(seconds):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=float, default=35.0)
    parser.add_argument("--copy", action="store_true", help="also copy every recovery point to us-west-2")
    parser.add_argument("--no-workload", action="store_true", help="no orders: the backup machinery alone")
    parser.add_argument("--snapshot", action="store_true", help="also time saving the state reached (lab down)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="advances in fresh processes; prints each, then the median")
    args = parser.parse_args()
    if args.rounds > 1:
        rounds(args)
        return
    sandbox = Sandbox(EmbeddedBackend(), Path(tempfile.mkdtemp(prefix="bench-backup-")) / "state")
    sandbox.boot()
    workload = sandbox.engines.find(Workload)
    workload.state.enabled = not args.no_workload
    workload.state.orders_per_hour = 60.0
    workload.state.next_at = None
    replication_on(sandbox)
    hourly_backups(sandbox, args.copy)
    backup = sandbox.engines.find(Backup)
    assert isinstance(backup, Backup)
    watch = Stopwatch(backup)
    sandbox.warm_up()
    settle_heap()  # as the sandbox server does after boot
    memory_before = resident_mb()
    reference = reference_us()
    with sandbox.lock:
        started = time.perf_counter()
        steps = sandbox.engines.run_until(sandbox.clock.now() + args.days * 86400)
        seconds = time.perf_counter() - started
    summary = backup.describe()
    print(f"lab clock advance {args.days:g}d: hourly AWS Backup of 4 resources"
          f"{' + copies to us-west-2' if args.copy else ''}, S3 replication on, "
          f"{'no orders' if args.no_workload else '1 order/min'}")
    print(f"  whole advance:        {seconds:7.2f} s  ({steps} engine steps)")
    print(f"  machine speed:        {reference:7.1f} us per sum(range(1000)) just before")
    print(f"  inside AWS Backup:    {watch.seconds:7.2f} s  ({watch.calls} steps)")
    print(f"  recovery points: {summary['recovery_points']}, backup jobs: {summary['backup_jobs']}, "
          f"copy jobs: {summary['copy_jobs']}, orders placed: {workload.state.placed}")
    print(f"  resident memory:      {memory_before:7.0f} MB before, {resident_mb():.0f} MB after")
    if args.snapshot:
        started = time.perf_counter()
        size = sandbox.snapshot()["bytes"]
        print(f"  snapshot of the state: {time.perf_counter() - started:7.2f} s, {size / 2**20:.0f} MB")
    sandbox.store.close()


if __name__ == "__main__":
    main()
