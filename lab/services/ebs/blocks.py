"""What an EBS volume holds, block by block, as far as snapshots and the EBS direct APIs can tell.

The lab has no disk behind a volume: it models the backend's writes as a log that runs through the volume's
blocks in order and wraps around at its end (a shop backend appends logs and uploads). A volume's content is
then one number, its `cursor`: how many block writes it has taken since it was made. Block `b` of an
n-block volume at cursor X was last written at write number `X - 1 - ((X - 1 - b) mod n)` (none if that is
negative), so
  - the data a snapshot holds in full (U) is min(X, n) blocks, and the data changed between two snapshots of
    the same lineage at cursors X1 <= X2 (C) is min(X2 - X1, n) blocks;
  - ListChangedBlocks names exactly the blocks whose last write differs between the two snapshots.

A *lineage* is a volume's history: a new empty volume starts one; a volume created from a snapshot of the
same size continues the snapshot's lineage in a branch (its content up to the branch point is the snapshot's,
its own writes come after), so snapshots of the original and of the restored volume compare ("snapshots of
the same volume and snapshot lineage", EBS User Guide: Use EBS direct APIs to access the contents of an EBS
snapshot, readsnapshots.html). Block tokens name (lineage that wrote the block, block, write number): equal
tokens mean the same data.

Block size 512 KiB (the EBS direct APIs' BlockSize, 524288 bytes), 2048 blocks per GiB.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

BLOCK_BYTES = 524288
BLOCKS_PER_GIB = 2048


@dataclass(frozen=True)
class Lineage:
    id: str
    blocks: int  # n, the volume's size in blocks
    start: int  # the cursor this lineage begins at (its parent's at the branch point; 0 for a new volume)
    parent: str | None = None  # the lineage it branched from (same size), None for a root


@dataclass(frozen=True)
class Content:
    """A volume's or snapshot's content: a lineage and a cursor in it."""

    lineage: str
    cursor: int


def blocks_of(size_gib: int) -> int:
    return max(1, int(size_gib)) * BLOCKS_PER_GIB


def gib(blocks: int) -> float:
    return blocks / BLOCKS_PER_GIB


def last_write(blocks: int, cursor: int, index: int) -> int:
    """The write number that last wrote block `index` of a `blocks`-block volume at `cursor`; -1: never."""
    if cursor <= 0:
        return -1
    found = cursor - 1 - ((cursor - 1 - index) % blocks)
    return found if found >= 0 else -1


def written(blocks: int, cursor: int) -> int:
    """How many blocks hold data at `cursor` (U, in blocks)."""
    return min(max(cursor, 0), blocks)


class Lineages:
    """The lineages of one sandbox (a dict kept in the EBS engine's state), and the questions asked of them."""

    def __init__(self, known: dict[str, Lineage]) -> None:
        self.known = known

    def chain(self, lineage_id: str) -> list[Lineage]:
        """The lineage and its ancestors, nearest first."""
        found: list[Lineage] = []
        current: str | None = lineage_id
        while current is not None:
            lineage = self.known[current]
            found.append(lineage)
            current = lineage.parent
        return found

    def writer(self, lineage_id: str, write: int) -> str:
        """The lineage whose write number `write` is (a branch's early writes are its ancestors')."""
        for lineage in self.chain(lineage_id):
            if write >= lineage.start or lineage.parent is None:
                return lineage.id
        raise AssertionError("unreachable: a root takes every write")

    def token(self, content: Content, index: int) -> str | None:
        """The block token of block `index` in `content`; None when the block holds no data."""
        blocks = self.known[content.lineage].blocks
        write = last_write(blocks, content.cursor, index)
        if write < 0:
            return None
        digest = hashlib.sha256(f"{self.writer(content.lineage, write)}:{index}:{write}".encode()).digest()
        return base64.b64encode(digest[:24]).decode()

    def common_point(self, first: Content, second: Content) -> int | None:
        """The cursor up to which the two contents are the same writes (None: unrelated lineages)."""
        first_chain = self._cursors(first)
        second_chain = self._cursors(second)
        for lineage_id, cursor in first_chain.items():
            if lineage_id in second_chain:
                return min(cursor, second_chain[lineage_id])
        return None

    def _cursors(self, content: Content) -> dict[str, int]:
        """Each lineage of the content's chain -> how far the content follows it, nearest first."""
        found: dict[str, int] = {}
        cursor = content.cursor
        for lineage in self.chain(content.lineage):
            found[lineage.id] = cursor
            cursor = lineage.start
        return found

    def changed(self, first: Content | None, second: Content, starting: int = 0
                ) -> Iterator[tuple[int, str | None, str | None]]:
        """(block index, first token, second token) of every block from `starting` on whose data differs between
        `first` and `second` (every block holding data in `second` when `first` is None), in index order.
        ValueError: the two are not of one lineage."""
        blocks = self.known[second.lineage].blocks
        if first is None:
            ranges = [_span(0, second.cursor, blocks)]
        else:
            point = self.common_point(first, second)
            if point is None or self.known[first.lineage].blocks != blocks:
                raise ValueError("unrelated")
            ranges = [_span(point, first.cursor, blocks), _span(point, second.cursor, blocks)]
        for index in _indexes(ranges, blocks, starting):
            first_token = self.token(first, index) if first is not None else None
            second_token = self.token(second, index)
            if first_token != second_token:
                yield index, first_token, second_token

    def changed_count(self, first: Content | None, second: Content) -> int:
        """How many blocks differ (C, in blocks; U when `first` is None). Exact for contents of one path."""
        blocks = self.known[second.lineage].blocks
        if first is None:
            return written(blocks, second.cursor)
        point = self.common_point(first, second)
        if point is None:
            return written(blocks, second.cursor)
        return min(blocks, max(first.cursor - point, 0) + max(second.cursor - point, 0))


def _span(start: int, end: int, blocks: int) -> list[tuple[int, int]]:
    """The block positions written by write numbers start..end-1: at most two [low, high) ranges."""
    count = end - start
    if count <= 0:
        return []
    if count >= blocks:
        return [(0, blocks)]
    low = start % blocks
    high = low + count
    if high <= blocks:
        return [(low, high)]
    return [(low, blocks), (0, high - blocks)]


def _indexes(spans: list[list[tuple[int, int]]], blocks: int, starting: int) -> Iterator[int]:
    ranges = sorted((low, high) for span in spans for low, high in span)
    merged: list[tuple[int, int]] = []
    for low, high in ranges:
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    for low, high in merged:
        yield from range(max(low, starting), min(high, blocks))
