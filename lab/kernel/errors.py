"""The error a service raises for a refused call; the gateway's codec writes it in the request's protocol."""

from __future__ import annotations

from collections.abc import Iterable


class AwsError(Exception):
    """An AWS error answer: `code` and `message` as AWS documents them for the operation.

    `status` is the HTTP status (4xx for the caller's mistakes; 5xx only for the service's own failures, which
    clients retry); `sender_fault` marks the caller's mistakes in protocols that carry the fault's side;
    `fields` are the error shape's other members (EBS direct APIs' `Reason`), written where the protocol carries
    them (JSON bodies); `headers` are response headers the error answer carries besides the protocol's own (S3's
    x-amz-delete-marker on a 404 for a key whose current version is a delete marker).
    """

    def __init__(self, code: str, message: str, status: int = 400, *, sender_fault: bool | None = None,
                 fields: dict[str, str] | None = None, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = status < 500 if sender_fault is None else sender_fault
        self.fields = dict(fields or {})
        self.headers = tuple(headers)


class NotSimulatedError(AwsError):
    """A call, or a part of one, that the lab does not simulate: answered NotImplemented in the request's
    protocol (never retried by SDKs), `detail` saying what is missing."""

    def __init__(self, detail: str) -> None:
        super().__init__("NotImplemented", detail, 501, sender_fault=False)
        self.detail = detail
