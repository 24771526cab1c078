"""The sandbox's in-process clients: parsed answers and streamed bodies both come back whole."""

from __future__ import annotations

from lab.backends.embedded import EmbeddedBackend
from lab.sandbox.core import Sandbox


def test_in_process_client_reads_streamed_bodies(tmp_path):
    sandbox = Sandbox(EmbeddedBackend(), tmp_path, port=4599, seed_world=False)
    sandbox.boot()
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="in-process")
    s3.put_object(Bucket="in-process", Key="a/b", Body=b"hello" * 1000)
    assert s3.get_object(Bucket="in-process", Key="a/b")["Body"].read() == b"hello" * 1000
    assert "in-process" in [b["Name"] for b in s3.list_buckets()["Buckets"]]  # moto state is per process
    sandbox.close()


class _EmptyAtEveryStart(EmbeddedBackend):
    """A backend that keeps nothing between runs (as LocalStack in host mode does)."""

    ephemeral = True


def test_a_backend_that_starts_empty_boots_over_an_earlier_runs_saved_state(tmp_path):
    """What an earlier run saved is forgotten, not replayed into a backend that lacks it."""
    first = Sandbox(EmbeddedBackend(), tmp_path, port=4599, seed_world=False)
    first.boot()
    first.client("s3").create_bucket(Bucket="from-the-last-run")
    first.snapshot()
    first.close()
    state = first.store.directory
    assert (state / "snapshot.bin").exists()
    again = Sandbox(_EmptyAtEveryStart(), tmp_path, port=4599, seed_world=False)
    again.boot()
    assert again.ready.is_set()
    assert not (state / "snapshot.bin").exists() and again.store.snapshot_generation == 0
    again.client("s3").create_bucket(Bucket="this-run")
    again.close()


def test_a_seeded_world_and_its_template_hold_nothing_else_this_process_put_in_moto(tmp_path, monkeypatch):
    """A world seeded in a process whose moto already held something (an earlier in-process sandbox, a test)
    held that too, and cached it as the template every later start on this machine restored."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    earlier = Sandbox(EmbeddedBackend(), tmp_path / "earlier", port=4599, seed_world=False)
    earlier.boot()
    earlier.client("s3").create_bucket(Bucket="left-by-an-earlier-user")
    earlier.close()
    seeded = Sandbox(EmbeddedBackend(), tmp_path / "seeded", port=4599, seed_world=True)
    seeded.boot()
    assert seeded.world_source == "seeded"
    names = {bucket["Name"] for bucket in seeded.client("s3").list_buckets()["Buckets"]}
    assert "securecart-invoices-use1" in names and "left-by-an-earlier-user" not in names
    seeded.close()
    restored = Sandbox(EmbeddedBackend(), tmp_path / "restored", port=4599, seed_world=True)
    restored.boot()
    assert restored.world_source == "template"
    assert {bucket["Name"] for bucket in restored.client("s3").list_buckets()["Buckets"]} == names
    restored.close()
