"""Backends: where AWS calls the lab does not answer itself end up. One small interface, three kinds."""

from __future__ import annotations

from lab.backends.base import Backend


def create_backend(spec: str, *, allow_remote: bool = False) -> Backend:
    """`embedded` (moto in this process), `localstack` (Docker container), or an endpoint URL."""
    if spec == "embedded":
        from lab.backends.embedded import EmbeddedBackend

        return EmbeddedBackend()
    if spec == "localstack":
        from lab.backends.localstack import LocalStackBackend

        return LocalStackBackend(allow_remote=allow_remote)
    from lab.backends.remote import RemoteBackend

    return RemoteBackend(spec, allow_remote=allow_remote)
