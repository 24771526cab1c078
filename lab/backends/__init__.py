"""Backends: where AWS calls the lab does not answer itself end up. One small interface, three kinds."""

from __future__ import annotations

from pathlib import Path

from lab.backends.base import Backend


def create_backend(spec: str, *, allow_remote: bool = False, state_dir: Path | None = None,
                   public_port: int | None = None) -> Backend:
    """`embedded` (moto in this process), `localstack` (Docker container, or host mode without Docker), or an
    endpoint URL. `state_dir` holds a host-mode LocalStack's files and log; `public_port` is the sandbox's."""
    if spec == "embedded":
        from lab.backends.embedded import EmbeddedBackend

        return EmbeddedBackend()
    if spec == "localstack":
        from lab.backends.localstack import LocalStackBackend, choose_mode

        mode, why_not_docker = choose_mode()
        if mode == "docker":
            return LocalStackBackend(allow_remote=allow_remote)
        from lab import config
        from lab.backends.localstack_host import LocalStackHostBackend

        backend = LocalStackHostBackend(state_dir or config.default_state_dir(), public_port=public_port)
        backend.why_not_docker = why_not_docker
        return backend
    from lab.backends.remote import RemoteBackend

    return RemoteBackend(spec, allow_remote=allow_remote)
