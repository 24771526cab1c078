"""The RPO/RTO meter: pure arithmetic over the shop's order ledger, a drill's incident time, and what the
recovery checks found missing. No sandbox, no clock.

- RPO: of the orders written to a store before the incident (the write succeeded), those the recovered state
  lacks. Per store: how many, and the data-loss window -- the incident time minus the creation time of the
  oldest lost order (0 when nothing is lost). The drill's RPO is the widest window over the stores; its count
  is the number of distinct orders lost anywhere.
- RTO: sim seconds from the incident to the first moment the recovery checks pass.
- Compliance as AWS Resilience Hub reports it: PolicyMet when both are within the lab's targets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

#: the stores of the contract (lab.grading's `lost`) -> the key of an order's `stored` flags in the ledger
STORES = {"orders": "rds", "items": "dynamodb", "invoices": "s3"}
DISRUPTION_TYPES = ("Software", "Hardware", "AZ", "Region")


def created_epoch(order: Mapping[str, Any]) -> float:
    return datetime.strptime(order["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def written_before(orders: Iterable[Mapping[str, Any]], incident_time: float, store: str) -> dict[str, float]:
    """order id -> creation time, for the orders whose write to `store` succeeded before the incident.
    Orders seeded with the world carry no `stored` flags: every store holds them."""
    flag = STORES[store]
    return {order["order_id"]: created_epoch(order) for order in orders
            if created_epoch(order) < incident_time and (order.get("stored") or {}).get(flag, True)}


def measure_rpo(orders: list[Mapping[str, Any]], incident_time: float,
                lost: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """{"count", "span_seconds", "per_store": {store: {"count", "span_seconds", "oldest", "newest"}}}.
    Lost ids that were not written before the incident are no loss of the incident's: they are ignored."""
    per_store: dict[str, dict[str, Any]] = {}
    everything: set[str] = set()
    for store, order_ids in sorted(lost.items()):
        if store not in STORES:
            raise ValueError(f"unknown store {store!r}; the stores are {', '.join(STORES)}")
        written = written_before(orders, incident_time, store)
        missing = sorted({order_id for order_id in order_ids if order_id in written}, key=lambda o: (written[o], o))
        span = round(incident_time - written[missing[0]]) if missing else 0
        per_store[store] = {"count": len(missing), "span_seconds": span,
                            "oldest": missing[0] if missing else None, "newest": missing[-1] if missing else None}
        everything.update(missing)
    return {"count": len(everything),
            "span_seconds": max((entry["span_seconds"] for entry in per_store.values()), default=0),
            "per_store": per_store}


def measure_rto(incident_time: float, recovered_time: float | None) -> int | None:
    return None if recovered_time is None else round(recovered_time - incident_time)


def compliance(rto_seconds: int | None, rpo_seconds: int, targets: Mapping[str, int]) -> str:
    met = rto_seconds is not None and rto_seconds <= targets["rto_seconds"] and rpo_seconds <= targets["rpo_seconds"]
    return "PolicyMet" if met else "PolicyBreached"


def resilience_hub_result(*, drill_id: str, lab: str, disruption_type: str, incident_time: float,
                          end_time: float | None, status: str, rto_seconds: int | None, elapsed_seconds: int,
                          rpo: Mapping[str, Any], targets: Mapping[str, int], account_id: str,
                          region: str) -> dict[str, Any]:
    """The drill's outcome in the shape of Resilience Hub's DescribeAppAssessment `assessment`."""
    from lab.sim.clock import iso

    if disruption_type not in DISRUPTION_TYPES:
        raise ValueError(f"unknown disruption type {disruption_type!r}; one of {', '.join(DISRUPTION_TYPES)}")
    finished = status != "running"
    verdict = compliance(rto_seconds, rpo["span_seconds"], targets) if finished else None
    if rto_seconds is not None:
        rto_text = f"recovered {rto_seconds}s after the incident (target {targets['rto_seconds']}s)"
    else:
        rto_text = (f"not recovered: {elapsed_seconds}s and counting" if not finished
                    else f"not recovered within the drill ({elapsed_seconds}s)")
    rpo_text = (f"{rpo['count']} order(s) written before the incident are missing, the oldest "
                f"{rpo['span_seconds']}s before it (target {targets['rpo_seconds']}s)" if rpo["count"]
                else f"nothing written before the incident is missing (target {targets['rpo_seconds']}s)")
    entry: dict[str, Any] = {
        "currentRtoInSecs": rto_seconds if rto_seconds is not None else elapsed_seconds,
        "currentRpoInSecs": rpo["span_seconds"],
        "rtoDescription": rto_text,
        "rpoDescription": rpo_text,
    }
    if verdict:
        entry["complianceStatus"] = verdict
    body: dict[str, Any] = {
        "assessmentName": drill_id,
        "assessmentArn": f"arn:aws:resiliencehub:{region}:{account_id}:app-assessment/{drill_id}",
        "appArn": f"arn:aws:resiliencehub:{region}:{account_id}:app/securecart",
        "assessmentStatus": "Success" if finished else "InProgress",
        "invoker": "User",
        "startTime": iso(incident_time),
        "policy": {"policyName": f"{lab}-targets", "tier": "Critical",
                   "policy": {disruption_type: {"rtoInSecs": targets["rto_seconds"],
                                                "rpoInSecs": targets["rpo_seconds"]}}},
        "compliance": {disruption_type: entry},
    }
    if end_time is not None:
        body["endTime"] = iso(end_time)
    if verdict:
        body["complianceStatus"] = verdict
    return body
