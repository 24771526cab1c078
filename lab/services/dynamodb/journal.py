"""DynamoDB item histories: an append-only journal of item changes per table, replayed on demand.

A table's content at any moment is its origin (a position in another table's history -- a point-in-time
restore or a backup -- or nothing) plus the changes journaled since, each stamped with its sim time. A
point in time is therefore a position (`ItemRef`), found by bisection and cheap to keep; only a restore
replays the journal into items. Items and keys are stored as canonical JSON bytes: compact to keep and
to pickle, and equal exactly when the DynamoDB values are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from lab.sim.journal import Journal, as_journal

Entry = tuple[float, bytes, "bytes | None"]  # (sim time, key, item; None for a delete)


@dataclass(frozen=True)
class ItemRef:
    """The content of `history` after its first `position` changes."""

    history: str
    position: int


@dataclass
class ItemHistory:
    id: str
    origin: ItemRef | None
    created_at: float
    journal: Journal = field(default_factory=Journal)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(as_journal(state))

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


class ItemSizes:
    """(bytes, items) of the items at a ref, kept up to date per history instead of replayed each time.

    AWS Backup asks a table's size for every backup it takes of it (its duration and its recovery point's
    size): replaying the journal for each was a walk over every item ever written, hourly, so a month-old
    table's backup held the sandbox for a long time. Each history's sizes are kept at the last position asked
    and moved forward over the entries journaled since; a position behind it, a history replaced (a reset,
    a restore) or an origin changed is replayed from scratch. Not part of the state (rebuilt on demand)."""

    def __init__(self) -> None:
        self._cursors: dict[str, _SizeCursor] = {}

    def at(self, histories: dict[str, ItemHistory], ref: ItemRef) -> tuple[int, int]:
        history = histories[ref.history]
        cursor = self._cursors.get(ref.history)
        if (cursor is None or cursor.history is not history or cursor.origin != history.origin
                or ref.position < cursor.position):
            if cursor is not None and cursor.history is history and ref.position < cursor.position:
                items = materialize(histories, ref)  # (an older moment: the cursor stays where it is)
                return sum(len(value) for value in items.values()), len(items)
            cursor = self._cursors[ref.history] = _SizeCursor(history, histories, ref)
        else:
            cursor.advance(ref.position)
        return cursor.total, len(cursor.sizes)

    def clear(self) -> None:
        self._cursors.clear()


class _SizeCursor:
    def __init__(self, history: ItemHistory, histories: dict[str, ItemHistory], ref: ItemRef) -> None:
        self.history, self.origin, self.position = history, history.origin, ref.position
        self.sizes = {key: len(value) for key, value in materialize(histories, ref).items()}
        self.total = sum(self.sizes.values())

    def advance(self, position: int) -> None:
        journal, sizes = self.history.journal, self.sizes
        total = self.total
        for key, value in zip(journal.whats[self.position:position], journal.values[self.position:position],
                              strict=True):
            total -= sizes.pop(key, 0)
            if value is not None:
                sizes[key] = len(value)
                total += len(value)
        self.total, self.position = total, position
