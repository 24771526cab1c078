"""AWS requests and answers read and written by botocore's service models, in every wire protocol.

The lab's own services (CloudTrail, Route 53 health, ...) answer calls in exactly the shape boto3 and the
aws CLI parse, and the audit reads any call's parameters back from the wire:

- `request_params`: an HTTP request -> the operation's input, by member name (what boto3 was given);
- `response_params`: an HTTP answer -> the operation's output or error (what boto3 returns);
- `serialize_response`: an operation's output -> the HTTP answer (json, rest-json and rest-xml protocols).

botocore parses answers, not requests; the rest and RPC protocols carry the input in the same places an
answer carries the output (headers, payload, JSON/XML/CBOR body), so its parsers read those parts, and this
module adds what only requests have: URI labels, the query string, and the form-encoded query protocols.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote
from xml.sax.saxutils import escape

import botocore.model
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from lab.gateway.codec.identify import service_model

__all__ = ["operation_model", "request_params", "response_params", "serialize_response"]

_REST = ("rest-json", "rest-xml")


def operation_model(service: str, operation: str) -> botocore.model.OperationModel:
    return _operation_model(service, operation)


@lru_cache(maxsize=4096)
def _operation_model(service: str, operation: str) -> botocore.model.OperationModel:
    return service_model(service).operation_model(operation)


# -- requests ------------------------------------------------------------------------------------


def request_params(service: str, operation: str, protocol: str | None, path: str, query_string: str,
                   headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The input of a call as boto3 was given it: member name -> value (blobs as bytes, timestamps as datetimes).

    `path` is the raw (percent-encoded) path, `headers` any mapping. Raises ValueError when the request does
    not match the operation's model (a malformed body).
    """
    model = operation_model(service, operation)
    shape = model.input_shape
    if shape is None:
        return {}
    protocol = protocol or model.metadata.get("protocol")
    headers = HeadersDict({name: value.decode("latin-1") if isinstance(value, bytes) else value
                           for name, value in headers.items()})
    if body and "gzip" in headers.get("Content-Encoding", ""):  # botocore compresses some inputs (PutMetricData)
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as exc:
            raise ValueError(f"the {service} {operation} request body is not valid gzip: {exc}") from exc
    if protocol in ("query", "ec2"):
        form = dict(parse_qsl(query_string, keep_blank_values=True))
        if body:
            form.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return _from_form(shape, form, "", protocol == "ec2") or {}
    parser = _parser(protocol)
    try:
        parsed = parser.parse({"status_code": 200, "headers": headers, "body": body or b""}, shape)
    except Exception as exc:
        raise ValueError(f"the {service} {operation} request body does not match its model: {exc}") from exc
    parsed.pop("ResponseMetadata", None)
    if protocol in _REST:
        parsed.update(_uri_labels(model, path))
        parsed.update(_query_members(shape, query_string))
    return parsed


@cache
def _parser(protocol: str | None) -> Any:
    return create_parser(protocol or "json")


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


def _uri_labels(model: botocore.model.OperationModel, path: str) -> dict[str, str]:
    pattern, labels = _uri_pattern(model.http.get("requestUri", "/"))
    found = pattern.fullmatch(path)
    if found is None:
        return {}
    members = model.input_shape.members
    by_label = {member.serialization.get("name", name): name for name, member in members.items()
                if member.serialization.get("location") == "uri"}
    return {by_label.get(label, label): unquote(value)
            for label, value in zip(labels, found.groups(), strict=True)}


def _query_members(shape: botocore.model.StructureShape, query_string: str) -> dict[str, Any]:
    if not query_string:
        return {}
    pairs = parse_qsl(query_string, keep_blank_values=True)
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    found: dict[str, Any] = {}
    named: set[str] = set()
    rest_map: tuple[str, botocore.model.Shape] | None = None
    for name, member in shape.members.items():
        if member.serialization.get("location") != "querystring":
            continue
        if member.type_name == "map":
            rest_map = (name, member)
            continue
        key = member.serialization.get("name", name)
        named.add(key)
        if key not in values:
            continue
        if member.type_name == "list":
            found[name] = [_scalar(member.member, v) for v in values[key]]
        else:
            found[name] = _scalar(member, values[key][0])
    if rest_map is not None:
        found[rest_map[0]] = {k: v[0] for k, v in values.items() if k not in named}
    return found


def _scalar(shape: botocore.model.Shape, text: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "boolean":
        return text.lower() == "true"
    return text


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


def _from_form(shape: botocore.model.Shape, form: Mapping[str, str], prefix: str, ec2: bool) -> Any:
    kind = shape.type_name
    if kind == "structure":
        result: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = _form_name(member, name, ec2)
            if not ec2 and member.type_name == "list" and member.serialization.get("flattened") \
                    and member.member.serialization.get("name"):
                key = _form_name(member.member, "", ec2)
            sub = f"{prefix}.{key}" if prefix else key
            if _has_prefix(form, sub):
                value = _from_form(member, form, sub, ec2)
                if value is not None:
                    result[name] = value
        return result
    if kind == "list":
        if ec2 or shape.serialization.get("flattened"):
            base = prefix
        else:
            base = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        items = []
        index = 1
        while _has_prefix(form, f"{base}.{index}") and index <= 10_000:
            items.append(_from_form(shape.member, form, f"{base}.{index}", ec2))
            index += 1
        return items
    if kind == "map":
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = _form_name(shape.key, "key", ec2)
        value_name = _form_name(shape.value, "value", ec2)
        entries: dict[str, Any] = {}
        index = 1
        while _has_prefix(form, f"{base}.{index}") and index <= 10_000:
            key = form.get(f"{base}.{index}.{key_name}")
            if key is not None:
                entries[key] = _from_form(shape.value, form, f"{base}.{index}.{value_name}", ec2)
            index += 1
        return entries
    text = form.get(prefix)
    return None if text is None else _scalar(shape, text)


# -- answers ---------------------------------------------------------------------------------------


def response_params(service: str, operation: str, protocol: str | None, status: int,
                    headers: Mapping[str, str] | list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """An answer as boto3 returns it: the output members, or {"Error": {"Code", "Message"}} for a failure."""
    model = operation_model(service, operation)
    protocol = protocol or model.metadata.get("protocol")
    header_map = HeadersDict()
    for name, value in (headers.items() if isinstance(headers, Mapping) else headers):
        header_map[name] = value
    parser = _parser(protocol)
    parsed = parser.parse({"status_code": status, "headers": header_map, "body": body or b""},
                          model.output_shape if status < 300 else None)
    parsed.pop("ResponseMetadata", None)
    return parsed


# -- serialising answers ---------------------------------------------------------------------------


def serialize_response(service: str, operation: str, protocol: str | None,
                       output: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a successful answer carrying `output` (member name -> value)."""
    model = operation_model(service, operation)
    shape = model.output_shape
    metadata = model.metadata
    protocol = protocol or metadata.get("protocol")
    status = int(model.http.get("responseCode", 200))
    if protocol == "json":
        content_type = f"application/x-amz-json-{metadata.get('jsonVersion', '1.0')}"
        body = json.dumps(_json_value(shape, output) if shape is not None else {}, separators=(",", ":"))
        return status, [("Content-Type", content_type)], body.encode()
    if protocol not in _REST:
        raise ValueError(f"the lab does not answer {service} in the {protocol} protocol")
    headers: list[tuple[str, str]] = []
    body_members: dict[str, Any] = {}
    if shape is not None:
        for name, member in shape.members.items():
            if name not in output or output[name] is None:
                continue
            location = member.serialization.get("location")
            if location == "header":
                headers.append((member.serialization.get("name", name), _header_text(member, output[name])))
            elif location == "headers":
                prefix = member.serialization.get("name", "")
                headers.extend((prefix + key, str(value)) for key, value in output[name].items())
            elif location == "statusCode":
                status = int(output[name])
            else:
                body_members[name] = output[name]
    payload_name = shape.serialization.get("payload") if shape is not None else None
    if protocol == "rest-json":
        if payload_name is not None:
            payload = shape.members[payload_name]
            value = body_members.get(payload_name)
            if payload.type_name in ("blob", "string"):
                data = value if isinstance(value, bytes) else str(value or "").encode()
                return status, [*headers, ("Content-Type", "application/octet-stream")], data
            document = _json_value(payload, value) if value is not None else {}
        else:
            document = _json_value(shape, body_members) if shape is not None else {}
        return status, [*headers, ("Content-Type", "application/json")], json.dumps(document).encode()
    if shape is None or not body_members:
        return status, [*headers, ("Content-Type", "application/xml")], b""
    namespace = _xml_namespace(shape) or _xml_namespace(model.input_shape)
    if payload_name is not None:
        member = shape.members[payload_name]
        root_name = member.serialization.get("name", payload_name)
        inner = _xml_children(member, body_members.get(payload_name))
    else:
        root_name = shape.serialization.get("name", shape.name)
        inner = _xml_children(shape, body_members)
    xmlns = f' xmlns="{escape(namespace)}"' if namespace else ""
    document = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root_name}{xmlns}>{inner}</{root_name}>'
    return status, [*headers, ("Content-Type", "application/xml")], document.encode()


def _xml_namespace(shape: botocore.model.Shape | None) -> str | None:
    if shape is None:
        return None
    namespace = shape.serialization.get("xmlNamespace")
    if isinstance(namespace, Mapping):
        namespace = namespace.get("uri")
    return namespace if isinstance(namespace, str) else None


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), tz=UTC)


def _iso(value: Any) -> str:
    moment = _timestamp(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _header_text(shape: botocore.model.Shape, value: Any) -> str:
    if shape.type_name == "timestamp":
        from email.utils import format_datetime

        return format_datetime(_timestamp(value), usegmt=True)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return str(value)


def _json_value(shape: botocore.model.Shape, value: Any) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure":
        return {shape.members[name].serialization.get("name", name): _json_value(shape.members[name], item)
                for name, item in value.items() if name in shape.members and item is not None}
    if kind == "list":
        return [_json_value(shape.member, item) for item in value]
    if kind == "map":
        return {str(key): _json_value(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601":
            return _iso(value)
        return round(_timestamp(value).timestamp(), 3)
    if kind == "blob":
        data = value if isinstance(value, (bytes, bytearray)) else str(value).encode()
        return base64.b64encode(bytes(data)).decode()
    if kind == "boolean":
        return bool(value)
    return value


def _xml_scalar(shape: botocore.model.Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return _iso(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        data = value if isinstance(value, (bytes, bytearray)) else str(value).encode()
        return base64.b64encode(bytes(data)).decode()
    return escape(str(value))


def _xml_children(shape: botocore.model.Shape, value: Any) -> str:
    """The inside of the element that holds `value`."""
    kind = shape.type_name
    if value is None:
        return ""
    if kind == "structure":
        parts = []
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None or item is None or member.serialization.get("location"):
                continue
            if member.type_name == "list" and member.serialization.get("flattened"):
                tag = member.member.serialization.get("name", member.serialization.get("name", name))
                parts.extend(f"<{tag}>{_xml_children(member.member, element)}</{tag}>" for element in item)
                continue
            tag = member.serialization.get("name", name)
            parts.append(f"<{tag}>{_xml_children(member, item)}</{tag}>")
        return "".join(parts)
    if kind == "list":
        tag = shape.member.serialization.get("name", "member")
        return "".join(f"<{tag}>{_xml_children(shape.member, element)}</{tag}>" for element in value)
    if kind == "map":
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        return "".join(f"<entry><{key_tag}>{escape(str(key))}</{key_tag}><{value_tag}>"
                       f"{_xml_children(shape.value, item)}</{value_tag}></entry>" for key, item in value.items())
    return _xml_scalar(shape, value)
