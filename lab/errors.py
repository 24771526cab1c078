"""Errors the lab reports to a person: each says where and what."""


class LabError(Exception):
    """A failure the user can act on; the CLI prints its message and exits non-zero."""

    exit_code = 2


class PortBusyError(LabError):
    def __init__(self, host: str, port: int, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"port {port} on {host} is already in use by another program{extra}; "
            f"stop it or start the lab on another port: lab up --port {port + 1}"
        )
        self.port = port


class RemoteEndpointRefusedError(LabError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"refusing endpoint {url}: it is not on this machine's loopback interface, and the lab never talks to "
            "anything but a local sandbox. If you really mean a remote AWS-compatible emulator, pass --allow-remote."
        )


class SandboxNotRunningError(LabError):
    def __init__(self, url: str) -> None:
        super().__init__(f"no sandbox answers at {url}; start it with: lab up")
