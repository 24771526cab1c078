"""The live data source against a real sandbox: what the app shows comes from the lab's own API."""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator

import pytest

from lab import progress
from lab.grading import RECOVER_STEP_ID
from lab.sandbox.server import RUNTIME_FILE
from tui import live
from tui.data import RECOVERY_HINTS
from tui.live import LiveSource

pytestmark = pytest.mark.integration

LAB = "02-s3-crr"


def source_for(handle) -> LiveSource:
    return LiveSource(handle.state_dir, handle.port)


def test_labs_checks_hints_and_steps_go_through_the_lab(sandbox) -> None:
    source = source_for(sandbox)
    labs = {summary.lab.id: summary for summary in source.labs()}
    assert LAB in labs and labs[LAB].lab.steps and labs[LAB].lab.drill is not None
    before = progress.load(sandbox.state_dir).lab(LAB).attempts

    report = source.run_checks(LAB, "configure", attempt=True)
    assert report.lab_id == LAB and report.steps and report.checked_at
    assert all(outcome.status in ("PASS", "FAIL", "ERROR", "NOT_APPLICABLE") for outcome in report.outcomes())
    assert progress.load(sandbox.state_dir).lab(LAB).attempts == before + 1

    step = labs[LAB].lab.steps[0]
    shown = source.reveal_hint(LAB, step.id)
    assert shown.hints_for(step.id) == min(1 + labs[LAB].progress.hints_for(step.id), len(step.hints))
    source.set_current_step(LAB, labs[LAB].lab.steps[-1].id)
    assert source.lab(LAB).progress.current_step == labs[LAB].lab.steps[-1].id
    assert source.settings()["last_lab"] == LAB
    with pytest.raises(KeyError, match="no lab 'no-such-lab'"):
        source.lab("no-such-lab")


def test_sandbox_world_events_and_scenarios(sandbox) -> None:
    source = source_for(sandbox)
    view = source.sandbox()
    assert view.running and view.clock is not None and view.workload is not None
    assert [h.region for h in view.regions] == ["us-east-1", "us-west-2"]

    world = source.world()
    east = world.region("us-east-1")
    assert east is not None
    names = {(r.kind, r.name) for r in east.resources}
    assert ("bucket", "securecart-invoices-use1") in names and ("db-instance", "securecart-orders-db") in names
    database = next(r for r in east.resources if r.name == "securecart-orders-db")
    assert database.zone in east.zones and "order rows" in database.details

    batch = source.events(0, 50)
    assert batch.events and batch.last_seq >= batch.events[-1].seq
    assert source.events(batch.last_seq).events == () or all(e.seq > batch.last_seq
                                                               for e in source.events(batch.last_seq).events)
    scenarios = {s.name: s for s in source.scenarios()}
    assert "region-outage" in scenarios
    assert {p.name for p in scenarios["region-outage"].params} >= {"region"}


def test_failures_and_the_clock(fresh_sandbox) -> None:
    fresh_sandbox.up()
    source = source_for(fresh_sandbox)
    fault = source.inject("region-outage", {"region": "us-west-2", "duration": "1m"})
    assert fault.scenario == "region-outage" and fault.regions == ("us-west-2",)
    west = next(h for h in source.sandbox().regions if h.region == "us-west-2")
    assert west.state == "outage"
    before = source.sandbox().clock.epoch
    after = source.clock("advance", "2m")
    assert after.epoch >= before + 120
    assert not source.sandbox().faults  # its minute ran out while the clock advanced
    source.clock("pause")
    assert source.sandbox().clock.paused
    source.inject("region-outage", {"region": "us-east-1"})
    source.recover()
    assert all(h.state == "healthy" for h in source.sandbox().regions)

    # The sandbox dies: the source says so (it never raises for that) and starts it again, state intact.
    os.kill(fresh_sandbox.pid(), signal.SIGKILL)
    down = source.sandbox()
    assert down.state == "down" and down.message
    again = source.restart()
    assert again.running and again.clock is not None and again.clock.paused


def test_the_drill_text_and_its_hints_come_from_the_exercise(sandbox) -> None:
    """The drill's briefing, recovery instructions and hints reach the app; its hints count in progress."""
    source = source_for(sandbox)
    lab = source.lab(LAB).lab
    assert lab.drill is not None and "overwritten 25 invoices" in lab.drill.briefing_md
    assert [(then.scenario, then.after_seconds) for then in lab.drill.then] == [("region-outage", 900)]
    assert "list-object-versions" in lab.recovery_instructions_md and len(lab.recovery_hints) == 3
    before = source.lab(LAB).progress.hints_for(RECOVERY_HINTS)
    shown = source.reveal_hint(LAB, RECOVERY_HINTS)
    assert shown.hints_for(RECOVERY_HINTS) == min(before + 1, 3)
    assert progress.load(sandbox.state_dir).lab(LAB).hints_for(RECOVER_STEP_ID) == min(before + 1, 3)


@pytest.fixture
def silent_port() -> Iterator[tuple[socket.socket, int]]:
    """A port that takes connections and never answers: a sandbox too busy to reply."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener, listener.getsockname()[1]
    finally:
        listener.close()


def test_a_sandbox_that_does_not_answer_is_busy_and_one_that_refuses_is_down(tmp_path, silent_port,
                                                                              monkeypatch) -> None:
    """Only a refused connection or an exited process is "down"; a slow answer is "busy"."""
    monkeypatch.setattr(live, "POLL_TIMEOUT", 0.5)
    listener, port = silent_port
    source = LiveSource(tmp_path, port)
    busy = source.sandbox()
    assert busy.state == "busy" and "no answer within 0.5 s" in busy.message
    # Its process (here: this one) still runs and its port takes connections: no second sandbox is started.
    (tmp_path / RUNTIME_FILE).write_text(json.dumps({"pid": os.getpid(), "endpoint": source.endpoint}))
    assert source.ensure_running().state == "busy"
    listener.close()
    down = source.sandbox()
    assert down.state == "down" and "no sandbox answers" in down.message
