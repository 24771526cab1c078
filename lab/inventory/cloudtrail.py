"""CloudTrail into the inventory (checks.inventory.cloudtrail): trails, and the write events of the audited
event sources (refused ones included)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from checks.inventory.cloudtrail import CloudTrail, Trail, TrailEvent
from lab.inventory.convert import by_key, iso, policy_document

if TYPE_CHECKING:
    from lab.inventory.collector import Collector

MAX_TRAIL_EVENTS = 200
AUDITED_EVENT_SOURCES = ("backup.amazonaws.com",)  # whose write events (refused ones too) the checks read


def collect(c: Collector, region: str) -> CloudTrail:
    cloudtrail = c.client("cloudtrail", region)
    trails = {}
    for trail in cloudtrail.describe_trails(includeShadowTrails=False).get("trailList", []):
        arn = trail.get("TrailARN") or trail["Name"]
        status = c.attempt("cloudtrail", region, f"trail {trail['Name']}",
                           lambda arn=arn: cloudtrail.get_trail_status(Name=arn), {})
        selectors = c.attempt("cloudtrail", region, f"trail {trail['Name']}",
                              lambda arn=arn: cloudtrail.get_event_selectors(TrailName=arn), {})
        trails[trail["Name"]] = Trail(
            name=trail["Name"], arn=trail.get("TrailARN"), region=region,
            home_region=trail.get("HomeRegion") or region, multi_region=bool(trail.get("IsMultiRegionTrail")),
            bucket=trail.get("S3BucketName"), logging=bool(status.get("IsLogging")),
            log_file_validation=bool(trail.get("LogFileValidationEnabled")),
            event_selectors=selectors.get("EventSelectors") or [],
            advanced_event_selectors=selectors.get("AdvancedEventSelectors") or [])
    events = c.attempt("cloudtrail", region, "events", lambda: trail_events(cloudtrail), [])
    return CloudTrail(trails=by_key(trails.items()), events=events)


def trail_events(cloudtrail: Any) -> list[TrailEvent]:
    found = []
    for source in AUDITED_EVENT_SOURCES:
        answer = cloudtrail.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": source}], MaxResults=50)
        for event in answer.get("Events", [])[:MAX_TRAIL_EVENTS]:
            if event.get("ReadOnly") in ("true", True):
                continue  # what changed (or was refused) matters, not who looked
            detail = policy_document(event.get("CloudTrailEvent")) or {}
            found.append(TrailEvent(
                id=event.get("EventId"), name=event.get("EventName"), time=iso(event.get("EventTime")),
                source=event.get("EventSource"), user=event.get("Username"), error_code=detail.get("errorCode"),
                error_message=detail.get("errorMessage"),
                resources=[r.get("ResourceName") for r in event.get("Resources", [])]))
    return sorted(found, key=lambda e: (e.time or "", e.id or ""))
