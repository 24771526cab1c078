"""The AWS Backup API, answered by the lab (it owns the whole service).

The operations are the backup engine's `op_<Operation>(region, params) -> output` methods (configuration in
config_api.py, jobs and recovery points in jobs.py), which act on the engine's state; this class offers them
to the sandbox. Operations without such a method answer NotImplemented naming the operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lab.kernel.api import Call, Operation, ServiceApi
from lab.services.backup import access
from lab.services.backup.engine import Backup

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox


class BackupApi(ServiceApi):
    service = "backup"
    owns_service = True
    implemented_by = "the lab's AWS Backup"
    service_principal = Backup.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(Backup)
        assert engine is not None, "the AWS Backup API needs the backup engine"
        self.engine = engine

    def operations(self) -> dict[str, Operation]:
        return {name[3:]: _with_region_and_params(getattr(self.engine, name))
                for name in dir(type(self.engine)) if name.startswith("op_")}


def _with_region_and_params(handler: Callable[[str, dict[str, Any]], dict[str, Any] | None]) -> Operation:
    def operation(call: Call) -> dict[str, Any]:
        token = access.CURRENT_CALL.set(call)  # who asks: for the vault access policies (access.py)
        try:
            return handler(call.region, call.params) or {}
        finally:
            access.CURRENT_CALL.reset(token)

    operation.__name__ = getattr(handler, "__name__", "operation")
    return operation
