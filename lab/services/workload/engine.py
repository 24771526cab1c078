"""The SecureCart workload: orders placed at a steady rate in sim time.

Each order is an RDS row (through the RDS data plane engine, when present), a DynamoDB item in
`securecart-order-history` and an S3 invoice in `securecart-invoices-use1`. The ledger of every order
placed (`LabState.orders`) is what the shop believes it wrote: the RPO meter compares recovered data to it.
A store that refuses a write (a deleted table, a region outage) is recorded on the order, not retried.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lab import config, world
from lab.kernel.engine import Engine, OrderStore

DEFAULT_ORDERS_PER_HOUR = 60.0
# What almost every order records of its writes. The ledger's orders are read, never edited: those that were
# stored everywhere share this one dict (a month of orders is 50,000 of them, in memory and in snapshots).
STORED_EVERYWHERE = {"rds": True, "dynamodb": True, "s3": True}


@dataclass
class WorkloadState:
    enabled: bool = True
    orders_per_hour: float = DEFAULT_ORDERS_PER_HOUR
    next_at: float | None = None
    placed: int = 0
    failed_writes: int = 0


class Workload(Engine):
    name = "workload"
    order = 10  # orders placed at an instant exist before replication or backups at that instant

    def initial_state(self) -> WorkloadState:
        return WorkloadState()

    @property
    def interval(self) -> float:
        return 3600.0 / self.state.orders_per_hour

    def next_due(self) -> float | None:
        state = self.state
        if not state.enabled or not self.sandbox.lab.world_seeded:
            return None
        if state.next_at is None:
            state.next_at = self.now() + self.interval
        return state.next_at

    def run_due(self, now: float) -> None:
        state = self.state
        while state.enabled and state.next_at is not None and state.next_at <= now:
            self.place_order(state.next_at)
            state.next_at += self.interval

    def place_order(self, at: float) -> dict[str, Any]:
        lab = self.sandbox.lab
        ledger = lab.orders
        number = (ledger[-1]["id"] + 1) if ledger else 1
        order = world.make_order(number, datetime.fromtimestamp(at, tz=UTC), OrderDraw(lab.seed, number))
        data = self.sandbox.data
        region = config.PRIMARY_REGION
        rds = self.sandbox.engines.find(OrderStore)
        stored: dict[str, bool] = {}
        absent = world.world_missing(lab)  # stores a backend without their service never had (no failure)
        if rds is not None and "rds" not in absent:
            stored["rds"] = bool(rds.insert_order(order))
        if "dynamodb" not in absent:
            stored["dynamodb"] = _attempt(data.put_item, region, world.ORDER_HISTORY_TABLE, world.order_item(order))
        if "s3" not in absent:
            stored["s3"] = _attempt(data.put_object, region, world.INVOICES_BUCKET, world.invoice_key(order),
                                    world.invoice_body(order), "application/json")
        order["stored"] = STORED_EVERYWHERE if stored == STORED_EVERYWHERE else stored
        ledger.append(order)
        self.state.placed += 1
        if not all(stored.values()):
            self.state.failed_writes += 1
            self.emit("OrderWriteFailed", kind="workload", region=region, resource=order["order_id"],
                      stores=[name for name, ok in stored.items() if not ok])
        return order

    def describe(self) -> dict[str, Any]:
        state = self.state
        return {"enabled": state.enabled, "orders_per_hour": state.orders_per_hour, "placed": state.placed,
                "failed_writes": state.failed_writes, "orders_total": len(self.sandbox.lab.orders)}


class OrderDraw:
    """The random choices of one order (world.make_order's rng), drawn from a hash of the seed and the order
    number: the same order whenever it is placed again, and a tenth of the cost of a random.Random (whose
    construction alone initialises 2.5 KB of generator state), once per order placed."""

    def __init__(self, seed: int, number: int) -> None:
        digest = hashlib.blake2b(f"{seed}:order:{number}".encode(), digest_size=16).digest()
        self._bits = int.from_bytes(digest, "big")

    def _take(self, count: int) -> int:
        # (128 bits drawn for a handful of small choices: the modulo bias is far below anything visible)
        value, self._bits = self._bits % count, self._bits // count
        return value

    def choice(self, options: Any) -> Any:
        return options[self._take(len(options))]

    def randint(self, low: int, high: int) -> int:
        return low + self._take(high - low + 1)


def _attempt(write: Any, *args: Any) -> bool:
    try:
        write(*args)
        return True
    except Exception:  # noqa: BLE001 -- a store that refuses the write is the failure being simulated
        return False
