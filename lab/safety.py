"""The lab never reaches real AWS: loopback checks, dummy credentials, and a connect guard.

The sandbox process and every client the lab builds go through here, so one module holds the rule.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any
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


def isolate_from_user_aws_files(environ: "os._Environ[str] | dict[str, str]" = os.environ) -> None:
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


def answer_name_lookups_locally() -> None:
    """Make name lookups in this process need no network: loopback names (`localhost.localstack.cloud`,
    `*.localhost`) resolve to 127.0.0.1 without asking DNS, addresses and `localhost` resolve as usual, and
    every other name is refused at once.

    For programs the lab runs beside the sandbox that look names up on their own (LocalStack in host mode
    tries to download optional packages): with the connect guard, they cannot reach, or even ask a DNS
    server about, anything off this machine, and fail at once instead of waiting for a time-out.
    """
    original_getaddrinfo: Any = socket.getaddrinfo

    def local_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if not isinstance(name, str) or name == "localhost" or _is_address(name):
            return original_getaddrinfo(host, port, *args, **kwargs)
        if is_loopback_host(name):
            return original_getaddrinfo("127.0.0.1", port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"the lab refused to look up {name}: only loopback names are "
                                                 "resolved here, nothing off this machine is reached")

    def local_gethostbyname(name: str) -> str:
        return str(local_getaddrinfo(name, None, socket.AF_INET)[0][4][0])

    socket.getaddrinfo = local_getaddrinfo
    socket.gethostbyname = local_gethostbyname


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True
