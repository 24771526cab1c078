"""The lab's own parts of the inventory (checks.inventory.lab): the ledger of orders ("orders"), the drills and
the fault injections that recovery checks trace ("drills")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from checks.inventory import Inventory
from checks.inventory.lab import Faults, Ledger

if TYPE_CHECKING:
    from lab.inventory.collector import Collector


def collect(c: Collector, inventory: Inventory) -> None:
    if c.wants("orders"):
        try:
            inventory.orders = c.source.ledger() or Ledger()
        except Exception as exc:  # noqa: BLE001 -- an unreadable part is reported, the rest still read
            c.note("orders", None, "all", exc)
    if c.wants("drills"):
        try:
            inventory.drills = c.source.drills() or []
        except Exception as exc:  # noqa: BLE001 -- an unreadable part is reported, the rest still read
            c.note("drills", None, "all", exc)
            return
        inventory.faults = c.attempt("drills", None, "faults", c.source.faults, None) or Faults()
