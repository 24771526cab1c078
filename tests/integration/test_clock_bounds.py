"""While the clock advances, `lab status` answers with its counts (they are read under the sandbox's lock, as
every other reader of the world is); an advance longer than the lab simulates is refused at once, in words,
instead of running for hours and growing the world without end."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from lab.admin_client import AdminClient
from lab.errors import LabError
from lab.sandbox.routes import MAX_ADVANCE_DAYS
from tests.conftest import SandboxHandle, free_port, quiet_sandbox

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]) -> Iterator[SandboxHandle]:
    with quiet_sandbox(tmp_path_factory.mktemp("bounds") / "state", lab_env) as handle:
        yield handle


def test_status_counts_while_the_clock_advances(lab: SandboxHandle) -> None:
    admin = AdminClient(lab.endpoint)
    admin.post("clock", {"action": "pause"})
    admin.post("workload", {"enabled": True, "orders_per_hour": 240})
    done: dict[str, object] = {}
    advancing = threading.Thread(target=lambda: done.update(admin.post("clock", {"action": "advance",
                                                                                  "duration": "3d"})))
    advancing.start()
    answered, failures = 0, []
    try:
        while advancing.is_alive() and answered < 400:
            try:
                counts = admin.status(counts=True).get("resources") or {}
                answered += 1
                assert counts["us-east-1"]["s3_objects"] >= 0
            except LabError as exc:
                failures.append(str(exc))
            time.sleep(0.005)
    finally:
        advancing.join(600)
    assert failures == []
    assert answered > 5 and done.get("advanced_seconds") == 3 * 86400


def test_an_advance_longer_than_the_lab_simulates_is_refused_at_once(lab: SandboxHandle) -> None:
    admin = AdminClient(lab.endpoint)
    before = admin.get("clock")["epoch"]
    started = time.perf_counter()
    for duration in ("999999999d", f"{MAX_ADVANCE_DAYS + 1}d", "1" + "0" * 400 + "d"):  # (the last is inf)
        with pytest.raises(LabError, match=f"at most {MAX_ADVANCE_DAYS} days"):
            admin.post("clock", {"action": "advance", "duration": duration})
    refused = lab.lab("clock", "advance", "100000d", check=False)
    assert refused.returncode == 2 and f"at most {MAX_ADVANCE_DAYS} days" in refused.stderr
    assert time.perf_counter() - started < 30 and admin.get("clock")["epoch"] == before


def test_status_counts_the_world_only_between_two_changes(tmp_path) -> None:
    """The counts are read under the sandbox's lock, so no change (a slice of an advance) runs while S3's keys
    are counted, where `lab status` once counted them as they changed ("dictionary changed size during
    iteration", a 500). Here a change tries to start while the objects are being counted."""
    from lab.backends.embedded import EmbeddedBackend
    from lab.sandbox.core import Sandbox

    sandbox = Sandbox(EmbeddedBackend(), tmp_path / "state", port=free_port())
    sandbox.boot()
    counting, probed = threading.Event(), threading.Event()
    count_objects = sandbox.data.count_objects

    def counted(region: str, bucket: str) -> int:
        counting.set()
        probed.wait(5)
        return count_objects(region, bucket)

    sandbox.data.count_objects = counted
    answered: dict[str, object] = {}
    asking = threading.Thread(target=lambda: answered.update(sandbox.status(with_counts=True)))
    asking.start()
    try:
        assert counting.wait(60)
        a_change_got_in = sandbox.lock.acquire(timeout=0.3)
        if a_change_got_in:
            sandbox.lock.release()
    finally:
        probed.set()
        asking.join(60)
        sandbox.store.close()
    assert not a_change_got_in
    assert answered["resources"]["us-east-1"]["s3_buckets"] >= 1
