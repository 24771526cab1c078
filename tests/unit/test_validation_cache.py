"""A lab validated once loads without being validated again (the schema and the scenario catalog are most of
a `lab check`'s start); a changed file, or a changed judge, is validated again and its problems reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import exercises, validation_cache

GOOD = (exercises.REPO_EXERCISES_DIR / "02-s3-crr.yaml").read_text()


@pytest.fixture()
def lab_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    exercises._LOADED.clear()
    path = tmp_path / "labs" / "02-s3-crr.yaml"
    path.parent.mkdir()
    path.write_text(GOOD)
    return path


def test_a_validated_lab_loads_without_validation(lab_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = exercises.load_file(lab_file)
    assert validation_cache.known(validation_cache.key_of(lab_file.read_bytes()))
    exercises._LOADED.clear()  # a new `lab` command

    def no_validation(file: Path) -> None:
        raise AssertionError(f"{file} was validated again")

    monkeypatch.setattr(exercises, "_validate_file", no_validation)
    assert exercises.load_file(lab_file) == first


def test_a_changed_file_is_validated_again(lab_file: Path) -> None:
    exercises.load_file(lab_file)
    exercises._LOADED.clear()
    lab_file.write_text(GOOD.replace("S3_BUCKET_VERSIONING_ENABLED", "NO_SUCH_CHECK", 1))
    with pytest.raises(exercises.ExerciseError, match="unknown check id 'NO_SUCH_CHECK'"):
        exercises.load_file(lab_file)


def test_a_change_to_what_judges_the_files_makes_new_keys(lab_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = validation_cache.key_of(lab_file.read_bytes())
    monkeypatch.setattr(validation_cache, "_judges", lambda: b"another schema or another check library")
    assert validation_cache.key_of(lab_file.read_bytes()) != key


def test_an_unwritable_cache_only_costs_speed(lab_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = lab_file.parent / "not-a-dir"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert exercises.load_file(lab_file).id == "02-s3-crr"
    exercises._LOADED.clear()
    assert exercises.load_file(lab_file).id == "02-s3-crr"
