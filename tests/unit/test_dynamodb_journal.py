"""DynamoDB item histories: positions in time, deletes, origins (no server)."""

from __future__ import annotations

import random

from lab.services.dynamodb.journal import (
    ItemHistory,
    ItemRef,
    ItemSizes,
    decode_item,
    encode_item,
    item_key,
    key_of,
    materialize,
)

KEYS = ("pk", "sk")


def item(pk: str, sk: int, value: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, "value": {"S": value}}


def put(history: ItemHistory, when: float, data: dict) -> None:
    history.journal.append((when, item_key(data, KEYS), encode_item(data)))


def delete(history: ItemHistory, when: float, data: dict) -> None:
    history.journal.append((when, item_key(data, KEYS), None))


def values(items: dict[bytes, bytes]) -> list[str]:
    return sorted(decode_item(v)["value"]["S"] for v in items.values())


def test_the_items_at_a_moment_include_changes_at_exactly_that_moment() -> None:
    history = ItemHistory("t", None, 0.0)
    put(history, 1.0, item("a", 1, "first"))
    put(history, 2.0, item("b", 1, "second"))
    put(history, 3.0, item("a", 1, "overwritten"))
    delete(history, 4.0, item("b", 1, ""))
    histories = {"t": history}
    assert values(materialize(histories, history.ref_at(0.5))) == []
    assert values(materialize(histories, history.ref_at(2.0))) == ["first", "second"]
    assert values(materialize(histories, history.ref_at(3.5))) == ["overwritten", "second"]
    assert values(materialize(histories, history.latest())) == ["overwritten"]


def test_a_restored_table_starts_from_its_origin() -> None:
    source = ItemHistory("s", None, 0.0)
    for n in range(5):
        put(source, float(n), item("p", n, f"v{n}"))
    restored = ItemHistory("r", source.ref_at(2.0), 10.0)
    delete(restored, 11.0, item("p", 0, ""))
    put(source, 12.0, item("p", 9, "later"))
    histories = {"s": source, "r": restored}
    assert values(materialize(histories, restored.ref_at(10.5))) == ["v0", "v1", "v2"]
    assert values(materialize(histories, restored.latest())) == ["v1", "v2"]
    assert materialize(histories, ItemRef("s", 0)) == {}


def replayed_size(histories: dict[str, ItemHistory], ref: ItemRef) -> tuple[int, int]:
    items = materialize(histories, ref)
    return sum(len(value) for value in items.values()), len(items)


def test_kept_sizes_equal_a_replay_at_every_ref_asked() -> None:
    """ItemSizes moves forward over new entries instead of replaying: its answers must be a replay's, for refs
    asked in order, out of order, after overwrites and deletes, from an origin, and for a replaced history."""
    rng = random.Random(7)
    source = ItemHistory("s", None, 0.0)
    histories = {"s": source}
    sizes = ItemSizes()
    for step in range(400):
        data = item("p", rng.randrange(60), "x" * rng.randrange(1, 40))
        (delete if rng.random() < 0.2 else put)(source, float(step), data)
        if step % 7 == 0:
            ref = source.latest() if rng.random() < 0.7 else ItemRef("s", rng.randrange(len(source.journal) + 1))
            assert sizes.at(histories, ref) == replayed_size(histories, ref)
    restored = histories["r"] = ItemHistory("r", source.ref_at(200.0), 500.0)
    assert sizes.at(histories, restored.latest()) == replayed_size(histories, restored.latest())
    put(restored, 501.0, item("p", 1, "restored and rewritten"))
    delete(restored, 502.0, item("p", 2, ""))
    assert sizes.at(histories, restored.latest()) == replayed_size(histories, restored.latest())
    replaced = histories["s"] = ItemHistory("s", None, 0.0)  # (a reset: the same id, another history)
    put(replaced, 1.0, item("q", 1, "new"))
    assert sizes.at(histories, replaced.latest()) == replayed_size(histories, replaced.latest())


def test_keys_are_canonical_and_independent_of_other_attributes() -> None:
    one = {"sk": {"N": "1"}, "pk": {"S": "a"}, "x": {"S": "1"}}
    two = {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "2"}}
    assert item_key(one, KEYS) == item_key(two, KEYS)
    assert encode_item(one) != encode_item(two)
    assert key_of(two, KEYS) == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert decode_item(encode_item(two)) == two


def test_a_journal_holds_its_entries_in_columns_and_pickles_them() -> None:
    import pickle
    import sys

    history = ItemHistory("t", None, 0.0)
    for n in range(1000):
        put(history, float(n), item("p", n, f"v{n}"))
    delete(history, 1000.5, item("p", 3, ""))
    journal = history.journal
    assert len(journal) == 1001 and journal[3][0] == 3.0 and journal[-1][2] is None
    assert journal[:2] == [(0.0, item_key(item("p", 0, ""), KEYS), encode_item(item("p", 0, "v0"))),
                           (1.0, item_key(item("p", 1, ""), KEYS), encode_item(item("p", 1, "v1")))]
    assert history.position_at(999.0) == 1000 and history.position_at(-1) == 0
    # no tuple and no float object per entry: the times are one array of doubles
    assert sys.getsizeof(journal.times) < 1001 * 8 * 1.2  # (an array grows by an eighth at a time)
    assert len(journal.whats) == len(journal.values) == 1001
    copied = pickle.loads(pickle.dumps(history))
    assert copied == history and list(copied.journal) == list(journal)


def test_a_history_saved_with_its_journal_as_a_list_loads() -> None:
    history = ItemHistory("t", None, 0.0)
    put(history, 1.0, item("a", 1, "first"))
    state = {**history.__dict__, "journal": list(history.journal)}  # (how snapshots before columns held it)
    loaded = ItemHistory.__new__(ItemHistory)
    loaded.__setstate__(state)
    assert loaded == history and values(materialize({"t": loaded}, loaded.latest())) == ["first"]
