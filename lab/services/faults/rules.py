"""Fault rules: which AWS calls fail (or slow down), and how. Pure logic, no sandbox.

A rule matches a call by service, region and operation (each optional: absent matches all), then fires with
its probability. The draw is a pure function of the sandbox seed, the rule and how many calls the rule has
seen, so the same seed and the same sequence of calls fail the same calls. LocalStack's Chaos API rules
(`/_localstack/chaos/faults`) are translated to these one for one, keeping LocalStack's defaults.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from lab.kernel.context import Identity

SIMULATED_FAULT_MESSAGE = "Operation failed due to a simulated fault"  # LocalStack's message, kept for its scripts
DEFAULT_STATUS = 503
DEFAULT_CODE = "ServiceUnavailable"
MAX_LATENCY_MS = 60_000

# Global services answer from every region's point of view; a region outage leaves them up, as AWS's
# global control planes (and Route 53's data plane, which DR failover depends on) stay up.
GLOBAL_SERVICES = frozenset({"iam", "route53", "cloudfront", "organizations", "route53domains"})

# LocalStack's JSON schema for the Chaos API (same constraints, same error messages from jsonschema).
CHAOS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "service": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$"},
            "region": {"type": "string", "pattern": r"^[a-z0-9-]+$"},
            "operation": {"type": "string", "pattern": r"^[A-Z][A-Za-z]*$"},
            "probability": {"type": "number", "minimum": 0, "maximum": 1},
            "description": {"type": "string"},
            "error": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "statusCode": {"type": "integer", "minimum": 400, "maximum": 599},
                    "code": {"type": "string", "pattern": r"^\S+$"},
                },
            },
        },
    },
}
CHAOS_EFFECTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"latency": {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS}},
}


@dataclass
class FaultRule:
    """One rule. `source` says who made it: "lab" (POST /_lab/faults), "chaos" (LocalStack's API), or the
    id of the injection (scenario run or FIS action) that owns it and removes it when it ends."""

    id: str
    source: str
    service: str | None = None
    region: str | None = None
    operations: tuple[str, ...] = ()  # empty: every operation
    probability: float = 1.0
    status_code: int = DEFAULT_STATUS
    code: str = DEFAULT_CODE
    message: str = SIMULATED_FAULT_MESSAGE
    latency_ms: int = 0
    fails: bool = True  # False: a latency-only rule
    exclude_services: tuple[str, ...] = ()
    until: float | None = None  # sim time at which the rule lapses by itself
    description: str | None = None
    seen: int = 0  # calls that matched service/region/operation
    injected: int = 0  # calls the rule failed or slowed

    def matches(self, identity: Identity) -> bool:
        service = identity.service
        if service is None:
            return False
        if self.service is not None and _service_key(self.service) != _service_key(service):
            return False
        if service in self.exclude_services:
            return False
        if self.region is not None and self.region != identity.region:
            return False
        return not self.operations or identity.operation in self.operations

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["operations"] = list(self.operations)
        body["exclude_services"] = list(self.exclude_services)
        return body


def _service_key(name: str) -> str:
    return name.replace("_", "-").lower()


def draw(seed: int, rule_id: str, n: int) -> float:
    """A number in [0, 1) that depends only on the seed, the rule and the call's place in its sequence."""
    digest = hashlib.sha256(f"{seed}:{rule_id}:{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Decision:
    rule: FaultRule | None = None
    latency_ms: int = 0

    @property
    def fails(self) -> bool:
        return self.rule is not None and self.rule.fails


def decide(rules: Iterable[FaultRule], identity: Identity, seed: int, now: float) -> Decision:
    """The first matching rule whose draw fires decides (LocalStack: first match wins). Counts the call."""
    for rule in rules:
        if rule.until is not None and rule.until <= now:
            continue
        if not rule.matches(identity):
            continue
        rule.seen += 1
        if rule.probability < 1.0 and draw(seed, rule.id, rule.seen) >= rule.probability:
            continue
        rule.injected += 1
        return Decision(rule=rule, latency_ms=rule.latency_ms)
    return Decision()


# -- LocalStack's Chaos API --------------------------------------------------------------------------


class ChaosSchemaError(ValueError):
    """LocalStack answers 400 {"message": "Error validating JSON schema: ..."}; so do we."""


def validate_chaos(document: Any) -> list[dict[str, Any]]:
    import jsonschema  # (a tenth of a second to import: loaded when a rule is first checked, not at start-up)

    try:
        jsonschema.validate(document, CHAOS_SCHEMA)
    except jsonschema.ValidationError as exc:
        raise ChaosSchemaError(f"Error validating JSON schema: {exc.message}") from exc
    return document


def validate_chaos_effects(document: Any) -> dict[str, Any]:
    import jsonschema

    try:
        jsonschema.validate(document, CHAOS_EFFECTS_SCHEMA)
    except jsonschema.ValidationError as exc:
        raise ChaosSchemaError(f"Error validating JSON schema: {exc.message}") from exc
    return document


def rule_from_chaos(index: int, document: dict[str, Any], source: str = "chaos") -> FaultRule:
    error = document.get("error") or {}
    return FaultRule(
        id=f"{source}-{index}",
        source=source,
        service=document.get("service"),
        region=document.get("region"),
        operations=(document["operation"],) if document.get("operation") else (),
        probability=float(document.get("probability", 1.0)),
        status_code=int(error.get("statusCode", DEFAULT_STATUS)),
        code=str(error.get("code", DEFAULT_CODE)),
        description=document.get("description"),
    )


# -- the lab's own rules (POST /_lab/faults) ---------------------------------------------------------

_OPERATION = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def rule_from_lab(rule_id: str, document: dict[str, Any], now: float, duration_seconds: float | None) -> FaultRule:
    """{"service"?, "region"?, "operation"? | "operations"?, "probability"?, "error"?: {"statusCode", "code",
    "message"}, "latency_ms"?, "duration"?, "description"?}: a rule with LocalStack's defaults. A rule with
    latency and no "error" only slows calls down."""
    known = {"service", "region", "operation", "operations", "probability", "error", "latency_ms", "duration",
             "description"}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ValueError(f"unknown fault rule field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    operations = document.get("operations") or ([document["operation"]] if document.get("operation") else [])
    if isinstance(operations, str):
        operations = [part.strip() for part in operations.split(",") if part.strip()]
    for operation in operations:
        if not _OPERATION.match(str(operation)):
            raise ValueError(f"operation {operation!r} is not an AWS operation name (e.g. PutObject)")
    probability = float(document.get("probability", 1.0))
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability must be between 0 and 1, not {probability}")
    latency = int(document.get("latency_ms", 0))
    if not 0 <= latency <= MAX_LATENCY_MS:
        raise ValueError(f"latency_ms must be between 0 and {MAX_LATENCY_MS}, not {latency}")
    error = document.get("error")
    if error is not None and not isinstance(error, dict):
        raise ValueError('"error" must be an object like {"statusCode": 503, "code": "ServiceUnavailable"}')
    fails = error is not None or latency == 0
    error = error or {}
    status = int(error.get("statusCode", DEFAULT_STATUS))
    if not 400 <= status <= 599:
        raise ValueError(f"error.statusCode must be an HTTP error status (400-599), not {status}")
    return FaultRule(
        id=rule_id,
        source="lab",
        service=document.get("service") or None,
        region=document.get("region") or None,
        operations=tuple(str(op) for op in operations),
        probability=probability,
        status_code=status,
        code=str(error.get("code", DEFAULT_CODE)),
        message=str(error.get("message", SIMULATED_FAULT_MESSAGE)),
        latency_ms=latency,
        fails=fails,
        until=now + duration_seconds if duration_seconds else None,
        description=document.get("description"),
    )


# -- the errors AWS Fault Injection Service injects -------------------------------------------------

@dataclass(frozen=True)
class ApiErrorKind:
    status: int
    code: str
    message: str


def fis_api_error(kind: str, service: str, protocol: str | None) -> ApiErrorKind:
    """What aws:fis:inject-api-{internal,unavailable,throttle}-error answers for `service`: EC2's own codes
    (InternalError, Unavailable, RequestLimitExceeded) as FIS documents; the usual codes of each protocol
    elsewhere. All of them are errors botocore retries, as on AWS."""
    if kind == "throttle":
        if service == "ec2":
            return ApiErrorKind(503, "RequestLimitExceeded", "Request limit exceeded.")
        if service == "s3":
            return ApiErrorKind(503, "SlowDown", "Please reduce your request rate.")
        if protocol == "query":
            return ApiErrorKind(400, "Throttling", "Rate exceeded")
        return ApiErrorKind(400, "ThrottlingException", "Rate exceeded")
    if kind == "internal":
        if service == "ec2":
            return ApiErrorKind(500, "InternalError", "An internal error has occurred.")
        if service == "s3":
            return ApiErrorKind(500, "InternalError", "We encountered an internal error. Please try again.")
        return ApiErrorKind(500, "InternalFailure", "The request processing has failed because of an internal error.")
    if kind == "unavailable":
        if service == "ec2":
            return ApiErrorKind(503, "Unavailable", "The server is overloaded and can't handle the request.")
        return ApiErrorKind(503, "ServiceUnavailable", "Service is unavailable. Please try again later.")
    raise ValueError(f"unknown API error kind {kind!r}")


def region_outage_rule(rule_id: str, source: str, region: str, until: float | None) -> FaultRule:
    return FaultRule(
        id=rule_id, source=source, region=region, exclude_services=tuple(sorted(GLOBAL_SERVICES)),
        message=f"{region} is unavailable: the sandbox is simulating a region outage ({source})", until=until,
        description=f"region outage: every regional service in {region}",
    )


@dataclass
class ChaosConfig:
    """What LocalStack's Chaos API holds: its rules exactly as posted, and its latency effect."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: int = 0
