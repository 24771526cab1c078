"""Where one request's time goes: a sandbox in this process serving S3 puts and gets, under cProfile.

Run: .venv/bin/python benchmarks/profile_request_path.py [--ops 300] [--top 40] [--world] [--start]

Works on this build and on the build before the layers (PYTHONPATH=<old worktree>), so that two profiles can
be read side by side. The server thread's time per request is profiled (the client's is not), over `--ops`
puts and then `--ops` gets of 1 KiB after a warm-up. `--start` profiles the sandbox's construction and boot
instead (imports, moto, the world from the template, the engines). Loopback only; stops by itself.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(handler: Any, spent: dict[tuple[str, str], list[float]], timing: dict[str, Any]) -> Any:
    """The handler, its time per request noted by its name and the request's method while timing is on."""
    name = getattr(handler, "__name__", type(handler).__name__)

    def run(chain: Any, ctx: Any) -> None:
        began = time.perf_counter()
        try:
            handler(chain, ctx)
        finally:
            if timing["on"]:
                spent.setdefault((name, ctx.method), []).append(time.perf_counter() - began)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--world", action="store_true", help="seed the world (from the template) first")
    parser.add_argument("--start", action="store_true", help="profile construction and boot, not requests")
    parser.add_argument("--save", help="also write the profile (pstats) to this file")
    parser.add_argument("--plain", action="store_true", help="time the requests without the profiler")
    parser.add_argument("--handlers", action="store_true",
                        help="with --plain: the median time of each handler of the chain (this build only)")
    args = parser.parse_args()
    boot_profile = cProfile.Profile()
    if args.start:
        boot_profile.enable()
    began = time.perf_counter()
    from lab.backends.embedded import EmbeddedBackend
    from lab.sandbox.core import Sandbox
    from lab.sandbox.server import make_server

    port = free_port()
    sandbox = Sandbox(EmbeddedBackend(), Path(tempfile.mkdtemp(prefix="profile-request-")), port=port,
                      seed_world=args.world or args.start)
    sandbox.boot()
    boot_s = time.perf_counter() - began
    if args.start:
        boot_profile.disable()
        print(f"construct + boot: {boot_s:.2f} s (world source {getattr(sandbox, 'world_source', '?')})")
        boot_stats = pstats.Stats(boot_profile)
        if args.save:
            boot_stats.dump_stats(args.save)
        boot_stats.sort_stats(args.sort).print_stats(args.top)
        sandbox.close()
        return
    profile = cProfile.Profile()
    timing: dict[str, Any] = {"on": False, "seconds": 0.0, "calls": 0, "each": {"PUT": [], "GET": []}}
    app = sandbox.app

    def profiled(environ: dict[str, Any], start_response: Any) -> Any:
        if not timing["on"]:
            return app(environ, start_response)
        began = time.perf_counter()
        if not args.plain:
            profile.enable()
        try:
            return list(app(environ, start_response))
        finally:
            if not args.plain:
                profile.disable()
            timing["seconds"] += time.perf_counter() - began
            timing["calls"] += 1
            timing["each"].setdefault(environ["REQUEST_METHOD"], []).append(time.perf_counter() - began)

    spent: dict[tuple[str, str], list[float]] = {}
    if args.handlers:
        chain = app.chain
        chain.request_handlers = [timed(handler, spent, timing) for handler in chain.request_handlers]
        chain.response_handlers = [timed(handler, spent, timing) for handler in chain.response_handlers]
    server = make_server("127.0.0.1", port, profiled)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(retries={"max_attempts": 1}))
    s3.create_bucket(Bucket="profile-bucket")
    body = os.urandom(1024)
    for i in range(30):  # warm up: models, first-use imports
        s3.put_object(Bucket="profile-bucket", Key=f"w{i}", Body=body)
        s3.get_object(Bucket="profile-bucket", Key=f"w{i}")["Body"].read()
    timing["on"] = True
    wall = time.perf_counter()
    for i in range(args.ops):
        s3.put_object(Bucket="profile-bucket", Key=f"k{i}", Body=body)
    put_s = time.perf_counter() - wall
    for i in range(args.ops):
        s3.get_object(Bucket="profile-bucket", Key=f"k{i}")["Body"].read()
    get_s = time.perf_counter() - wall - put_s
    timing["on"] = False
    print(f"{sys.argv[0]}: lab from {Path(sys.modules['lab'].__file__).parent}")
    print(f"client wall per put {put_s / args.ops * 1000:.2f} ms, per get {get_s / args.ops * 1000:.2f} ms; "
          f"server app time per request {timing['seconds'] / max(timing['calls'], 1) * 1000:.2f} ms "
          f"({'timed' if args.plain else 'profiled'}, {timing['calls']} requests; median put "
          f"{statistics.median(timing['each']['PUT']) * 1000:.2f} ms, "
          f"get {statistics.median(timing['each']['GET']) * 1000:.2f} ms)")
    if spent:
        print(f"{'handler':28} {'put median us':>14} {'get median us':>14}")
        for name in dict.fromkeys(name for name, _ in spent):
            cells = [statistics.median(spent.get((name, method), [0.0])) * 1e6 for method in ("PUT", "GET")]
            print(f"{name:28} {cells[0]:14.0f} {cells[1]:14.0f}")
    if args.plain:
        server.shutdown()
        sandbox.close()
        return
    stats = pstats.Stats(profile)
    if args.save:
        stats.dump_stats(args.save)
    stats.sort_stats(args.sort).print_stats(args.top)
    server.shutdown()
    sandbox.close()


if __name__ == "__main__":
    main()
