"""Schema 1.0 -> 2.0: what an export written by an earlier lab holds, in today's models.

1.0 listed every object version of every bucket, every order id of every table and database, and the ledger
order by order; 2.0 keeps summaries of the same facts. The migration computes them from the listings, so a 1.0
export is judged exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.inventory.base import IdSet, to_builtins
from checks.inventory.lab import LedgerBuilder, epoch_of

NEWEST = 50  # object versions kept per bucket (the newest), as the collector keeps them
_DATA_OF = {"s3": "s3.objects", "dynamodb": "dynamodb.items", "rds": "rds.orders"}


def from_1_0(document: Mapping[str, Any]) -> dict[str, Any]:
    migrated = dict(document)
    migrated["schema_version"] = "2.0"
    services = list(document.get("services") or ())
    migrated["services"] = sorted({*services, *(_DATA_OF[s] for s in services if s in _DATA_OF)})
    ledger = list((document.get("orders") or {}).get("ledger") or ())
    migrated["orders"] = _ledger(ledger)
    invoices = {order.get("invoice_key"): (order["order_id"], order.get("invoice_etag"))
                for order in ledger if order.get("invoice_key")}
    regions = {}
    for region, sections in (document.get("regions") or {}).items():
        sections = dict(sections or {})
        if "s3" in sections:
            s3 = dict(sections["s3"] or {})
            s3["buckets"] = {name: _bucket(bucket, invoices if ledger else None)
                             for name, bucket in (s3.get("buckets") or {}).items()}
            sections["s3"] = s3
        if "dynamodb" in sections:
            dynamodb = dict(sections["dynamodb"] or {})
            dynamodb["tables"] = {name: _table(table) for name, table in (dynamodb.get("tables") or {}).items()}
            sections["dynamodb"] = dynamodb
        if "rds" in sections:
            rds = dict(sections["rds"] or {})
            rds["instances"] = {name: _instance(db) for name, db in (rds.get("instances") or {}).items()}
            sections["rds"] = rds
        regions[region] = sections
    migrated["regions"] = regions
    return migrated


def _ledger(ledger: list[Mapping[str, Any]]) -> dict[str, Any]:
    builder = LedgerBuilder()
    for order in ledger:
        refused = [store for store, ok in (order.get("stored") or {}).items() if ok is False]
        builder.add(str(order["order_id"]), epoch_of(str(order["created_at"])), refused)
    return to_builtins(builder.ledger())


def _bucket(bucket: Mapping[str, Any], invoices: dict[str, tuple[str, str | None]] | None) -> dict[str, Any]:
    migrated = dict(bucket)
    objects = bucket.get("objects")
    if not isinstance(objects, Mapping):
        return migrated
    keys: Mapping[str, list[Mapping[str, Any]]] = objects.get("keys") or {}
    versions = [{"key": key, **version} for key, listed in keys.items() for version in listed]
    statuses = [version.get("replication_status") for version in versions]
    newest = sorted(versions, key=lambda v: (str(v.get("last_modified") or ""), v["key"]), reverse=True)[:NEWEST]
    summary: dict[str, Any] = {
        "count": objects.get("count"), "version_count": objects.get("version_count"),
        "delete_marker_count": objects.get("delete_marker_count"), "truncated": bool(objects.get("truncated")),
        "limit": objects.get("limit") or 0, "replication_pending": statuses.count("PENDING"),
        "replication_failed": statuses.count("FAILED"),
        "replication_status_known": bool(objects.get("replication_status_known")), "newest": newest}
    if invoices is not None:
        readable, original = [], []
        for key, listed in keys.items():
            if key not in invoices or not listed or listed[0].get("delete_marker"):
                continue
            order_id, etag = invoices[key]
            readable.append(order_id)
            if listed[0].get("etag") == etag:
                original.append(order_id)
        summary["invoices"] = {"readable": IdSet.of(readable), "original": IdSet.of(original)}
    migrated["objects"] = summary
    return migrated


def _table(table: Mapping[str, Any]) -> dict[str, Any]:
    migrated = dict(table)
    items = table.get("items")
    if isinstance(items, Mapping):
        ids = items.get("order_ids")
        migrated["items"] = {"count": items.get("count"), "order_ids": IdSet.of(ids) if ids is not None else None}
    return migrated


def _instance(db: Mapping[str, Any]) -> dict[str, Any]:
    migrated = dict(db)
    orders = db.get("orders")
    if isinstance(orders, Mapping):
        ids = orders.get("order_ids")
        migrated["orders"] = {**orders, "order_ids": IdSet.of(ids) if ids is not None else None}
    return migrated
