"""CloudTrail checks: a trail is logging (in every region, management events included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.base import Finding, Param, apply_match, check, failed, passed
from checks.inventory.cloudtrail import Trail
from checks.view import InventoryView

TRAIL = "AWS::CloudTrail::Trail"


def records_management_events(trail: Trail, read_write: str) -> bool:
    """Management events of the wanted kind (All, or WriteOnly/ReadOnly) are recorded; no selectors: all."""
    basic = trail.event_selectors or []
    advanced = trail.advanced_event_selectors or []
    if not basic and not advanced:
        return True
    for selector in basic:
        if (selector.get("IncludeManagementEvents", True)
                and selector.get("ReadWriteType", "All") in ("All", read_write)):
            return True
    for selector in advanced:
        fields = {f.get("Field"): f.get("Equals") or [] for f in selector.get("FieldSelectors") or ()}
        if "Management" in fields.get("eventCategory", []):
            only = fields.get("readOnly")
            if not only or read_write == "All" or (only == ["true"]) == (read_write == "ReadOnly"):
                return True
    return False


def _trail_findings(inv: InventoryView, params: dict[str, Any], multi_region: bool) -> list[Finding]:
    findings = []
    for trail in inv.trails():
        name, region = trail.name, trail.home_region or trail.region
        evidence = {"logging": bool(trail.logging), "multi_region": bool(trail.multi_region), "bucket": trail.bucket}
        if not trail.logging:
            findings.append(failed(name, "not_logging", region, **evidence))
        elif params.get("s3BucketName") and trail.bucket != params["s3BucketName"]:
            findings.append(failed(name, "wrong_bucket", region, **evidence))
        elif multi_region and not trail.multi_region:
            findings.append(failed(name, "single_region", region, **evidence))
        elif multi_region and not records_management_events(trail, params["readWriteType"]):
            findings.append(failed(name, "no_management_events", region, **evidence))
        else:
            findings.append(passed(name, "logging", region, **evidence))
    return findings


_MESSAGES = {
    "logging": "Trail {resource} is logging to bucket {bucket}.",
    "not_logging": "Trail {resource} exists but is not logging.",
    "wrong_bucket": "Trail {resource} logs to {bucket}, not to {s3BucketName}.",
    "no_trail": "There is no CloudTrail trail: API calls (such as deleting a backup) are not recorded.",
}
_HINTS = {
    "not_logging": "aws cloudtrail start-logging --name {resource}",
    "wrong_bucket": "aws cloudtrail update-trail --name {resource} --s3-bucket-name {s3BucketName}",
    "no_trail": "aws cloudtrail create-trail --name securecart-audit --s3-bucket-name <bucket> "
                "--is-multi-region-trail, then aws cloudtrail start-logging --name securecart-audit",
}


@check(
    id="CLOUDTRAIL_ENABLED", source="aws-config", severity="HIGH", resource_type=TRAIL,
    title="A CloudTrail trail is logging", services=("cloudtrail",),
    params=(Param("s3BucketName", "string", "", "The bucket the trail must deliver to (empty: any)."),),
    messages=_MESSAGES, hints=_HINTS,
)
def cloudtrail_enabled(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A logging trail records who called which API when: the evidence after an incident."""
    findings = _trail_findings(inv, params, multi_region=False)
    if not findings:
        yield failed("account", "no_trail")
        return
    yield from apply_match(findings, "any")


@check(
    id="MULTI_REGION_CLOUD_TRAIL_ENABLED", source="aws-config", severity="HIGH", resource_type=TRAIL,
    title="A multi-region trail records management events", services=("cloudtrail",),
    params=(Param("s3BucketName", "string", "", "The bucket the trail must deliver to (empty: any)."),
            Param("readWriteType", "choice", "All", "Management events recorded: All, WriteOnly or ReadOnly.",
                  choices=("All", "WriteOnly", "ReadOnly"))),
    messages={**_MESSAGES,
              "single_region": "Trail {resource} records only its own region; calls in the other region go "
                               "unrecorded.",
              "no_management_events": "Trail {resource} does not record {readWriteType} management events."},
    hints={**_HINTS,
           "single_region": "aws cloudtrail update-trail --name {resource} --is-multi-region-trail",
           "no_management_events": "aws cloudtrail put-event-selectors --trail-name {resource} --event-selectors "
                                   "'[{{\"ReadWriteType\": \"{readWriteType}\", \"IncludeManagementEvents\": true}}]'"},
)
def multi_region_cloud_trail_enabled(inv: InventoryView, params: dict[str, Any]) -> Iterator[Finding]:
    """A multi-region trail records calls in every region, including the DR region."""
    findings = _trail_findings(inv, params, multi_region=True)
    if not findings:
        yield failed("account", "no_trail")
        return
    yield from apply_match(findings, "any")
