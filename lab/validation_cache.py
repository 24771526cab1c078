"""Exercise files that passed validation, remembered by content: a `lab` command loads a lab it validated before
without validating it again (the JSON Schema and the scenario catalog cost more than the rest of `lab check`).

An entry is the SHA-256 of the file's bytes and of what judged it: the exercise schema, the loader, the checks
and the fault scenarios (their sources' names, sizes and modification times). Any change to one of them makes
a new key, so a file is validated again after the lab is upgraded. Check plugins installed later are not part
of the key: a reference to a plugin's check that went away is reported when the lab is graded (unknown_check).
The cache lives in the user's cache dir; a cache that cannot be read or written only costs speed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from functools import cache
from pathlib import Path

log = logging.getLogger("lab.validation")
_REPO = Path(__file__).resolve().parent.parent
MAX_ENTRIES = 500


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "securecart-lab" / "validated-exercises.json"


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


def _read() -> list[str]:
    try:
        entries = json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return []
    return [entry for entry in entries if isinstance(entry, str)] if isinstance(entries, list) else []


def known(key: str) -> bool:
    return key in _read()


def remember(key: str) -> None:
    entries = [*[entry for entry in _read() if entry != key][-(MAX_ENTRIES - 1):], key]
    import tempfile  # (only a command that validated a file writes)

    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as temporary:
            json.dump(entries, temporary)
        os.replace(temporary.name, path)
    except OSError as exc:
        log.debug("could not remember a validated exercise in %s: %s", path, exc)
