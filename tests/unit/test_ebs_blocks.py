"""The EBS content model: which blocks a snapshot holds and which changed between two snapshots of one
lineage, as the EBS direct APIs answer (EBS User Guide: Use EBS direct APIs to access the contents of an EBS
snapshot; EBS direct APIs reference: ListChangedBlocks, ListSnapshotBlocks)."""

from __future__ import annotations

import pytest

from lab.services.ebs.blocks import BLOCKS_PER_GIB, Content, Lineage, Lineages, blocks_of, last_write, written


def lineages(*known: Lineage) -> Lineages:
    return Lineages({lineage.id: lineage for lineage in known})


def test_the_log_runs_through_the_blocks_in_order_and_wraps_around():
    assert [last_write(4, 0, b) for b in range(4)] == [-1, -1, -1, -1]
    assert [last_write(4, 3, b) for b in range(4)] == [0, 1, 2, -1]
    assert [last_write(4, 6, b) for b in range(4)] == [4, 5, 2, 3]  # blocks 0 and 1 written twice
    assert written(4, 3) == 3 and written(4, 9) == 4
    assert blocks_of(20) == 20 * BLOCKS_PER_GIB


def test_a_first_snapshot_holds_every_written_block_and_a_later_one_compares_to_it():
    model = lineages(Lineage("root", 8, 0))
    first, second = Content("root", 3), Content("root", 5)
    assert [index for index, _, _ in model.changed(None, first)] == [0, 1, 2]
    changed = list(model.changed(first, second))
    assert [index for index, _, _ in changed] == [3, 4]
    assert all(first_token is None and second_token for _, first_token, second_token in changed)
    assert model.changed_count(first, second) == 2 and model.changed_count(None, second) == 5


def test_a_block_written_again_changes_its_token_and_both_tokens_are_given():
    model = lineages(Lineage("root", 4, 0))
    first, second = Content("root", 4), Content("root", 6)  # the log wrapped: blocks 0 and 1 rewritten
    changed = list(model.changed(first, second))
    assert [index for index, _, _ in changed] == [0, 1]
    assert all(first_token and second_token and first_token != second_token for _, first_token, second_token in changed)
    assert model.token(first, 2) == model.token(second, 2)  # unchanged blocks keep their token


def test_paging_starts_at_a_block_index():
    model = lineages(Lineage("root", 16, 0))
    assert [index for index, _, _ in model.changed(Content("root", 2), Content("root", 12), starting=7)] == [
        7, 8, 9, 10, 11]


def test_a_volume_restored_from_a_snapshot_continues_its_lineage_in_a_branch():
    root = Lineage("root", 8, 0)
    branch = Lineage("branch", 8, 3, parent="root")  # restored from the snapshot at cursor 3
    sibling = Lineage("sibling", 8, 3, parent="root")
    model = lineages(root, branch, sibling)
    snapshot = Content("root", 3)
    restored = Content("branch", 5)
    assert model.token(snapshot, 1) == model.token(restored, 1)  # the restored volume holds the snapshot's data
    assert [index for index, _, _ in model.changed(snapshot, restored)] == [3, 4]
    # two volumes restored from one snapshot diverge: their own writes differ, the snapshot's data does not
    other = Content("sibling", 4)
    assert model.common_point(restored, other) == 3
    assert [index for index, _, _ in model.changed(other, restored)] == [3, 4]
    # the original volume written on after the snapshot differs from the branch in the blocks both wrote
    assert [index for index, _, _ in model.changed(Content("root", 6), restored)] == [3, 4, 5]


def test_snapshots_of_unrelated_volumes_do_not_compare():
    model = lineages(Lineage("a", 8, 0), Lineage("b", 8, 0))
    assert model.common_point(Content("a", 2), Content("b", 2)) is None
    with pytest.raises(ValueError, match="unrelated"):
        list(model.changed(Content("a", 2), Content("b", 2)))
