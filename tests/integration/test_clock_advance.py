"""A clock advance runs in slices: other calls go on between two, the journal holds the slices and those calls
in the order they ran, and a restart replays them to the same world -- also after a crash mid-advance, which
leaves the world at the last slice done. The advancing sandbox runs in this process (its advance is held
between two slices to let a call in at a known point); each restart runs in a process of its own, as `lab up`
does (moto's state is one per process)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from lab.backends.embedded import EmbeddedBackend
from lab.sandbox import core, inprocess
from lab.sandbox.core import Sandbox
from lab.sandbox.persistence import StateStore, encode_record
from lab.services.workload.engine import Workload
from tests.conftest import free_port

INVOICES = "securecart-invoices-use1"


def _post(sandbox: Sandbox, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, _, data = inprocess.call_app(sandbox.app, inprocess.environ_for(
        "POST", f"{sandbox.endpoint}/_lab/{path}", [("Content-Type", "application/json")], json.dumps(body).encode(),
        internal=False))
    return status, json.loads(data)


def _boot(state: Path) -> Sandbox:
    sandbox = Sandbox(EmbeddedBackend(), state, port=free_port())
    sandbox.boot()
    return sandbox


def _facts(sandbox: Sandbox, bucket: str) -> Any:
    workload = sandbox.engines.find(Workload)
    assert workload is not None
    with sandbox.lock:
        versions = sorted((v.key, v.version_id, v.last_modified, v.etag)
                          for v in sandbox.data.list_object_versions("us-east-1", INVOICES))
        between = sandbox.client("s3").list_object_versions(Bucket=bucket).get("Versions", [])
    return json.loads(json.dumps({
        "now": sandbox.clock.now(), "orders": workload.state.placed, "invoices": versions,
        "between": sorted((v["Key"], v["VersionId"]) for v in between),
        "advances": [event.name for event in sandbox.events.query(kinds=["lab"], source="clock")
                     if event.name.startswith("ClockAdvance")]}))


def _restarted(state: Path, bucket: str, then_advance: str | None = None) -> Any:
    """The facts of the world a restart on `state` finds (journal replayed), in a process of its own; with
    `then_advance`, also the clock's answer to an advance made after the restart."""
    command = [sys.executable, "-m", "tests.integration.test_clock_advance", str(state), bucket,
               *filter(None, [then_advance])]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[2]).stdout
    return json.loads(output.strip().splitlines()[-1])


def _journal(state: Path) -> list[dict[str, Any]]:
    return StateStore(state / "state").load().journal


def _actions(records: list[dict[str, Any]], bucket: str = "") -> list[str]:
    shown = []
    for record in records:
        if record["uri"].startswith("/_lab/clock"):
            shown.append(json.loads(record["body"]).get("action", "tick"))
        elif bucket and record["uri"].startswith(f"/{bucket}/"):
            shown.append(f"{record['method']} {record['uri'].replace(bucket, 'bucket')}")
    return shown


@pytest.fixture(scope="module")
def advanced(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A sandbox with orders flowing and its clock paused advances 2 days; held after its first slice, it lets
    a call in (a PUT) and then goes on. One sandbox for the module: a second restore in this process would
    find moto's state of the first."""
    state = tmp_path_factory.mktemp("advance") / "state"
    with pytest.MonkeyPatch.context() as patch:
        # (no automatic snapshot mid-advance on a slow machine: the tests read the advance's journal whole)
        patch.setattr(core, "SNAPSHOT_WORK_S", 3600.0)
        return _advance(state)


def _advance(state: Path) -> Any:
    sandbox = _boot(state)
    assert _post(sandbox, "clock", {"action": "pause"})[0] == 200
    assert _post(sandbox, "workload", {"enabled": True, "orders_per_hour": 60})[0] == 200
    bucket = f"between-slices-{uuid.uuid4().hex[:8]}"
    sandbox.client("s3").create_bucket(Bucket=bucket)
    sandbox.client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    between, go_on = threading.Event(), threading.Event()
    settled: list[float] = []
    sandbox.settle_survivors = lambda: settled.append(sandbox.clock.now())  # (the server's: settle_survivors)
    let_in = sandbox.lock.let_waiting_in

    def hold_once(limit: float = 0.1) -> None:
        if not between.is_set():
            between.set()
            go_on.wait(60)
        let_in(limit)

    sandbox.lock.let_waiting_in = hold_once
    answer: dict[str, Any] = {}
    advancing = threading.Thread(
        target=lambda: answer.update(_post(sandbox, "clock", {"action": "advance", "duration": "2d"})[1]))
    advancing.start()
    try:
        assert between.wait(120)
        held_at = sandbox.clock.now()
        put = sandbox.client("s3").put_object(Bucket=bucket, Key="k", Body=b"made mid-advance")
        answered_mid_advance = advancing.is_alive()
    finally:
        go_on.set()
        advancing.join(120)
    sandbox.store.close()  # (as kill -9 leaves it: no snapshot since the advance, only the journal)
    everywhere = [order["stored"] for order in sandbox.lab.orders if all((order.get("stored") or {"": 0}).values())]
    return {"stored_dicts": len({id(stored) for stored in everywhere}), "orders_stored": len(everywhere),
            "state": state, "bucket": bucket, "answer": answer, "put": put, "held_at": held_at,
            "answered_mid_advance": answered_mid_advance, "facts": _facts(sandbox, bucket), "settled": settled,
            "journal": _journal(state),
            # (as the advance left it: a restart on the state dir writes a snapshot of the world it replayed)
            "snapshot": (state / "state" / "snapshot.bin").read_bytes()}


def test_calls_go_on_between_slices_and_a_restart_replays_them_in_order(advanced):
    assert advanced["answered_mid_advance"]  # the PUT was answered while the advance was held between slices
    answer, facts = advanced["answer"], advanced["facts"]
    assert answer["advanced_seconds"] == 2 * 86400 and answer["steps"] > 0
    assert facts["now"] > advanced["held_at"]
    actions = _actions(advanced["journal"], advanced["bucket"])
    assert "advance" not in actions  # the advance is its slices in the journal, not one record
    position = actions.index("PUT /bucket/k")
    assert "advance-to" in actions[:position] and "advance-to" in actions[position + 1:]
    assert facts["between"] == [["k", advanced["put"]["VersionId"]]]
    assert facts["orders"] == 2 * 24 * 60  # every order the two days hold, one a minute (the clock is paused)
    assert facts["advances"] == ["ClockAdvance"]  # one event for the advance, not one per slice

    assert _restarted(advanced["state"], advanced["bucket"]) == facts


def test_the_heap_is_settled_between_every_two_slices(advanced):
    """The server keeps each slice's survivors out of the collector's scans between slices (a long advance
    otherwise piled them up for a pause that every other call waited through)."""
    slices = [record for record in advanced["journal"] if _actions([record]) == ["advance-to"]]
    assert len(advanced["settled"]) == len(slices) - 1
    assert advanced["settled"] == sorted(set(advanced["settled"]))  # once per slice, each at a later sim time


def test_the_orders_stored_everywhere_share_what_they_record(advanced):
    assert advanced["orders_stored"] > 2000 and advanced["stored_dicts"] == 1


def test_a_crash_mid_advance_leaves_the_world_at_the_last_slice_done(advanced, tmp_path):
    records = advanced["journal"]
    slices = [record for record in records if _actions([record]) == ["advance-to"]]
    assert len(slices) >= 3
    # The journal as a crash during the third slice leaves it: that slice was never answered nor written.
    cut = records.index(slices[2])
    crashed = tmp_path / "crashed"
    (crashed / "state").mkdir(parents=True)
    (crashed / "state" / "snapshot.bin").write_bytes(advanced["snapshot"])
    store = StateStore(crashed / "state")
    store.load()  # (the snapshot's generation: its journal is the one written below)
    store.open_journal()
    for record in records[:cut]:
        store.append(encode_record(record))
    store.close()

    facts = _restarted(crashed, advanced["bucket"], then_advance="1h")
    assert facts["now"] == json.loads(slices[1]["body"])["until"]  # (the clock is paused)
    assert 0 < facts["orders"] < advanced["facts"]["orders"]
    assert facts["advances"] == []  # the advance never finished
    assert facts["advanced_to"] == pytest.approx(facts["now"] + 3600, abs=1)


if __name__ == "__main__":
    # A restart: boot on the state dir given, print the facts of the world found (and of an advance after it).
    restarted = _boot(Path(sys.argv[1]))
    found = _facts(restarted, sys.argv[2])
    if len(sys.argv) > 3:
        status, answer = _post(restarted, "clock", {"action": "advance", "duration": sys.argv[3]})
        found["advanced_to"] = answer["epoch"] if status == 200 else None
    print(json.dumps(found))
