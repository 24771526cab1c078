"""Loaded by every Python process the tests start (PYTHONPATH): refuse and record any connection to an
address that is not loopback, so a test fails if anything the lab runs tries to reach real AWS."""

import os
import socket

_record = os.environ.get("LAB_TEST_NETWORK_VIOLATIONS")
if _record:
    import ipaddress

    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex

    def _check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            host = str(address[0])
            try:
                loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                with open(_record, "a") as handle:
                    handle.write(f"pid {os.getpid()}: connect to {host}:{address[1]}\n")
                raise ConnectionRefusedError(f"test guard: connection to non-loopback {host} refused")

    def connect(sock, address):
        _check(sock, address)
        return _connect(sock, address)

    def connect_ex(sock, address):
        _check(sock, address)
        return _connect_ex(sock, address)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
