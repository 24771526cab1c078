"""Requests read into the operation's input, in every protocol the gateway speaks, from botocore's models.

`decode_request` gives what boto3 was given (member name -> value; timestamps as aware datetimes, blobs as
bytes) for the json, rest-json, rest-xml, query, ec2 and smithy-rpc-v2-cbor protocols. Strictly (the
default, for calls from outside) it checks the request as the service does -- a body that cannot be read, a
value its member's type cannot hold, a required member missing -- and refuses with the service's own error
code (`refusals`). Leniently (`strict=False`, for the audit re-reading calls it kept) it reads what it can
and raises ValueError only for a body it cannot read at all.

`decode_answer` reads an answer back into the operation's output (or {"Error": {...}} for a failure), as
boto3 would.

botocore parses answers, not requests; the rest and RPC protocols carry the input in the same places an
answer carries the output (headers, payload, XML/CBOR body), so its parsers read those parts, and this
module reads what only requests have: URI labels, the query string, form-encoded bodies, and JSON bodies
checked member by member.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import math
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache, lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote

import botocore.model
import defusedxml.ElementTree as DefusedElementTree
from botocore.awsrequest import HeadersDict
from botocore.parsers import ResponseParserFactory
from botocore.utils import parse_timestamp
from dateutil.tz import tzutc
from defusedxml import DefusedXmlException

from lab.gateway.codec.encode import XML_INVALID
from lab.gateway.codec.identify import service_model
from lab.gateway.codec.model import operation_model
from lab.kernel.errors import AwsError

__all__ = ["REFUSED_DTD", "Refusals", "decode_answer", "decode_request", "refusals", "streams_output",
           "takes_xml_body"]

#: nesting of structures, lists and maps deeper than this is refused (DynamoDB allows 32 levels of attributes,
#: each two or three levels of the model; nothing else comes near)
MAX_DEPTH = 100
#: list and map entries read from a form-encoded (query, ec2) request
MAX_FORM_ENTRIES = 10_000
REFUSED_DTD = ("the request body declares a DOCTYPE, entities or external references; AWS APIs take plain XML "
               "without them")
_REST = ("rest-json", "rest-xml")
_JSON_TYPES = {"structure": dict, "map": dict, "list": list, "string": str, "boolean": bool}
# Shapes a service treats as unions although the model does not mark them so: exactly one member is set.
_UNIONS = frozenset({("dynamodb", "AttributeValue"), ("dynamodbstreams", "AttributeValue")})


@dataclass(frozen=True, slots=True)
class Refusals:
    """The error codes a service answers a request it cannot accept with (all HTTP 400)."""

    missing: str  # a required member is absent
    invalid: str  # a value its member's type cannot hold
    malformed: str  # a body that cannot be read in the protocol at all
    empty_payload: str | None = None  # a required body (payload) is empty; None: `missing`


# The codes each protocol's services answer by default, and the services that answer otherwise. Sources:
# query/ec2 "Common Errors" (MissingParameter, InvalidParameterValue, InvalidQueryParameter; e.g.
# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html,
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html); JSON services answer
# SerializationException for a body they cannot deserialize and ValidationException for values that break
# the model's constraints (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html);
# S3 https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList;
# Route 53 InvalidInput (https://docs.aws.amazon.com/Route53/latest/APIReference/CommonErrors.html);
# AWS Backup MissingParameterValueException / InvalidParameterValueException
# (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupVault.html#API_CreateBackupVault_Errors);
# DLM InvalidRequestException (https://docs.aws.amazon.com/dlm/latest/APIReference/API_CreateLifecyclePolicy.html);
# CloudTrail InvalidParameterException (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
_BY_PROTOCOL = {
    "query": Refusals("MissingParameter", "InvalidParameterValue", "InvalidQueryParameter"),
    "ec2": Refusals("MissingParameter", "InvalidParameterValue", "InvalidQueryParameter"),
    "json": Refusals("ValidationException", "ValidationException", "SerializationException"),
    "smithy-rpc-v2-cbor": Refusals("ValidationException", "ValidationException", "SerializationException"),
    "rest-json": Refusals("ValidationException", "ValidationException", "SerializationException"),
    "rest-xml": Refusals("InvalidInput", "InvalidInput", "InvalidInput"),
}
_BY_SERVICE = {
    "s3": Refusals("InvalidArgument", "InvalidArgument", "MalformedXML", empty_payload="MissingRequestBodyError"),
    "backup": Refusals("MissingParameterValueException", "InvalidParameterValueException", "SerializationException"),
    "dlm": Refusals("InvalidRequestException", "InvalidRequestException", "SerializationException"),
    "cloudtrail": Refusals("InvalidParameterException", "InvalidParameterException", "SerializationException"),
}


def refusals(service: str | None, protocol: str | None) -> Refusals:
    return _BY_SERVICE.get(service or "") or _BY_PROTOCOL.get(protocol or "", _BY_PROTOCOL["json"])


class _ProblemError(Exception):
    """A request the model does not admit: which refusal, why, and where (member path, built unwinding)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        # "missing" (a required member), "empty" (a required body), "invalid" (a value the member cannot take),
        # "malformed" (what cannot be read: a body, or a JSON value of the wrong type)
        self.kind = kind
        self.message = message
        self.path: list[str] = []

    def at(self, step: str) -> _ProblemError:
        self.path.append(step)
        return self

    def where(self) -> str:
        return "".join(reversed(self.path)).lstrip(".")


# -- requests ------------------------------------------------------------------------------------


def decode_request(service: str, operation: str, protocol: str | None, path: str, query_string: str,
                   headers: Mapping[str, Any], body: bytes | None, *, strict: bool = True,
                   bucket: str | None = None, key: str | None = None) -> dict[str, Any]:
    """The operation's input members, as boto3 was given them.

    `path` is the raw (percent-encoded) path; `headers` any mapping; `body` the request body, or None when it
    was not read (an operation whose body is a blob never needs it). S3's `bucket` and `key` (from a
    virtual-hosted request's Host) fill the members the path does not carry. Strictly: raises AwsError with
    the service's code; leniently: ValueError for a body that cannot be read at all.
    """
    model = operation_model(service, operation)
    protocol = protocol or model.metadata.get("protocol")
    try:
        params = _Decoder(service, strict).request(model, protocol, path, query_string, headers, body, bucket,
                                                   key)
    except _ProblemError as problem:
        if not strict:
            raise ValueError(f"the {service} {operation} request does not match its model: {problem}") from None
        raise _refusal(service, protocol, problem) from None
    if strict and protocol in _BOUNDED_PROTOCOLS and service not in _OWN_BOUNDS and model.input_shape is not None:
        try:
            _check_bounds(_bounded_shapes(service), model.input_shape, params, 0)
        except _OutOfBoundsError as broken:
            raise AwsError(refusals(service, protocol).invalid,
                           f"1 validation error detected: Value '{broken.shown}' at '{broken.where()}' failed to "
                           f"satisfy constraint: {broken.constraint}", 400) from None
    return params


# The protocols of the services that check every member against its model's min and max before anything
# else, answering "1 validation error detected: Value ... at ... failed to satisfy constraint: ..." (e.g.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html, ValidationException;
# Route 53's InvalidInput carries the same words). botocore's clients check each minimum themselves
# (ParamValidator), never a maximum: MaxResults=5000 reached the backend, which took it.
_BOUNDED_PROTOCOLS = frozenset({"json", "rest-json", "smithy-rpc-v2-cbor", "rest-xml"})
# Services that answer out-of-range values with their own documented exceptions instead (CloudTrail's
# InvalidMaxResultsException, InvalidTimeRangeException, ...: lab.services.cloudtrail checks them), or not at
# all (S3).
_OWN_BOUNDS = frozenset({"s3", "cloudtrail"})


class _OutOfBoundsError(Exception):
    """A value outside its shape's min or max; the path to it gathered as the walk unwinds (built only then: the
    walk runs on every call of these protocols, and nearly every value is within bounds)."""

    def __init__(self, shown: str, constraint: str) -> None:
        super().__init__(constraint)
        self.shown, self.constraint = shown, constraint
        self.path: list[str] = []

    def where(self) -> str:
        return ".".join(reversed(self.path))


def _check_bounds(bounded: frozenset[str], shape: botocore.model.Shape, value: Any, depth: int) -> None:
    """Raise _OutOfBoundsError for the first value outside its shape's min or max (numbers: the value; text,
    blobs, lists, maps: the length). `bounded`: the names of the shapes with a bound at or below them."""
    if depth > MAX_DEPTH or shape.name not in bounded:
        return
    kind, metadata = shape.type_name, shape.metadata
    measure: float | None = None
    if kind in ("integer", "long", "float", "double"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            measure, what = value, "value"
    elif isinstance(value, (str, bytes, list, dict)) and kind in ("string", "blob", "list", "map"):
        measure, what = len(value), "length"
    if measure is not None:
        low, high = metadata.get("min"), metadata.get("max")
        if low is not None and measure < low:
            raise _OutOfBoundsError(str(value)[:100], f"Member must have {what} greater than or equal to {low}")
        if high is not None and measure > high:
            raise _OutOfBoundsError(str(value)[:100], f"Member must have {what} less than or equal to {high}")
    if kind == "structure" and isinstance(value, dict):
        for name, item in value.items():
            member = shape.members.get(name)
            if member is not None:
                try:
                    _check_bounds(bounded, member, item, depth + 1)
                except _OutOfBoundsError as broken:
                    broken.path.append(name[:1].lower() + name[1:])
                    raise
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            try:
                _check_bounds(bounded, shape.member, item, depth + 1)
            except _OutOfBoundsError as broken:
                broken.path.append(f"{index + 1}.member")
                raise
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            try:
                _check_bounds(bounded, shape.key, key, depth + 1)
            except _OutOfBoundsError as broken:
                broken.path.append("key")
                raise
            try:
                _check_bounds(bounded, shape.value, item, depth + 1)
            except _OutOfBoundsError as broken:
                broken.path.append(str(key))
                raise


@cache
def _bounded_shapes(service: str) -> frozenset[str]:
    """The names of `service`'s shapes that have a min or a max, or a shape below them that has one (worked
    out once per service, from its model)."""
    model = service_model(service)
    below: dict[str, list[str]] = {}
    bounded: set[str] = set()
    for name in model.shape_names:
        shape = model.shape_for(name)
        if shape.metadata.get("min") is not None or shape.metadata.get("max") is not None:
            bounded.add(name)
        if shape.type_name == "structure":
            below[name] = [member.name for member in shape.members.values()]
        elif shape.type_name == "list":
            below[name] = [shape.member.name]
        elif shape.type_name == "map":
            below[name] = [shape.key.name, shape.value.name]
    changed = True
    while changed:  # (until no shape above a bounded one is left out)
        changed = False
        for name, children in below.items():
            if name not in bounded and any(child in bounded for child in children):
                bounded.add(name)
                changed = True
    return frozenset(bounded)


def _refusal(service: str, protocol: str | None, problem: _ProblemError) -> AwsError:
    codes = refusals(service, protocol)
    where = problem.where()
    if problem.kind == "missing":
        code = codes.missing
        message = f"The request is missing the required parameter {where}" if where else problem.message
    elif problem.kind == "empty":
        code = codes.empty_payload or codes.missing
        message = problem.message
    else:
        code = codes.invalid if problem.kind == "invalid" else codes.malformed
        message = f"{where}: {problem.message}" if where else problem.message
    return AwsError(code, message, 400)


class _Decoder:
    __slots__ = ("service", "strict", "xml_answers")

    def __init__(self, service: str, strict: bool) -> None:
        self.service = service
        self.strict = strict
        # what a query, ec2 or rest-xml call stores or echoes comes back in XML answers (but S3's: its keys may
        # hold any character, and its listings encode them when asked)
        self.xml_answers = False

    def request(self, model: botocore.model.OperationModel, protocol: str | None, path: str, query_string: str,
                headers: Mapping[str, Any], body: bytes | None, bucket: str | None,
                key: str | None) -> dict[str, Any]:
        shape = model.input_shape
        if shape is None:
            return {}
        self.xml_answers = protocol in ("query", "ec2") or (protocol == "rest-xml" and self.service != "s3")
        if protocol in ("query", "ec2"):
            form = dict(parse_qsl(query_string, keep_blank_values=True))
            if body:
                text = self._text(self._inflated(headers, body))
                form.update(parse_qsl(text, keep_blank_values=True))
            form.pop("Action", None)
            form.pop("Version", None)
            params = self._from_form(shape, form, "", protocol == "ec2") or {}
            if self.strict:
                self._require(shape, params)
            return params
        if protocol in _REST:
            return self._rest(model, shape, protocol, path, query_string, headers, body, bucket, key)
        body = self._inflated(headers, body or b"")
        if protocol == "smithy-rpc-v2-cbor":
            params = self._botocore_body("smithy-rpc-v2-cbor", shape, body) if body else {}
        else:  # json, and anything unknown that botocore's clients would send as JSON
            params = self._json(shape, self._json_document(body), 0) if body.strip() else {}
        if self.strict:
            self._require(shape, params)
        return params

    # -- bodies --------------------------------------------------------------------------------

    def _inflated(self, headers: Mapping[str, Any], body: bytes) -> bytes:
        """The body, decompressed where the request says it is gzip (botocore compresses some inputs, e.g.
        CloudWatch PutMetricData: https://docs.aws.amazon.com/sdkref/latest/guide/feature-compression.html)."""
        if not body or "gzip" not in str(_header(headers, "Content-Encoding") or "").lower():
            return body
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise _ProblemError("malformed",
                                f"the body says Content-Encoding gzip but is not gzip data: {exc}") from None

    def _text(self, body: bytes) -> str:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            if self.strict:
                raise _ProblemError("malformed", "the request body is not UTF-8 text") from None
            return body.decode("utf-8", "replace")

    def _json_document(self, body: bytes, *, any_value: bool = False) -> Any:
        try:
            value = json.loads(body)
        except RecursionError:
            raise _ProblemError("malformed", "the request body nests deeper than any request can") from None
        except ValueError as exc:  # (JSONDecodeError and UnicodeDecodeError are ValueErrors)
            raise _ProblemError("malformed", f"the request body is not valid JSON: {exc}") from None
        if not any_value and not isinstance(value, dict):
            raise _ProblemError("malformed", f"the request body must be a JSON object, not {_json_kind(value)}")
        return value

    def _botocore_body(self, protocol: str, shape: botocore.model.Shape, body: bytes) -> dict[str, Any]:
        try:
            parsed = _parser(protocol).parse({"status_code": 200, "headers": HeadersDict(), "body": body}, shape)
        except RecursionError:
            raise _ProblemError("malformed", "the request body nests deeper than any request can") from None
        except Exception as exc:  # noqa: BLE001 -- botocore's parsers raise anything on bodies they cannot read
            raise _ProblemError("malformed", f"the request body cannot be read: {exc}") from None
        parsed.pop("ResponseMetadata", None)
        return parsed

    def _xml_body(self, shape: botocore.model.Shape, body: bytes) -> dict[str, Any]:
        try:
            DefusedElementTree.fromstring(body, forbid_dtd=True)
        except DefusedXmlException:
            raise _ProblemError("malformed", REFUSED_DTD) from None
        except DefusedElementTree.ParseError as exc:
            raise _ProblemError("malformed", f"The XML you provided was not well-formed: {exc}") from None
        return self._botocore_body("rest-xml", shape, body)

    # -- JSON, member by member ------------------------------------------------------------------

    def _json(self, shape: botocore.model.Shape, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _ProblemError("invalid", f"the value nests deeper than {MAX_DEPTH} levels")
        kind = shape.type_name
        expected = _JSON_TYPES.get(kind)
        if expected is not None and not isinstance(value, expected):
            if kind == "structure" and shape.metadata.get("document"):
                return value
            raise self._mismatch(kind, value)
        if kind == "structure":
            if shape.metadata.get("document"):
                return value
            result: dict[str, Any] = {}
            members = shape.members
            for name, member in members.items():
                item = value.get(member.serialization.get("name", name))
                if item is None:
                    continue
                try:
                    parsed = self._json(member, item, depth + 1)
                except _ProblemError as problem:
                    raise problem.at(f".{name}") from None
                except _LenientSkipError:
                    continue
                if parsed is not None:
                    result[name] = parsed
            if self.strict:
                self._check_union(shape, result)
                if depth:  # (the input itself: its members may also come from the URI, query string, headers)
                    self._require(shape, result)
            return result
        if kind == "list":
            items = []
            for index, item in enumerate(value):
                if item is None:
                    continue
                try:
                    items.append(self._json(shape.member, item, depth + 1))
                except _ProblemError as problem:
                    raise problem.at(f"[{index}]") from None
                except _LenientSkipError:
                    continue
            return items
        if kind == "map":
            entries = {}
            for entry_key, item in value.items():
                if item is None:
                    continue
                if self.strict:
                    _check_text(entry_key)
                try:
                    entries[entry_key] = self._json(shape.value, item, depth + 1)
                except _ProblemError as problem:
                    raise problem.at(f".{entry_key}") from None
                except _LenientSkipError:
                    continue
            return entries
        return self._json_scalar(shape, value)

    def _json_scalar(self, shape: botocore.model.Shape, value: Any) -> Any:
        kind = shape.type_name
        if kind == "string":
            if self.strict:
                _check_text(value)
            return value
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
                raise self._mismatch("whole number", value)
            return int(value)
        if kind in ("float", "double"):
            if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
                return float(value)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self._mismatch("number", value)
            return float(value)
        if kind == "blob":
            if not isinstance(value, str):
                raise self._mismatch("base64 string", value)
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                if self.strict:
                    raise _ProblemError("malformed", "is not valid base64") from None
                return value
        if kind == "timestamp":
            return self._timestamp(value, "invalid")
        return value  # boolean (checked above), and types this model does not use in JSON

    def _mismatch(self, expected: str, value: Any) -> _ProblemError:
        if not self.strict:
            raise _LenientSkipError
        return _ProblemError("malformed", f"expected a {expected}, got {_json_kind(value)}")

    def _check_union(self, shape: botocore.model.Shape, result: dict[str, Any]) -> None:
        if not (shape.metadata.get("union") or (self.service, shape.name) in _UNIONS):
            return
        if len(result) != 1:
            state = "is empty" if not result else "has more than one member set"
            raise _ProblemError("invalid", f"Supplied {shape.name} {state}, must contain exactly one of the supported "
                                      f"datatypes ({', '.join(shape.members)})")

    # -- scalars in text (URI labels, query strings, headers, forms) -------------------------------

    def _scalar(self, shape: botocore.model.Shape, text: str) -> Any:
        kind = shape.type_name
        try:
            if kind in ("integer", "long"):
                return int(text.strip())
            if kind in ("float", "double"):
                number = float(text.strip())
                if math.isnan(number) and text.strip() != "NaN":
                    raise ValueError(text)
                return number
            if kind == "boolean":
                lowered = text.strip().lower()
                if lowered not in ("true", "false"):
                    raise ValueError(text)
                return lowered == "true"
        except ValueError:
            if self.strict:
                raise _ProblemError("invalid", f"{text[:100]!r} is not a valid {kind}") from None
            return text
        if kind == "timestamp":
            return self._timestamp(text, "invalid")
        if kind == "blob":
            try:
                return base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                if self.strict:
                    raise _ProblemError("invalid", "is not valid base64") from None
                return text
        if self.strict:
            _check_text(text)
            if self.xml_answers:
                _check_xml_text(text)
        return text

    def _timestamp(self, value: Any, kind: str) -> Any:
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            if isinstance(value, (int, float)):
                return datetime.fromtimestamp(float(value), tz=UTC)
            if not isinstance(value, str):
                raise ValueError(value)
            text = value.strip()
            try:
                return datetime.fromtimestamp(float(text), tz=UTC)
            except ValueError:
                pass
            # An HTTP date (headers: "Wed, 21 Oct 2015 07:28:00 GMT"), else ISO 8601.
            moment = parsedate_to_datetime(text) if text[:3].isalpha() else _botocore_timestamp(text)
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        except (ValueError, TypeError, OverflowError, OSError):
            if self.strict:
                raise _ProblemError(kind, f"{str(value)[:100]!r} is not a valid timestamp") from None
            return value

    # -- form-encoded (query, ec2) -----------------------------------------------------------------

    def _from_form(self, shape: botocore.model.Shape, form: Mapping[str, str], prefix: str, ec2: bool) -> Any:
        kind = shape.type_name
        if kind == "structure":
            result: dict[str, Any] = {}
            for name, member in shape.members.items():
                wire = _form_name(member, name, ec2)
                if not ec2 and member.type_name == "list" and member.serialization.get("flattened") \
                        and member.member.serialization.get("name"):
                    wire = _form_name(member.member, "", ec2)
                sub = f"{prefix}.{wire}" if prefix else wire
                if _has_prefix(form, sub):
                    try:
                        value = self._from_form(member, form, sub, ec2)
                    except _ProblemError as problem:
                        raise problem.at(f".{name}") from None
                    if value is not None:
                        result[name] = value
            if self.strict and prefix:
                self._require(shape, result)
            return result
        if kind == "list":
            if ec2 or shape.serialization.get("flattened"):
                base = prefix
            else:
                base = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
            items = []
            index = 1
            while _has_prefix(form, f"{base}.{index}") and index <= MAX_FORM_ENTRIES:
                try:
                    items.append(self._from_form(shape.member, form, f"{base}.{index}", ec2))
                except _ProblemError as problem:
                    raise problem.at(f"[{index - 1}]") from None
                index += 1
            return items
        if kind == "map":
            base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
            key_name = _form_name(shape.key, "key", ec2)
            value_name = _form_name(shape.value, "value", ec2)
            entries: dict[str, Any] = {}
            index = 1
            while _has_prefix(form, f"{base}.{index}") and index <= MAX_FORM_ENTRIES:
                entry_key = form.get(f"{base}.{index}.{key_name}")
                if entry_key is not None:  # (a key is text the service stores and answers, as a value is)
                    entries[self._scalar(shape.key, entry_key)] = self._from_form(
                        shape.value, form, f"{base}.{index}.{value_name}", ec2)
                index += 1
            return entries
        text = form.get(prefix)
        return None if text is None else self._scalar(shape, text)

    # -- rest-json and rest-xml ---------------------------------------------------------------------

    def _rest(self, model: botocore.model.OperationModel, shape: botocore.model.StructureShape, protocol: str,
              path: str, query_string: str, headers: Mapping[str, Any], body: bytes | None, bucket: str | None,
              key: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        payload_name = shape.serialization.get("payload")
        payload = shape.members[payload_name] if payload_name else None
        if payload is not None and payload.type_name in ("blob", "string"):
            if not payload.serialization.get("streaming") and body:
                # A document in the body as it is (S3 PutBucketPolicy's JSON): text, or bytes for a blob.
                params[payload_name] = self._text(body) if payload.type_name == "string" else body
            # else an object's bytes (S3 PutObject): the backend reads them, nothing here needs to
        elif payload is not None or any("location" not in m.serialization for m in shape.members.values()):
            data = self._inflated(headers, body or b"") if self.service != "s3" else (body or b"")
            if data.strip():
                if protocol == "rest-json":
                    document = self._json_document(data, any_value=payload is not None)
                    if payload is not None:
                        try:
                            params[payload_name] = self._json(payload, document, 1)
                        except _ProblemError as problem:
                            raise problem.at(f".{payload_name}") from None
                        except _LenientSkipError:
                            pass
                    else:
                        params.update(self._json(shape, document, 0))
                else:
                    parsed = self._xml_body(shape, data)
                    if payload is not None:
                        if payload_name in parsed:
                            params[payload_name] = parsed[payload_name]
                        if self.strict and payload_name in params:
                            try:
                                self._require_deep(payload, params[payload_name], 1)
                            except _ProblemError as problem:
                                raise problem.at(f".{payload_name}") from None
                    else:
                        params.update({name: value for name, value in parsed.items()
                                       if "location" not in shape.members[name].serialization})
            elif self.strict and payload is not None and payload_name in shape.required_members:
                raise _ProblemError("empty", "Request body is empty.").at(f".{payload_name}")
        params.update(self._uri_labels(model, shape, path))
        if bucket and "Bucket" in shape.members and "Bucket" not in params:
            params["Bucket"] = bucket
        if key and "Key" in shape.members and "Key" not in params:
            params["Key"] = key
        params.update(self._query_members(shape, query_string))
        params.update(self._header_members(shape, headers))
        if self.strict:
            streamed = payload_name if payload is not None and payload.serialization.get("streaming") else None
            self._require(shape, params, unread=streamed)
        return params

    def _uri_labels(self, model: botocore.model.OperationModel, shape: botocore.model.StructureShape,
                    path: str) -> dict[str, Any]:
        pattern, labels = _uri_pattern(model.http.get("requestUri", "/"))
        found = pattern.fullmatch(path)
        if found is None:
            return {}
        by_label = _labels_of(shape)
        result: dict[str, Any] = {}
        for label, value in zip(labels, found.groups(), strict=True):
            name = by_label.get(label, label)
            member = shape.members.get(name)
            text = unquote(value)
            try:
                result[name] = self._scalar(member, text) if member is not None else text
            except _ProblemError as problem:
                raise problem.at(f".{name}") from None
        return result

    def _query_members(self, shape: botocore.model.StructureShape, query_string: str) -> dict[str, Any]:
        if not query_string:
            return {}
        values: dict[str, list[str]] = {}
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            values.setdefault(name, []).append(value)
        found: dict[str, Any] = {}
        named: set[str] = set()
        rest_map: tuple[str, botocore.model.Shape] | None = None
        for name, member in shape.members.items():
            if member.serialization.get("location") != "querystring":
                continue
            if member.type_name == "map":
                rest_map = (name, member)
                continue
            wire = member.serialization.get("name", name)
            named.add(wire)
            if wire not in values:
                continue
            try:
                if member.type_name == "list":
                    found[name] = [self._scalar(member.member, v) for v in values[wire]]
                else:
                    found[name] = self._scalar(member, values[wire][0])
            except _ProblemError as problem:
                raise problem.at(f".{name}") from None
        if rest_map is not None:
            extra = {k: v[0] for k, v in values.items() if k not in named}
            if extra:
                found[rest_map[0]] = extra
        return found

    def _header_members(self, shape: botocore.model.StructureShape, headers: Mapping[str, Any]) -> dict[str, Any]:
        single, prefixed = _header_bindings(shape)
        if not single and not prefixed:
            return {}
        # One pass over the request's headers, then lookups by lower-case name: looking each of a shape's
        # members up in a case-insensitive view costs a scan of every header per member (PutObject has 50).
        lowered: dict[str, str] = {}
        for k, v in headers.items():
            lowered.setdefault(str(k).lower(), v)
        found: dict[str, Any] = {}
        for name, member, wire in single:
            value = lowered.get(wire)
            if value is None:
                continue
            try:
                found[name] = self._header_value(member, _latin1(value))
            except _ProblemError as problem:
                raise problem.at(f".{name}") from None
        for name, prefix in prefixed:
            entries = {k[len(prefix):]: _latin1(v) for k, v in lowered.items() if k.startswith(prefix)}
            if entries:
                found[name] = entries
        return found

    def _header_value(self, shape: botocore.model.Shape, value: str) -> Any:
        kind = shape.type_name
        if kind == "list":
            return [self._scalar(shape.member, part.strip()) for part in value.split(",") if part.strip()]
        if kind == "string" and shape.serialization.get("jsonvalue"):
            try:
                return json.loads(base64.b64decode(value))
            except (ValueError, binascii.Error):
                if self.strict:
                    raise _ProblemError("invalid", "is not base64-encoded JSON") from None
                return value
        return self._scalar(shape, value)

    # -- required members ----------------------------------------------------------------------------

    def _require(self, shape: botocore.model.Shape, params: Mapping[str, Any], unread: str | None = None) -> None:
        for name in shape.required_members:
            if name not in params and name != unread:
                raise _ProblemError("missing", f"{name} is required").at(f".{name}")

    def _require_deep(self, shape: botocore.model.Shape, value: Any, depth: int) -> None:
        """Required members throughout a value a botocore parser read (it leaves missing members out)."""
        if depth > MAX_DEPTH:
            raise _ProblemError("invalid", f"the value nests deeper than {MAX_DEPTH} levels")
        kind = shape.type_name
        if kind == "structure" and isinstance(value, dict):
            for name in shape.required_members:
                if name not in value:
                    raise _ProblemError("malformed" if self.service == "s3" else "missing",
                                   f"{name} is required").at(f".{name}")
            for name, item in value.items():
                member = shape.members.get(name)
                if member is not None:
                    try:
                        self._require_deep(member, item, depth + 1)
                    except _ProblemError as problem:
                        raise problem.at(f".{name}") from None
        elif kind == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                try:
                    self._require_deep(shape.member, item, depth + 1)
                except _ProblemError as problem:
                    raise problem.at(f"[{index}]") from None
        elif kind == "map" and isinstance(value, dict):
            for item in value.values():
                self._require_deep(shape.value, item, depth + 1)


class _LenientSkipError(Exception):
    """Leniently, a member whose JSON value has the wrong type is left out (raised, caught by its parent)."""


def _check_text(value: str) -> None:
    """Refuse text that cannot be sent on as UTF-8 (a lone surrogate from a JSON \\ud800 escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _ProblemError("malformed", "holds a lone surrogate, which is not valid Unicode text") from None


def _check_xml_text(value: str) -> None:
    """Refuse text a query, ec2 or rest-xml service would store or echo in XML, where XML 1.0 cannot carry it
    even escaped (a control character): one such description would make every later listing of its kind
    unreadable to every client. AWS refuses them too (EC2: "Valid characters: a-z, A-Z, 0-9, spaces, and
    ._-:/()#,@[]+=&;{}!$*" for a security group's description)."""
    found = XML_INVALID.search(value)
    if found is not None:
        raise _ProblemError("invalid", f"holds the character U+{ord(found.group()):04X}, which XML cannot carry")


def _json_kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if value is None and not isinstance(headers, HeadersDict):
        lowered = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == lowered), None)
    return None if value is None else _latin1(value)


def _latin1(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


_RFC1123_GMT = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
_UTC = tzutc()


def _botocore_timestamp(value: Any) -> datetime:
    """botocore's parse_timestamp, the same datetime (GMT as dateutil's tzutc, as botocore maps it), without
    dateutil's general parser for the form HTTP dates take (RFC 1123 in GMT: S3's Last-Modified on every object
    read): that parser costs a quarter of a millisecond per value."""
    if isinstance(value, str) and _RFC1123_GMT.fullmatch(value):
        return parsedate_to_datetime(value).replace(tzinfo=_UTC)
    return parse_timestamp(value)


@cache
def _parser(protocol: str | None) -> Any:
    factory = ResponseParserFactory()
    factory.set_parser_defaults(timestamp_parser=_botocore_timestamp)
    return factory.create_parser(protocol or "json")


@lru_cache(maxsize=4096)
def _uri_pattern(request_uri: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    template = request_uri.split("?", 1)[0]
    labels: list[str] = []
    pattern = ""
    for index, piece in enumerate(re.split(r"\{([^}]+)\}", template)):
        if index % 2 == 0:
            pattern += re.escape(piece)
        else:
            labels.append(piece.rstrip("+"))
            pattern += "(.+)" if piece.endswith("+") else "([^/]+)"
    return re.compile(pattern.rstrip("/") + "/?"), tuple(labels)


@lru_cache(maxsize=4096)
def _header_bindings(shape: botocore.model.StructureShape) -> tuple[
        tuple[tuple[str, botocore.model.Shape, str], ...], tuple[tuple[str, str], ...]]:
    """A shape's members bound to one header each (name, member, header in lower case), and those bound to a
    header prefix (name, prefix in lower case): read from the model once, not per request."""
    single = tuple((name, member, member.serialization.get("name", name).lower())
                   for name, member in shape.members.items() if member.serialization.get("location") == "header")
    prefixed = tuple((name, member.serialization.get("name", "").lower())
                     for name, member in shape.members.items() if member.serialization.get("location") == "headers")
    return single, prefixed


@lru_cache(maxsize=4096)
def _labels_of(shape: botocore.model.StructureShape) -> dict[str, str]:
    return {member.serialization.get("name", name): name for name, member in shape.members.items()
            if member.serialization.get("location") == "uri"}


def _form_name(shape: botocore.model.Shape, default: str, ec2: bool) -> str:
    # The names botocore's Query/EC2 serializers give a member on the wire.
    if ec2:
        if "queryName" in shape.serialization:
            return shape.serialization["queryName"]
        if "name" in shape.serialization:
            name = shape.serialization["name"]
            return name[0].upper() + name[1:]
        return default
    return shape.serialization.get("name", default)


def _has_prefix(form: Mapping[str, str], prefix: str) -> bool:
    dotted = prefix + "."
    return prefix in form or any(key.startswith(dotted) for key in form)


def takes_xml_body(service: str, operation: str) -> bool:
    """Whether the operation's request body is XML (a structure payload, or members serialized into the body),
    rather than raw bytes (PutObject) or nothing."""
    return _takes_xml_body(service, operation)


@lru_cache(maxsize=512)
def _takes_xml_body(service: str, operation: str) -> bool:
    shape = operation_model(service, operation).input_shape
    if shape is None:
        return False
    payload = shape.serialization.get("payload")
    if payload:
        return shape.members[payload].type_name == "structure"
    return any("location" not in member.serialization for member in shape.members.values())


# -- answers ---------------------------------------------------------------------------------------


def decode_answer(service: str, operation: str, protocol: str | None, status: int,
                  headers: Mapping[str, str] | list[tuple[str, str]], body: Any) -> dict[str, Any]:
    """An answer as boto3 returns it: the output members, or {"Error": {"Code", "Message"}} for a failure.
    A streaming payload (S3 GetObject's Body) is left as the body it is, unread."""
    model = operation_model(service, operation)
    protocol = protocol or model.metadata.get("protocol")
    header_map = _AnswerHeaders(headers.items() if isinstance(headers, Mapping) else headers)
    shape = model.output_shape if status < 300 else None
    streaming = _streaming_payload(shape)
    data = b"" if streaming or body is None else body if isinstance(body, bytes) else b"".join(body)
    parsed = _parser(protocol).parse({"status_code": status, "headers": header_map, "body": data}, shape)
    parsed.pop("ResponseMetadata", None)
    if streaming:
        parsed[streaming] = body
    return parsed


def decode_header_members(service: str, operation: str, headers: Mapping[str, str] | list[tuple[str, str]],
                          members: tuple[str, ...]) -> dict[str, Any] | None:
    """The output `members` of a successful answer, read from its headers alone, when each is a string the model
    binds to a header (S3 GetObject's VersionId); None otherwise (decode the whole answer). GetObject binds 40
    members to headers: an operation that lets the backend's answer stand needs one or two of them."""
    shape = operation_model(service, operation).output_shape
    if shape is None:
        return None
    found: dict[str, Any] = {}
    header_map = _AnswerHeaders(headers.items() if isinstance(headers, Mapping) else headers)
    for name in members:
        member = shape.members.get(name)
        if member is None or member.serialization.get("location") != "header" or member.type_name != "string":
            return None
        value = header_map.get(member.serialization.get("name", name))
        if value is not None:
            found[name] = value
    return found


class _AnswerHeaders(dict[str, Any]):
    """An answer's headers for botocore's parsers: found by name in any case, as botocore's HeadersDict finds
    them (the first spelling kept, the last value), at a plain dict's cost. The parsers look every header
    member of the output up (GetObject has 40), which in a HeadersDict costs a key object per lookup."""

    def __init__(self, pairs: Iterable[tuple[str, Any]]) -> None:
        super().__init__()
        self._names: dict[str, str] = {}
        for name, value in pairs:
            dict.__setitem__(self, self._names.setdefault(name.lower(), name), value)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._names

    def __getitem__(self, name: str) -> Any:
        return dict.__getitem__(self, self._names[name.lower()])

    def get(self, name: str, default: Any = None) -> Any:
        spelled = self._names.get(name.lower())
        return default if spelled is None else dict.__getitem__(self, spelled)


def streams_output(service: str, operation: str) -> bool:
    """Whether the operation's answer body is its output's bytes (S3 GetObject), not a document."""
    return _streaming_payload(operation_model(service, operation).output_shape) is not None


def _streaming_payload(shape: botocore.model.Shape | None) -> str | None:
    if shape is None:
        return None
    payload = shape.serialization.get("payload")
    if payload and shape.members[payload].type_name in ("blob", "string"):
        return payload
    return None
