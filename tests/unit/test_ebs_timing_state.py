"""The EBS engine's timing state as saved worlds hold it: an instance's state change is one record, and a world
saved when the changes were kept by kind (a dict of end times each) loads with the same changes."""

from __future__ import annotations

import pickle

from lab.services.ebs.timing import InstanceChange, Timing


def saved_by_kind(**by_kind: object) -> Timing:
    state = {name: value for name, value in Timing().__dict__.items() if name != "instances"}
    state.update(by_kind)
    loaded = Timing.__new__(Timing)
    loaded.__setstate__(state)
    return loaded


def test_changes_kept_by_kind_load_as_one_record_per_instance():
    """A launch, a start, a stop and a termination saved by kind keep their state, their end and whether the
    instance has ever run."""
    loaded = saved_by_kind(launches={"us-east-1/i-a": 10.0, "us-east-1/i-b": 11.0}, first_launches={"us-east-1/i-a"},
                           stops={"us-east-1/i-c": 12.0}, shutdowns={"us-east-1/i-d": 13.0})
    assert loaded.instances == {"us-east-1/i-a": InstanceChange("pending", 10.0, first=True),
                                "us-east-1/i-b": InstanceChange("pending", 11.0),
                                "us-east-1/i-c": InstanceChange("stopping", 12.0),
                                "us-east-1/i-d": InstanceChange("shutting-down", 13.0)}
    assert not any(hasattr(loaded, name) for name in ("launches", "stops", "shutdowns", "first_launches"))
    assert pickle.loads(pickle.dumps(loaded)).instances == loaded.instances


def test_launches_saved_before_starts_were_timed_are_restores_launched_for_the_first_time():
    """Before StartInstances was timed the only launches kept were AWS Backup's restores: first launches."""
    assert saved_by_kind(launches={"us-west-2/i-r": 5.0}).instances == {
        "us-west-2/i-r": InstanceChange("pending", 5.0, first=True)}
    assert saved_by_kind().instances == {}
