"""Run by the LocalStack venv's Python (not imported by the lab): LocalStack's runtime behind the lab's guards.

    <venv>/bin/python lab/backends/localstack_boot.py

Before LocalStack loads, this process refuses every connection and name lookup off loopback (the lab's own
guards, from lab/safety.py), and it kills itself when the sandbox that started it is gone, so a sandbox
killed with -9 leaves no LocalStack behind (it keeps nothing on disk that a kill could damage).
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time
from pathlib import Path

PARENT_CHECK_S = 1.0


def _die_with_parent() -> None:
    """Kill this process (and so DynamoDB Local's JVM, which dies with it) once the sandbox that started it
    is gone. A watch on the parent pid rather than prctl(PR_SET_PDEATHSIG): that one fires when the *thread*
    that started the process ends, and the sandbox restarts LocalStack from request threads (lab reset)."""
    expected_parent = os.environ.get("LAB_SANDBOX_PID")
    if not expected_parent:
        return

    def watch() -> None:
        while True:
            if str(os.getppid()) != expected_parent:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(PARENT_CHECK_S)

    if str(os.getppid()) != expected_parent:
        sys.exit("the sandbox that started LocalStack is gone")
    threading.Thread(target=watch, name="lab-parent-watch", daemon=True).start()


def _install_guards(repo_root: Path) -> None:
    sys.path.insert(0, str(repo_root))
    try:
        from lab.safety import install_network_guard
    finally:
        sys.path.remove(str(repo_root))
    # Connections and name lookups off loopback fail at once (LocalStack tries to download optional packages).
    install_network_guard()


def main() -> None:
    here = Path(__file__).resolve().parent
    # This file's folder is the lab's backends package: not a place LocalStack should import from.
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    _die_with_parent()
    _install_guards(here.parent.parent)
    sys.argv = ["localstack.runtime.main"]
    runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
