"""Data writes the engines make in bulk, behind one interface: moto's models directly for the embedded
backend (fast), the AWS APIs through the sandbox for any other backend (works everywhere)."""

from __future__ import annotations

from typing import Any, Protocol


class DataAccess(Protocol):
    def put_object(self, region: str, bucket: str, key: str, body: bytes, content_type: str | None = None,
                   storage_class: str | None = None) -> str | None:
        """Store an object; return its version id (None when the bucket is not versioned)."""

    def put_item(self, region: str, table: str, item: dict[str, Any]) -> None:
        """Store a DynamoDB item given in DynamoDB JSON."""


class ApiData:
    """The same operations as AWS API calls through the sandbox's own gateway (in-process)."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox

    def put_object(self, region: str, bucket: str, key: str, body: bytes, content_type: str | None = None,
                   storage_class: str | None = None) -> str | None:
        extra: dict[str, Any] = {}
        if content_type:
            extra["ContentType"] = content_type
        if storage_class:
            extra["StorageClass"] = storage_class
        answer = self.sandbox.client("s3", region).put_object(Bucket=bucket, Key=key, Body=body, **extra)
        version = answer.get("VersionId")
        return version if version and version != "null" else None

    def put_item(self, region: str, table: str, item: dict[str, Any]) -> None:
        self.sandbox.client("dynamodb", region).put_item(TableName=table, Item=item)


def data_access(sandbox: Any) -> DataAccess:
    return getattr(sandbox.backend, "data", None) or ApiData(sandbox)
