"""Refuse XML request bodies that carry a DOCTYPE: no AWS API takes one, and every parser behind the gateway
(botocore's, moto's, the engines') would otherwise expand the entities it declares.

S3 answers a body it cannot accept with MalformedXML, 400
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList); the other rest-xml
services (Route 53) with InvalidInput, 400.
"""

from __future__ import annotations

from functools import lru_cache

import defusedxml.ElementTree as DefusedElementTree
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationNotFoundError
from defusedxml import DefusedXmlException

from lab.gateway.chain import HandlerChain
from lab.gateway.codec.errors import aws_error
from lab.gateway.codec.identify import service_model
from lab.kernel.context import RequestContext, Response

REFUSED = ("the request body declares a DOCTYPE, entities or external references; AWS APIs take plain XML "
           "without them")


def refuse_xml_declarations(chain: HandlerChain, ctx: RequestContext) -> None:
    identity = ctx.identity
    if (identity is None or identity.service is None or identity.operation is None
            or identity.protocol != "rest-xml" or ctx.replaying or ctx.internal
            or not takes_xml_body(identity.service, identity.operation)):
        return
    body = ctx.body
    if not body:
        return
    try:
        DefusedElementTree.fromstring(body, forbid_dtd=True)
    except DefusedXmlException:
        if identity.service == "s3":
            code, message = "MalformedXML", ("The XML you provided was not well-formed or did not validate "
                                             f"against our published schema: {REFUSED}")
        else:
            code, message = "InvalidInput", f"The input is not valid: {REFUSED}"
        error = aws_error(identity, 400, code, message, ctx.request_id)
        ctx.response = Response(error.status, list(error.headers), error.body)
    except DefusedElementTree.ParseError:
        return  # not XML at all: the service answers that itself, as before


@lru_cache(maxsize=512)
def takes_xml_body(service: str, operation: str) -> bool:
    """Whether the operation's request body is XML (a structure payload, or members serialized into the body),
    rather than raw bytes (PutObject) or nothing."""
    try:
        shape = service_model(service).operation_model(operation).input_shape
    except (UnknownServiceError, OperationNotFoundError):
        return False
    if shape is None:
        return False
    payload = shape.serialization.get("payload")
    if payload:
        return shape.members[payload].type_name == "structure"
    return any("location" not in member.serialization for member in shape.members.values())
