"""CloudWatch's limits on metric queries, which the backend does not check: it walks a query's time range one
period at a time, so a Period of 0 never ends and a range of years at one second is 10**10 steps, all under the
sandbox's lock. Every CloudWatch operation is the backend's; this only refuses, as CloudWatch does, first.

- Period: 1, 5, 10, 20 or 30 seconds (high resolution), or a multiple of 60 (CloudWatch API Reference,
  GetMetricStatistics and MetricStat: Period).
- GetMetricStatistics: at most 1,440 data points ("If you request more than 1,440 data points, CloudWatch
  returns an error", API Reference, GetMetricStatistics).
- GetMetricData: at most 100,800 data points per call (API Reference, GetMetricData), where CloudWatch pages;
  the sandbox refuses instead, saying so.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from lab.kernel.api import Call, ServiceApi
from lab.kernel.errors import AwsError

HIGH_RESOLUTION_PERIODS = frozenset({1, 5, 10, 20, 30})
STATISTICS_POINTS = 1440
METRIC_DATA_POINTS = 100_800


class CloudWatchApi(ServiceApi):
    service = "cloudwatch"

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
