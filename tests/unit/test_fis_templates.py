"""FIS template validation, target selection, and scenario parameters -- without a sandbox."""

from __future__ import annotations

import pytest

from lab.services.faults.api import _check_start_after
from lab.services.faults.catalog import get_scenario, load_scenarios, scenario_problems
from lab.services.faults.fis_actions import ACTIONS, parse_iso_duration, validate_action
from lab.services.faults.fis_targets import _select, resource_id, validate_target

REQUIRED_ACTIONS = {
    "aws:network:route-table-disrupt-cross-region-connectivity", "aws:network:disrupt-connectivity",
    "aws:s3:bucket-pause-replication", "aws:dynamodb:global-table-pause-replication", "aws:rds:reboot-db-instances",
    "aws:ebs:pause-volume-io", "aws:ec2:stop-instances", "aws:fis:inject-api-unavailable-error",
    "aws:fis:inject-api-internal-error", "aws:fis:inject-api-throttle-error", "aws:fis:wait",
}
SUBNETS = {"Subnets": {"resourceType": "aws:ec2:subnet", "parameters": {"availabilityZoneIdentifier": "us-east-1a"},
                       "selectionMode": "ALL"}}


def test_every_action_of_the_issue_is_supported() -> None:
    assert set(ACTIONS) >= REQUIRED_ACTIONS


@pytest.mark.parametrize("text,seconds", [("PT10M", 600), ("PT1H30M", 5400), ("PT30S", 30), ("P1D", 86400),
                                          ("PT0.5S", 0.5)])
def test_iso_durations(text: str, seconds: float) -> None:
    assert parse_iso_duration(text) == seconds


@pytest.mark.parametrize("text", ["10m", "PT", "P", "PT10X", ""])
def test_bad_iso_durations(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_iso_duration(text)


def test_actions_are_validated_as_fis_does() -> None:
    good = {"actionId": "aws:network:disrupt-connectivity",
            "parameters": {"duration": "PT5M", "scope": "availability-zone"}, "targets": {"Subnets": "Subnets"}}
    validate_action("cut", good, SUBNETS)
    cases = [
        ({**good, "actionId": "aws:ec2:terminate-instances"}, "not supported"),
        ({**good, "parameters": {"duration": "PT5M", "scope": "prefix-list"}}, "scope 'prefix-list'"),
        ({**good, "parameters": {"scope": "all"}}, "'duration' is required"),
        ({**good, "parameters": {"duration": "PT13H"}}, "PT1M to PT12H"),
        ({**good, "parameters": {"duration": "PT5M", "colour": "red"}}, "no parameter 'colour'"),
        ({**good, "targets": {}}, "target Subnets"),
        ({**good, "targets": {"Subnets": "missing"}}, "not defined"),
        ({"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "Subnets"}}, "must be aws:ec2:instance"),
        ({"actionId": "aws:fis:inject-api-throttle-error", "targets": {"Roles": "r"},
          "parameters": {"service": "ec2", "operations": "NoSuchCall", "percentage": "50", "duration": "PT1M"}},
         "no operation 'NoSuchCall'"),
    ]
    targets = {**SUBNETS, "r": {"resourceType": "aws:iam:role", "resourceArns": ["arn:aws:iam::0:role/x"],
                                "selectionMode": "ALL"}}
    for action, message in cases:
        with pytest.raises(ValueError, match=message):
            validate_action("a", action, targets)


def test_targets_are_validated() -> None:
    validate_target("t", {"resourceType": "aws:ec2:instance", "resourceTags": {"app": "x"},
                          "selectionMode": "COUNT(2)"})
    for target, message in [
        ({"resourceType": "aws:ec2:spot", "resourceTags": {"a": "b"}, "selectionMode": "ALL"}, "not supported"),
        ({"resourceType": "aws:ec2:instance", "resourceTags": {"a": "b"}, "resourceArns": ["x"],
          "selectionMode": "ALL"}, "not both"),
        ({"resourceType": "aws:ec2:instance", "selectionMode": "ALL"}, "specify resourceArns"),
        ({"resourceType": "aws:ec2:instance", "resourceTags": {"a": "b"}, "selectionMode": "SOME"}, "selectionMode"),
        ({"resourceType": "aws:rds:db", "parameters": {"vpc": "v"}, "selectionMode": "ALL"}, "unknown parameter"),
    ]:
        with pytest.raises(ValueError, match=message):
            validate_target("t", target)


def test_selection_modes_pick_deterministically() -> None:
    arns = [f"arn:{n}" for n in range(10)]
    assert _select(arns, "ALL", "s") == arns
    assert _select(arns, "COUNT(3)", "s") == _select(arns, "COUNT(3)", "s")
    assert len(_select(arns, "COUNT(3)", "s")) == 3 and len(_select(arns, "COUNT(30)", "s")) == 10
    assert len(_select(arns, "PERCENT(25)", "s")) == 3  # FIS rounds up
    assert resource_id("arn:aws:ec2:us-east-1:0:instance/i-123") == "i-123"
    assert resource_id("arn:aws:s3:::bucket") == "bucket"
    assert resource_id("arn:aws:rds:us-east-1:0:db:orders") == "orders"


def test_start_after_must_name_actions_and_not_loop() -> None:
    _check_start_after({"a": {}, "b": {"startAfter": ["a"]}})
    with pytest.raises(ValueError, match="not an action"):
        _check_start_after({"a": {"startAfter": ["z"]}})
    with pytest.raises(ValueError, match="cycle"):
        _check_start_after({"a": {"startAfter": ["b"]}, "b": {"startAfter": ["a"]}})


def test_every_scenario_of_the_issue_exists_with_typed_parameters() -> None:
    assert {"region-outage", "az-power-interruption", "accidental-deletion", "ransomware", "bad-deploy",
            "replication-pause"} <= set(load_scenarios())
    outage = get_scenario("az-power-interruption")
    assert outage.parse_params({}) == {"az": "us-east-1a", "duration": 1800.0}
    assert outage.parse_params({"duration": "45m"})["duration"] == 2700.0
    ransomware = get_scenario("ransomware").parse_params({"count": "5", "delete_versions": "false"})
    assert ransomware["count"] == 5 and ransomware["delete_versions"] is False
    with pytest.raises(ValueError, match="no parameter colour"):
        outage.parse_params({"colour": "red"})
    with pytest.raises(ValueError, match="region must be one of"):
        get_scenario("region-outage").parse_params({"region": "mars-1"})


def test_scenario_problems_point_at_the_parameter() -> None:
    assert scenario_problems("region-outage", {"region": "us-west-2"}) == []
    assert scenario_problems("meteor-strike", {})[0][0] == ("scenario",)
    problems = scenario_problems("accidental-deletion", {"target": "tables", "count": "many", "extra": 1})
    assert {where for where, _ in problems} == {("params", "target"), ("params", "count"), ("params", "extra")}
