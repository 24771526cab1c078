"""Read every AWS call from outside into its input before anyone answers it, and refuse, in the request's
protocol and with the service's own error code, what the service would refuse: an operation the service does
not have, a region AWS does not have, a body that cannot be read (bad JSON, truncated XML, XML with a DOCTYPE,
a Content-Encoding gzip that is not gzip), a value its member's type cannot hold, a required member missing.

The backend behind the gateway is not AWS: handed such a request it may fail with a 500 (which SDKs retry) or
accept what AWS refuses. Calls the sandbox makes to itself and calls replayed from the journal were read once
already and are not checked again. The decoded input stays on the context (ctx.params) for the lab's service
APIs and the engines.
"""

from __future__ import annotations

from lab.gateway.chain import HandlerChain
from lab.gateway.codec import calls
from lab.gateway.codec.errors import encode_error, invalid_region, unknown_operation
from lab.gateway.codec.identify import scope_region, valid_region
from lab.kernel.context import RequestContext
from lab.kernel.errors import AwsError


def decode_request(chain: HandlerChain, ctx: RequestContext) -> None:
    identity = ctx.identity
    if identity is None or identity.service is None or ctx.replaying or ctx.internal:
        return
    region = scope_region(ctx.headers, ctx.query_string)
    if region is not None and not valid_region(region):
        ctx.response = invalid_region(identity, region, ctx.request_id)
        return
    if identity.operation is None:
        # S3 has requests botocore does not model (browser POST uploads): the backend judges those.
        if identity.service != "s3":
            ctx.response = unknown_operation(identity, ctx.request_id)
        return
    try:
        calls.request_params(ctx)
    except AwsError as error:
        ctx.response = encode_error(identity, error, ctx.request_id)
