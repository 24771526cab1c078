"""The rest-json wire format of the lab's own AWS services (AWS Backup, DLM), driven by botocore's models.

Requests are read the way the service reads them (URI labels, query string, headers and JSON body, each
typed by the operation's input shape) and answers are written from the output shape, so boto3 and the
aws CLI see exactly the shapes they expect (timestamps as epoch numbers in JSON bodies).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.model
from botocore.utils import parse_timestamp

from lab.gateway.codec.errors import aws_error
from lab.gateway.codec.identify import service_model
from lab.kernel.context import Identity, RequestContext, Response

_LABEL = re.compile(r"\{([^}]+)\}")


class ApiError(Exception):
    """An AWS error answer: raised by handlers, written in the request's protocol by the codec."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class RestJsonCodec:
    """Reads requests and writes answers of one rest-json service."""

    def __init__(self, service: str, *, missing_parameter_code: str, invalid_parameter_code: str) -> None:
        self.service = service
        self.model = service_model(service)
        self.missing_parameter_code = missing_parameter_code
        self.invalid_parameter_code = invalid_parameter_code
        self._paths: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {}

    # -- requests ----------------------------------------------------------------------------------

    def parse(self, ctx: RequestContext, operation: str) -> dict[str, Any]:
        """The operation's parameters, keyed by member name, typed by the input shape."""
        op = self.model.operation_model(operation)
        shape = op.input_shape
        if shape is None:
            return {}
        labels = self._labels(op, ctx.path)
        query = parse_qs(ctx.query_string, keep_blank_values=True)
        body = self._json_body(ctx.body) if any(
            "location" not in m.serialization for m in shape.members.values()) else {}
        params: dict[str, Any] = {}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "uri":
                if wire in labels:
                    params[name] = self._scalar(member, labels[wire], name)
            elif location == "querystring":
                if member.type_name == "list" and wire in query:
                    params[name] = [self._scalar(member.member, v, name) for v in query[wire]]
                elif member.type_name == "map":
                    claimed = {m.serialization.get("name") for m in shape.members.values()}
                    extra = {k: v[0] for k, v in query.items() if k not in claimed}
                    if extra:
                        params[name] = extra
                elif wire in query:
                    params[name] = self._scalar(member, query[wire][0], name)
            elif location == "header":
                value = ctx.headers.get(wire)
                if value is not None:
                    params[name] = self._scalar(member, value, name)
            elif location is None and wire in body:
                params[name] = self._from_json(member, body[wire], name)
        missing = [name for name in shape.required_members if name not in params]
        if missing:
            raise ApiError(self.missing_parameter_code,
                           f"{operation} needs the parameter(s) {', '.join(missing)}")
        return params

    def _labels(self, op: botocore.model.OperationModel, path: str) -> dict[str, str]:
        compiled = self._paths.get(op.name)
        if compiled is None:
            template = op.http.get("requestUri", "/").split("?", 1)[0]
            if template != "/" and template.endswith("/"):
                template = template[:-1]
            pieces = _LABEL.split(template)
            pattern, labels = [], []
            for index, piece in enumerate(pieces):
                if index % 2 == 0:
                    pattern.append(re.escape(piece))
                elif piece.endswith("+"):
                    labels.append(piece[:-1])
                    pattern.append("(.+)")
                else:
                    labels.append(piece)
                    pattern.append("([^/]+)")
            pattern.append("/?")
            compiled = (re.compile("".join(pattern)), tuple(labels))
            self._paths[op.name] = compiled
        regex, names = compiled
        found = regex.fullmatch(path)
        if found is None:
            return {}
        return {name: unquote(value) for name, value in zip(names, found.groups(), strict=True)}

    def _json_body(self, raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ApiError("SerializationException", f"the request body is not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise ApiError("SerializationException", "the request body must be a JSON object")
        return value

    def _scalar(self, shape: botocore.model.Shape, text: str, name: str) -> Any:
        kind = shape.type_name
        try:
            if kind in ("integer", "long"):
                return int(text)
            if kind in ("double", "float"):
                return float(text)
            if kind == "boolean":
                lowered = text.lower()
                if lowered not in ("true", "false"):
                    raise ValueError(text)
                return lowered == "true"
            if kind == "timestamp":
                return _epoch(text)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ApiError(self.invalid_parameter_code,
                           f"{name}: {text!r} is not a valid {kind}") from exc
        return text

    def _from_json(self, shape: botocore.model.Shape, value: Any, name: str) -> Any:
        if value is None:
            return None
        kind = shape.type_name
        expected = {"structure": dict, "map": dict, "list": list, "string": str, "boolean": bool}
        if kind in expected and not isinstance(value, expected[kind]):
            raise ApiError("SerializationException",
                           f"{name}: expected a {kind}, got {type(value).__name__}")
        if kind == "structure":
            assert isinstance(shape, botocore.model.StructureShape)
            result: dict[str, Any] = {}
            for member_name, member in shape.members.items():
                wire = member.serialization.get("name", member_name)
                if wire in value and value[wire] is not None:
                    result[member_name] = self._from_json(member, value[wire], f"{name}.{member_name}")
            return result
        if kind == "list":
            assert isinstance(shape, botocore.model.ListShape)
            return [self._from_json(shape.member, item, f"{name}[]") for item in value]
        if kind == "map":
            assert isinstance(shape, botocore.model.MapShape)
            return {str(k): self._from_json(shape.value, v, f"{name}.{k}") for k, v in value.items()}
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
                raise ApiError("SerializationException", f"{name}: expected a whole number, got {value!r}")
            return int(value)
        if kind in ("double", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ApiError("SerializationException", f"{name}: expected a number, got {value!r}")
            return float(value)
        if kind == "timestamp":
            try:
                return _epoch(value)
            except (ValueError, TypeError, OverflowError) as exc:
                raise ApiError("SerializationException", f"{name}: {value!r} is not a timestamp") from exc
        return value

    # -- answers -----------------------------------------------------------------------------------

    def respond(self, ctx: RequestContext, operation: str, output: dict[str, Any] | None) -> None:
        op = self.model.operation_model(operation)
        status = int(op.http.get("responseCode", 200))
        headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
        body: dict[str, Any] = {}
        shape = op.output_shape
        if shape is not None and output:
            for name, member in shape.members.items():
                value = output.get(name)
                if value is None:
                    continue
                location = member.serialization.get("location")
                wire = member.serialization.get("name", name)
                if location == "header":
                    headers.append((wire, str(value)))
                elif location == "statusCode":
                    status = int(value)
                else:
                    body[wire] = self._to_json(member, value)
        ctx.response = Response(status, headers, json.dumps(body).encode())

    def _to_json(self, shape: botocore.model.Shape, value: Any) -> Any:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, botocore.model.StructureShape)
            return {member.serialization.get("name", name): self._to_json(member, value[name])
                    for name, member in shape.members.items() if value.get(name) is not None}
        if kind == "list":
            assert isinstance(shape, botocore.model.ListShape)
            return [self._to_json(shape.member, item) for item in value]
        if kind == "map":
            assert isinstance(shape, botocore.model.MapShape)
            return {k: self._to_json(shape.value, v) for k, v in value.items()}
        if kind == "timestamp":
            if shape.serialization.get("timestampFormat") == "iso8601":
                return as_datetime(float(value)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            return round(float(value), 3)
        if kind in ("integer", "long"):
            return int(value)
        if kind == "blob" and isinstance(value, bytes):
            return base64.b64encode(value).decode()
        return value

    def error(self, ctx: RequestContext, identity: Identity | None, error: ApiError) -> None:
        answer = aws_error(identity, error.status, error.code, error.message, ctx.request_id)
        ctx.response = Response(answer.status, list(answer.headers), answer.body)


def _epoch(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    parsed = parse_timestamp(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def as_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def paginate(items: Sequence[Any], params: dict[str, Any], *, default_size: int = 1000,
             next_member: str = "NextToken", size_member: str = "MaxResults",
             invalid_code: str = "InvalidParameterValueException") -> tuple[list[Any], str | None]:
    """One page of `items` (already in a stable order) and the token of the next page, if any."""
    start = 0
    given = params.get(next_member)
    if given:
        try:
            start = int(base64.urlsafe_b64decode(given.encode()).decode().removeprefix("page:"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(invalid_code, f"{next_member} {given!r} was not issued by this service") from exc
    count = params.get(size_member) or default_size
    if count < 1:
        raise ApiError(invalid_code, f"{size_member} must be at least 1, not {count}")
    end = start + count
    next_token = base64.urlsafe_b64encode(f"page:{end}".encode()).decode() if end < len(items) else None
    return list(items[start:end]), next_token
