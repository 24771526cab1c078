"""Elastic Disaster Recovery's pure parts: durations as ISO 8601, the point-in-time policy DRS accepts and what
it keeps, the initial sync's time under a bandwidth throttle."""

from __future__ import annotations

import pytest

from lab.kernel.errors import AwsError
from lab.services.drs.api import check_pit_policy, duration
from lab.services.drs.engine import _rule_keeps
from lab.services.drs.model import DEFAULT_PIT_POLICY, RecoverySnapshot
from lab.sim.durations import Durations


@pytest.mark.parametrize(("seconds", "text"), [(1, "PT1S"), (0, "PT0S"), (725, "PT12M5S"), (3600, "PT1H"),
                                               (93600, "P1DT2H"), (86400, "P1D")])
def test_lag_and_elapsed_times_are_iso_8601_durations(seconds, text):
    """lagDuration and elapsedReplicationDuration are ISO8601DurationString in the API."""
    assert duration(seconds) == text


def test_the_default_policy_is_accepted_and_filled_in():
    """No pitPolicy: the documented default; given one, each rule keeps its id and is enabled."""
    assert check_pit_policy(None) == [dict(rule) for rule in DEFAULT_PIT_POLICY]
    given = [{"units": "DAY", "interval": 1, "retentionDuration": 30}, {"units": "HOUR", "interval": 1,
             "retentionDuration": 24}, {"units": "MINUTE", "interval": 10, "retentionDuration": 60}]
    checked = check_pit_policy(given)
    assert [rule["units"] for rule in checked] == ["MINUTE", "HOUR", "DAY"] and checked[2]["retentionDuration"] == 30


@pytest.mark.parametrize("rules", [
    [{"units": "MINUTE", "interval": 10, "retentionDuration": 60}],
    [{"units": "MINUTE", "interval": 5, "retentionDuration": 60}, {"units": "HOUR", "interval": 1,
      "retentionDuration": 24}, {"units": "DAY", "interval": 1, "retentionDuration": 7}],
    [{"units": "MINUTE", "interval": 10, "retentionDuration": 60}, {"units": "HOUR", "interval": 1,
      "retentionDuration": 24}, {"units": "DAY", "interval": 1, "retentionDuration": 0}],
])
def test_a_policy_other_than_the_documented_one_is_a_field_validation_failure(rules):
    """Exactly three rules; only the DAY retention (1-365) may change (point-in-time.html)."""
    with pytest.raises(AwsError) as raised:
        check_pit_policy(rules)
    assert raised.value.code == "ValidationException"
    assert raised.value.members["reason"] == "fieldValidationFailed"
    assert raised.value.members["fieldList"][0]["name"] == "pitPolicy"


def test_snapshots_are_kept_every_ten_minutes_for_an_hour_then_hourly_for_a_day():
    """'1 PIT Snapshot per 10 minutes for the prior 1 hour; 1 per 1 hour for the prior 24 hours; 1 per 1 day
    for the prior 7 days' (point-in-time-faq.html)."""
    midnight = 1_800_000_000 - 1_800_000_000 % 86400
    now = midnight + 30 * 3600

    def kept(expected: float) -> bool:
        snapshot = RecoverySnapshot("pit-0", "s-0", expected, expected, expected, [])
        return any(_rule_keeps(rule, snapshot, now) for rule in DEFAULT_PIT_POLICY)

    assert kept(now - 1200)  # ten-minute one within the hour
    assert not kept(now - 4200)  # ten-minute one older than an hour, not on the hour
    assert kept(now - 7200) and not kept(now - 25 * 3600)  # hourly for 24 hours
    assert kept(midnight) and kept(midnight - 3 * 86400) and not kept(midnight - 8 * 86400)  # daily for 7 days


def test_a_bandwidth_throttle_below_the_sync_rate_slows_the_initial_sync():
    """bandwidthThrottling is Mbps; 0 means no limit ('bandwidth must exceed the combined write throughput',
    comm-bandwidth-planning.html)."""
    model = Durations()
    free, throttled = model.drs_initial_sync(8), model.drs_initial_sync(8, throttle_mbps=10)
    assert throttled > 5 * free
    assert model.drs_initial_sync(8, throttle_mbps=10_000) == free
    assert Durations({"scale": 0.5}).drs("launch") == model.drs("launch") / 2
    assert Durations({"scale": 0.5}).drs("rpo") == model.drs("rpo")  # a lag, not a wait: never scaled
