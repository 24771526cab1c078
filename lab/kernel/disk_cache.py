"""Values the lab derives from files that change only when something is upgraded (botocore's data, the exercise
files), kept in the user's cache dir between processes: `<XDG_CACHE_HOME or ~/.cache>/securecart-lab/<folder>/`,
one JSON file per key. The key names everything the value was derived from, so a changed source makes a new key
and the old entries are forgotten. A cache that cannot be read or written only costs speed, and what is read
back is the caller's to check: a damaged or edited entry is as if there were none.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

LOG = logging.getLogger(__name__)


def root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "securecart-lab"


def read(folder: str, key: str) -> Any:
    """The value kept under `key`, or None (none kept, or not readable as JSON)."""
    try:
        return orjson.loads((root() / folder / f"{key}.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def write(folder: str, key: str, value: Any, *, keep: int = 4) -> None:
    """Keep `value` (JSON) under `key`, atomically (a reader never sees half an entry); only the `keep` entries
    written last stay in `folder`."""
    directory = root() / folder
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=directory, delete=False, suffix=".tmp") as temporary:
            temporary.write(orjson.dumps(value))
        os.replace(temporary.name, directory / f"{key}.json")
        entries = sorted(directory.glob("*.json"), key=lambda path: path.stat().st_mtime_ns)
        for old in entries[:-keep] if keep > 0 else entries:
            old.unlink(missing_ok=True)
    except (OSError, TypeError) as exc:
        LOG.debug("could not keep %s/%s in the cache: %s", folder, key, exc)


__all__ = ["read", "root", "write"]
