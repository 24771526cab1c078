"""Issue 5 figure: grading a class of 500 exports into one CSV (target <= 10 s).

Run: .venv/bin/python benchmarks/bench_grading.py [--learners 500] [--advance 6h]
Starts its own sandbox on 127.0.0.1, takes one real export, and writes `--learners` variations of it into a
temp dir: each learner's world differs (versioning, replication, retention, PITR, Multi-AZ, backup plans,
missing orders...), so the checks take different paths. Then grades the folder in-process and through
`lab grade --class`. Prints the figures; timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import copy
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab import exercises, grading
from lab.admin_client import AdminClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "lab", *args], check=True, capture_output=True, text=True).stdout


def vary(base: dict, number: int) -> dict:
    """One learner's export: the real inventory with this learner's choices."""
    rng = random.Random(number)
    body = copy.deepcopy(base)
    body["metadata"]["learner"] = f"learner-{number:03d}"
    body["metadata"]["learner_id"] = f"{number:032x}"  # each learner's own, as each learner's lab export gives
    regions = body["inventory"]["regions"]
    east, west = regions["us-east-1"], regions["us-west-2"]
    for region in (east, west):
        for bucket in region["s3"]["buckets"].values():
            bucket["versioning"] = rng.choice(["Enabled", "Enabled", "Suspended", "Off"])
    source = east["s3"]["buckets"].get("securecart-invoices-use1")
    if source is not None and rng.random() < 0.6:
        source["replication"] = {"role": "arn:aws:iam::000000000000:role/crr", "rules": [{
            "id": "r", "status": "Enabled", "priority": 1, "prefix": rng.choice([None, "invoices/", "logs/"]),
            "tags": {}, "destination_bucket": rng.choice(["securecart-invoices-usw2", "securecart-logs"]),
            "destination_arn": "", "storage_class": None,
            "delete_marker_replication": rng.choice(["Enabled", "Disabled"]),
            "replication_time": False, "existing_objects": False}]}
    for db in east["rds"]["instances"].values():
        db["backup_retention"] = rng.choice([0, 1, 6, 7, 14])
        db["multi_az"] = rng.random() < 0.5
        ids = (db.get("orders") or {}).get("order_ids") or {}
        if ids.get("runs") and rng.random() < 0.3:  # (schema 2.0: order ids as runs) the newest orders lost
            first, last = ids["runs"][-1]
            ids["runs"][-1] = [first, max(first, last - rng.randint(1, 10))]
    for table in east["dynamodb"]["tables"].values():
        table["pitr"]["status"] = rng.choice(["ENABLED", "DISABLED"])
    if rng.random() < 0.5:
        east["backup"]["vaults"]["main"] = {"name": "main", "region": "us-east-1",
                                            "arn": "arn:aws:backup:us-east-1:000000000000:backup-vault:main",
                                            "created": None, "encryption_key": "arn:aws:kms:us-east-1:0:key/1",
                                            "recovery_points": 0, "locked": rng.random() < 0.3,
                                            "lock": {"min_retention_days": 7, "max_retention_days": None,
                                                     "lock_date": None}, "access_policy": None}
        east["backup"]["plans"]["p"] = {
            "id": "p", "region": "us-east-1", "arn": "", "name": "daily", "version": "1",
            "rules": [{"name": "daily", "id": "r", "target_vault": "main", "schedule": "cron(0 5 ? * * *)",
                       "timezone": None, "start_window": 60, "completion_window": 120,
                       "lifecycle": {"delete_after_days": rng.choice([6, 7, 35]), "move_to_cold_after_days": None},
                       "copy_actions": [], "continuous": False}],
            "selections": [] if rng.random() < 0.3 else [{
                "id": "s", "name": "securecart", "role": "arn:aws:iam::000000000000:role/backup", "resources": [],
                "not_resources": [], "list_of_tags": [{"type": "STRINGEQUALS", "key": "app", "value": "securecart"}],
                "conditions": {}}]}
    body["inventory"]["collected_at"] = f"2026-12-{1 + number % 28:02d}T12:00:00Z"
    body["metadata"]["exported_at"] = body["inventory"]["collected_at"]
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--advance", default="6h", help="sim time to play first (more orders), e.g. 6h")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    exports = Path(tempfile.mkdtemp(prefix="bench-class-"))
    port = free_port()
    lab("up", "--port", str(port), "--state-dir", str(state))
    try:
        if args.advance:
            AdminClient(f"http://127.0.0.1:{port}").post("clock", {"action": "advance", "duration": args.advance})
        lab("export", str(exports / "base.json"), "--learner", "base", "--state-dir", str(state))
    finally:
        lab("down", "--state-dir", str(state))
    base = orjson.loads((exports / "base.json").read_bytes())
    (exports / "base.json").unlink()
    started = time.perf_counter()
    for number in range(args.learners):
        (exports / f"learner-{number:03d}.json").write_bytes(orjson.dumps(vary(base, number)))
    written = time.perf_counter() - started
    size = sum(p.stat().st_size for p in exports.glob("*.json"))
    print(f"{args.learners} exports written in {written:.1f}s ({size / 1e6:.1f} MB, "
          f"{base['inventory']['orders']['total']} orders each)")
    labs = list(exercises.load_all().values())
    started, cpu = time.perf_counter(), time.process_time()
    grades = grading.grade_class(exports, labs, workers=1)
    text = grades.to_csv()
    graded, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"graded {len(grades.rows)} exports x {len(labs)} labs ({len(grades.columns)} check columns) to CSV in "
          f"{graded:.2f}s wall, {cpu:.2f}s CPU, one process (target <= 10 s); {len(text) / 1024:.0f} KiB of CSV; "
          f"{sum(r['passed'] for r in grades.rows)} passed")
    started = time.perf_counter()
    grading.grade_class(exports, labs).to_csv()
    print(f"the same with a process per CPU: {time.perf_counter() - started:.2f}s wall")
    csv_file = exports / "grades.csv"
    started = time.perf_counter()
    lab("grade", "--class", str(exports), "--csv", str(csv_file))
    print(f"`lab grade --class DIR --csv FILE` end to end: {time.perf_counter() - started:.2f}s")


if __name__ == "__main__":
    main()
