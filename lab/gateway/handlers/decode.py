"""Read every AWS call from outside into its input before anyone answers it, and refuse, in the request's
protocol and with the service's own error code, what the service would refuse: an operation the service does
not have, a region AWS does not have, a body that cannot be read (bad JSON, truncated XML, XML with a DOCTYPE,
a Content-Encoding gzip that is not gzip), a value its member's type cannot hold, a required member missing,
and a body sent to a REST operation that takes none.

The backend behind the gateway is not AWS: handed such a request it may fail with a 500 (which SDKs retry) or
accept what AWS refuses. Calls the sandbox makes to itself and calls replayed from the journal were read once
already and are not checked again. The decoded input stays on the context (ctx.params) for the lab's service
APIs and the engines.
"""

from __future__ import annotations

from lab.gateway.chain import HandlerChain
from lab.gateway.codec import calls
from lab.gateway.codec.decode import refusals
from lab.gateway.codec.errors import aws_error, encode_error, invalid_region, unknown_operation
from lab.gateway.codec.identify import scope_region, valid_region
from lab.kernel.context import RequestContext
from lab.kernel.errors import AwsError

_LOCALSTACK = "/_localstack/"
_S3_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"})
_AT_ROOT = frozenset({"query", "ec2", "json"})
_PATHS_TOO = frozenset({"sqs"})  # SQS's query protocol addresses a queue by its URL's path


def decode_request(chain: HandlerChain, ctx: RequestContext) -> None:
    identity = ctx.identity
    if (identity is None or identity.service is None or ctx.replaying or ctx.internal
            or ctx.path.startswith(_LOCALSTACK)):  # (LocalStack's own API, e.g. Chaos: not an AWS call)
        return
    region = scope_region(ctx.headers, ctx.query_string)
    if region is not None and not valid_region(region):
        ctx.response = invalid_region(identity, region, ctx.request_id)
        return
    if identity.operation is None:
        # S3 has requests botocore does not model (browser POST uploads): the backend judges those.
        if identity.service != "s3" or ctx.method not in _S3_METHODS:
            ctx.response = unknown_operation(identity, ctx.request_id)
        return
    if identity.protocol in _AT_ROOT and ctx.path.rstrip("/") != "" and identity.service not in _PATHS_TOO:
        # botocore sends every call of these protocols to "/"; the backend routes by path and knows no other.
        code = refusals(identity.service, identity.protocol).malformed
        ctx.response = aws_error(identity, 400, code, f"The {identity.service} API answers at the path /, not at "
                                                      f"{ctx.path[:200]}", ctx.request_id)
        return
    try:
        calls.request_params(ctx)
    except AwsError as error:
        ctx.response = encode_error(identity, error, ctx.request_id)
        return
    if calls.takes_no_body(identity.service, identity.operation, identity.protocol) \
            and ctx.body.strip() not in (b"", b"{}"):
        # AWS ignores it; the backend would try to read it (and fail on anything but XML or JSON).
        code = refusals(identity.service, identity.protocol).malformed
        ctx.response = aws_error(identity, 400, code, f"{identity.operation} takes no request body",
                                 ctx.request_id)
