"""The engines' bulk writes into moto: MotoData's direct S3 objects and DynamoDB items against moto's own
S3Backend.put_object and DynamoDBBackend.put_item (the baseline, measured in the same run), per object.

Run: .venv/bin/python benchmarks/bench_direct_writes.py [--objects 5000] [--rounds 3]
Everything runs in this process against moto's models; no sandbox, no socket. Timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moto.dynamodb.models import dynamodb_backends
from moto.s3.models import s3_backends

from lab import config
from lab.backends.embedded import MotoData

ACCOUNT, REGION = config.ACCOUNT_ID, config.PRIMARY_REGION


def invoice(number: int) -> bytes:
    return (b'{"amount": "%d.00", "currency": "USD", "customer": "alice", "invoice_for": "ORD-%06d", '
            b'"issued_at": "2026-11-26T08:00:00Z"}' % (number % 250, number))


def item(number: int) -> dict[str, Any]:
    return {"order_id": {"S": f"ORD-{number:06d}"}, "customer": {"S": "alice"}, "amount": {"N": "12.50"},
            "created_at": {"S": "2026-11-26T08:00:00Z"}, "status": {"S": "PLACED"}}


def per_object_us(write: Callable[[int], Any], start: int, count: int) -> float:
    gc.collect()
    began = time.perf_counter()
    for number in range(start, start + count):
        write(number)
    return (time.perf_counter() - began) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    s3 = s3_backends[ACCOUNT]["aws"]
    dynamodb = dynamodb_backends[ACCOUNT][REGION]
    s3.create_bucket("bench-direct", REGION)
    s3.put_bucket_versioning("bench-direct", "Enabled")
    dynamodb.create_table("bench-direct", schema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
                          throughput=None, attr=[{"AttributeName": "order_id", "AttributeType": "S"}],
                          global_indexes=None, indexes=None, streams=None, billing_mode="PAY_PER_REQUEST",
                          sse_specification=None, tags=[], deletion_protection_enabled=False, warm_throughput=None)
    direct = MotoData()

    def moto_object(number: int) -> None:
        key = s3.put_object("bench-direct", f"invoices/{number}.json", invoice(number))
        key.set_metadata({"Content-Type": "application/json"})

    cases = {
        "S3 object (versioned bucket)": (
            moto_object,
            lambda n: direct.put_object(REGION, "bench-direct", f"invoices/{n}.json", invoice(n), "application/json")),
        "DynamoDB item": (
            lambda n: dynamodb.put_item("bench-direct", item(n)),
            lambda n: direct.put_item(REGION, "bench-direct", item(n))),
    }
    print(f"per object, {args.objects} objects a round, median of {args.rounds} interleaved rounds")
    start = 0
    for name, (baseline, ours) in cases.items():
        moto_us, direct_us = [], []
        for _ in range(args.rounds):
            moto_us.append(per_object_us(baseline, start, args.objects))
            start += args.objects
            direct_us.append(per_object_us(ours, start, args.objects))
            start += args.objects
        moto_median, direct_median = statistics.median(moto_us), statistics.median(direct_us)
        print(f"  {name:30s} moto {moto_median:6.1f} us   direct {direct_median:6.1f} us   "
              f"ratio {direct_median / moto_median:.2f}")


if __name__ == "__main__":
    main()
