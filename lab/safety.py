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
from urllib.parse import urlsplit

from lab import config
from lab.errors import RemoteEndpointRefused

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "localhost.localstack.cloud"}


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1, `localhost` and `*.localhost` (RFC 6761 keeps those on the machine).

    Names are not resolved: resolving would itself be a network lookup, and a name that points at a
    remote address today could point elsewhere tomorrow.
    """
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, allow_remote: bool = False) -> str:
    """Return `url` if it is on loopback (or the user explicitly allowed remote), else refuse it."""
    host = urlsplit(url).hostname or ""
    if not allow_remote and not is_loopback_host(host):
        raise RemoteEndpointRefused(url)
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


class NonLoopbackConnection(ConnectionRefusedError):
    pass


_guard_installed = False


def install_network_guard() -> None:
    """Refuse, in this process, every TCP/UDP connection to an address that is not loopback.

    Unix sockets (the Docker engine's) stay allowed. Installed by the sandbox unless the user passed
    --allow-remote, so that no code path in it -- ours or moto's -- can reach the Internet.
    """
    global _guard_installed
    if _guard_installed:
        return
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def refuse_remote(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            host = str(address[0])
            if not is_loopback_host(host):
                raise NonLoopbackConnection(
                    f"the lab refused a connection to {host}:{address[1]}: only loopback addresses are allowed"
                )

    def guarded_connect(sock: socket.socket, address: object) -> None:
        refuse_remote(sock, address)
        return original_connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: object) -> int:
        refuse_remote(sock, address)
        return original_connect_ex(sock, address)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    _guard_installed = True


# -- files written by someone else -----------------------------------------------------------------------

class RefusedFileError(ValueError):
    """A file the lab will not read; the message says why (what kind of file it is, or how large)."""


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
        raise RefusedFileError(f"larger than {describe_size(limit)} ({describe_size(before.st_size)})")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    with os.fdopen(os.open(path, flags), "rb") as stream:
        opened = os.fstat(stream.fileno())
        if not stat.S_ISREG(opened.st_mode):
            raise RefusedFileError(f"not a regular file ({file_kind(opened.st_mode)})")
        data = stream.read(limit + 1)  # the file may have grown since it was measured
    if len(data) > limit:
        raise RefusedFileError(f"larger than {describe_size(limit)}")
    return data
