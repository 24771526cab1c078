"""CloudWatch metric alarms as pure functions of their datapoints: no sandbox, no HTTP.

An alarm is evaluated once a minute (CloudWatch User Guide, "Alarm evaluation"; periods of 60 seconds or more).
At an evaluation minute `t` its periods slide back from `t`: the newest covers [t - Period, t), the next one the
Period before it, and so on. The lab's evaluation range is EvaluationPeriods (N) + 2 periods, as the Guide's table
of missing-data cases shows it; DatapointsToAlarm (M) of the N must breach:

  - at least N real datapoints in the range: the N most recent real ones decide (missing ones are not needed);
  - fewer, but some: the missing are filled as TreatMissingData says -- `breaching` counts them as breaching,
    `notBreaching` as not; `missing` and `ignore` judge the real datapoints alone (ALARM when M of them, or all of
    them when fewer than M, breach);
  - none at all: `missing` -> INSUFFICIENT_DATA, `ignore` -> the state is kept, `breaching` -> ALARM,
    `notBreaching` -> OK.

Datapoints are kept per minute (`Buckets`: minute start -> [sum, count, min, max, values]); a period's statistic
combines its minutes. Reasons and their JSON data are worded as CloudWatch words them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
MINUTE = 60
EXTRA_PERIODS = 2  # the evaluation range: EvaluationPeriods + these, farther back
INITIAL_REASON = "Unchecked: Initial alarm creation"
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
COMPARISONS = {
    "GreaterThanThreshold": ("greater than", lambda value, threshold: value > threshold),
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda value, threshold: value >= threshold),
    "LessThanThreshold": ("less than", lambda value, threshold: value < threshold),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda value, threshold: value <= threshold),
}
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")

Bucket = list[Any]  # [sum, count, min, max, values (list) or None]
Buckets = dict[int, Bucket]


@dataclass(frozen=True)
class AlarmSpec:
    """What an alarm watches and how it judges it (PutMetricAlarm's parameters)."""

    name: str
    region: str
    arn: str
    namespace: str | None
    metric: str | None
    dimensions: tuple[tuple[str, str], ...]  # sorted (name, value)
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    statistic: str  # "Maximum", ... or "p90"
    treat_missing: str = "missing"
    unit: str | None = None
    description: str | None = None
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    configured_at: float = 0.0
    unevaluated: str | None = None  # why the lab does not evaluate this alarm (metric math, ...)
    extras: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def range_periods(self) -> int:
        return self.evaluation_periods + EXTRA_PERIODS

    @property
    def span(self) -> int:
        """Seconds of data one evaluation reads."""
        return self.range_periods * self.period

    @property
    def percentile(self) -> float | None:
        return _percentile(self.statistic)

    def actions_for(self, state: str) -> tuple[str, ...]:
        return {ALARM: self.alarm_actions, OK: self.ok_actions,
                INSUFFICIENT_DATA: self.insufficient_data_actions}[state]


def alarm_spec(region: str, arn: str, params: dict[str, Any], now: float) -> AlarmSpec:
    """The spec of an alarm from PutMetricAlarm's parameters (already accepted by the backend)."""
    dimensions = tuple(sorted((str(d.get("Name")), str(d.get("Value"))) for d in params.get("Dimensions") or []))
    periods = int(params.get("EvaluationPeriods") or 1)
    statistic = params.get("Statistic") or params.get("ExtendedStatistic") or "Average"
    period = int(params.get("Period") or 0)
    treat = params.get("TreatMissingData") or "missing"
    unevaluated = None
    if params.get("Metrics"):
        unevaluated = ("the lab does not evaluate alarms on metric math or on several metrics (Metrics); "
                       "this alarm stays INSUFFICIENT_DATA")
    elif period < MINUTE or period % MINUTE:
        unevaluated = (f"the lab evaluates alarms with a Period of 60 seconds or a multiple of it, not {period}; "
                       "this alarm stays INSUFFICIENT_DATA")
    elif statistic not in STATISTICS and _percentile(statistic) is None:
        unevaluated = f"the lab does not evaluate the statistic {statistic}; this alarm stays INSUFFICIENT_DATA"
    elif params.get("ComparisonOperator") not in COMPARISONS:
        unevaluated = (f"the lab does not evaluate the comparison {params.get('ComparisonOperator')} (anomaly "
                       "detection); this alarm stays INSUFFICIENT_DATA")
    return AlarmSpec(
        name=str(params.get("AlarmName") or ""), region=region, arn=arn, namespace=params.get("Namespace"),
        metric=params.get("MetricName"), dimensions=dimensions, period=max(period, MINUTE),
        evaluation_periods=periods, datapoints_to_alarm=int(params.get("DatapointsToAlarm") or periods),
        threshold=float(params.get("Threshold") or 0.0), comparison=str(params.get("ComparisonOperator") or ""),
        statistic=statistic, treat_missing=treat if treat in TREATMENTS else "missing", unit=params.get("Unit"),
        description=params.get("AlarmDescription"),
        actions_enabled=params.get("ActionsEnabled") is not False,
        alarm_actions=tuple(params.get("AlarmActions") or ()), ok_actions=tuple(params.get("OKActions") or ()),
        insufficient_data_actions=tuple(params.get("InsufficientDataActions") or ()), configured_at=now,
        unevaluated=unevaluated,
        extras={key: params[key] for key in ("EvaluateLowSampleCountPercentile",) if key in params})


def _percentile(statistic: str) -> float | None:
    if not statistic.startswith("p"):
        return None
    try:
        value = float(statistic[1:])
    except ValueError:
        return None
    return value if 0.0 <= value <= 100.0 else None


# -- datapoints --------------------------------------------------------------------------------------------------


def minute_of(moment: float) -> int:
    return int(moment // MINUTE) * MINUTE


def add_datum(buckets: Buckets, moment: float, *, value: float | None = None,
              stats: tuple[float, float, float, float] | None = None, keep_values: bool = True) -> None:
    """One datum at `moment`: a value, or statistic values (sum, count, min, max) as PutMetricData takes them."""
    minute = minute_of(moment)
    if value is not None:
        total, count, low, high = value, 1.0, value, value
    elif stats is not None:
        total, count, low, high = stats
    else:
        return
    bucket = buckets.get(minute)
    if bucket is None:
        buckets[minute] = [total, count, low, high, [value] if keep_values and value is not None else None]
        return
    bucket[0] += total
    bucket[1] += count
    bucket[2] = min(bucket[2], low)
    bucket[3] = max(bucket[3], high)
    if value is not None and keep_values:
        if bucket[4] is None:
            bucket[4] = []
        bucket[4].append(value)


def prune(buckets: Buckets, before: float) -> None:
    """Forget minutes before `before` (no evaluation reads them any more)."""
    for minute in [minute for minute in buckets if minute < before]:
        del buckets[minute]


def period_value(spec: AlarmSpec, buckets: Buckets, start: int) -> tuple[float, float] | None:
    """(statistic, sample count) of the period beginning at `start`, or None when it has no datapoint."""
    total = count = 0.0
    low, high = math.inf, -math.inf
    values: list[float] = []
    for minute in range(start, start + spec.period, MINUTE):
        bucket = buckets.get(minute)
        if bucket is None:
            continue
        total += bucket[0]
        count += bucket[1]
        low, high = min(low, bucket[2]), max(high, bucket[3])
        if bucket[4]:
            values.extend(bucket[4])
        elif bucket[1] == 1:
            values.append(bucket[3])
    if count <= 0:
        return None
    summary = summary_statistic(spec.statistic, total, count, low, high)
    if summary is not None:
        return summary, count
    wanted = spec.percentile
    if wanted is None or not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(wanted / 100.0 * len(ordered)))
    return ordered[rank - 1], count


def summary_statistic(statistic: str, total: float, count: float, low: float, high: float) -> float | None:
    """One of STATISTICS of a period's datapoints, from their sum, sample count, minimum and maximum (None for
    another statistic: a percentile needs the values themselves)."""
    if statistic == "Maximum":
        return high
    if statistic == "Minimum":
        return low
    if statistic == "Sum":
        return total
    if statistic == "SampleCount":
        return count
    if statistic == "Average":
        return total / count
    return None


# -- evaluation --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str
    reason_data: str  # JSON text


def evaluate(spec: AlarmSpec, buckets: Buckets, at: float, current: str) -> Outcome:
    """The alarm's state at evaluation minute `at`, given its `current` state."""
    if spec.unevaluated:
        return Outcome(INSUFFICIENT_DATA, f"Unchecked: {spec.unevaluated}.", "{}")
    at_minute = minute_of(at)
    label, breaches = COMPARISONS[spec.comparison]
    threshold = spec.threshold
    # newest first: (period start, value, sample count) or (start, None, 0)
    periods: list[tuple[int, float | None, float]] = []
    for index in range(spec.range_periods):
        start = at_minute - (index + 1) * spec.period
        found = period_value(spec, buckets, start)
        periods.append((start, found[0], found[1]) if found else (start, None, 0.0))
    real = [(start, value, count) for start, value, count in periods if value is not None]
    n, m = spec.evaluation_periods, spec.datapoints_to_alarm
    if len(real) >= n:
        used = real[:n]
        breaching = sum(1 for _, value, _ in used if value is not None and breaches(value, threshold))
        state = ALARM if breaching >= m else OK
        return _crossed(spec, at_minute, used, breaching, state, current, label, 0)
    if not real:
        state = {"missing": INSUFFICIENT_DATA, "ignore": current, "breaching": ALARM,
                 "notBreaching": OK}[spec.treat_missing]
        if state == INSUFFICIENT_DATA:
            return Outcome(INSUFFICIENT_DATA, f"Insufficient Data: {_count(n)} {'was' if n == 1 else 'were'} "
                                              "unknown.", _data(spec, at_minute, []))
        if spec.treat_missing == "ignore":
            return Outcome(current, "", "")  # (kept: no update)
        return _crossed(spec, at_minute, [], 0, state, current, label, n)
    breaching = sum(1 for _, value, _ in real if value is not None and breaches(value, threshold))
    missing = n - len(real)
    if spec.treat_missing == "breaching":
        state = ALARM if breaching + missing >= m else OK
        return _crossed(spec, at_minute, real, breaching, state, current, label, missing)
    if spec.treat_missing == "notBreaching":
        state = ALARM if breaching >= m else OK
        return _crossed(spec, at_minute, real, breaching, state, current, label, missing)
    state = ALARM if breaching >= min(m, len(real)) else OK
    return _crossed(spec, at_minute, real, breaching, state, current, label, 0)


def next_change(spec: AlarmSpec, buckets: Buckets, state: str, after: float,
                until: float) -> tuple[float, Outcome] | None:
    """The first evaluation minute in (after, until] at which the alarm leaves `state`, with its outcome."""
    moment = minute_of(after) + MINUTE
    while moment <= until:
        found = evaluate(spec, buckets, moment, state)
        if found.state != state:
            return float(moment), found
        moment += MINUTE
    return None


def _count(n: int) -> str:
    return f"{n} datapoint{'' if n == 1 else 's'}"


def reason_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%d/%m/%y %H:%M:%S")


def iso_millis(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def number(value: float) -> str:
    """A value as CloudWatch prints it (Java's double: 95.0, 0.5, 1.0E7)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e7:
        return f"{value:.1f}"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}E{int(exponent)}"
    return text


def _crossed(spec: AlarmSpec, at_minute: int, used: list[tuple[int, float | None, float]], breaching: int,
             state: str, current: str, label: str, filled: int) -> Outcome:
    n = spec.evaluation_periods
    shown = ", ".join(f"{number(value)} ({reason_date(start)})" for start, value, _ in used if value is not None)
    good = state != ALARM
    counted = len(used) - breaching if good else breaching  # (the real datapoints that say so)
    verb = "was" if counted == 1 else "were"
    negation = "not " if good else ""
    if used:
        if len(used) == 1 and n == 1:
            text = f"Threshold Crossed: 1 datapoint [{shown}] {verb} {negation}{label} the threshold"
        else:
            text = (f"Threshold Crossed: {counted} out of the last {len(used)} datapoint{'' if len(used) == 1 else 's'}"
                    f" [{shown}] {verb} {negation}{label} the threshold")
        text += f" ({number(spec.threshold)})"
    else:
        text = "Threshold Crossed: no datapoints were received"
    if filled:
        treated = "Breaching" if spec.treat_missing == "breaching" else "NonBreaching"
        text += (f"{',' if used else ''} and {filled} missing datapoint{'' if filled == 1 else 's'} "
                 f"{'was' if filled == 1 else 'were'} treated as [{treated}]")
    if n > 1 and current != state:
        needed = spec.datapoints_to_alarm if state == ALARM else n - spec.datapoints_to_alarm + 1
        text += f" (minimum {_count(needed)} for {current} -> {state} transition)"
    return Outcome(state, text + ".", _data(spec, at_minute, used))


def _data(spec: AlarmSpec, at_minute: int, used: list[tuple[int, float | None, float]]) -> str:
    data: dict[str, Any] = {
        "version": "1.0", "queryDate": iso_millis(at_minute),
        "startDate": iso_millis(at_minute - spec.span),
    }
    if spec.unit:
        data["unit"] = spec.unit
    data["statistic"] = spec.statistic
    data["period"] = spec.period
    data["recentDatapoints"] = [float(value) for _, value, _ in used if value is not None]
    data["threshold"] = spec.threshold
    data["evaluatedDatapoints"] = [{"timestamp": iso_millis(start), "sampleCount": float(count),
                                    "value": float(value)} for start, value, count in used if value is not None]
    return json.dumps(data, separators=(",", ":"))
