"""The duration model: sizes move durations the way AWS documents, overrides and scale apply, bad values are
refused by name, and docs/durations.md is the model's own table."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.sim.durations import PARAMETERS, Durations, markdown_table, progress, validate

DOCS = Path(__file__).resolve().parents[2] / "docs" / "durations.md"


def test_cross_region_copies_are_slower_than_copies_within_a_region():
    model = Durations()
    queue, creating = model.rds_copy(20, cross_region=True)
    assert queue > 0 and creating > model.rds_copy(20, cross_region=False)[1]
    assert model.ebs_copy(20, cross_region=True) > model.ebs_copy(20, cross_region=False)


def test_a_first_full_snapshot_takes_longer_than_a_later_incremental_one():
    model = Durations()
    assert model.rds_snapshot(20) > model.rds_snapshot(0.1) >= model["rds.snapshot.base"]
    assert model.ebs_snapshot(100) > model.ebs_snapshot(1)


def test_point_in_time_restore_replays_the_log_after_the_snapshot():
    model = Durations()
    just_after = model.rds_restore(20, log_seconds=60)
    a_day_later = model.rds_restore(20, log_seconds=86_400)
    assert model.rds_restore(20) < just_after < a_day_later
    assert a_day_later - just_after == pytest.approx(0.05 * (86_400 - 60))


def test_multi_az_failover_is_in_the_documented_60_to_120_seconds():
    assert 60 <= Durations().rds_reboot(20, failover=True) <= 120


def test_dynamodb_restores_of_small_tables_take_minutes_and_grow_with_partitions():
    model = Durations()
    small = model.dynamodb_restore(0.01)
    assert 5 * 60 < small < 60 * 60
    assert model.dynamodb_restore(100) > model.dynamodb_restore(10) > small


def test_overrides_and_scale_apply_to_every_formula():
    fast = Durations({"scale": 0.1, "rds.failover": 120})
    assert fast["rds.failover"] == 120
    assert fast.rds_reboot(20, failover=True) == pytest.approx(12)
    assert fast.dynamodb_backup(0) == pytest.approx(Durations().dynamodb_backup(0) * 0.1)


def test_data_scale_multiplies_the_sizes_the_formulas_read_not_the_fixed_times():
    """A shop `data.scale` times the world's sample: size-bound times grow as AWS documents, the rest do not."""
    sample, shop = Durations(), Durations({"data.scale": 50})
    assert shop.rds_restore(20) == pytest.approx(sample.rds_restore(1000))
    assert shop.rds_snapshot(0.5) == pytest.approx(sample.rds_snapshot(25))
    assert shop.rds_copy(2, cross_region=True) == pytest.approx(sample.rds_copy(100, cross_region=True))
    assert shop.dynamodb_restore(1, indexes=1) == pytest.approx(sample.dynamodb_restore(50, indexes=1))
    assert shop.ebs_snapshot(4) == pytest.approx(sample.ebs_snapshot(200))
    assert shop.drs_initial_sync(8) == pytest.approx(sample.drs_initial_sync(400))
    assert shop.backup_s3(1) == pytest.approx(sample.backup_s3(50))
    # what does not depend on the data's size stays
    assert shop.rds_promote() == sample.rds_promote() and shop.ec2_launch() == sample.ec2_launch()
    assert shop.drs("launch") == sample.drs("launch") and shop.rds_reboot(0, failover=True) == 90
    assert shop.ebs_written_gib(10) == sample.ebs_written_gib(10)  # data written, not a duration
    with pytest.raises(ValueError, match=r"data\.scale.*positive"):
        validate("data.scale", 0)


@pytest.mark.parametrize(("name", "value", "says"), [
    ("scale", 0, "positive"), ("rds.failover", -1, "zero or more"), ("rds.snapshot.rate", "fast", "number"),
    ("rds.failover", float("nan"), "number"),
])
def test_values_the_model_cannot_use_are_refused_naming_the_parameter(name, value, says):
    with pytest.raises(ValueError, match=f"{name}.*{says}"):
        validate(name, value)


def test_an_unknown_parameter_is_named():
    with pytest.raises(KeyError, match=r"no-such\.thing"):
        Durations({"no-such.thing": 1})


def test_progress_is_an_integer_percent_that_only_grows():
    seen = [progress(100, 200, now) for now in (50, 100, 133, 199.9, 200, 300)]
    assert seen == [0, 0, 33, 99, 100, 100]


def test_every_parameter_has_a_unit_a_meaning_and_a_source():
    names = [item.name for item in PARAMETERS]
    assert len(names) == len(set(names))
    assert all(item.unit and item.meaning and item.source for item in PARAMETERS)


def test_docs_durations_is_the_models_table():
    assert markdown_table() in DOCS.read_text(), "regenerate the table: lab durations --markdown"
