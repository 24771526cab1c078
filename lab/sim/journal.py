"""A journal of timed changes, as the engines that replay history keep them: (sim time, what, value) entries,
in the order they were made, held in three columns.

A month of orders journals 100,000 item writes (DynamoDB) and 50,000 rows (RDS); as tuples, every entry held
a tuple and a float object besides what it records (80 bytes more each). Here the times are one array of
doubles. It reads like the list of tuples it replaces: append, extend, len, iteration, indexing and slices
give (time, what, value) tuples.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Iterator
from typing import Any


class Journal:
    __slots__ = ("times", "values", "whats")

    def __init__(self, entries: Iterable[tuple[float, Any, Any]] = ()) -> None:
        self.times = array("d")
        self.whats: list[Any] = []
        self.values: list[Any] = []
        self.extend(entries)

    def append(self, entry: tuple[float, Any, Any]) -> None:
        when, what, value = entry
        self.times.append(when)
        self.whats.append(what)
        self.values.append(value)

    def extend(self, entries: Iterable[tuple[float, Any, Any]]) -> None:
        for entry in entries:
            self.append(entry)

    def __len__(self) -> int:
        return len(self.whats)

    def __iter__(self) -> Iterator[tuple[float, Any, Any]]:
        return zip(self.times, self.whats, self.values, strict=True)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(zip(self.times[index], self.whats[index], self.values[index], strict=True))
        return self.times[index], self.whats[index], self.values[index]

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, (Journal, list)) else NotImplemented

    __hash__ = None  # (a list of entries: not hashable)

    def position_at(self, when: float) -> int:
        """How many entries were made at or before sim time `when`."""
        return bisect.bisect_right(self.times, when)


def as_journal(state: dict[str, Any], name: str = "journal") -> dict[str, Any]:
    """A saved object's state with its journal as a Journal (states saved before it had columns hold a list)."""
    if isinstance(state.get(name), list):
        return {**state, name: Journal(state[name])}
    return state
