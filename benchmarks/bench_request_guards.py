"""Issue 13 figure: what the request path's new guards cost a call (lab/gateway/handlers/body.py, origins.py).

Measured in process, on the handlers alone (an HTTP round trip's noise is larger than the figure): the Host and
Origin check, reading the body (none, 1 KiB, 1 MiB; Content-Length and chunked), and the response's CORS
header pass, for a call without an Origin (the SDKs, the CLI) and for an S3 answer carrying the backend's CORS
headers.

Run: .venv/bin/python benchmarks/bench_request_guards.py [--repeat 2000]
Prints microseconds per call (median of 5 runs) and the machine's speed (microseconds per sum(range(1000)),
best of 5); timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.gateway.chain import HandlerChain
from lab.gateway.handlers.body import read_body
from lab.gateway.handlers.origins import answer_cors_headers, check_host_and_origin
from lab.kernel.context import RAW_INPUT_KEY, RequestContext, Response

CHAIN = HandlerChain()
CHECK = check_host_and_origin(None)  # type: ignore[arg-type]  # (uses the request's own Host, not the sandbox)


def environ(method: str, path: str, body: bytes, chunked: bool = False) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "HTTP_HOST": "127.0.0.1:4566",
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
                              "SignedHeaders=host, Signature=0",
    }
    if chunked:
        framed = b"".join(f"{len(body[i:i + 65536]):x}\r\n".encode() + body[i:i + 65536] + b"\r\n"
                          for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
        env["HTTP_TRANSFER_ENCODING"] = "chunked"
        env["wsgi.input"] = env[RAW_INPUT_KEY] = io.BytesIO(framed)
    else:
        env["CONTENT_LENGTH"] = str(len(body))
        env["wsgi.input"] = io.BytesIO(body)
    return env


def per_call_us(make: Callable[[], RequestContext], work: Callable[[RequestContext], None], repeat: int) -> float:
    runs = []
    for _ in range(5):
        contexts = iter([make() for _ in range(repeat)])
        runs.append(timeit.timeit(lambda contexts=contexts: work(next(contexts)), number=repeat) / repeat * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    reference = min(timeit.repeat("sum(range(1000))", number=1000, repeat=5)) / 1000 * 1e6
    print(f"cpu reference: {reference:.1f} us per sum(range(1000)) (best of 5)")

    def case(name: str, method: str, size: int, chunked: bool = False, repeat: int | None = None) -> None:
        body = b"x" * size
        count = repeat or args.repeat

        def make() -> RequestContext:
            return RequestContext.from_environ(environ(method, "/bucket/key", body, chunked))

        def guards(ctx: RequestContext) -> None:
            CHECK(CHAIN, ctx)
            read_body(CHAIN, ctx)

        print(f"{name:<44} {per_call_us(make, guards, count):9.1f} us")

    case("host/origin check + no body (GET)", "GET", 0)
    case("host/origin check + 1 KiB body", "PUT", 1024)
    case("host/origin check + 1 KiB chunked body", "PUT", 1024, chunked=True)
    case("host/origin check + 1 MiB body", "PUT", 1024 * 1024, repeat=200)
    case("host/origin check + 1 MiB chunked body", "PUT", 1024 * 1024, chunked=True, repeat=200)

    def with_answer() -> RequestContext:
        ctx = RequestContext.from_environ(environ("GET", "/bucket/key", b""))
        ctx.response = Response(200, [("Content-Type", "application/xml"), ("Access-Control-Allow-Origin", "*"),
                                      ("x-amz-request-id", "1")], b"")
        return ctx

    print(f"{'CORS headers out of an answer':<44} "
          f"{per_call_us(with_answer, lambda ctx: answer_cors_headers(CHAIN, ctx), args.repeat):9.1f} us")


if __name__ == "__main__":
    main()
