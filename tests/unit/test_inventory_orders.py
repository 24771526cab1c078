"""The inventory reads an instance's order ids page by page; the page boundary is an order id, bound as a
parameter, so any text a learner stored there (a quote included) pages correctly. The ids become a compact
set (runs of numbered ids) that holds exactly the ids read."""

from __future__ import annotations

from typing import Any

import pytest

from checks.inventory import IdSet
from lab.inventory import sources
from lab.services.rds.store import ORDER, ORDERS_SCHEMA, SQL, DataStore, History

ORDER_IDS = ["A-1", "B'2", "C-3", "D'4", "E-5"]


def store_with(order_ids: list[str]) -> DataStore:
    store = DataStore({})
    store.histories["p"] = History("p", None, 0.0)
    store.append("p", (0.0, SQL, ORDERS_SCHEMA))
    for number, order_id in enumerate(order_ids, start=1):
        store.append("p", (float(number), ORDER, (number, order_id, "alice", "1.00", "2026-01-01T00:00:00Z")))
    return store


def test_order_ids_page_past_an_id_with_a_quote(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "ORDER_ID_PAGE", 2)  # the page ends at "B'2", then at "D'4"
    store = store_with(ORDER_IDS)
    connection = store.connection("p", store.latest("p"))
    statements: list[tuple[str, list[Any]]] = []

    def select(sql: str, parameters: list[Any]) -> list[list[Any]]:
        # what POST /_lab/sql (or the RDS engine inside the sandbox) runs, on a real SQLite database
        statements.append((sql, parameters))
        result, needs_write = store.query(connection, sql, parameters)
        assert result is not None and not needs_write
        return [list(row) for row in result.rows]

    assert sources.page_order_ids(select) == ORDER_IDS
    assert [parameters[0] for _, parameters in statements] == ["", "B'2", "D'4"]


def test_order_id_sets_keep_every_id_and_compare_run_by_run() -> None:
    numbered = [f"ORD-{n:06d}" for n in (*range(1, 50_001), 50_003)]
    found = IdSet.of([*numbered, "B'2", "ORD-7"])  # ids not of the numbered form are kept apart
    assert found.runs == [(1, 50_000), (50_003, 50_003)] and found.others == ["B'2", "ORD-7"]
    assert len(found) == 50_003 and "ORD-050003" in found and "ORD-050001" not in found and "ORD-7" in found
    assert sorted(found) == sorted([*numbered, "B'2", "ORD-7"])
    expected = IdSet.of(f"ORD-{n:06d}" for n in range(1, 50_004))
    assert expected.difference(found).ids() == ["ORD-050001", "ORD-050002"]
    assert found.difference(expected).ids() == ["B'2", "ORD-7"]


def test_ids_of_other_digits_are_kept_apart_not_a_failure() -> None:
    """An order id a learner wrote with digits that are not ASCII (a superscript, Arabic-Indic digits, a
    circled one) is an id like any other: the set keeps it apart, as it is, where the fast path once raised
    ValueError."""
    odd = ["ORD-00000\u00b2", "ORD-\u0661\u0662\u0663\u0664\u0665\u0666", "ORD-00001\u2460"]
    found = IdSet.of(["ORD-000001", *odd])
    assert found.runs == [(1, 1)] and found.others == sorted(odd)
    assert all(each in found for each in odd) and "ORD-000002" not in found


def test_order_ids_are_read_again_in_another_world() -> None:
    """A reset makes a new world whose orders database may have the same name, history id and position as the
    old one's, with other rows: what was read in the old world is not reused."""
    from types import SimpleNamespace

    digests = sources.Digests()
    reads: list[int] = []

    def read() -> IdSet:
        reads.append(1)
        return IdSet.of(["ORD-000001"])

    first = SimpleNamespace(lab=SimpleNamespace(seq=3), engines=SimpleNamespace(steps_run=10))
    rows = ("us-east-1", "securecart-orders-db", "h1", 107)
    digests.for_world(first)
    digests.order_ids(rows, read)
    digests.for_world(first)
    digests.order_ids(rows, read)
    assert len(reads) == 1  # the same rows of the same world: read once
    reset = SimpleNamespace(lab=SimpleNamespace(seq=3), engines=SimpleNamespace(steps_run=10))
    digests.for_world(reset)
    digests.order_ids(rows, read)
    assert len(reads) == 2
