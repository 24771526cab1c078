"""Issue 13 figure: what verifying S3 uploads (lab/gateway/handlers/checksums.py) costs a PutObject.

One sandbox runs in this process behind an HTTP server on 127.0.0.1 (no world). The same uploads go through
it with the checksum handlers in the chain and without them, alternating call by call so that a busy
machine slows both alike: boto3's PutObject (CRC32 header and the payload's SHA-256, as boto3 sends over
HTTP) of 1 KiB, 1 MiB and 8 MiB, and a 1 MiB aws-chunked upload with a CRC32 trailer (as the JavaScript SDK
sends a stream). Then each algorithm's own speed over 8 MiB, in process.

Run: .venv/bin/python benchmarks/bench_checksums.py [--ops 60]
Prints medians, ratios and the machine's speed (microseconds per sum(range(1000)), best of 5); timings are
never pass/fail.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import urllib3
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.awsclient import client
from lab.backends.embedded import EmbeddedBackend
from lab.gateway.handlers.checksums import ALGORITHMS, checksum_of
from lab.sandbox.core import Sandbox
from lab.sandbox.server import make_server

BUCKET = "bench-checksums"


def machine_speed() -> float:
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start() -> tuple[Sandbox, Any, dict[str, tuple[list, list]]]:
    port = free_port()
    sandbox = Sandbox(EmbeddedBackend(), Path(tempfile.mkdtemp(prefix="bench-checksums-")), port=port,
                      seed_world=False)
    chain = sandbox.app.chain
    checked = (list(chain.request_handlers), list(chain.response_handlers))
    unchecked = ([h for h in chain.request_handlers if getattr(h, "__name__", "") != "verify_checksums"],
                 [h for h in chain.response_handlers if getattr(h, "__name__", "") != "answer_checksum_type"])
    assert len(unchecked[0]) == len(checked[0]) - 1 and len(unchecked[1]) == len(checked[1]) - 1
    server = make_server("127.0.0.1", port, sandbox.app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sandbox.boot()
    return sandbox, server, {"checked": checked, "unchecked": unchecked}


def uploads(endpoint: str) -> dict[str, Callable[[int], Any]]:
    s3 = client("s3", "us-east-1", endpoint)
    s3.create_bucket(Bucket=BUCKET)
    http = urllib3.PoolManager()
    small, medium, large = os.urandom(1024), os.urandom(1 << 20), os.urandom(8 << 20)
    framed = AwsChunkedWrapper(io.BytesIO(medium), checksum_cls=Crc32Checksum,
                               checksum_name="x-amz-checksum-crc32", chunk_size=64 * 1024).read()
    chunked_headers = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host, Signature=" + "0" * 64,
        "Content-Encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(medium)), "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
    }

    def chunked(i: int) -> None:
        answer = http.request("PUT", f"{endpoint}/{BUCKET}/chunked-{i}", body=framed, headers=chunked_headers)
        assert answer.status == 200, answer.data

    return {
        "put 1 KiB": lambda i: s3.put_object(Bucket=BUCKET, Key=f"small-{i}", Body=small),
        "put 1 MiB": lambda i: s3.put_object(Bucket=BUCKET, Key=f"medium-{i}", Body=medium),
        "put 8 MiB": lambda i: s3.put_object(Bucket=BUCKET, Key=f"large-{i % 4}", Body=large),
        "put 1 MiB aws-chunked": chunked,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=60, help="calls per upload kind and chain (8 MiB: a quarter)")
    args = parser.parse_args()
    print(f"machine speed: {machine_speed():.1f} us per sum(range(1000))")
    sandbox, server, chains = start()
    calls = uploads(sandbox.endpoint)

    def use(kind: str) -> None:
        sandbox.app.chain.request_handlers, sandbox.app.chain.response_handlers = (list(h) for h in chains[kind])

    samples: dict[str, dict[str, list[float]]] = {kind: {name: [] for name in calls} for kind in chains}
    for name, call in calls.items():
        count = max(args.ops // 4, 3) if "8 MiB" in name else args.ops
        for i in range(-3, count):  # three warm-up calls of each
            for kind in (("checked", "unchecked") if i % 2 == 0 else ("unchecked", "checked")):
                use(kind)
                began = time.perf_counter()
                call(i)
                if i >= 0:
                    samples[kind][name].append(time.perf_counter() - began)
    use("checked")
    print("PutObject over HTTP, median ms: without the checksum handlers, with them, ratio")
    for name in calls:
        bare = statistics.median(samples["unchecked"][name]) * 1000
        full = statistics.median(samples["checked"][name]) * 1000
        print(f"  {name:24} {bare:8.2f} {full:8.2f} {full / bare:6.3f}   ({len(samples['checked'][name])} calls each)")

    data = os.urandom(8 << 20)
    print("each algorithm over 8 MiB in process, MB/s (best of 3):")
    for algorithm in ALGORITHMS:
        best = min(timeit.repeat(lambda algorithm=algorithm: checksum_of(algorithm, [data]), number=1, repeat=3))
        print(f"  {algorithm:10} {len(data) / best / 1e6:8.0f}")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
