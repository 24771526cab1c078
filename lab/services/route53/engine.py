"""Route 53 health checks that watch the sandbox, and DNS answers that fail over as Route 53's do.

moto stores hosted zones, records and health checks (the backend keeps serving those), but reports every
health check healthy and has no TestDNSAnswer. The service's API (lab.services.route53.api) answers
GetHealthCheckStatus, GetHealthCheckLastFailureReason and TestDNSAnswer from this engine's state:
  - a health check's endpoint (see lab.services.route53.health for the names the sandbox answers for) is
    reachable while its region and the endpoint itself are not marked down (`set_region_down`,
    `set_endpoint_down`: the failure injection calls them; POST /_lab/route53/health sets them by hand)
    and the resource behind it is up;
  - the resource's state is sampled when an API call changes something of its kind, again every
    RequestInterval while it is changing (a rebooting DB instance), and an RDS instance's availability
    events (outages, failovers, unreachability) are read from DescribeEvents with their exact times;
  - a check's status follows its endpoint once a new state lasted FailureThreshold x RequestInterval sim
    seconds; status changes appear in the event log as HealthCheckStatusChanged;
  - DNS answers (TestDNSAnswer, `lab dns`, GET /_lab/dns) apply the routing policies with those statuses.
Every look at the sandbox's own state is left out of CloudTrail (lab.gateway.audit.unrecorded).
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lab import config
from lab.gateway import audit
from lab.kernel.context import RequestContext
from lab.kernel.engine import Engine, MetricWatcher
from lab.services.route53.dns import Answer, Resolver, dns_name
from lab.services.route53.health import (
    ENDPOINT_TYPES,
    NOT_FOUND,
    NXDOMAIN,
    OK,
    TIMEOUT,
    Point,
    Target,
    health_series,
    merge,
    next_flip,
    normalise,
    request_interval,
    status_at,
    status_changes,
    status_text,
    target_of,
    window,
)
from lab.services.route53.propagation import (
    Change,
    ClientView,
    change_id,
    client_answer,
    records_as_of,
)

log = logging.getLogger("lab.services.route53.engine")

SERVICE = "route53"
GLOBAL_REGION = "us-east-1"  # Route 53 is global; its API lives in us-east-1
MAX_SAMPLES = 200  # per endpoint: the recent history of its state
MAX_PERIODS = 100  # per region or endpoint: the recent down periods
MAX_CHANGES = 500  # record changes kept (GetChange of an older one the sandbox gave answers INSYNC)
CLIENT_LOOKBACK = 2 * 86400.0  # how far back a client's cached answer may come from (TTLs of up to two days)
MAX_CLIENT_MOMENTS = 64
CALCULATED_DEPTH = 8
# DB instance states in which the endpoint accepts connections, and those that pass by themselves.
_RDS_SERVING = {"available", "backing-up", "modifying", "storage-optimization", "configuring-enhanced-monitoring",
                "configuring-iam-database-auth", "configuring-log-exports", "upgrading", "maintenance"}
_RDS_CHANGING = {"rebooting", "starting", "stopping", "creating", "failing-over", "restarting", "renaming",
                 "resetting-master-credentials"}
_EC2_CHANGING = {"pending", "stopping", "shutting-down"}
# RDS event messages that mark an instance down or up again, as DescribeEvents words them.
_RDS_DOWN = ("shutdown", "failover started", "unable to reach", "stopped")
_RDS_UP = ("restarted", "reachable again", "started")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")
# The service whose state-changing calls can change each kind of endpoint.
_PROBED_BY = {"rds": "rds", "ec2": "ip", "s3": "s3-website"}

Period = list  # [down_at, up_at or None]


@dataclass
class TrackedCheck:
    created_at: float
    config: dict[str, Any]


@dataclass
class Route53State:
    checks: dict[str, TrackedCheck] = field(default_factory=dict)  # learned from the answers of the API
    regions_down: dict[str, list[Period]] = field(default_factory=dict)
    endpoints_down: dict[str, list[Period]] = field(default_factory=dict)  # normalised name -> periods
    samples: dict[str, list[Point]] = field(default_factory=dict)  # endpoint key -> changes of its resource
    located: dict[str, str] = field(default_factory=dict)  # IP endpoint key -> region of its instance
    statuses: dict[str, bool] = field(default_factory=dict)  # last status announced per check
    reprobe: dict[str, float] = field(default_factory=dict)  # endpoint key -> next probe while it changes
    next_check: float | None = None
    changes: dict[str, Change] = field(default_factory=dict)  # change id -> the latest record changes
    changes_made: int = 0

    def __setstate__(self, saved: dict[str, Any]) -> None:
        # (a state saved before a field existed gets the field's default)
        self.__dict__.update(Route53State().__dict__)
        self.__dict__.update(saved)


@dataclass
class Health:
    healthy: bool
    reason: str
    since: float | None = None
    flip: float | None = None  # when the status changes next if nothing else happens


class Route53(Engine):
    name = "route53"
    service_principal = "route53.amazonaws.com"  # CloudTrail shows its calls as made by this AWS service
    order = 150
    # Route 53 publishes each health check's metrics to CloudWatch in us-east-1, one datapoint a minute
    # (Developer Guide: "Monitoring health checks using CloudWatch"): computed from the checks' timelines.
    metric_namespace = "AWS/Route53"
    metric_region = GLOBAL_REGION

    def initial_state(self) -> Route53State:
        return Route53State()

    # -- failure injection ---------------------------------------------------------------------------

    def set_region_down(self, region: str, down: bool) -> None:
        """Every endpoint in `region` stops (or starts again) answering its health checkers."""
        if not _REGION.fullmatch(region):
            raise ValueError(f"not a region name: {region!r} (e.g. {config.PRIMARY_REGION})")
        if self._switch(self.state.regions_down.setdefault(region, []), down):
            self.emit("RegionMarkedDown" if down else "RegionMarkedUp", region=region)
            self._reconsider()

    def set_endpoint_down(self, name: str, down: bool) -> None:
        """One endpoint -- a health check's FQDN or IP address, or the DB instance or bucket behind it --
        stops (or starts again) answering."""
        endpoint = normalise(name)
        if not endpoint:
            raise ValueError("set_endpoint_down needs an endpoint name (an FQDN, IP address, DB instance or bucket)")
        if self._switch(self.state.endpoints_down.setdefault(endpoint, []), down):
            self.emit("EndpointMarkedDown" if down else "EndpointMarkedUp", resource=endpoint)
            self._reconsider()

    def _switch(self, periods: list[Period], down: bool) -> bool:
        is_down = bool(periods) and periods[-1][1] is None
        if down == is_down:
            return False
        if down:
            periods.append([self.now(), None])
            del periods[:-MAX_PERIODS]
        else:
            periods[-1][1] = self.now()
        return True

    # -- the request path ----------------------------------------------------------------------------

    def observe(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        if identity is None or identity.operation is None or not ctx.mutating:
            return
        if identity.service == SERVICE:
            if identity.operation in ("CreateHealthCheck", "UpdateHealthCheck"):
                self._track(ctx)
            elif identity.operation == "DeleteHealthCheck":
                self._untrack(ctx)
            return
        kind = _PROBED_BY.get(identity.service or "")
        if kind is None or audit.operation_traits(identity.service, identity.operation).data_event:
            return
        targets = {target.key: target for target in self._targets() if target.kind == kind}
        if targets:
            for target in targets.values():
                self._sample(target)
            self._reconsider()

    def _track(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        assert identity is not None and identity.operation is not None and ctx.response is not None
        check = self.sandbox.call_output(ctx).get("HealthCheck") or {}
        check_id = check.get("Id")
        if not check_id:
            return
        known = self.state.checks.get(check_id)
        settings = dict(check.get("HealthCheckConfig") or {})
        # (the backend's answer leaves out the alarm a CLOUDWATCH_METRIC check follows: take it from the request)
        params = self.sandbox.call_params(ctx)
        requested = params.get("HealthCheckConfig") if identity.operation == "CreateHealthCheck" else params
        for member in ("AlarmIdentifier", "InsufficientDataHealthStatus"):
            if isinstance(requested, dict) and requested.get(member) is not None:
                settings[member] = requested[member]
            elif known is not None and member in known.config and member not in settings:
                settings[member] = known.config[member]
        tracked = TrackedCheck(known.created_at if known else self.now(), settings)
        self.state.checks[check_id] = tracked
        target = target_of(tracked.config)
        if tracked.config.get("Type") in ENDPOINT_TYPES and target.needs_probe:
            self._sample(target)
        self._reconsider()

    def _untrack(self, ctx: RequestContext) -> None:
        check_id = self.sandbox.call_params(ctx).get("HealthCheckId", "")
        self.state.checks.pop(check_id, None)
        self.state.statuses.pop(check_id, None)
        self._reconsider()

    # -- time ----------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        return self.state.next_check

    def run_due(self, now: float) -> None:
        state: Route53State = self.state
        due = [key for key, when in state.reprobe.items() if when <= now]
        if due:
            targets = {target.key: target for target in self._targets()}
            for key in due:
                if key in targets:
                    self._sample(targets[key])
                else:
                    state.reprobe.pop(key, None)
        self._reconsider()

    def _reconsider(self) -> None:
        """Announce status changes up to now and plan the next moment one may happen."""
        state: Route53State = self.state
        now = self.now()
        upcoming: list[float] = list(state.reprobe.values())
        for check_id in sorted(state.checks):
            health = self.health(check_id, now)
            if state.statuses.get(check_id, True) != health.healthy:
                state.statuses[check_id] = health.healthy
                self.emit("HealthCheckStatusChanged", region=GLOBAL_REGION, resource=check_id,
                          healthy=health.healthy, reason=health.reason, since=health.since)
            if health.flip is not None and health.flip > now:
                upcoming.append(health.flip)
        state.next_check = min(upcoming) if upcoming else None
        if state.checks:
            for watcher in self.sandbox.engines.all(MetricWatcher):  # (the health checks' metrics may change)
                watcher.metrics_changed(self.metric_namespace, GLOBAL_REGION)

    # -- CloudWatch ------------------------------------------------------------------------------------

    def alarm_changed(self, region: str, name: str, state: str) -> None:
        """A CloudWatch alarm changed state: the CLOUDWATCH_METRIC health checks that follow it change now."""
        for tracked in self.state.checks.values():
            alarm = tracked.config.get("AlarmIdentifier") or {}
            if tracked.config.get("Type") == "CLOUDWATCH_METRIC" and alarm.get("Name") == name and \
                    alarm.get("Region", GLOBAL_REGION) == region:
                self._reconsider()
                return

    def source_metrics(self) -> list[tuple[str, dict[str, str]]]:
        found: list[tuple[str, dict[str, str]]] = []
        for check_id, tracked in sorted(self.state.checks.items()):
            found.append(("HealthCheckStatus", {"HealthCheckId": check_id}))
            if tracked.config.get("Type") in ENDPOINT_TYPES:
                found.append(("HealthCheckPercentageHealthy", {"HealthCheckId": check_id}))
        return found

    def metric_series(self, metric: str, dimensions: Any, start: float, end: float) -> list[tuple[float, float]]:
        """HealthCheckStatus (1 healthy, 0 unhealthy) and HealthCheckPercentageHealthy (the share of checkers that
        found the endpoint up) of one health check, a datapoint per minute since it was created; minutes after now
        as they will be if nothing else happens."""
        check_id = dimensions.get("HealthCheckId") if len(dimensions) == 1 else None
        tracked = self.state.checks.get(check_id or "")
        if tracked is None or metric not in ("HealthCheckStatus", "HealthCheckPercentageHealthy"):
            return []
        kind = tracked.config.get("Type")
        first = max(start, tracked.created_at - tracked.created_at % 60)
        minutes = [first + index * 60.0 for index in range(max(0, int((end - first + 59) // 60)))]
        minutes = [minute for minute in minutes if minute < end]
        if not minutes:
            return []
        if kind in ENDPOINT_TYPES:
            settings = tracked.config
            points = self.points(tracked, self.now())
            if settings.get("Disabled"):
                return [(minute, 1.0 if metric == "HealthCheckStatus" else 100.0) for minute in minutes]
            return health_series(points, tracked.created_at, window(settings), bool(settings.get("Inverted")),
                                 minutes, percentage=metric == "HealthCheckPercentageHealthy")
        if metric != "HealthCheckStatus":
            return []
        if kind == "CALCULATED":
            now = self.now()
            known = {child: self.points(child_tracked, now) for child, child_tracked in self.state.checks.items()
                     if child_tracked.config.get("Type") in ENDPOINT_TYPES}
            return [(minute, 1.0 if self.health(check_id or "", minute + 59.999, known=known).healthy else 0.0)
                    for minute in minutes]
        # CLOUDWATCH_METRIC and the rest: the status Route 53 holds now
        healthy = self.state.statuses.get(check_id or "", True)
        return [(minute, 1.0 if healthy else 0.0) for minute in minutes]

    # -- health ----------------------------------------------------------------------------------------

    def _targets(self) -> list[Target]:
        return [target_of(tracked.config) for tracked in self.state.checks.values()
                if tracked.config.get("Type") in ENDPOINT_TYPES]

    def tracked(self, check_id: str) -> TrackedCheck | None:
        tracked = self.state.checks.get(check_id)
        if tracked is not None:
            return tracked
        # A check the engine has not seen created (state from before it existed): read it, keep nothing.
        try:
            with audit.unrecorded():
                found = self.sandbox.client(SERVICE, GLOBAL_REGION).get_health_check(HealthCheckId=check_id)
        except ClientError:
            return None
        return TrackedCheck(0.0, dict(found["HealthCheck"].get("HealthCheckConfig") or {}))

    def health(self, check_id: str, moment: float | None = None, depth: int = 0,
               known: dict[str, list[Point]] | None = None) -> Health:
        """The status of a health check at `moment` (now by default), and why. `known`: endpoint timelines
        already read (check id -> points up to some later instant), for asking about several moments."""
        moment = self.now() if moment is None else moment
        tracked = self.tracked(check_id)
        if tracked is None:
            return Health(True, f"health check {check_id} does not exist; Route 53 treats the record as healthy")
        settings = tracked.config
        kind = settings.get("Type")
        if settings.get("Disabled"):
            return Health(True, "the health check is disabled: Route 53 considers it healthy")
        if kind == "CALCULATED":
            return self._calculated_health(settings, moment, depth, known)
        if kind == "CLOUDWATCH_METRIC":
            return self._alarm_health(check_id, settings)
        if kind not in ENDPOINT_TYPES:
            return Health(True, f"{kind} health checks are not simulated by the sandbox; considered healthy")
        if known is not None and check_id in known:
            points = [point for point in known[check_id] if point.time <= moment]
        else:
            points = self.points(tracked, moment)
        span = window(settings)
        inverted = bool(settings.get("Inverted"))
        healthy, since = status_at(points, tracked.created_at, span, inverted, moment)
        state = (points[-1] if points else Point(tracked.created_at, True))
        reason = status_text(settings, state) + (" (inverted)" if inverted else "")
        if (state.up != inverted) != healthy:
            reason += f"; the status follows after {span:g}s (FailureThreshold x RequestInterval)"
        return Health(healthy, reason, since, next_flip(points, tracked.created_at, span, inverted, moment))

    def _calculated_health(self, settings: dict[str, Any], moment: float, depth: int,
                           known: dict[str, list[Point]] | None = None) -> Health:
        children = settings.get("ChildHealthChecks") or []
        if depth >= CALCULATED_DEPTH:
            return Health(False, "calculated health checks nest too deeply")
        healthy = [child for child in children if self.health(child, moment, depth + 1, known).healthy]
        threshold = int(settings.get("HealthThreshold") or 0)
        ok = len(healthy) >= threshold
        if settings.get("Inverted"):
            ok = not ok
        return Health(ok, f"{len(healthy)} of {len(children)} child health checks are healthy "
                          f"(HealthThreshold {threshold})" + (" (inverted)" if settings.get("Inverted") else ""))

    def _alarm_health(self, check_id: str, settings: dict[str, Any]) -> Health:
        alarm = settings.get("AlarmIdentifier") or {}
        region, name = alarm.get("Region") or GLOBAL_REGION, alarm.get("Name") or ""
        state_value = "INSUFFICIENT_DATA"
        # (a check without its alarm, accepted before Route 53's API refused one, follows no alarm)
        if name and not self._region_down_at(region, self.now()):
            try:
                with audit.unrecorded():
                    found = self.sandbox.client("cloudwatch", region).describe_alarms(AlarmNames=[name])
                alarms = found.get("MetricAlarms") or []
                state_value = alarms[0]["StateValue"] if alarms else "INSUFFICIENT_DATA"
            except (ClientError, BotoCoreError):
                state_value = "INSUFFICIENT_DATA"
        if state_value == "OK":
            return Health(True, f"CloudWatch alarm {name} is OK")
        if state_value == "ALARM":
            return Health(False, f"CloudWatch alarm {name} is in ALARM")
        fallback = settings.get("InsufficientDataHealthStatus") or "LastKnownStatus"
        healthy = self.state.statuses.get(check_id, True) if fallback == "LastKnownStatus" else fallback == "Healthy"
        return Health(healthy, f"CloudWatch alarm {name} has insufficient data: {fallback}")

    def points(self, tracked: TrackedCheck, moment: float) -> list[Point]:
        """The endpoint's reachability over time, up to `moment`, from every source that can change it."""
        target = target_of(tracked.config)
        if target.kind == "nowhere":
            return [Point(tracked.created_at, False, target.reason)]
        state: Route53State = self.state
        region = target.region or state.located.get(target.key)
        region_periods = state.regions_down.get(region or "", [])
        endpoint_periods = [period for name in target.names for period in state.endpoints_down.get(name, [])]
        resource = list(state.samples.get(target.key, []))
        if target.kind == "rds":
            resource = merge([*self._rds_availability(target, tracked.created_at, moment), *resource])
        moments = {tracked.created_at}
        for start, end in (*region_periods, *endpoint_periods):
            moments.update(t for t in (start, end) if t is not None)
        moments.update(point.time for point in resource)
        points: list[Point] = []
        for when in sorted(t for t in moments if tracked.created_at <= t <= moment):
            if _within(region_periods, when) or _within(endpoint_periods, when):
                points.append(Point(when, False, TIMEOUT))
                continue
            seen = None
            for point in resource:
                if point.time > when:
                    break
                seen = point
            points.append(Point(when, seen.up, seen.reason) if seen else Point(when, True, OK))
        return merge(points)

    def _region_down_at(self, region: str, moment: float) -> bool:
        return _within(self.state.regions_down.get(region, []), moment)

    # -- probes: looks at the sandbox's own state (not API activity, so not audited) ----------------------

    def _sample(self, target: Target) -> None:
        state: Route53State = self.state
        now = self.now()
        up, reason, changing = self._probe(target)
        samples = state.samples.setdefault(target.key, [])
        if not samples or (samples[-1].up, samples[-1].reason) != (up, reason):
            samples.append(Point(now, up, reason))
            del samples[:-MAX_SAMPLES]
        if changing:
            intervals = [request_interval(tracked.config) for tracked in state.checks.values()
                         if target_of(tracked.config).key == target.key]
            state.reprobe[target.key] = now + min(intervals or [30])
        else:
            state.reprobe.pop(target.key, None)

    def _probe(self, target: Target) -> tuple[bool, str, bool]:
        """(up, why not, still changing) of the resource behind an endpoint, as the sandbox holds it now."""
        try:
            with audit.unrecorded():
                if target.kind == "rds":
                    return self._probe_db(target)
                if target.kind == "s3-website":
                    self.sandbox.client("s3", target.region or GLOBAL_REGION).get_bucket_website(Bucket=target.resource)
                    return True, OK, False
                if target.kind == "ip":
                    return self._probe_instance(target)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if target.kind == "s3-website":
                return False, NOT_FOUND, False
            if code in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
                return False, NXDOMAIN, False
            log.warning("probing %s failed: %s", target.address, exc)
            return False, TIMEOUT, False
        return True, OK, False

    def _probe_db(self, target: Target) -> tuple[bool, str, bool]:
        rds = self.sandbox.client("rds", target.region or GLOBAL_REGION)
        found = rds.describe_db_instances(DBInstanceIdentifier=target.resource)["DBInstances"]
        if not found:
            return False, NXDOMAIN, False
        instance = found[0]
        address = ((instance.get("Endpoint") or {}).get("Address") or "").lower()
        if address and address != target.address:
            return False, NXDOMAIN, False  # the instance exists, but this is not its endpoint address
        status = instance.get("DBInstanceStatus", "")
        return status in _RDS_SERVING, OK if status in _RDS_SERVING else TIMEOUT, status in _RDS_CHANGING

    def _probe_instance(self, target: Target) -> tuple[bool, str, bool]:
        for region in config.REGIONS:
            ec2 = self.sandbox.client("ec2", region)
            for field_name in ("private-ip-address", "ip-address"):
                reservations = ec2.describe_instances(
                    Filters=[{"Name": field_name, "Values": [target.resource or ""]}])["Reservations"]
                instances = [instance for reservation in reservations for instance in reservation["Instances"]]
                if instances:
                    self.state.located[target.key] = region
                    status = instances[0]["State"]["Name"]
                    return status == "running", OK if status == "running" else TIMEOUT, status in _EC2_CHANGING
        return False, TIMEOUT, False

    def _rds_availability(self, target: Target, since: float, moment: float) -> list[Point]:
        """An RDS instance's outages with their exact times, from its DescribeEvents history."""
        from datetime import datetime

        start = datetime.fromtimestamp(max(since, moment - 14 * 86400), tz=UTC)
        end = datetime.fromtimestamp(moment, tz=UTC)
        points: list[Point] = []
        try:
            with audit.unrecorded():
                pages = self.sandbox.client("rds", target.region or GLOBAL_REGION).get_paginator(
                    "describe_events").paginate(SourceIdentifier=target.resource, SourceType="db-instance",
                                                StartTime=start, EndTime=end)
                for page in pages:
                    for event in page.get("Events", []):
                        message = event.get("Message", "").lower()
                        when = event["Date"].timestamp()
                        if any(word in message for word in _RDS_DOWN):
                            points.append(Point(when, False, TIMEOUT))
                        elif any(word in message for word in _RDS_UP):
                            points.append(Point(when, True, OK))
        except ClientError:
            return []
        return points

    # -- what the API reads ----------------------------------------------------------------------------

    def zones(self) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
        """Record sets by zone name, and zones by id, as the backend holds them."""
        client = self.sandbox.client(SERVICE, GLOBAL_REGION)
        records: dict[str, list[dict[str, Any]]] = {}
        by_id: dict[str, dict[str, Any]] = {}
        with audit.unrecorded():
            for page in client.get_paginator("list_hosted_zones").paginate():
                for zone in page["HostedZones"]:
                    zone_id = zone["Id"].rsplit("/", 1)[-1]
                    by_id[zone_id] = zone
                    found: list[dict[str, Any]] = []
                    for rr_page in client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
                        found.extend(rr_page["ResourceRecordSets"])
                    records.setdefault(dns_name(zone["Name"]), []).extend(found)
        return records, by_id

    def resolver(self, name: str, record_type: str, moment: float | None = None,
                 zones: dict[str, list[dict[str, Any]]] | None = None,
                 known: dict[str, list[Point]] | None = None) -> Resolver:
        """Route 53's name servers at `moment` (now by default): the records as they had propagated by then
        (record changes count once INSYNC), health checks as they stood."""
        now = self.now()
        moment = now if moment is None else moment
        if zones is None:
            zones, _ = self.zones()
        held = records_as_of(zones, self.state.changes.values(), moment)
        # (seeded by the instant asked about, not `moment`: a weighted pick stays put across the moments compared)
        rng = random.Random(f"{self.sandbox.lab.seed}|{dns_name(name)}|{record_type}|{int(now)}")
        return Resolver(held, lambda check_id: self._dns_health(check_id, moment, known), self._endpoint_health,
                        rng)

    def answer(self, name: str, record_type: str, moment: float | None = None,
               zones: dict[str, list[dict[str, Any]]] | None = None,
               known: dict[str, list[Point]] | None = None) -> Answer:
        return self.resolver(name, record_type, moment, zones, known).resolve(name, record_type)

    def client_view(self, name: str, record_type: str) -> ClientView:
        """What a client resolving `name` uses now: the name servers' answer, or the one it still keeps for the
        record's TTL after the answer changed (a failover reaches it detection + TTL after the outage)."""
        now = self.now()
        zones, _ = self.zones()
        known = {check_id: self.points(tracked, now) for check_id, tracked in self.state.checks.items()
                 if tracked.config.get("Type") in ENDPOINT_TYPES}
        moments = self._answer_moments(now, known)
        return client_answer(lambda moment: self.answer(name, record_type, moment, zones, known), moments, now)

    def _answer_moments(self, now: float, known: dict[str, list[Point]]) -> list[float]:
        """The recent instants at which an answer may have changed: health checks changing status, record
        changes reaching every name server."""
        since = now - CLIENT_LOOKBACK
        moments = {change.insync_at for change in self.state.changes.values() if since <= change.insync_at <= now}
        for check_id, points in known.items():
            tracked = self.state.checks[check_id]
            moments.update(moment for moment in status_changes(points, tracked.created_at, window(tracked.config),
                                                               bool(tracked.config.get("Inverted")), now)
                           if moment >= since)
        return sorted(moments)[-MAX_CLIENT_MOMENTS:]

    # -- record changes ------------------------------------------------------------------------------

    def issued_change(self, change_id_asked: str) -> bool:
        """Whether the sandbox gave this change id (each is a function of the seed and the change's number)."""
        seed = self.sandbox.lab.seed
        return any(change_id(seed, number) == change_id_asked for number in range(1, self.state.changes_made + 1))

    def record_change(self, zone_id: str, zone_name: str, before: list[dict[str, Any]],
                      keys: list[tuple[str, str, str]], comment: str | None) -> Change:
        """A change batch accepted now: PENDING until it has propagated (the duration model's
        `route53.propagation`), with the record sets it replaced."""
        state: Route53State = self.state
        state.changes_made += 1
        now = self.now()
        change = Change(change_id(self.sandbox.lab.seed, state.changes_made), zone_id, dns_name(zone_name), now,
                        now + self.sandbox.durations.route53_propagation(), comment, list(keys),
                        [dict(record) for record in before])
        state.changes[change.id] = change
        if len(state.changes) > MAX_CHANGES:
            for oldest in sorted(state.changes.values(), key=lambda c: c.submitted_at)[:-MAX_CHANGES]:
                del state.changes[oldest.id]
        self.emit("ChangeSubmitted", region=GLOBAL_REGION, resource=f"/change/{change.id}", zone=zone_id,
                  insync_at=change.insync_at)
        return change

    def zone_records(self, zone_id: str) -> list[dict[str, Any]]:
        client = self.sandbox.client(SERVICE, GLOBAL_REGION)
        found: list[dict[str, Any]] = []
        with audit.unrecorded():
            for page in client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
                found.extend(page["ResourceRecordSets"])
        return found

    def _dns_health(self, check_id: str, moment: float,
                    known: dict[str, list[Point]] | None = None) -> tuple[bool, str]:
        health = self.health(check_id, moment, known=known)
        return health.healthy, health.reason

    def _endpoint_health(self, name: str) -> tuple[bool, str]:
        """The health of an AWS endpoint an alias points at (EvaluateTargetHealth)."""
        target = target_of({"FullyQualifiedDomainName": dns_name(name), "Type": "HTTP"})
        tracked = TrackedCheck(0.0, {"FullyQualifiedDomainName": dns_name(name), "Type": "HTTP"})
        if target.needs_probe:
            up, reason, _ = self._probe(target)
            if not up:
                return False, status_text(tracked.config, Point(0.0, False, reason))
        now = self.now()
        points = self.points(tracked, now)
        state = points[-1] if points else Point(now, True)
        return state.up, status_text(tracked.config, state)

    def describe(self) -> dict[str, Any]:
        state: Route53State = self.state
        return {"health_checks": len(state.checks),
                "unhealthy": sorted(check for check, healthy in state.statuses.items() if not healthy),
                "regions_down": sorted(region for region, periods in state.regions_down.items()
                                       if periods and periods[-1][1] is None),
                "endpoints_down": sorted(name for name, periods in state.endpoints_down.items()
                                         if periods and periods[-1][1] is None)}


def _within(periods: list[Period], moment: float) -> bool:
    return any(start <= moment and (end is None or moment < end) for start, end in periods)
