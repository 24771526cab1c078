"""The sandbox server's heap: what lives on joins the frozen heap, young garbage does not (no server)."""

from __future__ import annotations

import gc
import weakref

from lab.sandbox.server import settle_survivors


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_survivors_are_frozen_and_young_cyclic_garbage_is_collected_first() -> None:
    was_frozen = gc.get_freeze_count()
    try:
        alive = _Node()
        garbage_a, garbage_b = _Node(), _Node()
        garbage_a.other, garbage_b.other = garbage_b, garbage_a  # a cycle: only the collector frees it
        gone = weakref.ref(garbage_a)
        del garbage_a, garbage_b
        settle_survivors()
        assert gone() is None  # collected, not frozen
        assert gc.get_freeze_count() > was_frozen
        assert not any(found is alive for generation in range(3) for found in gc.get_objects(generation))
    finally:
        gc.unfreeze()  # (the test process's heap as it was: nothing of it stays out of the scans)
