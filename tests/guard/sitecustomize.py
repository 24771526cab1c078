"""Loaded by every Python process the tests start (PYTHONPATH): refuse and record any connection, datagram or
name lookup that would leave loopback, so a test fails if anything the lab runs tries to reach real AWS --
or any other host. The guard itself is network_guard.py (beside this file)."""

import os
import socket

_record = os.environ.get("LAB_TEST_NETWORK_VIOLATIONS")
if _record:
    import network_guard

    def _violation(kind, what):
        with open(_record, "a") as handle:
            handle.write(f"pid {os.getpid()}: {what}\n")
        if kind == "lookup":
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: {what} refused")
        raise ConnectionRefusedError(f"test guard: {what} refused")

    network_guard.install(_violation)
    network_guard.install_audit_backstop(_violation)
