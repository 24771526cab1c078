"""Test helpers: calls serialised exactly as botocore sends them, answers parsed exactly as boto3 reads them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.compat import HTTPHeaders
from botocore.parsers import create_parser

from lab.gateway import audit
from lab.gateway.audit import ApiCall
from lab.gateway.codec.identify import identify

AT = 1_790_000_000.0  # 2026-09-21T14:13:20Z, the sim time of calls built here

_SESSION = botocore.session.Session()


class _CapturedError(Exception):
    pass


def wire_request(service: str, method: str, **params: Any) -> tuple[str, str, str, dict[str, str], bytes]:
    """Serialise a call exactly as botocore sends it, without sending it."""
    client = _SESSION.create_client(service, region_name="us-east-1", aws_access_key_id="test",
                                    aws_secret_access_key="test", endpoint_url="http://127.0.0.1:1")
    captured = {}

    def before_send(request, **_):
        captured["request"] = request
        raise _CapturedError

    client.meta.events.register("before-send", before_send)
    with pytest.raises(_CapturedError):
        getattr(client, method)(**params)
    request = captured["request"]
    body = request.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    headers = {name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()}
    url = urlsplit(request.url)
    return request.method, url.path, url.query, headers, body


def boto3_parse(service: str, operation: str, status: int, headers: list[tuple[str, str]], body: bytes) -> Any:
    """What a boto3 client makes of an answer."""
    client = _SESSION.create_client(service, region_name="us-east-1", aws_access_key_id="test",
                                    aws_secret_access_key="test")
    model = client.meta.service_model.operation_model(operation)
    http_headers = HTTPHeaders()
    for name, value in headers:
        http_headers[name] = value
    return create_parser(client.meta.service_model.protocol).parse(
        {"status_code": status, "headers": http_headers, "body": body}, model.output_shape)


def api_call(service: str, method: str, *, status: int = 200, answer: bytes | None = None,
             answer_headers: tuple[tuple[str, str], ...] = (), error: tuple[str, str] | None = None,
             **params: Any) -> ApiCall:
    """The audit's record of a call made with these parameters (and answered as given)."""
    http_method, path, query, headers, body = wire_request(service, method, **params)
    identity = identify(http_method, path, query, headers, body)
    traits = audit.operation_traits(identity.service, identity.operation)
    return ApiCall(
        number=1, ordinal=0, at=AT, service=identity.service, operation=identity.operation, region=identity.region,
        event_source=traits.event_source, protocol=identity.protocol,
        read_only=identity.operation.startswith(("Describe", "Get", "List", "Head")),
        data_event=traits.data_event, source="127.0.0.1", principal=audit.DEFAULT_PRINCIPAL,
        access_key=audit.access_key_of(headers.get("Authorization"), query), user_agent=headers["User-Agent"],
        request_id="req-1", status=status, error_code=error[0] if error else None,
        error_message=error[1] if error else None, path=path, query=query, headers=tuple(headers.items()),
        body=body if traits.keeps_body else None, answer_headers=answer_headers, answer=answer,
        bucket=identity.bucket, key=identity.key)
