"""RDS query-protocol requests read and answers written from botocore's model, checked against botocore."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import urlencode

import botocore.session
from botocore.serialize import create_serializer
from werkzeug.test import EnvironBuilder

from lab.gateway.codec.query import parse_response, request_params, serialize_response
from lab.kernel.context import RequestContext


def botocore_request(operation: str, params: dict) -> RequestContext:
    """The request exactly as a boto3 client would send it (the query serializer's form parameters)."""
    model = botocore.session.Session().get_service_model("rds").operation_model(operation)
    body = urlencode(create_serializer("query").serialize_to_request(params, model)["body"]).encode()
    environ = EnvironBuilder(method="POST", path="/", data=body,
                             content_type="application/x-www-form-urlencoded").get_environ()
    environ["wsgi.input"] = io.BytesIO(body)
    return RequestContext.from_environ(environ)


def test_request_parameters_come_back_typed_and_nested() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    ctx = botocore_request("DescribeEvents", {"SourceType": "db-instance", "SourceIdentifier": "db1",
                                              "StartTime": moment, "Duration": 90, "MaxRecords": 20,
                                              "EventCategories": ["failover", "backup"]})
    params = request_params(ctx, "DescribeEvents")
    assert params == {"SourceType": "db-instance", "SourceIdentifier": "db1", "StartTime": moment, "Duration": 90,
                      "MaxRecords": 20, "EventCategories": ["failover", "backup"]}
    ctx = botocore_request("RebootDBInstance", {"DBInstanceIdentifier": "db1", "ForceFailover": True})
    assert request_params(ctx, "RebootDBInstance") == {"DBInstanceIdentifier": "db1", "ForceFailover": True}


def test_an_answer_written_here_reads_back_the_same_through_botocore() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
    answer = {"DBInstances": [{
        "DBInstanceIdentifier": "db1", "MultiAZ": True, "AllocatedStorage": 20, "InstanceCreateTime": moment,
        "AvailabilityZone": "us-east-1b", "SecondaryAvailabilityZone": "us-east-1a",
        "ReadReplicaDBInstanceIdentifiers": ["r1", "arn:aws:rds:us-west-2:000000000000:db:r2"],
        "StatusInfos": [{"StatusType": "read replication", "Normal": True, "Status": "replicating"}],
        "Endpoint": {"Address": "db1.example", "Port": 5432}, "TagList": [{"Key": "app", "Value": "x & <y>"}],
    }], "Marker": "m1"}
    body = serialize_response("DescribeDBInstances", answer, "req-1")
    parsed, request_id = parse_response("DescribeDBInstances", body)
    assert request_id == "req-1"
    assert parsed == answer
