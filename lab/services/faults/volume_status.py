"""EC2 DescribeVolumeStatus (moto lacks it), answered from the volumes the backend holds and the faults
engine's paused volumes: a volume whose I/O is paused (aws:ebs:pause-volume-io, an AZ power interruption)
reports "impaired" with its io-enabled check failed, as AWS does."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.exceptions import ClientError

from lab.gateway.codec.errors import aws_error
from lab.kernel.context import RequestContext, Response

_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"


def describe_volume_status(sandbox: Any, paused: dict[str, int], ctx: RequestContext) -> None:
    assert ctx.identity is not None
    form = {key: values[0] for key, values in parse_qs(ctx.body.decode("utf-8", "replace")).items()}
    volume_ids = [value for key, value in sorted(form.items()) if key.startswith("VolumeId.")]
    filters = _filters(form)
    ec2 = sandbox.client("ec2", ctx.identity.region)
    kwargs: dict[str, Any] = {"VolumeIds": volume_ids} if volume_ids else {}
    try:
        volumes = [v for page in ec2.get_paginator("describe_volumes").paginate(**kwargs) for v in page["Volumes"]]
    except ClientError as exc:  # an unknown volume id: EC2's own error, as DescribeVolumeStatus answers it
        error = aws_error(ctx.identity, exc.response["ResponseMetadata"]["HTTPStatusCode"],
                          exc.response["Error"]["Code"], exc.response["Error"].get("Message", ""), ctx.request_id)
        ctx.response = Response(error.status, list(error.headers), error.body)
        return
    items = []
    for volume in sorted(volumes, key=lambda v: v["VolumeId"]):
        impaired = volume["VolumeId"] in paused
        status = "impaired" if impaired else "ok"
        io_enabled = "failed" if impaired else "passed"
        if not _passes(filters, volume, status, io_enabled):
            continue
        items.append(
            f"<item><volumeId>{escape(volume['VolumeId'])}</volumeId>"
            f"<availabilityZone>{escape(volume['AvailabilityZone'])}</availabilityZone>"
            f"<volumeStatus><status>{status}</status><details>"
            f"<item><name>io-enabled</name><status>{io_enabled}</status></item>"
            f"<item><name>io-performance</name><status>not-applicable</status></item>"
            f"</details></volumeStatus><eventsSet/><actionsSet/></item>")
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeVolumeStatusResponse xmlns="{_NAMESPACE}">'
            f"<requestId>{ctx.request_id}</requestId><volumeStatusSet>{''.join(items)}</volumeStatusSet>"
            f"</DescribeVolumeStatusResponse>")
    ctx.respond(200, body, content_type="text/xml;charset=UTF-8")


def _filters(form: dict[str, str]) -> dict[str, set[str]]:
    filters: dict[str, set[str]] = {}
    for key, value in form.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "Filter" and parts[2] == "Name":
            values = {v for k, v in form.items() if k.startswith(f"Filter.{parts[1]}.Value.")}
            filters[value] = values
    return filters


def _passes(filters: dict[str, set[str]], volume: dict[str, Any], status: str, io_enabled: str) -> bool:
    fields = {"volume-id": volume["VolumeId"], "availability-zone": volume["AvailabilityZone"],
              "volume-status.status": status, "volume-status.details-name": "io-enabled",
              "volume-status.details-status": io_enabled}
    return all(fields.get(name) in values for name, values in filters.items())
