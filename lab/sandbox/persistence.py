"""Crash-safe state: an atomic snapshot plus a journal of every state-changing request since it.

A `kill -9` loses at most the request in flight: each state-changing request is appended to the journal
(and written to the OS) before its answer leaves, and start-up replays the journal over the snapshot.
Records carry a CRC, so a torn last record (the request in flight) is told apart from real damage; a
damaged file is set aside under `corrupt/` with a message, never silently dropped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import struct
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from lab.sandbox import renames

log = logging.getLogger("lab.persistence")

SNAPSHOT_MAGIC = b"SECURECART-LAB-SNAPSHOT\x001\n"
_SNAPSHOT_HEADER = struct.Struct(">Q32s")  # payload length, sha256 of payload
_RECORD_HEADER = struct.Struct(">II")  # payload length, crc32 of payload


@dataclass
class LoadedState:
    snapshot: dict[str, Any] | None = None
    journal: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class StateStore:
    def __init__(self, directory: Path, fsync: bool = False) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.snapshot_path = directory / "snapshot.bin"
        self.journal_path = directory / "journal.bin"
        self.fsync = fsync
        self._journal: BinaryIO | None = None
        self.journal_records = 0

    # -- reading -----------------------------------------------------------------------------------

    def load(self) -> LoadedState:
        result = LoadedState()
        if self.snapshot_path.exists():
            try:
                result.snapshot = self._read_snapshot()
            except (ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
                moved = self._set_aside(self.snapshot_path)
                journal_moved = self._set_aside(self.journal_path) if self.journal_path.exists() else None
                result.warnings.append(
                    f"the saved sandbox state {self.snapshot_path} is damaged ({exc}); it was moved to {moved}"
                    + (f" with its journal ({journal_moved})" if journal_moved else "")
                    + " and the sandbox started from a fresh world. Nothing was deleted: the files are kept there."
                )
                return result
        if self.journal_path.exists():
            result.journal, problem = self._read_journal()
            if problem:
                result.warnings.append(problem)
        self.journal_records = len(result.journal)
        return result

    def _read_snapshot(self) -> dict[str, Any]:
        return read_snapshot_file(self.snapshot_path)

    def _read_journal(self) -> tuple[list[dict[str, Any]], str | None]:
        data = self.journal_path.read_bytes()
        records: list[dict[str, Any]] = []
        offset = 0
        while offset < len(data):
            header = data[offset : offset + _RECORD_HEADER.size]
            if len(header) < _RECORD_HEADER.size:
                break  # torn header of the last record
            length, crc = _RECORD_HEADER.unpack(header)
            start = offset + _RECORD_HEADER.size
            payload = data[start : start + length]
            if len(payload) < length:
                break  # torn body of the last record
            if zlib.crc32(payload) != crc:
                moved = self._copy_aside(self.journal_path)
                self._truncate_journal(offset)
                return records, (
                    f"the journal {self.journal_path} is damaged at byte {offset} (record {len(records) + 1}); the "
                    f"{len(records)} records before it were replayed, and the whole file was copied to {moved}"
                )
            try:
                records.append(pickle.loads(payload))  # noqa: S301 -- our own journal, each record CRC-checked
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
                moved = self._copy_aside(self.journal_path)
                self._truncate_journal(offset)
                return records, (
                    f"the journal {self.journal_path} has an unreadable record {len(records) + 1} ({exc}); the "
                    f"{len(records)} records before it were replayed, and the whole file was copied to {moved}"
                )
            offset = start + length
        if offset < len(data):
            # The last record was cut off by a crash mid-write: that was the request in flight.
            log.info("journal: dropped a torn final record of %d bytes (the request in flight)", len(data) - offset)
            self._truncate_journal(offset)
        return records, None

    # -- writing -----------------------------------------------------------------------------------

    def append(self, record: dict[str, Any]) -> None:
        payload = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        if self._journal is None:
            self._journal = open(self.journal_path, "ab", buffering=0)  # noqa: SIM115 -- held for appends; close()
        self._journal.write(_RECORD_HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
        if self.fsync:
            os.fsync(self._journal.fileno())
        self.journal_records += 1

    def write_snapshot(self, state: dict[str, Any]) -> int:
        """Atomically replace the snapshot with `state`, then empty the journal it supersedes."""
        size = write_snapshot_file(self.snapshot_path, state)
        self._truncate_journal(0)
        return size

    def clear(self) -> None:
        """Forget everything (`lab reset`)."""
        self._truncate_journal(0)
        self.snapshot_path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _truncate_journal(self, size: int) -> None:
        self.close()
        if self.journal_path.exists() or size == 0:
            with open(self.journal_path, "ab") as handle:
                handle.truncate(size)
                os.fsync(handle.fileno())
        if size == 0:
            self.journal_records = 0

    def _set_aside(self, path: Path) -> Path:
        target = self._aside_name(path)
        os.replace(path, target)
        return target

    def _copy_aside(self, path: Path) -> Path:
        target = self._aside_name(path)
        target.write_bytes(path.read_bytes())
        return target

    def _aside_name(self, path: Path) -> Path:
        corrupt = self.directory / "corrupt"
        corrupt.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = corrupt / f"{path.stem}-{stamp}{path.suffix}"
        counter = 1
        while target.exists():
            target = corrupt / f"{path.stem}-{stamp}-{counter}{path.suffix}"
            counter += 1
        return target


def read_snapshot_file(path: Path) -> dict[str, Any]:
    """Read and verify a snapshot file; ValueError (or an unpickling error) says what is wrong."""
    with open(path, "rb") as handle:
        magic = handle.read(len(SNAPSHOT_MAGIC))
        if magic != SNAPSHOT_MAGIC:
            raise ValueError("not a sandbox snapshot (bad header)")
        header = handle.read(_SNAPSHOT_HEADER.size)
        if len(header) != _SNAPSHOT_HEADER.size:
            raise ValueError("truncated header")
        length, digest = _SNAPSHOT_HEADER.unpack(header)
        payload = handle.read(length)
    if len(payload) != length:
        raise ValueError(f"truncated: {len(payload)} of {length} bytes")
    if hashlib.sha256(payload).digest() != digest:
        raise ValueError("checksum mismatch")
    state = renames.loads(payload)  # our own snapshot, sha256-checked above
    if not isinstance(state, dict):
        raise ValueError("unexpected content")
    return state


def write_snapshot_file(path: Path, state: dict[str, Any]) -> int:
    """Write `state` to `path` atomically (temp file, fsync, rename, fsync of the folder)."""
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(SNAPSHOT_MAGIC)
        handle.write(_SNAPSHOT_HEADER.pack(len(payload), hashlib.sha256(payload).digest()))
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return len(payload)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
