"""The tests' own network guard: no connection, datagram or name lookup leaves loopback.

Standard library only and independent of the lab's guard (lab/safety.py), so that it still catches what a
broken lab guard lets through. Used by sitecustomize.py in every Python process the tests start, and by
tests/conftest.py in the test process itself.

- Connections and datagrams (connect, connect_ex, sendto, sendmsg) to an address that is not loopback are
  refused.
- Name lookups (getaddrinfo, gethostbyname[_ex], gethostbyaddr, getnameinfo) answer loopback names
  (localhost, *.localhost, localhost.localstack.cloud and its subdomains) and IP literals themselves, with
  the resolver asked only to format a numeric address; any other name is refused before a resolver sees it.
- A Python audit hook is the backstop (`install_audit_backstop`): CPython raises an audit event inside
  every lookup function before it asks the resolver, so a lookup that bypasses the patched functions (a
  reference taken before they were patched, a C caller of the socket module) is refused there too.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Callable
from typing import Any, NoReturn

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "localhost.localstack.cloud"}
LOOPBACK_SUFFIXES = (".localhost", ".localhost.localstack.cloud")
LOOKUP_FUNCTIONS = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getnameinfo")
LOOKUP_AUDIT_EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}

# Called with the kind of violation ("connect" or "lookup") and what happened; it raises.
Violation = Callable[[str, str], NoReturn]


def ip_literal(host: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def is_loopback_name(host: object) -> bool:
    text = (host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)).lower().rstrip(".")
    return text in LOOPBACK_NAMES or text.endswith(LOOPBACK_SUFFIXES)


def is_loopback(host: object) -> bool:
    """An IP literal on loopback, or a loopback name."""
    literal = ip_literal(host)
    return literal.is_loopback if literal is not None else is_loopback_name(host)


def _host_text(host: object) -> str:
    return host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)


def guarded_socket_methods(violation: Violation) -> dict[str, Callable[..., Any]]:
    """Replacements for socket.socket's connect, connect_ex, sendto and sendmsg."""
    originals = {name: getattr(socket.socket, name, None) for name in ("connect", "connect_ex", "sendto", "sendmsg")}

    def check(sock: socket.socket, address: object) -> None:
        if (sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
                and not is_loopback(address[0])):
            violation("connect", f"connection to non-loopback {address[0]}:{address[1]}")

    def connect(sock: socket.socket, address: object) -> None:
        check(sock, address)
        return originals["connect"](sock, address)

    def connect_ex(sock: socket.socket, address: object) -> int:
        check(sock, address)
        return originals["connect_ex"](sock, address)

    def sendto(sock: socket.socket, data: bytes, *rest: Any) -> int:
        check(sock, rest[-1] if rest else None)
        return originals["sendto"](sock, data, *rest)

    def sendmsg(sock: socket.socket, buffers: Any, *rest: Any) -> int:
        check(sock, rest[2] if len(rest) > 2 else None)
        return originals["sendmsg"](sock, buffers, *rest)

    guarded = {"connect": connect, "connect_ex": connect_ex, "sendto": sendto, "sendmsg": sendmsg}
    return {name: method for name, method in guarded.items() if originals[name] is not None}  # sendmsg: POSIX only


def guarded_lookups(violation: Violation) -> dict[str, Callable[..., Any]]:
    """Replacements for the socket module's lookup functions (see the module's docstring)."""
    original = {name: getattr(socket, name) for name in LOOKUP_FUNCTIONS}

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                    flags: int = 0) -> list[Any]:
        if host is None:  # the wildcard or loopback address, by AI_PASSIVE: nothing to look up
            return original["getaddrinfo"](host, port, family, type, proto, flags)
        if ip_literal(host) is not None:
            return original["getaddrinfo"](host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        if not is_loopback_name(host):
            violation("lookup", f"lookup of non-loopback name {_host_text(host)!r}")
        answers: list[Any] = []
        for number, number_family in (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)):
            if family in (socket.AF_UNSPEC, number_family) and (number_family == socket.AF_INET or socket.has_ipv6):
                try:
                    answers += original["getaddrinfo"](number, port, number_family, type, proto,
                                                       flags | socket.AI_NUMERICHOST)
                except socket.gaierror:
                    if family != socket.AF_UNSPEC or number_family == socket.AF_INET:
                        raise
        return answers

    def gethostbyname(host: Any) -> str:
        if ip_literal(host) is not None:
            return original["gethostbyname"](host)
        if not is_loopback_name(host):
            violation("lookup", f"lookup of non-loopback name {_host_text(host)!r}")
        return "127.0.0.1"

    def gethostbyname_ex(host: Any) -> tuple[str, list[str], list[str]]:
        if ip_literal(host) is not None:
            return original["gethostbyname_ex"](host)
        if not is_loopback_name(host):
            violation("lookup", f"lookup of non-loopback name {_host_text(host)!r}")
        return _host_text(host), [], ["127.0.0.1"]

    def gethostbyaddr(address: Any) -> tuple[str, list[str], list[str]]:
        if not is_loopback(address):
            violation("lookup", f"reverse lookup of non-loopback {_host_text(address)!r}")
        return "localhost", [], ["127.0.0.1" if ip_literal(address) is None else _host_text(address)]

    def getnameinfo(sockaddr: Any, flags: int) -> tuple[str, str]:
        host = sockaddr[0] if isinstance(sockaddr, tuple) and sockaddr else ""
        if ip_literal(host) is not None and flags & socket.NI_NUMERICHOST:
            return original["getnameinfo"](sockaddr, flags)
        if not is_loopback(host):
            violation("lookup", f"reverse lookup of non-loopback {_host_text(host)!r}")
        return "localhost", original["getnameinfo"](sockaddr, flags | socket.NI_NUMERICHOST)[1]

    return {"getaddrinfo": getaddrinfo, "gethostbyname": gethostbyname, "gethostbyname_ex": gethostbyname_ex,
            "gethostbyaddr": gethostbyaddr, "getnameinfo": getnameinfo}


def install(violation: Violation) -> None:
    """Patch the socket module and socket.socket for the rest of this process."""
    for name, function in guarded_socket_methods(violation).items():
        setattr(socket.socket, name, function)
    for name, function in guarded_lookups(violation).items():
        setattr(socket, name, function)


def install_audit_backstop(violation: Violation) -> None:
    """Refuse, in an audit hook, any lookup of a name that is not loopback that reaches CPython's resolver
    functions (an audit hook stays for the life of the process)."""

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in LOOKUP_AUDIT_EVENTS or not args:
            return
        target = args[0][0] if event == "socket.getnameinfo" and isinstance(args[0], tuple) else args[0]
        if target is None:
            return
        literal = ip_literal(target)
        # An IP literal is formatted, not looked up -- except by gethostbyaddr, which asks the reverse DNS.
        if (literal is None and not is_loopback_name(target)) or (
                event == "socket.gethostbyaddr" and literal is not None and not literal.is_loopback):
            violation("lookup", f"{event} of non-loopback {_host_text(target)!r} reached the resolver")

    sys.addaudithook(hook)
