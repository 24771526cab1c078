"""Exercise files that passed validation, remembered by content: a `lab` command loads a lab it validated before
without validating it again, and without parsing its YAML again (the JSON Schema, the scenario catalog and the
YAML parser cost more than the rest of `lab check`).

An entry is named by the SHA-256 of the file's bytes and of what judged it: the exercise schema, the loader,
the checks and the fault scenarios (their sources' names, sizes and modification times). Any change to one of
them makes a new key, so a file is validated again after the lab is upgraded. Check plugins installed later
are not part of the key: a reference to a plugin's check that went away is reported when the lab is graded
(unknown_check). An entry holds the values the validated YAML stood for, as JSON, when JSON holds them
exactly (else the file's YAML is parsed again, still without validation).

The cache is a folder in the user's cache dir, one small file per entry (a command reads only the entries of
the files it loads); a cache that cannot be read or written only costs speed.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
MAX_ENTRIES = 500
_NO_DATA = {"data": None}


def cache_dir() -> Path:
    from lab.kernel import disk_cache

    return disk_cache.root() / "validated-exercises"


@cache
def _judges() -> bytes:
    """What validation depends on besides the file: the schema, the loader, the checks, the scenarios."""
    digest = hashlib.sha256()
    sources = [_REPO / "exercises" / "schema.json", _REPO / "lab" / "exercises.py",
               *sorted((_REPO / "checks").rglob("*.py")), *sorted((_REPO / "lab" / "services" / "faults").glob("*.py"))]
    for source in sources:
        try:
            stat = source.stat()
        except OSError:
            continue
        digest.update(f"{source.relative_to(_REPO)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.digest()


def key_of(content: bytes) -> str:
    return hashlib.sha256(_judges() + content).hexdigest()


def _entry_file(key: str) -> Path:
    return cache_dir() / f"{key}.json"


def _entry(key: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(_entry_file(key).read_bytes())
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and "data" in entry else None


def known(key: str) -> bool:
    """The file of this key passed validation before."""
    return _entry(key) is not None


def validated_data(key: str) -> tuple[bool, Any]:
    """(known, data): whether the file of this key passed validation before, and the values its YAML stood for
    (None when they were not kept: parse the file again)."""
    entry = _entry(key)
    return (entry is not None, entry.get("data") if entry is not None else None)


def _as_json(data: Any) -> str | None:
    """`data` as JSON when JSON gives back exactly the same values (not, e.g., a YAML date or an integer key)."""
    try:
        text = json.dumps({"data": data}, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return text if json.loads(text)["data"] == data else None


def remember(key: str, data: Any = None) -> None:
    """Remember that the file of this key passed validation, with the values its YAML stood for (`data`)."""
    import tempfile  # (only a command that validated a file writes)

    folder = cache_dir()
    text = (_as_json(data) if data is not None else None) or json.dumps(_NO_DATA)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp", encoding="utf-8") as temporary:
            temporary.write(text)
        os.replace(temporary.name, _entry_file(key))
        _forget_oldest(folder)
    except OSError as exc:
        import logging

        logging.getLogger("lab.validation").debug("could not remember a validated exercise in %s: %s", folder, exc)


def _forget_oldest(folder: Path) -> None:
    """Keep the MAX_ENTRIES entries written last."""
    entries = list(folder.glob("*.json"))
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda path: path.stat().st_mtime_ns)
    for path in entries[:len(entries) - MAX_ENTRIES]:
        path.unlink(missing_ok=True)
