"""kill -9 at random moments under concurrent writers: every acknowledged write (content and S3 version id)
is there after the restart. Automatic snapshots every 25 records, so kills land before, during and after
them, and the first write after each one is checked (its version id once came back different)."""

from __future__ import annotations

import random

from tests.conftest import SandboxHandle, free_port
from tests.integration._crash import Acknowledged, crash_round, prepare

ROUNDS = 3


def test_kill_9_under_concurrent_writers_loses_no_acknowledged_write(tmp_path, lab_env):
    env = dict(lab_env, LAB_SNAPSHOT_EVERY="25")
    sandbox = SandboxHandle(tmp_path / "state", free_port(), env)
    rng = random.Random(13)
    acked = Acknowledged()
    try:
        sandbox.up()
        prepare(sandbox)
        for round_no in range(ROUNDS):
            result = crash_round(sandbox, acked, rng, round_no, writes_per_thread=400)
            assert result.lost == [], f"round {round_no}: {len(result.lost)} acknowledged lost: {result.lost[:5]}"
        assert len(acked.objects) + len(acked.items) >= 3 * 10  # (by construction: each round waits for 10+)
        log = (sandbox.state_dir / "sandbox.log").read_text()
        assert "(automatic)" in log  # automatic snapshots ran between the kills
    finally:
        sandbox.down()
