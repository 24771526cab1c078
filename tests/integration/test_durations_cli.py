"""`lab durations`: the sandbox's duration model shown, tuned and reset as a learner or instructor does."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def values(result) -> dict[str, float]:
    return {row["name"]: row["value"] for row in json.loads(result.stdout)["parameters"]}


def test_durations_are_shown_tuned_saved_and_reset(fresh_sandbox):
    fresh_sandbox.up()
    shown = values(fresh_sandbox.lab("durations", "--json"))
    assert shown["rds.failover"] == 90 and shown["scale"] == 1
    tuned = values(fresh_sandbox.lab("durations", "set", "scale=0.1", "rds.failover=120", "--json"))
    assert tuned["scale"] == 0.1 and tuned["rds.failover"] == 120
    fresh_sandbox.down()
    fresh_sandbox.up()  # saved with the sandbox's state
    assert values(fresh_sandbox.lab("durations", "--json"))["rds.failover"] == 120
    table = fresh_sandbox.lab("durations").stdout
    assert "rds.failover" in table and "120" in table
    back = values(fresh_sandbox.lab("durations", "reset", "rds.failover", "--json"))
    assert back["rds.failover"] == 90 and back["scale"] == 0.1
    assert values(fresh_sandbox.lab("durations", "reset", "--json"))["scale"] == 1


def test_a_value_the_model_cannot_use_is_refused_by_name(sandbox):
    refused = sandbox.lab("durations", "set", "scale=0", check=False)
    assert refused.returncode != 0 and "scale" in refused.stderr and "positive" in refused.stderr
    unknown = sandbox.lab("durations", "set", "rds.warp=1", check=False)
    assert unknown.returncode != 0 and "rds.warp" in unknown.stderr
    typo = sandbox.lab("durations", "set", "scale", check=False)
    assert typo.returncode == 2 and "NAME=VALUE" in typo.stderr
    assert values(sandbox.lab("durations", "--json"))["scale"] == 1  # nothing changed
