"""The error a service raises for a refused call; the gateway's codec writes it in the request's protocol."""

from __future__ import annotations


class AwsError(Exception):
    """An AWS error answer: `code` and `message` as AWS documents them for the operation.

    `status` is the HTTP status (4xx for the caller's mistakes; 5xx only for the service's own failures, which
    clients retry); `sender_fault` marks the caller's mistakes in protocols that carry the fault's side.
    """

    def __init__(self, code: str, message: str, status: int = 400, *, sender_fault: bool | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = status < 500 if sender_fault is None else sender_fault


class NotSimulatedError(AwsError):
    """A call, or a part of one, that the lab does not simulate: answered NotImplemented in the request's
    protocol (never retried by SDKs), `detail` saying what is missing."""

    def __init__(self, detail: str) -> None:
        super().__init__("NotImplemented", detail, 501, sender_fault=False)
        self.detail = detail
