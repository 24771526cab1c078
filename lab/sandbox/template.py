"""A cache of the freshly seeded world, so that a new state dir (and `lab reset`) starts in well under a
second instead of seeding through every service again.

The cache is keyed by everything that shapes the world -- the lab's code (world, engines), moto's version
and the seed -- and lives in the user's cache dir, not in any state dir: deleting it only costs one slow
start. A template older than `MAX_AGE_S` is rebuilt, so that the world's sim time stays close to today.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any

from lab import __version__
from lab.kernel import disk_cache
from lab.sandbox.persistence import aside_name, read_snapshot_file, write_snapshot_file

log = logging.getLogger("lab.template")
MAX_AGE_S = 12 * 3600
_LAB_DIR = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    return disk_cache.root()


def template_sources() -> list[Path]:
    """Everything that seeds the world or whose classes are pickled into it (the lab state, the clock, the
    event log, every engine's state, the backend's objects): a change to any of them makes a new template."""
    return sorted([_LAB_DIR / "world.py", _LAB_DIR / "config.py", _LAB_DIR / "data" / "amis.json",
                   _LAB_DIR / "sandbox" / "core.py", *(_LAB_DIR / "sim").glob("*.py"),
                   *(_LAB_DIR / "kernel").glob("*.py"), *(_LAB_DIR / "services").rglob("*.py"),
                   *(_LAB_DIR / "backends").glob("*.py")])


def template_key(seed: int, backend_version: str) -> str:
    digest = hashlib.sha256(f"{__version__}:{backend_version}:{seed}".encode())
    for source in template_sources():
        digest.update(str(source.relative_to(_LAB_DIR)).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:24]


def template_path(seed: int, backend_version: str) -> Path:
    return cache_dir() / f"world-{template_key(seed, backend_version)}.bin"


def load(seed: int, backend_version: str, warnings: list[str] | None = None) -> dict[str, Any] | None:
    """The cached world, or None (none, too old, or unusable: then set aside, with a message in `warnings`)."""
    path = template_path(seed, backend_version)
    try:
        if time.time() - path.stat().st_mtime > MAX_AGE_S:
            return None
        state = read_snapshot_file(path)
        problem = _content_problem(state, backend_version)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 -- a bad cache entry is rebuilt, never trusted
        problem = str(exc)
    if problem is not None:
        message = set_aside(seed, backend_version, problem)
        if warnings is not None:
            warnings.append(message)
        return None
    return state


def _content_problem(state: dict[str, Any], backend_version: str) -> str | None:
    """What makes a template that passed its checksum unusable as a world, or None. A template is written
    by this code for this backend version, so anything else is damage (or a file put there by hand)."""
    from lab.kernel.state import LabState

    backend, lab = state.get("backend"), state.get("lab")
    if not isinstance(lab, LabState) or not lab.world_seeded:
        return "its lab state is missing or not a seeded world"
    if not isinstance(backend, dict) or not isinstance(backend.get("backends"), dict):
        return "its backend state is missing"
    if f"moto-{backend.get('moto_version')}" != backend_version:
        return f"it was written for {backend.get('moto_version')}, not {backend_version}"
    for service, data in backend["backends"].items():
        # Each service is a pickle, loaded on first use: one that is not whole would fail every call to it.
        if not isinstance(data, bytes) or not data.startswith(b"\x80") or not data.endswith(b"."):
            return f"its {service} state is not a whole pickle"
    return None


def set_aside(seed: int, backend_version: str, problem: str) -> str:
    """Move an unusable template to the cache's corrupt/ folder (the next start seeds and caches anew)."""
    path = template_path(seed, backend_version)
    try:
        target = aside_name(path.parent / "corrupt", path)
        os.replace(path, target)
        where = f"it was moved to {target}"
    except OSError as exc:
        where = f"it could not be moved ({exc.strerror})"
    message = f"the cached world {path} is unusable ({problem}); {where}, and the world was seeded anew"
    log.warning("%s", message)
    return message


def save(seed: int, backend_version: str, state: dict[str, Any]) -> None:
    path = template_path(seed, backend_version)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_snapshot_file(path, state)
    except OSError as exc:  # a read-only cache only costs speed
        log.warning("could not cache the world template at %s: %s", path, exc)
    forget_old(path.parent)


MAX_TEMPLATES = 8


def forget_old(folder: Path) -> None:
    """Remove the templates no start will load: older than MAX_AGE_S (they are rebuilt), or beyond the
    MAX_TEMPLATES written last (each build of the lab, each seed, makes its own; a learner's cache dir grew
    by one with every upgrade)."""
    try:
        found = sorted(((path.stat().st_mtime, path) for path in folder.glob("world-*.bin")), reverse=True)
    except OSError:
        return
    now = time.time()
    for rank, (written, path) in enumerate(found):
        if rank >= MAX_TEMPLATES or now - written > MAX_AGE_S:
            path.unlink(missing_ok=True)
