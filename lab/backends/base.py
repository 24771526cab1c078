"""The narrow interface every backend offers the gateway."""

from __future__ import annotations

from typing import Protocol

from lab.kernel.context import RequestContext


class Backend(Protocol):
    #: shown in `lab status` and in error messages
    name: str
    #: True when the lab keeps this backend's state itself (snapshot + journal); False when it lives elsewhere
    #: (then only the lab's own state is snapshotted, and nothing is journaled: replaying calls against a
    #: backend that kept them would apply them twice)
    persistent: bool

    def start(self) -> None:
        """Get ready to serve (import, connect, or start a container); raise LabError saying what is missing."""

    def dispatch(self, ctx: RequestContext) -> None:
        """Answer `ctx` by setting `ctx.response`."""

    def health(self) -> dict[str, str]:
        """Service name -> "available" | "running" | "disabled", as LocalStack's health endpoint shows it."""

    def supported_services(self) -> set[str] | None:
        """botocore service names this backend implements; None when it cannot tell."""

    def reset(self) -> None:
        """Forget every resource."""

    def stop(self) -> None:
        """Release what start() took."""

    def reseed(self, seed: str | None) -> None:
        """Make the ids this thread draws next a function of `seed`; None when its call is over (no-op where
        ids come from elsewhere)."""

    def export_state(self) -> dict:
        """The backend's resources, for the lab's snapshot ({} where the backend keeps them itself)."""

    def import_state(self, state: dict) -> None:
        """Put back what export_state() returned."""

    def materialize_all(self) -> None:
        """Finish loading what import_state() left for later (a no-op where nothing is deferred)."""

    @property
    def pending(self) -> list[str]:
        """Services restored but not loaded yet."""
