"""The inventory reads an instance's order ids page by page through POST /_lab/sql; the page boundary is an
order id, bound as a parameter, so any text a learner stored there (a quote included) pages correctly."""

from __future__ import annotations

from typing import Any

import pytest

from lab import inventory
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
    monkeypatch.setattr(inventory, "ORDER_ID_PAGE", 2)  # the page ends at "B'2", then at "D'4"
    store = store_with(ORDER_IDS)
    connection = store.connection("p", store.latest("p"))
    statements: list[dict[str, Any]] = []

    def admin_post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        # what POST /_lab/sql runs, on a real SQLite database
        assert path == "sql"
        statements.append(body)
        result, needs_write = store.query(connection, body["sql"], body.get("parameters", []))
        assert result is not None and not needs_write
        return {"rows": result.rows}

    collector = inventory.Collector(lambda service, region: None, None, ["us-east-1"], {"rds"}, admin_post=admin_post)
    orders = collector._orders_of("us-east-1", "shop-db", {"orders": len(ORDER_IDS), "status": "available"})
    assert orders is not None
    assert orders["error"] is None
    assert orders["order_ids"] == ORDER_IDS
    assert [body["parameters"][0] for body in statements] == ["", "B'2", "D'4"]
