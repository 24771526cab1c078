"""`lab status` counts what the sandbox holds again only when the world changed (a state-changing call or an
engine's step); counting a month-old world is 100,000 objects."""

from __future__ import annotations

import pytest

from lab import world
from lab.backends.embedded import EmbeddedBackend
from lab.sandbox.core import Sandbox


def test_counts_are_kept_until_the_world_changes(tmp_path, monkeypatch: pytest.MonkeyPatch):
    sandbox = Sandbox(EmbeddedBackend(), tmp_path, port=4598, seed_world=False)
    sandbox.boot()
    try:
        s3 = sandbox.client("s3")
        s3.create_bucket(Bucket="counted")
        first = world.resource_counts(sandbox)["us-east-1"]
        counted: list[int] = []
        real = world._count_everything
        monkeypatch.setattr(world, "_count_everything", lambda box: counted.append(1) or real(box))
        assert world.resource_counts(sandbox)["us-east-1"] == first and not counted  # nothing changed
        s3.put_object(Bucket="counted", Key="a", Body=b"1")  # a state-changing call
        assert world.resource_counts(sandbox)["us-east-1"]["s3_objects"] == first["s3_objects"] + 1
        assert len(counted) == 1
        sandbox.run_until(sandbox.clock.now() + 3600)  # engines' steps (none due here: the same world)
        world.resource_counts(sandbox)
        assert len(counted) == 1
    finally:
        sandbox.close()
