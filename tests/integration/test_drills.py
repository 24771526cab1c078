"""Drills: the sandbox measures RTO and RPO in sim time, and the figures match a count by hand."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tests.conftest import SandboxHandle
from tests.integration._faults_support import METER_LAB, advance, aws, damage_lab, http, now

pytestmark = pytest.mark.integration
__all__ = ["damage_lab"]  # the fixture, imported for pytest


@pytest.fixture
def paused(damage_lab: SandboxHandle) -> Iterator[SandboxHandle]:
    """The test's sandbox with its clock paused just after a whole second (the drill's incident time is kept to
    the second): only what the test advances passes."""
    http(damage_lab, "POST", "/_lab/clock", {"action": "pause"})
    advance(damage_lab, f"{math.ceil(now(damage_lab)) - now(damage_lab) + 0.01:.3f}s")
    yield damage_lab
    http(damage_lab, "POST", "/_lab/clock", {"action": "resume"})
    http(damage_lab, "POST", "/_lab/recover")


def epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def drill_of(sandbox: Any, drill_id: str) -> dict[str, Any]:
    status, body = http(sandbox, "GET", f"/_lab/drills/{drill_id}")
    assert status == 200, body
    return body


def order_item(order: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": {"S": order["order_id"]}, "customer": {"S": order["customer"]},
            "amount": {"N": order["amount"]}, "created_at": {"S": order["created_at"]}, "status": {"S": "PLACED"}}


def make_order_history_whole(sandbox: Any) -> None:
    """Put back every item an earlier test's scenario destroyed: the drill's loss is then the drill's own."""
    dynamodb = aws(sandbox, "dynamodb")
    present = {item["order_id"]["S"] for page in dynamodb.get_paginator("scan").paginate(
        TableName="securecart-order-history", ProjectionExpression="order_id") for item in page["Items"]}
    missing = [order for order in http(sandbox, "GET", "/_lab/orders")[1]["orders"]
               if order["order_id"] not in present and (order.get("stored") or {}).get("dynamodb", True)]
    for start in range(0, len(missing), 25):
        dynamodb.batch_write_item(RequestItems={"securecart-order-history": [
            {"PutRequest": {"Item": order_item(order)}} for order in missing[start:start + 25]]})


def test_the_meter_matches_a_hand_count(paused: SandboxHandle) -> None:
    make_order_history_whole(paused)
    advance(paused, "6m")  # the workload's order a minute: the five newest items are recent ones
    status, drill = http(paused, "POST", "/_lab/drills", {"lab": METER_LAB})
    assert status == 200, drill
    assert (drill["status"], drill["scenario"], drill["compliance"]) == ("running", "accidental-deletion", None)
    assert drill["targets"] == {"rto_seconds": 1800, "rpo_seconds": 600}
    assert drill["before"]["orders_total"] >= 48 and drill["before"]["last_order_id"].startswith("ORD-")
    incident = epoch(drill["incident_time"])
    assert incident == math.floor(now(paused))
    injection = next(i for i in http(paused, "GET", "/_lab/faults?all=1")[1]["injections"]
                     if i["id"] == drill["injections"][0])
    deleted = injection["outcome"]["deleted"]
    ledger = {o["order_id"]: o for o in http(paused, "GET", "/_lab/orders")[1]["orders"]}
    created = {order_id: epoch(ledger[order_id]["created_at"]) for order_id in deleted}
    oldest_first = sorted(deleted, key=lambda o: (created[o], o))
    assert len(deleted) == 5 and all(created[o] < incident for o in deleted)

    advance(paused, "2m")
    running = drill_of(paused, drill["id"])
    assert running["status"] == "running" and running["evaluations"] == 2  # at +1m and +2m
    assert running["rpo"]["count"] == 5
    assert running["rpo"]["per_store"]["items"]["span_seconds"] == incident - created[oldest_first[0]]
    assert running["result"]["assessmentStatus"] == "InProgress"

    advance(paused, "5m")
    # One call puts back the three oldest; the two newest stay lost (the lab accepts 150 s of loss).
    aws(paused, "dynamodb").batch_write_item(RequestItems={"securecart-order-history": [
        {"PutRequest": {"Item": order_item(ledger[order_id])}} for order_id in oldest_first[:3]]})
    advance(paused, "1s")  # the engines catch up: the evaluation the write asked for runs at its instant

    recovered = drill_of(paused, drill["id"])
    assert recovered["status"] == "recovered", recovered["last_checks"]
    assert recovered["rto_seconds"] == 7 * 60
    assert recovered["recovered_time"] == datetime.fromtimestamp(incident + 420, tz=UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    lost = oldest_first[3:]
    assert recovered["rpo"] == {"count": 2, "span_seconds": incident - created[lost[0]], "per_store": {"items": {
        "count": 2, "span_seconds": incident - created[lost[0]], "oldest": lost[0], "newest": lost[1]}}}
    assert recovered["compliance"] == "PolicyMet"
    result = recovered["result"]
    assert result["complianceStatus"] == "PolicyMet" and result["assessmentStatus"] == "Success"
    assert result["compliance"]["Software"]["currentRtoInSecs"] == 420
    assert result["compliance"]["Software"]["currentRpoInSecs"] == incident - created[lost[0]]
    assert result["policy"]["policy"]["Software"] == {"rtoInSecs": 1800, "rpoInSecs": 600}
    events = http(paused, "GET", "/_lab/events?kind=drill")[1]["events"]
    assert [e["name"] for e in events if e["resource"] == drill["id"]] == ["DrillStarted", "DrillRecovered"]
    assert drill["id"] in {d["id"] for d in http(paused, "GET", "/_lab/drills")[1]["drills"]}


def test_a_drill_given_up_breaches_its_policy(paused: SandboxHandle) -> None:
    first = http(paused, "POST", "/_lab/drills", {"lab": METER_LAB})[1]
    second = http(paused, "POST", "/_lab/drills", {"lab": METER_LAB})[1]
    assert drill_of(paused, first["id"])["end_reason"] == f"superseded by {second['id']}"
    advance(paused, "3m")
    status, ended = http(paused, "POST", f"/_lab/drills/{second['id']}/end")
    assert status == 200 and ended["status"] == "ended" and ended["rto_seconds"] is None
    assert ended["compliance"] == "PolicyBreached"
    assert ended["result"]["compliance"]["Software"]["currentRtoInSecs"] == 180
    assert http(paused, "GET", "/_lab/drills/drill-9999")[0] == 404
    assert http(paused, "POST", "/_lab/drills", {"lab": "00-no-such-lab"})[0] == 400


def test_the_lab_command_runs_and_lists_drills(damage_lab: SandboxHandle) -> None:
    out = damage_lab.lab("drill", METER_LAB).stdout
    assert "accidental-deletion injected" in out and "RTO 30 min, RPO 10 min" in out
    # The drill's own words: what happened, then how to recover.
    assert "== Briefing\nThe five newest order-history items are deleted by mistake." in out
    assert "== Recover\nPut the items back." in out
    listing = damage_lab.lab("drills").stdout
    assert METER_LAB in listing and "measuring" in listing
    drill_id = out.split(":", 1)[0]
    # run again while it runs: the learner is told the first one ended unrecovered (it ended silently)
    again = damage_lab.lab("drill", METER_LAB).stdout
    assert f"({drill_id}, the drill of this lab that was still running, has ended unrecovered" in again
    second = again.split(":", 1)[0]
    assert "ended" in damage_lab.lab("drill", METER_LAB, "--end", second).stdout


def test_a_started_drill_s_briefing_shows_its_own_hour() -> None:
    """A briefing written for 11:40 UTC opens with the hour the drill struck when it is run at another."""
    from lab import exercises
    from lab.commands.failures import _echo_drill_text

    lab = exercises.load("09")
    assert lab.drill is not None and lab.drill.briefing_md.startswith("11:40 UTC: ")
    out = CliRunner().invoke(click.Command("show", callback=lambda: _echo_drill_text(
        lab, started=True, incident_time="2026-12-08T02:42:33Z"))).output
    assert "== Briefing\n02:42 UTC: us-east-1 stops answering." in out and "11:40" not in out


def test_a_drill_s_failures_end_with_it(paused: SandboxHandle) -> None:
    """Issue 15: lab 02's drill schedules a region outage 15 sim-minutes after the incident; it struck after the
    drill had ended, took us-east-1 down and un-passed another lab. A drill's scheduled failures are cancelled,
    and its active ones ended, when it ends or is recovered."""
    drill = http(paused, "POST", "/_lab/drills", {"lab": "02-s3-crr"})[1]
    # the incident time T a lab's recovery commands start from (T=$(lab drills --incident 02-s3-crr))
    assert paused.lab("drills", "--incident", "02").stdout.strip() == drill["incident_time"]
    refused = paused.lab("drills", "--incident", "06-rds-multi-az", check=False)
    assert refused.returncode == 2 and "lab drill 06-rds-multi-az" in refused.stderr
    faults = {i["id"]: i for i in http(paused, "GET", "/_lab/faults?all=1")[1]["injections"]}
    outage = next(faults[i] for i in drill["injections"] if faults[i]["name"] == "region-outage")
    assert outage["status"] == "scheduled"
    advance(paused, "1m")
    status, ended = http(paused, "POST", f"/_lab/drills/{drill['id']}/end")
    assert status == 200 and ended["status"] == "ended"
    advance(paused, "30m")  # well past the outage's start
    faults = {i["id"]: i for i in http(paused, "GET", "/_lab/faults?all=1")[1]["injections"]}
    assert faults[outage["id"]]["status"] == "ended"
    assert faults[outage["id"]]["end_reason"] == f"{drill['id']} ended"
    assert "us-east-1" not in http(paused, "GET", "/_lab/faults")[1].get("regions_down", [])
    aws(paused, "s3").head_bucket(Bucket="securecart-invoices-use1")  # us-east-1 answers
