"""Issue 3 figure, S3 part: what replication adds to `lab clock advance 35d` with the shop writing one invoice a
minute into securecart-invoices-use1 (~50k objects), and the engine's own cost per replicated object.

Run: .venv/bin/python benchmarks/bench_s3_replication.py [--days 35]

1. Two sandboxes (`lab up`, embedded backend, on 127.0.0.1) advance the same sim time, one replicating the
   invoices to securecart-invoices-usw2 in us-west-2 and one not; the difference is what replication costs.
2. The same pair in-process (no HTTP), once with Python's garbage collector as the sandbox runs it and once with
   the boot-time heap frozen (gc.freeze) and a larger young generation: moto's heap is large, and much of what
   replication adds is the collector walking it again as the replicas grow it.

Wall time and CPU time are printed (CPU time is steadier on a busy machine). Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.admin_client import AdminClient
from lab.awsclient import client
from lab.services.s3.engine import S3

SOURCE, DESTINATION = "securecart-invoices-use1", "securecart-invoices-usw2"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "lab", *args], check=True, capture_output=True, text=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def prepare(s3_east, s3_west, iam, replication: bool) -> None:
    """Versioning on both buckets in both runs, so the two differ only by replication."""
    for s3, bucket in ((s3_east, SOURCE), (s3_west, DESTINATION)):
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if not replication:
        return
    role = iam.create_role(RoleName="securecart-replication", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    s3_east.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration={"Role": role["Arn"], "Rules": [{
        "ID": "invoices-to-dr", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "invoices/"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}", "StorageClass": "STANDARD_IA"}}]})


def through_lab_up(days: float, replication: bool) -> dict[str, float]:
    state = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    lab("up", "--port", str(port), "--state-dir", str(state))
    try:
        admin = AdminClient(endpoint)
        prepare(client("s3", "us-east-1", endpoint), client("s3", "us-west-2", endpoint),
                client("iam", "us-east-1", endpoint), replication)
        pid = int((state / "sandbox.pid").read_text())
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        answer = admin.post("clock", {"action": "advance", "duration": f"{days}d"}, timeout=3600)
        wall, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
        replicated = admin.get("s3/replication")["completed"]
        return {"wall": wall, "cpu": cpu, "steps": answer["steps"], "replicated": replicated}
    finally:
        lab("down", "--state-dir", str(state))
        shutil.rmtree(state, ignore_errors=True)


def in_process(days: float, replication: bool, frozen_heap: bool) -> dict[str, float]:
    """Run in a child process of its own: moto's models are global to a process."""
    from lab.backends.embedded import EmbeddedBackend
    from lab.sandbox.core import Sandbox

    state = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    sandbox = Sandbox(EmbeddedBackend(), state)
    sandbox.boot()
    prepare(sandbox.client("s3", "us-east-1"), sandbox.client("s3", "us-west-2"), sandbox.client("iam"), replication)
    if frozen_heap:
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
    sandbox.clock.pause()
    cpu_before, started = time.process_time(), time.perf_counter()
    with sandbox.lock:
        steps = sandbox.engines.run_until(sandbox.clock.now() + days * 86400)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    replicated = sandbox.engines.find(S3).describe()["completed"]
    shutil.rmtree(state, ignore_errors=True)
    return {"wall": wall, "cpu": cpu, "steps": steps, "replicated": replicated}


def child(days: float, replication: bool, frozen_heap: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--days", str(days), "--child", "on" if replication else "off"]
    if frozen_heap:
        command.append("--frozen-heap")
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])


def report(title: str, without: dict[str, float], with_replication: dict[str, float]) -> None:
    print(title)
    for label, run in (("without replication", without), ("with replication", with_replication)):
        print(f"  {label:<20} wall {run['wall']:6.2f} s   cpu {run['cpu']:6.2f} s   engine steps {run['steps']:>7}")
    added_wall = with_replication["wall"] - without["wall"]
    added_cpu = with_replication["cpu"] - without["cpu"]
    count = with_replication["replicated"]
    print(f"  replication added    wall {added_wall:6.2f} s   cpu {added_cpu:6.2f} s   for {count} replicated objects"
          + (f" ({added_cpu / count * 1e6:.0f} us cpu each)" if count else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=35.0)
    parser.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    parser.add_argument("--frozen-heap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(in_process(args.days, args.child == "on", args.frozen_heap)))
        return
    days = args.days
    report(f"lab clock advance {days:g}d, 1 order per minute, through `lab up` (embedded backend):",
           through_lab_up(days, False), through_lab_up(days, True))
    report("the same in-process, the collector as the sandbox runs it:",
           child(days, False, False), child(days, True, False))
    report("the same in-process, boot-time heap frozen (gc.freeze) and gen0 threshold 20000:",
           child(days, False, True), child(days, True, True))


if __name__ == "__main__":
    main()
