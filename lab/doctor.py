"""`lab doctor`: which labs the chosen backend can run, found by asking each service one cheap question."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lab.backends.support import (
    LAB_ENGINE_SERVICES,
    LAB_SERVICES,
    LOCALSTACK_FREE_MISSING,
    PROBES,
    services_needed,
    unsupported_error,
)

# Besides what unsupported_error() recognises: how emulators answer for a service they do not offer at all.
_UNSUPPORTED_CODES = {"InternalFailure", "UnrecognizedClientException"}


def probe_services(client_for: Callable[[str], Any],
                   backend_client_for: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Ask each service the labs need one cheap question through `client_for` (the sandbox: its engines,
    then the backend). With `backend_client_for` (a remote backend's own endpoint), ask the backend alone too:
    a service the lab's engines serve where the backend lacks it is reported as such."""
    services: dict[str, dict[str, Any]] = {}
    for service in services_needed():
        found = _probe(client_for, service)
        if backend_client_for is not None:
            alone = _probe(backend_client_for, service)
            found["backend"] = alone
            if found["status"] == "supported" and alone["status"] != "supported":
                found["detail"] = (f"{found['detail']} by the lab's own {service} engine; the backend alone: "
                                   f"{alone['detail']}")[:400]
        services[service] = found
    return {"services": services, "labs": labs_from(services)}


def _probe(client_for: Callable[[str], Any], service: str) -> dict[str, Any]:
    probe = PROBES[service]
    try:
        getattr(client_for(service), probe.operation)()
        return {"status": "supported", "detail": f"{probe.operation} answered"}
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if unsupported_error(exc) or code in _UNSUPPORTED_CODES:
            return {"status": "unsupported", "detail": f"{code}: {error.get('Message', '')}"[:300]}
        # the service exists and refused the question: that still means it is there
        return {"status": "supported", "detail": f"{probe.operation} answered {code}"}
    except BotoCoreError as exc:
        return {"status": "unsupported", "detail": str(exc)[:300]}


def labs_from(services: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    labs = {}
    for lab_id, needed in LAB_SERVICES.items():
        missing = [s for s in needed if services.get(s, {}).get("status") != "supported"]
        labs[lab_id] = {"runnable": not missing, "needs": list(needed), "missing": missing}
    return labs


def static_report(backend: str) -> dict[str, Any]:
    """What is known without a running sandbox."""
    if backend == "localstack":
        services = {s: _localstack_service(s) for s in services_needed()}
    elif backend == "embedded":
        services = {s: {"status": "supported", "detail": "embedded moto (and the lab's engines)"}
                    for s in services_needed()}
    else:
        services = {s: {"status": "unknown", "detail": "start the sandbox for a live probe"} for s in services_needed()}
    return {"services": services, "labs": labs_from(services)}


def _localstack_service(service: str) -> dict[str, str]:
    if service in LOCALSTACK_FREE_MISSING and service in LAB_ENGINE_SERVICES:
        return {"status": "supported", "detail": "LocalStack's free plan answers 501 for this; the lab's own "
                                                 f"{service} engine serves it"}
    if service in LOCALSTACK_FREE_MISSING:
        return {"status": "unsupported", "detail": "LocalStack's free plan answers 501 for this"}
    return {"status": "supported", "detail": "in LocalStack's free plan"}


def localstack_prerequisites() -> str:
    """How `lab up --backend localstack` would run here: in Docker, or in host mode (installed or not)."""
    from lab.backends.localstack import choose_mode

    mode, why_not_docker = choose_mode()
    if mode == "docker":
        return "Docker engine and LOCALSTACK_AUTH_TOKEN present: LocalStack runs in Docker"
    from lab.backends import localstack_host

    found = localstack_host.installed()
    if found is not None:
        dynamodb = "DynamoDB ready" if found.dynamodb_ready else f"DynamoDB unavailable: {found.dynamodb}"
        return (f"host mode, without Docker ({why_not_docker}): installed in {found.venv} "
                f"(Python {found.python}; {dynamodb})")
    python, problem = localstack_host.find_python()
    if python is None:
        return f"host mode, without Docker ({why_not_docker}), cannot run here: {problem}"
    return (f"host mode, without Docker ({why_not_docker}): not installed yet; lab up --backend localstack "
            f"installs it into {localstack_host.venv_dir()} with {python}")
