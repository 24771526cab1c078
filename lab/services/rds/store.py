"""The rows of every simulated DB instance: append-only change journals, rebuilt into SQLite on demand.

A DB instance's data is a *history*: where it started (`origin`, a position in another history, or an
empty database) plus the journal of changes made to it since, each stamped with the sim time it happened.
Everything the labs need falls out of that shape cheaply:
  - a snapshot, an AWS Backup recovery point or a point-in-time restore is a `DataRef` (history, position):
    O(1) to take, rebuilt into a database only when something is restored from it;
  - a read replica *follows* its source's history with a lag: its content at time T is the source's
    content at T - lag, so nothing is copied while it follows; promotion fixes where it starts;
  - the state pickles as plain lists of tuples; SQLite connections live only in a cache beside it and
    are rebuilt from the journal after a restart.

Changes are either a workload order (`ORDER`: the row's values) or a SQL statement a learner (or a
scenario) ran (`SQL`: its text, or its text and the values bound to its `?` placeholders). Both replay
deterministically, which is what makes the journal the truth.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lab.sim.journal import Journal, as_journal

ORDER = "order"  # payload: (id, order_id, customer, amount, created_at)
SQL = "sql"  # payload: the statement's text, or (text, parameters) when it has placeholders

Change = tuple[float, str, Any]  # (sim time, kind, payload)
Parameters = Sequence[str | int | float | None]  # values bound to a statement's `?` placeholders

ORDERS_SCHEMA = ("CREATE TABLE orders (id INTEGER PRIMARY KEY, order_id TEXT NOT NULL UNIQUE, "
                 "customer TEXT NOT NULL, amount NUMERIC(10,2) NOT NULL, created_at TEXT NOT NULL)")
INSERT_ORDER = "INSERT INTO orders (id, order_id, customer, amount, created_at) VALUES (?, ?, ?, ?, ?)"
MAX_RESULT_ROWS = 10_000

# A statement replayed from the journal must do exactly what it did the first time: time and randomness
# functions would not, so writes that use them are refused (reads may use anything).
_NONDETERMINISTIC = re.compile(r"\bnow\b|\bcurrent_(?:date|time|timestamp)\b|\brandom(?:blob)?\s*\(",
                               re.IGNORECASE)
# Statements that would touch files or the connection rather than the data.
_DENIED_ACTIONS = {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH, sqlite3.SQLITE_PRAGMA,
                   sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT}
_READONLY_ERROR = "attempt to write a readonly database"


class SqlError(ValueError):
    """A statement the database refused (the text is what a SQL client would print)."""


@dataclass(frozen=True)
class DataRef:
    """The content of `history` after its first `position` changes."""

    history: str
    position: int


@dataclass
class Follow:
    """A read replica's link to its source: content at T is the source's at T - lag, until promoted."""

    source: str  # history id
    lag: float
    since: float
    until: float | None = None  # sim time of promotion


@dataclass
class History:
    id: str
    origin: DataRef | None  # None: an empty database
    created_at: float
    journal: Journal = field(default_factory=Journal)  # of Change entries
    follows: Follow | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(as_journal(state))

    def position_at(self, when: float) -> int:
        """How many changes had happened at sim time `when` (inclusive)."""
        return self.journal.position_at(when)


@dataclass
class _Live:
    """A built database: which History object it was built from, and how much of its journal it holds."""

    built_from: History
    history: str
    position: int
    connection: sqlite3.Connection
    # (largest id, largest order_id) while the orders table is exactly the shop's schema: an order above
    # both inserts cleanly, so it is journaled at once and applied with the next read (see append).
    insert_guard: tuple[int, str] | None = None


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]
    changed: int  # rows changed by a write, -1 for a read
    truncated: bool = False


class DataStore:
    """The histories (state, picklable) and the live SQLite databases built from them (a cache)."""

    def __init__(self, histories: dict[str, History]) -> None:
        self.histories = histories
        self._live: dict[str, _Live] = {}  # by the key the caller gives (an instance's history id)

    # -- positions ---------------------------------------------------------------------------------

    def ref_at(self, history_id: str, when: float) -> DataRef:
        """Where the content of `history_id` as of sim time `when` lives (following replicas resolved)."""
        for _ in range(10_000):  # bounded: a chain of replicas of replicas
            history = self.histories[history_id]
            follow = history.follows
            if follow is not None and (follow.until is None or when < follow.until):
                history_id, when = follow.source, when - follow.lag
                continue
            return DataRef(history_id, history.position_at(when))
        raise RuntimeError(f"replica chain of {history_id} does not end")

    def latest(self, history_id: str) -> DataRef:
        history = self.histories[history_id]
        if history.follows is not None and history.follows.until is None:
            raise ValueError(f"history {history_id} follows another; ask for a time with ref_at")
        return DataRef(history_id, len(history.journal))

    # -- building ----------------------------------------------------------------------------------

    def _chain(self, ref: DataRef) -> list[tuple[History, int]]:
        """The histories to replay, oldest first, with how many changes of each."""
        chain: list[tuple[History, int]] = []
        current: DataRef | None = ref
        while current is not None:
            history = self.histories[current.history]
            chain.append((history, current.position))
            current = history.origin
            if len(chain) > 10_000:
                raise RuntimeError(f"origin chain of {ref} does not end")
        chain.reverse()
        return chain

    def build(self, ref: DataRef) -> sqlite3.Connection:
        """A fresh in-memory database holding exactly the content `ref` names."""
        connection = _connect()
        for history, position in self._chain(ref):
            apply_changes(connection, history.journal[:position])
        return connection

    def connection(self, key: str, ref: DataRef) -> sqlite3.Connection:
        """The cached database for `key` moved to `ref` (forward by replaying, else rebuilt)."""
        live = self._live.get(key)
        history = self.histories[ref.history]
        if live is not None:
            if live.built_from is history and live.history == ref.history and live.position <= ref.position:
                if live.position < ref.position:
                    apply_changes(live.connection, history.journal[live.position:ref.position])
                    live.position = ref.position
                return live.connection
            live.connection.close()
        connection = self.build(ref)
        self._live[key] = _Live(history, ref.history, ref.position, connection)
        return connection

    # -- sizes (what a snapshot or a copy has to move) ---------------------------------------------

    def size_bytes(self, key: str, ref: DataRef) -> int:
        """The bytes the database at `ref` occupies (SQLite's pages): the data actually written, U."""
        connection = self.connection(key, ref)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(size)

    def changed_bytes(self, before: DataRef, after: DataRef) -> int | None:
        """The bytes of the changes from `before` to `after` in one history (C, what an incremental snapshot
        copies); None when they are not positions of the same history (a full copy is due)."""
        if before.history != after.history or before.position > after.position:
            return None
        journal = self.histories[after.history].journal
        return sum(_change_bytes(change) for change in journal[before.position:after.position])

    def forget(self, key: str) -> None:
        live = self._live.pop(key, None)
        if live is not None:
            live.connection.close()

    def clear_cache(self) -> None:
        for key in list(self._live):
            self.forget(key)

    # -- writing -----------------------------------------------------------------------------------

    def append(self, history_id: str, change: Change) -> QueryResult:
        """Run `change` against the history's live database and, once it succeeded, journal it.

        Raises SqlError (nothing journaled) when the database refuses it.
        """
        history = self.histories[history_id]
        _, kind, payload = change
        live = self._live.get(history_id)
        guard = live.insert_guard if live is not None and live.built_from is history else None
        if kind == ORDER and guard is not None and payload[0] > guard[0] and payload[1] > guard[1]:
            # The workload's orders, one a minute for weeks: journal now, insert in bulk when read.
            history.journal.append(change)
            live.insert_guard = (payload[0], payload[1])
            return QueryResult([], [], 1)
        connection = self.connection(history_id, self.latest(history_id))
        live = self._live[history_id]
        if kind == ORDER:
            try:
                connection.execute(INSERT_ORDER, payload)
            except sqlite3.Error as exc:
                raise SqlError(_message(exc)) from exc
            result = QueryResult([], [], 1)
        elif kind == SQL:
            result = run_write(connection, *sql_payload(payload))
        else:
            raise ValueError(f"unknown change kind {kind!r}")
        history.journal.append(change)
        live.position += 1
        live.insert_guard = _insert_guard(connection) if kind == ORDER else None
        return result

    # -- querying ----------------------------------------------------------------------------------

    def query(self, connection: sqlite3.Connection, sql: str,
              parameters: Parameters = ()) -> tuple[QueryResult | None, bool]:
        """Run `sql` read-only. Returns (result, False) for a read; (None, True) if it needs to write
        (nothing was changed: the caller decides whether and where to journal it)."""
        statement = _single_statement(sql)
        _set_query_only(connection, True)
        connection.set_authorizer(_authorize)
        try:
            cursor = connection.execute(statement, parameters)
            rows = cursor.fetchmany(MAX_RESULT_ROWS + 1)
        except sqlite3.OperationalError as exc:
            if str(exc) == _READONLY_ERROR:
                return None, True
            raise SqlError(_message(exc)) from exc
        except sqlite3.Error as exc:
            raise SqlError(_message(exc)) from exc
        finally:
            connection.set_authorizer(None)
            _set_query_only(connection, False)
        columns = [column[0] for column in cursor.description or ()]
        truncated = len(rows) > MAX_RESULT_ROWS
        return QueryResult(columns, [list(row) for row in rows[:MAX_RESULT_ROWS]], -1, truncated), False


def rehearse(connection: sqlite3.Connection, statement: str, parameters: Parameters = ()) -> None:
    """Run a write in a transaction that is rolled back: SqlError if it would fail, no change either way."""
    connection.execute("BEGIN")
    try:
        connection.set_authorizer(_authorize)
        try:
            connection.execute(statement, parameters).fetchall()
        except sqlite3.Error as exc:
            raise SqlError(_message(exc)) from exc
        finally:
            connection.set_authorizer(None)
    finally:
        connection.execute("ROLLBACK")


def sql_payload(payload: str | tuple[str, Parameters]) -> tuple[str, Parameters]:
    """A journaled SQL change as (statement, parameters): plain text is a statement without placeholders."""
    return (payload, ()) if isinstance(payload, str) else payload


def check_replayable(sql: str) -> str:
    """The statement to journal for a write, or SqlError saying why it cannot be replayed."""
    statement = _single_statement(sql)
    if _NONDETERMINISTIC.search(statement):
        raise SqlError("writes may not use now/current_timestamp/random(): the sandbox replays every write from "
                       "its journal and needs the same result each time; write the value as a literal instead")
    return statement


def apply_changes(connection: sqlite3.Connection, changes: Iterable[Change]) -> None:
    """Replay changes in order; consecutive orders go in one executemany (the bulk of any journal)."""
    batch: list[Any] = []
    for _, kind, payload in changes:
        if kind == ORDER:
            batch.append(payload)
            continue
        if batch:
            connection.executemany(INSERT_ORDER, batch)
            batch = []
        if kind == SQL:
            # It succeeded when journaled, on this same content: SQLite gives the same result again.
            connection.execute(*sql_payload(payload))
        else:
            raise ValueError(f"unknown change kind {kind!r}")
    if batch:
        connection.executemany(INSERT_ORDER, batch)


def run_write(connection: sqlite3.Connection, statement: str, parameters: Parameters = ()) -> QueryResult:
    """Execute a write statement on a live database (the caller journals it after it succeeded)."""
    connection.set_authorizer(_authorize)
    try:
        cursor = connection.execute(statement, parameters)
        rows = cursor.fetchmany(MAX_RESULT_ROWS)  # INSERT ... RETURNING
    except sqlite3.Error as exc:
        raise SqlError(_message(exc)) from exc
    finally:
        connection.set_authorizer(None)
    columns = [column[0] for column in cursor.description or ()]
    return QueryResult(columns, [list(row) for row in rows], cursor.rowcount)


def order_row(order: dict[str, Any]) -> tuple[Any, ...]:
    return (order["id"], order["order_id"], order["customer"], order["amount"], order["created_at"])


def orders_digest(connection: sqlite3.Connection) -> dict[str, Any]:
    """What checks compare against the shop's ledger: count, time range, and a hash of the order ids."""
    import hashlib

    try:
        count, first, last = connection.execute(
            "SELECT count(*), min(created_at), max(created_at) FROM orders").fetchone()
        ids = [row[0] for row in connection.execute("SELECT order_id FROM orders ORDER BY order_id")]
    except sqlite3.Error as exc:
        return {"orders": None, "error": _message(exc)}
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
    return {"orders": count, "min_created_at": first, "max_created_at": last, "order_ids_sha256": digest}


def _insert_guard(connection: sqlite3.Connection) -> tuple[int, str] | None:
    """(largest id, largest order_id) when nothing but the shop's plain orders table could refuse an order
    (no triggers, no extra indexes, the schema as created); None otherwise."""
    for kind, name, text in connection.execute("SELECT type, name, sql FROM sqlite_master"):
        if kind == "trigger" or (kind == "index" and text is not None and "orders" in text.lower()):
            return None
        if kind == "table" and name == "orders" and text != ORDERS_SCHEMA:
            return None
    # one aggregate per query: SQLite answers a lone max() from the index instead of scanning the table
    largest_id = connection.execute("SELECT max(id) FROM orders").fetchone()[0]
    largest_order_id = connection.execute("SELECT max(order_id) FROM orders").fetchone()[0]
    return (largest_id or 0, largest_order_id or "")


def _change_bytes(change: Change) -> int:
    """What one journaled change writes, roughly: its values as text (a row, or a statement and its values)."""
    _, kind, payload = change
    if kind == ORDER:
        return sum(len(str(value)) for value in payload) + 16  # + the row's and index entries' overhead
    statement, parameters = sql_payload(payload)
    return len(statement) + sum(len(str(value)) for value in parameters)


def _connect() -> sqlite3.Connection:
    # autocommit: every statement is its own transaction, as a SQL client's would be
    return sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)


def _set_query_only(connection: sqlite3.Connection, on: bool) -> None:
    connection.execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")


def _authorize(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_DENY if action in _DENIED_ACTIONS else sqlite3.SQLITE_OK


def _single_statement(sql: str) -> str:
    statement = sql.strip().rstrip(";").strip()
    if not statement:
        raise SqlError("empty SQL statement")
    if not sqlite3.complete_statement(statement + ";"):
        raise SqlError(f"incomplete SQL statement: {statement!r}")
    if ";" in statement and _has_second_statement(statement):
        raise SqlError("one statement at a time, please")
    if statement.split(None, 1)[0].lower() == "vacuum":
        raise SqlError("VACUUM is not available in the sandbox")
    return statement


def _has_second_statement(statement: str) -> bool:
    # complete_statement() says where statements end, string literals and comments included
    for index, char in enumerate(statement):
        if char == ";" and sqlite3.complete_statement(statement[:index + 1]) and statement[index + 1:].strip():
            return True
    return False


def _message(exc: sqlite3.Error) -> str:
    text = str(exc)
    if text == "not authorized":
        return ("not authorized: ATTACH, PRAGMA and transaction statements are not available in the sandbox "
                "(list tables with: SELECT name, sql FROM sqlite_master)")
    return text
