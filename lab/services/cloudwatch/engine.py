"""CloudWatch metric alarms on the sim clock: evaluated as CloudWatch evaluates them, without a step a minute.

The backend (moto) stores alarms and datapoints but never evaluates an alarm. This engine keeps each metric
alarm's state (StateValue, StateReason and its data, when it was updated and transitioned) and its history
(DescribeAlarmHistory), and the service's API (lab.services.cloudwatch.api) shows them.

Cost: nothing without alarms (next_due None, PutMetricData passes by). With alarms, the engine keeps only the
datapoints an evaluation reads, per alarm and per minute, taken from the PutMetricData calls it observes (it
never reads the backend's datapoints, which grow with the world's age), and plans the next minute at which the
alarm's state would change with the datapoints it has (lab.services.cloudwatch.alarms.next_change): a month
without new data is one step, not 50,000. New datapoints, SetAlarmState and a change of a MetricSource's
timeline (Route 53's health checks) plan an evaluation at the next minute. State changes notify the alarm's
SNS topics (AlarmActions, OKActions, InsufficientDataActions) while ActionsEnabled, with CloudWatch's message.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lab import config
from lab.gateway import audit
from lab.kernel.context import RequestContext
from lab.kernel.engine import AlarmListener, Engine, MetricSource
from lab.services.cloudwatch.alarms import (
    ALARM,
    INITIAL_REASON,
    INSUFFICIENT_DATA,
    MINUTE,
    OK,
    AlarmSpec,
    Buckets,
    Outcome,
    add_datum,
    alarm_spec,
    evaluate,
    iso_millis,
    minute_of,
    next_change,
    prune,
)

log = logging.getLogger("lab.services.cloudwatch.engine")

SERVICE = "cloudwatch"
MAX_HISTORY = 5000  # history items kept per Region (CloudWatch keeps 30 days of it)
REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
                "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
                "eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)"}


@dataclass
class TrackedAlarm:
    spec: AlarmSpec
    state: str = INSUFFICIENT_DATA
    reason: str = INITIAL_REASON
    reason_data: str | None = None
    updated: float = 0.0
    transitioned: float = 0.0
    buckets: Buckets = field(default_factory=dict)  # the datapoints evaluations read (not for MetricSource metrics)
    due: float | None = None  # the next evaluation minute that may change its state


@dataclass
class CloudWatchState:
    alarms: dict[tuple[str, str], TrackedAlarm] = field(default_factory=dict)  # (region, name) ->
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # region -> items, oldest first

    def __setstate__(self, saved: dict[str, Any]) -> None:
        self.__dict__.update(CloudWatchState().__dict__)
        self.__dict__.update(saved)


class CloudWatch(Engine):
    name = "cloudwatch"
    service_principal = "cloudwatch.amazonaws.com"
    order = 170  # after the engines whose metrics it reads (Route 53: 150) at the same instant

    def initial_state(self) -> CloudWatchState:
        return CloudWatchState()

    # -- the API's changes ---------------------------------------------------------------------------

    def put_alarm(self, region: str, params: dict[str, Any]) -> None:
        """PutMetricAlarm accepted: a new alarm is INSUFFICIENT_DATA and evaluated at the next minute; an update
        keeps the state and is evaluated with its new configuration (API Reference: PutMetricAlarm)."""
        state: CloudWatchState = self.state
        now = self.now()
        name = str(params.get("AlarmName") or "")
        arn = f"arn:aws:cloudwatch:{region}:{config.ACCOUNT_ID}:alarm:{name}"
        spec = alarm_spec(region, arn, params, now)
        known = state.alarms.get((region, name))
        if known is None:
            tracked = TrackedAlarm(spec, updated=now, transitioned=now)
            if spec.unevaluated:
                tracked.reason = f"Unchecked: {spec.unevaluated}."
            state.alarms[(region, name)] = tracked
        else:
            tracked = known
            tracked.spec = spec
            if known.spec.namespace != spec.namespace or known.spec.metric != spec.metric or \
                    known.spec.dimensions != spec.dimensions:
                tracked.buckets = {}
        if not self._virtual(spec) and (known is None or not tracked.buckets):
            tracked.buckets = self._backfill(spec, now)
        tracked.due = None if spec.unevaluated else minute_of(now) + MINUTE
        self._record(region, name, now, "ConfigurationUpdate",
                     f'Alarm "{name}" {"created" if known is None else "updated"}',
                     {"version": "1.0", "type": "Create" if known is None else "Update",
                      "createdAlarm" if known is None else "updatedAlarm": _config(spec)})

    def delete_alarms(self, region: str, names: list[str]) -> None:
        state: CloudWatchState = self.state
        now = self.now()
        for name in names:
            tracked = state.alarms.pop((region, name), None)
            if tracked is not None:
                self._record(region, name, now, "ConfigurationUpdate", f'Alarm "{name}" deleted',
                             {"version": "1.0", "type": "Delete", "deletedAlarm": _config(tracked.spec)})

    def set_alarm_state(self, region: str, name: str, value: str, reason: str, reason_data: str | None) -> None:
        """SetAlarmState: the state changes now, "the next periodic evaluation" may change it back."""
        tracked = self.state.alarms.get((region, name))
        if tracked is None:
            return
        now = self.now()
        outcome = Outcome(value, reason, reason_data or "{}")
        if value != tracked.state:
            self._transition(tracked, now, outcome)
        else:
            tracked.reason, tracked.reason_data, tracked.updated = reason, reason_data, now
        if not tracked.spec.unevaluated:
            tracked.due = minute_of(now) + MINUTE

    def set_actions_enabled(self, region: str, names: list[str], enabled: bool) -> None:
        for name in names:
            tracked = self.state.alarms.get((region, name))
            if tracked is not None:
                tracked.spec = replace(tracked.spec, actions_enabled=enabled)

    # -- what the API shows --------------------------------------------------------------------------------

    def alarm(self, region: str, name: str) -> TrackedAlarm | None:
        found: TrackedAlarm | None = self.state.alarms.get((region, name))
        if found is not None and found.due is not None and found.due <= self.now():
            self._advance(found, self.now())  # (the clock's next step would: show it as it stands now)
        return found

    def history(self, region: str) -> list[dict[str, Any]]:
        return list(self.state.history.get(region, []))

    # -- the request path ----------------------------------------------------------------------------------

    def observe(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        if identity is None or identity.service != SERVICE or identity.operation != "PutMetricData":
            return
        state: CloudWatchState = self.state
        region = identity.region
        if not any(key[0] == region for key in state.alarms):
            return
        params = self.sandbox.call_params(ctx)
        namespace = params.get("Namespace")
        watching = [tracked for (where, _), tracked in state.alarms.items()
                    if where == region and tracked.spec.namespace == namespace and not tracked.spec.unevaluated
                    and not self._virtual(tracked.spec)]
        if not watching:
            return
        now = self.now()
        for datum in params.get("MetricData") or []:
            dimensions = tuple(sorted((str(d.get("Name")), str(d.get("Value"))) for d in datum.get("Dimensions") or []))
            for tracked in watching:
                spec = tracked.spec
                if spec.metric != datum.get("MetricName") or spec.dimensions != dimensions or (
                        spec.unit and datum.get("Unit") != spec.unit):
                    continue
                if tracked.due is not None and tracked.due <= now:
                    self._advance(tracked, now)  # what was due before these datapoints arrived
                _ingest(tracked.buckets, datum, now, keep_values=spec.percentile is not None)
                tracked.due = minute_of(now) + MINUTE if tracked.due is None else min(tracked.due,
                                                                                     minute_of(now) + MINUTE)

    def metrics_changed(self, namespace: str, region: str) -> None:
        """A MetricSource's timeline changed: its alarms are evaluated again at the next minute."""
        alarms = self.state.alarms
        if not alarms:
            return
        upcoming = minute_of(self.now()) + MINUTE
        for (where, _), tracked in alarms.items():
            if where == region and tracked.spec.namespace == namespace and not tracked.spec.unevaluated:
                tracked.due = upcoming if tracked.due is None else min(tracked.due, upcoming)

    # -- time ----------------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        alarms = self.state.alarms
        if not alarms:
            return None
        dues = [tracked.due for tracked in alarms.values() if tracked.due is not None]
        return min(dues) if dues else None

    def run_due(self, now: float) -> None:
        for tracked in list(self.state.alarms.values()):
            if tracked.due is not None and tracked.due <= now:
                self._advance(tracked, now)

    def _advance(self, tracked: TrackedAlarm, now: float) -> None:
        """Every evaluation due up to `now`: the state changes it makes, then the next minute one may happen."""
        spec = tracked.spec
        while tracked.due is not None and tracked.due <= now:
            moment = tracked.due
            horizon = self._horizon(tracked, moment)
            buckets = self._buckets(tracked, moment - spec.span - MINUTE, horizon)
            outcome = evaluate(spec, buckets, moment, tracked.state)
            if outcome.state != tracked.state:
                self._transition(tracked, moment, outcome)
            if tracked.spec is not spec:  # (an action changed it: evaluate the new configuration next minute)
                tracked.due = moment + MINUTE
                return
            found = next_change(spec, buckets, tracked.state, moment, horizon)
            tracked.due = found[0] if found else None
            if not self._virtual(spec):
                prune(tracked.buckets, moment - spec.span - MINUTE)

    def _horizon(self, tracked: TrackedAlarm, moment: float) -> float:
        """How far ahead the datapoints known now can change the alarm's state."""
        spec = tracked.spec
        if self._virtual(spec):
            return moment + spec.span + MINUTE
        latest = max(tracked.buckets, default=moment)
        return max(moment, latest + MINUTE) + spec.span + MINUTE

    def _buckets(self, tracked: TrackedAlarm, start: float, end: float) -> Buckets:
        source = self._virtual(tracked.spec)
        if source is None:
            return tracked.buckets
        buckets: Buckets = {}
        for minute, value in source.metric_series(tracked.spec.metric or "", dict(tracked.spec.dimensions), start,
                                                  end):
            add_datum(buckets, minute, value=value)
        return buckets

    def _virtual(self, spec: AlarmSpec) -> MetricSource | None:
        return self.metric_source(spec.region, spec.namespace)

    def metric_source(self, region: str, namespace: Any) -> MetricSource | None:
        """The engine that publishes `namespace`'s metrics in `region` from a timeline of its own, if any."""
        for source in self.sandbox.engines.all(MetricSource):
            if source.metric_namespace == namespace and source.metric_region == region:
                return source
        return None

    def _backfill(self, spec: AlarmSpec, now: float) -> Buckets:
        """The datapoints put before the alarm existed that its first evaluations read: one query."""
        buckets: Buckets = {}
        if spec.unevaluated or not spec.metric or not spec.namespace:
            return buckets
        start = minute_of(now) - min(spec.span + MINUTE, 1440 * MINUTE)
        query: dict[str, Any] = {
            "Namespace": spec.namespace, "MetricName": spec.metric,
            "Dimensions": [{"Name": name, "Value": value} for name, value in spec.dimensions],
            "StartTime": datetime.fromtimestamp(start, tz=UTC),
            "EndTime": datetime.fromtimestamp(start + 1440 * MINUTE, tz=UTC), "Period": MINUTE,
            "Statistics": ["SampleCount", "Sum", "Minimum", "Maximum"]}
        if spec.unit:
            query["Unit"] = spec.unit
        try:
            with audit.unrecorded():
                found = self.client(SERVICE, spec.region).get_metric_statistics(**query)
        except (ClientError, BotoCoreError) as exc:
            log.info("datapoints of alarm %s not read: %s", spec.name, exc)
            return buckets
        for point in found.get("Datapoints") or []:
            count = float(point.get("SampleCount") or 0)
            if count:
                add_datum(buckets, point["Timestamp"].timestamp(), stats=(
                    float(point.get("Sum", 0.0)), count, float(point.get("Minimum", 0.0)),
                    float(point.get("Maximum", 0.0))))
        return buckets

    # -- state changes ---------------------------------------------------------------------------------

    def _transition(self, tracked: TrackedAlarm, moment: float, outcome: Outcome) -> None:
        spec = tracked.spec
        old_state, old_reason = tracked.state, tracked.reason
        tracked.state, tracked.reason, tracked.reason_data = outcome.state, outcome.reason, outcome.reason_data
        tracked.updated = tracked.transitioned = moment
        new_state: dict[str, Any] = {"stateValue": outcome.state, "stateReason": outcome.reason}
        if outcome.reason_data:
            try:
                new_state["stateReasonData"] = json.loads(outcome.reason_data)
            except ValueError:
                pass
        self._record(spec.region, spec.name, moment, "StateUpdate",
                     f"Alarm updated from {old_state} to {outcome.state}",
                     {"version": "1.0", "oldState": {"stateValue": old_state, "stateReason": old_reason},
                      "newState": new_state})
        self.emit("AlarmStateChanged", region=spec.region, resource=spec.arn, old=old_state, new=outcome.state,
                  reason=outcome.reason)
        if spec.actions_enabled:
            for action in spec.actions_for(outcome.state):
                self._act(tracked, action, old_state, moment)
        for listener in self.sandbox.engines.all(AlarmListener):
            listener.alarm_changed(spec.region, spec.name, outcome.state)

    def _act(self, tracked: TrackedAlarm, action: str, old_state: str, moment: float) -> None:
        spec = tracked.spec
        if not action.startswith("arn:aws:sns:"):
            self._record(spec.region, spec.name, moment, "Action", f"Failed to execute action {action}",
                         {"actionState": "Failed", "stateUpdateTimestamp": int(moment * 1000),
                          "error": "The sandbox runs only Amazon SNS actions"})
            return
        region = action.split(":")[3] or spec.region
        subject = f'{tracked.state}: "{spec.name}" in {REGION_NAMES.get(spec.region, spec.region)}'[:100]
        try:
            with audit.unrecorded():
                answer = self.client("sns", region).publish(TopicArn=action, Subject=subject,
                                                            Message=json.dumps(self._message(tracked, old_state,
                                                                                             moment)))
        except (ClientError, BotoCoreError) as exc:
            self._record(spec.region, spec.name, moment, "Action", f"Failed to execute action {action}",
                         {"actionState": "Failed", "stateUpdateTimestamp": int(moment * 1000),
                          "error": str(exc)})
            return
        self._record(spec.region, spec.name, moment, "Action", f"Successfully executed action {action}",
                     {"actionState": "Succeeded", "stateUpdateTimestamp": int(moment * 1000),
                      "notificationResource": action, "publishedMessage": {"messageId": answer.get("MessageId")}})

    def _message(self, tracked: TrackedAlarm, old_state: str, moment: float) -> dict[str, Any]:
        """The JSON message CloudWatch publishes to an alarm's SNS topic (User Guide: "Amazon SNS notification
        format" of alarms)."""
        spec = tracked.spec
        percentile = spec.percentile is not None
        return {
            "AlarmName": spec.name, "AlarmDescription": spec.description, "AWSAccountId": config.ACCOUNT_ID,
            "AlarmConfigurationUpdatedTimestamp": iso_millis(spec.configured_at),
            "NewStateValue": tracked.state, "NewStateReason": tracked.reason, "StateChangeTime": iso_millis(moment),
            "Region": REGION_NAMES.get(spec.region, spec.region), "AlarmArn": spec.arn, "OldStateValue": old_state,
            "OKActions": list(spec.ok_actions), "AlarmActions": list(spec.alarm_actions),
            "InsufficientDataActions": list(spec.insufficient_data_actions),
            "Trigger": {
                "MetricName": spec.metric, "Namespace": spec.namespace,
                "StatisticType": "ExtendedStatistic" if percentile else "Statistic",
                ("ExtendedStatistic" if percentile else "Statistic"): spec.statistic if percentile
                else spec.statistic.upper(),
                "Unit": spec.unit, "Dimensions": [{"value": value, "name": name} for name, value in spec.dimensions],
                "Period": spec.period, "EvaluationPeriods": spec.evaluation_periods,
                "DatapointsToAlarm": spec.datapoints_to_alarm, "ComparisonOperator": spec.comparison,
                "Threshold": spec.threshold, "TreatMissingData": spec.treat_missing,
                "EvaluateLowSampleCountPercentile": spec.extras.get("EvaluateLowSampleCountPercentile", ""),
            },
        }

    def _record(self, region: str, name: str, moment: float, kind: str, summary: str, data: dict[str, Any]) -> None:
        items = self.state.history.setdefault(region, [])
        items.append({"AlarmName": name, "AlarmType": "MetricAlarm", "Timestamp": moment, "HistoryItemType": kind,
                      "HistorySummary": summary, "HistoryData": json.dumps(data, separators=(",", ":"))})
        del items[:-MAX_HISTORY]

    def describe(self) -> dict[str, Any]:
        alarms = self.state.alarms
        return {"alarms": len(alarms),
                "in_alarm": sorted(f"{region}/{name}" for (region, name), tracked in alarms.items()
                                   if tracked.state == ALARM),
                "ok": sum(1 for tracked in alarms.values() if tracked.state == OK)}


def _ingest(buckets: Buckets, datum: dict[str, Any], now: float, keep_values: bool) -> None:
    """One MetricData member of PutMetricData into the per-minute datapoints (Value, Values with Counts, or
    StatisticValues; no Timestamp: now)."""
    stamp = datum.get("Timestamp")
    moment = stamp.timestamp() if isinstance(stamp, datetime) else float(stamp) if isinstance(
        stamp, (int, float)) else now
    if datum.get("Values"):
        counts = datum.get("Counts") or [1.0] * len(datum["Values"])
        for value, count in zip(datum["Values"], counts, strict=False):
            for _ in range(max(0, min(int(float(count)), 1000))):
                add_datum(buckets, moment, value=float(value), keep_values=keep_values)
    elif datum.get("StatisticValues"):
        stats = datum["StatisticValues"]
        add_datum(buckets, moment, stats=(float(stats["Sum"]), float(stats["SampleCount"]), float(stats["Minimum"]),
                                          float(stats["Maximum"])))
    else:
        add_datum(buckets, moment, value=float(datum.get("Value", 0.0)), keep_values=keep_values)


def _config(spec: AlarmSpec) -> dict[str, Any]:
    return {"alarmName": spec.name, "alarmArn": spec.arn, "namespace": spec.namespace, "metricName": spec.metric,
            "dimensions": [{"name": name, "value": value} for name, value in spec.dimensions],
            "statistic": spec.statistic, "period": spec.period, "evaluationPeriods": spec.evaluation_periods,
            "datapointsToAlarm": spec.datapoints_to_alarm, "threshold": spec.threshold,
            "comparisonOperator": spec.comparison, "treatMissingData": spec.treat_missing,
            "actionsEnabled": spec.actions_enabled, "alarmActions": list(spec.alarm_actions),
            "okActions": list(spec.ok_actions), "insufficientDataActions": list(spec.insufficient_data_actions)}
