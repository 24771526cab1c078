"""Issues 5 and 14: the inventory and `lab check` on a fresh world and on a month-old one.

Run: .venv/bin/python benchmarks/bench_inventory.py [--rounds 5] [--days 35] [--keep DIR]

Starts its own sandbox on 127.0.0.1 (stopped at the end) and measures, each figure beside the machine's speed
at that moment (`sum(range(1000))`, best of 5, in microseconds):
- fresh world: `lab check 02-s3-crr` through the CLI (a new process each time, as a learner runs it), the
  CLI's import time (`python -X importtime`), a full inventory (GET /_lab/inventory), each lab's parts;
- the month-old world, built as bench_backup.py builds it (versioning and replication on the invoices
  buckets, an hourly AWS Backup plan selecting the four world resources, one order a minute) by a
  `lab clock advance` of --days: `lab check 01-aws-backup` and `02-s3-crr` through the CLI, a full
  inventory (time and JSON size), `lab status`.
With --keep DIR the month-old state dir is kept there, and a later run with the same --keep starts from it
instead of building it again (the world is a few minutes of work on this machine). Timings are never
pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
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

import boto3
import urllib3

EAST, WEST, ACCOUNT = "us-east-1", "us-west-2", "000000000000"
LAB = [sys.executable, "-m", "lab"]
MARKER = "bench-month-built"  # in a --keep state dir: the month-old world is there


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reference_us() -> float:
    """The machine's speed now: microseconds per sum(range(1000)), best of 5 timings."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def lab(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*LAB, *args], check=check, capture_output=True, text=True)


SANDBOX_PID: int | None = None  # the sandbox's process, whose CPU time each figure adds


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(action: Any, rounds: int) -> tuple[float, float, float, float, Any]:
    """(median ms, best ms, median CPU ms, CPU reference us, last result). CPU is what the command used in
    this process, its child processes (a `lab` command) and the sandbox: on a busy machine the wall time also
    counts the waits for a core, the CPU time does not. The reference is taken just before the rounds."""
    reference = reference_us()
    samples, cpu, result = [], [], None
    for _ in range(rounds):
        cpu_before = time.process_time() + children_cpu_seconds() + (
            process_cpu_seconds(SANDBOX_PID) if SANDBOX_PID else 0.0)
        started = time.perf_counter()
        result = action()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() + children_cpu_seconds() + (
            process_cpu_seconds(SANDBOX_PID) if SANDBOX_PID else 0.0) - cpu_before) * 1000)
    return statistics.median(samples), min(samples), statistics.median(cpu), reference, result


def show(label: str, figure: tuple[float, float, float, float, Any], goal: str = "") -> None:
    median, best, cpu, reference, _ = figure
    print(f"  {label:54} median {median:6.0f} ms, best {best:6.0f} ms, cpu {cpu:6.0f} ms (cpu ref "
          f"{reference:4.1f} us)" + (f"  goal {goal}" if goal else ""))


def clients(endpoint: str, service: str, region: str = EAST) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test")


def role(endpoint: str, name: str, service: str) -> str:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    return clients(endpoint, "iam").create_role(RoleName=name,
                                                AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def build_month(endpoint: str, days: float) -> None:
    """bench_backup.py's world through the AWS APIs: replication on, hourly backups of the four resources."""
    for bucket, region in (("securecart-invoices-use1", EAST), ("securecart-invoices-usw2", WEST)):
        clients(endpoint, "s3", region).put_bucket_versioning(Bucket=bucket,
                                                             VersioningConfiguration={"Status": "Enabled"})
    clients(endpoint, "s3").put_bucket_replication(Bucket="securecart-invoices-use1", ReplicationConfiguration={
        "Role": role(endpoint, "bench-s3-replication", "s3.amazonaws.com"),
        "Rules": [{"ID": "invoices-to-dr", "Priority": 1, "Status": "Enabled", "Filter": {},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": "arn:aws:s3:::securecart-invoices-usw2"}}]})
    backup = clients(endpoint, "backup")
    backup.create_backup_vault(BackupVaultName="bench-vault")
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": "bench-hourly", "Rules": [{
        "RuleName": "hourly", "TargetBackupVaultName": "bench-vault", "ScheduleExpression": "cron(0 * ? * * *)",
        "Lifecycle": {"DeleteAfterDays": 35}}]})
    volume = clients(endpoint, "ec2").describe_volumes(
        Filters=[{"Name": "tag:Name", "Values": ["securecart-backend-data"]}])["Volumes"][0]["VolumeId"]
    backup.create_backup_selection(BackupPlanId=plan["BackupPlanId"], BackupSelection={
        "SelectionName": "world", "IamRoleArn": role(endpoint, "bench-backup", "backup.amazonaws.com"),
        "Resources": [f"arn:aws:rds:{EAST}:{ACCOUNT}:db:securecart-orders-db",
                      f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/securecart-order-history",
                      f"arn:aws:ec2:{EAST}:{ACCOUNT}:volume/{volume}",
                      "arn:aws:s3:::securecart-invoices-use1"]})
    started = time.perf_counter()
    pool = urllib3.PoolManager(retries=False)
    answer = pool.request("POST", f"{endpoint}/_lab/clock", body=json.dumps(
        {"action": "advance", "duration": f"{days:g}d"}).encode(), headers={"Content-Type": "application/json"},
        timeout=1800)
    assert answer.status == 200, answer.data[:300]
    print(f"  built: lab clock advance {days:g}d in {time.perf_counter() - started:.1f} s")


def full_inventory(endpoint: str) -> tuple[int, dict[str, Any]]:
    answer = urllib3.PoolManager(retries=False).request("GET", f"{endpoint}/_lab/inventory", timeout=600)
    assert answer.status == 200, answer.data[:300]
    return len(answer.data), json.loads(answer.data)


def import_time(*args: str) -> float:
    """Milliseconds of imports for one `lab` command (python -X importtime, cumulative of top-level imports)."""
    env = {**os.environ, "LAB_STATE_DIR": tempfile.mkdtemp(prefix="bench-import-")}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "lab", *args], capture_output=True,
                          text=True, env=env, check=False)
    total = 0
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)\S", line)
        if found and len(found.group(2)) == 1:  # top-level imports only
            total += int(found.group(1))
    return total / 1000


def cli_check(state: Path, *lab_id: str) -> Any:
    done = lab("check", *lab_id, "--json", "--state-dir", str(state), check=False)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--days", type=float, default=35.0)
    parser.add_argument("--keep", type=Path, default=None, help="keep (or reuse) the month-old state dir here")
    parser.add_argument("--month-only", action="store_true", help="skip the fresh world's figures")
    parser.add_argument("--fresh-only", action="store_true", help="only the fresh world's figures")
    args = parser.parse_args()
    reused = args.keep is not None and (args.keep / MARKER).exists()
    state = args.keep if args.keep is not None else Path(tempfile.mkdtemp(prefix="bench-inventory-"))
    port = free_port()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"cpu ref = us per sum(range(1000)) just before each figure")
    global SANDBOX_PID
    lab("up", "--port", str(port), "--state-dir", str(state))
    SANDBOX_PID = int((state / "sandbox.pid").read_text().split()[0])
    endpoint = f"http://127.0.0.1:{port}"
    try:
        if not args.month_only and not reused:
            print("fresh world:")
            print(f"  `lab check` imports (python -X importtime): {import_time('check', '--help'):.0f} ms"
                  f" (cpu ref {reference_us():.1f} us)")
            cli_check(state, "02-s3-crr")  # warm: moto loads each service's backend on first use
            show("`lab check 02-s3-crr` through the CLI", timed(lambda: cli_check(state, "02-s3-crr"), args.rounds),
                 "<= 250 ms")
            show("`lab check 01-aws-backup` through the CLI",
                 timed(lambda: cli_check(state, "01-aws-backup"), args.rounds), "<= 250 ms")
            figure = timed(lambda: full_inventory(endpoint), args.rounds)
            show(f"full inventory (GET /_lab/inventory, {figure[4][0] / 1024:.0f} KiB JSON)", figure)
        if args.fresh_only:
            return
        if not reused:
            print(f"building the month-old world ({args.days:g} sim days)...")
            build_month(endpoint, args.days)
            if args.keep is not None:
                (state / MARKER).write_text(f"{args.days:g}\n")
        print(f"month-old world ({args.days:g} sim days, hourly backups, replication, one order a minute):")
        first = timed(lambda: full_inventory(endpoint), 1)
        size, collected = first[4]
        print(f"  orders: {collected.get('orders', {}).get('total')}, "
              f"errors: {json.dumps(collected.get('errors'))[:300]}")
        figure = timed(lambda: full_inventory(endpoint), args.rounds)
        show(f"full inventory (GET /_lab/inventory, {size / 2**20:.1f} MB JSON)", figure, "<= 300 ms")
        pool = urllib3.PoolManager(retries=False)

        def after_a_change() -> Any:
            """A minute of sim time first (an order placed, replication, a backup maybe): nothing kept."""
            pool.request("POST", f"{endpoint}/_lab/clock", body=b'{"action": "advance", "duration": "1m"}',
                         headers={"Content-Type": "application/json"}, timeout=600)
            return timed(lambda: full_inventory(endpoint), 1)

        changed = [after_a_change() for _ in range(args.rounds)]
        show("full inventory right after the world changed (advance 1m)",
             (statistics.median(c[0] for c in changed), min(c[1] for c in changed),
              statistics.median(c[2] for c in changed), changed[0][3], None), "<= 300 ms")
        for lab_id in ("01-aws-backup", "02-s3-crr"):
            show(f"`lab check {lab_id}` through the CLI",
                 timed(lambda lab_id=lab_id: cli_check(state, lab_id), args.rounds), "<= 300 ms")
        show("`lab status` through the CLI",
             timed(lambda: lab("status", "--state-dir", str(state)), args.rounds), "<= 100 ms")
        answer = urllib3.PoolManager(retries=False).request("GET", f"{endpoint}/_lab/status?counts=1", timeout=60)
        figure = timed(lambda: urllib3.PoolManager(retries=False).request(
            "GET", f"{endpoint}/_lab/status?counts=1", timeout=60), args.rounds)
        show("GET /_lab/status?counts=1 (what `lab status` asks)", figure)
        assert answer.status == 200
    finally:
        lab("down", "--state-dir", str(state), check=False)
        if args.keep is None:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
