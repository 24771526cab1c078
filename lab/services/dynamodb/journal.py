"""DynamoDB item histories: an append-only journal of item changes per table, replayed on demand.

A table's content at any moment is its origin (a position in another table's history -- a point-in-time
restore or a backup -- or nothing) plus the changes journaled since, each stamped with its sim time. A
point in time is therefore a position (`ItemRef`), found by bisection and cheap to keep; only a restore
replays the journal into items. Items and keys are stored as canonical JSON bytes: compact to keep and
to pickle, and equal exactly when the DynamoDB values are.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

Entry = tuple[float, bytes, "bytes | None"]  # (sim time, key, item; None for a delete)


@dataclass(frozen=True)
class ItemRef:
    """The content of `history` after its first `position` changes."""

    history: str
    position: int


class Journal:
    """A history's entries, in the order journaled: a list of (sim time, key, item) in three columns. A month
    of orders journals 100,000 item writes; as tuples, each held a tuple and a float besides its key and item
    (80 bytes more per entry)."""

    __slots__ = ("items", "keys", "times")

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self.times = array("d")
        self.keys: list[bytes] = []
        self.items: list[bytes | None] = []
        self.extend(entries)

    def append(self, entry: Entry) -> None:
        when, key, item = entry
        self.times.append(when)
        self.keys.append(key)
        self.items.append(item)

    def extend(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            self.append(entry)

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[Entry]:
        return zip(self.times, self.keys, self.items, strict=True)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(zip(self.times[index], self.keys[index], self.items[index], strict=True))
        return self.times[index], self.keys[index], self.items[index]

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, (Journal, list)) else NotImplemented

    __hash__ = None  # type: ignore[assignment] -- (a list of entries: not hashable)

    def position_at(self, when: float) -> int:
        """How many entries were journaled at or before sim time `when`."""
        return bisect.bisect_right(self.times, when)


@dataclass
class ItemHistory:
    id: str
    origin: ItemRef | None
    created_at: float
    journal: Journal = field(default_factory=Journal)

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("journal"), list):  # (saved before the journal had columns)
            state = {**state, "journal": Journal(state["journal"])}
        self.__dict__.update(state)

    def position_at(self, when: float) -> int:
        return self.journal.position_at(when)

    def ref_at(self, when: float) -> ItemRef:
        return ItemRef(self.id, self.position_at(when))

    def latest(self) -> ItemRef:
        return ItemRef(self.id, len(self.journal))


def encode_item(item: dict[str, Any]) -> bytes:
    return _compact(orjson.dumps(item, option=orjson.OPT_SORT_KEYS))


def decode_item(data: bytes) -> dict[str, Any]:
    return orjson.loads(data)


def item_key(item: dict[str, Any], key_attributes: tuple[str, ...]) -> bytes:
    """The item's primary key as bytes; KeyError names a key attribute the item lacks."""
    return _compact(orjson.dumps([item[name] for name in key_attributes], option=orjson.OPT_SORT_KEYS))


def _compact(encoded: bytes) -> bytes:
    """A copy of exactly its size: orjson's small results keep a 4 KB allocation each, and the journal keeps
    two per item write (a 35-day advance at one order a minute held 400 MB of them)."""
    return memoryview(encoded).tobytes()


def key_of(item: dict[str, Any], key_attributes: tuple[str, ...]) -> dict[str, Any]:
    return {name: item[name] for name in key_attributes}


def materialize(histories: dict[str, ItemHistory], ref: ItemRef) -> dict[bytes, bytes]:
    """key -> item bytes: exactly the items present at `ref`."""
    chain: list[tuple[ItemHistory, int]] = []
    current: ItemRef | None = ref
    while current is not None:
        history = histories[current.history]
        chain.append((history, current.position))
        current = history.origin
        if len(chain) > 10_000:
            raise RuntimeError(f"origin chain of {ref} does not end")
    items: dict[bytes, bytes] = {}
    for history, position in reversed(chain):
        for _, key, value in history.journal[:position]:
            if value is None:
                items.pop(key, None)
            else:
                items[key] = value
    return items
