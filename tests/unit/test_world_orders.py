"""Orders and invoices are written in bulk by the workload, so their formats are spelled out by hand for
speed; they stay exactly what the straightforward code gives (the inventory compares S3's ETags to them)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

from lab import world


def test_order_times_are_utc_seconds_with_z():
    rng = random.Random(7)
    for number in range(1, 500):
        at = datetime(2019, 1, 1, tzinfo=timezone(timedelta(hours=rng.randint(-11, 12)))) + timedelta(
            seconds=rng.randint(0, 10**9), microseconds=rng.randint(0, 999_999))
        order = world.make_order(number, at, random.Random(number))
        assert order["created_at"] == at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_invoice_is_the_sorted_json_document():
    order = world.make_order(12, datetime(2026, 11, 26, 8, 0, tzinfo=UTC), random.Random(1))
    for customer in (order["customer"], 'quo"te', "back\\slash", "émile", "tab\there"):
        order["customer"] = customer
        expected = json.dumps({"invoice_for": order["order_id"], "customer": customer, "amount": order["amount"],
                               "currency": "USD", "issued_at": order["created_at"]}, sort_keys=True).encode()
        assert world.invoice_body(order) == expected
        assert json.loads(world.invoice_body(order))["customer"] == customer
