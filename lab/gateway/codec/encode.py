"""Answers written from an operation's output, in every protocol the gateway speaks, from botocore's models.

`encode_output` turns the output members (member name -> value; timestamps as datetimes or epoch seconds,
blobs as bytes) into the HTTP answer exactly as boto3 and the aws CLI parse it: JSON (awsJson 1.0/1.1),
rest-json, rest-xml, query and ec2 XML, and smithy-rpc-v2-cbor. `add_output_headers` sets output members
bound to headers on an answer that otherwise stands (the backend's).
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import botocore.model
from botocore.serialize import RpcV2CBORSerializer

from lab.gateway.codec.model import operation_model, service_model
from lab.kernel.context import Response

__all__ = ["XML_INVALID", "add_output_headers", "encode_output", "xml_text"]

_REST = ("rest-json", "rest-xml")
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# Characters XML 1.0 cannot carry even escaped; one would make the whole document unparseable for the client.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Root elements of rest-xml answers without a payload member, where the model does not name them.
_ROOTS = {("s3", "GetBucketLifecycleConfigurationOutput"): "LifecycleConfiguration"}
_CRC32_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})  # their answers carry x-amz-crc32, which SDKs check


def xml_text(value: str) -> str:
    """Text escaped for XML, with the characters XML cannot carry replaced."""
    return escape(XML_INVALID.sub("\ufffd", value))


def encode_output(service: str, operation: str, protocol: str | None, output: Mapping[str, Any] | None,
                  request_id: str) -> Response:
    """The successful answer carrying `output`."""
    model = operation_model(service, operation)
    protocol = protocol or model.metadata.get("protocol")
    output = output or {}
    if protocol == "json":
        return _json_answer(service, model, output)
    if protocol in _REST:
        return _rest_answer(service, model, protocol, output)
    if protocol in ("query", "ec2"):
        return _xml_rpc_answer(service, model, protocol, output, request_id)
    if protocol == "smithy-rpc-v2-cbor":
        return _cbor_answer(model, output)
    raise ValueError(f"the lab does not answer {service} in the {protocol} protocol")


def add_output_headers(service: str, operation: str, response: Response, added: Mapping[str, Any]) -> None:
    """Set output members bound to headers on an answer (replacing the header where it is there)."""
    shape = operation_model(service, operation).output_shape
    for name, value in added.items():
        member = shape.members.get(name) if shape is not None else None
        if member is None or member.serialization.get("location") != "header":
            raise ValueError(f"{service} {operation} has no output member {name} bound to a header")
        if value is None:
            continue
        header = member.serialization.get("name", name)
        response.headers = [(k, v) for k, v in response.headers if k.lower() != header.lower()]
        response.headers.append((header, _header_text(member, value)))


# -- JSON (awsJson) -----------------------------------------------------------------------------------


def _json_answer(service: str, model: botocore.model.OperationModel, output: Mapping[str, Any]) -> Response:
    shape = model.output_shape
    content_type = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
    body = json.dumps(_json_value(shape, output) if shape is not None else {}, separators=(",", ":")).encode()
    headers = [("Content-Type", content_type)]
    if service in _CRC32_SERVICES:
        headers.append(("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF)))
    return Response(int(model.http.get("responseCode", 200)), headers, body)


def _json_value(shape: botocore.model.Shape, value: Any) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure":
        if shape.metadata.get("document"):
            return value
        members = shape.members
        return {members[name].serialization.get("name", name): _json_value(members[name], item)
                for name, item in value.items() if name in members and item is not None}
    if kind == "list":
        return [_json_value(shape.member, item) for item in value]
    if kind == "map":
        return {str(key): _json_value(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601":
            return _iso(value)
        return round(_timestamp(value).timestamp(), 3)
    if kind == "blob":
        return base64.b64encode(_bytes(value)).decode()
    if kind == "boolean":
        return bool(value)
    if kind in ("integer", "long"):
        return int(value)
    return value


# -- rest-json and rest-xml ---------------------------------------------------------------------------


def _rest_answer(service: str, model: botocore.model.OperationModel, protocol: str,
                 output: Mapping[str, Any]) -> Response:
    shape = model.output_shape
    status = int(model.http.get("responseCode", 200))
    headers: list[tuple[str, str]] = []
    body_members: dict[str, Any] = {}
    if shape is not None:
        for name, member in shape.members.items():
            if output.get(name) is None:
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
    if payload_name is not None and shape is not None and shape.members[payload_name].type_name in ("blob", "string"):
        value = body_members.get(payload_name)
        data: Any
        if value is None:
            data = b""
        elif isinstance(value, (bytes, bytearray)):
            data = bytes(value)
        elif isinstance(value, str):
            data = value.encode()
        else:
            data = value  # a stream (an iterable of bytes), passed on as it is
        return Response(status, [*headers, ("Content-Type", "application/octet-stream")], data)
    if protocol == "rest-json":
        if payload_name is not None and shape is not None:
            value = body_members.get(payload_name)
            document = _json_value(shape.members[payload_name], value) if value is not None else {}
        else:
            document = _json_value(shape, body_members) if shape is not None else {}
        return Response(status, [*headers, ("Content-Type", "application/json")], json.dumps(document).encode())
    if shape is None or not body_members:
        return Response(status, [*headers, ("Content-Type", "application/xml")], b"")
    namespace = _xml_namespace(shape) or _xml_namespace(model.input_shape) or _service_namespace(service)
    if payload_name is not None:
        member = shape.members[payload_name]
        root = member.serialization.get("name", payload_name)
        inner = _xml_children(member, body_members.get(payload_name))
    else:
        root = shape.serialization.get("name") or _ROOTS.get((service, shape.name), shape.name)
        inner = _xml_children(shape, body_members)
    xmlns = f' xmlns="{escape(namespace)}"' if namespace else ""
    document = f"{_XML_DECLARATION}<{root}{xmlns}>{inner}</{root}>"
    return Response(status, [*headers, ("Content-Type", "application/xml")], document.encode())


def _xml_children(shape: botocore.model.Shape, value: Any) -> str:
    """The inside of the element that holds `value` (rest-xml)."""
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
        return "".join(f"<entry><{key_tag}>{xml_text(str(key))}</{key_tag}><{value_tag}>"
                       f"{_xml_children(shape.value, item)}</{value_tag}></entry>" for key, item in value.items())
    return _xml_scalar(shape, value)


# -- query and ec2 (XML answers to form-encoded requests) ----------------------------------------------


def _xml_rpc_answer(service: str, model: botocore.model.OperationModel, protocol: str, output: Mapping[str, Any],
                    request_id: str) -> Response:
    operation = model.name
    shape = model.output_shape
    namespace = _service_namespace(service)
    xmlns = f' xmlns="{escape(namespace)}"' if namespace else ""
    parts = [f"{_XML_DECLARATION}<{operation}Response{xmlns}>"]
    if protocol == "ec2":
        # EC2: the request id and the members right inside the root, lists of <item>
        # (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#query-response).
        parts.append(f"<requestId>{xml_text(request_id)}</requestId>")
        if shape is not None:
            _write_members(parts, output, shape)
        parts.append(f"</{operation}Response>")
        return Response(200, [("Content-Type", "text/xml;charset=UTF-8")], "".join(parts).encode())
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{operation}Result")
        parts.append(f"<{wrapper}>")
        _write_members(parts, output, shape)
        parts.append(f"</{wrapper}>")
    parts.append(f"<ResponseMetadata><RequestId>{xml_text(request_id)}</RequestId></ResponseMetadata>"
                 f"</{operation}Response>")
    return Response(200, [("Content-Type", "text/xml")], "".join(parts).encode())


def _write_members(parts: list[str], value: Mapping[str, Any], shape: botocore.model.Shape) -> None:
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _write(parts, member.serialization.get("name", name), value[name], member)


def _write(parts: list[str], tag: str, value: Any, shape: botocore.model.Shape) -> None:
    kind = shape.type_name
    if kind == "structure":
        parts.append(f"<{tag}>")
        _write_members(parts, value, shape)
        parts.append(f"</{tag}>")
    elif kind == "list":
        member = shape.member
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
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        flattened = shape.serialization.get("flattened")
        if not flattened:
            parts.append(f"<{tag}>")
        for key, item in value.items():
            parts.append(f"<{tag if flattened else 'entry'}><{key_tag}>{xml_text(str(key))}</{key_tag}>")
            _write(parts, value_tag, item, shape.value)
            parts.append(f"</{tag if flattened else 'entry'}>")
        if not flattened:
            parts.append(f"</{tag}>")
    else:
        parts.append(f"<{tag}>{_xml_scalar(shape, value)}</{tag}>")


# -- smithy-rpc-v2-cbor ---------------------------------------------------------------------------------


def _cbor_answer(model: botocore.model.OperationModel, output: Mapping[str, Any]) -> Response:
    shape = model.output_shape
    body = bytearray()
    if shape is not None:
        _cbor_serializer()._serialize_data_item(body, _known_members(shape, output), shape)
    return Response(200, [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")], bytes(body))


def _known_members(shape: botocore.model.Shape, value: Any) -> Any:
    """`value` without members the model does not know (botocore's serializer would stop at them)."""
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure" and not shape.metadata.get("document"):
        return {name: _known_members(shape.members[name], item) for name, item in value.items()
                if name in shape.members and item is not None}
    if kind == "list":
        return [_known_members(shape.member, item) for item in value]
    if kind == "map":
        return {key: _known_members(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        return _timestamp(value)
    return value


@cache
def _cbor_serializer() -> RpcV2CBORSerializer:
    return RpcV2CBORSerializer()


# -- scalars -------------------------------------------------------------------------------------------


def _service_namespace(service: str) -> str | None:
    metadata = service_model(service).metadata
    namespace = metadata.get("xmlNamespace")
    if isinstance(namespace, Mapping):
        namespace = namespace.get("uri")
    if isinstance(namespace, str) and namespace:
        return namespace
    if metadata.get("protocol") == "ec2":
        return f"http://ec2.amazonaws.com/doc/{metadata.get('apiVersion')}/"
    return None


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


def _bytes(value: Any) -> bytes:
    return bytes(value) if isinstance(value, (bytes, bytearray)) else str(value).encode()


def _header_text(shape: botocore.model.Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601":
            return _iso(value)
        return format_datetime(_timestamp(value), usegmt=True)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "list":
        return ",".join(_header_text(shape.member, item) for item in value)
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value).encode()).decode()
    return str(value)


def _xml_scalar(shape: botocore.model.Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return _iso(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        return base64.b64encode(_bytes(value)).decode()
    return xml_text(str(value))
