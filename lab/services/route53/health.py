"""Route 53 health checks as pure functions of time: what a check's target is, and its status at any instant.

A health check's endpoint is reachable or not along a timeline of change points (a region or endpoint
marked down or up again, a resource seen in another state); the check's status follows the endpoint only
once a new state has lasted FailureThreshold x RequestInterval seconds, as Route 53's checkers need that
many consecutive results to change it. Each checker region reports the result of its latest check.

Endpoints the sandbox answers for (a health check names them by FullyQualifiedDomainName or IPAddress):
  - `<name>.<region>.securecart.lab`: a SecureCart endpoint in that region (shop, api, ...): up unless the
    region or the endpoint is marked down;
  - an RDS endpoint address (`<db>.<id>.<region>.rds.amazonaws.com`, from DescribeDBInstances): up while
    that instance exists and is available;
  - an S3 website endpoint (`<bucket>.s3-website-<region>.amazonaws.com` or `...s3-website.<region>...`):
    up while the bucket has a website configuration;
  - any other `<service>.<region>.amazonaws.com` endpoint: up unless its region is down;
  - the public IP address (or EC2 DNS name) of an EC2 instance: up while the instance is running (Route 53
    refuses a private address: lab.services.route53.api).
Anything else does not resolve (DNS failure) or does not answer (connection timed out).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lab.sim.durations import Durations

LAB_DOMAIN = "securecart.lab"
DEFAULT_REQUEST_INTERVAL = 30
DEFAULT_FAILURE_THRESHOLD = 3
# The checker regions Route 53 uses when a health check names none.
CHECKER_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2",
                   "ap-northeast-1", "sa-east-1")
ENDPOINT_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")

# Why an endpoint does not answer, in Route 53's words.
TIMEOUT = "timeout"
NXDOMAIN = "nxdomain"
NOT_FOUND = "http404"
OK = "ok"
_FAILURE_TEXT = {
    TIMEOUT: ("Failure: Connection timed out. The endpoint or the internet connection is down, or requests are "
              "being blocked by your firewall. See "
              "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html"),
    NXDOMAIN: "Failure: DNS resolution failed: Rcode NXDomain(3)",
    NOT_FOUND: "Failure: HTTP Status Code 404, Not Found",
}

_RDS = re.compile(r"(?P<db>[a-z][a-z0-9-]*)\.[a-z0-9]+\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.rds\.amazonaws\.com")
_S3_WEBSITE = re.compile(r"(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3-website[.-](?P<region>[a-z]{2}(?:-[a-z]+)+-\d)"
                         r"\.amazonaws\.com")
_AWS = re.compile(r"(?:[a-z0-9-]+\.)*[a-z0-9-]+\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com")
_LAB = re.compile(r"(?P<name>[a-z0-9-]+)\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\." + re.escape(LAB_DOMAIN))
# EC2's DNS names carry the instance's address: ec2-54-1-2-3.compute-1.amazonaws.com (public),
# ip-10-0-1-5.ec2.internal or ip-10-0-1-5.us-west-2.compute.internal (private).
_EC2_NAME = re.compile(r"(?:ec2|ip)-(?P<ip>\d+-\d+-\d+-\d+)\.(?:compute-1\.amazonaws\.com|ec2\.internal|"
                       r"[a-z]{2}(?:-[a-z]+)+-\d\.compute\.(?:amazonaws\.com|internal))")


def normalise(name: str) -> str:
    return name.strip().rstrip(".").lower()


@dataclass(frozen=True)
class Target:
    """What a health check points at, as the sandbox resolves it."""

    kind: str  # "lab" | "rds" | "s3-website" | "aws" | "ip" | "nowhere"
    address: str  # the FQDN or IP as configured (normalised)
    region: str | None = None
    resource: str | None = None  # DB instance id, bucket, or IP address the probe looks up
    reason: str = OK  # for "nowhere": why it never answers

    @property
    def key(self) -> str:
        """Health checks with the same target share its samples."""
        return f"{self.kind}:{self.region or '-'}:{self.resource or self.address}"

    @property
    def names(self) -> frozenset[str]:
        """What `set_endpoint_down` may call this endpoint: its address, and the resource behind it."""
        return frozenset(filter(None, (self.address, self.resource)))

    @property
    def needs_probe(self) -> bool:
        return self.kind in ("rds", "s3-website", "ip")


def target_of(config: dict[str, Any]) -> Target:
    fqdn = normalise(config.get("FullyQualifiedDomainName") or "")
    ip = (config.get("IPAddress") or "").strip()
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return Target("nowhere", ip, reason=TIMEOUT)
        return Target("ip", ip, resource=ip)
    if not fqdn:
        return Target("nowhere", "", reason=NXDOMAIN)
    instance = _EC2_NAME.fullmatch(fqdn)
    if instance:
        return Target("ip", fqdn, resource=instance.group("ip").replace("-", "."))
    for kind, pattern, group in (("lab", _LAB, None), ("rds", _RDS, "db"), ("s3-website", _S3_WEBSITE, "bucket"),
                                 ("aws", _AWS, None)):
        match = pattern.fullmatch(fqdn)
        if match:
            return Target(kind, fqdn, region=match.group("region"), resource=match.group(group) if group else None)
    return Target("nowhere", fqdn, reason=NXDOMAIN)


@dataclass(frozen=True)
class Point:
    """From `time` on, the endpoint answers (`up`) or not, and why."""

    time: float
    up: bool
    reason: str = OK


def window(config: dict[str, Any]) -> float:
    """How long a new endpoint state must last before the check's status follows it."""
    return Durations.route53_detection(request_interval(config), failure_threshold(config))


def request_interval(config: dict[str, Any]) -> int:
    return int(config.get("RequestInterval") or DEFAULT_REQUEST_INTERVAL)


def failure_threshold(config: dict[str, Any]) -> int:
    return int(config.get("FailureThreshold") or DEFAULT_FAILURE_THRESHOLD)


def state_at(points: list[Point], moment: float) -> Point | None:
    """The endpoint's state at `moment` (the last change point at or before it)."""
    found = None
    for point in points:
        if point.time > moment:
            break
        found = point
    return found


def status_at(points: list[Point], created_at: float, span: float, inverted: bool, moment: float) -> tuple[bool, float]:
    """(healthy, since when) at `moment`. A new check is healthy until its checkers have seen otherwise."""
    healthy, since = True, created_at
    relevant = [point for point in points if point.time <= moment]
    for index, point in enumerate(relevant):
        end = relevant[index + 1].time if index + 1 < len(relevant) else moment
        wanted = point.up != inverted
        if wanted != healthy and end - point.time >= span:
            healthy, since = wanted, point.time + span
    return healthy, since


def status_changes(points: list[Point], created_at: float, span: float, inverted: bool, moment: float) -> list[float]:
    """The instants up to `moment` at which the check's status changed (as status_at computes it)."""
    healthy, changes = True, []
    relevant = [point for point in points if point.time <= moment]
    for index, point in enumerate(relevant):
        end = relevant[index + 1].time if index + 1 < len(relevant) else moment
        wanted = point.up != inverted
        if wanted != healthy and end - point.time >= span:
            healthy = wanted
            changes.append(point.time + span)
    return changes


def health_series(points: list[Point], created_at: float, span: float, inverted: bool, minutes: list[float],
                  percentage: bool = False) -> list[tuple[float, float]]:
    """A health check's CloudWatch datapoint for each minute (its start) in `minutes` (ascending), as at the end of
    the minute: HealthCheckStatus 1.0 (healthy) or 0.0, or with `percentage` HealthCheckPercentageHealthy (100.0
    while the checkers find the endpoint up, else 0.0). One pass over the timeline, not one per minute."""
    if not minutes:
        return []
    last = minutes[-1] + 59.999
    changes = status_changes(points, created_at, span, inverted, last)
    found: list[tuple[float, float]] = []
    change_index = point_index = 0
    healthy, up = True, True
    for minute in minutes:
        moment = minute + 59.999
        if percentage:
            while point_index < len(points) and points[point_index].time <= moment:
                up = points[point_index].up
                point_index += 1
            found.append((minute, 100.0 if up else 0.0))
        else:
            while change_index < len(changes) and changes[change_index] <= moment:
                healthy = not healthy
                change_index += 1
            found.append((minute, 1.0 if healthy else 0.0))
    return found


def next_flip(points: list[Point], created_at: float, span: float, inverted: bool, moment: float) -> float | None:
    """When the status will change if nothing else happens, or None."""
    healthy, _ = status_at(points, created_at, span, inverted, moment)
    last = state_at(points, moment)
    if last is None or (last.up != inverted) == healthy:
        return None
    return last.time + span


def merge(points: Iterable[Point]) -> list[Point]:
    """Change points in time order, keeping only those that change something."""
    merged: list[Point] = []
    for point in sorted(points, key=lambda p: p.time):
        if merged and merged[-1].time == point.time:
            merged[-1] = point
        elif not merged or (merged[-1].up, merged[-1].reason) != (point.up, point.reason):
            merged.append(point)
    return merged


def checker_regions(config: dict[str, Any]) -> tuple[str, ...]:
    return tuple(config.get("Regions") or CHECKER_REGIONS)


def checker_ip(region: str) -> str:
    """A stable address per checker region, in Route 53's health checker range (15.177.0.0/18)."""
    index = CHECKER_REGIONS.index(region) if region in CHECKER_REGIONS else len(region) % 8
    return f"15.177.{index * 8 + 2}.{21 + index * 13}"


def observations(points: list[Point], config: dict[str, Any], created_at: float,
                 moment: float) -> list[dict[str, Any]]:
    """What each checker region saw on its latest check, as GetHealthCheckStatus reports it."""
    interval = request_interval(config)
    regions = checker_regions(config)
    found: list[dict[str, Any]] = []
    for index, region in enumerate(regions):
        checked = _latest_check(interval * index / len(regions), interval, created_at, moment)
        if checked is not None:
            state = state_at(points, checked) or Point(created_at, True)
            found.append(_observation(config, region, state, checked))
    return found


def last_failures(points: list[Point], config: dict[str, Any], created_at: float,
                  moment: float) -> list[dict[str, Any]]:
    """What each checker region saw on its latest failed check, as GetHealthCheckLastFailureReason reports it."""
    interval = request_interval(config)
    regions = checker_regions(config)
    relevant = [point for point in points if point.time <= moment]
    # Each down period ends just before the next change point (or now).
    periods = [(point.time, relevant[index + 1].time - 1e-6 if index + 1 < len(relevant) else moment, point)
               for index, point in enumerate(relevant) if not point.up]
    found: list[dict[str, Any]] = []
    for index, region in enumerate(regions):
        offset = interval * index / len(regions)
        for start, end, point in reversed(periods):
            checked = _latest_check(offset, interval, max(start, created_at), end)
            if checked is not None:
                found.append(_observation(config, region, point, checked))
                break
    return found


def _latest_check(offset: float, interval: float, start: float, end: float) -> float | None:
    """The last time in [start, end] a checker with this offset checked (checkers are spread over the interval)."""
    if end < start:
        return None
    checked = end - ((end - offset) % interval)
    return checked if checked >= start else None


def _observation(config: dict[str, Any], region: str, state: Point, checked: float) -> dict[str, Any]:
    return {"Region": region, "IPAddress": checker_ip(region),
            "StatusReport": {"Status": status_text(config, state), "CheckedTime": checked}}


def status_text(config: dict[str, Any], state: Point) -> str:
    if not state.up:
        return _FAILURE_TEXT.get(state.reason, _FAILURE_TEXT[TIMEOUT])
    if config.get("Type") == "TCP":
        return "Success: TCP connection established"
    return "Success: HTTP Status Code 200, OK"
