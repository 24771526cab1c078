"""Summaries of a bucket's objects kept up to date as the bucket changes, so that reading one costs what changed
since the last reading, not the bucket's age (a month of orders is 100,000 object versions).

`BucketDigest` asks the data layer which keys changed since it last asked (`DataAccess.key_head_changes`: the
embedded backend's key store notes every key it changes) and the ledger which invoices were added since
(`LedgerDigest.invoice_keys`), and updates its counts, the ledger invoices the bucket holds (as runs of order
numbers, `Runs`) and its newest keys. What it answers is what `lab.inventory.sources.summarise_objects` makes
from every key (tests/unit/test_inventory_live.py compares them).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from checks.inventory import IdSet
from checks.inventory.s3 import Invoices, Objects, ObjectVersion
from lab.inventory.convert import iso
from lab.kernel.data import KeyHead

if TYPE_CHECKING:
    from lab.inventory.sources import LedgerDigest
    from lab.kernel.data import DataAccess

NEWEST_VERSIONS = 50  # the newest object versions a bucket's summary shows (the TUI's explorer lists them)

_WATCHERS = itertools.count(1)

#: an invoice in the ledger: (the order's number, or None for an id not of the ORD-000042 form; its id; the ETag
#: of its original content)
Invoice = tuple[int | None, str, str]


class Runs:
    """A set of integers as sorted, disjoint, non-adjacent [first, last] runs, changed one number at a time in
    time proportional to the runs (a month of orders is one run), not the numbers."""

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.lasts: list[int] = []

    def add(self, number: int) -> None:
        firsts, lasts = self.firsts, self.lasts
        at = bisect.bisect_right(firsts, number) - 1  # the run starting at or before the number
        if at >= 0 and number <= lasts[at]:
            return  # already in
        joins_left = at >= 0 and lasts[at] == number - 1
        joins_right = at + 1 < len(firsts) and firsts[at + 1] == number + 1
        if joins_left and joins_right:
            lasts[at] = lasts[at + 1]
            del firsts[at + 1], lasts[at + 1]
        elif joins_left:
            lasts[at] = number
        elif joins_right:
            firsts[at + 1] = number
        else:
            firsts.insert(at + 1, number)
            lasts.insert(at + 1, number)

    def discard(self, number: int) -> None:
        firsts, lasts = self.firsts, self.lasts
        at = bisect.bisect_right(firsts, number) - 1
        if at < 0 or number > lasts[at]:
            return
        first, last = firsts[at], lasts[at]
        if first == last:
            del firsts[at], lasts[at]
        elif number == first:
            firsts[at] = number + 1
        elif number == last:
            lasts[at] = number - 1
        else:
            lasts[at] = number - 1
            firsts.insert(at + 1, number + 1)
            lasts.insert(at + 1, last)

    def runs(self) -> list[tuple[int, int]]:
        return list(zip(self.firsts, self.lasts, strict=True))


class _Held:
    """The ledger invoices a bucket holds one way (readable, or original): numbered ones as runs, others apart."""

    def __init__(self) -> None:
        self.numbers = Runs()
        self.others: dict[str, int] = {}  # order id -> how many keys hold it

    def add(self, invoice: Invoice) -> None:
        number, order_id, _ = invoice
        if number is not None:
            self.numbers.add(number)
        else:
            self.others[order_id] = self.others.get(order_id, 0) + 1

    def discard(self, invoice: Invoice) -> None:
        number, order_id, _ = invoice
        if number is not None:
            self.numbers.discard(number)
        else:
            left = self.others.get(order_id, 0) - 1
            if left > 0:
                self.others[order_id] = left
            else:
                self.others.pop(order_id, None)

    def id_set(self) -> IdSet:
        return IdSet(runs=self.numbers.runs(), others=sorted(self.others))


class BucketDigest:
    """One bucket's summary, kept up to date from the keys that changed and the invoices added since the last
    reading (`objects`). Not thread-safe: read under the sandbox's lock."""

    def __init__(self, region: str, bucket: str) -> None:
        self.region = region
        self.bucket = bucket
        self.watcher = f"inventory-{next(_WATCHERS)}"
        self._heads: dict[str, KeyHead] = {}
        self._versions = self._markers = self._count = 0
        self._readable, self._original = _Held(), _Held()
        self._invoices: Mapping[str, Invoice] | None = None
        self._invoices_seen = 0
        self._newest: list[tuple[int, str]] = []  # the newest (last modified, key), ascending
        self._newest_stale = True

    def objects(self, data: DataAccess, ledger: LedgerDigest,
                replication: Mapping[str, int] | None) -> Objects:
        whole, heads, gone = data.key_head_changes(self.region, self.bucket, self.watcher)
        invoices, added, seen = ledger.invoice_keys(self._invoices_seen)
        if whole:
            self._start_again()
        # First the keys judged as they were, against the invoices as they are now; then what changed.
        if invoices is not self._invoices:  # another ledger (a reset, a restore): every key judged again
            self._invoices = invoices
            self._readable, self._original = _Held(), _Held()
            for key, head in self._heads.items():
                self._judge(key, head)
        else:
            for key in added:  # an invoice the ledger has learnt of since, for a key written before it
                head = self._heads.get(key)
                if head is not None:
                    self._judge(key, head)
        self._invoices_seen = seen
        for key in gone:
            self._drop(key)
        for head in heads:
            self._put(head)
        return self._summary(replication)

    # -- the parts ---------------------------------------------------------------------------------

    def _start_again(self) -> None:
        self._heads = {}
        self._versions = self._markers = self._count = 0
        self._readable, self._original = _Held(), _Held()
        self._newest, self._newest_stale = [], True

    def _drop(self, key: str) -> None:
        old = self._heads.pop(key, None)
        if old is None:
            return
        self._versions -= old.versions
        self._markers -= old.markers
        self._count -= old.etag is not None
        self._unjudge(key, old)
        entry = (old.last_modified, key)
        if not self._newest_stale and entry in self._newest:
            self._newest.remove(entry)
            # (a key outside the list may now be among the newest)
            self._newest_stale = len(self._heads) > len(self._newest)

    def _put(self, head: KeyHead) -> None:
        key = head.key
        self._drop(key)
        self._heads[key] = head
        self._versions += head.versions
        self._markers += head.markers
        self._count += head.etag is not None
        self._judge(key, head)
        if not self._newest_stale:
            entry, newest = (head.last_modified, key), self._newest
            if len(newest) < NEWEST_VERSIONS and len(self._heads) > len(newest) + 1:
                self._newest_stale = True  # (some key outside the list may be newer than this one)
            elif len(newest) < NEWEST_VERSIONS or entry > newest[0]:
                bisect.insort(newest, entry)
                if len(newest) > NEWEST_VERSIONS:
                    del newest[0]

    def _unjudge(self, key: str, head: KeyHead) -> None:
        """Take back what _judge counted for the key at `head` (the same ledger's invoice: a key's invoice does
        not change within a ledger; another ledger judges every key again from the start)."""
        invoice = (self._invoices or {}).get(key)
        if invoice is not None and head.etag is not None:
            self._readable.discard(invoice)
            if head.etag == invoice[2]:
                self._original.discard(invoice)

    def _judge(self, key: str, head: KeyHead) -> None:
        """Count the key at `head` against its invoice: readable, its current version is not a delete marker;
        original, and it is the original content."""
        invoice = (self._invoices or {}).get(key)
        if invoice is None or head.etag is None:
            return
        self._readable.add(invoice)
        if head.etag == invoice[2]:
            self._original.add(invoice)

    def _summary(self, replication: Mapping[str, int] | None) -> Objects:
        if self._newest_stale:
            self._newest = sorted((head.last_modified, key) for key, head in self._heads.items())[-NEWEST_VERSIONS:]
            self._newest_stale = False
        heads = self._heads
        newest = [heads[key] for _, key in reversed(self._newest)]
        return Objects(
            count=self._count, version_count=self._versions, delete_marker_count=self._markers, truncated=False,
            limit=0, replication_pending=(replication or {}).get("PENDING", 0),
            replication_failed=(replication or {}).get("FAILED", 0), replication_status_known=replication is not None,
            newest=[ObjectVersion(key=h.key, version_id=h.version_id, etag=h.etag, size=h.size,
                                  last_modified=iso(h.last_modified), latest=True, delete_marker=h.etag is None)
                    for h in newest],
            invoices=Invoices(readable=self._readable.id_set(), original=self._original.id_set()))
