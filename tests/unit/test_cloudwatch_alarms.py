"""CloudWatch metric alarms evaluated as pure functions of their datapoints (lab.services.cloudwatch.alarms)."""

from __future__ import annotations

import json

import pytest

from lab.services.cloudwatch.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    add_datum,
    alarm_spec,
    evaluate,
    next_change,
)

T0 = 1_796_688_000.0  # 2026-12-08 00:00:00 UTC
MINUTE = 60


def spec(**params):
    base = {"AlarmName": "a", "Namespace": "Custom/Sweep", "MetricName": "Load", "Statistic": "Maximum",
            "Period": 60, "EvaluationPeriods": 1, "Threshold": 50.0, "ComparisonOperator": "GreaterThanThreshold"}
    return alarm_spec("us-east-1", "arn:aws:cloudwatch:us-east-1:000000000000:alarm:a", {**base, **params}, T0)


def buckets_of(values):
    """values per minute from T0 on (None: no datapoint that minute)."""
    buckets = {}
    for index, value in enumerate(values):
        if value is not None:
            add_datum(buckets, T0 + index * MINUTE + 5, value=value)
    return buckets


def test_one_breaching_datapoint_raises_the_alarm_in_aws_words():
    """CloudWatch User Guide, "Alarm evaluation": a datapoint beyond the threshold in the evaluated period; the
    StateReason as CloudWatch words it."""
    found = evaluate(spec(), buckets_of([None] * 10 + [95.0]), T0 + 11 * MINUTE, INSUFFICIENT_DATA)
    assert found.state == ALARM
    assert found.reason == ("Threshold Crossed: 1 datapoint [95.0 (08/12/26 00:10:00)] was greater than the "
                            "threshold (50.0).")
    data = json.loads(found.reason_data)
    assert data["recentDatapoints"] == [95.0] and data["threshold"] == 50.0 and data["period"] == 60
    assert data["evaluatedDatapoints"] == [{"timestamp": "2026-12-08T00:10:00.000+0000", "sampleCount": 1.0,
                                            "value": 95.0}]
    back = evaluate(spec(), buckets_of([None] * 10 + [95.0, 10.0]), T0 + 12 * MINUTE, ALARM)
    assert back.state == OK and back.reason == ("Threshold Crossed: 1 datapoint [10.0 (08/12/26 00:11:00)] was not "
                                                "greater than the threshold (50.0).")


def test_m_out_of_n_datapoints():
    """API Reference, PutMetricAlarm DatapointsToAlarm: "the number of data points that must be breaching to
    trigger the alarm" among the EvaluationPeriods most recent."""
    alarm = spec(EvaluationPeriods=3, DatapointsToAlarm=2)
    assert evaluate(alarm, buckets_of([60.0, 10.0, 10.0]), T0 + 3 * MINUTE, OK).state == OK
    found = evaluate(alarm, buckets_of([60.0, 10.0, 70.0]), T0 + 3 * MINUTE, OK)
    assert found.state == ALARM
    assert found.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [70.0 (08/12/26 00:02:00), "
                                   "10.0 (08/12/26 00:01:00), 60.0 (08/12/26 00:00:00)] were greater than the "
                                   "threshold (50.0) (minimum 2 datapoints for OK -> ALARM transition).")


@pytest.mark.parametrize("treat, partly, none", [
    ("missing", ALARM, INSUFFICIENT_DATA),
    ("ignore", ALARM, OK),  # all missing: the current state (OK here) is kept
    ("breaching", ALARM, ALARM),
    ("notBreaching", OK, OK),
])
def test_treat_missing_data(treat, partly, none):
    """CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing data": 3 of 3 periods, one real
    breaching datapoint among missing ones ("- - X - -"), then nothing in the evaluation range."""
    alarm = spec(EvaluationPeriods=3, TreatMissingData=treat)
    assert evaluate(alarm, buckets_of([None, None, 90.0, None, None]), T0 + 5 * MINUTE, OK).state == partly
    assert evaluate(alarm, buckets_of([None] * 5), T0 + 5 * MINUTE, OK).state == none


def test_all_missing_reason_and_comparisons():
    """API Reference, PutMetricAlarm ComparisonOperator; an alarm with no data says how many datapoints were
    unknown."""
    found = evaluate(spec(), {}, T0 + 5 * MINUTE, OK)
    assert found.state == INSUFFICIENT_DATA and found.reason == "Insufficient Data: 1 datapoint was unknown."
    low = spec(ComparisonOperator="LessThanOrEqualToThreshold", Threshold=1.0)
    assert evaluate(low, buckets_of([1.0]), T0 + MINUTE, OK).state == ALARM
    assert evaluate(spec(ComparisonOperator="GreaterThanOrEqualToThreshold"), buckets_of([50.0]), T0 + MINUTE,
                    OK).state == ALARM
    assert evaluate(spec(ComparisonOperator="LessThanThreshold"), buckets_of([50.0]), T0 + MINUTE, OK).state == OK


def test_statistics_over_longer_periods_and_percentiles():
    """API Reference, PutMetricAlarm Statistic and ExtendedStatistic (p0.0-p100); a Period of 300 seconds
    aggregates five minutes of datapoints."""
    buckets = buckets_of([10.0, 20.0, 30.0, 40.0, 100.0])
    five = {"Period": 300, "Threshold": 35.0}
    assert evaluate(spec(Statistic="Average", **five), buckets, T0 + 5 * MINUTE, OK).state == ALARM  # 40
    assert evaluate(spec(Statistic="Sum", **five), buckets, T0 + 5 * MINUTE, OK).state == ALARM
    assert evaluate(spec(Statistic="Minimum", **five), buckets, T0 + 5 * MINUTE, OK).state == OK
    assert evaluate(spec(Statistic="SampleCount", **five), buckets, T0 + 5 * MINUTE, OK).state == OK
    median = spec(Statistic=None, ExtendedStatistic="p50", **five)
    assert evaluate(median, buckets, T0 + 5 * MINUTE, OK).state == OK  # 30
    assert evaluate(spec(Statistic=None, ExtendedStatistic="p90", **five), buckets, T0 + 5 * MINUTE,
                    OK).state == ALARM


def test_metric_math_and_high_resolution_alarms_are_not_evaluated():
    """API Reference, PutMetricAlarm Metrics (metric math): the lab says it does not evaluate them."""
    math = alarm_spec("us-east-1", "arn", {"AlarmName": "m", "EvaluationPeriods": 1, "Threshold": 1.0,
                                           "ComparisonOperator": "GreaterThanThreshold",
                                           "Metrics": [{"Id": "e1", "Expression": "m1 * 2"}]}, T0)
    assert math.unevaluated and "metric math" in math.unevaluated


def test_next_change_plans_the_next_transition_without_stepping_every_minute():
    """CloudWatch User Guide, "Alarm evaluation": with missing data treated as missing, an alarm whose metric stops
    goes INSUFFICIENT_DATA once the evaluation range holds no datapoint; nothing changes after that."""
    alarm = spec()
    buckets = buckets_of([95.0] * 3)
    changed = next_change(alarm, buckets, INSUFFICIENT_DATA, T0, T0 + 30 * MINUTE)
    assert changed is not None and changed[0] == T0 + MINUTE and changed[1].state == ALARM
    # The range is EvaluationPeriods + 2 periods: the last datapoint (00:02) leaves it at 00:06.
    later = next_change(alarm, buckets, ALARM, T0 + MINUTE, T0 + 30 * MINUTE)
    assert later is not None and later[0] == T0 + 6 * MINUTE and later[1].state == INSUFFICIENT_DATA
    assert next_change(alarm, buckets, INSUFFICIENT_DATA, T0 + 6 * MINUTE, T0 + 30 * MINUTE) is None
