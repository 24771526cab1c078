"""CloudWatch in the sandbox: metric alarms on the sim clock (their state and history are the engine's,
lab.services.cloudwatch.engine; the backend stores the alarms), the metrics AWS services publish from timelines
the lab keeps (Route 53's health checks: a MetricSource, computed when asked, never stored datum by datum), and
CloudWatch's limits on metric queries, which the backend does not check: it walks a query's time range one
period at a time, so a Period of 0 never ends and a range of years at one second is 10**10 steps, all under the
sandbox's lock; those are refused, as CloudWatch does, first.

- Period: 1, 5, 10, 20 or 30 seconds (high resolution), or a multiple of 60 (CloudWatch API Reference,
  GetMetricStatistics and MetricStat: Period).
- GetMetricStatistics: at most 1,440 data points ("If you request more than 1,440 data points, CloudWatch
  returns an error", API Reference, GetMetricStatistics).
- GetMetricData: at most 100,800 data points per call (API Reference, GetMetricData), where CloudWatch pages;
  the sandbox refuses instead, saying so.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lab.gateway import audit
from lab.kernel.api import BackendAnswer, Call, ServiceApi, paginate
from lab.kernel.engine import MetricSource
from lab.kernel.errors import AwsError
from lab.services.cloudwatch.alarms import MINUTE, STATISTICS, summary_statistic
from lab.services.cloudwatch.engine import CloudWatch

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox

HIGH_RESOLUTION_PERIODS = frozenset({1, 5, 10, 20, 30})
STATISTICS_POINTS = 1440
METRIC_DATA_POINTS = 100_800


class AlarmOperations:
    """The alarm operations: the backend stores the alarms, the engine keeps their state and history."""

    engine: CloudWatch
    sandbox: Sandbox

    def op_PutMetricAlarm(self, call: Call) -> BackendAnswer:
        call.forward()
        self.engine.put_alarm(call.region, call.params)
        return call.backend_answer()

    def op_DeleteAlarms(self, call: Call) -> BackendAnswer:
        call.forward()
        self.engine.delete_alarms(call.region, list(call.params.get("AlarmNames") or []))
        return call.backend_answer()

    def op_SetAlarmState(self, call: Call) -> BackendAnswer:
        call.forward()
        params = call.params
        self.engine.set_alarm_state(call.region, params.get("AlarmName", ""), params.get("StateValue", ""),
                                    params.get("StateReason", ""), params.get("StateReasonData"))
        return call.backend_answer()

    def op_EnableAlarmActions(self, call: Call) -> BackendAnswer:
        call.forward()
        self.engine.set_actions_enabled(call.region, list(call.params.get("AlarmNames") or []), True)
        return call.backend_answer()

    def op_DisableAlarmActions(self, call: Call) -> BackendAnswer:
        call.forward()
        self.engine.set_actions_enabled(call.region, list(call.params.get("AlarmNames") or []), False)
        return call.backend_answer()

    def op_DescribeAlarms(self, call: Call) -> dict[str, Any]:
        params = call.params
        wanted = params.get("StateValue")
        if wanted and not call.internal:
            # (the backend filters by a state it never changes: ask it without the filter, filter the states here)
            unfiltered = {key: value for key, value in params.items() if key not in ("StateValue", "NextToken",
                                                                                     "MaxRecords")}
            with audit.unrecorded():
                output = self.sandbox.client("cloudwatch", call.region).describe_alarms(**unfiltered)
            output.pop("ResponseMetadata", None)
        else:
            output = call.forward()
        metric_alarms = [self._shown(call.region, alarm) for alarm in output.get("MetricAlarms") or []]
        if wanted:
            metric_alarms = [alarm for alarm in metric_alarms if alarm.get("StateValue") == wanted]
            output["CompositeAlarms"] = [alarm for alarm in output.get("CompositeAlarms") or []
                                         if alarm.get("StateValue") == wanted]
        output["MetricAlarms"] = metric_alarms
        return output

    def op_DescribeAlarmsForMetric(self, call: Call) -> dict[str, Any]:
        output = call.forward()
        output["MetricAlarms"] = [self._shown(call.region, alarm) for alarm in output.get("MetricAlarms") or []]
        return output

    def _shown(self, region: str, alarm: dict[str, Any]) -> dict[str, Any]:
        tracked = self.engine.alarm(region, alarm.get("AlarmName", ""))
        if tracked is None:
            return alarm
        shown = dict(alarm)
        shown.update(StateValue=tracked.state, StateReason=tracked.reason,
                     StateUpdatedTimestamp=datetime.fromtimestamp(tracked.updated, tz=UTC),
                     StateTransitionedTimestamp=datetime.fromtimestamp(tracked.transitioned, tz=UTC),
                     ActionsEnabled=tracked.spec.actions_enabled)
        if tracked.reason_data:
            shown["StateReasonData"] = tracked.reason_data
        else:
            shown.pop("StateReasonData", None)
        return shown

    def op_DescribeAlarmHistory(self, call: Call) -> dict[str, Any]:
        """API Reference, DescribeAlarmHistory: by AlarmName, AlarmTypes, HistoryItemType, StartDate/EndDate,
        newest first unless ScanBy is TimestampAscending; MaxRecords 1-100 a page."""
        params = call.params
        items = self.engine.history(call.region)
        name, kind = params.get("AlarmName"), params.get("HistoryItemType")
        types = params.get("AlarmTypes")
        start, end = params.get("StartDate"), params.get("EndDate")
        if types and "MetricAlarm" not in types:
            items = []
        if name:
            items = [item for item in items if item["AlarmName"] == name]
        if kind:
            items = [item for item in items if item["HistoryItemType"] == kind]
        if isinstance(start, datetime):
            items = [item for item in items if item["Timestamp"] >= start.timestamp()]
        if isinstance(end, datetime):
            items = [item for item in items if item["Timestamp"] <= end.timestamp()]
        if params.get("ScanBy") != "TimestampAscending":
            items = list(reversed(items))
        size = params.get("MaxRecords") or 100
        if not 1 <= size <= 100:
            raise AwsError("InvalidParameterValue", f"The parameter MaxRecords must be between 1 and 100, not {size}.")
        page, token = paginate(items, params, default_size=100, size_member="MaxRecords",
                               invalid_code="InvalidNextToken")
        output: dict[str, Any] = {"AlarmHistoryItems": [
            {**item, "Timestamp": datetime.fromtimestamp(item["Timestamp"], tz=UTC)} for item in page]}
        if token:
            output["NextToken"] = token
        return output


class PublishedMetrics:
    """Metrics an AWS service publishes from a timeline the lab keeps (MetricSource): computed when asked."""

    engine: CloudWatch
    sandbox: Sandbox

    def _source(self, region: str, namespace: Any) -> MetricSource | None:
        return self.engine.metric_source(region, namespace)

    def op_GetMetricStatistics(self, call: Call) -> dict[str, Any] | BackendAnswer:
        params = call.params
        source = self._source(call.region, params.get("Namespace"))
        if source is None:
            return call.forward()
        start, end = params.get("StartTime"), params.get("EndTime")
        if not isinstance(start, datetime) or not isinstance(end, datetime) or end <= start:
            raise AwsError("InvalidParameterValue", "The parameter StartTime must be less than the parameter "
                                                    "EndTime.")
        period = int(params.get("Period") or MINUTE)
        wanted = list(params.get("Statistics") or [])
        if not wanted and not params.get("ExtendedStatistics"):
            raise AwsError("InvalidParameterCombination", "Must specify either Statistics or ExtendedStatistics")
        points = _periods(source, params, start.timestamp(), end.timestamp(), period, self.sandbox.clock.now())
        datapoints = []
        for begins, values in points:
            datapoint: dict[str, Any] = {"Timestamp": datetime.fromtimestamp(begins, tz=UTC), "Unit": "None"}
            for statistic in wanted:
                if statistic in STATISTICS:
                    datapoint[statistic] = _statistic(statistic, values)
            datapoints.append(datapoint)
        return {"Label": params.get("MetricName"), "Datapoints": datapoints}

    def op_GetMetricData(self, call: Call) -> dict[str, Any] | BackendAnswer:
        params = call.params
        queries = params.get("MetricDataQueries") or []
        ours = {}
        for query in queries:
            stat = query.get("MetricStat") if isinstance(query, dict) else None
            metric = stat.get("Metric") if isinstance(stat, dict) else None
            source = self._source(call.region, metric.get("Namespace")) if isinstance(metric, dict) else None
            if source is not None and isinstance(stat, dict):
                ours[query.get("Id")] = (source, stat, query)
        if not ours:
            return call.forward()
        output = call.forward()
        start, end = params.get("StartTime"), params.get("EndTime")
        if not isinstance(start, datetime) or not isinstance(end, datetime):
            return output
        ascending = params.get("ScanBy") == "TimestampAscending"
        results = []
        for result in output.get("MetricDataResults") or []:
            found = ours.get(result.get("Id"))
            if found is None:
                results.append(result)
                continue
            source, stat, query = found
            metric = stat["Metric"]
            points = _periods(source, {"MetricName": metric.get("MetricName"),
                                       "Dimensions": metric.get("Dimensions") or []},
                              start.timestamp(), end.timestamp(), int(stat.get("Period") or MINUTE),
                              self.sandbox.clock.now())
            if not ascending:
                points.reverse()
            statistic = stat.get("Stat") or "Average"
            results.append({"Id": result.get("Id"), "Label": query.get("Label") or metric.get("MetricName"),
                            "Timestamps": [datetime.fromtimestamp(begins, tz=UTC) for begins, _ in points],
                            "Values": [_statistic(statistic, values) for _, values in points],
                            "StatusCode": "Complete"})
        output["MetricDataResults"] = results
        return output

    def op_ListMetrics(self, call: Call) -> dict[str, Any] | BackendAnswer:
        params = call.params
        namespace = params.get("Namespace")
        sources = [source for source in self.sandbox.engines.all(MetricSource)
                   if source.metric_region == call.region and namespace in (None, source.metric_namespace)]
        if not sources:
            return call.forward()
        output = call.forward()
        if output.get("NextToken"):
            return output  # (added to the last page)
        wanted_name = params.get("MetricName")
        wanted = params.get("Dimensions") or []
        metrics = list(output.get("Metrics") or [])
        for source in sources:
            for metric, dimensions in source.source_metrics():
                if wanted_name and metric != wanted_name:
                    continue
                if any(dimensions.get(d.get("Name")) != d.get("Value") if d.get("Value") is not None
                       else d.get("Name") not in dimensions for d in wanted):
                    continue
                metrics.append({"Namespace": source.metric_namespace, "MetricName": metric,
                                "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()]})
        output["Metrics"] = metrics
        return output


def _periods(source: MetricSource, params: dict[str, Any], start: float, end: float, period: int,
             now: float) -> list[tuple[float, list[float]]]:
    """(period start, the minutes' values) of each period from StartTime (to the minute) with datapoints, up to
    EndTime and now."""
    dimensions = {str(d.get("Name")): str(d.get("Value")) for d in params.get("Dimensions") or []}
    begin = math.floor(start / MINUTE) * MINUTE
    period = max(MINUTE, period - period % MINUTE)
    series = source.metric_series(str(params.get("MetricName") or ""), dimensions, begin, min(end, now))
    grouped: dict[float, list[float]] = {}
    for minute, value in series:
        if minute + MINUTE > now:
            continue
        grouped.setdefault(begin + ((minute - begin) // period) * period, []).append(value)
    return sorted(grouped.items())


def _statistic(statistic: str, values: list[float]) -> float:
    """A statistic of a period's values (the average for one the published metrics do not take)."""
    total, count = float(sum(values)), float(len(values))
    found = summary_statistic(statistic, total, count, min(values), max(values))
    return found if found is not None else total / count


class CloudWatchApi(AlarmOperations, PublishedMetrics, ServiceApi):
    service = "cloudwatch"
    service_principal = CloudWatch.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(CloudWatch)
        assert engine is not None, "the CloudWatch API needs the CloudWatch engine"
        self.engine = engine

    def check(self, call: Call) -> None:
        params = call.params
        operation = call.identity.operation
        if operation == "GetMetricStatistics":
            period = _period(params.get("Period"), "Period")
            points = _points(params, period)
            if points > STATISTICS_POINTS:
                raise AwsError("InvalidParameterCombination",
                               f"You have requested up to {points} datapoints, which exceeds the limit of "
                               f"{STATISTICS_POINTS}. You may reduce the datapoints requested by increasing Period, "
                               "or decreasing the time range.")
        elif operation == "GetMetricData":
            total = 0
            for index, query in enumerate(params.get("MetricDataQueries") or []):
                stat = query.get("MetricStat") if isinstance(query, dict) else None
                if isinstance(stat, dict):
                    name = f"MetricDataQueries.member.{index + 1}.MetricStat.Period"
                    total += _points(params, _period(stat.get("Period"), name))
            if total > METRIC_DATA_POINTS:
                raise AwsError("InvalidParameterCombination",
                               f"The queries ask for up to {total} datapoints; the sandbox answers at most "
                               f"{METRIC_DATA_POINTS} per call (CloudWatch's limit, where it pages). Increase the "
                               "Period or narrow StartTime and EndTime.")


def _period(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or (
            value not in HIGH_RESOLUTION_PERIODS and value % 60):
        raise AwsError("InvalidParameterValue", f"The parameter {name} must be 1, 5, 10, 20, 30 or a multiple of 60, "
                                                f"not {value!r}.")
    return value


def _points(params: dict[str, Any], period: int) -> int:
    start, end = params.get("StartTime"), params.get("EndTime")
    if not isinstance(start, datetime) or not isinstance(end, datetime) or end <= start:
        return 0  # (the backend refuses these itself, in CloudWatch's words)
    return math.ceil((end - start).total_seconds() / period)
