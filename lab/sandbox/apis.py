"""The lab's service APIs of one sandbox: which operation answers a (service, operation), which services the lab
owns outright. Built at assembly from the explicit list in lab/sandbox/assembly.py; `unknown_operations` checks
their operations against botocore's models (in the test suite)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.gateway.codec.model import try_operation_model
from lab.kernel.api import Operation, ServiceApi

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox


def unknown_operations(classes: Sequence[type[ServiceApi]]) -> list[str]:
    """Every `op_<Name>` of `classes` that botocore's model of its service lacks (a typo, an operation AWS
    renamed), in words. The test suite asks this of the assembly's APIs; a sandbox does not, since it would load
    a dozen service models on its way to ready."""
    return [f"{cls.__name__}.op_{name}: {cls.service} has no operation {name}"
            for cls in classes for name in sorted(n[3:] for n in dir(cls) if n.startswith("op_"))
            if try_operation_model(cls.service, name) is None]


@dataclass(frozen=True, slots=True)
class Route:
    api: ServiceApi
    operation: Operation | None  # None: an operation of a service the lab owns that it does not simulate


class ServiceApis:
    def __init__(self, sandbox: Sandbox, classes: Sequence[type[ServiceApi]]) -> None:
        self.apis = [cls(sandbox) for cls in classes]
        self._routes: dict[tuple[str, str], Route] = {}
        self._services: dict[str, list[ServiceApi]] = {}
        self._owners: dict[str, ServiceApi] = {}
        for api in self.apis:
            if not api.service:
                raise ValueError(f"{type(api).__name__} names no service")
            self._services.setdefault(api.service, []).append(api)
            if api.owns_service:
                if api.service in self._owners:
                    raise ValueError(f"two APIs own {api.service}: {type(self._owners[api.service]).__name__} "
                                     f"and {type(api).__name__}")
                self._owners[api.service] = api
            for name, operation in api.operations().items():
                key = (api.service, name)
                if key in self._routes:
                    raise ValueError(f"two APIs answer {api.service} {name}: "
                                     f"{type(self._routes[key].api).__name__} and {type(api).__name__}")
                self._routes[key] = Route(api, operation)

    def route(self, service: str | None, operation: str | None) -> Route | None:
        """Who answers the call: an API's operation, an owning API without one (NotImplemented), or None (the
        backend)."""
        if not service:
            return None
        found = self._routes.get((service, operation or ""))
        if found is not None:
            return found
        owner = self._owners.get(service)
        return Route(owner, None) if owner is not None else None

    def of_service(self, service: str | None) -> list[ServiceApi]:
        """The APIs of a service (their `check` sees every call of it)."""
        return self._services.get(service or "", [])
