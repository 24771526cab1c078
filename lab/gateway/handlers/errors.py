"""Every error answer an AWS client gets is one it can read: an error the backend wrote without a body (moto
answers some refusals with an empty 403) gets an AWS error document with the code its status means, an
error the backend wrote in JSON to a client of an XML protocol (moto's paginator refuses a bad marker so,
whatever the service) is written again in the client's protocol, and an XML error carrying characters XML
cannot hold (a key with a NUL echoed back) has them replaced."""

from __future__ import annotations

import json

from lab.gateway.chain import HandlerChain
from lab.gateway.codec.errors import aws_error, readable_xml
from lab.kernel.context import RequestContext, Response

_XML_PROTOCOLS = frozenset({"query", "ec2", "rest-xml"})
# The codes S3 and the other services answer these statuses with
# (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
_CODES = {400: "BadRequest", 401: "Unauthorized", 403: "AccessDenied", 404: "NotFound", 405: "MethodNotAllowed",
          409: "Conflict", 411: "MissingContentLength", 412: "PreconditionFailed", 413: "EntityTooLarge",
          416: "InvalidRange", 429: "TooManyRequests"}


def complete_errors(chain: HandlerChain, ctx: RequestContext) -> None:
    response, identity = ctx.response, ctx.identity
    if (response is None or response.status < 400 or ctx.method == "HEAD" or identity is None
            or not identity.service or not isinstance(response.body, (bytes, bytearray))):
        return
    if not response.body.strip():
        code = _CODES.get(response.status, "BadRequest" if response.status < 500 else "InternalFailure")
        answer = aws_error(identity, response.status, code,
                           f"The request was refused ({response.status} {code}) without a reason", ctx.request_id,
                           sender_fault=response.status < 500)
        _answer_with(response, answer)
        return
    content_type = next((v for k, v in response.headers if k.lower() == "content-type"), "")
    if "xml" in content_type:
        response.body = readable_xml(bytes(response.body))
    elif (identity.protocol in _XML_PROTOCOLS and response.body.lstrip().startswith(b"{")
          and not ctx.path.startswith("/_localstack/")):  # (LocalStack's own JSON API, e.g. Chaos, on S3's paths)
        code, message = _json_error(bytes(response.body))
        answer = aws_error(identity, response.status, code or _CODES.get(response.status, "InternalFailure"),
                           message, ctx.request_id, sender_fault=response.status < 500)
        _answer_with(response, answer)


def _answer_with(response: Response, answer: Response) -> None:
    """`response` (its status and other headers kept) carries `answer`'s error document instead."""
    response.headers = [(k, v) for k, v in response.headers if k.lower() not in ("content-type", "content-length")]
    response.headers.extend(answer.headers)
    response.body = answer.body


def _json_error(body: bytes) -> tuple[str, str]:
    """The code and message of a JSON error document ("__type" may carry a namespace before a '#')."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return "", body.decode("utf-8", "replace")[:500]
    if not isinstance(document, dict):
        return "", str(document)[:500]
    code = str(document.get("__type") or document.get("code") or document.get("Code") or "").rpartition("#")[2]
    message = document.get("message") or document.get("Message") or ""
    return code, str(message)
