"""The event log: ordered across kinds, filterable, bounded per kind and source."""

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


def test_a_flood_from_one_source_keeps_the_others(monkeypatch):
    monkeypatch.setattr(events_module, "MAX_EVENTS_PER_STREAM", 5)
    log = EventLog()
    log.emit(0.0, "fault", "faults", "ScenarioStarted")
    log.emit(0.5, "engine", "backup", "BackupJobCompleted")
    for n in range(100):
        log.emit(float(n), "engine", "s3", "ReplicationCompleted")
    names = [e.name for e in log.query()]
    assert names.count("ReplicationCompleted") == 5 and len(log) == 7
    assert names[:2] == ["ScenarioStarted", "BackupJobCompleted"]  # a month of replication keeps them
    assert [e.name for e in log.query(kinds=["engine"], source="backup")] == ["BackupJobCompleted"]
    assert log.last_seq == 102


def test_a_log_saved_with_one_stream_per_kind_still_loads():
    import pickle
    from collections import deque

    older = EventLog()
    older.emit(1.0, "engine", "backup", "BackupJobCompleted")
    older.emit(2.0, "engine", "s3", "ReplicationCompleted")
    older.emit(3.0, "api", "gateway", "PutObject")
    state = dict(vars(older))
    by_kind: dict[str, deque] = {}
    for events in state.pop("_streams").values():
        for event in events:
            by_kind.setdefault(event.kind, deque()).append(event)
    restored = EventLog.__new__(EventLog)
    restored.__setstate__({**state, "_by_kind": by_kind})
    assert [e.name for e in restored.query()] == ["BackupJobCompleted", "ReplicationCompleted", "PutObject"]
    restored.emit(4.0, "engine", "s3", "ReplicationCompleted")
    assert restored.last_seq == 4 and len(pickle.loads(pickle.dumps(restored))) == 4


def test_events_saved_before_they_had_slots_still_load():
    import pickle

    from lab.sim.events import Event

    event = Event(3, 4.0, "engine", "s3", "ReplicationCompleted", "us-west-2", "s3://b/k", {"lag_seconds": 61.0})
    assert pickle.loads(pickle.dumps(event)) == event
    older = Event.__new__(Event)
    older.__setstate__({"seq": 3, "time": 4.0, "kind": "engine", "source": "s3", "name": "ReplicationCompleted",
                        "region": "us-west-2", "resource": "s3://b/k", "detail": {"lag_seconds": 61.0}})
    assert older == event
