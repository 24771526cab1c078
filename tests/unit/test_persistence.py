"""The state store on its own: atomic snapshots, journal records, torn tails and real damage."""

from __future__ import annotations

from lab.sandbox.persistence import StateStore


def test_snapshot_round_trip_and_journal_truncation(tmp_path):
    store = StateStore(tmp_path)
    store.append({"n": 1})
    store.append({"n": 2})
    assert StateStore(tmp_path).load().journal == [{"n": 1}, {"n": 2}]
    store.write_snapshot({"world": "v1"})
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot == {"world": "v1"} and loaded.journal == [] and loaded.warnings == []


def test_torn_last_record_is_dropped_quietly(tmp_path):
    store = StateStore(tmp_path)
    store.append({"n": 1})
    store.close()
    with open(store.journal_path, "ab") as handle:
        handle.write(b"\x00\x00\x00\x30\xde\xad\xbe\xef" + b"partial")
    loaded = StateStore(tmp_path).load()
    assert loaded.journal == [{"n": 1}] and loaded.warnings == []
    assert StateStore(tmp_path).load().journal == [{"n": 1}]  # the torn tail was cut off for good


def test_damaged_record_keeps_the_prefix_and_a_copy(tmp_path):
    store = StateStore(tmp_path)
    for n in range(3):
        store.append({"n": n})
    store.close()
    data = bytearray(store.journal_path.read_bytes())
    data[-3] ^= 0xFF  # flip a byte inside the last record's payload
    store.journal_path.write_bytes(bytes(data))
    loaded = StateStore(tmp_path).load()
    assert loaded.journal == [{"n": 0}, {"n": 1}]
    assert "damaged" in loaded.warnings[0]
    copies = list((tmp_path / "corrupt").glob("journal-*.bin"))
    assert len(copies) == 1 and copies[0].read_bytes() == bytes(data)


def test_damaged_snapshot_is_moved_aside_not_deleted(tmp_path):
    store = StateStore(tmp_path)
    store.write_snapshot({"world": "v1"})
    store.append({"after": True})
    store.close()
    raw = store.snapshot_path.read_bytes()
    store.snapshot_path.write_bytes(raw[:-5] + b"XXXXX")
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot is None and loaded.journal == []
    assert "damaged" in loaded.warnings[0] and "checksum" in loaded.warnings[0]
    moved = list((tmp_path / "corrupt").iterdir())
    assert {p.name.split("-")[0] for p in moved} == {"snapshot", "journal"}
    assert not store.snapshot_path.exists()


def test_not_a_snapshot_at_all(tmp_path):
    (tmp_path / "snapshot.bin").write_text("hello")
    loaded = StateStore(tmp_path).load()
    assert loaded.snapshot is None and "bad header" in loaded.warnings[0]


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
