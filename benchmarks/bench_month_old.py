"""Issue 14 figures: a month-old world stays interactive (the CLI, listings, the clock advance, snapshots,
restarts, memory), each printed beside its goal and the CPU reference.

Run: .venv/bin/python benchmarks/bench_month_old.py [--peers [--localstack-venv .venv-localstack]] [--rounds 3]
     .venv/bin/python benchmarks/bench_month_old.py --year-only --year-budget 300

Builds the month-old world as bench_backup.py does -- 35 sim days with hourly AWS Backup of the four world
resources, S3 replication on, one order a minute -- in a sandbox started with `lab up` (the CLI, detached, as
a learner starts it), configured with boto3 over HTTP, and measures:
  - `lab --version`, `lab check 01-aws-backup` and `lab status` on the fresh world; `lab up` and the first S3
    call after it returned;
  - start to ready: spawning the sandbox until S3 and DynamoDB both answer (the world restored from the
    template cache), beside moto_server's (--peers) and LocalStack's in host mode (--localstack-venv);
  - `lab clock advance 35d`, and the longest wait of another client's calls (S3 get and put, DynamoDB get,
    one every 20 ms) while it runs;
  - listings on that world: ListObjectVersions (a page of 1,000), ListObjectsV2 MaxKeys=10, ListBackupJobs
    (MaxResults=10, and the default page), DynamoDB Scan Limit=10, each the median of 5 boto3 calls;
  - `lab check 01-aws-backup` and `02-s3-crr`, `lab status` (median of 3 each);
  - 3 full inventories (GET /_lab/inventory) and 3 requested snapshots, each with another client's longest
    wait while it ran, the lock's hold and the resident memory after each;
  - `lab down`, `lab up` again and the first S3 call after it; a day more, kill -9, `lab up` (the replay);
  - ListObjectVersions, a page of 1,000 in a bucket of 100,000 versions (filled through the data layer, the
    call through the sandbox's gateway in-process), and a page of 1,000 of 10,000 versions filled over HTTP
    (beside the peers);
  - resident memory growth over 1,200 PutObject of 1 MiB to 10 keys, versioning off (beside moto_server's);
  - with --year (or --year-only), a fresh world advanced 30 days at a time towards a year for at most
    --year-budget seconds, the rest extrapolated (linearly: the seconds of each 30 days show whether it is).
With --baseline DIR (an export of an earlier commit: `git archive <commit> | tar -x -C DIR`) the same figures
are measured for that build too, in the same run, with this venv. Every group of figures prints the machine's
speed just before it (`sum(range(1000))`, best of 5: 9-10 us here when quiet) and the load average (L).
Timings are never pass/fail. Everything listens on 127.0.0.1 and stops by itself.
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


def machine() -> dict[str, float]:
    """The CPU reference (reference_us) and the 1-minute load average, read together before a figure."""
    return {"us": reference_us(), "load": os.getloadavg()[0]}


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
        """LocalStack in host mode from `venv` (as scripts/setup-localstack makes it), launched as `lab up
        --backend localstack` launches it (lab.backends.localstack_host: its environment and boot script,
        loopback only, no DNS server, no usage events), its files in a temporary dir."""
        from lab.backends import localstack_host

        installation = localstack_host.installed(venv)
        if installation is None:
            raise RuntimeError(f"no LocalStack installation matching the lock in {venv}: run scripts/setup-localstack")
        port = free_port()
        files = Path(tempfile.mkdtemp(prefix="bench-localstack-")) / "fs"
        (files / "usr" / "lib").mkdir(parents=True)
        if installation.dynamodb_ready:
            (files / "usr" / "lib" / "localstack").symlink_to(installation.static_libs)
        env = localstack_host.localstack_environment(port=port, files=files, installation=installation,
                                                     public_port=None)
        return cls([str(installation.interpreter), str(localstack_host.BOOT_SCRIPT)], port, env)

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


class WireTimer:
    """The part of a boto3 call between sending the request and parsing the answer (the server's work and
    the transfer): botocore's own parsing of a page of 1,000 versions costs more than the sandbox's answer."""

    def __init__(self, *clients: Any) -> None:
        self.sent: float | None = None
        self.seconds: list[float] = []
        for made in clients:
            made.meta.events.register("before-send", self._before_send)
            made.meta.events.register("before-parse", self._before_parse)

    def _before_send(self, **_: Any) -> None:
        self.sent = time.perf_counter()

    def _before_parse(self, **_: Any) -> None:
        if self.sent is not None:
            self.seconds.append(time.perf_counter() - self.sent)
            self.sent = None


def timed_calls(call: Callable[[], Any], times: int = 5, wire: WireTimer | None = None) -> dict[str, float]:
    """The median and min of `times` calls (ms); with `wire`, also the median of their time on the wire."""
    seconds = []
    if wire is not None:
        wire.seconds.clear()
    for _ in range(times):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    timed = {"median_ms": statistics.median(seconds) * 1000, "min_ms": min(seconds) * 1000}
    if wire is not None and wire.seconds:
        timed["wire_ms"] = statistics.median(wire.seconds) * 1000
    return timed


# -- the month-old world ---------------------------------------------------------------------------------

def role(endpoint: str, name: str, service: str) -> str:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    return aws("iam", endpoint).create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def configure_world(server: Server | LabUp) -> None:
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
        if "bench-prober" not in {bucket["Name"] for bucket in self.s3.list_buckets()["Buckets"]}:
            self.s3.create_bucket(Bucket="bench-prober")
            self.s3.put_object(Bucket="bench-prober", Key="probe", Body=b"x" * 1024)
            self.dynamodb.create_table(TableName="bench-prober",
                                       KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
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


def advance(server: Server | LabUp, duration: str, probe: bool) -> dict[str, Any]:
    prober = Prober(server.endpoint) if probe else None
    if prober is not None:
        prober.start()
        time.sleep(0.2)
    reference = machine()
    started = time.perf_counter()
    answer = server.admin("POST", "clock", {"action": "advance", "duration": duration}, timeout=3600)
    result: dict[str, Any] = {"seconds": time.perf_counter() - started, "steps": answer.get("steps"),
                              "machine": reference}
    if prober is not None:
        result["other_client"] = prober.finish()
    return result


class LabUp:
    """A sandbox started with the `lab` CLI (`lab up --state-dir --port`, detached), as a learner starts it;
    every `lab` command timed runs as its own process, as typed."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def lab(self, *args: str, timeout: float = 900) -> dict[str, Any]:
        """Run `lab ARGS --state-dir --port`; its seconds, exit code and output."""
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "lab", *args, "--state-dir", str(self.state_dir),
                               "--port", str(self.port)],
                              check=False, capture_output=True, text=True, timeout=timeout)
        return {"seconds": time.perf_counter() - started, "code": done.returncode, "out": done.stdout,
                "err": done.stderr[-2000:]}

    def up(self) -> dict[str, Any]:
        """`lab up`, then the first S3 call (ListObjectsV2 MaxKeys=10 of the invoices) the moment it returned."""
        ran = self.lab("up")
        if ran["code"] != 0:
            raise RuntimeError(f"lab up failed: {ran['err']}")
        started = time.perf_counter()
        aws("s3", self.endpoint).list_objects_v2(Bucket=INVOICES, MaxKeys=10)
        return {"up_s": ran["seconds"], "first_s3_call_s": time.perf_counter() - started}

    def pid(self) -> int:
        return int((self.state_dir / "sandbox.pid").read_text())

    def rss(self) -> float:
        return rss_mb(self.pid())

    def admin(self, method: str, path: str, body: Any = None, timeout: float = 900) -> Any:
        return json.loads(self.admin_raw(method, path, body, timeout))

    def admin_raw(self, method: str, path: str, body: Any = None, timeout: float = 900) -> bytes:
        answer = urllib3.PoolManager().request(method, f"{self.endpoint}/_lab/{path}", timeout=timeout,
                                               body=json.dumps(body).encode() if body is not None else None,
                                               headers={"Content-Type": "application/json"})
        if answer.status >= 400:
            raise RuntimeError(f"{method} /_lab/{path}: {answer.status} {answer.data[:300]!r}")
        return answer.data

    def kill(self) -> None:
        """kill -9, as a crash leaves the state dir."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        while Path(f"/proc/{pid}").exists() and "zombie" not in _proc_state(pid):
            time.sleep(0.01)

    def stop(self) -> None:
        try:
            self.lab("down", timeout=300)
        except (subprocess.TimeoutExpired, OSError):
            pass
        try:
            os.kill(self.pid(), signal.SIGKILL)  # (whatever `lab down` left)
        except (OSError, ValueError):
            pass


def wait_port_free(port: int, limit: float = 90) -> dict[str, Any]:
    """After kill -9: seconds until nothing listens on `port` any more, and who listened meanwhile."""
    started = time.perf_counter()
    holders = ""
    while time.perf_counter() - started < limit:
        listening = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True,
                                   check=False).stdout.strip()
        if not listening:
            break
        holders = holders or listening
        time.sleep(0.05)
    return {"seconds": time.perf_counter() - started, "holders": holders[:300]}


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].lower()
    except (OSError, IndexError):
        return "zombie"


def timed_commands(sandbox: LabUp, args: tuple[str, ...], times: int = 3) -> dict[str, Any]:
    """A `lab` command run `times` times: median and min seconds, and its exit codes."""
    runs = [sandbox.lab(*args) for _ in range(times)]
    seconds = [run["seconds"] for run in runs]
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "codes": sorted({r["code"] for r in runs})}


def while_probed(sandbox: LabUp, work: Callable[[], Any]) -> dict[str, Any]:
    """Seconds `work` took, its answer, and the longest wait of another client's call while it ran."""
    prober = Prober(sandbox.endpoint)
    prober.start()
    time.sleep(0.1)
    started = time.perf_counter()
    try:
        answer = work()
    finally:
        seconds = time.perf_counter() - started
        waits = prober.finish()
    return {"seconds": seconds, "answer": answer, "other_client": waits}


def month_old_world(days: float) -> dict[str, Any]:
    """The month-old world through the CLI: `lab up`, `lab check` fresh; the world configured and advanced;
    listings, inventories, snapshots, `lab check`, `lab status`, `lab down`, `lab up` again, and `lab up` after
    kill -9."""
    figures: dict[str, Any] = {}
    sandbox = LabUp(Path(tempfile.mkdtemp(prefix="bench-month-")) / "state")
    try:
        progress("lab up, fresh world")
        figures["fresh_machine"] = machine()
        figures["up_fresh"] = sandbox.up()
        figures["cli_version"] = _cli_floor()
        figures["check_fresh"] = timed_commands(sandbox, ("check", "01-aws-backup"))
        figures["status_fresh"] = timed_commands(sandbox, ("status",))
        configure_world(sandbox)
        figures["rss_before_mb"] = sandbox.rss()
        progress(f"advancing {days:g} days")
        figures["advance"] = advance(sandbox, f"{days:g}d", probe=True)
        figures["rss_after_month_mb"] = sandbox.rss()
        progress("listing")
        s3, dynamodb = aws("s3", sandbox.endpoint), aws("dynamodb", sandbox.endpoint)
        backup = aws("backup", sandbox.endpoint)
        wire = WireTimer(s3, dynamodb, backup)
        figures["listing_machine"] = machine()
        figures["versions_in_bucket"] = sum(1 for _ in _all_versions(s3, INVOICES))
        figures["orders"] = sandbox.admin("GET", "workload").get("placed")
        figures["list_object_versions_1000"] = timed_calls(lambda: s3.list_object_versions(Bucket=INVOICES,
                                                                                           MaxKeys=1000), wire=wire)
        figures["list_objects_v2_10"] = timed_calls(lambda: s3.list_objects_v2(Bucket=INVOICES, MaxKeys=10), wire=wire)
        figures["list_backup_jobs_10"] = timed_calls(lambda: backup.list_backup_jobs(MaxResults=10), wire=wire)
        figures["list_backup_jobs_page"] = timed_calls(backup.list_backup_jobs, wire=wire)
        figures["scan_10"] = timed_calls(lambda: dynamodb.scan(TableName=HISTORY, Limit=10), wire=wire)
        progress("lab check, lab status")
        figures["cli_machine"] = machine()
        figures["check_01_month"] = timed_commands(sandbox, ("check", "01-aws-backup"))
        figures["check_02_month"] = timed_commands(sandbox, ("check", "02-s3-crr"))
        figures["status_month"] = timed_commands(sandbox, ("status",))
        progress("3 inventories and snapshots")
        figures["inventory_machine"] = machine()
        figures["rss_each_inventory_mb"] = []
        figures["inventories"], figures["snapshots"] = [], []
        for _ in range(3):
            inventory = while_probed(sandbox, lambda: len(sandbox.admin_raw("GET", "inventory")))
            inventory["bytes"] = inventory.pop("answer")
            figures["inventories"].append(inventory)
            snapshot = while_probed(sandbox, lambda: sandbox.admin("POST", "snapshot"))
            answer = snapshot.pop("answer")
            snapshot.update(bytes=answer.get("bytes"), lock_held_ms=answer.get("lock_held_ms"),
                            written_s=answer.get("seconds"))
            figures["snapshots"].append(snapshot)
            figures["rss_each_inventory_mb"].append(sandbox.rss())
        figures["rss_after_inventories_mb"] = sandbox.rss()
        progress("lab down, lab up")
        figures["restart_machine"] = machine()
        figures["down_month"] = sandbox.lab("down", timeout=300)["seconds"]
        figures["up_month"] = sandbox.up()
        progress("kill -9, lab up")
        sandbox.admin("POST", "clock", {"action": "advance", "duration": "1d"}, timeout=900)
        sandbox.kill()
        figures["port_held_after_kill"] = wait_port_free(sandbox.port)
        try:
            figures["up_after_kill"] = sandbox.up()
        except RuntimeError as exc:
            figures["up_after_kill"] = {"error": str(exc)[:500]}
    finally:
        sandbox.stop()
    return figures


def _cli_floor() -> dict[str, Any]:
    """`lab --version` (the CLI's imports and nothing else), 3 times."""
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lab", "--version"], capture_output=True, check=True, timeout=120)
        seconds.append(time.perf_counter() - started)
    return {"median_s": statistics.median(seconds), "min_s": min(seconds)}


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
    reference = machine()
    first = timed_calls(lambda: s3.list_object_versions(Bucket="scale", MaxKeys=1000), times=3)
    marker = f"invoices/{count // 20:07d}.json"
    middle = timed_calls(lambda: s3.list_object_versions(Bucket="scale", MaxKeys=1000, KeyMarker=marker), times=3)
    return {"versions": count, "first_page": first, "middle_page": middle, "machine": reference}


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
    wire = WireTimer(s3)
    reference = machine()
    return {"versions": count, "first_page": timed_calls(lambda: s3.list_object_versions(Bucket="scale",
                                                                                         MaxKeys=1000), wire=wire),
            "machine": reference}


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
    figures: dict[str, Any] = {"machine": machine()}
    if args.year_only:
        progress(f"a year, in 30-day advances, for at most {args.year_budget:g} s")
        figures["year"] = year(args.year_budget)
        return figures
    progress("start to ready")
    figures["start_to_ready"] = start_to_ready(
        lambda: Server.lab(Path(tempfile.mkdtemp(prefix="bench-start-")) / "state"), args.rounds)
    figures["start_machine"] = machine()
    figures.update(month_old_world(args.days))
    progress("100,000 versions in process")
    figures["versions_100k"] = versions_in_process(args.versions)
    if args.peers:
        progress("10,000 versions over HTTP")
        server = Server.lab(Path(tempfile.mkdtemp(prefix="bench-10k-")) / "state", "--no-world")
        try:
            figures["versions_10k"] = versions_over_http(server, args.http_versions)
        finally:
            server.stop()
    progress("1,200 puts of 1 MiB")
    server = Server.lab(Path(tempfile.mkdtemp(prefix="bench-puts-")) / "state", "--no-world")
    try:
        figures["large_puts"] = large_puts(server)
        figures["large_puts"]["machine"] = machine()
    finally:
        server.stop()
    if args.year:
        progress(f"a year, in 30-day advances, for at most {args.year_budget:g} s")
        figures["year"] = year(args.year_budget)
    return figures


def year(budget_s: float) -> dict[str, Any]:
    """A fresh world configured as the month's, advanced 30 days at a time towards 365 until `budget_s` is
    spent: the seconds of each advance (linear or not), another client's longest wait, the memory after each."""
    sandbox = LabUp(Path(tempfile.mkdtemp(prefix="bench-year-")) / "state")
    figures: dict[str, Any] = {"machine": machine(), "chunks": []}
    try:
        sandbox.up()
        configure_world(sandbox)
        started, days = time.perf_counter(), 0
        while days < 365 and time.perf_counter() - started < budget_s:
            step = min(30, 365 - days)
            chunk = advance(sandbox, f"{step}d", probe=True)
            days += step
            figures["chunks"].append({"days": step, "seconds": chunk["seconds"],
                                      "max_wait_ms": chunk["other_client"]["max_ms"], "rss_mb": sandbox.rss(),
                                      "load": chunk["machine"]["load"]})
        figures["days"] = days
        figures["seconds"] = sum(chunk["seconds"] for chunk in figures["chunks"])
        figures["extrapolated_365d_s"] = figures["seconds"] * 365 / days
        figures["rss_mb"] = sandbox.rss()
        figures["orders"] = sandbox.admin("GET", "workload").get("placed")
    finally:
        sandbox.stop()
    return figures


def peer_figures(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"machine": machine()}
    progress("moto_server: start to ready")
    figures["start_to_ready"] = start_to_ready(Server.moto, args.rounds)
    for name, measure in (("versions_10k", lambda s: versions_over_http(s, args.http_versions)),
                          ("large_puts", large_puts)):
        progress(f"moto_server: {name}")
        server = Server.moto()
        try:
            figures[name] = measure(server)
            figures[name]["machine"] = machine()
        finally:
            server.stop()
    if args.localstack_venv is not None:
        venv = args.localstack_venv.resolve()
        progress("LocalStack: start to ready")
        figures["localstack_start_to_ready"] = start_to_ready(lambda: Server.localstack(venv), args.rounds)
        progress("LocalStack: versions_10k")
        server = Server.localstack(venv)
        try:
            figures["localstack_versions_10k"] = versions_over_http(server, args.http_versions)
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
               "--year-budget", str(args.year_budget), "--versions", str(args.versions),
               "--http-versions", str(args.http_versions),
               *(["--peers"] if args.peers else []), *(["--year"] if args.year else []),
               *(["--year-only"] if args.year_only else []),
               *(["--localstack-venv", str(args.localstack_venv)] if args.localstack_venv else [])]
    env = dict(os.environ, PYTHONPATH=str(tree))
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, env=env, cwd=tree).stdout
    figures = output.strip().splitlines()[-1]
    print(f"{role_name} figures: {figures}", file=sys.stderr, flush=True)  # (kept if a later part fails)
    return json.loads(figures)


# -- the report --------------------------------------------------------------------------------------------

def _call(timed: dict[str, float]) -> str:
    return f"{timed['median_ms']:.0f} / {timed.get('wire_ms', float('nan')):.0f}"


def _machine(found: dict[str, float]) -> str:
    return f"{found['us']:.1f}us L{found['load']:.1f}"


def report(builds: dict[str, dict[str, Any]], peers: dict[str, Any] | None, days: str = "35d") -> None:
    """The figures of issue 14's table, each beside its goal, and before each group the CPU reference (us per
    sum(range(1000)), 9-10 quiet) with the 1-minute load average (L)."""
    names = list(builds)
    width = 16

    def row(label: str, goal: str, pick: Callable[[dict[str, Any]], Any], peer: str = "") -> None:
        cells = []
        for name in names:
            try:
                value = pick(builds[name])
            except (KeyError, TypeError, IndexError):
                value = None
            cells.append(f"{value:>{width}.2f}" if isinstance(value, float) else f"{value!s:>{width}}")
        print(f"{label:62} {goal:>18} {''.join(cells)}  {peer}")

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

    def ms(seconds: float) -> float:
        return seconds * 1000

    print()
    print(f"{'figure':62} {'goal':>18} {''.join(f'{name:>{width}}' for name in names)}")
    row("CPU reference at start", "9-10us quiet", lambda b: _machine(b["machine"]))
    row("`lab --version` through the CLI (ms, median of 3)", "", lambda b: ms(b["cli_version"]["median_s"]))
    row("`lab check 01-aws-backup`, fresh world (ms)", "<= 250 ms", lambda b: ms(b["check_fresh"]["median_s"]))
    row("`lab status`, fresh world (ms)", "", lambda b: ms(b["status_fresh"]["median_s"]))
    row("`lab up`, fresh world (s)", "", lambda b: b["up_fresh"]["up_s"])
    row("  first S3 call after it returned (ms)", "<= 200 ms", lambda b: ms(b["up_fresh"]["first_s3_call_s"]))
    row("start to ready, S3 + DynamoDB answering (s, median)", "<= 1.5x moto",
        lambda b: b["start_to_ready"]["median_s"], peer_value(
            lambda p: p["start_to_ready"]["median_s"], " s", lambda p: p["localstack_start_to_ready"]["median_s"]))
    row("  CPU reference", "", lambda b: _machine(b["start_machine"]))
    row(f"`lab clock advance {days}` (s)", "<= 3 s (35d)", lambda b: b["advance"]["seconds"])
    row("  CPU reference", "", lambda b: _machine(b["advance"]["machine"]))
    row("  longest wait of another client's call during it (ms)", "<= 100 ms",
        lambda b: b["advance"]["other_client"]["max_ms"])
    row("  its calls: p50 / p99 (ms)", "", lambda b: f"{b['advance']['other_client']['p50_ms']:.0f} / "
                                                      f"{b['advance']['other_client']['p99_ms']:.0f}")
    row("  its calls, count", "", lambda b: b["advance"]["other_client"]["calls"])
    row("orders placed / versions in the invoices bucket", "", lambda b: f"{b['orders']} / {b['versions_in_bucket']}")
    row("CPU reference before the listings", "", lambda b: _machine(b["listing_machine"]))
    row("(listings below: ms, boto3 call / on the wire, median of 5)", "", lambda b: "")
    row("ListObjectVersions, a page of 1,000", "<= 100 ms", lambda b: _call(b["list_object_versions_1000"]))
    row("ListObjectsV2 MaxKeys=10", "<= 20 ms", lambda b: _call(b["list_objects_v2_10"]))
    row("ListBackupJobs MaxResults=10", "<= 20 ms", lambda b: _call(b["list_backup_jobs_10"]))
    row("ListBackupJobs, default page", "", lambda b: _call(b["list_backup_jobs_page"]))
    row("DynamoDB Scan Limit=10", "<= 20 ms", lambda b: _call(b["scan_10"]))
    row("CPU reference before the CLI", "", lambda b: _machine(b["cli_machine"]))
    row("`lab check 01-aws-backup`, month-old (ms, median of 3)", "<= 300 ms",
        lambda b: ms(b["check_01_month"]["median_s"]))
    row("`lab check 02-s3-crr`, month-old (ms, median of 3)", "<= 300 ms",
        lambda b: ms(b["check_02_month"]["median_s"]))
    row("`lab status`, month-old (ms, median of 3)", "<= 100 ms", lambda b: ms(b["status_month"]["median_s"]))
    row("CPU reference before the inventories", "", lambda b: _machine(b["inventory_machine"]))
    row("full inventory, month-old (ms, each of 3)", "<= 300 ms",
        lambda b: " / ".join(f"{ms(i['seconds']):.0f}" for i in b["inventories"]))
    row("  its size (MB)", "", lambda b: b["inventories"][0]["bytes"] / 1e6)
    row("  longest wait of another client's call (ms, each)", "",
        lambda b: " / ".join(f"{i['other_client']['max_ms']:.0f}" for i in b["inventories"]))
    row("snapshot requested, month-old (s to answer, each of 3)", "",
        lambda b: " / ".join(f"{i['seconds']:.1f}" for i in b["snapshots"]))
    row("  lock held (ms, each)", "", lambda b: " / ".join(f"{i['lock_held_ms']}" for i in b["snapshots"]))
    row("  longest wait of another client's call (ms, each)", "<= 100 ms",
        lambda b: " / ".join(f"{i['other_client']['max_ms']:.0f}" for i in b["snapshots"]))
    row("  its size (MB)", "", lambda b: b["snapshots"][0]["bytes"] / 1e6)
    row("RSS before the month (MB)", "", lambda b: b["rss_before_mb"])
    row("RSS after the month (MB)", "<= 400 MB", lambda b: b["rss_after_month_mb"])
    row("RSS after each inventory + snapshot (MB)", "not growing",
        lambda b: " / ".join(f"{mb:.0f}" for mb in b["rss_each_inventory_mb"]))
    row("CPU reference before the restarts", "", lambda b: _machine(b["restart_machine"]))
    row("`lab down`, month-old (s)", "<= 1 s", lambda b: b["down_month"])
    row("`lab up` again, month-old (s)", "", lambda b: b["up_month"]["up_s"])
    row("  first S3 call after it returned (ms)", "<= 200 ms", lambda b: ms(b["up_month"]["first_s3_call_s"]))
    row("  after kill -9: port still listened on for (s)", "", lambda b: b["port_held_after_kill"]["seconds"])
    row("`lab up` after kill -9, month-old + 1 day journaled (s)", "<= 10 s",
        lambda b: b["up_after_kill"].get("up_s", b["up_after_kill"].get("error")))
    row("  first S3 call after it returned (ms)", "", lambda b: ms(b["up_after_kill"]["first_s3_call_s"]))
    row("ListObjectVersions 1,000 of 100,000, in process (ms)", "<= 100 ms",
        lambda b: b["versions_100k"]["first_page"]["median_ms"])
    row("  the same, a page from the middle (ms)", "", lambda b: b["versions_100k"]["middle_page"]["median_ms"])
    row("  CPU reference", "", lambda b: _machine(b["versions_100k"]["machine"]))
    row("ListObjectVersions 1,000 of 10,000, over HTTP (ms)", "ahead of peers",
        lambda b: b["versions_10k"]["first_page"]["median_ms"],
        peer_value(lambda p: p["versions_10k"]["first_page"]["median_ms"], " ms",
                   lambda p: p["localstack_versions_10k"]["first_page"]["median_ms"]))
    row("  on the wire (ms)", "ahead of peers", lambda b: b["versions_10k"]["first_page"]["wire_ms"],
        peer_value(lambda p: p["versions_10k"]["first_page"]["wire_ms"], " ms",
                   lambda p: p["localstack_versions_10k"]["first_page"]["wire_ms"]))
    row("  CPU reference", "", lambda b: _machine(b["versions_10k"]["machine"]),
        peer_value(lambda p: p["versions_10k"]["machine"]["us"], " us",
                   lambda p: p["localstack_versions_10k"]["machine"]["us"]))
    row("RSS growth, 1,200 x 1 MiB puts to 10 keys (MB)", "<= 1.2x moto",
        lambda b: b["large_puts"]["growth_mb"], peer_value(lambda p: p["large_puts"]["growth_mb"], " MB"))
    row("  peak growth (MB)", "", lambda b: b["large_puts"]["peak_growth_mb"],
        peer_value(lambda p: p["large_puts"]["peak_growth_mb"], " MB"))
    row("a year: days advanced in the budget", "365", lambda b: b["year"]["days"])
    row("  seconds each 30 days", "linear",
        lambda b: " / ".join(f"{c['seconds']:.1f}" for c in b["year"]["chunks"]))
    row("  365 days, measured or extrapolated (s)", "", lambda b: b["year"]["extrapolated_365d_s"])
    row("  longest wait of another client's call (ms)", "<= 100 ms",
        lambda b: max(c["max_wait_ms"] for c in b["year"]["chunks"]))
    row("  RSS after (MB)", "", lambda b: b["year"]["rss_mb"])
    row("  CPU reference at its start", "", lambda b: _machine(b["year"]["machine"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, help="an earlier build's tree, measured in the same run")
    parser.add_argument("--days", type=float, default=35.0)
    parser.add_argument("--rounds", type=int, default=5, help="starts timed per build")
    parser.add_argument("--peers", action="store_true", help="also moto_server's figures, and 10,000 versions")
    parser.add_argument("--year", action="store_true", help="also a year's advance on a fresh world, in 30-day steps")
    parser.add_argument("--year-only", action="store_true", help="only the year (--year), no other figure")
    parser.add_argument("--year-budget", type=float, default=300.0,
                        help="seconds the year may take; what is left is extrapolated (linear)")
    parser.add_argument("--localstack-venv", type=Path,
                        help="with --peers: also LocalStack in host mode, from this venv (see Server.localstack)")
    parser.add_argument("--http-versions", type=int, default=10_000,
                        help="versions in the bucket listed over HTTP, beside the peers")
    parser.add_argument("--versions", type=int, default=100_000, help="versions in the bucket listed in process")
    parser.add_argument("--from-json", type=Path,
                        help="print the table again from a run's figures (the JSON line it writes to stderr)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # (stopped: the sandboxes it started stop too)
    if args.from_json is not None:
        saved = json.loads(args.from_json.read_text().strip().splitlines()[-1])
        report(saved["builds"], saved["peers"], f"{args.days:g}d")
        return
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
    peers = run_child(ROOT, args, "peers") if args.peers and not args.year_only else None
    print(json.dumps({"builds": builds, "peers": peers}), file=sys.stderr)
    report(builds, peers, f"{args.days:g}d")


if __name__ == "__main__":
    main()
