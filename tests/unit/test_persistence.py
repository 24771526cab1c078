"""The state store on its own: generations, atomic snapshots, journal records, torn tails, real damage, a
full disk."""

from __future__ import annotations

import os
import resource
import signal
import struct
import zlib

import pytest

from lab.errors import LabError
from lab.sandbox.persistence import (
    SNAPSHOT_MAGIC_V1,
    StateStore,
    StorageFullError,
    encode_record,
    read_snapshot_file,
)
from tests.conftest import mounted_tmpfs


def open_store(path, **kwargs) -> tuple[StateStore, list[dict]]:
    store = StateStore(path, **kwargs)
    loaded = store.load()
    store.open_journal()
    return store, loaded.journal


def append(store: StateStore, record: dict) -> None:
    payload = encode_record(record)
    store.reserve(len(payload))
    store.append(payload)


def snapshot(store: StateStore, state: dict) -> int:
    generation = store.rotate()
    store.write_snapshot(state, generation)
    store.commit(generation)
    return generation


def test_snapshot_round_trip_and_generations(tmp_path):
    store, journal = open_store(tmp_path)
    assert journal == []
    append(store, {"n": 1})
    append(store, {"n": 2})
    store.close()
    store, journal = open_store(tmp_path)
    assert journal == [{"n": 1}, {"n": 2}]
    assert snapshot(store, {"world": "v1"}) == 1
    append(store, {"n": 3})
    store.close()
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot == {"world": "v1"} and loaded.generation == 1
    assert loaded.journal == [{"n": 3}] and loaded.warnings == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal-000001.bin", "snapshot.bin"]


def test_crash_between_snapshot_and_journal_removal_applies_nothing_twice(tmp_path):
    """The files a crash leaves after the snapshot's rename but before the old journal is removed."""
    store, _ = open_store(tmp_path)
    snapshot(store, {"counter": 0})
    for _ in range(10):
        append(store, {"op": "increment"})
    generation = store.rotate()  # the records above are in generation 1, the snapshot below contains them
    store.write_snapshot({"counter": 10}, generation)
    append(store, {"op": "increment"})  # after the snapshot: generation 2
    store.close()  # (no commit: the crash)
    assert (tmp_path / "journal-000001.bin").exists()
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot == {"counter": 10} and loaded.generation == 2
    assert loaded.journal == [{"op": "increment"}]  # only generation 2: the ten are in the snapshot
    assert not (tmp_path / "journal-000001.bin").exists()


def test_crash_before_the_snapshot_rename_replays_both_journals(tmp_path):
    store, _ = open_store(tmp_path)
    snapshot(store, {"counter": 0})
    append(store, {"n": 1})
    store.rotate()  # a snapshot started: a new journal takes the next calls...
    append(store, {"n": 2})
    (tmp_path / "snapshot.bin.tmp").write_bytes(b"half a snapshot")  # ...and its writer died
    store.close()
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot == {"counter": 0} and loaded.journal == [{"n": 1}, {"n": 2}]
    assert not (tmp_path / "snapshot.bin.tmp").exists()


def test_torn_last_record_is_dropped_quietly(tmp_path):
    store, _ = open_store(tmp_path)
    append(store, {"n": 1})
    offset, fd = store._offset, store._fd
    os.pwrite(fd, encode_record({"n": 2})[:20], offset)  # a crash mid-write, inside reserved zeros
    store.close()
    size_before = (tmp_path / "journal-000000.bin").stat().st_size
    loaded = StateStore(tmp_path).load()
    assert loaded.journal == [{"n": 1}] and loaded.warnings == []
    store, _ = open_store(tmp_path)
    append(store, {"n": 3})
    store.close()
    assert StateStore(tmp_path).load().journal == [{"n": 1}, {"n": 3}]
    assert size_before > 0


def test_damaged_record_in_the_middle_keeps_the_intact_ones_after_it(tmp_path):
    store, _ = open_store(tmp_path)
    for n in range(5):
        append(store, {"n": n})
    store.close()
    path = tmp_path / "journal-000000.bin"
    data = bytearray(path.read_bytes())
    second = data.index(encode_record({"n": 1}))
    data[second + 14] ^= 0xFF  # a byte inside the second record's payload
    path.write_bytes(bytes(data))
    loaded = StateStore(tmp_path).load()
    assert loaded.journal == [{"n": 0}, {"n": 2}, {"n": 3}, {"n": 4}]
    assert len(loaded.warnings) == 1 and "damaged" in loaded.warnings[0] and "intact" in loaded.warnings[0]
    assert loaded.needs_snapshot
    copies = list((tmp_path / "corrupt").glob("journal-*.bin"))
    assert len(copies) == 1 and copies[0].read_bytes() == bytes(data)


def test_damaged_snapshot_is_moved_aside_with_its_journals(tmp_path):
    store, _ = open_store(tmp_path)
    snapshot(store, {"world": "v1"})
    append(store, {"after": True})
    store.close()
    raw = (tmp_path / "snapshot.bin").read_bytes()
    (tmp_path / "snapshot.bin").write_bytes(raw[:-5] + b"XXXXX")
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot is None and loaded.journal == []
    assert "damaged" in loaded.warnings[0] and "checksum" in loaded.warnings[0]
    moved = list((tmp_path / "corrupt").iterdir())
    assert {p.name.split("-")[0] for p in moved} == {"snapshot", "journal"}
    assert not (tmp_path / "snapshot.bin").exists()


def test_missing_snapshot_sets_the_journal_aside_instead_of_replaying_it(tmp_path):
    store, _ = open_store(tmp_path)
    snapshot(store, {"world": "v1"})
    append(store, {"put": "answered"})
    store.close()
    journal_bytes = (tmp_path / "journal-000001.bin").read_bytes()
    (tmp_path / "snapshot.bin").unlink()
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot is None and loaded.journal == []
    assert "missing" in loaded.warnings[0] and "corrupt" in loaded.warnings[0]
    kept = list((tmp_path / "corrupt").glob("journal-*.bin"))
    assert len(kept) == 1 and kept[0].read_bytes() == journal_bytes


def test_not_a_snapshot_at_all(tmp_path):
    (tmp_path / "snapshot.bin").write_text("hello")
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot is None and "bad header" in loaded.warnings[0]


def test_reads_the_format_before_generations(tmp_path):
    import hashlib
    import pickle

    payload = pickle.dumps({"world": "old"})
    (tmp_path / "snapshot.bin").write_bytes(SNAPSHOT_MAGIC_V1 + struct.pack(">Q32s", len(payload),
                                                                            hashlib.sha256(payload).digest()) + payload)
    record = pickle.dumps({"n": 1})
    (tmp_path / "journal.bin").write_bytes(struct.pack(">II", len(record), zlib.crc32(record)) + record)
    store = StateStore(tmp_path)
    loaded = store.load()
    assert loaded.snapshot == {"world": "old"} and loaded.journal == [{"n": 1}] and loaded.needs_snapshot
    store.open_journal()
    snapshot(store, {"world": "new"})
    store.close()
    assert not (tmp_path / "journal.bin").exists()
    assert read_snapshot_file(tmp_path / "snapshot.bin", with_generation=True) == (1, {"world": "new"})


def test_full_disk_refuses_before_writing_and_recovers(tmp_path):
    """A real file-size limit (RLIMIT_FSIZE): reserving journal space past it fails like a full disk."""
    store, _ = open_store(tmp_path, reserve_chunk=64 * 1024)
    append(store, {"n": 1})
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (store._reserved, limit[1]))
        big = encode_record({"body": b"x" * 200_000})
        with pytest.raises(StorageFullError, match="disk is full"):
            store.reserve(len(big))
        assert store.full is not None
        append(store, {"n": 2})  # small records still fit in the space reserved before
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limit)
        signal.signal(signal.SIGXFSZ, previous)
    store.reserve(len(big))
    assert store.full is None  # room again
    store.append(big)
    store.close()
    assert [r.get("n") for r in StateStore(tmp_path).load().journal] == [1, 2, None]


def test_snapshot_on_a_full_disk_leaves_no_temp_file_and_the_old_state(tmp_path):
    with mounted_tmpfs(tmp_path / "disk", size="1m") as disk:
        store, _ = open_store(disk, reserve_chunk=16 * 1024)
        snapshot(store, {"world": "v1"})
        append(store, {"n": 1})
        generation = store.rotate()
        with pytest.raises(OSError, match="No space left"):
            store.write_snapshot({"world": os.urandom(2 << 20)}, generation)
        assert not (disk / "snapshot.bin.tmp").exists()
        append(store, {"n": 2})
        store.close()
        loaded = StateStore(disk).load()
        assert loaded.snapshot == {"world": "v1"} and loaded.journal == [{"n": 1}, {"n": 2}]


def test_read_only_state_dir_is_a_clear_error(tmp_path):
    with (mounted_tmpfs(tmp_path / "state", size="1m", read_only=True) as folder,
          pytest.raises(LabError, match=r"cannot keep its state in .*Read-only file system")):
        StateStore(folder)


def test_template_with_a_valid_checksum_but_not_a_world_is_set_aside(tmp_path, monkeypatch):
    """Such a template once broke every new state dir; now it is moved to corrupt/ and the world seeded."""
    from lab.sandbox import template
    from lab.sandbox.persistence import write_snapshot_file

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    version = "moto-5.2.5"
    path = template.template_path(20260101, version)
    path.parent.mkdir(parents=True)
    for bad in ({"backend": {"moto_version": "5.2.5"}, "lab": "not a lab"},  # what a hand-made file holds
                {"unrelated": True}):
        write_snapshot_file(path, bad)
        warnings: list[str] = []
        assert template.load(20260101, version, warnings) is None
        assert "unusable" in warnings[0] and "seeded anew" in warnings[0] and not path.exists()
    assert len(list((path.parent / "corrupt").glob("world-*.bin"))) == 2


@pytest.mark.parametrize("policy", ["always", "batch"])
def test_fsync_policies_make_each_record_durable_before_it_is_acknowledged(tmp_path, policy):
    import threading

    store, _ = open_store(tmp_path, fsync=policy)
    lock = threading.Lock()  # the sandbox lock: records are written under it, waited for outside it
    positions = []

    def writer(n: int) -> None:
        payload = encode_record({"n": n})
        with lock:
            store.reserve(len(payload))
            position = store.append(payload)
        store.wait_durable(position)
        assert store._durable >= position
        positions.append(position)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(positions) == 8
    store.close()
    assert sorted(r["n"] for r in StateStore(tmp_path).load().journal) == list(range(8))


def test_a_journal_with_a_bad_header_stops_the_chain_and_is_kept(tmp_path):
    store, _ = open_store(tmp_path)
    snapshot(store, {"world": "v1"})
    append(store, {"n": 1})
    store.rotate()  # a snapshot started and never finished: generations 1 and 2 both follow snapshot 1
    append(store, {"n": 2})
    store.close()
    (tmp_path / "journal-000001.bin").write_bytes(b"not a journal at all, but some bytes of state")
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot == {"world": "v1"} and loaded.journal == []
    assert len(loaded.warnings) == 2 and "bad header" in loaded.warnings[0] and "not follow" in loaded.warnings[1]
    assert len(list((tmp_path / "corrupt").glob("journal-*.bin"))) == 2
def test_a_snapshot_written_before_the_services_moved_still_loads():
    """Worlds saved while engines lived in lab/engines/ keep loading after the move to lab/services/."""
    import pickle

    from lab.kernel.state import LabState
    from lab.sandbox import renames
    from lab.services.backup.model import BackupState

    state = LabState(extensions={"backup": BackupState()})
    old = (pickle.dumps(state, protocol=0)
           .replace(b"lab.kernel.state", b"lab.sandbox.core")
           .replace(b"lab.services.backup.model", b"lab.services.backup.model"))
    assert b"lab.services.backup.model" in old
    loaded = renames.loads(old)
    assert isinstance(loaded, LabState) and isinstance(loaded.extensions["backup"], BackupState)


def test_clear_forgets_the_snapshot_and_every_journal(tmp_path):
    store, _ = open_store(tmp_path)
    append(store, {"n": 1})
    snapshot(store, {"world": "v1"})
    append(store, {"n": 2})
    store.clear()
    assert list(tmp_path.iterdir()) == []
    store.open_journal()
    append(store, {"n": 3})
    store.close()
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot is None and loaded.journal == [{"n": 3}]
