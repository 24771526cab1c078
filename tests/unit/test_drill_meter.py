"""The RPO/RTO meter against a hand count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lab.services.drills.meter import compliance, measure_rpo, measure_rto, resilience_hub_result, written_before

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def ledger() -> list[dict]:
    """Ten orders, one every 10 minutes from 00:00; ORD-000007 failed its S3 write, ORD-000008 its RDS write."""
    orders = []
    for n in range(1, 11):
        order = {"id": n, "order_id": f"ORD-{n:06d}",
                 "created_at": (START + timedelta(minutes=10 * (n - 1))).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if n > 3:  # placed by the workload: it records which stores took the write
            order["stored"] = {"rds": n != 8, "dynamodb": True, "s3": n != 7}
        orders.append(order)
    return orders


INCIDENT = (START + timedelta(minutes=75)).timestamp()  # 01:15: orders 1-8 (up to 01:10) were written before


def test_only_successful_writes_before_the_incident_count() -> None:
    assert sorted(written_before(ledger(), INCIDENT, "items")) == [f"ORD-{n:06d}" for n in range(1, 9)]
    assert "ORD-000007" not in written_before(ledger(), INCIDENT, "invoices")
    assert "ORD-000008" not in written_before(ledger(), INCIDENT, "orders")


def test_rpo_matches_a_hand_count() -> None:
    lost = {
        # 5, 6 and 8 were written before the incident; 9 came after it and is not the incident's loss
        "items": ["ORD-000005", "ORD-000006", "ORD-000008", "ORD-000009"],
        # 7's invoice was never written: it cannot be lost
        "invoices": ["ORD-000007", "ORD-000008"],
        "orders": [],
    }
    rpo = measure_rpo(ledger(), INCIDENT, lost)
    # items: oldest lost is ORD-000005 created 00:40 -> 01:15 - 00:40 = 35 min
    assert rpo["per_store"]["items"] == {"count": 3, "span_seconds": 35 * 60, "oldest": "ORD-000005",
                                         "newest": "ORD-000008"}
    # invoices: only ORD-000008 (01:10) -> 5 min
    assert rpo["per_store"]["invoices"] == {"count": 1, "span_seconds": 5 * 60, "oldest": "ORD-000008",
                                            "newest": "ORD-000008"}
    assert rpo["per_store"]["orders"] == {"count": 0, "span_seconds": 0, "oldest": None, "newest": None}
    assert rpo["count"] == 3  # ORD-000005, 6 and 8, whatever the store
    assert rpo["span_seconds"] == 35 * 60


def test_nothing_lost_is_an_rpo_of_zero() -> None:
    assert measure_rpo(ledger(), INCIDENT, {"items": []}) == {
        "count": 0, "span_seconds": 0, "per_store": {"items": {"count": 0, "span_seconds": 0, "oldest": None,
                                                               "newest": None}}}
    with pytest.raises(ValueError, match="unknown store"):
        measure_rpo(ledger(), INCIDENT, {"volumes": ["x"]})


def test_rto_and_compliance() -> None:
    assert measure_rto(1000.0, None) is None
    assert measure_rto(1000.0, 1090.4) == 90
    targets = {"rto_seconds": 900, "rpo_seconds": 300}
    assert compliance(90, 300, targets) == "PolicyMet"
    assert compliance(901, 0, targets) == "PolicyBreached"
    assert compliance(90, 301, targets) == "PolicyBreached"
    assert compliance(None, 0, targets) == "PolicyBreached"


def test_the_result_has_resilience_hub_shape() -> None:
    rpo = measure_rpo(ledger(), INCIDENT, {"items": ["ORD-000008"]})
    targets = {"rto_seconds": 3600, "rpo_seconds": 600}
    result = resilience_hub_result(drill_id="drill-0001", lab="04-dynamodb-pitr-global", disruption_type="Software",
                                   incident_time=INCIDENT, end_time=INCIDENT + 1200, status="recovered",
                                   rto_seconds=1200, elapsed_seconds=1200, rpo=rpo, targets=targets,
                                   account_id="000000000000", region="us-east-1")
    assert result["complianceStatus"] == "PolicyMet"
    assert result["assessmentStatus"] == "Success"
    assert result["policy"]["policy"] == {"Software": {"rtoInSecs": 3600, "rpoInSecs": 600}}
    entry = result["compliance"]["Software"]
    assert (entry["currentRtoInSecs"], entry["currentRpoInSecs"], entry["complianceStatus"]) == (1200, 300, "PolicyMet")
    assert result["startTime"] == "2026-03-01T01:15:00Z" and result["endTime"] == "2026-03-01T01:35:00Z"
    running = resilience_hub_result(drill_id="d", lab="l", disruption_type="Region", incident_time=INCIDENT,
                                    end_time=None, status="running", rto_seconds=None, elapsed_seconds=60, rpo=rpo,
                                    targets=targets, account_id="000000000000", region="us-east-1")
    assert running["assessmentStatus"] == "InProgress" and "complianceStatus" not in running
    assert running["compliance"]["Region"]["currentRtoInSecs"] == 60
    with pytest.raises(ValueError, match="disruption type"):
        resilience_hub_result(drill_id="d", lab="l", disruption_type="Meteor", incident_time=0, end_time=None,
                              status="running", rto_seconds=None, elapsed_seconds=0, rpo=rpo, targets=targets,
                              account_id="0", region="us-east-1")
