"""`lab doctor`: which labs the chosen backend can run, found by asking each service one cheap question."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lab.backends.support import LAB_SERVICES, LOCALSTACK_FREE_MISSING, PROBES, services_needed

_UNSUPPORTED_CODES = {"NotImplemented", "UnknownOperationException", "InternalFailure",
                      "InvalidAction", "UnrecognizedClientException"}


def probe_services(client_for: Callable[[str], Any]) -> dict[str, Any]:
    services: dict[str, dict[str, str]] = {}
    for service in services_needed():
        probe = PROBES[service]
        try:
            getattr(client_for(service), probe.operation)()
            services[service] = {"status": "supported", "detail": f"{probe.operation} answered"}
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in _UNSUPPORTED_CODES or status == 501:
                services[service] = {"status": "unsupported", "detail": f"{code}: {error.get('Message', '')}"[:300]}
            else:  # the service exists and refused the question: that still means it is there
                services[service] = {"status": "supported", "detail": f"{probe.operation} answered {code}"}
        except BotoCoreError as exc:
            services[service] = {"status": "unsupported", "detail": str(exc)[:300]}
    return {"services": services, "labs": labs_from(services)}


def labs_from(services: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    labs = {}
    for lab_id, needed in LAB_SERVICES.items():
        missing = [s for s in needed if services.get(s, {}).get("status") != "supported"]
        labs[lab_id] = {"runnable": not missing, "needs": list(needed), "missing": missing}
    return labs


def static_report(backend: str) -> dict[str, Any]:
    """What is known without a running sandbox."""
    if backend == "localstack":
        services = {s: {"status": "unsupported" if s in LOCALSTACK_FREE_MISSING else "supported",
                        "detail": "LocalStack's free plan answers 501 for this" if s in LOCALSTACK_FREE_MISSING
                        else "in LocalStack's free plan"} for s in services_needed()}
    elif backend == "embedded":
        services = {s: {"status": "supported", "detail": "embedded moto (and the lab's engines)"}
                    for s in services_needed()}
    else:
        services = {s: {"status": "unknown", "detail": "start the sandbox for a live probe"} for s in services_needed()}
    return {"services": services, "labs": labs_from(services)}
