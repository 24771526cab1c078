"""IAM policy evaluation: does a resource-based policy allow one request, deny it explicitly, or not allow it?

One evaluator for the judge (the checks) and the sandbox (AWS Backup's vault access policies), so that a
verdict and the sandbox's refusal always agree. The decision is Cedar's (`cedarpy`: the Python bindings of
Cedar, AWS's open-source authorization engine): each statement of the IAM policy becomes one Cedar policy
(Deny -> forbid, Allow -> permit) over a context record that carries the request, and Cedar decides --
a forbid that applies wins over any permit, nothing applying is a denial, as in IAM. This module only
translates: IAM's elements and condition operators into Cedar expressions, the request into typed values.

IAM's rules it follows (IAM User Guide):
- Action names are case-insensitive, `*` and `?` match within them; Resource ARNs and StringLike/ArnLike
  values match with `*` (any run of characters) and `?` (one character), case-sensitively
  ("IAM JSON policy elements: Action", "... Resource", "... Condition operators").
- NotAction / NotResource match everything except what they list; NotPrincipal every principal except those
  it lists, where IAM checks each identity of the caller's chain -- the account, then the user or role, then
  the role session -- so a NotPrincipal that names a role but not its account still denies it
  ("IAM JSON policy elements: NotPrincipal").
- A statement applies when its principal, action, resource and every condition operator match (keys
  within an operator, and operators, are ANDed; the values of one key ORed). A condition key missing from the
  request makes its operator false, except for the negated operators (StringNotEquals, ArnNotLike, ...,
  NotIpAddress), which are then true; `...IfExists` makes a missing key match; `Null` tests presence;
  ForAllValues is true for a missing or empty set, ForAnyValue false ("Condition operators",
  "Multivalued context keys").
- An explicit Deny wins over any Allow ("Policy evaluation logic").

Cedar's `like` has `*` but no single-character wildcard: a `?` is matched by trying, for that position, each
character the request's value holds (a `?` can match no other); Cedar's `decimal`, `datetime` and `ip`
extensions compare numbers, dates and addresses; the request's values are carried already typed
(lower-cased, as a number, a date, an address, ARN components), so that each operator is one Cedar expression.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import cedarpy

ACCOUNT_ROOT = "arn:aws:iam::{account}:root"
MAX_WILDCARD_CHOICES = 4096  # a pattern with many `?` against a long value: refuse rather than loop for long

STRING_OPS = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
              "StringLike", "StringNotLike")
NUMERIC_OPS = ("NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
               "NumericGreaterThan", "NumericGreaterThanEquals")
DATE_OPS = ("DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
            "DateGreaterThanEquals")
OTHER_OPS = ("Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals",
             "ArnNotLike", "Null")
OPERATORS = frozenset(STRING_OPS + NUMERIC_OPS + DATE_OPS + OTHER_OPS)
NEGATED = frozenset(("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
                     "DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike"))
_POSITIVE = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
             "StringNotLike": "StringLike", "NumericNotEquals": "NumericEquals", "DateNotEquals": "DateEquals",
             "NotIpAddress": "IpAddress", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}
_COMPARE = {"Equals": "==", "LessThan": "<", "LessThanEquals": "<=", "GreaterThan": ">", "GreaterThanEquals": ">="}
_DECIMAL_METHOD = {"<": "lessThan", "<=": "lessThanOrEqual", ">": "greaterThan", ">=": "greaterThanOrEqual"}
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class PolicyError(ValueError):
    """The document is not a policy IAM would accept; the message says where and why."""


class Decision(StrEnum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitly denied"
    IMPLICIT_DENY = "not allowed"


# -- who asks, and what ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    """Who makes a request, as IAM sees it. `arn` is aws:PrincipalArn: the account's root, a user, or the role
    of an assumed-role session (whose own ARN is `session_arn`); `service` names an AWS service principal."""

    arn: str
    account: str
    type: str = "User"  # aws:PrincipalType: Account | User | AssumedRole | AWSService
    session_arn: str | None = None
    user_id: str | None = None  # aws:userid
    service: str | None = None

    @classmethod
    def of(cls, arn: str, *, session: str = "session") -> Caller:
        """A caller from an ARN: an account's root, an IAM user, a role (as one of its sessions), or an
        assumed-role session ARN."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            if arn.endswith(".amazonaws.com"):
                return cls(arn=arn, account="", type="AWSService", service=arn)
            raise ValueError(f"{arn!r} is not a principal ARN")
        account, resource = parts[4], parts[5]
        if resource == "root":
            return cls(arn=arn, account=account, type="Account", user_id=account)
        if resource.startswith("user/"):
            return cls(arn=arn, account=account, type="User", user_id=f"AIDA{account}")
        if resource.startswith("role/"):
            name = resource.rsplit("/", 1)[-1]
            return cls(arn=arn, account=account, type="AssumedRole",
                       session_arn=f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
                       user_id=f"AROA{account}:{session}")
        if resource.startswith("assumed-role/"):
            _, name, session_name = [*resource.split("/"), "", ""][:3]
            return cls(arn=f"arn:aws:iam::{account}:role/{name}", account=account, type="AssumedRole",
                       session_arn=arn, user_id=f"AROA{account}:{session_name}")
        raise ValueError(f"{arn!r} is not a principal ARN IAM evaluates (root, user, role, assumed-role)")

    @property
    def identities(self) -> tuple[str, ...]:
        """What Principal / NotPrincipal are matched against: the account, the user or role, the session."""
        if self.service:
            return (f"Service:{self.service}",)
        chain = [ACCOUNT_ROOT.format(account=self.account), self.arn, self.session_arn]
        return tuple(dict.fromkeys(f"AWS:{arn}" for arn in chain if arn))

    @property
    def chain(self) -> tuple[tuple[str, ...], ...]:
        """The identities IAM checks one after the other against a NotPrincipal: the account, then the user
        or role -- a role session passes as its role or as itself ("NotPrincipal": "include both the ARN for a
        role and the ARN for the account containing that role")."""
        if self.service:
            return ((f"Service:{self.service}",),)
        steps = [(f"AWS:{ACCOUNT_ROOT.format(account=self.account)}",)]
        if self.type != "Account":
            steps.append(tuple(f"AWS:{arn}" for arn in (self.arn, self.session_arn) if arn))
        return tuple(steps)

    def context(self) -> dict[str, Any]:
        """The aws:Principal* keys of the request context ("Principal key values")."""
        if self.service:
            return {"aws:PrincipalServiceName": self.service, "aws:PrincipalIsAWSService": True}
        keys: dict[str, Any] = {"aws:PrincipalArn": self.arn, "aws:PrincipalAccount": self.account,
                                "aws:PrincipalType": self.type, "aws:PrincipalIsAWSService": False}
        if self.user_id:
            keys["aws:userid"] = self.user_id
        if self.type == "User":
            keys["aws:username"] = self.arn.rsplit("/", 1)[-1]
        return keys

    def describe(self) -> str:
        if self.service:
            return f"the service {self.service}"
        if self.type == "Account":
            return f"the account's root ({self.arn})"
        if self.type == "AssumedRole":
            return f"a session of role {self.arn}"
        return f"IAM user {self.arn}"


@dataclass(frozen=True)
class Request:
    """One request: who, which action on which resource, and the other keys of its context (aws:SourceIp,
    aws:SecureTransport, aws:CurrentTime, ...; a list for a multivalued key). The caller's keys are added."""

    caller: Caller
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)

    def keys(self) -> dict[str, Any]:
        merged = {**self.caller.context(), **self.context}
        return {name.lower(): value for name, value in merged.items() if value is not None}


# -- the policy, parsed ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # the operator without prefix and suffix, e.g. "StringLike"
    quantifier: str | None  # "ForAllValues" | "ForAnyValue" | None
    if_exists: bool
    key: str  # as written
    values: tuple[str, ...]

    def describe(self) -> str:
        shown = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator} {{{self.key}: {json.dumps(shown)}}}"


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: str
    principal_key: str | None  # "Principal" | "NotPrincipal" | None (identity policies)
    principals: tuple[str, ...]  # "*" or "AWS:<arn>", "Service:<name>", ...
    action_key: str  # "Action" | "NotAction"
    actions: tuple[str, ...]
    resource_key: str | None  # "Resource" | "NotResource" | None (no Resource element: the policy's resource)
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        return f"statement {self.sid}" if self.sid else f"statement {self.index + 1}"


@dataclass(frozen=True)
class Policy:
    version: str
    statements: tuple[Statement, ...]

    @property
    def variables(self) -> bool:
        return self.version == "2012-10-17"


def parse(document: str | Mapping[str, Any]) -> Policy:
    """The policy, checked as IAM checks it; PolicyError says what is wrong."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise PolicyError(f"the policy is not valid JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise PolicyError("the policy must be a JSON object")
    version = str(document.get("Version") or "2008-10-17")
    if version not in ("2012-10-17", "2008-10-17"):
        raise PolicyError(f"Version {version!r} is not 2012-10-17 or 2008-10-17")
    raw = document.get("Statement")
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise PolicyError("the policy needs a Statement (a list of statements)")
    return Policy(version, tuple(_statement(index, each) for index, each in enumerate(raw)))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    listed = value if isinstance(value, list) else [value]
    if not listed or not all(isinstance(item, (str, bool, int, float)) for item in listed):
        raise PolicyError(f"{where} must be a string or a list of strings")
    return tuple(_text(item) for item in listed)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _statement(index: int, raw: Any) -> Statement:
    where = f"statement {index + 1}"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where} is not a JSON object")
    sid = raw.get("Sid")
    if sid is not None:
        where = f"statement {sid}"
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be Allow or Deny, not {effect!r}")
    principal_key, principals = _principal_element(raw, where)
    action_key = _exactly_one(raw, ("Action", "NotAction"), where, required=True)
    actions = _strings(raw[action_key], f"{where}: {action_key}")
    for action in actions:
        if action != "*" and ":" not in action:
            raise PolicyError(f"{where}: {action_key} {action!r} is not service:action "
                              "(e.g. backup:DeleteRecoveryPoint)")
    resource_key = _exactly_one(raw, ("Resource", "NotResource"), where, required=False)
    resources = _strings(raw[resource_key], f"{where}: {resource_key}") if resource_key else ()
    if principal_key == "NotPrincipal" and effect == "Allow":
        raise PolicyError(f"{where}: NotPrincipal may only be used with Effect Deny")
    return Statement(index, str(sid) if sid is not None else None, effect, principal_key, principals, action_key,
                     actions, resource_key, resources, _conditions(raw.get("Condition"), where))


def _exactly_one(raw: Mapping[str, Any], names: tuple[str, str], where: str, required: bool) -> str | None:
    present = [name for name in names if name in raw]
    if len(present) > 1:
        raise PolicyError(f"{where}: use either {names[0]} or {names[1]}, not both")
    if not present:
        if required:
            raise PolicyError(f"{where}: needs {names[0]} (or {names[1]})")
        return None
    return present[0]


def _principal_element(raw: Mapping[str, Any], where: str) -> tuple[str | None, tuple[str, ...]]:
    key = _exactly_one(raw, ("Principal", "NotPrincipal"), where, required=False)
    if key is None:
        return None, ()
    value = raw[key]
    if value == "*":
        return key, ("*",)
    if not isinstance(value, Mapping) or not value:
        raise PolicyError(f'{where}: {key} must be "*" or an object such as {{"AWS": "<ARN>"}}')
    found: list[str] = []
    for kind, names in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise PolicyError(f"{where}: {key} has {kind!r}; it takes AWS, Service, Federated or CanonicalUser")
        for name in _strings(names, f"{where}: {key}.{kind}"):
            if name == "*":
                found.append("*")
            elif "*" in name or "?" in name:
                # "You cannot use a wildcard to match part of a principal name or ARN" (Principal element).
                raise PolicyError(f"{where}: {key} {name!r}: a wildcard cannot match part of a principal; use "
                                  '"*" with a condition on aws:PrincipalArn instead')
            elif kind == "AWS" and re.fullmatch(r"\d{12}", name):
                found.append(f"AWS:{ACCOUNT_ROOT.format(account=name)}")
            else:
                found.append(f"{kind}:{name}")
    return key, tuple(found)


def _conditions(raw: Any, where: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: Condition must be an object of operators")
    found = []
    for operator, tests in raw.items():
        quantifier, rest = (operator.split(":", 1) if ":" in operator else (None, operator))
        if quantifier not in (None, "ForAllValues", "ForAnyValue"):
            raise PolicyError(f"{where}: unknown set operator {quantifier!r} in {operator!r}")
        if_exists = rest.endswith("IfExists") and rest != "IfExists"
        base = rest[: -len("IfExists")] if if_exists else rest
        if base not in OPERATORS or (if_exists and base == "Null"):
            raise PolicyError(f"{where}: unknown condition operator {operator!r}")
        if not isinstance(tests, Mapping) or not tests:
            raise PolicyError(f"{where}: {operator} must map condition keys to values")
        for key, values in tests.items():
            listed = _strings(values, f"{where}: {operator} {key}")
            for value in listed:
                _check_value(base, value, f"{where}: {operator} {key}")
            found.append(Condition(operator, base, quantifier, if_exists, str(key), listed))
    return tuple(found)


def _check_value(base: str, value: str, where: str) -> None:
    if base in NUMERIC_OPS and _number(value) is None:
        raise PolicyError(f"{where}: {value!r} is not a number")
    if base in DATE_OPS and _date(value) is None:
        raise PolicyError(f"{where}: {value!r} is not a date (ISO 8601 or epoch seconds)")
    if base in ("IpAddress", "NotIpAddress") and _network(value) is None:
        raise PolicyError(f"{where}: {value!r} is not an IP address or CIDR range")
    if base in ("Bool", "Null") and value.lower() not in ("true", "false"):
        raise PolicyError(f"{where}: {value!r} is not true or false")


# -- typed values ------------------------------------------------------------------------------------

def _number(value: str) -> str | None:
    """A decimal Cedar reads (four places at most, as Cedar's decimal has)."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= Decimal("922337203685477"):
        return None
    return f"{number.quantize(Decimal('0.0001')):.4f}"


def _date(value: str) -> str | None:
    """A date as Cedar's datetime reads it (UTC, milliseconds), from ISO 8601 or epoch seconds."""
    text = value.strip()
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            moment = datetime.fromtimestamp(float(text), UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _network(value: str) -> str | None:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        return None


def _typed(value: str) -> dict[str, Any]:
    """One request value in every form an operator compares."""
    record: dict[str, Any] = {"s": value, "lc": value.lower()}
    number = _number(value)
    if number is not None:
        record["num"] = number
    date = _date(value)
    if date is not None:
        record["date"] = date
    try:
        record["ip"] = str(ipaddress.ip_address(value.strip()))
    except ValueError:
        pass
    parts = value.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        record["arn"] = {f"p{i}": part for i, part in enumerate(parts)}
    return record


# -- translation to Cedar ----------------------------------------------------------------------------

def _lit(text: str) -> str:
    """A Cedar string literal."""
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(f"\\u{{{ord(char):x}}}")
    return '"' + "".join(out) + '"'


# A glob pattern as tokens: literal text, "*" (any run) and "?" (one character).
Token = tuple[str, str]


def _glob(pattern: str, request: Mapping[str, Any] | None) -> list[Token] | None:
    """Tokens of an IAM pattern; policy variables (${aws:username}, ${*}, ${?}, ${$}) resolved from the
    request's keys when `request` is given (2012-10-17 policies). None: a variable the request lacks."""
    tokens: list[Token] = []
    position = 0
    matches = list(_VARIABLE.finditer(pattern)) if request is not None else []
    for match in [*matches, None]:
        end = match.start() if match else len(pattern)
        for char in pattern[position:end]:
            tokens.append(("*", "") if char == "*" else ("?", "") if char == "?" else ("lit", char))
        if match is None:
            break
        position = match.end()
        name, _, default = match.group(1).partition(",")
        name = name.strip()
        if name in ("*", "?", "$"):
            tokens.append(("lit", name))
            continue
        value = (request or {}).get(name.lower())
        if value is None or isinstance(value, (list, tuple, set, frozenset)):
            default = default.strip()
            if len(default) >= 2 and default[0] == default[-1] == "'":
                value = default[1:-1]
            else:
                return None
        tokens.extend(("lit", char) for char in _text(value))
    return tokens


def _resolve(value: str, request: Mapping[str, Any] | None) -> str | None:
    """A value with its policy variables resolved (`*` and `?` stay literal: an exact comparison)."""
    tokens = _glob(value, request)
    if tokens is None:
        return None
    return "".join(kind if kind in ("*", "?") else char for kind, char in tokens)


def _like(tokens: list[Token], subject: str, value: str, lower: bool = False) -> str:
    """Cedar for `subject` (holding `value`) matching the pattern with `like`. Cedar's `like` has no
    single-character wildcard, so each `?` becomes a character of `value`: one anchored before the first `*`
    (or after the last) can only be the character at its position; one between two `*` is tried as each
    character `value` holds. The `like` still judges the whole pattern."""
    wildcards = [i for i, (kind, _) in enumerate(tokens) if kind == "?"]
    if not wildcards:
        return f"{subject} like {_like_literal(tokens, lower)}"
    stars = [i for i, (kind, _) in enumerate(tokens) if kind == "*"]
    first, last = (stars[0], stars[-1]) if stars else (len(tokens), -1)
    filled = list(tokens)
    floating = []
    for index in wildcards:
        if index < first:
            position = index
        elif index > last:
            position = len(value) - (len(tokens) - index)
        else:
            floating.append(index)
            continue
        if not 0 <= position < len(value):
            return "false"  # the value is too short for the pattern's fixed part
        filled[index] = ("lit", value[position])
    if not floating:
        return f"{subject} like {_like_literal(filled, lower)}"
    choices = sorted(set(value))
    if not choices:
        return "false"
    if len(choices) ** len(floating) > MAX_WILDCARD_CHOICES:
        shown = "".join(char or kind for kind, char in tokens)
        raise PolicyError(f"the pattern {shown!r} has too many '?' between '*' to evaluate")
    alternatives = []
    for picked in itertools.product(choices, repeat=len(floating)):
        for index, char in zip(floating, picked, strict=True):
            filled[index] = ("lit", char)
        alternatives.append(f"{subject} like {_like_literal(filled, lower)}")
    return "(" + " || ".join(alternatives) + ")"


def _like_literal(tokens: list[Token], lower: bool) -> str:
    out = []
    for kind, char in tokens:
        if kind == "*":
            out.append("*")
            continue
        char = char.lower() if lower else char
        if char == "*":
            out.append("\\*")
        elif char in ('"', "\\"):
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(f"\\u{{{ord(char):x}}}")
    return '"' + "".join(out) + '"'


class _Translator:
    """The Cedar text of a policy's statements for one request (the request's values fill in `?`, the
    policy variables and the shape of multivalued keys)."""

    def __init__(self, policy: Policy, request: Request) -> None:
        self.policy = policy
        self.request = request
        self.keys = request.keys()
        self.variables = self.keys if policy.variables else None

    def context(self) -> dict[str, Any]:
        keys: dict[str, Any] = {}
        for name, value in self.keys.items():
            if isinstance(value, (list, tuple, set, frozenset)):
                items = [_text(item) for item in value]
                keys[name] = {"n": len(items), **{f"e{i}": _typed(item) for i, item in enumerate(items)}}
            else:
                keys[name] = _typed(_text(value))
        return {"action": self.request.action.lower(), "resource": self.request.resource,
                "principals": list(self.request.caller.identities), "keys": keys}

    # each element of a statement, as a Cedar expression

    def principal(self, statement: Statement) -> str:
        if statement.principal_key is None or "*" in statement.principals:
            return "true"
        listed = "[" + ", ".join(_lit(p) for p in statement.principals) + "]"
        if statement.principal_key == "Principal":
            return f"{listed}.containsAny(context.principals)"
        steps = [f"{listed}.containsAny([{', '.join(_lit(name) for name in step)}])"
                 for step in self.request.caller.chain]
        return "!(" + " && ".join(steps) + ")"

    def action(self, statement: Statement) -> str:
        action = self.request.action
        tests = [_like(_glob(pattern, None) or [], "context.action", action.lower(), lower=True)
                 for pattern in statement.actions]
        matched = "(" + " || ".join(tests) + ")"
        return matched if statement.action_key == "Action" else f"!{matched}"

    def resource(self, statement: Statement) -> str:
        if statement.resource_key is None:
            return "true"
        tests = []
        for pattern in statement.resources:
            tokens = _glob(pattern, self.variables)
            tests.append("false" if tokens is None else _like(tokens, "context.resource", self.request.resource))
        matched = "(" + " || ".join(tests) + ")"
        return matched if statement.resource_key == "Resource" else f"!{matched}"

    def condition(self, condition: Condition) -> str:
        key = condition.key.lower()
        present = f"(context.keys has {_lit(key)})"
        value = self.keys.get(key)
        if condition.base == "Null":
            wants_absent = condition.values[0].lower() == "true"
            return f"!{present}" if wants_absent else present
        negated = condition.base in NEGATED
        base = _POSITIVE.get(condition.base, condition.base)
        record = f"context.keys[{_lit(key)}]"
        multi = isinstance(value, (list, tuple, set, frozenset))
        if value is None:
            # The key is absent: the test below is never reached, but must still be valid Cedar.
            elements: list[tuple[str, str]] = []
        elif multi:
            elements = [(f"{record}.e{i}", _text(item)) for i, item in enumerate(value)]
        else:
            elements = [(record, _text(value))]

        def element_holds(subject: str, concrete: str) -> str:
            matched = "(" + " || ".join(self._compare(base, subject, concrete, wanted)
                                        for wanted in condition.values) + ")"
            return f"!{matched}" if negated else matched

        tests = [element_holds(subject, concrete) for subject, concrete in elements]
        if condition.quantifier == "ForAllValues":
            every = " && ".join(tests) if tests else "true"
            return f"(!{present} || ({every}))"
        if condition.quantifier == "ForAnyValue" or multi:
            some = " || ".join(tests) if tests else "false"
            if negated and not condition.quantifier:
                # A negated operator on a multivalued key: none of its values matches.
                some = " && ".join(tests) if tests else "true"
            if condition.if_exists:
                return f"(!{present} || ({some}))"
            return f"({present} && ({some}))"
        holds = tests[0] if tests else "false"
        if condition.if_exists or negated:
            return f"(!{present} || {holds})"
        return f"({present} && {holds})"

    def _compare(self, base: str, subject: str, concrete: str, wanted: str) -> str:
        if base in ("StringEquals", "BinaryEquals", "StringEqualsIgnoreCase"):
            resolved = _resolve(wanted, self.variables) if base != "BinaryEquals" else wanted
            if resolved is None:
                return "false"
            if base == "StringEqualsIgnoreCase":
                return f"{subject}.lc == {_lit(resolved.lower())}"
            return f"{subject}.s == {_lit(resolved)}"
        if base == "StringLike":
            tokens = _glob(wanted, self.variables)
            return "false" if tokens is None else _like(tokens, f"{subject}.s", concrete)
        if base == "Bool":
            return f"{subject}.lc == {_lit(wanted.lower())}"
        if base in NUMERIC_OPS:
            operator = _COMPARE[base[len("Numeric"):]]
            number = f'decimal({_lit(_number(wanted) or "0.0")})'
            mine = f"decimal({subject}.num)"
            test = f"{mine} == {number}" if operator == "==" else f"{mine}.{_DECIMAL_METHOD[operator]}({number})"
            return f"({subject} has num && {test})"
        if base in DATE_OPS:
            operator = _COMPARE[base[len("Date"):]]
            return f'({subject} has date && datetime({subject}.date) {operator} datetime({_lit(_date(wanted) or "")}))'
        if base == "IpAddress":
            return f"({subject} has ip && ip({subject}.ip).isInRange(ip({_lit(_network(wanted) or '')})))"
        if base in ("ArnEquals", "ArnLike"):
            tokens = _glob(wanted, self.variables)
            if tokens is None:
                return "false"
            parts = _split_tokens(tokens)
            if len(parts) != 6:
                return "false"
            pieces = concrete.split(":", 5)
            if len(pieces) != 6:
                return "false"
            tests = [_like(part, f"{subject}.arn.p{i}", pieces[i]) for i, part in enumerate(parts)]
            return f"({subject} has arn && " + " && ".join(tests) + ")"
        raise PolicyError(f"unknown condition operator {base!r}")  # (parse refuses these first)

    def statement(self, statement: Statement) -> str:
        parts = [self.principal(statement), self.action(statement), self.resource(statement),
                 *(self.condition(c) for c in statement.conditions)]
        return " && ".join(parts)

    def policies(self) -> str:
        text = []
        for statement in self.policy.statements:
            kind = "forbid" if statement.effect == "Deny" else "permit"
            text.append(f"@id({_lit(f's{statement.index}')})\n{kind} (principal, action, resource) when "
                        f"{{ {self.statement(statement)} }};")
        return "\n".join(text)

    def elements(self) -> tuple[str, dict[str, tuple[int, str]]]:
        """Every element of every statement as a permit of its own: which ones hold, for the explanation."""
        text, names = [], {}
        for statement in self.policy.statements:
            tests = [("principal", self.principal(statement)), ("action", self.action(statement)),
                     ("resource", self.resource(statement))]
            tests += [(f"condition{i}", self.condition(c)) for i, c in enumerate(statement.conditions)]
            for name, test in tests:
                ident = f"s{statement.index}.{name}"
                names[ident] = (statement.index, name)
                text.append(f"@id({_lit(ident)})\npermit (principal, action, resource) when {{ {test} }};")
        return "\n".join(text), names


def _split_tokens(tokens: list[Token]) -> list[list[Token]]:
    """An ARN pattern's tokens split into its colon-separated components (the first five colons)."""
    parts: list[list[Token]] = [[]]
    for token in tokens:
        if token == ("lit", ":") and len(parts) < 6:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


_ENTITY = {"principal": {"type": "Caller", "id": "caller"}, "action": {"type": "Action", "id": "request"},
           "resource": {"type": "Resource", "id": "resource"}}


def _authorize(policies: str, context: dict[str, Any]) -> cedarpy.AuthzResult:
    # Imported on first evaluation: Cedar's bindings take a tenth of a second to import, which every process
    # loading this module would pay (the sandbox at start, for AWS Backup's vault policies) without evaluating.
    import cedarpy

    result = cedarpy.is_authorized({**_ENTITY, "context": context}, policies, [])
    errors = result.diagnostics.errors
    if errors:
        raise PolicyError(f"the policy could not be evaluated: {errors[0]}")
    return result


def _determining(result: cedarpy.AuthzResult) -> list[str]:
    names = result.diagnostics.id_annotations_by_reason
    return [names.get(reason, reason) for reason in result.diagnostics.reasons]


# -- evaluation --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    statements: tuple[Statement, ...]  # those that decided: the Deny ones that apply, else the Allow ones

    @property
    def denied(self) -> bool:
        return self.decision is Decision.EXPLICIT_DENY


def evaluate(policy: Policy | str | Mapping[str, Any], request: Request) -> Evaluation:
    """What the policy says to the request: allowed, explicitly denied, or not allowed (no statement
    applies). PolicyError for a document IAM would not accept."""
    policy = policy if isinstance(policy, Policy) else parse(policy)
    translator = _Translator(policy, request)
    result = _authorize(translator.policies(), translator.context())
    by_id = {f"s{s.index}": s for s in policy.statements}
    deciding = tuple(by_id[name] for name in _determining(result) if name in by_id)
    import cedarpy  # (loaded by _authorize)

    if result.decision == cedarpy.Decision.Allow:
        return Evaluation(Decision.ALLOWED, deciding)
    denying = tuple(s for s in deciding if s.effect == "Deny")
    return Evaluation(Decision.EXPLICIT_DENY if denying else Decision.IMPLICIT_DENY, denying)


@dataclass(frozen=True)
class StatementTrace:
    """Why one statement applies to a request, or which of its elements keep it from applying."""

    statement: Statement
    failing: tuple[str, ...]  # "principal" | "action" | "resource" | "condition<i>"

    @property
    def applies(self) -> bool:
        return not self.failing

    def reasons(self, request: Request) -> list[str]:
        """The elements that do not match, in words."""
        s = self.statement
        said = []
        for name in self.failing:
            if name == "principal":
                if s.principal_key == "NotPrincipal":
                    said.append(f"its NotPrincipal exempts {request.caller.describe()}")
                else:
                    said.append(f"its Principal does not name {request.caller.describe()}")
            elif name == "action":
                said.append(f"its NotAction excludes {request.action}" if s.action_key == "NotAction"
                            else f"its Action ({', '.join(s.actions)}) does not cover {request.action}")
            elif name == "resource":
                said.append(f"its NotResource excludes {request.resource}" if s.resource_key == "NotResource"
                            else f"its Resource ({', '.join(s.resources)}) does not cover {request.resource}")
            else:
                condition = s.conditions[int(name[len("condition"):])]
                value = request.keys().get(condition.key.lower())
                seen = "absent from the request" if value is None else json.dumps(
                    value if not isinstance(value, (set, frozenset, tuple)) else list(value))
                said.append(f"its condition {condition.describe()} does not hold ({condition.key} is {seen})")
        return said


def explain(policy: Policy | str | Mapping[str, Any], request: Request) -> list[StatementTrace]:
    """For each statement, which of its elements the request fails (Cedar evaluates each element)."""
    policy = policy if isinstance(policy, Policy) else parse(policy)
    translator = _Translator(policy, request)
    text, names = translator.elements()
    holding = set(_determining(_authorize(text, translator.context())))
    traces = []
    for statement in policy.statements:
        failing = tuple(name for ident, (index, name) in names.items()
                        if index == statement.index and ident not in holding)
        traces.append(StatementTrace(statement, failing))
    return traces


def actions_named(policy: Policy) -> Iterator[str]:
    """Every Action / NotAction pattern of the policy's statements (for messages)."""
    for statement in policy.statements:
        yield from statement.actions


def request_keys(source_ip: str | None = None, secure: bool | None = None, now: float | None = None,
                 region: str | None = None, **more: Any) -> dict[str, Any]:
    """The common global keys of a request context (only those given)."""
    keys: dict[str, Any] = dict(more)
    if source_ip is not None:
        keys["aws:SourceIp"] = source_ip
    if secure is not None:
        keys["aws:SecureTransport"] = secure
    if now is not None:
        keys["aws:CurrentTime"] = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        keys["aws:EpochTime"] = str(int(now))
    if region is not None:
        keys["aws:RequestedRegion"] = region
    return keys


__all__: Sequence[str] = ("Caller", "Decision", "Evaluation", "Policy", "PolicyError", "Request", "Statement",
                          "StatementTrace", "evaluate", "explain", "parse", "request_keys")
