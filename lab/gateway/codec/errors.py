"""AWS-style error responses in the protocol of the identified request.

The shapes follow what botocore's parsers read (botocore/parsers.py), so boto3
and the aws CLI surface the intended ``Error.Code``/``Error.Message``.

Retries: botocore retries HTTP 500/502/503/504 (and 509 in legacy mode), 429,
and throttling/transient codes (botocore/retries/standard.py,
botocore/data/_retry.json).  ``not_implemented`` therefore uses 501 or 400
with codes outside those lists, so a client fails after one attempt.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Mapping
from xml.sax.saxutils import quoteattr

from lab.gateway.codec.encode import XML_INVALID as _XML_INVALID
from lab.gateway.codec.encode import xml_text as _xml_text
from lab.gateway.codec.identify import service_model
from lab.kernel.api import BackendRefusedError
from lab.kernel.context import Identity, Response
from lab.kernel.errors import AwsError, NotSimulatedError

__all__ = ["aws_error", "encode_error", "invalid_region", "not_implemented", "readable_xml", "transport_error",
           "unknown_operation"]

_XML_PROTOCOLS = frozenset({"query", "ec2", "rest-xml"})
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _metadata(service: str | None) -> Mapping[str, object]:
    if not service:
        return {}
    try:
        return service_model(service).metadata
    except Exception:  # noqa: BLE001 - an unknown service just gets no extras
        return {}


def _namespace(metadata: Mapping[str, object]) -> str | None:
    namespace = metadata.get("xmlNamespace")
    if isinstance(namespace, Mapping):  # rest-xml style {"uri": ...}
        namespace = namespace.get("uri")
    return namespace if isinstance(namespace, str) and namespace else None


def _cbor_text(value: str) -> bytes:
    data = value.encode("utf-8")
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    # RFC 8949 §3: lengths < 24 live in the initial byte, else in 1/2/4/8 bytes.
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise ValueError("CBOR length too large")


def _cbor_string_map(items: Mapping[str, str]) -> bytes:
    """CBOR encoding of a map of text strings.

    botocore can encode CBOR only through its private, shape-driven
    serializer, and no CBOR library is a dependency: this is all we need.
    """
    out = bytearray(_cbor_head(5, len(items)))
    for key, value in items.items():
        out += _cbor_text(key)
        out += _cbor_text(value)
    return bytes(out)


def aws_error(
    identity: Identity | None,
    status: int,
    code: str,
    message: str,
    request_id: str | None = None,
    sender_fault: bool = True,
    fields: Mapping[str, str] | None = None,
) -> Response:
    """An error response for ``identity``'s protocol (JSON when unknown).

    ``status`` is sent as given: 500/502/503/504 (and 429, and throttling
    codes) make clients retry.  S3 HEAD responses carry no body, so clients
    only see the status there.
    """
    # os.urandom, not uuid4: the sandbox routes uuid4 through moto's seeded generator, and an error's id
    # must neither come out the same in two sandboxes nor take an id from a call in progress.
    request_id = request_id or str(uuid.UUID(bytes=os.urandom(16), version=4))
    service = identity.service if identity else None
    protocol = identity.protocol if identity and service else None
    metadata = _metadata(service)
    fault = "Sender" if sender_fault else "Receiver"

    if protocol in _XML_PROTOCOLS:
        msg, err_code, rid = (_xml_text(v) for v in (message, code, request_id))
        if protocol == "ec2":
            xml = (
                f"<Response><Errors><Error><Code>{err_code}</Code><Message>{msg}</Message>"
                f"</Error></Errors><RequestID>{rid}</RequestID></Response>"
            )
            headers = [("Content-Type", "text/xml;charset=UTF-8")]
        elif protocol == "rest-xml" and service == "s3":
            xml = (
                f"<Error><Code>{err_code}</Code><Message>{msg}</Message>"
                f"<RequestId>{rid}</RequestId></Error>"
            )
            host_id = base64.b64encode(os.urandom(24)).decode("ascii")
            headers = [
                ("Content-Type", "application/xml"),
                ("x-amz-request-id", request_id),
                ("x-amz-id-2", host_id),
            ]
        else:  # query, and rest-xml services other than S3 (route53, cloudfront)
            namespace = _namespace(metadata) if protocol == "query" else None
            xmlns = f" xmlns={quoteattr(namespace)}" if namespace else ""
            xml = (
                f"<ErrorResponse{xmlns}><Error><Type>{fault}</Type><Code>{err_code}</Code>"
                f"<Message>{msg}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
            )
            content_type = "text/xml" if protocol == "query" else "application/xml"
            headers = [("Content-Type", content_type), ("x-amzn-RequestId", request_id)]
        return Response(status, headers, (_XML_DECLARATION + xml).encode("utf-8"))

    document = {"__type": code, "message": message, **(fields or {})}
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", code)]
    if protocol in ("json", "smithy-rpc-v2-cbor") and "awsQueryCompatible" in metadata:
        # Services migrated from the query protocol (cloudwatch, sqs): clients
        # take the query-era code and fault type from this header.
        headers.append(("x-amzn-query-error", f"{code};{fault}"))
    if protocol == "smithy-rpc-v2-cbor":
        headers += [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]
        return Response(status, headers, _cbor_string_map(document))
    if protocol == "json":
        content_type = f"application/x-amz-json-{metadata.get('jsonVersion') or '1.1'}"
    else:  # rest-json, or a request we could not attribute to a service
        content_type = "application/json"
    headers.append(("Content-Type", content_type))
    return Response(status, headers, json.dumps(document).encode("utf-8"))


def encode_error(identity: Identity | None, error: AwsError, request_id: str | None = None) -> Response:
    """The answer to a refused call: the backend's own answer where it refused (BackendRefusedError), else
    `error` written in the request's protocol."""
    if isinstance(error, BackendRefusedError):
        return error.response
    if isinstance(error, NotSimulatedError) and identity is not None:
        return not_implemented(identity, detail=error.detail, request_id=request_id)
    response = aws_error(identity, error.status, error.code, error.message, request_id,
                         sender_fault=error.sender_fault, fields=error.fields)
    response.headers.extend(error.headers)
    return response


def not_implemented(
    identity: Identity, detail: str | None = None, request_id: str | None = None
) -> Response:
    """The operation is not implemented by any layer of the sandbox.

    XML protocols get 501 ``NotImplemented`` (as S3/EC2 do themselves), JSON
    ones 400 ``UnknownOperationException``; neither is retried by botocore.
    ``detail`` (e.g. "backend: embedded moto") is appended to the message.
    """
    service, operation = identity.service, identity.operation
    if service and operation:
        message = f"The sandbox does not implement {service} operation {operation}"
    elif service:
        message = f"The sandbox does not recognise this {service} operation"
    else:
        message = "The sandbox does not recognise this request as an AWS API call"
    if detail:
        message = f"{message} ({detail})"
    if identity.service and identity.protocol in _XML_PROTOCOLS:
        return aws_error(identity, 501, "NotImplemented", message, request_id, sender_fault=False)
    return aws_error(identity, 400, "UnknownOperationException", message, request_id)


def unknown_operation(identity: Identity, request_id: str | None = None) -> Response:
    """The request names an operation the service does not have (not one the sandbox lacks: that is
    `not_implemented`). Query and EC2 services answer InvalidAction, 400 (Common Errors, e.g.
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html); JSON services
    UnknownOperationException, 400 (what DynamoDB and SQS answer an X-Amz-Target they do not know); REST
    services have no operation at that method and path: S3 answers MethodNotAllowed, 405
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList), others
    UnknownOperationException."""
    service = identity.service or "the service"
    if identity.protocol in ("query", "ec2"):
        return aws_error(identity, 400, "InvalidAction",
                         f"The action or operation requested is invalid for {service}. Verify that the action is "
                         "typed correctly.", request_id)
    if identity.protocol == "rest-xml" and identity.service == "s3":
        return aws_error(identity, 405, "MethodNotAllowed",
                         "The specified method is not allowed against this resource.", request_id)
    return aws_error(identity, 400, "UnknownOperationException",
                     f"{service} has no such operation (check the X-Amz-Target header, or the method and path)",
                     request_id)


def invalid_region(identity: Identity, region: str, request_id: str | None = None) -> Response:
    """The request is signed for a region AWS does not have. S3 answers AuthorizationHeaderMalformed, 400
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList); query services
    SignatureDoesNotMatch, 403, and JSON services InvalidSignatureException, 403, with "Credential should be
    scoped to a valid region" (what IAM, STS and DynamoDB answer such a request)."""
    message = f"Credential should be scoped to a valid region, not '{region}'."
    if identity.service == "s3":
        return aws_error(identity, 400, "AuthorizationHeaderMalformed",
                         f"The authorization header is malformed; the region '{region}' is wrong.", request_id)
    if identity.protocol in ("query", "ec2"):
        return aws_error(identity, 403, "SignatureDoesNotMatch", message, request_id)
    return aws_error(identity, 403, "InvalidSignatureException", message, request_id)


# The HTTP server's own refusals, by status: S3's codes where it has one
# (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
_TRANSPORT_CODES = {400: "BadRequest", 408: "RequestTimeout", 411: "MissingContentLength", 413: "EntityTooLarge",
                    414: "RequestURITooLong", 431: "RequestHeaderSectionTooLarge"}


def transport_error(status: int, reason: str, request_id: str | None = None) -> Response:
    """A refusal by the HTTP server itself (a request line or header section too long, a malformed request), made
    before any protocol is known, in a shape every SDK reads: an <ErrorResponse> document, which the query,
    EC2 and rest-xml parsers read the code of; JSON parsers take its status as the code."""
    code = _TRANSPORT_CODES.get(status, "BadRequest")
    request_id = request_id or str(uuid.UUID(bytes=os.urandom(16), version=4))
    xml = (f"{_XML_DECLARATION}<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
           f"<Message>{_xml_text(reason)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return Response(status, [("Content-Type", "application/xml"), ("x-amzn-RequestId", request_id),
                             ("x-amzn-ErrorType", code)], xml.encode("utf-8"))


def readable_xml(body: bytes) -> bytes:
    """An XML document with the characters XML 1.0 cannot carry (even escaped) replaced, so parsers read it."""
    text = body.decode("utf-8", "replace")
    cleaned = _XML_INVALID.sub("\ufffd", text)
    return body if cleaned == text else cleaned.encode("utf-8")
