"""Name the service, region and operation of an AWS call (botocore's models do the work).

A request whose Content-Length is not a number cannot be read at all: it is identified without its body and
refused with the service's code for a request it cannot read (400), never read as a body.
"""

from __future__ import annotations

import gzip
import zlib

from lab import config
from lab.gateway.chain import HandlerChain
from lab.gateway.codec.decode import refusals
from lab.gateway.codec.errors import aws_error
from lab.gateway.codec.identify import identify
from lab.kernel.context import RequestContext


def identify_request(chain: HandlerChain, ctx: RequestContext) -> None:
    length = ctx.environ.get("CONTENT_LENGTH") or ""
    framed = not length or length.isdigit()
    form = ctx.form_body_if_small() if framed else b""
    if form and "gzip" in ctx.headers.get("Content-Encoding", "").lower():
        try:  # botocore compresses large query requests (CloudWatch PutMetricData): the Action is inside
            form = gzip.decompress(form)
        except (OSError, EOFError, zlib.error):
            pass  # not gzip after all: the decode handler refuses the body
    ctx.identity = identify(ctx.method, ctx.path, ctx.query_string, ctx.headers, form,
                            default_region=config.PRIMARY_REGION)
    if not framed:
        identity = ctx.identity
        codes = refusals(identity.service, identity.protocol)
        code = "InvalidArgument" if identity.service == "s3" else codes.malformed
        ctx.response = aws_error(identity, 400, code, f"Content-Length {length[:40]!r} is not a number of bytes",
                                 ctx.request_id)
