"""The cache of the seeded world is keyed by every source whose objects are pickled into it: a template made by
one build is never loaded by another whose classes differ."""

from __future__ import annotations

import os
import time
from pathlib import Path

from lab.sandbox import template
from lab.sandbox.template import template_sources


def test_the_backends_objects_are_part_of_the_key():
    names = {f"{source.parent.name}/{source.name}" for source in template_sources()}
    # (the embedded backend pickles moto's objects and its own kinds of them: CompactKey, SortedKeyStore)
    assert {"backends/embedded.py", "backends/moto_patches.py", "sandbox/core.py", "sim/journal.py"} <= names


def test_templates_no_start_would_load_are_forgotten(tmp_path: Path) -> None:
    """Each build and seed makes a template of its own: those older than the age a start loads, and those
    beyond the newest MAX_TEMPLATES, are removed when a template is saved; other files stay."""
    now = time.time()
    made = []
    for number in range(template.MAX_TEMPLATES + 3):
        path = tmp_path / f"world-{number:024d}.bin"
        path.write_bytes(b"x")
        os.utime(path, (now - number, now - number))  # world-000..0 is the newest
        made.append(path)
    stale = tmp_path / "world-stale.bin"
    stale.write_bytes(b"x")
    os.utime(stale, (now - template.MAX_AGE_S - 60,) * 2)
    other = tmp_path / "botocore-catalog"
    other.mkdir()
    template.forget_old(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("world-*.bin")) == [p.name for p in made[:template.MAX_TEMPLATES]]
    assert other.is_dir()
