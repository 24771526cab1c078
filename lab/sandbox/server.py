"""The sandbox process: `python -m lab.sandbox.server` (what `lab up` starts, detached or not)."""

from __future__ import annotations

import argparse
import errno
import gc
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab import config
from lab.config import LOG_FILE, PID_FILE, RUNTIME_FILE
from lab.errors import LabError, PortBusyError
from lab.safety import install_network_guard, is_loopback_host, isolate_from_user_aws_files
from lab.sandbox.persistence import DEFAULT_FSYNC, FSYNC_POLICIES

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from werkzeug.serving import BaseWSGIServer

    from lab.sandbox.core import Sandbox

log = logging.getLogger("lab.sandbox")


def check_port_free(host: str, port: int) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortBusyError(host, port, exc.strerror or "") from exc
        raise LabError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    finally:
        probe.close()


class Answering:
    """The requests the server is answering: the process waits for them before it exits, so the answer to
    `lab down` (how the state was saved) is written whole before the process ends under it."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def __enter__(self) -> None:
        with self._idle:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no answer is being written, at most `timeout` seconds; whether none is."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


def make_server(host: str, port: int, app: WSGIApplication, answering: Answering | None = None) -> BaseWSGIServer:
    """werkzeug's threaded server for the gateway; `answering` counts the requests it is answering."""
    from werkzeug.serving import WSGIRequestHandler
    from werkzeug.serving import make_server as werkzeug_server

    from lab.kernel.context import RAW_INPUT_KEY

    answering = answering or Answering()

    class QuietHandler(WSGIRequestHandler):
        def run_wsgi(self) -> None:
            with answering:
                super().run_wsgi()

        # The gateway writes its own access log; werkzeug's per-request line would double it.
        def log_request(self, *args: object, **kwargs: object) -> None:
            return None

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            # werkzeug's dechunking reader trusts a chunk's declared size; the gateway reads chunked bodies
            # itself, within limits, from the stream as received (lab.gateway.handlers.body).
            environ[RAW_INPUT_KEY] = self.rfile
            return environ

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            # The server's own refusals (414, 431, a malformed request line) as AWS errors, not HTML pages.
            send_transport_error(self, code, message or explain or self.responses.get(code, ("",))[0])

    try:
        return werkzeug_server(host, port, app, threaded=True, request_handler=QuietHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortBusyError(host, port) from exc
        raise
    except SystemExit as exc:  # werkzeug exits on a busy port after printing to stderr
        raise PortBusyError(host, port) from exc


def send_transport_error(handler: Any, status: int, reason: str) -> None:
    """Write the HTTP server's own refusal of a request as an AWS error and close the connection."""
    from lab.gateway.codec.errors import transport_error

    answer = transport_error(status, reason)
    handler.close_connection = True
    if handler.request_version in ("", "HTTP/0.9"):
        handler.request_version = "HTTP/1.1"  # (no request line to go by: answer with a status line and headers)
    handler.send_response(status)
    for name, value in answer.headers:
        handler.send_header(name, value)
    handler.send_header("Connection", "close")
    handler.send_header("Content-Length", str(len(answer.body_bytes())))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(answer.body_bytes())


def run(args: argparse.Namespace) -> int:
    from lab.sandbox.persistence import check_writable

    state_dir = Path(args.state_dir).expanduser().resolve()
    check_writable(state_dir)
    if (state_dir / "state").exists():
        check_writable(state_dir / "state")
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.FileHandler(state_dir / LOG_FILE)] + ([logging.StreamHandler()] if args.foreground else []),
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    isolate_from_user_aws_files()
    if not args.allow_remote:
        install_network_guard()
    if not is_loopback_host(args.host) and not args.allow_remote_bind:
        raise LabError(f"refusing to listen on {args.host}: the sandbox binds to loopback only "
                       "(pass --allow-remote-bind inside a container)")

    # Listen first, with nothing heavy imported yet: the port is taken (or reported busy) at once and
    # health answers while moto and the engines load; AWS calls wait at the gate until they have.
    gate = StartingGate()
    answering = Answering()
    server = make_server(args.host, args.port, gate, answering)
    endpoint = config.endpoint_url(args.port, args.host if is_loopback_host(args.host) else config.DEFAULT_HOST)
    (state_dir / PID_FILE).write_text(str(os.getpid()))
    (state_dir / RUNTIME_FILE).write_text(json.dumps({
        "pid": os.getpid(), "host": args.host, "port": args.port, "endpoint": endpoint,
        "backend": args.backend, "started_at": time.time(),
    }))
    serving = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
    serving.start()
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()
        if gate.sandbox is not None:
            gate.sandbox.request_shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("listening on %s (backend %s, state %s)", endpoint, args.backend, state_dir)
    sandbox = None
    try:
        from lab.backends import create_backend
        from lab.sandbox.core import Sandbox

        backend = create_backend(args.backend, allow_remote=args.allow_remote, state_dir=state_dir,
                                 public_port=args.port)
        sandbox = Sandbox(backend, state_dir, host=args.host, port=args.port, seed=args.seed,
                          seed_world=not args.no_world, fsync=args.fsync)
        gate.open(sandbox)
        if stopping.is_set():
            sandbox.request_shutdown()
        sandbox.boot()
        settle_heap()
        sandbox.settle_heap = settle_heap
        sandbox.settle_survivors = settle_survivors
        sandbox.start_background_snapshots()
        threading.Thread(target=run_ticker, args=(sandbox,), name="clock-ticker", daemon=True).start()
        threading.Thread(target=sandbox.warm_up, name="warm-up", daemon=True).start()
        if args.foreground:
            print(f"SecureCart DR Lab sandbox ready at {sandbox.endpoint} (Ctrl-C stops it)", flush=True)
        sandbox.shutdown_requested.wait()
    except LabError as exc:
        log.error("%s", exc)
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    finally:
        answering.wait_idle(ANSWERS_WAIT_S)  # (the answer to the shutdown request, first of all)
        gate.close()
        server.shutdown()
        try:
            if sandbox is not None:
                sandbox.close()
        finally:
            for name in (PID_FILE, RUNTIME_FILE):
                (state_dir / name).unlink(missing_ok=True)
        log.info("stopped")
    return 0


class StartingGate:
    """The WSGI app the server starts with: health answers "starting" until the sandbox exists, other
    requests wait for it (up to two minutes), then everything goes to the sandbox's gateway."""

    WAIT_S = 120.0

    def __init__(self) -> None:
        self.sandbox: Sandbox | None = None
        self._opened = threading.Event()

    def open(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._opened.set()

    def close(self) -> None:
        self._opened.set()  # release waiting requests: they get 503 if no sandbox came

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.sandbox is None:
            if environ.get("PATH_INFO", "").rstrip("/") in ("/_localstack/health", "/health"):
                return _json_answer(start_response, "200 OK", {"services": {}, "edition": "securecart-lab",
                                                               "ready": False, "starting": True})
            self._opened.wait(self.WAIT_S)
        if self.sandbox is None:
            return _json_answer(start_response, "503 Service Unavailable",
                                {"__type": "ServiceUnavailable",
                                 "message": "the sandbox failed to start; see sandbox.log"})
        return self.sandbox.app(environ, start_response)


def _json_answer(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


TICK_SECONDS = 0.5
# How long the stopping process waits for answers still being written (a stalled upload can hold one).
ANSWERS_WAIT_S = 2.0


def settle_heap(replaced: bool = False) -> None:
    """After boot, and again when warm-up has loaded the restored world: most objects alive then (modules,
    models, the world) live as long as the process. Keep them out of the collector's scans (a month of sim
    time walked them again and again), and collect less often: long clock advances allocate a lot.
    `replaced`: the world was replaced (a reset), so what was kept out may be garbage now: collect it first."""
    if replaced:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def settle_survivors() -> None:
    """Between two slices of a clock advance: what the slice made and still holds (orders, versions, items,
    recovery points) lives on as the world does, so, once the young garbage is collected, it joins the frozen
    heap. Left to the collector, the survivors piled up in its middle generation, which every 20th young
    collection scanned whole: a pause of a tenth of a second or more a few times a month of sim time (longer
    as the world grows), and every other call waited through it. Objects that become cyclic garbage later stay
    until the next reset (about a thousand in a 35-day advance)."""
    gc.collect(1)
    gc.freeze()


def run_ticker(sandbox: Sandbox) -> None:
    """While sim time runs, let the engines do what falls due, through a journaled internal call."""
    while not sandbox.shutdown_requested.wait(TICK_SECONDS):
        due = sandbox.engines.next_due()
        if sandbox.clock.paused or due is None or due[0] > sandbox.clock.now():
            continue
        if sandbox.backend_problems():
            continue  # the backend is gone (LocalStack exited): lab status says so, the engines wait
        try:
            sandbox.tick()
        except Exception:
            log.exception("clock tick failed")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lab.sandbox.server", description="Run the sandbox process.")
    parser.add_argument("--host", default=config.DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=config.DEFAULT_PORT)
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--state-dir", default=str(config.default_state_dir()))
    parser.add_argument("--seed", type=int, default=config.DEFAULT_SEED)
    parser.add_argument("--no-world", action="store_true", help="start empty, without the SecureCart world")
    parser.add_argument("--foreground", action="store_true")
    parser.add_argument("--allow-remote", action="store_true", help="allow a backend endpoint off this machine")
    parser.add_argument("--allow-remote-bind", action="store_true", help="allow listening on a non-loopback address")
    parser.add_argument("--fsync", choices=sorted(FSYNC_POLICIES), default=DEFAULT_FSYNC,
                        help="when an acknowledged change is on disk: " + "; ".join(
                            f"{name}: {meaning}" for name, meaning in FSYNC_POLICIES.items()))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        check_port_free(args.host, args.port)
        return run(args)
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code


if __name__ == "__main__":
    code = main()
    # Everything is saved and closed by now. A month of sim time is millions of objects, and freeing them
    # one by one as the interpreter exits took seconds of `lab down`: leave without that.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
