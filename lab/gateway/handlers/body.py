"""Read a request's whole body first, before any handler can take the sandbox's lock: within AWS's size
limits, within a read timeout, and refused when it is cut short or badly framed.

A request that waits on its client (a stalled upload, a slow sender) therefore waits in its own thread and
holds nothing another call needs; what reaches the journal is exactly the body the client declared.

Limits (the largest request each API takes at AWS):

- S3: 5 GiB, the largest object a single PutObject and the largest part an UploadPart takes
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). Beyond it S3 answers 400 EntityTooLarge.
- Every other API the lab speaks (JSON, query, rest-json): 16 MiB, DynamoDB's BatchWriteItem, the largest
  request among them (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html);
  beyond it 413 RequestEntityTooLarge.
- The lab's admin API (/_lab/): 16 MiB of JSON.

Refusals, in the request's protocol (S3's codes from
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList):

- a declared Content-Length or a chunk size beyond the limit: refused at once, nothing read or allocated;
- a body shorter than its Content-Length, or a chunked body cut short or badly framed: S3 400 IncompleteBody,
  others their protocol's 400 for a body that cannot be read;
- no byte from the client for READ_TIMEOUT_S seconds: S3 400 RequestTimeout, others 408 RequestTimeout;
- a Transfer-Encoding other than chunked: S3 501 NotImplemented (as S3 answers a header naming what it does not
  implement), others their 400.

Each refusal closes the connection (what is left of the body is never read). Calls the sandbox makes to itself
and calls replayed from the journal carry their body in memory already and are not read here.
"""

from __future__ import annotations

import json
import os
import socket
from typing import BinaryIO

from lab import config
from lab.gateway.chain import HandlerChain
from lab.gateway.codec.decode import refusals
from lab.gateway.codec.errors import aws_error
from lab.gateway.codec.identify import identify, scope_service
from lab.kernel.context import RAW_INPUT_KEY, RequestContext, Response
from lab.kernel.routes import PREFIX

__all__ = ["API_MAX_BODY", "READ_TIMEOUT_S", "S3_MAX_BODY", "BodyError", "read_body"]

S3_MAX_BODY = 5 * 1024**3
API_MAX_BODY = 16 * 1024**2
ADMIN_MAX_BODY = 16 * 1024**2
#: seconds without a byte from the client before its request is refused (S3 closes idle uploads after 20 s)
READ_TIMEOUT_S = float(os.environ.get("LAB_READ_TIMEOUT_S") or 20.0)
_PIECE = 1024 * 1024  # read in pieces: memory grows with what arrives, never with what is declared
_MAX_CHUNK_LINE = 4096  # a chunk-size line with extensions; real ones are a few bytes


class BodyError(Exception):
    """A body the sandbox will not take: `kind` is "too_large", "incomplete", "timeout" or "unsupported"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def body_limit(ctx: RequestContext) -> int:
    """The largest body this request may carry. The body is read before the call is identified (the query
    protocol names its operation inside it), so the service is taken from the signature's credential scope:
    S3 where it says so, or where an unsigned request names no JSON target (a browser's or curl's upload)."""
    if ctx.path.startswith(PREFIX):
        return ADMIN_MAX_BODY
    signed, service = scope_service(ctx.headers, ctx.query_string)
    if service == "s3" or (not signed and "X-Amz-Target" not in ctx.headers):
        return S3_MAX_BODY
    return API_MAX_BODY


def read_body(chain: HandlerChain, ctx: RequestContext) -> None:
    """Request handler: read the body of a request from a client into the context, or refuse the request."""
    if ctx.internal or ctx.replaying or ctx.body_is_read:
        return
    environ = ctx.environ
    limit = body_limit(ctx)
    sock: socket.socket | None = environ.get("werkzeug.socket")
    previous = sock.gettimeout() if sock is not None else None
    try:
        if sock is not None:
            sock.settimeout(READ_TIMEOUT_S)
        coding = environ.get("HTTP_TRANSFER_ENCODING", "").lower().strip()
        chunked = coding == "chunked"
        if coding not in ("", "chunked", "identity"):
            # ("gzip, chunked": the server would take the body for no body and the next request's start)
            raise BodyError("unsupported", f"Transfer-Encoding {coding[:60]!r} is not supported; send the body "
                                           "with a Content-Length or Transfer-Encoding: chunked")
        if chunked:
            data = _read_chunked(environ.get(RAW_INPUT_KEY) or environ["wsgi.input"], limit)
        else:
            length = environ.get("CONTENT_LENGTH") or "0"
            if not (length.isascii() and length.isdigit()):
                return  # the identify handler refuses a Content-Length that is not a number
            data = _read_exactly(environ["wsgi.input"], int(length), limit)
    except BodyError as error:
        ctx.response = _refusal(ctx, error, limit)
        return
    except TimeoutError:
        ctx.response = _refusal(ctx, BodyError("timeout", f"no data from the client for {READ_TIMEOUT_S:g} s "
                                                          "while reading the request body"), limit)
        return
    except (ConnectionError, OSError) as exc:
        ctx.response = _refusal(ctx, BodyError("incomplete", f"the connection failed while reading the "
                                                             f"request body: {exc}"), limit)
        return
    finally:
        if sock is not None:
            try:
                sock.settimeout(previous)
            except OSError:
                pass  # the client is gone already
    ctx.set_body(data)
    if chunked:
        # Downstream (the backend, the journal) sees an ordinary body of known length.
        environ["CONTENT_LENGTH"] = str(len(data))
        environ.pop("HTTP_TRANSFER_ENCODING", None)


def _read_exactly(stream: BinaryIO, length: int, limit: int) -> bytes:
    if length > limit:
        raise BodyError("too_large", f"the request declares a body of {length} bytes; the largest this API "
                                     f"takes is {limit} bytes")
    if length == 0:
        return b""
    parts: list[bytes] = []
    remaining = length
    while remaining:
        piece = stream.read(min(remaining, _PIECE))
        if not piece:
            raise BodyError("incomplete", f"the request body ended after {length - remaining} of the "
                                          f"{length} bytes its Content-Length declares")
        parts.append(piece)
        remaining -= len(piece)
    return b"".join(parts)


def _read_chunked(stream: BinaryIO, limit: int) -> bytes:
    """HTTP/1.1 chunked transfer coding (RFC 9112, section 7.1): chunks, a last chunk of size 0, trailers."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = stream.readline(_MAX_CHUNK_LINE + 1)
        if not line:
            raise BodyError("incomplete", f"the chunked request body ended after {total} bytes, before its "
                                          "last chunk")
        if not line.endswith(b"\n"):
            raise BodyError("incomplete", "a chunk-size line of the chunked request body is too long")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
            if size < 0 or size_text[:1] in (b"+", b"-") or b"_" in size_text:
                raise ValueError(size_text)
        except ValueError:
            raise BodyError("incomplete", f"the chunked request body has a bad chunk size "
                                          f"{size_text[:40].decode('latin-1')!r}") from None
        if size == 0:
            break
        if total + size > limit:
            raise BodyError("too_large", f"a chunk of {size} bytes takes the request body beyond the largest "
                                         f"this API takes ({limit} bytes)")
        remaining = size
        while remaining:
            piece = stream.read(min(remaining, _PIECE))
            if not piece:
                raise BodyError("incomplete", f"the chunked request body ended inside a chunk, after "
                                              f"{total + size - remaining} bytes")
            parts.append(piece)
            remaining -= len(piece)
        total += size
        if stream.read(2) != b"\r\n":
            raise BodyError("incomplete", "a chunk of the chunked request body does not end with CRLF")
    while True:  # trailer fields, up to the empty line
        line = stream.readline(_MAX_CHUNK_LINE + 1)
        if not line:
            raise BodyError("incomplete", "the chunked request body ended before the end of its trailers")
        if line in (b"\r\n", b"\n"):
            return b"".join(parts)
        if not line.endswith(b"\n"):
            raise BodyError("incomplete", "a trailer line of the chunked request body is too long")


def _refusal(ctx: RequestContext, error: BodyError, limit: int) -> Response:
    """The refusal in the request's protocol; the connection is closed after it (the rest is never read)."""
    if ctx.path.startswith(PREFIX):
        status = {"too_large": 413, "timeout": 408}.get(error.kind, 400)
        response = Response(status, [("Content-Type", "application/json")],
                            json.dumps({"error": f"{ctx.method} {ctx.path[:200]}: {error}"}).encode())
    else:
        identity = ctx.identity or identify(ctx.method, ctx.path, ctx.query_string, ctx.headers, b"",
                                            default_region=config.PRIMARY_REGION)
        ctx.identity = identity
        if identity.service == "s3":
            status, code = {"too_large": (400, "EntityTooLarge"), "timeout": (400, "RequestTimeout"),
                            "incomplete": (400, "IncompleteBody"), "unsupported": (501, "NotImplemented")
                            }[error.kind]
            if error.kind == "timeout":
                message = ("Your socket connection to the server was not read from or written to within the "
                           f"timeout period: {error}")
            else:
                message = str(error)
        else:
            malformed = refusals(identity.service, identity.protocol).malformed
            status, code = {"too_large": (413, "RequestEntityTooLarge"), "timeout": (408, "RequestTimeout"),
                            "incomplete": (400, malformed), "unsupported": (400, malformed)}[error.kind]
            message = str(error)
        response = aws_error(identity, status, code, message, ctx.request_id)
    response.headers.append(("Connection", "close"))
    return response
