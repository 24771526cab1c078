"""Fault injection in the gateway: LocalStack's Chaos API as LocalStack serves it, the lab's own rules, and
what boto3 sees (codes, retries)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration._faults_support import advance, aws, error_of, http

pytestmark = pytest.mark.integration


@pytest.fixture
def clean(sandbox: Any) -> Iterator[Any]:
    """The shared sandbox, with every fault this test adds removed afterwards."""
    yield sandbox
    http(sandbox, "POST", "/_localstack/chaos/faults", [])
    http(sandbox, "POST", "/_localstack/chaos/effects", {"latency": 0})
    http(sandbox, "DELETE", "/_lab/faults")


def test_the_chaos_api_keeps_localstacks_json(clean: Any) -> None:
    faults = "/_localstack/chaos/faults"
    config = [{"region": "ap-south-1", "service": "redshift", "description": "redshift down in ap-south-1"}]
    assert http(clean, "POST", faults, config) == (200, config)
    assert http(clean, "GET", faults) == (200, config)
    replaced = [{"region": "us-east-1", "service": "kms"}]
    assert http(clean, "POST", faults, replaced) == (200, replaced)
    patch = [{"service": "kms", "region": "us-east-2"}]
    assert http(clean, "PATCH", faults, patch) == (200, replaced + patch)
    assert http(clean, "DELETE", faults, patch) == (200, replaced)
    invalid = [{"service": "kms", "invalid-key": "x"}]
    for method in ("POST", "PATCH", "DELETE"):
        assert http(clean, method, faults, invalid) == (400, {
            "message": "Error validating JSON schema: Additional properties are not allowed "
                       "('invalid-key' was unexpected)"})
    assert http(clean, "GET", faults) == (200, replaced)
    assert http(clean, "POST", faults, []) == (200, [])
    assert http(clean, "POST", "/_localstack/chaos/effects", {"latency": 0}) == (200, {"latency": 0})
    assert http(clean, "GET", "/_localstack/chaos/effects") == (200, {"latency": 0})


def test_chaos_faults_reach_boto3_in_every_protocol(clean: Any) -> None:
    http(clean, "POST", "/_localstack/chaos/faults", [
        {"region": "us-west-2"},
        {"service": "dynamodb", "operation": "ListTables", "error": {"statusCode": 450, "code": "TeaPotError"}},
    ])
    simulated = {"code": "ServiceUnavailable", "message": "Operation failed due to a simulated fault", "status": 503,
                 "retries": 0}
    for service, call in (("s3", "list_buckets"), ("ec2", "describe_regions"), ("rds", "describe_db_instances"),
                          ("dynamodb", "list_tables"), ("fis", "list_experiments"), ("kms", "list_keys")):
        client = aws(clean, service, "us-west-2")
        assert error_of(getattr(client, call)) == simulated, service
    assert error_of(aws(clean, "dynamodb").list_tables) == {"code": "TeaPotError", "status": 450, "retries": 0,
                                                            "message": "Operation failed due to a simulated fault"}
    # first match wins, and what no rule names is untouched
    assert aws(clean, "dynamodb").describe_limits()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert aws(clean, "s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_fault_touches_only_what_it_names(clean: Any) -> None:
    name = f"faults-{uuid.uuid4().hex[:10]}"
    east, west = aws(clean, "s3"), aws(clean, "s3", "us-west-2")
    east.create_bucket(Bucket=f"{name}-e")
    west.create_bucket(Bucket=f"{name}-w", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    east.put_object(Bucket=f"{name}-e", Key="before", Body=b"x")
    status, rule = http(clean, "POST", "/_lab/faults", {
        "service": "s3", "region": "us-east-1", "operation": "PutObject",
        "error": {"statusCode": 500, "code": "InternalError"}})
    assert status == 200 and rule["operations"] == ["PutObject"]
    assert error_of(lambda: east.put_object(Bucket=f"{name}-e", Key="k", Body=b"x"))["code"] == "InternalError"
    assert east.get_object(Bucket=f"{name}-e", Key="before")["Body"].read() == b"x"
    west.put_object(Bucket=f"{name}-w", Key="k", Body=b"x")
    aws(clean, "dynamodb").list_tables()
    listed = http(clean, "GET", "/_lab/faults")[1]
    mine = next(r for r in listed["rules"] if r["id"] == rule["id"])
    assert (mine["seen"], mine["injected"]) == (1, 1)
    assert http(clean, "DELETE", f"/_lab/faults?id={rule['id']}")[1] == {"removed": [rule["id"]]}
    east.put_object(Bucket=f"{name}-e", Key="k", Body=b"x")


def test_throttling_is_retried_by_boto3_as_on_aws(clean: Any) -> None:
    http(clean, "POST", "/_lab/faults", {"service": "dynamodb", "region": "us-west-2", "operation": "ListTables",
                                         "error": {"statusCode": 400, "code": "ThrottlingException"}})
    http(clean, "POST", "/_lab/faults", {"service": "dynamodb", "region": "us-west-2", "operation": "DescribeLimits",
                                         "error": {"statusCode": 400, "code": "BrainFry"}})
    retrying = aws(clean, "dynamodb", "us-west-2", Config(retries={"mode": "standard", "total_max_attempts": 2}))
    assert error_of(retrying.list_tables) == {"code": "ThrottlingException", "status": 400, "retries": 1,
                                              "message": "Operation failed due to a simulated fault"}
    assert error_of(retrying.describe_limits)["retries"] == 0  # not a throttling or transient code
    rules = http(clean, "GET", "/_lab/faults")[1]["rules"]
    seen = {r["operations"][0]: r["seen"] for r in rules if r["source"] == "lab"}
    assert seen == {"ListTables": 2, "DescribeLimits": 1}


def test_a_probable_fault_fails_about_that_share_of_calls(clean: Any) -> None:
    http(clean, "POST", "/_lab/faults", {"service": "sts", "probability": 0.5})
    sts = aws(clean, "sts")
    failed = 0
    for _ in range(60):
        try:
            sts.get_caller_identity()
        except ClientError:
            failed += 1
    assert 15 <= failed <= 45
    rule = http(clean, "GET", "/_lab/faults")[1]["rules"][-1]
    assert (rule["seen"], rule["injected"]) == (60, failed)


def test_latency_slows_calls_without_failing_them(clean: Any) -> None:
    http(clean, "POST", "/_lab/faults", {"service": "sts", "latency_ms": 300})
    started = time.perf_counter()
    assert aws(clean, "sts").get_caller_identity()["Account"] == "000000000000"
    assert time.perf_counter() - started >= 0.3  # a sleep never ends early


def test_a_timed_rule_lapses_in_sim_time(clean: Any) -> None:
    http(clean, "POST", "/_lab/faults", {"service": "sts", "duration": "10m"})
    sts = aws(clean, "sts")
    assert error_of(sts.get_caller_identity)["code"] == "ServiceUnavailable"
    advance(clean, "11m")
    assert sts.get_caller_identity()["Account"] == "000000000000"
    events = http(clean, "GET", "/_lab/events?kind=fault&limit=20")[1]["events"]
    assert [e["name"] for e in events][-2:] == ["FaultRuleAdded", "FaultRuleExpired"]
