"""botocore's service and operation models, loaded once per process and shared by the whole codec."""

from __future__ import annotations

from functools import lru_cache

import botocore.model
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationNotFoundError

from lab.gateway.codec.identify import service_model

__all__ = ["operation_model", "service_model", "try_operation_model"]


def operation_model(service: str, operation: str) -> botocore.model.OperationModel:
    """botocore's model of one operation (raises UnknownServiceError / OperationNotFoundError)."""
    return _operation_model(service, operation)


@lru_cache(maxsize=4096)
def _operation_model(service: str, operation: str) -> botocore.model.OperationModel:
    return service_model(service).operation_model(operation)


def try_operation_model(service: str | None, operation: str | None) -> botocore.model.OperationModel | None:
    """The operation's model, or None when botocore knows no such service or operation."""
    if not service or not operation:
        return None
    try:
        return operation_model(service, operation)
    except (UnknownServiceError, OperationNotFoundError):
        return None
