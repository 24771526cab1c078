"""The lab never reaches real AWS, and never trusts a file it is handed.

- Loopback checks, dummy credentials, and a network guard (connections and name lookups) for the sandbox
  process and every client the lab builds, so one module holds the rule.
- `read_regular_file`: files written by someone else (exercise files, a class's exports) are read only when
  they are regular files, and only up to a limit.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lab import config
from lab.errors import RemoteEndpointRefusedError

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "localhost.localstack.cloud"}
# *.localhost (RFC 6761), and the names LocalStack's clients use for the sandbox (S3's virtual hosts among
# them), which its public DNS answers with 127.0.0.1.
_LOOPBACK_SUFFIXES = (".localhost", ".localhost.localstack.cloud")
LOOPBACK_V4 = "127.0.0.1"
LOOPBACK_V6 = "::1"


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1, `localhost` and `*.localhost` (RFC 6761 keeps those on the machine), and
    `localhost.localstack.cloud` with its subdomains.

    Names are not resolved: resolving would itself be a network lookup, and a name that points at a
    remote address today could point elsewhere tomorrow.
    """
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(_LOOPBACK_SUFFIXES):
        return True
    address = ip_literal(host)
    return address is not None and address.is_loopback


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `host` spells (an IPv6 scope such as %eth0 aside), or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def check_endpoint(url: str, allow_remote: bool = False) -> str:
    """Return `url` if it is on loopback (or the user explicitly allowed remote), else refuse it."""
    host = urlsplit(url).hostname or ""
    if not allow_remote and not is_loopback_host(host):
        raise RemoteEndpointRefusedError(url)
    return url


def dummy_aws_environment(endpoint: str, region: str = config.PRIMARY_REGION) -> dict[str, str]:
    """The variables that point AWS tools at the sandbox with credentials that are worthless on real AWS."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": config.DUMMY_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": config.DUMMY_SECRET_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


def isolate_from_user_aws_files(environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Make botocore in this process read no credential or config file and no profile of the user's."""
    environ["AWS_CONFIG_FILE"] = os.devnull
    environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    environ.pop("AWS_PROFILE", None)
    environ.pop("AWS_DEFAULT_PROFILE", None)
    environ.pop("AWS_SESSION_TOKEN", None)
    environ["AWS_EC2_METADATA_DISABLED"] = "true"


class NonLoopbackConnectionError(ConnectionRefusedError):
    pass


class NonLoopbackLookupError(socket.gaierror):
    """A name lookup the network guard refused: the name is not a loopback name."""

    def __init__(self, host: str) -> None:
        super().__init__(socket.EAI_NONAME, f"the lab refused to look up {host!r}: only loopback names "
                                            "(localhost, 127.0.0.0/8, ::1) are resolved here, and nothing "
                                            "leaves this machine")
        self.host = host




def _host_text(host: object) -> str:
    return host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)


def _loopback_address(sock: socket.socket, address: object, *, bind: bool = False) -> object:
    """`address` with a loopback name replaced by its number (so that socket's own C code, which resolves
    a name given to connect, bind or sendto, never asks a resolver); NonLoopbackConnectionError for an address
    off loopback, NonLoopbackLookupError for a name off loopback. `bind` allows any IP literal (a server
    may listen on all interfaces)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple) or not address:
        return address
    host = _host_text(address[0])
    literal = ip_literal(host) if host else None
    if literal is not None or not host:  # "" is INADDR_ANY
        if not bind and (literal is None or not literal.is_loopback):
            raise NonLoopbackConnectionError(
                f"the lab refused a connection to {host}:{address[1]}: only loopback addresses are allowed")
        return address
    if not is_loopback_host(host):
        raise NonLoopbackLookupError(host)
    return (LOOPBACK_V6 if sock.family == socket.AF_INET6 else LOOPBACK_V4, *address[1:])


def _guard_socket_methods() -> None:
    """connect, connect_ex, sendto, sendmsg and bind of socket.socket, guarded."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto
    original_sendmsg = getattr(socket.socket, "sendmsg", None)  # POSIX only
    original_bind = socket.socket.bind

    def guarded_connect(sock: socket.socket, address: object) -> None:
        return original_connect(sock, _loopback_address(sock, address))

    def guarded_connect_ex(sock: socket.socket, address: object) -> int:
        return original_connect_ex(sock, _loopback_address(sock, address))

    def guarded_sendto(sock: socket.socket, data: Any, *rest: Any) -> int:
        # sendto(data, address) or sendto(data, flags, address): a datagram (a DNS query among them)
        if rest:
            rest = (*rest[:-1], _loopback_address(sock, rest[-1]))
        return original_sendto(sock, data, *rest)

    def guarded_sendmsg(sock: socket.socket, buffers: Any, *rest: Any) -> int:
        # sendmsg(buffers[, ancdata[, flags[, address]]])
        if len(rest) > 2:
            rest = (*rest[:2], _loopback_address(sock, rest[2]), *rest[3:])
        assert original_sendmsg is not None
        return original_sendmsg(sock, buffers, *rest)

    def guarded_bind(sock: socket.socket, address: object) -> None:
        return original_bind(sock, _loopback_address(sock, address, bind=True))

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = guarded_sendto  # type: ignore[method-assign]
    if original_sendmsg is not None:
        socket.socket.sendmsg = guarded_sendmsg  # type: ignore[method-assign]
    socket.socket.bind = guarded_bind  # type: ignore[method-assign]


def _guard_lookups() -> None:
    """The socket module's lookup functions answer loopback names themselves and refuse every other name.

    An IP literal is passed on with AI_NUMERICHOST (the resolver then only parses the number); a loopback
    name is answered with 127.0.0.1 (and ::1 where IPv6 is asked for) the same way; any other name raises
    NonLoopbackLookupError before a resolver is asked -- a DNS query would itself leave the machine.
    """
    original_getaddrinfo = socket.getaddrinfo
    original_gethostbyname = socket.gethostbyname
    original_gethostbyname_ex = socket.gethostbyname_ex
    original_getnameinfo = socket.getnameinfo

    def loopback_name(host: object) -> str:
        name = _host_text(host)
        if not is_loopback_host(name):
            raise NonLoopbackLookupError(name)
        return name

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                    flags: int = 0) -> list[Any]:
        if host is None:  # the wildcard or loopback address (AI_PASSIVE): nothing to look up
            return original_getaddrinfo(host, port, family, type, proto, flags)
        if ip_literal(_host_text(host)) is not None:
            return original_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        loopback_name(host)
        answers: list[Any] = []
        for number, number_family in ((LOOPBACK_V4, socket.AF_INET), (LOOPBACK_V6, socket.AF_INET6)):
            if family not in (socket.AF_UNSPEC, number_family):
                continue
            if number_family == socket.AF_INET6 and family == socket.AF_UNSPEC and not socket.has_ipv6:
                continue
            try:
                answers += original_getaddrinfo(number, port, number_family, type, proto, flags | socket.AI_NUMERICHOST)
            except socket.gaierror:
                if family != socket.AF_UNSPEC or number_family == socket.AF_INET:
                    raise
        return answers

    def gethostbyname(host: Any) -> str:
        if ip_literal(_host_text(host)) is not None:
            return original_gethostbyname(host)
        loopback_name(host)
        return LOOPBACK_V4

    def gethostbyname_ex(host: Any) -> tuple[str, list[str], list[str]]:
        if ip_literal(_host_text(host)) is not None:
            return original_gethostbyname_ex(host)
        return loopback_name(host), [], [LOOPBACK_V4]

    def gethostbyaddr(address: Any) -> tuple[str, list[str], list[str]]:
        literal = ip_literal(_host_text(address))
        if literal is None:
            loopback_name(address)
            return "localhost", [], [LOOPBACK_V4]
        if not literal.is_loopback:  # a reverse lookup asks the DNS too
            raise NonLoopbackLookupError(str(literal))
        return "localhost", [], [str(literal)]

    def getnameinfo(sockaddr: Any, flags: int) -> tuple[str, str]:
        host = _host_text(sockaddr[0]) if isinstance(sockaddr, tuple) and sockaddr else ""
        literal = ip_literal(host)
        if literal is not None and flags & socket.NI_NUMERICHOST:
            return original_getnameinfo(sockaddr, flags)
        if literal is None or not literal.is_loopback:
            raise NonLoopbackLookupError(host)
        return "localhost", original_getnameinfo(sockaddr, flags | socket.NI_NUMERICHOST)[1]

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    socket.gethostbyaddr = gethostbyaddr
    socket.getnameinfo = getnameinfo


def install_network_guard() -> None:
    """Refuse, in this process, every connection and datagram to an address that is not loopback, and every
    lookup of a name that is not a loopback name (before any resolver is asked).

    Unix sockets (the Docker engine's) stay allowed. Installed by the sandbox unless the user passed
    --allow-remote, so that no code path in it -- ours or moto's -- can reach the Internet, not even with
    a DNS query. Code that calls the C resolver itself (not through Python's socket module) is not covered.
    """
    if getattr(socket.socket.connect, "lab_network_guard", False):
        return  # installed once per process
    _guard_socket_methods()
    _guard_lookups()
    socket.socket.connect.lab_network_guard = True  # type: ignore[attr-defined]


# -- files written by someone else -----------------------------------------------------------------------

class RefusedFileError(ValueError):
    """A file the lab will not read; the message says why. `too_large`: refused for its size (not its kind)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str:
    """What a stat mode is, in words: "a FIFO", "a character device", ..."""
    return next((name for test, name in _FILE_KINDS if test(mode)), "not a plain file")


def describe_size(size: int) -> str:
    """A byte count for people: 512 bytes, 12 KiB, 1.5 MiB, 2 GiB."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size} bytes"


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """The bytes of the regular file at `path` (a symlink is followed to what it names).

    RefusedFileError for anything else -- a FIFO would block the reader until some writer came, a device such as
    /dev/zero never ends, a directory holds no text -- and for a file larger than `limit` bytes, which is
    neither opened nor read. The file is opened without blocking and checked again once open, so that a
    path swapped for a FIFO between the check and the open cannot hang the reader either. OSError (e.g. no
    such file, permission denied) is passed on for the caller to word.
    """
    before = os.stat(path)
    if not stat.S_ISREG(before.st_mode):
        raise RefusedFileError(f"not a regular file ({file_kind(before.st_mode)})")
    if before.st_size > limit:
        raise RefusedFileError(f"larger than {describe_size(limit)} ({describe_size(before.st_size)})", too_large=True)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    with os.fdopen(os.open(path, flags), "rb") as stream:
        opened = os.fstat(stream.fileno())
        if not stat.S_ISREG(opened.st_mode):
            raise RefusedFileError(f"not a regular file ({file_kind(opened.st_mode)})")
        data = stream.read(limit + 1)  # the file may have grown since it was measured
    if len(data) > limit:
        raise RefusedFileError(f"larger than {describe_size(limit)}", too_large=True)
    return data
