"""LocalStack in host mode: `localstack-core` run by the sandbox as a child process, without Docker.

LocalStack lives in a venv of its own (Python 3.12 or 3.13; the lab itself runs on 3.11), installed from
requirements/localstack.lock by scripts/setup-localstack, which the lab runs on first use. The process
listens on 127.0.0.1 only, keeps its files under the state dir (`localstack/`), writes its log to
`localstack.log` there, and stops with the sandbox. It keeps no resources across restarts (persistence
is not part of the free LocalStack), so every start begins from a fresh SecureCart world.

Nothing it does leaves this machine: its process refuses every connection and name lookup off loopback
(lab/backends/localstack_boot.py), only the services the labs use are enabled (the others would download
packages at first use), and DynamoDB runs on DynamoDB Local prepared offline by the setup script.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import urllib3

from lab import config
from lab.backends.remote import RemoteBackend
from lab.errors import LabError
from lab.gateway.codec.errors import aws_error
from lab.kernel.context import RequestContext, Response

log = logging.getLogger("lab.backends.localstack")

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = REPO_ROOT / "scripts" / "setup-localstack"
LOCK_FILE = REPO_ROOT / "requirements" / "localstack.lock"
BOOT_SCRIPT = Path(__file__).resolve().parent / "localstack_boot.py"
# What scripts/setup-localstack hashes into its marker, in the same order: a change to any of them
# (a new lock, a new way of preparing DynamoDB) makes the lab install again.
STAMP_FILES = (LOCK_FILE, SETUP_SCRIPT, REPO_ROOT / "scripts" / "localstack" / "LoopbackDynamoDBLocal.java",
               REPO_ROOT / "scripts" / "localstack" / "java-launcher.sh")
MARKER = ".lab-installed"
NO_PYTHON_EXIT = 3  # scripts/setup-localstack: no Python 3.12 or 3.13 found
INSTALL_MINUTES = 1  # 55 s on this project's 2-core machines, downloads included (benchmarks/README.md)

LOG_FILE = "localstack.log"
PID_FILE = "localstack.pid"
START_TIMEOUT_S = float(os.environ.get("LAB_LOCALSTACK_TIMEOUT", "90"))
# LocalStack keeps nothing on disk to finish writing: a short grace, then it is killed (see _stop_tree).
STOP_TIMEOUT_S = 2.0

# The services the labs and the lab's engines call on the backend. Every other LocalStack service stays off:
# several download packages at first use (Java, OpenSearch, Kinesis' mock), which cannot work offline.
SERVICES = ("s3", "iam", "sts", "ec2", "kms", "route53", "cloudwatch", "logs", "sns", "sqs", "events",
            "resourcegroupstaggingapi")
DYNAMODB_SERVICES = ("dynamodb", "dynamodbstreams")


class LocalStackHostError(LabError):
    pass


def venv_dir() -> Path:
    explicit = os.environ.get("LAB_LOCALSTACK_VENV")
    return Path(explicit).expanduser().resolve() if explicit else REPO_ROOT / ".venv-localstack"


def install_log_path() -> Path:
    venv = venv_dir()
    return venv.with_name(venv.name + ".install.log")


@dataclass(frozen=True)
class Installation:
    """A venv scripts/setup-localstack finished, from the current lock."""

    venv: Path
    python: str  # the interpreter the venv was made from
    dynamodb: str  # "ready", or why DynamoDB Local could not be prepared
    install_seconds: float | None

    @property
    def interpreter(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def static_libs(self) -> Path:
        return self.venv / "localstack-libs"

    @property
    def dynamodb_ready(self) -> bool:
        return self.dynamodb == "ready"


def expected_stamp() -> str:
    digest = hashlib.sha256()
    for path in STAMP_FILES:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_marker(venv: Path) -> dict[str, str]:
    try:
        text = (venv / MARKER).read_text()
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def installed(venv: Path | None = None) -> Installation | None:
    """The installation in `venv` (default: venv_dir()) if it is complete and matches the lock, else None."""
    venv = venv or venv_dir()
    marker = read_marker(venv)
    try:
        current = expected_stamp()
    except OSError:
        return None
    if marker.get("stamp") != current or not (venv / "bin" / "python").exists():
        return None
    seconds = marker.get("install_seconds")
    return Installation(venv=venv, python=marker.get("python", "?"), dynamodb=marker.get("dynamodb", "unknown"),
                        install_seconds=float(seconds) if seconds else None)


def ensure_installed(echo: Callable[[str], None]) -> Installation:
    """The current installation, installed first (with one progress line through `echo`) when missing."""
    found = installed()
    if found is not None:
        return found
    if not SETUP_SCRIPT.is_file():
        raise LocalStackHostError(f"LocalStack host mode is installed by {SETUP_SCRIPT}, which this copy of the lab "
                                  "lacks; run the lab from its repository")
    venv = venv_dir()
    echo(f"installing LocalStack host mode into {venv} (first use, about {INSTALL_MINUTES} min; "
         f"log: {install_log_path()})")
    with open(install_log_path(), "wb") as log_handle:
        result = subprocess.run([str(SETUP_SCRIPT)], stdin=subprocess.DEVNULL, stdout=log_handle,
                                stderr=subprocess.STDOUT, cwd=REPO_ROOT, check=False)
    output = install_log_path().read_text(errors="replace")
    if result.returncode == NO_PYTHON_EXIT:
        raise LocalStackHostError(_last_lines(output, 1))
    if result.returncode != 0:
        raise LocalStackHostError(f"installing LocalStack host mode failed (exit {result.returncode}); the log "
                                  f"{install_log_path()} ends:\n{_last_lines(output, 12)}")
    found = installed()
    if found is None:
        raise LocalStackHostError(f"scripts/setup-localstack finished but {venv} does not match the lock; "
                                  f"see {install_log_path()}")
    return found


def find_python() -> tuple[str | None, str]:
    """(the Python 3.12+ the setup script would use, "") or (None, why there is none)."""
    result = subprocess.run([str(SETUP_SCRIPT), "--find-python"], capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return result.stdout.strip(), ""
    return None, (result.stderr.strip() or f"{SETUP_SCRIPT} --find-python exited {result.returncode}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((config.DEFAULT_HOST, 0))
        return int(sock.getsockname()[1])


def localstack_environment(*, port: int, files: Path, installation: Installation, public_port: int | None,
                           base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment LocalStack runs with: host mode on loopback, its files under `files`, no downloads."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.startswith(("AWS_", "LOCALSTACK_")) and k not in ("DOCKER_HOST", "SERVICES")}
    services = SERVICES + (DYNAMODB_SERVICES if installation.dynamodb_ready else ())
    env.update({
        # The machine may look like a container (/.dockerenv): LocalStack would then bind 0.0.0.0 and use
        # /var/lib/localstack. Host mode, on loopback; hypercorn honours the address (twisted binds 0.0.0.0).
        "OVERRIDE_IN_DOCKER": "0",
        "GATEWAY_LISTEN": f"{config.DEFAULT_HOST}:{port}",
        "GATEWAY_SERVER": "hypercorn",
        # URLs in LocalStack's answers name the lab's endpoint, where clients send their calls.
        "LOCALSTACK_HOST": f"localhost.localstack.cloud:{public_port or port}",
        "DNS_ADDRESS": "0",  # no DNS server of its own
        "DISABLE_EVENTS": "1",  # no usage analytics
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "FILESYSTEM_ROOT": str(files),
        "CONFIG_DIR": str(files / "config"),  # not ~/.localstack: a user's profile there must not change the lab
        "PERSISTENCE": "0",
        "SERVICES": ",".join(services),
        "STRICT_SERVICE_LOADING": "1",
        "DYNAMODB_IN_MEMORY": "1",  # as everything else in host mode: gone when the process stops
        "LAB_SANDBOX_PID": str(os.getpid()),
    })
    return env


class LocalStackHostBackend(RemoteBackend):
    """A RemoteBackend whose endpoint is LocalStack, started here as a child process (no Docker)."""

    #: LocalStack keeps nothing across restarts: the sandbox seeds a fresh world on every start
    ephemeral = True
    #: the lab's own state for this backend, apart from the embedded backend's (state/) in the same state dir
    lab_state_subdir = "localstack/lab-state"

    def __init__(self, state_dir: Path, public_port: int | None = None, port: int | None = None) -> None:
        self.state_dir = state_dir
        self.public_port = public_port
        self.port = port or int(os.environ.get("LAB_LOCALSTACK_HOST_PORT") or 0) or free_port()
        super().__init__(f"http://{config.DEFAULT_HOST}:{self.port}", name="localstack (host mode)")
        self.installation: Installation | None = None
        self.log_path = state_dir / LOG_FILE
        self.start_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._exit: str | None = None  # set when LocalStack exited on its own
        self.why_not_docker = ""  # what the Docker path lacked, when LAB_LOCALSTACK_MODE=auto chose this

    # -- life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self.installation = ensure_installed(log.info)
        stop_leftover(self.state_dir)
        self._launch()

    def _launch(self) -> None:
        assert self.installation is not None
        files = self.state_dir / "localstack" / "fs"
        shutil.rmtree(files, ignore_errors=True)  # what the last run left is not LocalStack's state any more
        (files / "usr" / "lib").mkdir(parents=True)
        if self.installation.dynamodb_ready:
            # LocalStack finds its packages (Java, DynamoDB Local) in its static libraries: the prepared ones.
            (files / "usr" / "lib" / "localstack").symlink_to(self.installation.static_libs)
        env = localstack_environment(port=self.port, files=files, installation=self.installation,
                                     public_port=self.public_port)
        if self.log_path.exists():
            self.log_path.replace(self.log_path.with_name(LOG_FILE + ".previous"))
        started = time.perf_counter()
        with open(self.log_path, "wb") as log_handle:
            self._process = subprocess.Popen(
                [str(self.installation.interpreter), str(BOOT_SCRIPT)], env=env, cwd=files.parent,
                stdin=subprocess.DEVNULL, stdout=log_handle, stderr=subprocess.STDOUT, start_new_session=True)
        self._stopping = False
        self._exit = None
        (self.state_dir / PID_FILE).write_text(f"{self._process.pid} {self.port}\n")
        log.info("LocalStack host mode starting: pid %d, %s, log %s", self._process.pid, self.url, self.log_path)
        self._wait_ready()
        self.start_seconds = time.perf_counter() - started
        log.info("LocalStack ready in %.2fs", self.start_seconds)
        threading.Thread(target=self._watch, args=(self._process,), name="localstack-watch", daemon=True).start()

    def reset(self) -> None:
        """Forget every resource. LocalStack's free build has no reset endpoint, but keeps everything in memory:
        a new LocalStack process is an empty one (on the same port)."""
        self._stopping = True
        self._pool.clear()
        self._terminate()
        self._launch()

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "no answer yet"
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                self._remove_pid_file()
                raise LocalStackHostError(f"LocalStack exited while starting (exit {code}); its log {self.log_path} "
                                          f"ends:\n{_tail(self.log_path)}")
            try:
                answer = self._pool.request("GET", self.url + "/_localstack/health", timeout=2)
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
            except urllib3.exceptions.HTTPError as exc:
                last = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            time.sleep(0.05)
        self._terminate()
        raise LocalStackHostError(f"LocalStack did not answer at {self.url} within {START_TIMEOUT_S:.0f} s ({last}); "
                                  f"its log {self.log_path} ends:\n{_tail(self.log_path)}")

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        if process is self._process and not self._stopping:
            self._exit = (f"LocalStack (host mode, pid {process.pid}) exited unexpectedly with code {code}; "
                          f"see its log {self.log_path}. Start it again with a fresh world: lab reset --yes (or "
                          "lab down, then lab up --backend localstack)")
            log.error("%s; the log ends:\n%s", self._exit, _tail(self.log_path))

    def stop(self) -> None:
        self._stopping = True
        super().stop()
        self._terminate()

    def _terminate(self) -> None:
        process = self._process
        if process is None:
            return
        _stop_tree(process.pid, wait=process.wait, files=files_dir(self.state_dir))
        self._remove_pid_file()

    def _remove_pid_file(self) -> None:
        (self.state_dir / PID_FILE).unlink(missing_ok=True)

    # -- serving -----------------------------------------------------------------------------------

    def dispatch(self, ctx: RequestContext) -> None:
        if self._exit is not None or (self._process is not None and self._process.poll() is not None):
            error = aws_error(ctx.identity, 503, "ServiceUnavailable", self.problem() or "LocalStack is not running",
                              sender_fault=False)
            ctx.response = Response(error.status, list(error.headers), error.body)
            return
        super().dispatch(ctx)

    def problem(self) -> str | None:
        """Why the backend cannot answer, when LocalStack has exited; None while it runs."""
        if self._exit is None and self._process is not None and self._process.poll() is not None:
            return (f"LocalStack (host mode, pid {self._process.pid}) exited with code {self._process.returncode}; "
                    f"see its log {self.log_path}")
        return self._exit

    def describe(self) -> dict[str, object]:
        """What `lab status` shows about this backend."""
        installation = self.installation
        return {
            "mode": "host",
            "why_not_docker": self.why_not_docker,
            "endpoint": self.url,
            "pid": self._process.pid if self._process else None,
            "log": str(self.log_path),
            "venv": str(installation.venv) if installation else None,
            "python": installation.python if installation else None,
            "dynamodb": installation.dynamodb if installation else None,
            "start_seconds": self.start_seconds,
            "problem": self.problem(),
        }

    def limitations(self) -> list[str]:
        """What this backend cannot offer the labs, each said once at start (`lab status` warnings)."""
        notes = ["LocalStack host mode keeps no resources across lab down / lab up: every start seeds a fresh "
                 "SecureCart world"]
        if self.installation is not None and not self.installation.dynamodb_ready:
            notes.append(f"DynamoDB is unavailable on LocalStack host mode here: {self.installation.dynamodb}. "
                         "Install a JDK 17+ and npm, then: scripts/setup-localstack --force")
        return notes


def stop_leftover(state_dir: Path) -> None:
    """Stop a LocalStack a sandbox of this state dir started and could not stop (the sandbox was killed)."""
    pid_file = state_dir / PID_FILE
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if _is_our_localstack(pid):
        log.warning("stopping LocalStack (pid %d) left running by an earlier sandbox of %s", pid, state_dir)

        def gone(timeout: float) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _is_our_localstack(pid):
                time.sleep(0.1)
            if _is_our_localstack(pid):
                raise subprocess.TimeoutExpired("localstack", timeout)

        _stop_tree(pid, wait=gone, files=files_dir(state_dir))
    pid_file.unlink(missing_ok=True)


def files_dir(state_dir: Path) -> Path:
    """LocalStack's FILESYSTEM_ROOT for a sandbox's state dir: the tools it starts run from under it."""
    return state_dir / "localstack" / "fs"


def started_from(files: Path) -> list[int]:
    """Processes whose command line runs something from under `files` (LocalStack's own tools: Kinesis Local's
    node, which DynamoDB streams start, runs in a session of its own and outlived LocalStack, reparented)."""
    marker = str(files).encode() + b"/"
    found = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = entry.read_bytes()
        except OSError:
            continue
        if marker in command and int(entry.parent.name) != os.getpid():
            found.append(int(entry.parent.name))
    return found


def _stop_tree(pid: int, wait: Callable[[float], object], files: Path | None = None) -> None:
    """SIGTERM LocalStack, a short grace, then SIGKILL it and whatever it started (DynamoDB Local's JVM runs in
    a session of its own; Kinesis Local's node may have left the tree already, found then by `files`).
    LocalStack keeps nothing on disk, so a kill loses nothing; its graceful shutdown was seen to hang here for
    minutes after "Stopping all services"."""
    children = _descendants(pid)
    _signal(pid, signal.SIGTERM)
    try:
        wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log.info("LocalStack (pid %d) did not stop within %.0f s; killing it", pid, STOP_TIMEOUT_S)
    for each in [pid, *children, *_descendants(pid), *(started_from(files) if files is not None else [])]:
        _signal(each, signal.SIGKILL)
    try:
        wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log.warning("LocalStack (pid %d) survived SIGKILL for %.0f s", pid, STOP_TIMEOUT_S)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc; [] where there is none)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _is_our_localstack(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return BOOT_SCRIPT.name.encode() in command


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return _last_lines(path.read_text(errors="replace"), lines)
    except OSError:
        return "(no log)"


def _last_lines(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
