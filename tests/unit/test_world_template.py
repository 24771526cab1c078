"""The cache of the seeded world is keyed by every source whose objects are pickled into it: a template made by
one build is never loaded by another whose classes differ."""

from __future__ import annotations

from lab.sandbox.template import template_sources


def test_the_backends_objects_are_part_of_the_key():
    names = {f"{source.parent.name}/{source.name}" for source in template_sources()}
    # (the embedded backend pickles moto's objects and its own kinds of them: CompactKey, SortedKeyStore)
    assert {"backends/embedded.py", "backends/moto_patches.py", "sandbox/core.py", "sim/journal.py"} <= names
