"""What every model of the inventory is made of, and the compact sets that keep its data digests small.

Models are msgspec Structs: typed, validated when decoded from JSON, encoded in C, and plain to read
(`bucket.versioning`). Times are ISO 8601 UTC strings of sim time to the second ("2026-03-01T12:00:00Z"), as
AWS shows them; maps are keyed by name or id and sorted.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec


class Model(msgspec.Struct, kw_only=True):
    """The base of every inventory model."""


ORDER_ID = re.compile(r"ORD-(\d{6,})\Z")


class IdSet(Model):
    """A set of order ids, compact whatever the world's age: runs of consecutive numbered ids ("ORD-000001" ..
    "ORD-050448" is one run) and, apart, any id not of that form. A month of orders is one run, not 50,000 ids.

    `runs` are [first, last] numbers (inclusive, sorted, disjoint, not adjacent); `others` sorted ids."""

    runs: list[tuple[int, int]] = msgspec.field(default_factory=list)
    others: list[str] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, ids: Iterable[str]) -> IdSet:
        numbers: list[int] = []
        others: list[str] = []
        for order_id in ids:
            digits = order_id[4:]
            if len(order_id) == 10 and order_id.startswith("ORD-") and digits.isascii() and digits.isdigit():
                numbers.append(int(digits))  # (order_number's common case, inline: a table holds 50,000 a month)
                continue
            number = order_number(order_id)
            if number is None:
                others.append(order_id)
            else:
                numbers.append(number)
        return cls.of_numbers(numbers, others)

    @classmethod
    def of_numbers(cls, numbers: Iterable[int], others: Iterable[str] = ()) -> IdSet:
        """From the numbers of numbered ids (ORD-000042 is 42) and, apart, any other ids."""
        return cls(runs=runs_of(numbers), others=sorted(set(others)))

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in self.runs) + len(self.others)

    def __contains__(self, order_id: object) -> bool:
        if not isinstance(order_id, str):
            return False
        number = order_number(order_id)
        if number is None:
            return order_id in self.others
        at = bisect.bisect_right(self.runs, (number, float("inf"))) - 1
        return at >= 0 and self.runs[at][0] <= number <= self.runs[at][1]

    def __iter__(self) -> Iterator[str]:
        for first, last in self.runs:
            for number in range(first, last + 1):
                yield number_id(number)
        yield from self.others

    def ids(self) -> list[str]:
        return list(self)

    def difference(self, other: IdSet | None) -> IdSet:
        """The ids of this set that `other` lacks (run by run: the cost does not grow with the runs' length)."""
        if other is None or not (other.runs or other.others):
            return IdSet(runs=list(self.runs), others=list(self.others))
        left: list[tuple[int, int]] = []
        taken = other.runs
        at = 0
        for first, last in self.runs:
            while at < len(taken) and taken[at][1] < first:
                at += 1
            probe, start = at, first
            while probe < len(taken) and taken[probe][0] <= last and start <= last:
                cut_first, cut_last = taken[probe]
                if cut_first > start:
                    left.append((start, cut_first - 1))
                start = max(start, cut_last + 1)
                probe += 1
            if start <= last:
                left.append((start, last))
        others = set(other.others)
        return IdSet(runs=left, others=[order_id for order_id in self.others if order_id not in others])


def number_id(number: int) -> str:
    return f"ORD-{number:06d}"


def order_number(order_id: str) -> int | None:
    """42 for "ORD-000042"; None for an id not of that exact form (it is kept as it is)."""
    digits = order_id[4:]
    # (the common case, fast; isdigit alone also takes digits int() refuses, such as "\u00b2")
    if len(order_id) == 10 and order_id.startswith("ORD-") and digits.isascii() and digits.isdigit():
        return int(digits)
    found = ORDER_ID.match(order_id)
    if found is None or order_id != number_id(int(found.group(1))):
        return None
    return int(found.group(1))


def runs_of(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """[first, last] runs of consecutive numbers (any order, repeats allowed)."""
    ordered = sorted(set(numbers))
    runs: list[tuple[int, int]] = []
    if not ordered:
        return runs
    first = previous = ordered[0]
    for number in ordered:  # (a run's tuple is made once, at its end: a month of orders is one run)
        if number - previous > 1:
            runs.append((first, previous))
            first = number
        previous = number
    runs.append((first, previous))
    return runs


def to_builtins(value: Any) -> Any:
    """A model (or a structure holding models) as plain JSON-shaped values."""
    return msgspec.to_builtins(value)
