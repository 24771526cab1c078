"""Issue 14 figures: a month-old world stays interactive (listings, the clock advance, memory, start-up).

Run: .venv/bin/python benchmarks/bench_month_old.py [--baseline DIR] [--peers] [--year] [--rounds 5]

Builds the month-old world as bench_backup.py does -- 35 sim days with hourly AWS Backup of the four world
resources, S3 replication on, one order a minute -- but through a real sandbox process (`python -m
lab.sandbox.server`) and boto3 over HTTP, and measures it:
  - start to ready: spawning the sandbox until S3 and DynamoDB both answer (the world restored from the
    template cache), beside moto_server's (--peers);
  - `lab clock advance 35d`, and the longest wait of another client's calls (S3 get and put, DynamoDB get,
    one every 20 ms) while it runs;
  - listings on that world: ListObjectVersions (a page of 1,000), ListObjectsV2 MaxKeys=10, ListBackupJobs
    (MaxResults=10, and the default page of 1,000), DynamoDB Scan Limit=10, each the median of 5 boto3 calls;
  - ListObjectVersions, a page of 1,000 in a bucket of 100,000 versions (filled through the data layer, the
    call through the sandbox's gateway in-process), and a page of 1,000 of 10,000 versions filled over HTTP
    (beside moto_server's with --peers);
  - resident memory before and after the month, and after 3 inventories and 3 snapshots;
  - resident memory growth over 1,200 PutObject of 1 MiB to 10 keys, versioning off (beside moto_server's);
  - with --year, `lab clock advance 365d` on a fresh world (is it linear?);
  - with --peers --localstack-venv DIR, LocalStack in host mode too (start to ready, 10,000 versions).
With --baseline DIR (an export of an earlier commit: `git archive <commit> | tar -x -C DIR`) the same figures
are measured for that build too, in the same run, with this venv. Every group of figures prints the machine's
speed just before it (`sum(range(1000))`, best of 5: 9-10 us here when quiet). Timings are never pass/fail.
Everything listens on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import urllib3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT, EAST, WEST = "000000000000", "us-east-1", "us-west-2"
INVOICES, HISTORY = "securecart-invoices-use1", "securecart-order-history"
_CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=900,
                 s3={"addressing_style": "path"}, max_pool_connections=20)


def reference_us() -> float:
    """The machine's speed now: microseconds per sum(range(1000)), best of 5 timings."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


_SESSION = boto3.Session(botocore_session=botocore.session.Session())


def aws(service: str, endpoint: str, region: str = EAST) -> Any:
    return _SESSION.client(service, region_name=region, endpoint_url=endpoint, aws_access_key_id="test",
                           aws_secret_access_key="test", config=_CONFIG)


class Server:
    """A sandbox (the build on PYTHONPATH), moto_server or LocalStack process on a free port, stopped (with its
    children: LocalStack runs DynamoDB Local) on exit."""

    def __init__(self, command: list[str], port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        env=env or dict(os.environ, MOTO_ACCOUNT_ID=ACCOUNT), start_new_session=True)

    @classmethod
    def lab(cls, state_dir: Path, *extra: str) -> Server:
        port = free_port()
        return cls([sys.executable, "-m", "lab.sandbox.server", "--port", str(port), "--state-dir", str(state_dir),
                    *extra], port)

    @classmethod
    def moto(cls) -> Server:
        port = free_port()
        return cls([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port)

    @classmethod
    def localstack(cls, venv: Path) -> Server:
        """localstack-core in host mode from `venv` (a venv with localstack-core and DynamoDB Local in
        localstack-libs/, as scripts/setup-localstack of the LocalStack host mode makes one): S3 and DynamoDB
        only, listening on 127.0.0.1, no DNS server, no usage events, its files in a temporary dir."""
        port = free_port()
        files = Path(tempfile.mkdtemp(prefix="bench-localstack-"))
        (files / "fs" / "usr" / "lib").mkdir(parents=True)
        (files / "fs" / "usr" / "lib" / "localstack").symlink_to(venv / "localstack-libs")
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "LOCALSTACK_"))}
        env.update(OVERRIDE_IN_DOCKER="0", GATEWAY_LISTEN=f"127.0.0.1:{port}", GATEWAY_SERVER="hypercorn",
                   LOCALSTACK_HOST=f"localhost.localstack.cloud:{port}", DNS_ADDRESS="0", DISABLE_EVENTS="1",
                   SKIP_SSL_CERT_DOWNLOAD="1", FILESYSTEM_ROOT=str(files / "fs"), CONFIG_DIR=str(files / "config"),
                   PERSISTENCE="0", SERVICES="s3,dynamodb", STRICT_SERVICE_LOADING="1", DYNAMODB_IN_MEMORY="1")
        return cls([str(venv / "bin" / "python"), "-m", "localstack.runtime.main"], port, env)

    def rss(self) -> float:
        return rss_mb(self.process.pid)

    def admin(self, method: str, path: str, body: Any = None, timeout: float = 900) -> Any:
        answer = urllib3.PoolManager().request(method, f"{self.endpoint}/_lab/{path}", timeout=timeout,
                                               body=json.dumps(body).encode() if body is not None else None,
                                               headers={"Content-Type": "application/json"})
        if answer.status >= 400:
            raise RuntimeError(f"{method} /_lab/{path}: {answer.status} {answer.data[:300]!r}")
        return json.loads(answer.data)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # (what it started, if anything is left)
        except ProcessLookupError:
            pass


def until_ready(endpoint: str, started: float, limit: float = 300) -> float:
    """Seconds from `started` until S3 ListBuckets and DynamoDB ListTables both answered."""
    s3, dynamodb = aws("s3", endpoint), aws("dynamodb", endpoint)
    pending: list[Callable[[], Any]] = [s3.list_buckets, dynamodb.list_tables]
    while pending:
        try:
            pending[0]()
            pending.pop(0)
        except Exception:  # (not listening yet)
            if time.perf_counter() - started > limit:
                raise
            time.sleep(0.005)
    return time.perf_counter() - started


def start_to_ready(make: Callable[[], Server], rounds: int) -> dict[str, Any]:
    """Seconds from spawning the process until S3 and DynamoDB both answered: median, min and max of `rounds`."""
    seconds = []
    aws("s3", "http://127.0.0.1:1")  # (the first client made pays for loading botocore's models: not timed)
    aws("dynamodb", "http://127.0.0.1:1")
    for _ in range(rounds):
        started = time.perf_counter()
        server = make()
        try:
            seconds.append(until_ready(server.endpoint, started))
        finally:
            server.stop()
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds)}


def timed_calls(call: Callable[[], Any], times: int = 5) -> dict[str, float]:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return {"median_ms": statistics.median(seconds) * 1000, "min_ms": min(seconds) * 1000}


# -- the month-old world ---------------------------------------------------------------------------------

def role(endpoint: str, name: str, service: str) -> str:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    return aws("iam", endpoint).create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def configure_world(server: Server) -> None:
    """What bench_backup.py sets up: replication of the invoices, an hourly backup of the four resources,
    one order a minute."""
    endpoint = server.endpoint
    for bucket, region in ((INVOICES, EAST), ("securecart-invoices-usw2", WEST)):
        aws("s3", endpoint, region).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    aws("s3", endpoint).put_bucket_replication(Bucket=INVOICES, ReplicationConfiguration={
        "Role": role(endpoint, "bench-s3-replication", "s3.amazonaws.com"),
        "Rules": [{"ID": "invoices-to-dr", "Priority": 1, "Status": "Enabled", "Filter": {},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": "arn:aws:s3:::securecart-invoices-usw2"}}]})
    backup = aws("backup", endpoint)
    backup.create_backup_vault(BackupVaultName="bench-vault")
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": "bench-hourly", "Rules": [{
        "RuleName": "hourly", "TargetBackupVaultName": "bench-vault", "ScheduleExpression": "cron(0 * ? * * *)",
        "Lifecycle": {"DeleteAfterDays": 35}}]})
    volume = aws("ec2", endpoint).describe_volumes(
        Filters=[{"Name": "tag:Name", "Values": ["securecart-backend-data"]}])["Volumes"][0]["VolumeId"]
    backup.create_backup_selection(BackupPlanId=plan["BackupPlanId"], BackupSelection={
        "SelectionName": "world", "IamRoleArn": role(endpoint, "bench-backup", "backup.amazonaws.com"),
        "Resources": [f"arn:aws:rds:{EAST}:{ACCOUNT}:db:securecart-orders-db",
                      f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/{HISTORY}",
                      f"arn:aws:ec2:{EAST}:{ACCOUNT}:volume/{volume}", f"arn:aws:s3:::{INVOICES}"]})
    server.admin("POST", "workload", {"enabled": True, "orders_per_hour": 60})


class Prober(threading.Thread):
    """Another client: an S3 get, an S3 put and a DynamoDB get in turn, one call every 20 ms; the longest
    wait is the figure."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(name="prober", daemon=True)
        self.s3, self.dynamodb = aws("s3", endpoint), aws("dynamodb", endpoint)
        self.s3.create_bucket(Bucket="bench-prober")
        self.s3.put_object(Bucket="bench-prober", Key="probe", Body=b"x" * 1024)
        self.dynamodb.create_table(TableName="bench-prober", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                                   AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                                   BillingMode="PAY_PER_REQUEST")
        self.dynamodb.put_item(TableName="bench-prober", Item={"k": {"S": "probe"}})
        self.stopping = threading.Event()
        self.waits: list[float] = []

    def run(self) -> None:
        calls = (self._get_object, self._put_object, self._get_item)
        turn = 0
        while not self.stopping.is_set():
            started = time.perf_counter()
            calls[turn % len(calls)]()
            self.waits.append(time.perf_counter() - started)
            turn += 1
            self.stopping.wait(0.02)

    def _get_object(self) -> None:
        self.s3.get_object(Bucket="bench-prober", Key="probe")["Body"].read()

    def _put_object(self) -> None:
        self.s3.put_object(Bucket="bench-prober", Key="probe", Body=b"y" * 1024)

    def _get_item(self) -> None:
        self.dynamodb.get_item(TableName="bench-prober", Key={"k": {"S": "probe"}})

    def finish(self) -> dict[str, float]:
        self.stopping.set()
        self.join(900)
        waits = sorted(self.waits)
        return {"calls": len(waits), "max_ms": waits[-1] * 1000 if waits else float("nan"),
                "p50_ms": statistics.median(waits) * 1000 if waits else float("nan"),
                "p99_ms": waits[int(len(waits) * 0.99)] * 1000 if waits else float("nan")}


def advance(server: Server, duration: str, probe: bool) -> dict[str, Any]:
    prober = Prober(server.endpoint) if probe else None
    if prober is not None:
        prober.start()
        time.sleep(0.2)
    reference = reference_us()
    started = time.perf_counter()
    answer = server.admin("POST", "clock", {"action": "advance", "duration": duration}, timeout=3600)
    result: dict[str, Any] = {"seconds": time.perf_counter() - started, "steps": answer.get("steps"),
                              "reference_us": reference}
    if prober is not None:
        result["other_client"] = prober.finish()
    return result


def month_old_world(days: float) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    server = Server.lab(Path(tempfile.mkdtemp(prefix="bench-month-")) / "state")
    try:
        until_ready(server.endpoint, time.perf_counter())
        configure_world(server)
        figures["rss_before_mb"] = server.rss()
        progress(f"advancing {days:g} days")
        figures["advance"] = advance(server, f"{days:g}d", probe=True)
        figures["rss_after_month_mb"] = server.rss()
        progress("listing")
        s3, dynamodb = aws("s3", server.endpoint), aws("dynamodb", server.endpoint)
        backup = aws("backup", server.endpoint)
        figures["listing_reference_us"] = reference_us()
        figures["versions_in_bucket"] = sum(1 for _ in _all_versions(s3, INVOICES))
        figures["list_object_versions_1000"] = timed_calls(lambda: s3.list_object_versions(Bucket=INVOICES,
                                                                                           MaxKeys=1000))
        figures["list_objects_v2_10"] = timed_calls(lambda: s3.list_objects_v2(Bucket=INVOICES, MaxKeys=10))
        figures["list_backup_jobs_10"] = timed_calls(lambda: backup.list_backup_jobs(MaxResults=10))
        figures["list_backup_jobs_page"] = timed_calls(backup.list_backup_jobs)
        figures["scan_10"] = timed_calls(lambda: dynamodb.scan(TableName=HISTORY, Limit=10))
        progress("3 inventories and snapshots")
        figures["rss_each_inventory_mb"] = []
        for _ in range(3):
            server.admin("GET", "inventory", timeout=900)
            server.admin("POST", "snapshot", timeout=900)
            figures["rss_each_inventory_mb"].append(server.rss())
        figures["rss_after_inventories_mb"] = server.rss()
    finally:
        server.stop()
    return figures


def _all_versions(s3: Any, bucket: str) -> Any:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1000}):
        yield from page.get("Versions", [])
        yield from page.get("DeleteMarkers", [])


# -- listing at scale ------------------------------------------------------------------------------------

def versions_in_process(count: int) -> dict[str, Any]:
    """A page of 1,000 of a bucket of `count` versions (10 per key), filled through the data layer; the call
    through the sandbox's gateway in-process (boto3's parsing included)."""
    from lab.backends.embedded import EmbeddedBackend
    from lab.sandbox.core import Sandbox

    sandbox = Sandbox(EmbeddedBackend(), Path(tempfile.mkdtemp(prefix="bench-versions-")), seed_world=False)
    sandbox.boot()
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="scale")
    s3.put_bucket_versioning(Bucket="scale", VersioningConfiguration={"Status": "Enabled"})
    body = b'{"invoice": "x"}' * 8
    with sandbox.lock:
        for number in range(count):
            sandbox.data.put_object(EAST, "scale", f"invoices/{number % (count // 10):07d}.json", body,
                                    "application/json")
    reference = reference_us()
    first = timed_calls(lambda: s3.list_object_versions(Bucket="scale", MaxKeys=1000), times=3)
    marker = f"invoices/{count // 20:07d}.json"
    middle = timed_calls(lambda: s3.list_object_versions(Bucket="scale", MaxKeys=1000, KeyMarker=marker), times=3)
    return {"versions": count, "first_page": first, "middle_page": middle, "reference_us": reference}


def fill_versions(endpoint: str, bucket: str, count: int) -> None:
    s3 = aws("s3", endpoint)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    body = b'{"invoice": "x"}' * 8

    def put(number: int) -> None:
        s3.put_object(Bucket=bucket, Key=f"invoices/{number % (count // 10):06d}.json", Body=body)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, range(count)))


def versions_over_http(server: Server, count: int) -> dict[str, Any]:
    until_ready(server.endpoint, time.perf_counter())
    fill_versions(server.endpoint, "scale", count)
    s3 = aws("s3", server.endpoint)
    reference = reference_us()
    return {"versions": count, "first_page": timed_calls(lambda: s3.list_object_versions(Bucket="scale",
                                                                                         MaxKeys=1000)),
            "reference_us": reference}


# -- memory under large puts -----------------------------------------------------------------------------

def large_puts(server: Server, puts: int = 1200) -> dict[str, Any]:
    until_ready(server.endpoint, time.perf_counter())
    s3 = aws("s3", server.endpoint)
    s3.create_bucket(Bucket="large-puts")
    body = os.urandom(1 << 20)
    s3.put_object(Bucket="large-puts", Key="warm", Body=body)
    before = server.rss()
    peak = before
    for number in range(puts):
        s3.put_object(Bucket="large-puts", Key=f"key-{number % 10}", Body=body)
        if number % 100 == 99:
            peak = max(peak, server.rss())
    after = server.rss()
    return {"puts": puts, "rss_before_mb": before, "rss_after_mb": after, "growth_mb": after - before,
            "peak_growth_mb": max(peak, after) - before}


# -- per build ---------------------------------------------------------------------------------------------

def build_figures(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"reference_us": reference_us()}
    progress("start to ready")
    figures["start_to_ready"] = start_to_ready(
        lambda: Server.lab(Path(tempfile.mkdtemp(prefix="bench-start-")) / "state"), args.rounds)
    figures["start_reference_us"] = reference_us()
    figures.update(month_old_world(args.days))
    progress("100,000 versions in process")
    figures["versions_100k"] = versions_in_process(100_000)
    if args.peers:
        progress("10,000 versions over HTTP")
        server = Server.lab(Path(tempfile.mkdtemp(prefix="bench-10k-")) / "state", "--no-world")
        try:
            figures["versions_10k"] = versions_over_http(server, 10_000)
        finally:
            server.stop()
    progress("1,200 puts of 1 MiB")
    server = Server.lab(Path(tempfile.mkdtemp(prefix="bench-puts-")) / "state", "--no-world")
    try:
        figures["large_puts"] = large_puts(server)
        figures["large_puts"]["reference_us"] = reference_us()
    finally:
        server.stop()
    if args.year:
        progress("a year")
        server = Server.lab(Path(tempfile.mkdtemp(prefix="bench-year-")) / "state")
        try:
            until_ready(server.endpoint, time.perf_counter())
            configure_world(server)
            figures["year"] = advance(server, "365d", probe=True)
            figures["year"]["rss_mb"] = server.rss()
        finally:
            server.stop()
    return figures


def peer_figures(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"reference_us": reference_us()}
    progress("moto_server: start to ready")
    figures["start_to_ready"] = start_to_ready(Server.moto, args.rounds)
    for name, measure in (("versions_10k", lambda s: versions_over_http(s, 10_000)), ("large_puts", large_puts)):
        progress(f"moto_server: {name}")
        server = Server.moto()
        try:
            figures[name] = measure(server)
            figures[name]["reference_us"] = reference_us()
        finally:
            server.stop()
    if args.localstack_venv is not None:
        venv = args.localstack_venv.resolve()
        progress("LocalStack: start to ready")
        figures["localstack_start_to_ready"] = start_to_ready(lambda: Server.localstack(venv), args.rounds)
        progress("LocalStack: versions_10k")
        server = Server.localstack(venv)
        try:
            figures["localstack_versions_10k"] = versions_over_http(server, 10_000)
        finally:
            server.stop()
    return figures


def compile_tree(tree: Path) -> None:
    """Bytecode for the build's sources, as scripts/setup makes it (this machine sets PYTHONDONTWRITEBYTECODE:
    without it every process would compile the lab's edited modules from source again)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "lab", "checks", "tui"], cwd=tree,
                   check=True, stdout=subprocess.DEVNULL)


def run_child(tree: Path, args: argparse.Namespace, role_name: str) -> dict[str, Any]:
    compile_tree(tree)
    command = [sys.executable, __file__, "--child", role_name, "--days", str(args.days), "--rounds", str(args.rounds),
               *(["--peers"] if args.peers else []), *(["--year"] if args.year else []),
               *(["--localstack-venv", str(args.localstack_venv)] if args.localstack_venv else [])]
    env = dict(os.environ, PYTHONPATH=str(tree))
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, env=env, cwd=tree).stdout
    return json.loads(output.strip().splitlines()[-1])


# -- the report --------------------------------------------------------------------------------------------

def report(builds: dict[str, dict[str, Any]], peers: dict[str, Any] | None) -> None:
    names = list(builds)
    width = 14

    def row(label: str, goal: str, pick: Callable[[dict[str, Any]], Any], peer: str = "") -> None:
        cells = []
        for name in names:
            try:
                value = pick(builds[name])
            except (KeyError, TypeError):
                value = None
            cells.append(f"{value:>{width}.1f}" if isinstance(value, float) else f"{value!s:>{width}}")
        print(f"{label:58} {goal:>16} {''.join(cells)}  {peer}")

    def peer_value(pick: Callable[[dict[str, Any]], float], unit: str,
                   localstack: Callable[[dict[str, Any]], float] | None = None) -> str:
        if peers is None:
            return ""
        shown = []
        for name, picker in (("moto_server", pick), ("LocalStack", localstack)):
            try:
                shown.append(f"{name} {picker(peers):.2f}{unit}")  # type: ignore[misc]
            except (KeyError, TypeError):
                pass
        return ", ".join(shown)

    print()
    print(f"{'figure':58} {'goal':>16} {''.join(f'{name:>{width}}' for name in names)}")
    row("machine speed at start (us per sum(range(1000)))", "9-10 quiet", lambda b: b["reference_us"])
    row("start to ready, S3 + DynamoDB answering (s, median)", "<= 1.5x moto",
        lambda b: b["start_to_ready"]["median_s"], peer_value(
            lambda p: p["start_to_ready"]["median_s"], " s", lambda p: p["localstack_start_to_ready"]["median_s"]))
    row("`lab clock advance 35d` (s)", "<= 3 s", lambda b: b["advance"]["seconds"])
    row("  machine speed just before (us)", "", lambda b: b["advance"]["reference_us"])
    row("longest wait of another client's call during it (ms)", "<= 100 ms",
        lambda b: b["advance"]["other_client"]["max_ms"])
    row("  its calls, p50 (ms)", "", lambda b: b["advance"]["other_client"]["p50_ms"])
    row("  its calls, count", "", lambda b: b["advance"]["other_client"]["calls"])
    row("machine speed before the listings (us)", "", lambda b: b["listing_reference_us"])
    row("versions in the invoices bucket", "", lambda b: b["versions_in_bucket"])
    row("ListObjectVersions, a page of 1,000 (ms)", "<= 100 ms",
        lambda b: b["list_object_versions_1000"]["median_ms"])
    row("ListObjectsV2 MaxKeys=10 (ms)", "<= 20 ms", lambda b: b["list_objects_v2_10"]["median_ms"])
    row("ListBackupJobs MaxResults=10 (ms)", "<= 20 ms", lambda b: b["list_backup_jobs_10"]["median_ms"])
    row("ListBackupJobs, default page (ms)", "", lambda b: b["list_backup_jobs_page"]["median_ms"])
    row("DynamoDB Scan Limit=10 (ms)", "<= 20 ms", lambda b: b["scan_10"]["median_ms"])
    row("ListObjectVersions 1,000 of 100,000, in process (ms)", "<= 100 ms",
        lambda b: b["versions_100k"]["first_page"]["median_ms"])
    row("  the same, a page from the middle (ms)", "", lambda b: b["versions_100k"]["middle_page"]["median_ms"])
    row("  machine speed just before (us)", "", lambda b: b["versions_100k"]["reference_us"])
    row("ListObjectVersions 1,000 of 10,000, over HTTP (ms)", "ahead of peers",
        lambda b: b["versions_10k"]["first_page"]["median_ms"],
        peer_value(lambda p: p["versions_10k"]["first_page"]["median_ms"], " ms",
                   lambda p: p["localstack_versions_10k"]["first_page"]["median_ms"]))
    row("RSS before the month (MB)", "", lambda b: b["rss_before_mb"])
    row("RSS after the month (MB)", "<= 400 MB", lambda b: b["rss_after_month_mb"])
    row("RSS after 3 inventories and 3 snapshots (MB)", "<= 400 MB", lambda b: b["rss_after_inventories_mb"])
    row("  after each of them (MB)", "not growing",
        lambda b: " / ".join(f"{mb:.0f}" for mb in b["rss_each_inventory_mb"]))
    row("RSS growth, 1,200 x 1 MiB puts to 10 keys (MB)", "<= 1.2x moto",
        lambda b: b["large_puts"]["growth_mb"], peer_value(lambda p: p["large_puts"]["growth_mb"], " MB"))
    row("`lab clock advance 365d` (s)", "linear", lambda b: b["year"]["seconds"])
    row("  longest wait of another client's call (ms)", "", lambda b: b["year"]["other_client"]["max_ms"])
    row("  RSS after the year (MB)", "", lambda b: b["year"]["rss_mb"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, help="an earlier build's tree, measured in the same run")
    parser.add_argument("--days", type=float, default=35.0)
    parser.add_argument("--rounds", type=int, default=5, help="starts timed per build")
    parser.add_argument("--peers", action="store_true", help="also moto_server's figures, and 10,000 versions")
    parser.add_argument("--year", action="store_true", help="also a 365-day advance on a fresh world")
    parser.add_argument("--localstack-venv", type=Path,
                        help="with --peers: also LocalStack in host mode, from this venv (see Server.localstack)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "build":
        print(json.dumps(build_figures(args)))
        return
    if args.child == "peers":
        print(json.dumps(peer_figures(args)))
        return
    builds: dict[str, dict[str, Any]] = {}
    if args.baseline is not None:
        print(f"baseline build: {args.baseline}", file=sys.stderr, flush=True)
        builds["baseline"] = run_child(args.baseline.resolve(), args, "build")
    print(f"this build: {ROOT}", file=sys.stderr, flush=True)
    builds["this build"] = run_child(ROOT, args, "build")
    peers = run_child(ROOT, args, "peers") if args.peers else None
    print(json.dumps({"builds": builds, "peers": peers}), file=sys.stderr)
    report(builds, peers)


if __name__ == "__main__":
    main()
