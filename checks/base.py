"""What every check is made of: typed parameters, the spec, what a check function yields, and results.

A check is a pure function of (inventory, parameters). It yields `Finding`s -- one per resource it
judged -- naming a *reason*; the spec turns each reason into the message a learner reads and the hint
that says what to do next. `CheckSpec.run` validates the parameters, guards the function and builds the
`CheckResult`s. Checks never call AWS: the inventory (checks.inventory's models) is all they see.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from checks.durations import parse_duration

if TYPE_CHECKING:
    from checks.inventory import Inventory
    from checks.view import InventoryView

PASS = "PASS"  # noqa: S105 -- a check's status, not a password
FAIL = "FAIL"
ERROR = "ERROR"
NOT_APPLICABLE = "NOT_APPLICABLE"
STATUSES = (PASS, FAIL, ERROR, NOT_APPLICABLE)
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
PHASES = ("configure", "recover")
#: what a check's findings measure: "config" (a setting), "data" (recovered data: RECOVERY_*),
#: "drill" (the drill record's RPO/RTO -- excluded from deciding that a drill has recovered)
KINDS = ("config", "data", "drill")

PARAM_TYPES = ("string", "integer", "number", "boolean", "string_list", "tags", "duration", "choice")


class CheckParamError(TypeError):
    """A parameter of a check has the wrong type or value, or is unknown; the message names it."""


# -- parameters --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """A typed parameter. `validate` returns the value in its canonical form or raises CheckParamError.

    Types: string, integer, number, boolean, string_list (a list of strings; a comma-separated string is
    accepted, as AWS Config does), tags (a mapping of tag key to value; a JSON object string or "k:v,k2:v2"
    is accepted), duration (seconds, or text such as 15m, 4h, 7d), choice (one of `choices`).
    """

    name: str
    type: str
    default: Any = None
    description: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name!r}: unknown type {self.type!r}; one of {', '.join(PARAM_TYPES)}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"parameter {self.name!r}: a choice needs its choices")

    def validate(self, value: Any) -> Any:
        converted = self._convert(value)
        if self.minimum is not None and isinstance(converted, (int, float)) and converted < self.minimum:
            raise CheckParamError(f"parameter {self.name!r} must be at least {self.minimum:g}, got {value!r}")
        return converted

    def _wrong(self, expected: str, value: Any) -> CheckParamError:
        return CheckParamError(f"parameter {self.name!r} must be {expected}, got {_show(value)}")

    def _convert(self, value: Any) -> Any:
        kind = self.type
        if kind == "string":
            if not isinstance(value, str):
                raise self._wrong("text", value)
            return value
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    isinstance(value, float) and not value.is_integer()):
                raise self._wrong("a whole number", value)
            return int(value)
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise self._wrong("a number", value)
            return float(value)
        if kind == "boolean":
            if not isinstance(value, bool):
                raise self._wrong("true or false", value)
            return value
        if kind == "string_list":
            if isinstance(value, str):
                return [part.strip() for part in value.split(",") if part.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
                raise self._wrong("a list of names", value)
            return list(value)
        if kind == "tags":
            return self._tags(value)
        if kind == "duration":
            return self._duration(value)
        if not isinstance(value, str) or value not in self.choices:
            raise self._wrong(f"one of {', '.join(self.choices)}", value)
        return value

    def _tags(self, value: Any) -> dict[str, str]:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return {}
            if text.startswith("{"):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise self._wrong("tags as a mapping or JSON object", value) from exc
            else:
                pairs = [part.split(":", 1) for part in text.split(",") if part.strip()]
                if any(len(pair) != 2 for pair in pairs):
                    raise self._wrong('tags such as "app:securecart"', value)
                return {k.strip(): v.strip() for k, v in pairs}
        if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, (str, int, float)) and not isinstance(v, bool)
                for k, v in value.items()):
            raise self._wrong("a mapping of tag keys to values", value)
        return {k: str(v) for k, v in value.items()}

    def _duration(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self._wrong("seconds or a duration such as 15m", value)
        if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0:
            return int(value)
        if isinstance(value, str):
            try:
                return int(parse_duration(value))
            except ValueError as exc:
                raise self._wrong("seconds or a duration such as 15m, 4h, 7d", value) from exc
        raise self._wrong("seconds or a duration such as 15m, 4h, 7d", value)

    def describe(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "type": self.type, "default": self.default,
                                "description": self.description}
        if self.choices:
            body["choices"] = list(self.choices)
        if self.minimum is not None:
            body["minimum"] = self.minimum
        return body


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


# -- what a check function yields, and the results ---------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One verdict on one resource. `evidence` is what the check saw; it also fills the message template."""

    resource_id: str
    status: str
    reason: str
    region: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    resource_type: str = ""  # default: the spec's
    score: float | None = None  # default: max_score for PASS, else 0
    max_score: float = 1.0


def passed(resource_id: str, reason: str, region: str = "", **evidence: Any) -> Finding:
    return Finding(resource_id, PASS, reason, region, evidence)


def failed(resource_id: str, reason: str, region: str = "", **evidence: Any) -> Finding:
    return Finding(resource_id, FAIL, reason, region, evidence)


def not_applicable(resource_id: str, reason: str, region: str = "", **evidence: Any) -> Finding:
    return Finding(resource_id, NOT_APPLICABLE, reason, region, evidence)


def errored(resource_id: str, reason: str, region: str = "", **evidence: Any) -> Finding:
    return Finding(resource_id, ERROR, reason, region, evidence)


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    resource_id: str
    resource_type: str
    region: str
    status: str
    score: float
    max_score: float
    evidence: dict[str, Any]
    reason: str
    message: str
    hint: str

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "resource_id": self.resource_id, "resource_type": self.resource_type,
                "region": self.region, "status": self.status, "score": self.score, "max_score": self.max_score,
                "evidence": self.evidence, "reason": self.reason, "message": self.message, "hint": self.hint}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


# Reasons every check may give without declaring them.
COMMON_MESSAGES = {
    "not_collected": "The inventory holds no {missing} data, which this check needs.",
    "collection_failed": "The lab could not read {service} in {region}: {error}",
    "check_failed": "The check itself failed on this inventory: {error}",
    "no_resources": "Nothing to check: {what}.",
    "another_passes": "{resource} does not qualify ({why}), but {passing} does, and one is enough here.",
    "region_down": "{region} is down ({held_by}), so the lab could not read it: {unread}",
}
COMMON_HINTS = {
    "not_collected": "Collect a full inventory (lab check without --services, or lab export) and check again.",
    "collection_failed": "Make sure the sandbox is running and healthy (lab status), then check again.",
    "check_failed": "This is a bug in the check or a damaged inventory file; tell your instructor.",
    "no_resources": "",
    "another_passes": "",
    "region_down": "Run lab recover to end the failure (lab faults lists it), then check again.",
}


class _Template(string.Formatter):
    """Formats a message from evidence: lists become 'a, b, c (+n more)'; a missing name stays visible."""

    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        if isinstance(key, str):
            return kwargs.get(key, "{" + key + "}")
        return super().get_value(key, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, (list, tuple, set, frozenset)):
            items = [str(item) for item in value]
            shown = ", ".join(items[:10]) + (f" (+{len(items) - 10} more)" if len(items) > 10 else "")
            return shown or "none"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, Mapping):
            return ", ".join(f"{k}={v}" for k, v in value.items()) or "none"
        if value is None:
            return "none"
        return super().format_field(value, format_spec)


_FORMATTER = _Template()


def render(template: str, values: Mapping[str, Any]) -> str:
    return _FORMATTER.format(template, **values)


# -- the spec ----------------------------------------------------------------------------------------

CheckFunction = Callable[[Any, dict[str, Any]], Iterable[Finding]]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    description: str
    severity: str
    resource_type: str
    params: tuple[Param, ...]
    messages: Mapping[str, str]
    hints: Mapping[str, str]
    func: CheckFunction
    services: frozenset[str]  # inventory parts the check reads (checks.inventory.PARTS)
    phase: str = "configure"
    kind: str = "config"
    store: str | None = None  # for data checks: which store's lost order ids the evidence lists
    source: str = "lab"  # "aws-config" | "backup-audit-manager" | "lab" | a plugin's name

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.id}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        if self.phase not in PHASES:
            raise ValueError(f"check {self.id}: phase {self.phase!r} is not one of {', '.join(PHASES)}")
        if self.kind not in KINDS:
            raise ValueError(f"check {self.id}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        names = [param.name for param in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"check {self.id}: parameter names repeat: {names}")

    @property
    def param_names(self) -> list[str]:
        return [param.name for param in self.params]

    def resolve_params(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults plus `given`, each validated; CheckParamError names an unknown or mistyped parameter."""
        given = dict(given or {})
        declared = {param.name: param for param in self.params}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            allowed = ", ".join(self.param_names) or "none"
            raise CheckParamError(f"{self.id}: unknown parameter {unknown[0]!r}; its parameters are: {allowed}")
        resolved: dict[str, Any] = {}
        for name, param in declared.items():
            if name in given:
                try:
                    resolved[name] = param.validate(given[name])
                except CheckParamError as exc:
                    raise CheckParamError(f"{self.id}: {exc}") from None
            else:
                resolved[name] = param.validate(param.default) if param.default is not None else None
        return resolved

    def message_for(self, reason: str, values: Mapping[str, Any]) -> tuple[str, str]:
        template = self.messages.get(reason) or COMMON_MESSAGES.get(reason) or reason.replace("_", " ")
        hint = self.hints.get(reason, COMMON_HINTS.get(reason, ""))
        return render(template, values), render(hint, values)

    def run(self, inventory: Inventory | InventoryView | Mapping[str, Any], params: Mapping[str, Any] | None = None,
            *, messages: bool = True) -> list[CheckResult]:
        """Every result of this check on `inventory` (raises CheckParamError for bad parameters): the typed
        models, a view of them, or a decoded JSON document of any readable schema version.
        messages=False leaves message and hint empty: for grading that only needs the scores."""
        from checks.view import InventoryView

        resolved = self.resolve_params(params)
        view = inventory if isinstance(inventory, InventoryView) else InventoryView(inventory)
        missing = sorted(self.services - view.collected)
        if missing:
            return [self._result(errored("inventory", "not_collected", missing=missing), resolved, messages)]
        try:
            findings = list(self.func(view, resolved))
        except Exception as exc:  # noqa: BLE001 -- a crash is reported as the check's ERROR, never lost
            return [self._result(errored("inventory", "check_failed", error=f"{type(exc).__name__}: {exc}"),
                                 resolved, messages)]
        return [self._result(finding, resolved, messages) for finding in _blame_outages(view, findings, self.messages)]

    def _result(self, finding: Finding, params: Mapping[str, Any], messages: bool = True) -> CheckResult:
        evidence = dict(finding.evidence)
        message = hint = ""
        if messages:
            message, hint = self.message_for(finding.reason, {**params, "resource": finding.resource_id,
                                                              "region": finding.region, **evidence})
        max_score = float(finding.max_score)
        if finding.score is not None:
            score = float(min(max(finding.score, 0.0), max_score))
        else:
            score = max_score if finding.status == PASS else 0.0
        return CheckResult(check_id=self.id, resource_id=finding.resource_id,
                           resource_type=finding.resource_type or self.resource_type, region=finding.region,
                           status=finding.status, score=score, max_score=max_score, evidence=evidence,
                           reason=finding.reason, message=message, hint=hint)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description, "severity": self.severity,
                "resource_type": self.resource_type, "phase": self.phase, "kind": self.kind, "store": self.store,
                "source": self.source, "services": sorted(self.services),
                "params": [param.describe() for param in self.params], "reasons": sorted(self.messages)}


def check(*, id: str, title: str, severity: str, resource_type: str, services: Iterable[str],
          messages: Mapping[str, str], hints: Mapping[str, str], params: Iterable[Param] = (),
          description: str = "", phase: str = "configure", kind: str = "config", store: str | None = None,
          source: str = "lab") -> Callable[[CheckFunction], CheckSpec]:
    """Declare a check: the decorated function becomes a CheckSpec (the registry finds it in its module)."""

    def declare(func: CheckFunction) -> CheckSpec:
        return CheckSpec(id=id, title=title, description=description or (func.__doc__ or "").strip(),
                         severity=severity, resource_type=resource_type, params=tuple(params),
                         messages=dict(messages), hints=dict(hints), func=func, services=frozenset(services),
                         phase=phase, kind=kind, store=store, source=source)

    return declare


def _blame_outages(view: InventoryView, findings: list[Finding], messages: Mapping[str, str]) -> list[Finding]:
    """A result that could not be read in a region a fault holds down says so, and how to end it: an outage
    that outlives its purpose must not read as a broken lab."""
    down = set(view.inventory.faults.regions_down)
    if not down or not any(finding.status == ERROR for finding in findings):
        return findings
    holders: dict[str, str] = {}
    for injection in view.injections:
        region = (injection.params or {}).get("region")
        if injection.status == "active" and region in down and region not in holders:
            origin = f"from drill {injection.drill}" if injection.drill else "injected with lab fail"
            holders[region] = f"fault {injection.id}, {injection.name} {origin}"
    blamed = []
    for finding in findings:
        region = finding.region if finding.region in down else (next(iter(down)) if len(down) == 1 and
                                                                 not finding.region else None)
        if finding.status != ERROR or region is None:
            blamed.append(finding)
            continue
        template = messages.get(finding.reason) or COMMON_MESSAGES.get(finding.reason)
        unread = render(template, {"resource": finding.resource_id, "region": region, **finding.evidence}) \
            if template else finding.reason.replace("_", " ")
        blamed.append(replace(finding, reason="region_down", region=region, evidence={
            **finding.evidence, "held_by": holders.get(region, "a fault holds it down"), "unread": unread,
            "unread_reason": finding.reason}))
    return blamed


MATCH = Param("match", "choice", "all", "all: every resource in scope must pass (AWS Config's way); any: one "
              "passing resource is enough (the others are reported NOT_APPLICABLE).", choices=("all", "any"))


def apply_match(findings: Iterable[Finding], match: str) -> list[Finding]:
    """With match=any and at least one PASS, the failures become NOT_APPLICABLE ('another_passes')."""
    found = list(findings)
    passing = [finding.resource_id for finding in found if finding.status == PASS]
    if match != "any" or not passing:
        return found
    return [replace(finding, status=NOT_APPLICABLE, reason="another_passes",
                    evidence={**finding.evidence, "why": finding.reason.replace("_", " "), "passing": passing})
            if finding.status == FAIL else finding for finding in found]


def aggregate_status(statuses: Iterable[str]) -> str:
    """One status for many results: ERROR, else FAIL, else PASS, else NOT_APPLICABLE."""
    seen = set(statuses)
    for status in (ERROR, FAIL, PASS):
        if status in seen:
            return status
    return NOT_APPLICABLE
