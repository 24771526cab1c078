"""The network guards refuse name lookups off loopback before any resolver is asked.

Three guards: the lab's own (lab.safety.install_network_guard, in the sandbox process), the tests' guard in
every process the tests start (tests/guard/sitecustomize.py), and the one in the test process itself
(tests/conftest.py). Each is tried in a process that records, in a Python audit hook, every call that reaches
CPython's resolver functions (CPython raises the audit event before it asks the resolver) and stops any that
would leave the machine -- so even a guard that lets a lookup through sends no packet: the test fails instead.
"""

from __future__ import annotations

import _socket
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD_DIR, ROOT

# Runs first in the child: the audit hook that records what reaches the resolver and stops what would leave.
PROBE_PRELUDE = '''
import ipaddress, json, socket, sys, urllib.request

def numeric(host):
    try:
        ipaddress.ip_address(str(host).split("%")[0])
        return True
    except ValueError:
        return False

reached = []
def audit(event, args):
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"):
        host = args[0][0] if event == "socket.getnameinfo" else args[0]
        reached.append([event, str(host)])
        if host is not None and (not numeric(host) or (event == "socket.gethostbyaddr"
                                                       and not ipaddress.ip_address(host).is_loopback)):
            raise RuntimeError(f"{event} {host} reached the resolver")
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg") and isinstance(args[1], tuple):
        if args[0].family in (socket.AF_INET, socket.AF_INET6) and not ipaddress.ip_address(args[1][0]).is_loopback:
            raise RuntimeError(f"{event} to {args[1][0]} was let through")
sys.addaudithook(audit)
'''

PROBES = '''
def attempt(call):
    try:
        call()
        return "answered"
    except BaseException as exc:
        return f"{type(exc).__name__}: {exc}"

refused = {
    "getaddrinfo": attempt(lambda: socket.getaddrinfo("example.com", 443)),
    "getaddrinfo bytes": attempt(lambda: socket.getaddrinfo(b"example.com", 443, socket.AF_INET)),
    "gethostbyname": attempt(lambda: socket.gethostbyname("example.com")),
    "gethostbyname_ex": attempt(lambda: socket.gethostbyname_ex("example.com")),
    "gethostbyaddr": attempt(lambda: socket.gethostbyaddr("192.0.2.1")),
    "getnameinfo": attempt(lambda: socket.getnameinfo(("192.0.2.1", 80), 0)),
    "create_connection": attempt(lambda: socket.create_connection(("example.com", 80), timeout=5)),
    "urlopen": attempt(lambda: urllib.request.urlopen("http://example.com/", timeout=5)),
    "sendto": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"?", ("192.0.2.1", 53))),
}
loopback_reached_before = len(reached)
answered = {
    "localhost": sorted({info[4][0] for info in socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)}),
    "localhost v4": [info[4][0] for info in socket.getaddrinfo("localhost", 80, socket.AF_INET, socket.SOCK_STREAM)],
    "bucket.s3.localhost.localstack.cloud": socket.gethostbyname("bucket.s3.localhost.localstack.cloud"),
    "127.0.0.7": socket.gethostbyname("127.0.0.7"),
    "bind 0.0.0.0": [info[4][0] for info in socket.getaddrinfo("0.0.0.0", 0, socket.AF_INET, socket.SOCK_STREAM)],
    "reverse 127.0.0.1": socket.gethostbyaddr("127.0.0.1")[0],
    "fqdn": socket.getfqdn("example.com"),
}
print(json.dumps({"refused": refused, "answered": answered, "reached": reached,
                  "reached_by_loopback": reached[loopback_reached_before:]}))
'''


def probe(setup: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    code = PROBE_PRELUDE + setup + PROBES
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60,
                            env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def assert_refused_without_the_resolver(found: dict[str, Any], refusal: str, connect_refusal: str) -> None:
    for name, outcome in found["refused"].items():
        expected = connect_refusal if name == "sendto" else refusal
        host = "192.0.2.1" if name in ("gethostbyaddr", "getnameinfo", "sendto") else "example.com"
        assert expected in outcome and host in outcome, (name, outcome)
    leaked = [entry for entry in found["reached"] if "example.com" in entry[1] or "192.0.2.1" in entry[1]]
    assert leaked == [], f"lookups that reached the resolver: {leaked}"


def assert_loopback_answered_without_the_resolver(found: dict[str, Any]) -> None:
    answered = found["answered"]
    assert "127.0.0.1" in answered["localhost"] and set(answered["localhost"]) <= {"127.0.0.1", "::1"}
    assert answered["localhost v4"] == ["127.0.0.1"]
    assert answered["bucket.s3.localhost.localstack.cloud"] == "127.0.0.1"
    assert answered["127.0.0.7"] == "127.0.0.7" and answered["bind 0.0.0.0"] == ["0.0.0.0"]
    assert answered["reverse 127.0.0.1"] == "localhost" and answered["fqdn"] == "example.com"
    # The resolver functions were called only to format IP literals.
    names = [host for _, host in found["reached_by_loopback"]
             if not host.replace(".", "").isdigit() and host not in ("::1", "None")]
    assert names == [], found["reached_by_loopback"]


def test_the_sandbox_guard_refuses_lookups_before_the_resolver_is_asked() -> None:
    found = probe("from lab.safety import install_network_guard\ninstall_network_guard()\n",
                  env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert_refused_without_the_resolver(found, "the lab refused to look up", "the lab refused a connection to")
    assert "only loopback names" in found["refused"]["getaddrinfo"]
    assert_loopback_answered_without_the_resolver(found)


def test_the_guard_of_processes_the_tests_start_refuses_and_records_lookups(tmp_path: Path) -> None:
    record = tmp_path / "violations.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(GUARD_DIR), str(ROOT)]),
           "LAB_TEST_NETWORK_VIOLATIONS": str(record)}
    found = probe("", env=env)
    assert_refused_without_the_resolver(found, "test guard: ", "test guard: connection to non-loopback")
    assert_loopback_answered_without_the_resolver(found)
    recorded = record.read_text()
    assert "lookup of non-loopback name 'example.com'" in recorded and "reverse lookup of non-loopback '192.0.2.1'" \
        in recorded and "connection to non-loopback 192.0.2.1:53" in recorded


def test_the_test_guard_backstop_refuses_a_lookup_that_bypasses_the_patched_functions(tmp_path: Path) -> None:
    record = tmp_path / "violations.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(GUARD_DIR), str(ROOT)]),
           "LAB_TEST_NETWORK_VIOLATIONS": str(record)}
    code = ("import _socket\n"
            "try:\n"
            "    _socket.getaddrinfo('example.com', 443)\n"
            "except OSError as exc:\n"
            "    print(type(exc).__name__, exc)\n")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60,
                            env=env)
    assert "gaierror" in result.stdout and "example.com" in result.stdout, (result.stdout, result.stderr)
    assert "socket.getaddrinfo of non-loopback 'example.com' reached the resolver" in record.read_text()


def test_a_lookup_from_the_test_process_fails_before_the_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    reached: list[tuple[Any, int]] = []
    real = _socket.getaddrinfo

    def resolver(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                 flags: int = 0) -> list[Any]:
        reached.append((host, flags))
        if not flags & socket.AI_NUMERICHOST:
            raise socket.gaierror(socket.EAI_NONAME, f"this test never resolves {host}")
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(_socket, "getaddrinfo", resolver)  # what socket.getaddrinfo calls
    with pytest.raises(pytest.fail.Exception, match=r"lookup of non-loopback name 'example\.com'"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(pytest.fail.Exception, match=r"example\.com"):
        socket.gethostbyname("example.com")
    assert reached == []
    assert {info[4][0] for info in socket.getaddrinfo("localhost", 80, socket.AF_INET)} == {"127.0.0.1"}
    assert reached and all(flags & socket.AI_NUMERICHOST and host == "127.0.0.1" for host, flags in reached)
