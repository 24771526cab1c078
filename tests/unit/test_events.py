"""The event log: ordered across kinds, filterable, bounded per kind."""

from __future__ import annotations

import lab.sim.events as events_module
from lab.sim.events import EventLog


def test_query_merges_kinds_in_order_and_filters(monkeypatch):
    log = EventLog()
    log.emit(1.0, "api", "gateway", "PutObject", region="us-east-1")
    log.emit(2.0, "engine", "s3", "ReplicationCompleted", region="us-west-2")
    log.emit(3.0, "fault", "faults", "ScenarioStarted")
    assert [e.name for e in log.query()] == ["PutObject", "ReplicationCompleted", "ScenarioStarted"]
    assert [e.name for e in log.query(kinds=["api", "fault"])] == ["PutObject", "ScenarioStarted"]
    assert [e.seq for e in log.query(since_seq=1, region="us-west-2")] == [2]
    assert [e.name for e in log.query(start=2.5)] == ["ScenarioStarted"]
    assert [e.name for e in log.query(limit=1)] == ["ScenarioStarted"]


def test_a_flood_of_one_kind_keeps_the_others(monkeypatch):
    monkeypatch.setattr(events_module, "MAX_EVENTS_PER_KIND", 5)
    log = EventLog()
    log.emit(0.0, "fault", "faults", "ScenarioStarted")
    for n in range(100):
        log.emit(float(n), "engine", "s3", "ReplicationCompleted")
    kinds = [e.kind for e in log.query()]
    assert kinds.count("engine") == 5 and kinds.count("fault") == 1 and len(log) == 6
    assert log.last_seq == 101


def test_events_saved_before_they_had_slots_still_load():
    import pickle

    from lab.sim.events import Event

    event = Event(3, 4.0, "engine", "s3", "ReplicationCompleted", "us-west-2", "s3://b/k", {"lag_seconds": 61.0})
    assert pickle.loads(pickle.dumps(event)) == event
    older = Event.__new__(Event)
    older.__setstate__({"seq": 3, "time": 4.0, "kind": "engine", "source": "s3", "name": "ReplicationCompleted",
                        "region": "us-west-2", "resource": "s3://b/k", "detail": {"lag_seconds": 61.0}})
    assert older == event
