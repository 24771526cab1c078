"""DynamoDB exports to S3 (ExportTableToPointInTime): what an export is, and the objects it writes.

A full export writes the table's items as of ExportTime, read from the point-in-time recovery journal, to
`<prefix>/AWSDynamoDB/<ExportId>/` in the bucket: an empty `_started` as it begins, then `data/<file>.json.gz`
(one item a line, `{"Item": {...}}` in DynamoDB JSON), `manifest-files.json` (one line per data file) and
`manifest-summary.json`, each manifest with its `.checksum` (DynamoDB Developer Guide: DynamoDB table export
output format). The export is IN_PROGRESS until `dynamodb.export.*` of the table's size has passed, then
COMPLETED, or FAILED when the bucket cannot be written.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from lab.services.dynamodb.journal import ItemRef
from lab.sim.clock import iso

MANIFEST_VERSION = "2020-06-30"
FORMATS = ("DYNAMODB_JSON", "ION")
SSE_ALGORITHMS = ("AES256", "KMS")
#: a request with the same ClientToken within this window is the same export (API Reference: ClientToken)
IDEMPOTENCY_SECONDS = 8 * 3600.0


@dataclass
class ExportRecord:
    arn: str
    export_id: str  # the <ExportId> of its S3 keys: the last part of its ARN
    region: str
    table_arn: str
    table_id: str
    ref: ItemRef  # the table's items at ExportTime
    export_time: float
    started: float
    ends: float  # COMPLETED (or FAILED) at this sim time
    bucket: str
    prefix: str | None
    bucket_owner: str | None
    sse_algorithm: str | None
    kms_key_id: str | None
    export_format: str
    client_token: str
    status: str = "IN_PROGRESS"
    failure_code: str | None = None
    failure_message: str | None = None
    item_count: int = 0
    billed_bytes: int = 0

    @property
    def directory(self) -> str:
        """The key prefix every object of the export is written under."""
        return f"{self.prefix.rstrip('/')}/AWSDynamoDB/{self.export_id}" if self.prefix else \
            f"AWSDynamoDB/{self.export_id}"

    @property
    def manifest(self) -> str:
        return f"{self.directory}/manifest-summary.json"

    def same_request(self, params: dict[str, Any]) -> bool:
        """Whether `params` ask for this export again (the ClientToken's idempotency)."""
        return (params.get("TableArn") == self.table_arn and params.get("S3Bucket") == self.bucket
                and params.get("S3Prefix") == self.prefix
                and (params.get("ExportFormat") or "DYNAMODB_JSON") == self.export_format)

    def description(self) -> dict[str, Any]:
        """ExportDescription as DescribeExport answers it."""
        shown: dict[str, Any] = {
            "ExportArn": self.arn, "ExportStatus": self.status, "StartTime": self.started, "TableArn": self.table_arn,
            "TableId": self.table_id, "ExportTime": self.export_time, "ClientToken": self.client_token,
            "S3Bucket": self.bucket, "S3SseAlgorithm": self.sse_algorithm or "AES256",
            "ExportFormat": self.export_format, "ExportType": "FULL_EXPORT", "ExportManifest": self.manifest}
        for name, value in (("S3Prefix", self.prefix), ("S3BucketOwner", self.bucket_owner),
                            ("S3SseKmsKeyId", self.kms_key_id)):
            if value:
                shown[name] = value
        if self.status != "IN_PROGRESS":
            shown["EndTime"] = self.ends
        if self.status == "COMPLETED":
            shown.update(ItemCount=self.item_count, BilledSizeBytes=self.billed_bytes)
        if self.status == "FAILED":
            shown.update(FailureCode=self.failure_code, FailureMessage=self.failure_message)
        return shown

    def summary(self) -> dict[str, Any]:
        return {"ExportArn": self.arn, "ExportStatus": self.status, "ExportType": "FULL_EXPORT"}


def export_id(started: float, token: str) -> str:
    """DynamoDB's ExportId: the start's epoch milliseconds (14 digits), a dash, 8 hex characters."""
    return f"{int(started * 1000):014d}-{hashlib.sha256(token.encode()).hexdigest()[:8]}"


def export_files(record: ExportRecord, items: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    """(key, body) of every object a completed export writes after `_started`, the data file first and the
    summary last (so that a reader who finds the summary finds everything it names)."""
    lines = b"".join(json.dumps({"Item": item}, separators=(",", ":"), sort_keys=True).encode() + b"\n"
                     for item in items)
    data = gzip.compress(lines, mtime=0)
    data_key = f"{record.directory}/data/{hashlib.sha256(record.arn.encode()).hexdigest()[:26]}.json.gz"
    md5 = hashlib.md5(data, usedforsecurity=False)
    files_manifest = json.dumps({"itemCount": len(items), "md5": base64.b64encode(md5.digest()).decode(),
                                 "etag": md5.hexdigest(), "dataFileS3Key": data_key}).encode() + b"\n"
    summary = json.dumps({
        "version": MANIFEST_VERSION, "exportArn": record.arn, "startTime": iso(record.started),
        "endTime": iso(record.ends), "tableArn": record.table_arn, "tableId": record.table_id,
        "exportTime": iso(record.export_time), "s3Bucket": record.bucket, "s3Prefix": record.prefix,
        "s3SseAlgorithm": record.sse_algorithm or "AES256", "s3SseKmsKeyId": record.kms_key_id,
        "manifestFilesS3Key": f"{record.directory}/manifest-files.json", "billedSizeBytes": record.billed_bytes,
        "itemCount": len(items), "outputFormat": record.export_format, "exportType": "FULL_EXPORT"}).encode()
    return [(data_key, data),
            (f"{record.directory}/manifest-files.json", files_manifest),
            (f"{record.directory}/manifest-files.checksum", _checksum(files_manifest)),
            (f"{record.directory}/manifest-summary.json", summary),
            (f"{record.directory}/manifest-summary.checksum", _checksum(summary))]


def _checksum(body: bytes) -> bytes:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest())
