"""kill -9 under concurrent writers, then restart: every acknowledged write must be back, content and id.

One round: writer threads put S3 objects into a versioned bucket and DynamoDB items, while another thread
provokes error answers and polls `lab status` (both drew ids from the seeded generator once); at a random
moment the sandbox is killed with SIGKILL, restarted with `lab up`, and every write that was answered 200
is read back: the S3 object by the VersionId it was answered with, with its body; the DynamoDB item with
its value. Used by tests/integration/test_crash.py (a few rounds) and benchmarks/bench_crash.py (more).
Everything targets the sandbox on 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config

BUCKET = "crash-versioned"
TABLE = "crash-items"
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10)


@dataclass
class Acknowledged:
    objects: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # version id -> (key, body)
    items: dict[str, str] = field(default_factory=dict)  # item id -> value
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class RoundResult:
    objects: int
    items: int
    lost: list[str]
    kill_after_s: float
    restart_s: float


def prepare(sandbox: Any) -> None:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    sandbox.client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])


def _client(sandbox: Any, service: str) -> Any:
    """A client that does not retry: a write is acknowledged by exactly one answer, or not at all."""
    from lab import config
    from lab.awsclient import _isolated_session

    return _isolated_session().client(service, region_name="us-east-1", endpoint_url=sandbox.endpoint,
                                      aws_access_key_id=config.DUMMY_ACCESS_KEY,
                                      aws_secret_access_key=config.DUMMY_SECRET_KEY, config=NO_RETRIES)


def _s3_writer(sandbox: Any, name: str, acked: Acknowledged, stop: threading.Event, limit: int) -> None:
    s3 = _client(sandbox, "s3")
    for n in range(limit):
        if stop.is_set():
            return
        key = f"{name}/k{n % 5}"  # a few keys, many versions each
        body = f"{name}-{n}-{random.random()}".encode()
        try:
            version = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
        except Exception:  # noqa: BLE001 -- the sandbox was killed: this write was never acknowledged
            return
        with acked.lock:
            acked.objects[version] = (key, body)


def _dynamodb_writer(sandbox: Any, name: str, acked: Acknowledged, stop: threading.Event, limit: int) -> None:
    dynamodb = _client(sandbox, "dynamodb")
    for n in range(limit):
        if stop.is_set():
            return
        item_id, value = f"{name}-{n}", f"{random.random()}"
        try:
            dynamodb.put_item(TableName=TABLE, Item={"id": {"S": item_id}, "value": {"S": value}})
        except Exception:  # noqa: BLE001 -- killed: not acknowledged
            return
        with acked.lock:
            acked.items[item_id] = value


def _noise(sandbox: Any, stop: threading.Event, limit: int) -> None:
    """Error answers and status polls, concurrent with the writes."""
    for n in range(limit):
        if stop.is_set():
            return
        try:
            if n % 2:
                request = urllib.request.Request(sandbox.endpoint + "/", data=b"Action=NoSuchAction", method="POST",
                                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
            else:
                request = urllib.request.Request(sandbox.endpoint + "/_lab/status?counts=1")
            urllib.request.urlopen(request, timeout=5).read()
        except urllib.error.HTTPError:
            pass
        except (OSError, http.client.HTTPException):  # killed, possibly in the middle of an answer
            return


def crash_round(sandbox: Any, acked: Acknowledged, rng: random.Random, round_no: int,
                kill_window: tuple[float, float] = (0.0, 0.3), writes_per_thread: int = 2000,
                writes_before_kill: tuple[int, int] = (10, 60)) -> RoundResult:
    """Write concurrently, kill -9 at a random moment, restart, and check every acknowledged write. The
    moment: once a random number of writes were acknowledged this round (so a busy machine still has
    something to lose), then a random delay more."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=_s3_writer, args=(sandbox, f"r{round_no}a", acked, stop, writes_per_thread)),
        threading.Thread(target=_s3_writer, args=(sandbox, f"r{round_no}b", acked, stop, writes_per_thread)),
        threading.Thread(target=_dynamodb_writer, args=(sandbox, f"r{round_no}", acked, stop, writes_per_thread)),
        threading.Thread(target=_noise, args=(sandbox, stop, writes_per_thread)),
    ]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    wanted = len(acked.objects) + len(acked.items) + rng.randint(*writes_before_kill)
    deadline = time.monotonic() + 60
    while len(acked.objects) + len(acked.items) < wanted and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(rng.uniform(*kill_window))
    kill_after = time.perf_counter() - began
    pid = sandbox.pid()
    os.kill(pid, signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join(30)
    _wait_gone(pid)
    began = time.perf_counter()
    sandbox.up()
    restart_s = time.perf_counter() - began
    return RoundResult(len(acked.objects), len(acked.items), check(sandbox, acked), kill_after, restart_s)


def check(sandbox: Any, acked: Acknowledged) -> list[str]:
    """Every acknowledged write, read back: what is missing or different."""
    lost: list[str] = []
    s3 = sandbox.client("s3")
    listed: set[str] = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        listed.update(version["VersionId"] for version in page.get("Versions", []))
    for version, (key, body) in acked.objects.items():
        if version not in listed:
            lost.append(f"s3 {key} version {version} not listed")
            continue
        stored = s3.get_object(Bucket=BUCKET, Key=key, VersionId=version)["Body"].read()
        if stored != body:
            lost.append(f"s3 {key} version {version}: body {stored[:40]!r} instead of {body[:40]!r}")
    dynamodb = sandbox.client("dynamodb")
    found: dict[str, str] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
        for item in page["Items"]:
            found[item["id"]["S"]] = item["value"]["S"]
    for item_id, value in acked.items.items():
        if found.get(item_id) != value:
            lost.append(f"dynamodb {item_id}: {found.get(item_id)!r} instead of {value!r}")
    return lost


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return
        if state == "Z":
            return
        time.sleep(0.02)
