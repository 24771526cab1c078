"""LocalStack, in Docker where it can run there, else in host mode (lab/backends/localstack_host.py).

The Docker path starts the service docker-compose.yml defines with the docker SDK. The free LocalStack image
needs LOCALSTACK_AUTH_TOKEN since March 2026; both the token and a running Docker engine are checked first.
Without either, `lab up --backend localstack` runs localstack-core on this machine instead (host mode).
LAB_LOCALSTACK_MODE=docker or =host chooses one way; the default, auto, takes Docker when it can run.
"""

from __future__ import annotations

import os
import time
from typing import Any

import urllib3

from lab.backends.remote import RemoteBackend
from lab.errors import LabError

IMAGE = os.environ.get("LAB_LOCALSTACK_IMAGE", "localstack/localstack:latest")
CONTAINER_NAME = "securecart-lab-localstack"
HOST_PORT = int(os.environ.get("LAB_LOCALSTACK_PORT", "4567"))
HEALTH_TIMEOUT_S = float(os.environ.get("LAB_LOCALSTACK_TIMEOUT", "90"))


MODES = ("auto", "docker", "host")


class LocalStackUnavailableError(LabError):
    pass


def choose_mode(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """("docker", "") when the Docker path is chosen and can run, else ("host", why not Docker).

    With LAB_LOCALSTACK_MODE=docker the Docker path is taken whatever is missing (starting it then says what).
    """
    environ = dict(os.environ) if environ is None else environ
    mode = environ.get("LAB_LOCALSTACK_MODE", "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise LabError(f"LAB_LOCALSTACK_MODE={mode!r} is none of {', '.join(MODES)}")
    if mode == "host":
        return "host", "LAB_LOCALSTACK_MODE=host"
    if mode == "docker":
        return "docker", ""
    if not environ.get("LOCALSTACK_AUTH_TOKEN"):
        return "host", "LOCALSTACK_AUTH_TOKEN is not set"
    try:
        check_prerequisites(environ)
    except LocalStackUnavailableError:
        return "host", "no Docker engine answers"
    return "docker", ""


def check_prerequisites(environ: dict[str, str] | None = None) -> Any:
    """Return a docker client, or raise naming what is missing: the token, the SDK, or the engine."""
    environ = dict(os.environ) if environ is None else environ
    if not environ.get("LOCALSTACK_AUTH_TOKEN"):
        raise LocalStackUnavailableError(
            "the localstack backend needs LOCALSTACK_AUTH_TOKEN: since March 2026 the LocalStack image starts only "
            "with an auth token (a free Hobby plan exists). Set it, or use the default backend: lab up"
        )
    try:
        import docker
        from docker.errors import DockerException
    except ImportError as exc:  # pragma: no cover -- docker is a dependency
        raise LocalStackUnavailableError("the localstack backend needs the 'docker' Python package") from exc
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except DockerException as exc:
        raise LocalStackUnavailableError(
            f"the localstack backend needs a running Docker engine, and none answers ({_short(exc)}). "
            "Start Docker, or use the default backend: lab up"
        ) from exc
    return client


class LocalStackBackend(RemoteBackend):
    """A RemoteBackend whose endpoint is a LocalStack container the lab starts and stops."""

    def __init__(self, allow_remote: bool = False) -> None:
        super().__init__(f"http://127.0.0.1:{HOST_PORT}", name="localstack")
        self._container: Any = None

    def start(self) -> None:
        client = check_prerequisites()
        from docker.errors import NotFound

        try:
            container = client.containers.get(CONTAINER_NAME)
            if container.status != "running":
                container.start()
        except NotFound:
            container = client.containers.run(
                IMAGE,
                name=CONTAINER_NAME,
                detach=True,
                # Published on loopback only: nothing outside this machine reaches it.
                ports={"4566/tcp": ("127.0.0.1", HOST_PORT)},
                environment={
                    "LOCALSTACK_AUTH_TOKEN": os.environ["LOCALSTACK_AUTH_TOKEN"],
                    "SERVICES": "s3,dynamodb,ec2,iam,sts,kms,route53,rds,backup,cloudtrail",
                },
                labels={"app": "securecart-lab"},
            )
        self._container = container
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        last = "no answer yet"
        while time.monotonic() < deadline:
            try:
                answer = self._pool.request("GET", self.url + "/_localstack/health", timeout=2)
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
            except urllib3.exceptions.HTTPError as exc:
                last = _short(exc)
            time.sleep(0.5)
        raise LocalStackUnavailableError(
            f"LocalStack did not become healthy at {self.url} within {HEALTH_TIMEOUT_S:.0f} s ({last}); "
            f"see: docker logs {CONTAINER_NAME}"
        )

    def stop(self) -> None:
        super().stop()
        if self._container is not None:
            self._container.stop(timeout=10)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
