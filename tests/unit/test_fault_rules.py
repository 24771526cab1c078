"""Fault rules: matching, the deterministic draw, LocalStack's Chaos API schema, FIS error codes."""

from __future__ import annotations

import pytest
from botocore.retries import standard

from lab.kernel.context import Identity
from lab.services.faults.rules import (
    GLOBAL_SERVICES,
    ChaosSchemaError,
    FaultRule,
    decide,
    draw,
    fis_api_error,
    region_outage_rule,
    rule_from_chaos,
    rule_from_lab,
    validate_chaos,
)


def call(service: str, region: str = "us-east-1", operation: str = "ListBuckets",
         protocol: str = "rest-xml") -> Identity:
    return Identity(service=service, region=region, operation=operation, protocol=protocol, signing_name=service)


def test_a_rule_matches_only_what_it_names() -> None:
    rule = FaultRule(id="r", source="lab", service="s3", region="us-east-1", operations=("PutObject",))
    assert rule.matches(call("s3", operation="PutObject"))
    assert not rule.matches(call("s3", operation="GetObject"))
    assert not rule.matches(call("s3", region="us-west-2", operation="PutObject"))
    assert not rule.matches(call("dynamodb", operation="PutObject"))
    assert not rule.matches(Identity(None, "us-east-1", None, None, None))


def test_an_empty_rule_matches_every_call_as_localstack_does() -> None:
    rule = rule_from_chaos(0, {})
    for service, region in (("s3", "us-east-1"), ("ec2", "us-west-2"), ("kms", "eu-west-1")):
        assert rule.matches(call(service, region))
    assert (rule.status_code, rule.code, rule.message) == (503, "ServiceUnavailable",
                                                           "Operation failed due to a simulated fault")


def test_service_names_match_with_dashes_or_underscores() -> None:
    rule = rule_from_chaos(0, {"service": "cognito_identity"})
    assert rule.matches(call("cognito-identity"))


def test_a_region_outage_leaves_global_services_up() -> None:
    rule = region_outage_rule("r", "inj-1", "us-east-1", None)
    assert rule.matches(call("s3")) and rule.matches(call("dynamodb")) and rule.matches(call("sts"))
    for service in GLOBAL_SERVICES:
        assert not rule.matches(call(service))
    assert not rule.matches(call("s3", region="us-west-2"))


def test_first_matching_rule_wins_and_counts_the_call() -> None:
    first = FaultRule(id="a", source="lab", service="s3", code="First")
    second = FaultRule(id="b", source="lab", code="Second")
    decision = decide([first, second], call("s3"), seed=1, now=0.0)
    assert decision.rule is first and decision.fails
    assert decide([first, second], call("ec2"), seed=1, now=0.0).rule is second
    assert (first.seen, first.injected, second.seen, second.injected) == (1, 1, 1, 1)


def test_a_lapsed_rule_no_longer_fires() -> None:
    rule = FaultRule(id="a", source="lab", until=100.0)
    assert decide([rule], call("s3"), seed=1, now=99.0).fails
    assert not decide([rule], call("s3"), seed=1, now=100.0).fails


def outcomes(seed: int, probability: float, calls: int) -> list[bool]:
    rule = FaultRule(id="p", source="lab", probability=probability)
    return [decide([rule], call("s3"), seed=seed, now=0.0).fails for _ in range(calls)]


def test_the_probability_draw_is_a_function_of_seed_and_sequence() -> None:
    assert outcomes(7, 0.5, 200) == outcomes(7, 0.5, 200)
    assert outcomes(7, 0.5, 200) != outcomes(8, 0.5, 200)
    assert draw(7, "p", 1) == draw(7, "p", 1) != draw(7, "p", 2)


@pytest.mark.parametrize("probability", [0.1, 0.5, 0.9])
def test_the_probability_is_honoured(probability: float) -> None:
    failed = sum(outcomes(20260101, probability, 2000))
    assert abs(failed / 2000 - probability) < 0.05
    assert sum(outcomes(1, 0.0, 100)) == 0 and sum(outcomes(1, 1.0, 100)) == 100


@pytest.mark.parametrize("sample", [
    [{}], [{"region": "us-east-1"}], [{"region": "placeholder", "service": "acm-pca"}],
    [{"region": "placeholder", "service": "cognito_identity"}],
    [{"region": "placeholder", "service": "placeholder", "operation": "DoSomething"}],
    [{"region": "placeholder", "probability": 1}], [{"region": "placeholder", "probability": 0.0}],
    [{"region": "placeholder", "error": {}}],
    [{"region": "placeholder", "error": {"statusCode": 400, "code": "BrainFry"}}],
    [{"description": "An empty rule that causes a global outage"}],
])
def test_localstack_valid_chaos_documents_are_accepted(sample: list) -> None:
    assert validate_chaos(sample) == sample


@pytest.mark.parametrize("sample,error", [
    ([{"region": "s3", "foo": "bar"}], "Additional properties are not allowed ('foo' was unexpected)"),
    ([{"region": "us*"}], "'us*' does not match"),
    ([{"region": ""}], "'' does not match"),
    ([{"region": "placeholder", "operation": "Put42Items"}], "'Put42Items' does not match"),
    ([{"region": "placeholder", "probability": 1.1}], "1.1 is greater than the maximum of 1"),
    ([{"region": "placeholder", "error": {"blah": 814}}],
     "Additional properties are not allowed ('blah' was unexpected)"),
    ([{"region": "placeholder", "error": {"statusCode": 300}}], "300 is less than the minimum of 400"),
    ([{"region": "placeholder", "error": {"code": ""}}], "'' does not match"),
])
def test_localstack_invalid_chaos_documents_are_refused_with_its_message(sample: list, error: str) -> None:
    with pytest.raises(ChaosSchemaError) as refused:
        validate_chaos(sample)
    assert str(refused.value).startswith("Error validating JSON schema: ")
    assert error in str(refused.value)


def test_lab_rules_take_latency_durations_and_custom_errors() -> None:
    rule = rule_from_lab("rule-1", {"service": "s3", "operations": "PutObject, GetObject", "latency_ms": 250,
                                    "duration": "10m"}, now=1000.0, duration_seconds=600.0)
    assert rule.operations == ("PutObject", "GetObject") and rule.until == 1600.0
    assert rule.latency_ms == 250 and not rule.fails  # latency without an error only slows calls down
    failing = rule_from_lab("rule-2", {"error": {"statusCode": 418, "code": "Teapot", "message": "short and stout"}},
                            now=0.0, duration_seconds=None)
    assert (failing.fails, failing.status_code, failing.code, failing.message) == (
        True, 418, "Teapot", "short and stout")
    for bad, message in (({"probability": 2}, "probability"), ({"operation": "put-object"}, "AWS operation name"),
                         ({"error": {"statusCode": 302}}, "400-599"), ({"latency_ms": 10**6}, "latency_ms"),
                         ({"colour": "red"}, "unknown fault rule field")):
        with pytest.raises(ValueError, match=message):
            rule_from_lab("x", bad, now=0.0, duration_seconds=None)


@pytest.mark.parametrize("service,protocol", [("ec2", "ec2"), ("s3", "rest-xml"), ("dynamodb", "json"),
                                              ("rds", "query"), ("fis", "rest-json")])
def test_fis_api_errors_are_ones_botocore_retries(service: str, protocol: str) -> None:
    throttle = fis_api_error("throttle", service, protocol)
    assert throttle.code in standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES
    for kind in ("internal", "unavailable"):
        error = fis_api_error(kind, service, protocol)
        assert error.status in (500, 502, 503, 504)
    assert fis_api_error("throttle", "ec2", "ec2").code == "RequestLimitExceeded"
    assert fis_api_error("internal", "ec2", "ec2").code == "InternalError"
    assert fis_api_error("unavailable", "ec2", "ec2").code == "Unavailable"
