"""Calls of every operation of a service with parameters drawn from its botocore input shape: well-formed
requests whose values are hostile (edge integers, empty, huge and odd strings, the world's own names, times
far in the past and the future, lists of many members). Where tests/integration/_fuzz_requests.py breaks the
wire, this reaches the operations behind it. Shared by tests/integration/test_model_fuzz.py and
benchmarks/bench_model_fuzz.py.

An answer is judged as a client sees it through boto3 (parameter validation off, no retries): an AWS answer
(a result, or an error with a code and a status below 500, or 501 NotImplemented for what the sandbox does not
simulate) or a defect: a 5xx but 501, an answer botocore cannot parse, a dropped connection, or no answer
within the client's read timeout.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import strategies as st

# Every service the labs teach, as boto3 names it.
SERVICES = ("s3", "dynamodb", "dynamodbstreams", "rds", "ec2", "backup", "route53", "drs", "fis", "cloudwatch",
            "cloudtrail", "sns", "sqs", "iam", "kms", "sts", "ebs", "logs", "events")
# Operations a fuzz must not call: they would end the run, not test it.
SKIPPED: dict[str, frozenset[str]] = {}

# Names and ids the world holds, so that operations reach real resources as often as missing ones.
WORLD_NAMES = ("securecart-orders-db", "securecart-invoices-use1", "securecart-invoices-usw2",
               "securecart-order-history", "securecart-backend", "securecart-backend-data", "Default",
               "arn:aws:rds:us-east-1:000000000000:db:securecart-orders-db",
               "arn:aws:dynamodb:us-east-1:000000000000:table/securecart-order-history",
               "arn:aws:s3:::securecart-invoices-use1", "arn:aws:iam::000000000000:role/securecart-backup",
               "us-east-1", "us-west-2", "us-east-1a", "000000000000")
ODD_STRINGS = ("", " ", "x", "-1", "0", "*", "..", "../../etc/passwd", "a/b/c", "%00", "\u00e9\u00df\u2603",
               "\U0001f600", "null", "true", "1e400", "9" * 40, "a" * 300, "arn:aws:s3:::", "arn:", "<x/>",
               "{\"a\": 1}", "i-00000000000000000", "vol-ffffffff", "snap-0", "2026-13-45T99:99:99Z", "\t\n")
EDGE_INTEGERS = (0, 1, -1, 2, 7, 100, 1000, 2**31 - 1, 2**31, -2**31, 2**63 - 1, -2**63, 10**30)
EDGE_FLOATS = (0.0, -1.0, 0.5, 1e308, -1e308, 5e-324)
EDGE_TIMES = (datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC), datetime.datetime(2000, 2, 29, tzinfo=datetime.UTC),
              datetime.datetime(2026, 12, 7, 12, tzinfo=datetime.UTC),
              datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC))
MAX_DEPTH = 5
# Members that are the HTTP message's own framing: a drawn ContentLength that is not the body's length makes
# the server wait for bytes that never come (it answers RequestTimeout after 20 s, as S3 does), which tests
# the transport, not the values.
_FRAMING = frozenset({"ContentLength"})


def _string(shape: Any, extra: tuple[str, ...]) -> st.SearchStrategy[str]:
    enum = list(getattr(shape, "enum", None) or [])
    choices = [st.sampled_from(WORLD_NAMES + extra), st.sampled_from(ODD_STRINGS), st.text(max_size=12)]
    if enum:  # mostly a value the service knows, so the call gets past its first check
        return st.one_of(st.sampled_from(enum), st.sampled_from(enum), st.sampled_from(enum), *choices)
    return st.one_of(*choices)


def shape_strategy(shape: Any, extra: tuple[str, ...] = (), depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for a botocore shape: every member type, recursive shapes cut at MAX_DEPTH."""
    kind = shape.type_name
    if kind == "structure":
        if depth >= MAX_DEPTH:
            return st.just({})
        required = set(shape.required_members)
        members = {name: shape_strategy(member, extra, depth + 1) for name, member in shape.members.items()
                   if not member.serialization.get("eventpayload") and not getattr(member, "is_document_type", False)
                   and name not in _FRAMING}
        return st.fixed_dictionaries({name: members[name] for name in members if name in required},
                                     optional={name: members[name] for name in members if name not in required})
    if kind == "list":
        if depth >= MAX_DEPTH:
            return st.just([])
        item = shape_strategy(shape.member, extra, depth + 1)
        return st.one_of(st.lists(item, max_size=3), st.lists(item, min_size=60, max_size=60))
    if kind == "map":
        if depth >= MAX_DEPTH:
            return st.just({})
        return st.dictionaries(_string(shape.key, extra), shape_strategy(shape.value, extra, depth + 1), max_size=2)
    if kind == "string":
        return _string(shape, extra)
    if kind in ("integer", "long"):
        return st.one_of(st.sampled_from(EDGE_INTEGERS), st.integers(-5, 50))
    if kind in ("float", "double"):
        return st.sampled_from(EDGE_FLOATS)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.sampled_from(EDGE_TIMES)
    if kind == "blob":
        return st.one_of(st.binary(max_size=16), st.just(b"\x00" * 1024))
    return st.none()


@cache
def operation_strategy(service: str, operation: str, extra: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    model = _service_model(service).operation_model(operation)
    if model.input_shape is None:
        return st.just({})
    return shape_strategy(model.input_shape, extra)


@cache
def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def operations(service: str) -> list[str]:
    """The service's operations but those a client sends to another host (a `hostPrefix` made of the
    parameters, such as S3's WriteGetObjectResponse: a name only AWS's DNS resolves)."""
    skipped = SKIPPED.get(service, frozenset())
    model = _service_model(service)
    return [name for name in model.operation_names
            if name not in skipped and not (model.operation_model(name).endpoint or {}).get("hostPrefix")]


@dataclass(frozen=True)
class Outcome:
    service: str
    operation: str
    status: int | None  # None: no HTTP answer a client could read (the kind says why)
    kind: str  # "ok", "error", "not-implemented", "refused-by-client", or a defect's kind
    detail: str = ""

    @property
    def defect(self) -> bool:
        return self.kind in ("server-error", "unparseable", "connection-dropped", "timeout")


def fuzz_client(service: str, endpoint: str, read_timeout: float = 20.0, region: str = "us-east-1") -> Any:
    import boto3
    from botocore.config import Config

    config = Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"},
                    read_timeout=read_timeout, connect_timeout=5, tcp_keepalive=False)
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint,
                                          aws_access_key_id="test", aws_secret_access_key="test", config=config)


def call(client: Any, operation: str, params: dict[str, Any]) -> Outcome:
    """One call, judged (never raises for what the server answers)."""
    from botocore import exceptions
    from botocore.parsers import ResponseParserError

    service = client.meta.service_model.service_name
    method = getattr(client, _method_name(client, operation))
    try:
        answer = method(**params)
        body = answer.get("Body") if isinstance(answer, dict) else None
        if body is not None and hasattr(body, "read"):
            body.read()
        status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return Outcome(service, operation, status, "ok")
    except exceptions.ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.response.get("Error", {}).get("Code", "")
        message = str(error.response.get("Error", {}).get("Message", ""))[:200]
        if status == 501:
            return Outcome(service, operation, status, "not-implemented", code)
        if status is None or status >= 500 or not code:
            return Outcome(service, operation, status, "server-error", f"{code}: {message}")
        return Outcome(service, operation, status, "error", code)
    except ResponseParserError as error:
        return Outcome(service, operation, None, "unparseable", str(error)[:300])
    except exceptions.ReadTimeoutError as error:
        return Outcome(service, operation, None, "timeout", str(error)[:200])
    except (exceptions.ConnectionClosedError, exceptions.EndpointConnectionError) as error:
        return Outcome(service, operation, None, "connection-dropped", str(error)[:200])
    except exceptions.BotoCoreError as error:  # (after the kinds above, which are BotoCoreErrors too)
        return Outcome(service, operation, None, "refused-by-client", f"{type(error).__name__}: {str(error)[:120]}")
    except (TypeError, ValueError, KeyError, AttributeError, UnicodeError, OverflowError) as error:
        # botocore's serializers meet values they cannot write (a 10**30 in a query string is fine, but not
        # in every protocol): the request never left the client
        return Outcome(service, operation, None, "refused-by-client", f"{type(error).__name__}: {str(error)[:120]}")


def live_names(endpoint: str) -> tuple[str, ...]:
    """Ids only a running sandbox knows, for the values drawn: the world's instance, volume and subnet, and a
    queue and a topic made for the fuzz (a queue URL reaches SQS's operations, a made-up one does not)."""
    ec2 = fuzz_client("ec2", endpoint)
    names = [instance["InstanceId"] for reservation in ec2.describe_instances()["Reservations"]
             for instance in reservation["Instances"]]
    names += [volume["VolumeId"] for volume in ec2.describe_volumes()["Volumes"]]
    names += [subnet["SubnetId"] for subnet in ec2.describe_subnets()["Subnets"][:1]]
    names.append(fuzz_client("sqs", endpoint).create_queue(QueueName="model-fuzz-queue")["QueueUrl"])
    names.append(fuzz_client("sns", endpoint).create_topic(Name="model-fuzz-topic")["TopicArn"])
    return tuple(names)


def fuzz_operation(client: Any, operation: str, examples: int, run_seed: int = 0,
                   extra: tuple[str, ...] = ()) -> list[tuple[Outcome, dict]]:
    """`examples` calls of one operation, drawn by hypothesis (seeded: the same calls on every run), each
    with its outcome; `extra` names are drawn beside the world's."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    found: list[tuple[Outcome, dict]] = []
    service = client.meta.service_model.service_name

    @seed(run_seed)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(operation_strategy(service, operation, extra))
    def one(params: dict) -> None:
        found.append((call(client, operation, params), params))

    one()
    return found


@cache
def _method_names(service: str) -> dict[str, str]:
    from botocore import xform_name

    return {name: xform_name(name) for name in _service_model(service).operation_names}


def _method_name(client: Any, operation: str) -> str:
    return _method_names(client.meta.service_model.service_name)[operation]
