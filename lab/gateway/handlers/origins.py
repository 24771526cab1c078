"""Which web pages may talk to the sandbox: none may drive it, and S3 answers browsers as its CORS says.

The sandbox checks no signatures, so a browser is the one client that can be made to call it by someone else
(any page the learner opens). Three rules keep pages out:

- Host: every request must name the sandbox by a loopback name (127.0.0.1, [::1], localhost, *.localhost, S3's
  virtual hosts bucket.localhost and bucket.s3.localhost.localstack.cloud, or a name in LAB_ALLOWED_HOSTS):
  a DNS-rebinding page (``rebind.evil.example:4566`` resolved to 127.0.0.1) is refused with 403.
- The admin API (/_lab/) takes no cross-origin request: an ``Origin`` other than the sandbox's own loopback
  origin, or ``Sec-Fetch-Site: cross-site/same-site``, is refused with 403 and a JSON error. The CLI, the TUI,
  awslocal and the SDKs send no Origin and are unaffected.
- AWS calls from a page: S3 answers as the bucket's CORS configuration says, as AWS does
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html): a preflight OPTIONS is answered 200 with
  the first matching rule's headers, or 403 AccessForbidden; an actual request gets CORS headers only when a
  rule matches its origin and method. Where no rule matches, reads are answered without CORS headers (the
  browser keeps the answer from the page) and a state-changing call is refused with 403 AccessForbidden, since
  the sandbox cannot tell the page's call from the learner's by a signature. The other services take no call
  from a non-loopback origin (403 AccessDenied in the request's protocol). The backend's own CORS headers
  (moto wraps every service in a CORS layer that allows any origin) are removed from every answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError

from lab.gateway import audit
from lab.gateway.chain import Handler, HandlerChain
from lab.gateway.codec.errors import aws_error
from lab.gateway.codec.identify import bucket_of_host
from lab.kernel.context import RequestContext
from lab.kernel.port import Sandbox
from lab.kernel.routes import PREFIX
from lab.safety import host_allowed, is_loopback_origin, is_own_origin

__all__ = ["CorsRule", "answer_cors_headers", "check_host_and_origin", "matching_rule", "refuse_cross_origin_calls",
           "s3_cors"]

_CORS_KEY = "lab.cors_headers"  # the CORS headers an S3 answer gets, decided before the call
_SAFE_METHODS = frozenset({"GET", "HEAD"})
_NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
                "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
                "whitelisted by the resource's CORS spec.")


def check_host_and_origin(sandbox: Sandbox) -> Handler:
    """Request handler, first in the chain: a foreign Host for everything, a foreign origin for the admin API."""

    def check_host_and_origin(chain: HandlerChain, ctx: RequestContext) -> None:
        if ctx.internal or ctx.replaying:
            return
        host = ctx.headers.get("Host")
        admin = ctx.path.startswith(PREFIX)
        if not host_allowed(host):
            message = (f"the sandbox answers only to loopback host names (127.0.0.1, localhost, [::1], *.localhost), "
                       f"not {(host or '')[:100]!r}; a page that renamed the sandbox (DNS rebinding) is refused")
            _forbid(ctx, admin, message)
            return
        if not admin:
            return
        origin = ctx.headers.get("Origin")
        fetch_site = ctx.headers.get("Sec-Fetch-Site", "").lower()
        if origin is not None and not is_own_origin(origin, host):
            _forbid(ctx, True, f"the lab's admin API takes no request from a web page ({origin[:100]!r}); use "
                               "the lab CLI or TUI")
        elif fetch_site in ("cross-site", "same-site"):
            _forbid(ctx, True, f"the lab's admin API takes no request from another site (Sec-Fetch-Site: "
                               f"{fetch_site}); use the lab CLI or TUI")

    return check_host_and_origin


def _forbid(ctx: RequestContext, admin: bool, message: str) -> None:
    """Refuse with 403, closing the connection: the request's body, if any, is left unread."""
    if admin:
        ctx.respond(403, json.dumps({"error": message, "__type": "Forbidden"}), headers=[("Connection", "close")])
    else:
        ctx.response = aws_error(ctx.identity, 403, "AccessDenied", message, ctx.request_id)
        ctx.response.headers.append(("Connection", "close"))


def refuse_cross_origin_calls(chain: HandlerChain, ctx: RequestContext) -> None:
    """Request handler after identification: AWS calls other than S3's from a non-loopback web page."""
    identity = ctx.identity
    origin = ctx.headers.get("Origin")
    if (origin is None or ctx.internal or ctx.replaying or identity is None or not identity.service
            or identity.service == "s3" or is_loopback_origin(origin)):
        return
    ctx.response = aws_error(identity, 403, "AccessDenied",
                             f"the sandbox checks no signatures, so it takes no {identity.service} call from a "
                             f"web page ({origin[:100]!r})", ctx.request_id)


# -- S3 CORS -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorsRule:
    """One CORSRule of a bucket's CORS configuration (PutBucketCors)."""

    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None

    @classmethod
    def from_api(cls, rule: dict[str, Any]) -> CorsRule:
        return cls(tuple(rule.get("AllowedOrigins") or ()), tuple(rule.get("AllowedMethods") or ()),
                   tuple(rule.get("AllowedHeaders") or ()), tuple(rule.get("ExposeHeaders") or ()),
                   rule.get("MaxAgeSeconds"))


def _wildcard(pattern: str) -> re.Pattern[str]:
    # S3 allows one "*" in an AllowedOrigin or AllowedHeader; matching is case-insensitive for headers.
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.IGNORECASE)


def _matches(value: str, patterns: Iterable[str]) -> bool:
    return any(_wildcard(pattern).match(value) for pattern in patterns)


def matching_rule(rules: Iterable[CorsRule], origin: str, method: str,
                  request_headers: Iterable[str] = ()) -> CorsRule | None:
    """The first rule that admits `origin`, `method` and every one of `request_headers`, as S3 evaluates them."""
    wanted = [name.strip() for name in request_headers if name.strip()]
    for rule in rules:
        if (_matches(origin, rule.allowed_origins) and method.upper() in rule.allowed_methods
                and all(_matches(name, rule.allowed_headers) for name in wanted)):
            return rule
    return None


def _rule_headers(rule: CorsRule, origin: str, request_headers: str | None = None) -> list[tuple[str, str]]:
    any_origin = "*" in rule.allowed_origins
    headers = [("Access-Control-Allow-Origin", "*" if any_origin else origin),
               ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods))]
    if not any_origin:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if request_headers:
        headers.append(("Access-Control-Allow-Headers", request_headers))
    if rule.expose_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule.expose_headers)))
    if rule.max_age_seconds is not None:
        headers.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    headers.append(("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"))
    return headers


def _bucket(ctx: RequestContext) -> str | None:
    identity = ctx.identity
    if identity is not None and identity.bucket:
        return identity.bucket
    from_host = bucket_of_host(ctx.headers.get("Host"))
    if from_host:
        return from_host
    first = ctx.path.lstrip("/").split("/", 1)[0]
    return first or None


def _bucket_rules(sandbox: Sandbox, ctx: RequestContext, bucket: str) -> list[CorsRule] | None:
    """The bucket's CORS rules ([] without a configuration), None when there is no such bucket. Read as S3 reads
    them for itself: not a call of the account's (no CloudTrail event)."""
    identity = ctx.identity
    s3 = sandbox.client("s3", identity.region if identity else None)
    with audit.unrecorded():
        try:
            answer = s3.get_bucket_cors(Bucket=bucket)
        except BotoCoreError:
            return None  # not a bucket name at all (botocore refuses it before asking)
        except s3.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "NoSuchCORSConfiguration":
                return []
            if code in ("NoSuchBucket", "404"):
                return None
            raise
    return [CorsRule.from_api(rule) for rule in answer.get("CORSRules", [])]


def s3_cors(sandbox: Sandbox) -> Handler:
    """Request handler after identification: answer S3's preflights and decide an S3 call's CORS headers."""

    def s3_cors(chain: HandlerChain, ctx: RequestContext) -> None:
        identity = ctx.identity
        origin = ctx.headers.get("Origin")
        if ctx.internal or ctx.replaying or identity is None or identity.service != "s3":
            return
        preflight = ctx.method == "OPTIONS"
        if origin is None and not preflight:
            return
        bucket = _bucket(ctx)
        if preflight:
            requested_method = ctx.headers.get("Access-Control-Request-Method")
            if origin is None or requested_method is None:
                ctx.response = aws_error(identity, 400, "BadRequest", "Insufficient information. Origin request "
                                         "header needed." if origin is None else "Insufficient information. "
                                         "Access-Control-Request-Method request header needed.", ctx.request_id)
                return
            rules = _bucket_rules(sandbox, ctx, bucket) if bucket else None
            if rules is None:
                ctx.response = aws_error(identity, 403, "AccessForbidden", "CORSResponse: Bucket not found",
                                         ctx.request_id)
                return
            if not rules:
                ctx.response = aws_error(identity, 403, "AccessForbidden",
                                         "CORSResponse: CORS is not enabled for this bucket.", ctx.request_id)
                return
            request_headers = ctx.headers.get("Access-Control-Request-Headers")
            rule = matching_rule(rules, origin, requested_method, (request_headers or "").split(","))
            if rule is None:
                ctx.response = aws_error(identity, 403, "AccessForbidden", _NOT_ALLOWED, ctx.request_id)
                return
            ctx.environ[_CORS_KEY] = _rule_headers(rule, origin, request_headers)
            ctx.respond(200, b"", content_type="application/xml")
            return
        assert origin is not None
        rules = (_bucket_rules(sandbox, ctx, bucket) if bucket else None) or []
        rule = matching_rule(rules, origin, ctx.method)
        if rule is not None:
            ctx.environ[_CORS_KEY] = _rule_headers(rule, origin)
        elif ctx.method not in _SAFE_METHODS and not is_loopback_origin(origin):
            ctx.response = aws_error(identity, 403, "AccessForbidden",
                                     f"{_NOT_ALLOWED} (the sandbox checks no signatures, so a web page's "
                                     "state-changing call needs the bucket's CORS configuration to allow it)",
                                     ctx.request_id)

    return s3_cors


def answer_cors_headers(chain: HandlerChain, ctx: RequestContext) -> None:
    """Response handler: the backend's CORS headers out of every answer; S3's, as its rule decided, in."""
    response = ctx.response
    if response is None:
        return
    decided = ctx.environ.get(_CORS_KEY)
    if any(name.lower().startswith("access-control-") for name, _ in response.headers) or decided:
        response.headers = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
        if decided:
            response.headers.extend(decided)
