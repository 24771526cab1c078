"""RDS speaks the AWS query protocol: form-encoded requests, XML answers. botocore can build requests
and parse answers but not the reverse, so this module reads requests and writes answers from botocore's
service model, exactly in the shapes botocore's own parser reads back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import botocore.model
from botocore.parsers import create_parser
from botocore.utils import parse_timestamp

from lab.gateway.codec.identify import service_model
from lab.kernel.context import RequestContext

SERVICE = "rds"


@cache
def operation(name: str) -> botocore.model.OperationModel:
    return service_model(SERVICE).operation_model(name)


# -- requests ----------------------------------------------------------------------------------------

def request_params(ctx: RequestContext, operation_name: str) -> dict[str, Any]:
    """The request's parameters as botocore would have been given them (scalars typed, lists and
    structures nested; timestamps as aware datetimes)."""
    flat: dict[str, str] = dict(parse_qsl(ctx.query_string, keep_blank_values=True))
    if ctx.method == "POST":
        flat.update(parse_qsl(ctx.body.decode("utf-8", "replace"), keep_blank_values=True))
    shape = operation(operation_name).input_shape
    if shape is None:
        return {}
    return _decode_structure(flat, "", shape)


def _decode(flat: dict[str, str], key: str, shape: botocore.model.Shape) -> Any:
    if shape.type_name == "structure":
        value = _decode_structure(flat, key + ".", shape)  # type: ignore[arg-type]
        return value or None
    if shape.type_name == "list":
        return _decode_list(flat, key, shape)  # type: ignore[arg-type]
    if key not in flat:
        return None
    text = flat[key]
    if shape.type_name in ("integer", "long"):
        return int(text)
    if shape.type_name in ("double", "float"):
        return float(text)
    if shape.type_name == "boolean":
        return text.lower() == "true"
    if shape.type_name == "timestamp":
        return _aware(parse_timestamp(text))
    return text


def _decode_structure(flat: dict[str, str], prefix: str, shape: botocore.model.StructureShape) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, member in shape.members.items():
        value = _decode(flat, prefix + member.serialization.get("name", name), member)
        if value is not None:
            result[name] = value
    return result


def _decode_list(flat: dict[str, str], key: str, shape: botocore.model.ListShape) -> list[Any] | None:
    member = shape.member
    item_prefix = key if shape.serialization.get("flattened") else f"{key}.{member.serialization.get('name', 'member')}"
    items: list[Any] = []
    for index in range(1, 10_001):
        item_key = f"{item_prefix}.{index}"
        if item_key not in flat and not any(k.startswith(item_key + ".") for k in flat):
            break
        items.append(_decode(flat, item_key, member))
    return items or None


# -- answers -----------------------------------------------------------------------------------------

def parse_response(operation_name: str, body: bytes) -> tuple[dict[str, Any], str]:
    """(the answer's members, its request id)."""
    parsed = create_parser("query").parse({"body": body, "headers": {}, "status_code": 200},
                                          operation(operation_name).output_shape)
    metadata = parsed.pop("ResponseMetadata", {})
    return parsed, metadata.get("RequestId", "")


def serialize_response(operation_name: str, result: dict[str, Any], request_id: str) -> bytes:
    model = operation(operation_name)
    namespace = service_model(SERVICE).metadata["xmlNamespace"]
    shape = model.output_shape
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation_name}Response xmlns="{namespace}">']
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{operation_name}Result")
        parts.append(f"<{wrapper}>")
        _write_members(parts, result, shape)  # type: ignore[arg-type]
        parts.append(f"</{wrapper}>")
    parts.append(f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>"
                 f"</{operation_name}Response>")
    return "".join(parts).encode("utf-8")


def _write_members(parts: list[str], value: dict[str, Any], shape: botocore.model.StructureShape) -> None:
    for name, member in shape.members.items():
        if name in value and value[name] is not None:
            _write(parts, member.serialization.get("name", name), value[name], member)


def _write(parts: list[str], tag: str, value: Any, shape: botocore.model.Shape) -> None:
    kind = shape.type_name
    if kind == "structure":
        parts.append(f"<{tag}>")
        _write_members(parts, value, shape)  # type: ignore[arg-type]
        parts.append(f"</{tag}>")
    elif kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        if shape.serialization.get("flattened"):
            for item in value:
                _write(parts, member.serialization.get("name", tag), item, member)
        else:
            item_tag = member.serialization.get("name", "member")
            parts.append(f"<{tag}>")
            for item in value:
                _write(parts, item_tag, item, member)
            parts.append(f"</{tag}>")
    elif kind == "map":
        parts.append(f"<{tag}>")
        for key, item in value.items():
            parts.append(f"<entry><key>{escape(str(key))}</key>")
            _write(parts, "value", item, shape.value)  # type: ignore[attr-defined]
            parts.append("</entry>")
        parts.append(f"</{tag}>")
    else:
        parts.append(f"<{tag}>{escape(_scalar(value, kind))}</{tag}>")


def _scalar(value: Any, kind: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        moment = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value), tz=UTC)
        return iso_millis(moment)
    return str(value)


def iso_millis(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


def epoch_dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
