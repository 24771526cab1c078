"""The RDS data store: journals, positions, rebuilds, replicas and the SQL gate (no server)."""

from __future__ import annotations

import pickle

import pytest

from lab.services.rds.store import (
    ORDER,
    ORDERS_SCHEMA,
    SQL,
    DataRef,
    DataStore,
    Follow,
    History,
    SqlError,
    check_replayable,
    orders_digest,
    rehearse,
)


def order(number: int) -> tuple:
    return (number, f"ORD-{number:06d}", "alice", "12.50", f"2026-01-01T00:{number:02d}:00Z")


def new_store() -> DataStore:
    store = DataStore({})
    store.histories["p"] = History("p", None, 0.0)
    store.append("p", (0.0, SQL, ORDERS_SCHEMA))
    for number in range(1, 11):  # order n at t = n
        store.append("p", (float(number), ORDER, order(number)))
    return store


def count(store: DataStore, ref: DataRef) -> int:
    return store.build(ref).execute("SELECT count(*) FROM orders").fetchone()[0]


def test_a_position_holds_exactly_the_changes_up_to_its_time() -> None:
    store = new_store()
    assert count(store, store.ref_at("p", 4.0)) == 4  # inclusive of a change at exactly that time
    assert count(store, store.ref_at("p", 4.5)) == 4
    assert count(store, store.ref_at("p", 0.5)) == 0
    assert count(store, store.latest("p")) == 10


def test_a_restore_starts_from_its_origin_and_keeps_its_own_journal() -> None:
    store = new_store()
    store.histories["r"] = History("r", store.ref_at("p", 5.0), 11.0)
    store.append("r", (12.0, SQL, "DELETE FROM orders WHERE id <= 2"))
    store.append("p", (13.0, ORDER, order(11)))  # the source goes on; the restore does not see it
    restored = store.connection("r", store.latest("r"))
    assert [row[0] for row in restored.execute("SELECT id FROM orders ORDER BY id")] == [3, 4, 5]
    assert count(store, store.ref_at("r", 11.5)) == 5  # before its own delete


def test_a_replica_follows_with_lag_and_promotion_fixes_its_start() -> None:
    store = new_store()
    store.histories["rep"] = History("rep", None, 3.0, follows=Follow("p", lag=2.0, since=3.0))
    assert store.ref_at("rep", 6.0) == store.ref_at("p", 4.0)
    replica = store.connection("rep", store.ref_at("rep", 6.0))
    assert replica.execute("SELECT count(*) FROM orders").fetchone()[0] == 4
    moved = store.connection("rep", store.ref_at("rep", 9.0))  # moves forward on the same database
    assert moved is replica and moved.execute("SELECT count(*) FROM orders").fetchone()[0] == 7
    history = store.histories["rep"]
    history.origin, history.follows.until = store.ref_at("p", 8.0), 10.0  # promoted at t=10
    store.append("rep", (11.0, SQL, "DELETE FROM orders"))
    assert count(store, store.ref_at("rep", 9.0)) == 7  # still the source's rows before promotion
    assert count(store, store.ref_at("rep", 10.5)) == 8
    assert count(store, store.latest("rep")) == 0
    assert count(store, store.latest("p")) == 10


def test_a_replica_of_a_replica_resolves_to_the_first_source() -> None:
    store = new_store()
    store.histories["a"] = History("a", None, 0.0, follows=Follow("p", 1.0, 0.0))
    store.histories["b"] = History("b", None, 0.0, follows=Follow("a", 2.0, 0.0))
    assert store.ref_at("b", 9.0) == store.ref_at("p", 6.0)


def test_a_refused_insert_is_not_journaled() -> None:
    store = new_store()
    with pytest.raises(SqlError, match="UNIQUE"):
        store.append("p", (20.0, ORDER, order(3)))
    assert len(store.histories["p"].journal) == 11


def test_reads_answer_and_writes_are_detected_without_changing_anything() -> None:
    store = new_store()
    connection = store.connection("p", store.latest("p"))
    result, needs_write = store.query(connection, "SELECT customer, sum(amount) FROM orders GROUP BY customer")
    assert not needs_write and result is not None
    assert result.columns == ["customer", "sum(amount)"] and result.rows == [["alice", 125.0]]
    result, needs_write = store.query(connection, "DELETE FROM orders WHERE id = 1")
    assert needs_write and result is None
    assert connection.execute("SELECT count(*) FROM orders").fetchone()[0] == 10
    changed = store.append("p", (30.0, SQL, check_replayable("DELETE FROM orders WHERE id = 1")))
    assert changed.changed == 1


@pytest.mark.parametrize("statement, message", [
    ("SELECT 1; SELECT 2", "one statement"),
    ("ATTACH DATABASE '/tmp/x.db' AS x", "not authorized"),
    ("PRAGMA writable_schema = 1", "not authorized"),
    ("", "empty"),
    ("SELECT * FROM nowhere", "no such table"),
])
def test_the_sql_gate_refuses_with_a_reason(statement: str, message: str) -> None:
    store = new_store()
    with pytest.raises(SqlError, match=message):
        store.query(store.connection("p", store.latest("p")), statement)


@pytest.mark.parametrize("statement", [
    "UPDATE orders SET created_at = datetime('now')",
    "INSERT INTO orders VALUES (99, 'x', 'y', random(), CURRENT_TIMESTAMP)",
])
def test_writes_that_would_not_replay_the_same_are_refused(statement: str) -> None:
    with pytest.raises(SqlError, match="replays"):
        check_replayable(statement)


def test_a_semicolon_inside_a_literal_is_one_statement() -> None:
    store = new_store()
    result, _ = store.query(store.connection("p", store.latest("p")), "SELECT ';' AS x;")
    assert result is not None and result.rows == [[";"]]


def test_the_state_pickles_and_rebuilds_the_same_rows() -> None:
    store = new_store()
    store.append("p", (40.0, SQL, "UPDATE orders SET amount = 1 WHERE id > 5"))
    store.append("p", (41.0, SQL, ("DELETE FROM orders WHERE id IN (SELECT value FROM json_each(?))", ("[2, 3]",))))
    store.append("p", (42.0, SQL, ("UPDATE orders SET customer = ? WHERE id = ?", ("o'hara", 4))))
    before = orders_digest(store.connection("p", store.latest("p")))
    restored = DataStore(pickle.loads(pickle.dumps(store.histories)))
    connection = restored.connection("p", restored.latest("p"))
    assert orders_digest(connection) == before
    assert before["orders"] == 8 and len(before["order_ids_sha256"]) == 64
    assert connection.execute("SELECT customer FROM orders WHERE id = 4").fetchall() == [("o'hara",)]


def test_a_digest_says_when_the_table_is_gone() -> None:
    store = new_store()
    store.append("p", (50.0, SQL, "DROP TABLE orders"))
    assert orders_digest(store.connection("p", store.latest("p")))["orders"] is None


def test_a_rehearsed_write_changes_nothing_and_reports_failure() -> None:
    store = new_store()
    connection = store.connection("p", store.latest("p"))
    rehearse(connection, "DELETE FROM orders")
    rehearse(connection, "DROP TABLE orders")
    assert connection.execute("SELECT count(*) FROM orders").fetchone()[0] == 10
    with pytest.raises(SqlError, match="UNIQUE"):
        rehearse(connection, "INSERT INTO orders VALUES (1, 'again', 'x', 1, 'y')")
    assert len(store.histories["p"].journal) == 11


def test_orders_journaled_ahead_are_inserted_when_read() -> None:
    store = new_store()
    for number in range(11, 21):
        store.append("p", (float(number), ORDER, order(number)))
    connection = store.connection("p", store.latest("p"))
    assert connection.execute("SELECT count(*), max(id) FROM orders").fetchone() == (20, 20)
    assert len(store.histories["p"].journal) == 21


def test_an_order_the_changed_table_would_refuse_is_refused_at_once() -> None:
    store = new_store()
    store.append("p", (30.0, SQL, "INSERT INTO orders VALUES (25, 'ORD-000025', 'x', 1, 'y')"))
    with pytest.raises(SqlError, match="UNIQUE"):
        store.append("p", (31.0, ORDER, order(25)))
    store.append("p", (32.0, SQL, "CREATE TRIGGER no_bob BEFORE INSERT ON orders WHEN NEW.customer = 'bob' "
                                  "BEGIN SELECT RAISE(ABORT, 'no bob'); END"))
    store.append("p", (33.0, ORDER, order(26)))
    with pytest.raises(SqlError, match="no bob"):
        store.append("p", (34.0, ORDER, (27, "ORD-000027", "bob", "1", "z")))
    store.append("p", (35.0, SQL, "DROP TABLE orders"))
    with pytest.raises(SqlError, match="no such table"):
        store.append("p", (36.0, ORDER, order(28)))
    rebuilt = DataStore(pickle.loads(pickle.dumps(store.histories)))  # every journaled change replays cleanly
    assert rebuilt.build(rebuilt.ref_at("p", 34.0)).execute("SELECT count(*) FROM orders").fetchone()[0] == 12


def test_sizes_a_snapshot_copies_the_data_written_first_then_what_changed():
    store = new_store()
    now = store.latest("p")
    written = store.size_bytes("p", now)
    assert written > 0 and written % 4096 == 0  # SQLite's pages: the data actually in the database
    for number in range(11, 211):
        store.append("p", (float(number), ORDER, order(number)))
    assert store.size_bytes("p", store.latest("p")) > written
    few = store.changed_bytes(now, DataRef("p", now.position + 2))
    many = store.changed_bytes(now, store.latest("p"))
    assert 0 < few < many == pytest.approx(100 * few, rel=0.1)
    assert store.changed_bytes(now, now) == 0
    assert store.changed_bytes(store.latest("p"), now) is None  # backwards: no increment to speak of
    store.histories["q"] = History("q", now, 300.0)
    assert store.changed_bytes(now, DataRef("q", 0)) is None  # another history: a full copy
