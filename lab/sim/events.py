"""The event log: what the engines did (replication, backups, failovers, faults), in sim time.

API calls are recorded by the audit layer in the same log under kind "api". Kept in the lab state, so it
survives restarts; bounded per kind and source, so a long-running lab does not grow without end and a flood
from one source (S3 replication's event per object) never pushes out the others (the API calls, the faults,
AWS Backup's jobs).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from operator import attrgetter
from typing import Any

MAX_EVENTS_PER_STREAM = 50_000  # per kind and source


@dataclass(slots=True)  # (slots: a long advance keeps 50,000 per stream, at a quarter the memory)
class Event:
    """One thing that happened. Treated as immutable: nothing changes an event once emitted."""

    seq: int
    time: float  # sim time, epoch seconds
    kind: str  # "api" | "engine" | "fault" | "drill" | "workload" | "lab"
    source: str  # e.g. "s3-replication", "backup", "workload"
    name: str  # e.g. "ReplicationCompleted", "BackupJobCompleted"
    region: str | None = None
    resource: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __getstate__(self) -> tuple[Any, ...]:
        return _field_values(self)

    def __setstate__(self, state: Any) -> None:
        # A state saved before events had slots is their __dict__; since, the fields' values in order.
        values = [state.get(name) for name in _FIELD_NAMES] if isinstance(state, dict) else state
        for name, value in zip(_FIELD_NAMES, values, strict=True):
            object.__setattr__(self, name, value)


_FIELD_NAMES = tuple(each.name for each in fields(Event))
_field_values = attrgetter(*_FIELD_NAMES)  # (snapshots pickle every event kept)


class EventLog:
    def __init__(self) -> None:
        self._streams: dict[tuple[str, str], deque[Event]] = {}  # (kind, source) -> its events in seq order
        self._seq = 0

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A log saved before it was bounded per source kept one stream per kind.
        if "_by_kind" in state:
            streams: dict[tuple[str, str], deque[Event]] = {}
            for events in state.pop("_by_kind").values():
                for event in events:
                    streams.setdefault((event.kind, event.source), deque(maxlen=MAX_EVENTS_PER_STREAM)).append(event)
            state["_streams"] = streams
        self.__dict__.update(state)

    def emit(self, time: float, kind: str, source: str, name: str, *, region: str | None = None,
             resource: str | None = None, **detail: Any) -> Event:
        return self.add(time, kind, source, name, region, resource, detail)

    def add(self, time: float, kind: str, source: str, name: str, region: str | None, resource: str | None,
            detail: dict[str, Any]) -> Event:
        """emit, with the detail as a dict (the engines' bulk work: one dict less per event)."""
        self._seq += 1
        event = Event(self._seq, time, kind, source, name, region, resource, detail)
        events = self._streams.get((kind, source))
        if events is None:
            events = self._streams[(kind, source)] = deque(maxlen=MAX_EVENTS_PER_STREAM)
        events.append(event)
        return event

    def query(self, *, since_seq: int = 0, kinds: Iterable[str] | None = None, source: str | None = None,
              region: str | None = None, start: float | None = None, end: float | None = None,
              limit: int | None = None) -> list[Event]:
        wanted = set(kinds) if kinds else None
        streams = [events for (kind, of), events in self._streams.items()
                   if (wanted is None or kind in wanted) and (source is None or of == source)]
        found = [
            event for event in heapq.merge(*streams, key=lambda e: e.seq)  # each stream is in seq order
            if event.seq > since_seq
            and (source is None or event.source == source)
            and (region is None or event.region == region)
            and (start is None or event.time >= start)
            and (end is None or event.time <= end)
        ]
        return found[-limit:] if limit else found

    @property
    def last_seq(self) -> int:
        return self._seq

    def __len__(self) -> int:
        return sum(len(events) for events in self._streams.values())
