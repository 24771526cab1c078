"""Class grading: every export regraded from its inventory into one CSV row per learner."""

from __future__ import annotations

import csv
import io
import json

from checks.inventory import Inventory, to_builtins
from lab import grading
from tests.unit.inventory_builder import EAST, WEST, Inv
from tests.unit.test_grading import DST, SRC, s3_lab


def export(learner: str, inventory: Inventory | dict, *, exported_at: str | None = None,
           fake_reports: dict | None = None, learner_id: str | None = None) -> dict:
    """An export as `lab export` writes it; without a learner_id, as an older lab wrote it."""
    if exported_at:
        inventory = {**to_builtins(inventory), "collected_at": exported_at}
    body = grading.make_export(inventory=inventory, events=[], reports=[], learner=learner, lab_version="test",
                               exported_wall="2026-03-01T00:00:00Z", learner_id=learner_id)
    body["reports"] = fake_reports or {}
    return body


def inventory(versioned: int) -> Inventory:
    """versioned: 0 (nothing), 1 (source only), 2 (both + replication)."""
    inv = Inv().role("crr", "s3.amazonaws.com")
    inv.bucket(SRC, EAST, versioning="Enabled" if versioned else "Off",
               replication=Inv.replication(DST) if versioned == 2 else None)
    inv.bucket(DST, WEST, versioning="Enabled" if versioned == 2 else "Off")
    return inv.build()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_class_csv_one_row_per_learner_with_partial_credit(tmp_path):
    for name, level in (("bob", 1), ("alice", 2), ("chen", 0)):
        (tmp_path / f"{name}.json").write_text(json.dumps(export(name, inventory(level))))
    grades = grading.grade_class(tmp_path, [s3_lab()])
    table = rows(grades.to_csv())
    assert [row["learner"] for row in table] == ["alice", "bob", "chen"]
    versioning = "02-s3-crr/versioning/S3_BUCKET_VERSIONING_ENABLED"
    replication = "02-s3-crr/replication/S3_BUCKET_REPLICATION_ENABLED"
    assert [row[versioning] for row in table] == ["2", "1", "0"]  # weight 2, half the buckets for bob
    assert [row[replication] for row in table] == ["3", "0", "0"]
    assert [row["02-s3-crr score"] for row in table] == ["5", "1", "0"]
    assert [row["02-s3-crr max"] for row in table] == ["9", "9", "9"]  # recovery checks count, no drill yet
    assert [row["passed"] for row in table] == ["no", "no", "no"]
    assert "02-s3-crr/recover/RECOVERY_RTO_WITHIN_TARGET" in table[0]
    assert grades.problems == []


def test_verdicts_inside_an_export_are_never_trusted(tmp_path):
    liar = export("mallory", inventory(0), fake_reports={"02-s3-crr": {"score": 9, "passed": True}})
    (tmp_path / "mallory.json").write_text(json.dumps(liar))
    [row] = rows(grading.grade_class(tmp_path, [s3_lab()]).to_csv())
    assert row["02-s3-crr score"] == "0" and row["passed"] == "no"


def test_bad_files_are_reported_by_name_and_skipped(tmp_path):
    (tmp_path / "good.json").write_text(json.dumps(export("alice", inventory(2))))
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "foreign.json").write_text(json.dumps({"export_version": "1.0", "metadata": {"learner": "x"}}))
    (tmp_path / "anonymous.json").write_text(json.dumps({**export("y", inventory(2)), "metadata": {}}))
    (tmp_path / "future.json").write_text(json.dumps({**export("z", inventory(2)), "export_version": "7.0"}))
    old_inventory = {**to_builtins(inventory(2)), "schema_version": "0.1"}
    (tmp_path / "old.json").write_text(json.dumps(export("w", old_inventory)))
    (tmp_path / "notes.txt").write_text("ignored: not *.json")
    grades = grading.grade_class(tmp_path, [s3_lab()])
    assert [row["learner"] for row in grades.rows] == ["alice"]
    problems = "\n".join(grades.problems)
    for name, why in (("garbage.json", "not JSON"), ("list.json", "not a lab export"), ("foreign.json", "no inventory"),
                      ("anonymous.json", "metadata.learner is missing"), ("future.json", "export_version '7.0'"),
                      ("old.json", "inventory schema '0.1'")):
        assert f"{name}: " in problems and why in problems, (name, problems)


def test_two_exports_of_one_learner_are_both_graded_and_flagged_not_the_newest_chosen(tmp_path):
    # The newest (by a date the file itself states) used to replace the other silently.
    for number, (level, day) in enumerate(((0, "01"), (2, "02")), start=1):
        body = export("alice", inventory(level), exported_at=f"2026-03-{day}T10:00:00Z", learner_id="a" * 32)
        (tmp_path / f"alice-{number}.json").write_text(json.dumps(body))
    grades = grading.grade_class(tmp_path, [s3_lab()])
    table = rows(grades.to_csv())
    assert [(row["file"], row["02-s3-crr score"]) for row in table] == [("alice-1.json", "0"), ("alice-2.json", "5")]
    assert grades.learners == 1 and grades.problems == []
    for row, other in zip(table, ("alice-2.json", "alice-1.json"), strict=True):
        assert f"conflict: learner id {'a' * 32} is also claimed, with different evidence, by 'alice' in {other}" \
            in row["flags"]


def test_pass_rules(tmp_path):
    (tmp_path / "alice.json").write_text(json.dumps(export("alice", inventory(2))))
    lab = s3_lab(pass_mark=0.5)
    assert rows(grading.grade_class(tmp_path, [lab]).to_csv())[0]["passed"] == "yes"  # 5/9 >= 50%
    assert rows(grading.grade_class(tmp_path, [lab], pass_rule="average").to_csv())[0]["passed"] == "yes"
    strict = s3_lab(pass_mark=0.9)
    assert rows(grading.grade_class(tmp_path, [strict], pass_rule="average").to_csv())[0]["passed"] == "no"


def test_missing_folder_is_an_error(tmp_path):
    import pytest

    with pytest.raises(grading.ExportError, match="no such folder"):
        grading.grade_class(tmp_path / "nope", [s3_lab()])
