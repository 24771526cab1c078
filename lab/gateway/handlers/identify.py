"""Name the service, region and operation of an AWS call (botocore's models do the work)."""

from __future__ import annotations

from lab import config
from lab.gateway.chain import HandlerChain
from lab.gateway.codec.identify import identify
from lab.kernel.context import RequestContext


def identify_request(chain: HandlerChain, ctx: RequestContext) -> None:
    ctx.identity = identify(
        ctx.method, ctx.path, ctx.query_string, ctx.headers, ctx.form_body_if_small(),
        default_region=config.PRIMARY_REGION,
    )
