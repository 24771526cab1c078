"""Every error answer an AWS client gets is one it can read: an error the backend wrote without a body (moto
answers some refusals with an empty 403) gets an AWS error document with the code its status means, and
an XML error carrying characters XML cannot hold (a key with a NUL echoed back) has them replaced."""

from __future__ import annotations

from lab.gateway.chain import HandlerChain
from lab.gateway.codec.errors import aws_error, readable_xml
from lab.kernel.context import RequestContext

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
        response.headers = [(k, v) for k, v in response.headers if k.lower() not in ("content-type",
                                                                                      "content-length")]
        response.headers.extend(answer.headers)
        response.body = answer.body
        return
    content_type = next((v for k, v in response.headers if k.lower() == "content-type"), "")
    if "xml" in content_type:
        response.body = readable_xml(bytes(response.body))
