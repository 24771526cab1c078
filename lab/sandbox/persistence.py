"""Crash-safe state: a snapshot plus journals of every state-changing request since it, by generation.

Files in the state dir's `state/` folder:
  snapshot.bin           the world at the start of generation G (G is in its header)
  journal-<N>.bin        the requests of generation N, in order; replayed over the snapshot for N >= G
  corrupt/               whatever could not be used, set aside with a timestamp, never deleted

A snapshot is taken in three steps: under the sandbox lock a new journal (generation G+1) is opened for
the requests that follow; the state at that instant is written to `snapshot.bin.tmp` and renamed over the
snapshot (its header says G+1); then the journals older than G+1 are removed. A crash at any point leaves
files that load to the same state: before the rename, the old snapshot and every journal since it; after it,
the new snapshot, and any older journal left behind is recognised by its generation and never applied
twice.

A request is acknowledged only once its record is in the journal (`fsync` policy: written to the OS, or on
disk). The space for a record is reserved ahead (`posix_fallocate`, in chunks) before the request is
applied, so a full disk refuses the request before anything changes, instead of failing to journal a
change already made. Records carry a marker, their length and a CRC: the record torn by a crash (the
request in flight, never answered) is told apart from damage, and intact records after damage are found
and replayed; damaged bytes are copied aside with a message.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import pickle
import re
import struct
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import LabError
from lab.sandbox import renames

log = logging.getLogger("lab.persistence")

# What each --fsync policy guarantees for an acknowledged request (docs: README "Nothing is lost").
FSYNC_POLICIES = {
    "always": "each change is on disk before its answer (survives a power cut; slowest)",
    "batch": "each change is on disk before its answer; concurrent changes share one fsync",
    "never": "each change is written to the OS before its answer (survives kill -9 and crashes of the "
             "sandbox, not a power cut or a kernel crash)",
}
DEFAULT_FSYNC = "never"

SNAPSHOT_MAGIC_V1 = b"SECURECART-LAB-SNAPSHOT\x001\n"  # before generations: read as generation 0
SNAPSHOT_MAGIC = b"SECURECART-LAB-SNAPSHOT\x002\n"
_SNAPSHOT_HEADER_V1 = struct.Struct(">Q32s")  # payload length, sha256 of payload
_SNAPSHOT_HEADER = struct.Struct(">QQ32s")  # generation, payload length, sha256 of payload
JOURNAL_MAGIC = b"SECURECART-LAB-JOURNAL\x001\n"
_JOURNAL_HEADER = struct.Struct(">Q")  # generation
RECORD_MARK = b"\xf0JR\x01"
_RECORD_HEADER = struct.Struct(">4sII")  # mark, payload length, crc32 of (length, payload)
_LEGACY_RECORD_HEADER = struct.Struct(">II")  # journal.bin before generations: length, crc32(payload)
_JOURNAL_NAME = re.compile(r"journal-(\d{6,})\.bin")
RESERVE_CHUNK = 1 << 20  # journal space reserved at a time
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class StorageFullError(Exception):
    """The journal cannot take the next record: the request must be refused before it changes anything."""


@dataclass
class LoadedState:
    snapshot: dict[str, Any] | None = None
    generation: int = 0  # of the snapshot (0: no snapshot, the empty world)
    journal: list[dict[str, Any]] = field(default_factory=list)  # to replay over the snapshot, in order
    warnings: list[str] = field(default_factory=list)
    # Something was set aside or read in an older format: a new snapshot should supersede it after replay.
    needs_snapshot: bool = False


def check_writable(directory: Path) -> None:
    """Raise LabError naming `directory` when the sandbox cannot keep its state there."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-test-", dir=directory)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise LabError(f"the sandbox cannot keep its state in {directory}: {exc.strerror or exc}. "
                       "Make the folder writable, or choose another with --state-dir (or LAB_STATE_DIR).") from exc


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL


class StateStore:
    def __init__(self, directory: Path, fsync: str = DEFAULT_FSYNC, reserve_chunk: int = RESERVE_CHUNK) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync policy must be one of {', '.join(FSYNC_POLICIES)}, not {fsync!r}")
        check_writable(directory)
        self.directory = directory
        self.snapshot_path = directory / "snapshot.bin"
        self.legacy_journal_path = directory / "journal.bin"
        self.fsync = fsync
        self.reserve_chunk = reserve_chunk
        self.generation = 0  # of the journal new records go to
        self.snapshot_generation = 0
        self.journal_records = 0  # in the current journal
        self.journal_bytes = 0
        self.full: str | None = None  # why the last reservation failed, while the disk stays full
        self._fd: int | None = None
        self._offset = 0  # where the next record goes
        self._reserved = 0  # the journal file's allocated size
        self._durable = (0, 0)  # (generation, offset) known to be on disk (fsync policies)
        self._sync_lock = threading.Lock()
        self._valid_end: dict[int, int] = {}  # journal generation -> end of its last intact record (load)

    def journal_path(self, generation: int) -> Path:
        return self.directory / f"journal-{generation:06d}.bin"

    # -- reading -----------------------------------------------------------------------------------

    def load(self) -> LoadedState:
        result = LoadedState()
        tmp = self.snapshot_path.with_name(self.snapshot_path.name + ".tmp")
        if tmp.exists():
            # A save cut short: its state is in the previous snapshot and the journals, which are kept.
            tmp.unlink()
            log.info("removed %s, a snapshot cut short by a crash; the saved state and journals are intact", tmp)
        journals = self._journal_files()
        legacy = self.legacy_journal_path.exists()
        if self.snapshot_path.exists():
            try:
                result.generation, result.snapshot = read_snapshot_file(self.snapshot_path, with_generation=True)
            except (ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError) as exc:
                result.warnings.append(self.set_aside_all(f"the saved sandbox state {self.snapshot_path} is "
                                                          f"damaged ({exc})"))
                return result
        elif any(generation > 0 for generation in journals):
            # Journals of generation N > 0 apply on top of snapshot N; without it they cannot be replayed.
            result.warnings.append(self.set_aside_all(f"the saved sandbox state {self.snapshot_path} is missing"))
            return result
        base = result.generation
        self.snapshot_generation = base
        for generation in sorted(g for g in journals if g < base):
            # Left by a crash after the snapshot that contains it: replaying it would apply it twice.
            journals.pop(generation).unlink()
            log.info("journal of generation %d is already in the snapshot of generation %d; removed", generation, base)
        if legacy:
            records, problem = self._read_legacy_journal()
            result.journal.extend(records)
            result.needs_snapshot = True
            if problem:
                result.warnings.append(problem)
        chain = sorted(journals)
        expected, last = base, base
        for generation in chain:
            path = journals[generation]
            if generation != expected:
                moved = self._set_aside(path)
                result.warnings.append(
                    f"the journal {path.name} does not follow the saved state (generation {expected} is missing "
                    f"or unreadable); it was not replayed and was moved to {moved}")
                result.needs_snapshot = True
                continue
            records, problem = self._read_journal(path, generation)
            result.journal.extend(records)
            if problem:
                result.warnings.append(problem)
                result.needs_snapshot = True
            if generation in self._valid_end:
                expected, last = generation + 1, generation
            else:
                expected = -1  # set aside as unreadable: the journals after it cannot follow
        self.generation = last
        self.journal_records = 0
        return result

    def _journal_files(self) -> dict[int, Path]:
        found: dict[int, Path] = {}
        for path in self.directory.iterdir():
            match = _JOURNAL_NAME.fullmatch(path.name)
            if match:
                found[int(match.group(1))] = path
        return found

    def _read_journal(self, path: Path, generation: int) -> tuple[list[dict[str, Any]], str | None]:
        data = path.read_bytes()
        header_size = len(JOURNAL_MAGIC) + _JOURNAL_HEADER.size
        if len(data) < header_size and JOURNAL_MAGIC.startswith(data[: len(JOURNAL_MAGIC)]):
            self._valid_end[generation] = 0  # created, cut off before its header was complete: empty
            return [], None
        if data[: len(JOURNAL_MAGIC)] != JOURNAL_MAGIC or (
                _JOURNAL_HEADER.unpack_from(data, len(JOURNAL_MAGIC))[0] != generation):
            moved = self._set_aside(path)
            return [], (f"the journal {path.name} has a bad header (not generation {generation}); it was not "
                        f"replayed and was moved to {moved}")
        records, damaged, end = scan_records(data, header_size)
        self._valid_end[generation] = end
        if end < len(data) and any(data[end:]):
            # Past the last intact record: the request in flight when the sandbox stopped (never answered).
            log.info("journal %s: dropped an unfinished last record (the request in flight)", path.name)
        if not damaged:
            return records, None
        copy = self._copy_aside(path)
        spans = ", ".join(f"bytes {start}-{stop}" for start, stop in damaged)
        return records, (
            f"the journal {path.name} is damaged ({spans}); the {len(records)} intact records were replayed "
            f"(those after the damage included), the damaged bytes were skipped, and the whole file was "
            f"copied to {copy}")

    def _read_legacy_journal(self) -> tuple[list[dict[str, Any]], str | None]:
        """journal.bin as written before generations: records of (length, crc32) + payload."""
        data = self.legacy_journal_path.read_bytes()
        records: list[dict[str, Any]] = []
        offset = 0
        while offset + _LEGACY_RECORD_HEADER.size <= len(data):
            length, crc = _LEGACY_RECORD_HEADER.unpack_from(data, offset)
            payload = data[offset + _LEGACY_RECORD_HEADER.size: offset + _LEGACY_RECORD_HEADER.size + length]
            if len(payload) < length:
                break  # the request in flight
            if zlib.crc32(payload) != crc:
                copy = self._copy_aside(self.legacy_journal_path)
                return records, (f"the journal {self.legacy_journal_path.name} is damaged at byte {offset}; the "
                                 f"{len(records)} records before it were replayed, the file was copied to {copy}")
            try:
                records.append(pickle.loads(payload))  # noqa: S301 -- our own journal, each record CRC-checked
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, IndexError) as exc:
                copy = self._copy_aside(self.legacy_journal_path)
                return records, (f"the journal {self.legacy_journal_path.name} has an unreadable record ({exc}); "
                                 f"the {len(records)} records before it were replayed, the file was copied to {copy}")
            offset += _LEGACY_RECORD_HEADER.size + length
        return records, None

    # -- writing -----------------------------------------------------------------------------------

    def open_journal(self) -> None:
        """Start appending to the current generation's journal (after load and replay, or after clear)."""
        self.close()
        path = self.journal_path(self.generation)
        end = self._valid_end.get(self.generation)
        if end is None or not path.exists():
            self._create_journal(self.generation)
            return
        fd = os.open(path, os.O_RDWR)
        # Cut what follows the last intact record (the request in flight, or reserved zeros), then reserve anew.
        os.ftruncate(fd, end)
        self._fd, self._offset, self._reserved = fd, end, end
        self._durable = (self.generation, end)
        self.journal_bytes = end
        self._reserve_quietly()

    def _create_journal(self, generation: int) -> None:
        path = self.journal_path(generation)
        header = JOURNAL_MAGIC + _JOURNAL_HEADER.pack(generation)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, header, 0)
            if self.fsync != "never":
                os.fsync(fd)
                _fsync_dir(self.directory)
        except OSError:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        self._fd, self._offset, self._reserved = fd, len(header), len(header)
        self._durable = (generation, len(header))
        self.journal_records, self.journal_bytes = 0, len(header)
        self._reserve_quietly()

    def _reserve_quietly(self) -> None:
        try:
            self.reserve(self.reserve_chunk)
        except StorageFullError:
            pass  # said in self.full; the next request that needs the space is refused

    def reserve(self, size: int) -> None:
        """Make sure the journal has room for `size` more bytes, or raise StorageFullError (nothing written)."""
        if self._fd is None:
            self.open_journal()
        assert self._fd is not None
        if self._offset + size <= self._reserved:
            return
        want = max(self.reserve_chunk, self._offset + size - self._reserved)
        try:
            os.posix_fallocate(self._fd, self._reserved, want)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            message = (f"the sandbox's disk is full: no room for its journal in {self.directory} "
                       f"({exc.strerror}); changes are refused until space is freed, reads go on")
            if self.full is None:
                log.error("%s", message)
            self.full = message
            raise StorageFullError(message) from exc
        self._reserved += want
        if self.full is not None:
            log.warning("the disk has room again: the sandbox accepts changes")
            self.full = None

    def append(self, payload: bytes) -> tuple[int, int]:
        """Write one encoded record (space reserved before); returns its (generation, end) for wait_durable."""
        if self._offset + len(payload) > self._reserved:
            self.reserve(len(payload))
        assert self._fd is not None
        _write_all(self._fd, payload, self._offset)
        self._offset += len(payload)
        if self.fsync == "always":
            os.fdatasync(self._fd)
            self._durable = (self.generation, self._offset)
        self.journal_records += 1
        self.journal_bytes = self._offset
        return self.generation, self._offset

    def wait_durable(self, position: tuple[int, int]) -> None:
        """With the batch policy: return once the record ending at `position` is on disk (one fsync covers
        every record written before it, so concurrent writers share it). Called without the sandbox lock."""
        if self.fsync != "batch" or position <= self._durable:
            return
        with self._sync_lock:
            if position <= self._durable or self._fd is None:
                return
            target = (self.generation, self._offset)
            os.fdatasync(self._fd)
            self._durable = max(self._durable, target)

    def rotate(self) -> int:
        """Start generation +1: later records go to a new journal. The caller holds the sandbox lock and
        then writes the state of this instant as that generation's snapshot. OSError (disk full) leaves
        everything as it was."""
        new = self.generation + 1
        with self._sync_lock:
            old_fd = self._fd
            if old_fd is not None and self.fsync != "never":
                os.fdatasync(old_fd)  # the old journal is complete on disk before the snapshot supersedes it
            previous = (self._fd, self._offset, self._reserved, self._durable, self.journal_records,
                        self.journal_bytes)
            try:
                self._create_journal(new)
            except OSError:
                (self._fd, self._offset, self._reserved, self._durable, self.journal_records,
                 self.journal_bytes) = previous
                raise
            if old_fd is not None:
                # Give back the old journal's reserved tail (it is removed once the snapshot is in place).
                try:
                    os.ftruncate(old_fd, previous[1])
                except OSError:
                    pass
                os.close(old_fd)
            self.generation = new
        return new

    def write_snapshot(self, state: dict[str, Any], generation: int) -> int:
        """Write `state` as the snapshot of `generation` (atomically); the old journals stay until commit()."""
        return write_snapshot_file(self.snapshot_path, state, generation)

    def commit(self, generation: int) -> None:
        """The snapshot of `generation` is in place: remove the journals it contains."""
        self.snapshot_generation = generation
        for old, path in self._journal_files().items():
            if old < generation:
                path.unlink(missing_ok=True)
        self.legacy_journal_path.unlink(missing_ok=True)

    def snapshot_tmp_path(self) -> Path:
        return self.snapshot_path.with_name(self.snapshot_path.name + ".tmp")

    def set_aside_all(self, reason: str) -> str:
        """Move the snapshot and every journal to corrupt/ (they cannot be used); the message says where."""
        self.close()
        moved = [self._set_aside(path) for path in
                 [self.snapshot_path, self.legacy_journal_path, *self._journal_files().values()] if path.exists()]
        self.generation = self.snapshot_generation = 0
        self._valid_end.clear()
        where = ", ".join(str(path) for path in moved) or "nothing to move"
        message = (f"{reason}; the sandbox started from a fresh world. Nothing was deleted: the saved files "
                   f"were moved to {where}")
        log.warning("%s", message)
        return message

    def clear(self) -> None:
        """Forget what earlier runs saved: for a backend that starts empty, it describes nothing now."""
        self.close()
        for path in [self.snapshot_path, self.snapshot_tmp_path(), self.legacy_journal_path,
                     *self._journal_files().values()]:
            path.unlink(missing_ok=True)
        self.generation = self.snapshot_generation = 0
        self.journal_records = self.journal_bytes = 0
        self._valid_end.clear()

    def copy_snapshot_aside(self) -> Path | None:
        return self._copy_aside(self.snapshot_path) if self.snapshot_path.exists() else None

    def close(self) -> None:
        with self._sync_lock:
            if self._fd is not None:
                try:
                    os.ftruncate(self._fd, self._offset)  # give back reserved space
                except OSError:
                    pass
                if self.fsync != "never":
                    try:
                        os.fdatasync(self._fd)
                    except OSError:
                        pass
                os.close(self._fd)
                self._fd = None

    def _set_aside(self, path: Path) -> Path:
        target = self._aside_name(path)
        os.replace(path, target)
        return target

    def _copy_aside(self, path: Path) -> Path:
        target = self._aside_name(path)
        target.write_bytes(path.read_bytes())
        return target

    def _aside_name(self, path: Path) -> Path:
        return aside_name(self.directory / "corrupt", path)


def aside_name(folder: Path, path: Path) -> Path:
    """A free name for `path` in `folder`, stamped with the time it was set aside."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = folder / f"{path.stem}-{stamp}{path.suffix}"
    counter = 1
    while target.exists():
        target = folder / f"{path.stem}-{stamp}-{counter}{path.suffix}"
        counter += 1
    return target


def encode_record(record: dict[str, Any]) -> bytes:
    payload = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
    length = struct.pack(">I", len(payload))
    return _RECORD_HEADER.pack(RECORD_MARK, len(payload), zlib.crc32(payload, zlib.crc32(length))) + payload


def scan_records(data: bytes, start: int) -> tuple[list[dict[str, Any]], list[tuple[int, int]], int]:
    """The intact records in `data` from `start`, the damaged spans between them, and the end of the last
    intact record. After damage the scan looks for the next intact record (marker, length and CRC agree);
    what follows the last intact record (a torn write, reserved zeros) ends the journal."""
    records: list[dict[str, Any]] = []
    damaged: list[tuple[int, int]] = []
    offset = end = start
    size = len(data)
    while offset + _RECORD_HEADER.size <= size:
        record, next_offset = _record_at(data, offset)
        if record is not None:
            records.append(record)
            offset = end = next_offset
            continue
        found = data.find(RECORD_MARK, offset + 1)
        while found != -1:
            record, next_offset = _record_at(data, found)
            if record is not None:
                break
            found = data.find(RECORD_MARK, found + 1)
        if found == -1:
            break  # nothing intact follows: the end
        damaged.append((offset, found))
        offset = found
    return records, damaged, end


def _record_at(data: bytes, offset: int) -> tuple[dict[str, Any] | None, int]:
    if offset + _RECORD_HEADER.size > len(data):
        return None, offset
    mark, length, crc = _RECORD_HEADER.unpack_from(data, offset)
    start = offset + _RECORD_HEADER.size
    if mark != RECORD_MARK or length == 0 or start + length > len(data):
        return None, offset
    payload = data[start: start + length]
    if zlib.crc32(payload, zlib.crc32(struct.pack(">I", length))) != crc:
        return None, offset
    try:
        record = pickle.loads(payload)  # noqa: S301 -- our own journal, each record CRC-checked
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, IndexError):
        return None, offset
    if not isinstance(record, dict):
        return None, offset
    return record, start + length


def read_snapshot_file(path: Path, with_generation: bool = False) -> Any:
    """Read and verify a snapshot file: its state dict, or (generation, state) with `with_generation`.
    ValueError (or an unpickling error) says what is wrong."""
    with open(path, "rb") as handle:
        magic = handle.read(len(SNAPSHOT_MAGIC))
        if magic == SNAPSHOT_MAGIC:
            header = handle.read(_SNAPSHOT_HEADER.size)
            if len(header) != _SNAPSHOT_HEADER.size:
                raise ValueError("truncated header")
            generation, length, digest = _SNAPSHOT_HEADER.unpack(header)
        elif magic == SNAPSHOT_MAGIC_V1:
            header = handle.read(_SNAPSHOT_HEADER_V1.size)
            if len(header) != _SNAPSHOT_HEADER_V1.size:
                raise ValueError("truncated header")
            generation = 0
            length, digest = _SNAPSHOT_HEADER_V1.unpack(header)
        else:
            raise ValueError("not a sandbox snapshot (bad header)")
        payload = handle.read(length)
    if len(payload) != length:
        raise ValueError(f"truncated: {len(payload)} of {length} bytes")
    if hashlib.sha256(payload).digest() != digest:
        raise ValueError("checksum mismatch")
    state = renames.loads(payload)  # our own snapshot, sha256-checked above
    if not isinstance(state, dict):
        raise ValueError("unexpected content")
    return (generation, state) if with_generation else state


def write_snapshot_file(path: Path, state: dict[str, Any], generation: int = 0) -> int:
    """Write `state` to `path` atomically (temp file, fsync, rename, fsync of the folder). On failure the
    temp file is removed and `path` is untouched."""
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(SNAPSHOT_MAGIC)
            handle.write(_SNAPSHOT_HEADER.pack(generation, len(payload), hashlib.sha256(payload).digest()))
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return len(payload)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
